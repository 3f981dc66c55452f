"""The component and the examples under the real Pulumi SDK's mocks: no engine, no
plugin, no network. Asserts every resource's type and inputs, the names a re-run must
keep, and the outputs; and that the examples type-check with ``mypy --strict``."""

import copy
import os
import runpy
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

pulumi = pytest.importorskip("pulumi")

import pulumi_azure_oidc as oidc  # noqa: E402
from conftest import EXAMPLES  # noqa: E402

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUBSCRIPTION = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/core"
PLATFORM = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/platform"
CONTRIBUTOR = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
ISSUER = "https://api.pulumi.com/oidc"
OPERATIONS = ("preview", "update", "refresh", "destroy")

APP = "azuread:index/application:Application"
SP = "azuread:index/servicePrincipal:ServicePrincipal"
FIC = "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential"
ROLE = "azure-native:authorization:RoleAssignment"
UAMI = "azure-native:managedidentity:UserAssignedIdentity"
UAMI_FIC = "azure-native:managedidentity:FederatedIdentityCredential"
ARM_PROVIDER = "pulumi:providers:azure-native"
SETTINGS = "pulumiservice:index:DeploymentSettings"
ENV = "pulumiservice:index:Environment"
COMPONENT = "pulumi-azure-oidc:index:AzureOidcTrust"
CLIENT_CONFIG = ("azuread:index/getClientConfig:getClientConfig", "azure-native:authorization:getClientConfig")


def guid(kind: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}/{name}"))


def plain(value: Any) -> Any:
    """Inputs as comparable data: an asset becomes its text."""
    if isinstance(value, pulumi.StringAsset):
        return {"asset": value.text}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class Mocks(pulumi.runtime.Mocks):
    """Azure and Pulumi Cloud as the providers would answer: GUID ids for apps and
    principals, derived from the resource name so two runs agree."""

    def __init__(self) -> None:
        self.resources: List[Tuple[str, str, Dict[str, Any]]] = []
        self.invokes: List[str] = []

    def new_resource(self, args: "pulumi.runtime.MockResourceArgs") -> Tuple[str, Dict[str, Any]]:
        outputs = dict(args.inputs)
        if args.typ == APP:
            outputs.update(clientId=guid("client", args.name), objectId=guid("app", args.name))
        elif args.typ == UAMI:
            outputs.update(
                name=args.inputs.get("resourceName"),
                clientId=guid("client", args.name),
                principalId=guid("principal", args.name),
            )
        elif args.typ == SP:
            outputs.update(objectId=guid("sp", args.name))
        self.resources.append((args.typ, args.name, plain(dict(args.inputs))))
        return f"{args.name}_id", outputs

    def call(self, args: "pulumi.runtime.MockCallArgs") -> Dict[str, Any]:
        if args.token in CLIENT_CONFIG:
            self.invokes.append(args.token)
            return {"tenantId": TENANT, "subscriptionId": SUBSCRIPTION, "clientId": guid("me", "c"), "objectId": guid("me", "o")}
        raise AssertionError(f"unexpected invoke {args.token}")

    def of(self, typ: str) -> List[Tuple[str, Dict[str, Any]]]:
        return [(name, inputs) for t, name, inputs in self.resources if t == typ]

    def by_name(self) -> Dict[Tuple[str, str], Dict[str, Any]]:
        found = {(t, n): inputs for t, n, inputs in self.resources}
        assert len(found) == len(self.resources), "two resources share a type and name"
        return found


def run(
    program: Callable[[], Any],
    project: str = "oidc-test",
    config: Optional[Dict[str, str]] = None,
) -> Tuple[Mocks, Any]:
    """Run `program` under fresh mocks; return the mocks and its resolved result."""
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project=project, stack="dev", preview=False, organization="contoso")
    pulumi.runtime.set_all_config({f"{project}:{k}": v for k, v in (config or {}).items()})
    box: Dict[str, Any] = {}

    @pulumi.runtime.test
    def body() -> Any:
        result = program()
        if isinstance(result, pulumi.Output):
            return result.apply(lambda v: box.__setitem__("value", v))
        box["value"] = result
        return None

    body()
    return mocks, box.get("value")


