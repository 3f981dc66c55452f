"""A Pulumi ESC environment that logs in to Azure with OIDC.

Creates an Entra application, the federated identity credential that the ESC
environment's OIDC token must match, the application's service principal and a role
assignment for it, then prints the environment definition to paste into ESC.

The credential comes from pulumi_azure_oidc, so its three values are the ones Pulumi
ESC presents: issuer ``https://api.pulumi.com/oidc``, audience ``azure:<org>`` (plain
``<org>`` only for the legacy ``default`` project), and the subject of
``subjectAttributes: [currentEnvironment.name]``, which also works when the
environment is opened from a stack's config (the ``<yaml>`` problem,
pulumi/pulumi#14509). The printed YAML asks for exactly that subject.
"""

import pulumi
import pulumi_azuread as azuread
from pulumi_azure_native import authorization

import pulumi_azure_oidc as oidc

config = pulumi.Config()
org = config.get("pulumiOrg") or pulumi.get_organization()
esc_project = config.get("escProject") or "azure"
esc_env = config.get("escEnvironment") or "prod"
role = config.get("role") or "Contributor"

client = authorization.get_client_config_output()
subscription_id: pulumi.Output[str] = client.subscription_id
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

azuread.ApplicationFederatedIdentityCredential(
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

authorization.RoleAssignment(
    "pulumi-esc-oidc-role",
    # The service principal's bare object id, as ARM wants it.
    principal_id=sp.object_id,
    principal_type="ServicePrincipal",
    role_definition_id=scope.apply(lambda s: oidc.RoleGrant(role, s).role_definition_id),
    scope=scope,
)

esc_yaml = pulumi.Output.all(app.client_id, client.tenant_id, subscription_id).apply(
    lambda ids: oidc.esc_environment_yaml(
        org,
        esc_project,
        esc_env,
        client_id=ids[0],
        tenant_id=ids[1],
        subscription_id=ids[2],
    )
)
esc_yaml.apply(lambda text: print(f"# ESC environment {org}/{esc_project}/{esc_env}\n{text}"))

pulumi.export("clientId", app.client_id)
pulumi.export("tenantId", client.tenant_id)
pulumi.export("subject", credential.subject)
pulumi.export("audience", credential.audience)
pulumi.export("escEnvironmentYaml", esc_yaml)
