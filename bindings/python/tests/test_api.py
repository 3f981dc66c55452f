"""The typed API: frozen, hashable values, inputs in every accepted form, renders."""

import dataclasses
import datetime
import pickle
import sysconfig
from pathlib import Path

import pytest

import pulumi_azure_oidc as oidc
from conftest import REPO

GUID1 = "11111111-1111-1111-1111-111111111111"
GUID2 = "22222222-2222-2222-2222-222222222222"


def test_installed_wheel_not_the_source_tree() -> None:
    here = Path(oidc.__file__).resolve()
    assert Path(sysconfig.get_paths()["purelib"]).resolve() in here.parents
    assert (here.parent / "py.typed").exists()
    assert (here.parent / "_native.pyi").exists()
    assert oidc.version() == oidc.__version__


def test_federated_credential_is_frozen_hashable_and_picklable() -> None:
    creds = oidc.deployment_credentials("contoso", "core", "dev", operations=["update"])
    assert len(creds) == 1
    c = creds[0]
    assert (c.name, c.audience) == ("deploy-core-dev-update", "contoso")
    assert c.subject == "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write"
    with pytest.raises(AttributeError):
        c.subject = "x"  # type: ignore[misc]
    same = oidc.FederatedCredential(c.name, c.issuer, c.subject, c.audience, c.description)
    assert same == c and hash(same) == hash(c) and len({c, same}) == 1
    assert pickle.loads(pickle.dumps(c)) == c
    assert repr(c).startswith("FederatedCredential(name=")
    assert c.to_graph_body()["audiences"] == ["contoso"]
    assert c.az_command().startswith("az ad app federated-credential create")
    assert "--federated-credential-id deploy-core-dev-update" in c.az_command(update=True)
    with pytest.raises(TypeError):
        dataclasses.asdict(c)  # not a dataclass: a native, immutable value


def test_esc_credentials_audience_and_subject() -> None:
    [c] = oidc.esc_credentials("contoso", "azure", "prod")
    assert c.audience == "azure:contoso"
    assert c.subject == "pulumi:environments:pulumi.organization.login:contoso:currentEnvironment.name:azure/prod"
    [legacy] = oidc.esc_credentials("contoso", "default", "prod", subject_attributes=[])
    assert (legacy.audience, legacy.subject) == ("contoso", "pulumi:environments:org:contoso:env:prod")


def test_plan_from_dict_text_path_and_pathlike(config_text: str) -> None:
    path = REPO / "examples" / "pulumi-azure-oidc.yaml"
    plans = [oidc.plan(config_text), oidc.plan(str(path)), oidc.plan(path)]
    dict_plan = oidc.plan(
        {"org": "contoso", "deployments": [{"project": "core", "stacks": ["dev"]}]}
    )
    assert [p.to_dict() for p in plans[1:]] == [plans[0].to_dict()] * 2
    p = plans[0]
    assert (p.org, p.credential_count, len(p.apps)) == ("contoso", 32, 5)
    assert p.tenant_id == "72f988bf-86f1-41af-91ab-2d7cd011db47"
    assert len(p.apps[0].credentials) == 20 and all(len(a.credentials) <= 20 for a in p.apps)
    assert p.warnings and "subscription scope" in p.warnings[0]
    t = p.apps[0].targets[0]
    assert (t.kind, t.key, t.project, t.stack, t.env) == ("deployment", "deploy:contoso/core/dev", "core", "dev", None)
    assert t.operations == ("preview", "update", "refresh", "destroy")
    assert t.credential_names[0] == "deploy-core-dev-preview"
    grant = p.apps[0].roles[0]
    assert grant.role == "Contributor" and grant.role_id == "b24988ac-6180-42a0-ab88-20f7382dd24c"
    assert grant.role_definition_id.endswith("/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c")
    assert grant == oidc.RoleGrant("contributor", grant.scope) and hash(grant) == hash(oidc.RoleGrant("Contributor", grant.scope))
    assert len(grant.assignment_name(GUID1)) == 36
    assert dict_plan.apps[0].targets[0].label == "stack contoso/core/dev"
    assert p.to_dict()["apps"][0]["unique_name"] == p.apps[0].unique_name
    with pytest.raises(AttributeError):
        p.apps = ()  # type: ignore[misc]


def test_planned_esc_target_renders_its_environment(config_text: str) -> None:
    esc = [t for a in oidc.plan(config_text).apps for t in a.targets if t.kind == "esc"]
    assert [t.env for t in esc] == ["dev", "prod"]
    t = esc[0]
    assert t.subject_attributes == ("currentEnvironment.name",)
    assert (t.key_vault, t.key_vault_secrets) == ("contoso-secrets", ("api-key",))
    yaml = t.esc_environment_yaml(client_id=GUID1, tenant_id=GUID2)
    assert f"clientId: {GUID1}" in yaml and "fn::open::azure-secrets" in yaml
    assert "subscriptionId" not in yaml


