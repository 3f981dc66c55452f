"""The component and both examples under the real Pulumi SDK's mocks: no engine, no
plugin, no network. Asserts the resources, their inputs and the outputs."""

import runpy
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

pulumi = pytest.importorskip("pulumi")

import pulumi_azure_oidc as oidc  # noqa: E402
from conftest import EXAMPLES  # noqa: E402

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUBSCRIPTION = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/core"

APP = "azuread:index/application:Application"
SP = "azuread:index/servicePrincipal:ServicePrincipal"
FIC = "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential"
ROLE = "azure-native:authorization:RoleAssignment"
UAMI = "azure-native:managedidentity:UserAssignedIdentity"
UAMI_FIC = "azure-native:managedidentity:FederatedIdentityCredential"


def guid(kind: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}/{name}"))


class Mocks(pulumi.runtime.Mocks):
    """Azure as the providers would answer: GUID ids for apps and principals."""

    def __init__(self) -> None:
        self.resources: List[Tuple[str, str, Dict[str, Any]]] = []

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
        self.resources.append((args.typ, args.name, dict(args.inputs)))
        return f"{args.name}_id", outputs

    def call(self, args: "pulumi.runtime.MockCallArgs") -> Dict[str, Any]:
        if args.token in ("azuread:index/getClientConfig:getClientConfig", "azure-native:authorization:getClientConfig"):
            return {"tenantId": TENANT, "subscriptionId": SUBSCRIPTION, "clientId": guid("me", "c"), "objectId": guid("me", "o")}
        raise AssertionError(f"unexpected invoke {args.token}")

    def of(self, typ: str) -> List[Tuple[str, Dict[str, Any]]]:
        return [(name, inputs) for t, name, inputs in self.resources if t == typ]


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
    assert all(f["issuer"] == "https://api.pulumi.com/oidc" and f["displayName"] in names for f in fics)
    [(_, role)] = mocks.of(ROLE)
    sp_object = guid("sp", mocks.of(SP)[0][0])
    assert role["principalId"] == sp_object and role["principalType"] == "ServicePrincipal"
    assert role["scope"] == RG
    assert role["roleDefinitionId"] == f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
    assert client_id == app_client and client_ids == {app_name.removeprefix("trust-"): app_client}
    assert tenant_id == TENANT
    assert list(esc_yaml) == ["azure/prod"] and f"clientId: {app_client}" in esc_yaml["azure/prod"]
    assert f"tenantId: {TENANT}" in esc_yaml["azure/prod"]


def test_component_refuses_several_apps_clearly_unless_allowed() -> None:
    stacks = {"project": "core", "stacks": ["a", "b", "c", "d", "e", "f"]}

    def refused() -> Any:
        oidc.pulumi.AzureOidcTrust("trust", org="contoso", deployments=[stacks])

    import pulumi_azure_oidc.pulumi  # noqa: F401

    with pytest.raises(oidc.OidcError) as info:
        run(refused)
    assert info.value.code == 3001 and "2 Entra apps" in str(info.value) and "allow_multiple_apps" in str(info.value)

    def allowed() -> Any:
        trust = oidc.pulumi.AzureOidcTrust("trust", {"org": "contoso", "azure": {"tenant": TENANT}, "deployments": [stacks]}, allow_multiple_apps=True)
        assert trust.client_id is None and len(trust.apps) == 2
        return pulumi.Output.all(trust.client_ids, trust.tenant_id)

    mocks, (client_ids, tenant) = run(allowed)
    assert len(mocks.of(APP)) == 2 and len(mocks.of(SP)) == 2 and len(mocks.of(FIC)) == 24
    assert len(client_ids) == 2 and tenant == TENANT
    assert not mocks.of(ROLE)


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
    assert {f["federatedIdentityCredentialResourceName"] for f in fics} == {
        f"deploy-core-dev-{op}" for op in ("preview", "update", "refresh", "destroy")
    }
    assert all(f["audiences"] == ["contoso"] and f["resourceGroupName"] == "pulumi-oidc" for f in fics)
    [(_, role)] = mocks.of(ROLE)
    assert role["principalId"] == guid("principal", name)
    assert client_id == guid("client", name) and list(client_ids.values()) == [client_id]


def test_esc_example(capsys: pytest.CaptureFixture[str]) -> None:
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
    assert role["roleDefinitionId"].endswith("/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c")
    printed = capsys.readouterr().out
    assert "# ESC environment contoso/azure/prod" in printed
    assert f"clientId: {client}" in printed and f"subscriptionId: {SUBSCRIPTION}" in printed
    assert "- currentEnvironment.name" in printed


def test_deployments_example() -> None:
    path = EXAMPLES / "deployments-oidc-azure" / "__main__.py"
    config = {"targetProject": "web", "stacks": '["dev", "staging", "prod", "qa", "eu", "us"]', "scope": RG}
    mocks, _ = run(lambda: runpy.run_path(str(path), run_name="__main__") and None, project="deployments-oidc-azure", config=config)
    apps = mocks.of(APP)
    assert len(apps) == 2  # 24 credentials: 20 in the first app, the sixth stack in a second
    fics = [inputs for _, inputs in mocks.of(FIC)]
    assert len(fics) == 24 and {tuple(f["audiences"]) for f in fics} == {("contoso",)}
    assert {f["subject"] for f in fics} == {
        f"pulumi:deploy:org:contoso:project:web:stack:{s}:operation:{op}:scope:write"
        for s in ["dev", "staging", "prod", "qa", "eu", "us"]
        for op in ["preview", "update", "refresh", "destroy"]
    }
    objects = {f"/applications/{by_app(mocks, name)[1]}" for name, _ in apps}
    assert {f["applicationId"] for f in fics} == objects
    roles = [inputs for _, inputs in mocks.of(ROLE)]
    assert len(roles) == 2 and {r["principalId"] for r in roles} == {guid("sp", n) for n, _ in mocks.of(SP)}
    assert all(r["scope"] == RG and r["principalType"] == "ServicePrincipal" for r in roles)
