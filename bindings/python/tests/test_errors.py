"""Every public function's errors: type, .code, .path, message, pickling; panics."""

import pickle
import warnings
from pathlib import Path
from typing import Any, Callable

import pytest

import pulumi_azure_oidc as oidc
from pulumi_azure_oidc import _native
from conftest import unsigned_token

GUID = "11111111-1111-1111-1111-111111111111"
TOKEN = unsigned_token({"iss": "https://api.pulumi.com/oidc", "sub": "x", "aud": "contoso", "exp": 2})

# (what, call, code, text the message must contain, path)
CASES = [
    ("deployment_credentials org", lambda: oidc.deployment_credentials("c", "core", "dev"), 1001, "`c`", None),
    ("deployment_credentials stack", lambda: oidc.deployment_credentials("contoso", "core", "a b"), 1003, "a b", None),
    ("deployment_credentials empty operations", lambda: oidc.deployment_credentials("contoso", "core", "dev", operations=[]), 1009, "empty", None),
    ("deployment_credentials issuer", lambda: oidc.deployment_credentials("contoso", "core", "dev", issuer="api.pulumi.com/oidc"), 1007, "api.pulumi.com/oidc", None),
    ("esc_credentials attribute", lambda: oidc.esc_credentials("contoso", "azure", "prod", subject_attributes=["team"]), 1010, "team", None),
    ("esc_credentials user", lambda: oidc.esc_credentials("contoso", "azure", "prod", subject_attributes=["pulumi.user.login"]), 1011, "pulumi.user.login", None),
    ("esc_environment_yaml client id", lambda: oidc.esc_environment_yaml("contoso", "azure", "prod", client_id="nope", tenant_id=GUID), 1015, "client id `nope`", None),
    ("esc_environment_yaml env", lambda: oidc.esc_environment_yaml("contoso", "azure", "a:b", client_id=GUID, tenant_id=GUID), 1005, "a:b", None),
    ("esc_environment_yaml key vault", lambda: oidc.esc_environment_yaml("contoso", "azure", "prod", client_id=GUID, tenant_id=GUID, key_vault="x", key_vault_secrets=["s"]), 1020, "`x`", None),
    ("esc_environment_yaml secrets without vault", lambda: oidc.esc_environment_yaml("contoso", "azure", "prod", client_id=GUID, tenant_id=GUID, key_vault_secrets=["s"]), 1016, "key_vault", None),
    ("plan config path", lambda: oidc.plan({"org": "contoso", "deployments": [{"project": "core", "stacks": ["ok", "b d"]}]}), 1003, "b d", "deployments[0].stacks[1]"),
    ("plan unknown key", lambda: oidc.plan("org: contoso\nstacks: [dev]\n"), 1016, "stacks", None),
    ("plan empty", lambda: oidc.plan({"org": "contoso"}), 1018, "no targets", None),
    ("plan duplicate", lambda: oidc.plan({"org": "contoso", "esc": [{"project": "a", "envs": ["b", "b"]}]}), 1017, "a/b", None),
    ("plan missing file", lambda: oidc.plan("does-not-exist.yaml"), 1019, "does-not-exist.yaml", None),
    ("plan missing path", lambda: oidc.plan(Path("does/not/exist.yaml")), 1019, "exist.yaml", None),
    ("plan dict not JSON", lambda: oidc.plan({"org": object()}), 1016, "not JSON", None),
    ("plan role", lambda: oidc.plan({"org": "contoso", "esc": [{"project": "a", "env": "b", "roles": [{"role": "Nope", "scope": "/subscriptions/" + GUID}]}]}), 1013, "Nope", "esc[0].roles[0].role"),
    ("render format", lambda: oidc.render({"org": "contoso", "esc": [{"project": "a", "env": "b"}]}, "xml"), 1016, "xml", None),
    ("render tenant", lambda: oidc.render({"org": "contoso", "esc": [{"project": "a", "env": "b"}]}, "esc", tenant_id="t"), 1015, "`t`", None),
    ("Plan.render client id with several apps", lambda: oidc.plan(
        {"org": "contoso", "deployments": [{"project": "p", "stacks": ["a", "b", "c", "d", "e", "f"]}]}
    ).render("esc", client_id=GUID), 1016, "2 apps", None),
    ("diagnose_token malformed", lambda: oidc.diagnose_token("not-a-token"), 2001, "malformed token", None),
    ("diagnose_token credential list", lambda: oidc.diagnose_token(TOKEN, "[{}]"), 2002, "issuer", None),
    ("diagnose_token credential list shape", lambda: oidc.diagnose_token(TOKEN, {"items": []}), 2002, "value", None),
    ("diagnose_token time", lambda: oidc.diagnose_token(TOKEN, now="yesterday"), 2004, "yesterday", None),
    ("diagnose_error", lambda: oidc.diagnose_error("something went wrong"), 2003, "no AADSTS error code", None),
    ("FederatedCredential name", lambda: oidc.FederatedCredential("x", "https://api.pulumi.com/oidc", "s", "a", "d"), 1006, "`x`", None),
    ("FederatedCredential subject length", lambda: oidc.FederatedCredential("abc", "https://api.pulumi.com/oidc", "s" * 601, "a", "d"), 1008, "600", None),
    ("RoleGrant scope", lambda: oidc.RoleGrant("Reader", "/nowhere"), 1014, "/nowhere", None),
    ("PlannedTarget.esc_environment_yaml on a stack", lambda: oidc.plan({"org": "contoso", "deployments": [{"project": "p", "stack": "s"}]}).apps[0].targets[0].esc_environment_yaml(client_id=GUID, tenant_id=GUID), 1016, "not an ESC environment", None),
]


