"""Provisioning from Python against the emulator binary: apply, status, verify, destroy
through the installed wheel; typed reports; the GIL released during a run; service
refusals as ApiError with the HTTP status; and Microsoft's azure-identity exchanging a
Pulumi token for an app that `apply` made.

The emulator binary comes from the Cargo target directory (`cargo xtask test` builds
the workspace first); these tests fail, not skip, when it is missing.
"""

import asyncio
import contextlib
import json
import pickle
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from azure.identity import ClientAssertionCredential
from conftest import run_emulator

import pulumi_azure_oidc as oidc

ARM = "https://management.azure.com/.default"
# The emulator's documented defaults (crates/emulator, `--help`); test values, not secrets.
OPERATOR_SECRET = "emulator-operator-secret"
PULUMI_TOKEN = "pul-emulator-access-token"
READ_ONLY = ("3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d", "read-only-secret")
FREE_ORG = "freeorg"
TARGET = {"kind": "deployment", "org": "contoso", "project": "core", "stack": "dev"}


class Emulator:
    def __init__(self, info: Dict[str, str]) -> None:
        self.info = info
        self.https = info["https_url"]
        self.http = info["http_url"]
        self.tenant = info["tenant_id"]
        self.client_id = info["client_id"]
        self.ca_file = info["ca_file"]

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.http}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=20) as response:
            text = response.read().decode()
            return json.loads(text) if text else None

    def mint(self, **fields: Any) -> str:
        token: str = self.admin("POST", "/_emulator/mint", {"target": TARGET, "operation": "update", **fields})[
            "token"
        ]
        return token

    def options(self, client_id: str = "", secret: str = OPERATOR_SECRET) -> Dict[str, Any]:
        """Run options for this emulator with the operator's credentials."""
        return {
            "endpoint": self.https,
            "ca_file": self.ca_file,
            "azure_tenant_id": self.tenant,
            "azure_client_id": client_id or self.client_id,
            "azure_client_secret": secret,
            "pulumi_access_token": PULUMI_TOKEN,
        }

    def config(self, org: str = "contoso") -> str:
        return (
            f"org: {org}\n"
            f"azure:\n  tenant: {self.tenant}\n"
            "deployments:\n  - project: core\n    stacks: [dev]\n"
            "esc:\n  - project: azure\n    envs: [dev]\n"
        )


@contextlib.contextmanager
def start(tmp: Path, *args: str) -> Iterator[Emulator]:
    with run_emulator(tmp, *args) as info:
        yield Emulator(info)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start(
        tmp_path_factory.mktemp("emulator"),
        "--read-only-operator",
        ":".join(READ_ONLY),
        "--free-org",
        FREE_ORG,
    ) as e:
        yield e


@pytest.fixture
def no_host_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing of the host's: no AZURE_*/PULUMI_* variables, no Pulumi CLI login."""
    for name in [
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_FEDERATED_TOKEN_FILE",
        "IDENTITY_ENDPOINT",
        "MSI_ENDPOINT",
        "ARM_CLIENT_ID",
        "ARM_TENANT_ID",
        "PULUMI_ACCESS_TOKEN",
        "PULUMI_BACKEND_URL",
        "PULUMI_OIDC_TOKEN",
    ]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def roundtrip(e: BaseException) -> Any:
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is type(e) and str(back) == str(e)
    return back


