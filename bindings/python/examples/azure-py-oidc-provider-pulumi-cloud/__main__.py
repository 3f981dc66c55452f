"""Pulumi's ``azure-*-oidc-provider-pulumi-cloud`` example, in Python, with ``AzureOidcTrust``.

The same intent as Pulumi's program: an Entra application with its service principal,
a federated identity credential for an ESC environment, Contributor on the current
subscription, and the ESC environment that logs in to Azure with it. The Python
version Pulumi removed (pulumi/examples#2405) used the org as audience and the
``<yaml>`` subject; here both come from pulumi_azure_oidc: audience ``azure:<org>``
and the ``currentEnvironment.name`` subject, which also holds when the environment is
imported into a stack's config, so no org-wide ``<yaml>`` credential is needed.

    pulumi config set projectName azure
    pulumi config set environmentName azure-oidc-admin
    pulumi up
    pulumi env open <org>/azure/azure-oidc-admin
"""

import pulumi
from pulumi_azure_native import authorization

from pulumi_azure_oidc.pulumi import AzureOidcTrust

config = pulumi.Config()
project = config.get("projectName") or "azure"
environment = config.get("environmentName") or "azure-oidc-admin"
issuer = config.get("issuer")  # a self-hosted Pulumi Cloud's `<scheme>://<api host>/oidc`

# Read now, not as an Output: the plan (and the role's scope in it) is made from plain values.
client = authorization.get_client_config()
subscription = f"/subscriptions/{client.subscription_id}"

trust = AzureOidcTrust(
    "pulumi-oidc",
    {
        "org": pulumi.get_organization(),
        **({"issuer": issuer} if issuer else {}),
        "azure": {"tenant": client.tenant_id, "subscription": client.subscription_id},
        "esc": [
            {
                "project": project,
                "env": environment,
                "roles": [{"role": "Contributor", "scope": subscription}],
            }
        ],
    },
)

pulumi.export("escEnvironment", f"{project}/{environment}")
pulumi.export("clientId", trust.client_id)
pulumi.export("tenantId", trust.tenant_id)
pulumi.export("escYaml", trust.esc_yaml)