def by_app(mocks: Mocks, app_name: str) -> Tuple[str, str]:
    return guid("client", app_name), guid("app", app_name)


def deploy_fic(app_object: str, c: "oidc.FederatedCredential") -> Dict[str, Any]:
    return {
        "applicationId": f"/applications/{app_object}",
        "displayName": c.name,
        "issuer": c.issuer,
        "subject": c.subject,
        "audiences": [c.audience],
        "description": c.description,
    }


def azure_oidc(client_id: str) -> Dict[str, Any]:
    return {"oidc": {"azure": {"clientId": client_id, "tenantId": TENANT, "subscriptionId": SUBSCRIPTION}}}


# Stacks and an ESC environment with one role set (one app), and a stack whose holder
# is a managed identity: every kind of resource the component makes.
MIXED: Dict[str, Any] = {
    "org": "contoso",
    "azure": {"tenant": TENANT, "subscription": SUBSCRIPTION},
    "deployments": [
        {"project": "core", "stacks": ["dev", "prod"], "roles": [{"role": "Contributor", "scope": RG}]},
        {
            "project": "platform",
            "stack": "prod",
            "roles": [{"role": "Contributor", "scope": PLATFORM}],
            "holder": {"managedIdentity": {"subscription": SUBSCRIPTION, "resourceGroup": "pulumi-oidc", "location": "westeurope"}},
        },
    ],
    "esc": [{"project": "azure", "env": "prod", "roles": [{"role": "Contributor", "scope": RG}]}],
}


def mixed_program(config: Dict[str, Any], **kwargs: Any) -> Callable[[], Any]:
    def program() -> Any:
        trust = oidc.pulumi.AzureOidcTrust("trust", config, allow_multiple_apps=True, **kwargs)
        urns = [c.urn for a in trust.apps for c in a.credentials]
        return pulumi.Output.all(
            trust.client_ids,
            trust.target_client_ids,
            trust.esc_yaml,
            trust.plan_dict,
            trust.subscription_id,
            pulumi.Output.all(*urns),
        )

    return program


