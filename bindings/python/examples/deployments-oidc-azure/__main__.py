"""Every stack of a Pulumi project logs in to Azure with OIDC from Pulumi Deployments.

A stack needs one federated credential per operation (preview, update, refresh,
destroy), with audience ``<org>`` and subject
``pulumi:deploy:org:<org>:project:<project>:stack:<stack>:operation:<op>:scope:write``;
an Entra application holds at most 20, so five stacks fill one. ``AzureOidcTrust``
plans them as the ``pulumi-azure-oidc`` CLI does (a stack is never split across apps)
and creates the applications, service principals, credentials and role assignments.

Then, in each stack's Deployments settings, turn on Azure OIDC with the stack's
client id (``clientIds`` maps each app to it; ``apps`` says which stacks use which).
"""

from typing import List

import pulumi

from pulumi_azure_oidc.pulumi import AzureOidcTrust

config = pulumi.Config()
org = config.get("pulumiOrg") or pulumi.get_organization()
project = config.require("targetProject")
stacks: List[str] = config.require_object("stacks")
role = config.get("role") or "Contributor"
scope = config.require("scope")

trust = AzureOidcTrust(
    "deployments-oidc",
    org=org,
    deployments=[
        {
            "project": project,
            "stacks": stacks,
            "roles": [{"role": role, "scope": scope}],
        }
    ],
    # More than five stacks need a second app; let the planner open it.
    allow_multiple_apps=True,
)

pulumi.export("clientIds", trust.client_ids)
pulumi.export("tenantId", trust.tenant_id)
pulumi.export("credentialNames", trust.credential_names)
pulumi.export(
    "apps",
    {app.unique_name: [t.label for t in app.targets] for app in trust.plan.apps},
)
