"""Every stack of a Pulumi project logs in to Azure with OIDC from Pulumi Deployments.

A stack needs one federated credential per operation (preview, update, refresh,
destroy), with audience ``<org>`` and subject
``pulumi:deploy:org:<org>:project:<project>:stack:<stack>:operation:<op>:scope:write``;
an Entra application holds at most 20, so five stacks fill one. ``AzureOidcTrust``
plans them as the ``pulumi-azure-oidc`` CLI does (a stack is never split across apps)
and creates the applications, service principals, credentials and role assignments,
then each stack's Deployments settings with Azure OIDC turned on for its app's client id.

The provider writes a stack's deployment settings whole, so the source the stacks
deploy from is given here too (``repoUrl``); settings made elsewhere would be replaced.
"""

from typing import Any, Dict, List

import pulumi

from pulumi_azure_oidc.pulumi import AzureOidcTrust

config = pulumi.Config()
org = config.get("pulumiOrg") or pulumi.get_organization()
project = config.require("targetProject")
stacks: List[str] = config.require_object("stacks")
role = config.get("role") or "Contributor"
scope = config.require("scope")
repo = config.get("repoUrl")

source: Dict[str, Dict[str, Any]] = {}
if repo:
    git = {"repo_url": repo, "branch": config.get("branch") or "refs/heads/main"}
    if config.get("repoDir"):
        git["repo_dir"] = config.require("repoDir")
    source = {f"{project}/{stack}": {"source_context": {"git": git}} for stack in stacks}

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
    deployment_settings=source,
)

pulumi.export("clientIds", trust.client_ids)
pulumi.export("stackClientIds", trust.target_client_ids)
pulumi.export("tenantId", trust.tenant_id)
pulumi.export("subscriptionId", trust.subscription_id)
pulumi.export("credentialNames", trust.credential_names)
pulumi.export("plan", trust.plan_dict)