def test_mixed_set_up_every_resource_type_and_input() -> None:
    import pulumi_azure_oidc.pulumi  # noqa: F401  (imports the providers' SDKs)

    plan = oidc.plan(MIXED)
    app_plan, identity_plan = plan.apps
    assert identity_plan.identity_id is not None and app_plan.identity_id is None
    mocks, (client_ids, target_ids, esc_yaml, plan_dict, subscription, _) = run(mixed_program(MIXED))

    app_name = f"trust-{app_plan.unique_name}"
    uami_name = f"trust-{identity_plan.unique_name}"
    app_client, app_object = by_app(mocks, app_name)
    sp_object = guid("sp", f"{app_name}-sp")
    uami_client, uami_principal = guid("client", uami_name), guid("principal", uami_name)
    stacks = [oidc.deployment_credentials("contoso", "core", s) for s in ("dev", "prod")]
    [esc_credential] = oidc.esc_credentials("contoso", "azure", "prod")
    platform = oidc.deployment_credentials("contoso", "platform", "prod")
    yaml = oidc.esc_environment_yaml(
        "contoso", "azure", "prod", client_id=app_client, tenant_id=TENANT, subscription_id=SUBSCRIPTION
    )

    expected: Dict[Tuple[str, str], Dict[str, Any]] = {
        (APP, app_name): {"displayName": app_plan.display_name, "signInAudience": "AzureADMyOrg", "tags": list(app_plan.tags)},
        (SP, f"{app_name}-sp"): {"clientId": app_client},
        (ROLE, f"{app_name}-role-1"): {
            "principalId": sp_object,
            "principalType": "ServicePrincipal",
            "roleDefinitionId": CONTRIBUTOR,
            "scope": RG,
        },
        (COMPONENT, "trust"): {},
        (ARM_PROVIDER, f"{uami_name}-provider"): {"subscriptionId": SUBSCRIPTION, "environment": "public"},
        (UAMI, uami_name): {
            "resourceName": identity_plan.unique_name,
            "resourceGroupName": "pulumi-oidc",
            "location": "westeurope",
            "tags": {t: "" for t in identity_plan.tags},
        },
        (ROLE, f"{uami_name}-role-1"): {
            "principalId": uami_principal,
            "principalType": "ServicePrincipal",
            "roleDefinitionId": CONTRIBUTOR,
            "scope": PLATFORM,
        },
        (ENV, "trust-env-azure/prod"): {"organization": "contoso", "project": "azure", "name": "prod", "yaml": {"asset": yaml}},
    }
    for creds in stacks:
        for c in creds:
            expected[(FIC, f"{app_name}-{c.name}")] = deploy_fic(app_object, c)
    expected[(FIC, f"{app_name}-{esc_credential.name}")] = deploy_fic(app_object, esc_credential)
    for c in platform:
        expected[(UAMI_FIC, f"{uami_name}-{c.name}")] = {
            "federatedIdentityCredentialResourceName": c.name,
            "resourceName": identity_plan.unique_name,
            "resourceGroupName": "pulumi-oidc",
            "issuer": c.issuer,
            "subject": c.subject,
            "audiences": [c.audience],
        }
    for project, stack, client in (("core", "dev", app_client), ("core", "prod", app_client), ("platform", "prod", uami_client)):
        expected[(SETTINGS, f"trust-settings-{project}/{stack}")] = {
            "organization": "contoso",
            "project": project,
            "stack": stack,
            "operationContext": azure_oidc(client),
        }

    assert mocks.by_name() == expected
    # The core's values, not recomputed: Deployments audience `<org>`, ESC `azure:<org>`
    # with the currentEnvironment.name subject.
    assert {c.audience for c in stacks[0]} == {"contoso"} and esc_credential.audience == "azure:contoso"
    assert esc_credential.subject == "pulumi:environments:pulumi.organization.login:contoso:currentEnvironment.name:azure/prod"
    assert all(c.issuer == ISSUER for c in stacks[0])
    assert "- currentEnvironment.name" in yaml and f"clientId: {app_client}" in yaml

    assert client_ids == {app_plan.unique_name: app_client, identity_plan.unique_name: uami_client}
    assert target_ids == {
        "deploy:contoso/core/dev": app_client,
        "deploy:contoso/core/prod": app_client,
        "esc:contoso/azure/prod": app_client,
        "deploy:contoso/platform/prod": uami_client,
    }
    assert esc_yaml == {"azure/prod": yaml}
    assert plan_dict == plan.to_dict() and subscription == SUBSCRIPTION
    assert not mocks.invokes  # tenant and subscription came from the config


def test_adding_a_stack_replaces_nothing() -> None:
    import pulumi_azure_oidc.pulumi  # noqa: F401

    before, (*_, urns_before) = run(mixed_program(MIXED))
    grown = copy.deepcopy(MIXED)
    grown["deployments"][0]["stacks"].append("qa")
    after, (*_, urns_after) = run(mixed_program(grown))

    old, new = before.by_name(), after.by_name()
    # Same names, same inputs: the engine sees no change, so no credential is replaced.
    assert {k: new[k] for k in old} == old
    assert set(urns_before) <= set(urns_after) and len(urns_after) == len(urns_before) + 4
    added = {k: v for k, v in new.items() if k not in old}
    app_name = next(n for t, n in old if t == APP)
    [(_, app_object)] = [by_app(after, app_name)]
    expected = {(FIC, f"{app_name}-{c.name}"): deploy_fic(app_object, c) for c in oidc.deployment_credentials("contoso", "core", "qa")}
    expected[(SETTINGS, "trust-settings-core/qa")] = {
        "organization": "contoso",
        "project": "core",
        "stack": "qa",
        "operationContext": azure_oidc(guid("client", app_name)),
    }
    assert added == expected


