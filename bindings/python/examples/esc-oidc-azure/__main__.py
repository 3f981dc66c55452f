"""A Pulumi ESC environment that logs in to Azure with OIDC, from the building blocks.

Creates an Entra application, the federated identity credential that the ESC
environment's OIDC token must match, the application's service principal and a role
assignment for it, then the ESC environment itself (``pulumiservice.Environment``)
with the definition that logs in with that application.

The credential and the definition come from pulumi_azure_oidc, so the three values
are the ones Pulumi ESC presents: issuer ``https://api.pulumi.com/oidc``, audience
``azure:<org>`` (plain ``<org>`` only for the legacy ``default`` project), and the
subject of ``subjectAttributes: [currentEnvironment.name]``, which also works when the
environment is opened from a stack's config (the ``<yaml>`` problem,
pulumi/pulumi#14509). ``AzureOidcTrust`` does all of this in one resource (see the
``azure-py-oidc-provider-pulumi-cloud`` example); this program shows the pieces.
"""

import pulumi
import pulumi_azuread as azuread
import pulumi_pulumiservice as pulumiservice
from pulumi_azure_native import authorization

import pulumi_azure_oidc as oidc

config = pulumi.Config()
org = config.get("pulumiOrg") or pulumi.get_organization()
esc_project = config.get("escProject") or "azure"
esc_env = config.get("escEnvironment") or "prod"
role = config.get("role") or "Contributor"

client = authorization.get_client_config_output()
subscription_id: pulumi.Output[str] = client.subscription_id
tenant_id: pulumi.Output[str] = client.tenant_id
# The role's scope: `scope` from config, or the whole current subscription.
scope_config = config.get("scope")
scope: pulumi.Output[str] = (
    pulumi.Output.from_input(scope_config)
    if scope_config
    else subscription_id.apply(lambda s: f"/subscriptions/{s}")
)

# The one credential this environment needs (a list: `include_yaml_subject=True` adds
# the org-wide `<yaml>` subject, with a warning).
[credential] = oidc.esc_credentials(org, esc_project, esc_env)

app = azuread.Application(
    "pulumi-esc-oidc",
    display_name=f"Pulumi ESC {org}/{esc_project}/{esc_env}",
    sign_in_audience="AzureADMyOrg",
)

fic = azuread.ApplicationFederatedIdentityCredential(
    "pulumi-esc-oidc-credential",
    # `/applications/<objectId>`: the object id, not the client id.
    application_id=app.object_id.apply(lambda oid: f"/applications/{oid}"),
    display_name=credential.name,
    description=credential.description,
    issuer=credential.issuer,
    subject=credential.subject,
    audiences=[credential.audience],
)

sp = azuread.ServicePrincipal("pulumi-esc-oidc-sp", client_id=app.client_id)

role_assignment = authorization.RoleAssignment(
    "pulumi-esc-oidc-role",
    # The service principal's bare object id, as ARM wants it.
    principal_id=sp.object_id,
    principal_type="ServicePrincipal",
    role_definition_id=scope.apply(lambda s: oidc.RoleGrant(role, s).role_definition_id),
    scope=scope,
)


def definition(client_id: str, tenant: str, subscription: str) -> str:
    return oidc.esc_environment_yaml(
        org, esc_project, esc_env, client_id=client_id, tenant_id=tenant, subscription_id=subscription
    )


esc_yaml = pulumi.Output.all(app.client_id, tenant_id, subscription_id).apply(lambda ids: definition(*ids))

environment = pulumiservice.Environment(
    "pulumi-esc-oidc-environment",
    organization=org,
    project=esc_project,
    name=esc_env,
    yaml=esc_yaml.apply(pulumi.StringAsset),
    # Opened before its credential and role exist, the login would fail.
    opts=pulumi.ResourceOptions(depends_on=[fic, role_assignment]),
)

pulumi.export("clientId", app.client_id)
pulumi.export("tenantId", tenant_id)
pulumi.export("subject", credential.subject)
pulumi.export("audience", credential.audience)
pulumi.export("escEnvironment", f"{esc_project}/{esc_env}")
pulumi.export("escEnvironmentYaml", esc_yaml)