def test_apply_status_verify_destroy(emulator: Emulator, no_host_credentials: None) -> None:
    options = emulator.options()
    config = emulator.config()

    dry = oidc.apply(config, dry_run=True, **options)
    assert isinstance(dry, oidc.ApplyReport)
    assert dry.dry_run and dry.changes and dry.applied == 0
    assert emulator.admin("GET", "/_emulator/state")["applications"] == []

    report = oidc.apply(config, **options)
    assert not report.dry_run and report.applied == len(report.changes) > 0
    [app] = report.apps
    assert isinstance(app, oidc.AppSummary) and app.client_id and app.credentials == 5
    assert "stack contoso/core/dev" in app.targets
    assert "fn::open::azure-login" in report.esc_environments["contoso/azure/dev"]
    assert report.requests.writes > 0
    assert report.to_dict()["apps"][0]["client_id"] == app.client_id
    assert json.loads(report.json)["org"] == "contoso"
    for text in (repr(report), report.json):
        assert OPERATOR_SECRET not in text and PULUMI_TOKEN not in text

    status = oidc.status(config, **options)
    assert isinstance(status, oidc.StatusReport)
    assert status.converged and status.changes == ()
    assert all(isinstance(t, oidc.TargetHealth) and t.ok for t in status.targets)
    assert len(status.targets) == 2
    again = oidc.apply(config, **options)
    assert again.changes == () and again.requests.writes == 0

    # A token Pulumi would mint for the stack is exchanged at the token endpoint.
    token = emulator.mint()
    verified = oidc.verify(config, token=token, wait=10, **options)
    assert isinstance(verified, oidc.VerifyReport)
    assert verified.ok, verified.results
    assert verified.claims.subject == "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write"
    assert token not in verified.json and token not in repr(verified)

    # The ESC audience on a Deployments token: refused with AADSTS700212, diagnosed.
    refused = oidc.verify(
        token=emulator.mint(audience="azure:contoso"),
        client_id=app.client_id,
        tenant_id=emulator.tenant,
        wait=0,
        **options,
    )
    assert not refused.ok
    [result] = refused.results
    assert isinstance(result, oidc.VerifyResult)
    assert result.aadsts == 700212 and result.client_id == app.client_id
    assert isinstance(result.diagnosis, oidc.ErrorDiagnosis) and result.diagnosis.code == 700212
    assert result.diagnosis.cause
    assert isinstance(result.token_diagnosis, oidc.TokenDiagnosis)
    assert not result.token_diagnosis.accepted
    assert result.token_diagnosis.fix is not None and result.token_diagnosis.fix.audience == "azure:contoso"

    # A client we did not write: Microsoft's azure-identity, with the app `apply` made.
    credential = ClientAssertionCredential(
        emulator.tenant,
        app.client_id,
        lambda: emulator.mint(),
        authority=emulator.https,
        connection_verify=emulator.ca_file,
    )
    assert credential.get_token(ARM).token

    # A `"*"` entry is filled from Pulumi Cloud's list of the org's stacks.
    star = {"org": "contoso", "deployments": [{"project": "core", "stacks": "*"}]}
    with pytest.raises(oidc.InputError, match="Pulumi Cloud"):
        oidc.plan(star)
    found = oidc.status(star, **options)
    assert [t.target for t in found.targets] == ["stack contoso/core/dev"]

    # adopt describes the org as it is, pinned to the app apply made; applying that
    # config changes nothing.
    adopted = oidc.adopt("contoso", **options)
    assert "stack contoso/core/dev" in adopted["adopted"], adopted
    assert f"holder: {{ clientId: {app.client_id} }}" in adopted["config"]
    assert oidc.apply(adopted["config"], **options).changes == ()

    # doctor judges the live set-up, by config or by the stack's name; reads only.
    doctor = oidc.doctor(config, **options)
    assert doctor["healthy"] and doctor["checked"], doctor
    assert {t["target"] for t in doctor["targets"]} == {"contoso/core/dev", "contoso/azure/dev"}
    by_name = oidc.doctor(stack="contoso/core/dev", **options)
    assert by_name["targets"][0]["client_id"] == app.client_id
    with pytest.raises(oidc.InputError, match="ORG/PROJECT/NAME"):
        oidc.doctor(env="contoso/dev", **options)

    destroyed = oidc.destroy(config, **options)
    assert isinstance(destroyed, oidc.DestroyReport)
    assert destroyed.removed and destroyed.to_dict()["org"] == "contoso"
    state = emulator.admin("GET", "/_emulator/state")
    assert state["applications"] == [] and state["servicePrincipals"] == []
    assert not oidc.status(config, **options).converged
    broken = oidc.doctor(stack="contoso/core/dev", **options)
    assert not broken["healthy"]
    assert [f["kind"] for f in broken["targets"][0]["findings"]] == ["oidc_not_enabled"]