def test_pulumi_cloud_resources_wait_for_their_target_credentials_and_roles() -> None:
    import pulumi_azure_oidc.pulumi  # noqa: F401

    def program() -> Any:
        trust = oidc.pulumi.AzureOidcTrust("trust", MIXED, allow_multiple_apps=True)
        for app in trust.apps:
            by_name = dict(zip((c.name for c in app.plan.credentials), app.credentials))
            for target in app.plan.targets:
                ready = app.ready_for(target)
                # Its own credentials only: another target's would tie it to that target's changes.
                assert [r for r in ready if r in app.credentials] == [by_name[n] for n in target.credential_names]
                assert all(r in ready for r in app.role_assignments) and app.role_assignments
                assert (app.service_principal in ready) == (app.identity is None)
        assert set(trust.deployment_settings) == {"core/dev", "core/prod", "platform/prod"}
        assert set(trust.environments) == {"azure/prod"}

    run(program)


def test_deployment_settings_keep_what_the_caller_gives() -> None:
    import pulumi_azure_oidc.pulumi  # noqa: F401

    source = {"git": {"repo_url": "https://github.com/contoso/core.git", "branch": "refs/heads/main", "repo_dir": "infra"}}

    def program() -> Any:
        oidc.pulumi.AzureOidcTrust(
            "trust",
            org="contoso",
            deployments=[{"project": "core", "stacks": ["dev", "prod"]}],
            deployment_settings={
                "core/dev": {
                    "source_context": source,
                    "operation_context": {"environment_variables": {"LOG_LEVEL": "info"}, "pre_run_commands": ["make deps"]},
                }
            },
        )

    mocks, _ = run(program)
    settings = dict(mocks.of(SETTINGS))
    client = guid("client", mocks.of(APP)[0][0])
    assert settings["trust-settings-core/dev"] == {
        "organization": "contoso",
        "project": "core",
        "stack": "dev",
        "sourceContext": {"git": {"repoUrl": "https://github.com/contoso/core.git", "branch": "refs/heads/main", "repoDir": "infra"}},
        "operationContext": {
            "environmentVariables": {"LOG_LEVEL": "info"},
            "preRunCommands": ["make deps"],
            **azure_oidc(client),
        },
    }
    assert settings["trust-settings-core/prod"]["operationContext"] == azure_oidc(client)
    # No subscription in the config: the settings need one, so the default
    # azure-native provider's is looked up (and the tenant from azuread's).
    assert sorted(mocks.invokes) == sorted(CLIENT_CONFIG)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"core/qa": {}}, "not a Deployments stack"),
        ({"core/dev": {"stack": "other"}}, "cannot be given"),
        ({"core/dev": {"operation_context": {"oidc": {}}}}, "the component sets it"),
        ({"core/dev": {"operation_context": "nope"}}, "must be a mapping"),
    ],
)
def test_deployment_settings_refuses_what_it_would_overwrite(settings: Dict[str, Any], message: str) -> None:
    import pulumi_azure_oidc.pulumi  # noqa: F401

    def program() -> Any:
        oidc.pulumi.AzureOidcTrust(
            "trust", {"org": "contoso", "deployments": [{"project": "core", "stack": "dev"}]}, deployment_settings=settings
        )

    with pytest.raises((TypeError, ValueError), match=message):
        run(program)