def test_esc_environment_yaml() -> None:
    yaml = oidc.esc_environment_yaml(
        "contoso", "azure", "prod", client_id=GUID1, tenant_id=GUID2, subscription_id=GUID1
    )
    assert "fn::open::azure-login" in yaml and "- currentEnvironment.name" in yaml
    assert "ARM_SUBSCRIPTION_ID" in yaml and "ARM_OIDC_TOKEN: ${azure.login.oidc.token}" in yaml
    default = oidc.esc_environment_yaml(
        "contoso", "azure", "prod", client_id=GUID1, tenant_id=GUID2, subject_attributes=[]
    )
    assert "subjectAttributes" not in default
    kv = oidc.esc_environment_yaml(
        "contoso", "azure", "prod", client_id=GUID1, tenant_id=GUID2,
        key_vault="contoso-secrets", key_vault_secrets=["api-key"],
    )
    assert "vault: contoso-secrets" in kv


@pytest.mark.parametrize("fmt", ["az", "esc", "pulumi-python", "pulumi-typescript", "json"])
def test_every_render(config_text: str, fmt: str) -> None:
    text = oidc.render(config_text, fmt)
    assert text and text == oidc.plan(config_text).render(fmt)
    if fmt == "pulumi-python":
        compile(text, "program.py", "exec")


def test_render_with_ids_for_one_target() -> None:
    config = {"org": "contoso", "esc": [{"project": "azure", "env": "prod"}]}
    text = oidc.render(config, "esc", client_id=GUID1, tenant_id=GUID2, subscription_id=GUID1)
    assert f"clientId: {GUID1}" in text


def test_diagnose_token_inputs(config_text: str) -> None:
    from conftest import unsigned_token

    token = unsigned_token({
        "iss": "https://api.pulumi.com/oidc",
        "sub": "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write",
        "aud": "contoso", "exp": 2_000_000_000,
    })
    creds = oidc.deployment_credentials("contoso", "core", "dev")
    at = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    for given in (creds, [c.to_graph_body() for c in creds], {"value": [c.to_graph_body() for c in creds]}):
        d = oidc.diagnose_token(token, given, now=at)
        assert d.accepted and d.matched == "deploy-core-dev-update", d.verdict
        assert d.checked_at == int(at.timestamp()) and d.time == "valid"
    wrong = oidc.deployment_credentials("contoso", "core", "dev", operations=["preview"])
    d = oidc.diagnose_token(token, wrong, now=1)
    assert not d.accepted and d.aadsts == 700213 and d.fix is not None
    assert d.fix.subject.endswith(":operation:update:scope:write") and d.fix_action == "create"
    assert d.candidates[0].differences[0].kind == "operation"
    alone = oidc.diagnose_token(token)
    assert not alone.checked_credentials and alone.claims.audiences == ("contoso",)
    assert alone.subject_kind == "deployment" and alone.claims.other == {}
    assert token not in repr(alone) and token not in str(alone.to_dict())


def test_diagnose_error_result() -> None:
    text = (REPO / "examples" / "aadsts700213.txt").read_text(encoding="utf-8")
    d = oidc.diagnose_error(text)
    assert (d.code, d.aadsts) == (700213, "AADSTS700213")
    assert d.presented.subject == "pulumi:environments:org:pulumi:env:<yaml>"
    assert d.suggested_credential is not None and d.suggested_credential.audience == "azure:pulumi"
    assert d.to_dict()["code"] == 700213


def test_permissions_for_apps_and_identities() -> None:
    sub = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
    config = {
        "org": "contoso",
        "managedIdentity": {"subscription": sub, "resourceGroup": "rg-oidc", "location": "westeurope"},
        "deployments": [
            {"project": "core", "stack": "dev", "holder": "managedIdentity"},
            {"project": "web", "stack": "dev",
             "roles": [{"role": "Reader", "scope": f"/subscriptions/{sub}"}]},
        ],
    }
    rights = oidc.permissions(config)
    assert [g["permission"] for g in rights["graph"]] == ["AppRegistration.Create", "Application.ReadWrite.OwnedBy"]
    roles = {a["role"]: a for a in rights["arm"]}
    assert roles["Managed Identity Contributor"]["scope"] == f"/subscriptions/{sub}/resourceGroups/rg-oidc"
    assert "acdd72a7-3385-48ef-bd42-f606fba81ae7" in roles["Role Based Access Control Administrator"]["condition"]
    assert "az" not in rights
    script = oidc.permissions(config, operator=GUID1)["az"]
    assert "az role assignment create" in script and "appRoleAssignedTo" in script
    with pytest.raises(oidc.InputError) as e:
        oidc.permissions(config, operator="nope")
    assert "nope" in str(e.value)
    plan = oidc.plan(config)
    kinds = sorted(a.kind for a in plan.apps)
    assert kinds == ["app", "managed identity"]
    identity = next(a for a in plan.apps if a.kind == "managed identity")
    assert identity.identity_id and identity.identity_id.endswith("/" + identity.unique_name)