def test_managed_identities_end_to_end(tmp_path: Path, no_host_credentials: None) -> None:
    """A stack held by a user-assigned managed identity, next to one held by an app:
    the emulator meters identity credential writes at Azure's documented rates, fifty
    times faster, and the run keeps under them at the same scale."""
    with start(tmp_path, "--rate-scale", "50") as e:
        options = {**e.options(), "rate_scale": 50}
        config = {
            "org": "contoso",
            "azure": {"tenant": e.tenant, "subscription": "00000000-0000-4000-8000-000000000001"},
            "managedIdentity": {"resourceGroup": "pulumi-oidc", "location": "westeurope"},
            "deployments": [
                {
                    "project": "core",
                    "stack": "dev",
                    "holder": "managedIdentity",
                    "roles": [
                        {
                            "role": "Contributor",
                            "scope": "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/core",
                        }
                    ],
                },
                {"project": "web", "stack": "dev"},
            ],
        }
        report = oidc.apply(config, **options)
        assert report.applied == len(report.changes) > 0
        state = e.admin("GET", "/_emulator/state")
        [identity] = state["managedIdentities"]
        assert len(identity["federatedIdentityCredentials"]) == 4
        assert len(state["applications"]) == 1
        client = {a.unique_name: a.client_id for a in report.apps}[identity["name"]]
        assert client == identity["clientId"]
        stats = e.admin("GET", "/_emulator/stats")
        assert stats["metered_throttles"] == 0 and stats["concurrent_write_conflicts"] == 0, stats
        assert oidc.status(config, **options).converged
        verified = oidc.verify(config, token=e.mint(), wait=10, **options)
        assert verified.ok and verified.results[0].client_id == client, verified.results
        assert oidc.doctor(stack="contoso/core/dev", **options)["healthy"]
        oidc.destroy(config, **options)
        state = e.admin("GET", "/_emulator/state")
        assert state["managedIdentities"] == [] and state["applications"] == []


def test_async_variants(emulator: Emulator, no_host_credentials: None) -> None:
    async def both() -> List[Any]:
        return list(
            await asyncio.gather(
                oidc.apply_async(emulator.config(), dry_run=True, **emulator.options()),
                oidc.status_async(emulator.config(), **emulator.options()),
            )
        )

    # A loop of its own: asyncio.run would leave the thread without a current loop,
    # which the Pulumi SDK's mocks in later tests expect to find.
    loop = asyncio.new_event_loop()
    try:
        dry, status = loop.run_until_complete(both())
    finally:
        loop.close()
    assert isinstance(dry, oidc.ApplyReport) and dry.dry_run
    assert isinstance(status, oidc.StatusReport) and not status.converged


def test_config_as_dict_and_path(emulator: Emulator, no_host_credentials: None, tmp_path: Path) -> None:
    as_dict = {
        "org": "contoso",
        "azure": {"tenant": emulator.tenant},
        "deployments": [{"project": "core", "stacks": ["dev"]}],
    }
    assert oidc.apply(as_dict, dry_run=True, **emulator.options()).dry_run
    path = tmp_path / "pulumi-azure-oidc.yaml"
    path.write_text(emulator.config(), encoding="utf-8")
    assert not oidc.status(path, **emulator.options()).converged


def test_the_gil_is_released_during_a_run(tmp_path: Path, no_host_credentials: None) -> None:
    with start(tmp_path, "--latency-ms", "200") as emulator:
        counter = [0]
        stop = threading.Event()

        def count() -> None:
            while not stop.is_set():
                counter[0] += 1

        thread = threading.Thread(target=count)
        thread.start()
        try:
            time.sleep(0.05)
            before = counter[0]
            started = time.monotonic()
            report = oidc.status(emulator.config(), **emulator.options())
            elapsed = time.monotonic() - started
            during = counter[0] - before
        finally:
            stop.set()
            thread.join()
        assert not report.converged
        assert elapsed >= 0.4, elapsed  # at least a token and a read, 200 ms each
        # Holding the GIL, the counting thread would stand still for the whole call.
        assert during > 10_000, (during, elapsed)