@pytest.mark.parametrize(
    "holder, kind",
    [
        ({"clientId": "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"}, "existing app"),
        ({"managedIdentity": {"id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/by-hand/providers/Microsoft.ManagedIdentity/userAssignedIdentities/deployer"}}, "existing managed identity"),
    ],
)
def test_pinned_holders_are_refused_not_recreated(holder: Dict[str, Any], kind: str) -> None:
    import pulumi_azure_oidc.pulumi  # noqa: F401

    def program() -> Any:
        oidc.pulumi.AzureOidcTrust("trust", {"org": "contoso", "deployments": [{"project": "core", "stack": "dev", "holder": holder}]})

    with pytest.raises(ValueError, match=f"pinned by `holder` to an {kind}"):
        run(program)


def test_pulumi_cloud_off_makes_only_the_azure_side() -> None:
    import pulumi_azure_oidc.pulumi  # noqa: F401

    def program() -> Any:
        trust = oidc.pulumi.AzureOidcTrust(
            "trust",
            {"org": "contoso", "azure": {"tenant": TENANT}, "deployments": [{"project": "core", "stack": "dev"}], "esc": [{"project": "azure", "env": "prod"}]},
            pulumi_cloud=False,
        )
        assert not trust.deployment_settings and not trust.environments
        with pytest.raises(KeyError, match="core/dev"):
            trust.azure_oidc("core/nope")
        # For settings the caller manages: the same block the component would write.
        block = trust.azure_oidc("core/dev")
        assert block.azure is not None
        return pulumi.Output.all(block.azure.client_id, block.azure.tenant_id, block.azure.subscription_id, trust.esc_yaml)

    mocks, (client, tenant, subscription, esc_yaml) = run(program)
    assert not mocks.of(SETTINGS) and not mocks.of(ENV)
    assert client == guid("client", mocks.of(APP)[0][0]) and tenant == TENANT and subscription == SUBSCRIPTION
    assert list(esc_yaml) == ["azure/prod"]


def test_legacy_default_project_environment() -> None:
    import pulumi_azure_oidc.pulumi  # noqa: F401

    def program() -> Any:
        oidc.pulumi.AzureOidcTrust("trust", org="contoso", esc=[{"project": "default", "env": "shared"}], tenant_id=TENANT)

    mocks, _ = run(program)
    [(name, env)] = mocks.of(ENV)
    assert name == "trust-env-default/shared" and env["project"] == "default" and env["name"] == "shared"
    [(_, fic)] = mocks.of(FIC)
    assert fic["audiences"] == ["contoso"]  # the legacy project's audience, from the core
    assert not mocks.invokes  # no Deployments stack: no subscription is looked up