@pytest.mark.parametrize("what,call,code,contains,path", CASES, ids=[c[0] for c in CASES])
def test_error(what: str, call: Callable[[], Any], code: int, contains: str, path: Any) -> None:
    with pytest.raises(oidc.OidcError) as info:
        call()
    err = info.value
    assert type(err) is oidc.InputError, what
    assert isinstance(err, ValueError)
    assert err.code == code, str(err)
    assert err.kind == oidc.error_codes()[code]
    assert contains in str(err), str(err)
    assert err.path == path
    if path:
        assert str(err).startswith(f"{path}: ")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert (str(back), back.code, back.path, back.kind) == (str(err), err.code, err.path, err.kind)


def test_every_code_has_a_name_and_input_errors_are_the_1000_and_2000_ranges() -> None:
    codes = oidc.error_codes()
    assert codes[1001] == "invalid_org" and codes[3001] == "credential_limit_exceeded"
    assert all(isinstance(k, int) and isinstance(v, str) for k, v in codes.items())


def test_wrong_argument_types_are_type_errors() -> None:
    with pytest.raises(TypeError):
        oidc.plan(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        oidc.deployment_credentials("contoso", "core", "dev", operations="update")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        oidc.deployment_credentials("contoso", "core")  # type: ignore[call-arg]


def test_a_panic_becomes_internal_error_not_an_abort() -> None:
    with pytest.raises(oidc.InternalError) as info:
        _native._panic_for_tests()
    err = info.value
    assert isinstance(err, oidc.OidcError) and not isinstance(err, ValueError)
    assert err.code == _native.PANIC_CODE == 9003
    assert "panic" in str(err)
    assert pickle.loads(pickle.dumps(err)).code == 9003
    # The interpreter is still fine.
    assert oidc.deployment_credentials("contoso", "core", "dev")


@pytest.mark.parametrize(
    "err",
    [
        oidc.OidcError("m", 3001, None, "credential_limit_exceeded"),
        oidc.InputError("m", 1003, "deployments[0].stacks[1]", "invalid_stack"),
        oidc.InternalError("m", 9003),
        oidc.ApiError("graph said no", 4001, status=429, service_code="TooManyRequests"),
    ],
)
def test_every_class_pickles(err: oidc.OidcError) -> None:
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert vars(back) == vars(err)
    assert str(back) == str(err) == "m" or str(back) == str(err) == "graph said no"


def test_api_error_carries_status_and_service_code() -> None:
    err = oidc.ApiError("throttled", 4001, status=429, service_code="TooManyRequests")
    assert isinstance(err, oidc.OidcError) and not isinstance(err, ValueError)
    assert (err.status, err.service_code, err.code) == (429, "TooManyRequests", 4001)
    assert "429" in repr(err)


def test_warnings_are_oidc_warnings_at_the_callers_line() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        oidc.esc_credentials("contoso", "azure", "prod", include_yaml_subject=True)
    assert len(caught) == 1
    assert issubclass(caught[0].category, oidc.OidcWarning)
    assert "<yaml>" in str(caught[0].message)
    assert caught[0].filename == __file__


def test_tokens_never_appear_in_errors() -> None:
    header, payload, signature = unsigned_token({"iss": "https://api.pulumi.com/oidc", "sub": "s", "aud": "a"}).split(".")
    for secret in (f"{header}.{payload[:-4]}!!!!.{signature}", f"{header}.{payload}"):
        with pytest.raises(oidc.InputError) as info:
            oidc.diagnose_token(secret)
        assert info.value.code == 2001
        for part in secret.split("."):
            assert part not in str(info.value) and part not in repr(info.value)