def test_a_read_only_operator_is_stopped_before_writing_or_gets_api_error_403(
    emulator: Emulator, no_host_credentials: None
) -> None:
    options = emulator.options(*READ_ONLY)
    before = emulator.admin("GET", "/_emulator/state")["applications"]
    with pytest.raises(oidc.InsufficientRightsError) as stopped:
        oidc.apply(emulator.config(), **options)
    assert stopped.value.code == 4008 and "AppRegistration.Create" in str(stopped.value)
    assert "permissions --config" in str(stopped.value)
    assert emulator.admin("GET", "/_emulator/state")["applications"] == before
    # Without the check, Graph refuses the first write itself.
    with pytest.raises(oidc.ApiError) as refused:
        oidc.apply(emulator.config(), skip_rights_check=True, **options)
    e = refused.value
    assert isinstance(e, oidc.OidcError) and e.code == 4002 and e.kind == "service_error"
    assert e.status == 403 and e.service_code
    back = roundtrip(e)
    assert (back.code, back.status, back.service_code) == (4002, 403, e.service_code)
    assert READ_ONLY[1] not in str(e)


def test_a_free_org_gets_api_error_402(emulator: Emulator, no_host_credentials: None) -> None:
    config = emulator.config(org=FREE_ORG)
    with pytest.raises(oidc.ApiError) as refused:
        oidc.apply(config, **emulator.options())
    assert refused.value.status == 402 and refused.value.code == 4002
    assert roundtrip(refused.value).status == 402
    # What was made before the refusal is removed again.
    oidc.destroy(config, **emulator.options())
    assert not [
        a for a in emulator.admin("GET", "/_emulator/state")["applications"] if FREE_ORG in json.dumps(a)
    ]


def test_missing_credentials(emulator: Emulator, no_host_credentials: None) -> None:
    with pytest.raises(oidc.MissingCredentialsError) as missing:
        oidc.apply(
            emulator.config(),
            endpoint=emulator.https,
            ca_file=emulator.ca_file,
            auth="client-secret",
            pulumi_access_token=PULUMI_TOKEN,
        )
    e = missing.value
    assert isinstance(e, oidc.OidcError) and e.code == 4006 and "AZURE_CLIENT_SECRET" in str(e)
    assert roundtrip(e).code == 4006

    with pytest.raises(oidc.MissingCredentialsError) as no_token:
        oidc.verify(client_id=emulator.client_id, tenant_id=emulator.tenant, endpoint=emulator.https)
    assert "PULUMI_OIDC_TOKEN" in str(no_token.value)

    with pytest.raises(oidc.MissingCredentialsError, match="PULUMI_ACCESS_TOKEN"):
        oidc.status(emulator.config(), endpoint=emulator.https, ca_file=emulator.ca_file)


def test_unknown_and_malformed_options_are_input_errors() -> None:
    config = "org: contoso\ndeployments:\n  - project: core\n    stacks: [dev]\n"
    with pytest.raises(oidc.InputError) as unknown:
        oidc.apply(config, dry_runn=True)
    assert unknown.value.code == 1016 and "dry_runn" in str(unknown.value)
    assert isinstance(unknown.value, ValueError)
    with pytest.raises(oidc.InputError):
        oidc.status(config, concurrency="many")
    with pytest.raises(oidc.InputError):
        oidc.status(config, endpoint=object())
    with pytest.raises(oidc.InputError) as bad_config:
        oidc.destroy("org: contoso\nstak: x\n")
    assert "stak" in str(bad_config.value)


def test_provisioning_errors_have_their_codes() -> None:
    codes = oidc.error_codes()
    for cls, code in [
        (oidc.AuthenticationError, 4001),
        (oidc.ApiError, 4002),
        (oidc.RetriesExhaustedError, 4003),
        (oidc.UnreachableError, 4004),
        (oidc.VerificationError, 4005),
        (oidc.MissingCredentialsError, 4006),
        (oidc.InterruptedRunError, 4007),
        (oidc.InsufficientRightsError, 4008),
    ]:
        e = cls("message", code, kind=codes[code]) if cls is not oidc.ApiError else cls("m", code, 503, "x")
        assert issubclass(cls, oidc.OidcError) and not issubclass(cls, ValueError)
        assert roundtrip(e).code == code