def test_component_for_stacks_and_an_environment() -> None:
    def program() -> Any:
        trust = oidc.pulumi.AzureOidcTrust(
            "trust",
            org="contoso",
            deployments=[{"project": "core", "stacks": ["dev", "prod"], "roles": [{"role": "Contributor", "scope": RG}]}],
            esc=[{"project": "azure", "env": "prod", "roles": [{"role": "Contributor", "scope": RG}]}],
        )
        assert trust.client_id is not None
        return pulumi.Output.all(
            trust.client_id, trust.tenant_id, trust.credential_names, trust.esc_yaml, trust.client_ids
        )

    import pulumi_azure_oidc.pulumi  # noqa: F401  (imports pulumi_azuread, azure-native)

    mocks, (client_id, tenant_id, names, esc_yaml, client_ids) = run(program)
    [(app_name, app)] = mocks.of(APP)
    assert app_name.startswith("trust-pulumi-oidc-contoso-")
    assert app["signInAudience"] == "AzureADMyOrg" and "pulumi-azure-oidc" in app["tags"]
    app_client, app_object = by_app(mocks, app_name)
    [(_, sp)] = mocks.of(SP)
    assert sp["clientId"] == app_client
    fics = [inputs for _, inputs in mocks.of(FIC)]
    assert len(fics) == 9 and len(names) == 9
    assert {f["applicationId"] for f in fics} == {f"/applications/{app_object}"}
    deploy = [f for f in fics if f["subject"].startswith("pulumi:deploy:")]
    assert {tuple(f["audiences"]) for f in deploy} == {("contoso",)}
    assert "pulumi:deploy:org:contoso:project:core:stack:prod:operation:destroy:scope:write" in {f["subject"] for f in deploy}
    [esc] = [f for f in fics if f["subject"].startswith("pulumi:environments:")]
    assert esc["audiences"] == ["azure:contoso"]
    assert esc["subject"] == "pulumi:environments:pulumi.organization.login:contoso:currentEnvironment.name:azure/prod"
    assert all(f["issuer"] == ISSUER and f["displayName"] in names for f in fics)
    [(_, role)] = mocks.of(ROLE)
    sp_object = guid("sp", mocks.of(SP)[0][0])
    assert role["principalId"] == sp_object and role["principalType"] == "ServicePrincipal"
    assert role["scope"] == RG
    assert role["roleDefinitionId"] == CONTRIBUTOR
    assert client_id == app_client and client_ids == {app_name.removeprefix("trust-"): app_client}
    assert tenant_id == TENANT
    assert list(esc_yaml) == ["azure/prod"] and f"clientId: {app_client}" in esc_yaml["azure/prod"]
    assert f"tenantId: {TENANT}" in esc_yaml["azure/prod"]
    assert sorted(n for n, _ in mocks.of(SETTINGS)) == ["trust-settings-core/dev", "trust-settings-core/prod"]
    [(_, env)] = mocks.of(ENV)
    assert env["yaml"] == {"asset": esc_yaml["azure/prod"]}


def test_component_refuses_several_apps_clearly_unless_allowed() -> None:
    stacks = {"project": "core", "stacks": ["a", "b", "c", "d", "e", "f"]}

    def refused() -> Any:
        oidc.pulumi.AzureOidcTrust("trust", org="contoso", deployments=[stacks])

    import pulumi_azure_oidc.pulumi  # noqa: F401

    with pytest.raises(oidc.OidcError) as info:
        run(refused)
    assert info.value.code == 3001 and "2 Entra apps" in str(info.value) and "allow_multiple_apps" in str(info.value)

    def allowed() -> Any:
        trust = oidc.pulumi.AzureOidcTrust(
            "trust",
            {"org": "contoso", "azure": {"tenant": TENANT, "subscription": SUBSCRIPTION}, "deployments": [stacks]},
            allow_multiple_apps=True,
        )
        assert trust.client_id is None and len(trust.apps) == 2
        return pulumi.Output.all(trust.client_ids, trust.tenant_id, trust.target_client_ids)

    mocks, (client_ids, tenant, target_ids) = run(allowed)
    assert len(mocks.of(APP)) == 2 and len(mocks.of(SP)) == 2 and len(mocks.of(FIC)) == 24
    assert len(client_ids) == 2 and tenant == TENANT
    assert not mocks.of(ROLE)
    # Each stack's settings carry the client id of the app that holds its credentials.
    settings = {inputs["stack"]: inputs["operationContext"]["oidc"]["azure"]["clientId"] for _, inputs in mocks.of(SETTINGS)}
    assert settings == {key.rsplit("/", 1)[1]: client for key, client in target_ids.items()}
    assert len(set(settings.values())) == 2 and settings["f"] != settings["a"]


def test_component_makes_a_managed_identity_with_azure_native() -> None:
    def program() -> Any:
        trust = oidc.pulumi.AzureOidcTrust(
            "trust",
            {
                "org": "contoso",
                "azure": {"tenant": TENANT},
                "deployments": [
                    {
                        "project": "core",
                        "stack": "dev",
                        "roles": [{"role": "Contributor", "scope": RG}],
                        "holder": {
                            "managedIdentity": {
                                "subscription": SUBSCRIPTION,
                                "resourceGroup": "pulumi-oidc",
                                "location": "westeurope",
                            }
                        },
                    }
                ],
            },
        )
        assert trust.apps[0].application is None and trust.apps[0].identity is not None
        return pulumi.Output.all(trust.client_id, trust.client_ids)

    import pulumi_azure_oidc.pulumi  # noqa: F401

    mocks, (client_id, client_ids) = run(program)
    assert not mocks.of(APP) and not mocks.of(SP) and not mocks.of(FIC)
    [(name, identity)] = mocks.of(UAMI)
    assert identity["resourceGroupName"] == "pulumi-oidc" and identity["location"] == "westeurope"
    assert "pulumi-azure-oidc" in identity["tags"]
    fics = [inputs for _, inputs in mocks.of(UAMI_FIC)]
    assert len(fics) == 4
    assert {f["federatedIdentityCredentialResourceName"] for f in fics} == {f"deploy-core-dev-{op}" for op in OPERATIONS}
    assert all(f["audiences"] == ["contoso"] and f["resourceGroupName"] == "pulumi-oidc" for f in fics)
    [(_, role)] = mocks.of(ROLE)
    assert role["principalId"] == guid("principal", name)
    assert client_id == guid("client", name) and list(client_ids.values()) == [client_id]
    [(_, settings)] = mocks.of(SETTINGS)
    assert settings["operationContext"] == azure_oidc(client_id)


def test_esc_example() -> None:
    path = EXAMPLES / "esc-oidc-azure" / "__main__.py"
    mocks, _ = run(lambda: runpy.run_path(str(path), run_name="__main__") and None, project="esc-oidc-azure")
    [(app_name, _)] = mocks.of(APP)
    client, app_object = by_app(mocks, app_name)
    [(_, fic)] = mocks.of(FIC)
    assert fic["applicationId"] == f"/applications/{app_object}"
    assert fic["audiences"] == ["azure:contoso"]
    assert fic["subject"] == "pulumi:environments:pulumi.organization.login:contoso:currentEnvironment.name:azure/prod"
    [(sp_name, sp)] = mocks.of(SP)
    assert sp["clientId"] == client
    [(_, role)] = mocks.of(ROLE)
    assert role["principalId"] == guid("sp", sp_name) and role["principalType"] == "ServicePrincipal"
    assert role["scope"] == f"/subscriptions/{SUBSCRIPTION}"
    assert role["roleDefinitionId"] == CONTRIBUTOR
    [(_, env)] = mocks.of(ENV)
    assert env["organization"] == "contoso" and env["project"] == "azure" and env["name"] == "prod"
    yaml = env["yaml"]["asset"]
    assert yaml == oidc.esc_environment_yaml(
        "contoso", "azure", "prod", client_id=client, tenant_id=TENANT, subscription_id=SUBSCRIPTION
    )
    assert "- currentEnvironment.name" in yaml


def test_deployments_example() -> None:
    path = EXAMPLES / "deployments-oidc-azure" / "__main__.py"
    stacks = ["dev", "staging", "prod", "qa", "eu", "us"]
    config = {
        "targetProject": "web",
        "stacks": '["dev", "staging", "prod", "qa", "eu", "us"]',
        "scope": RG,
        "repoUrl": "https://github.com/contoso/web.git",
        "repoDir": "infra",
    }
    mocks, _ = run(lambda: runpy.run_path(str(path), run_name="__main__") and None, project="deployments-oidc-azure", config=config)
    apps = mocks.of(APP)
    assert len(apps) == 2  # 24 credentials: 20 in the first app, the sixth stack in a second
    fics = [inputs for _, inputs in mocks.of(FIC)]
    assert len(fics) == 24 and {tuple(f["audiences"]) for f in fics} == {("contoso",)}
    assert {f["subject"] for f in fics} == {
        f"pulumi:deploy:org:contoso:project:web:stack:{s}:operation:{op}:scope:write" for s in stacks for op in OPERATIONS
    }
    objects = {f"/applications/{by_app(mocks, name)[1]}" for name, _ in apps}
    assert {f["applicationId"] for f in fics} == objects
    roles = [inputs for _, inputs in mocks.of(ROLE)]
    assert len(roles) == 2 and {r["principalId"] for r in roles} == {guid("sp", n) for n, _ in mocks.of(SP)}
    assert all(r["scope"] == RG and r["principalType"] == "ServicePrincipal" for r in roles)
    settings = {inputs["stack"]: inputs for _, inputs in mocks.of(SETTINGS)}
    assert sorted(settings) == sorted(stacks)
    clients = {guid("client", name) for name, _ in apps}
    for s in settings.values():
        assert s["organization"] == "contoso" and s["project"] == "web"
        assert s["operationContext"]["oidc"]["azure"]["clientId"] in clients
        assert s["operationContext"]["oidc"]["azure"]["subscriptionId"] == SUBSCRIPTION
        assert s["sourceContext"] == {"git": {"repoUrl": "https://github.com/contoso/web.git", "branch": "refs/heads/main", "repoDir": "infra"}}


def test_pulumi_example_rewritten_with_the_component() -> None:
    path = EXAMPLES / "azure-py-oidc-provider-pulumi-cloud" / "__main__.py"
    mocks, _ = run(
        lambda: runpy.run_path(str(path), run_name="__main__") and None,
        project="azure-py-oidc-provider-pulumi",
        config={"projectName": "azure", "environmentName": "azure-oidc-admin"},
    )
    [(app_name, app)] = mocks.of(APP)
    client, app_object = by_app(mocks, app_name)
    assert app["signInAudience"] == "AzureADMyOrg"
    [(_, fic)] = mocks.of(FIC)
    assert fic["applicationId"] == f"/applications/{app_object}" and fic["issuer"] == ISSUER
    assert fic["audiences"] == ["azure:contoso"]
    assert fic["subject"] == (
        "pulumi:environments:pulumi.organization.login:contoso:currentEnvironment.name:azure/azure-oidc-admin"
    )
    [(sp_name, sp)] = mocks.of(SP)
    assert sp["clientId"] == client
    [(_, role)] = mocks.of(ROLE)
    assert role == {
        "principalId": guid("sp", sp_name),
        "principalType": "ServicePrincipal",
        "roleDefinitionId": CONTRIBUTOR,
        "scope": f"/subscriptions/{SUBSCRIPTION}",
    }
    [(_, env)] = mocks.of(ENV)
    assert {k: env[k] for k in ("organization", "project", "name")} == {
        "organization": "contoso",
        "project": "azure",
        "name": "azure-oidc-admin",
    }
    yaml = env["yaml"]["asset"]
    assert f"clientId: {client}" in yaml and f"subscriptionId: {SUBSCRIPTION}" in yaml and "ARM_OIDC_TOKEN" in yaml
    assert not mocks.of(SETTINGS)
    assert {t for t, _, _ in mocks.resources} == {COMPONENT, APP, SP, FIC, ROLE, ENV}


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir() if (p / "__main__.py").exists()))
def test_example_is_complete_and_strictly_typed(example: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = EXAMPLES / example
    for name in ("Pulumi.yaml", "__main__.py", "requirements.txt"):
        assert (folder / name).is_file(), f"{example} lacks {name}"
    requirements = (folder / "requirements.txt").read_text(encoding="utf-8")
    assert "pulumi-pulumiservice" in requirements and "../.." in requirements
    # One mypy cache for every example: the providers' SDKs are large.
    cache = tmp_path_factory.getbasetemp() / "mypy-examples"
    config = Path(__file__).with_name("mypy.ini")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--strict", str(folder / "__main__.py")],
        capture_output=True,
        text=True,
        env={**os.environ, "MYPY_CACHE_DIR": str(cache)},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
