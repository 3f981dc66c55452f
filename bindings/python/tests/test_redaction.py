"""No secret ever leaves the Python face (DESIGN.md §4 "Secrets").

The emulator binary is started with marker values for the operator's client secret
and the Pulumi access token; the calls are made with those, with WRONG marker values,
and with OIDC tokens whose signature segment (or whole text) is a marker. Everything
the caller can see is collected: str, repr, args, every attribute and the pickle of
raised exceptions (and their causes), repr and every attribute of returned reports,
warnings, log records (root logger at DEBUG) and whatever reaches fds 1 and 2. No
marker, no raw compact token, no signature segment and no emulator-issued Azure
access token (a JWT, recognised by its header segment) may appear in any of it. A diagnosed or verified
token is shown by its claims only.

Mirrors the CLI's test in crates/cli/tests/provision.rs (`MARKER-...` constants).
"""

import base64
import json
import logging
import pickle
import traceback
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator, List, Set

import pytest
from conftest import run_emulator, unsigned_token
from test_provision import TARGET, Emulator

import pulumi_azure_oidc as oidc

CLIENT_SECRET = "MARKER-client-secret-5e1d"
WRONG_SECRET = "MARKER-wrong-secret-a7c2"
PULUMI_TOKEN = "MARKER-pulumi-token-3b9f"
WRONG_PULUMI_TOKEN = "MARKER-wrong-pulumi-token-d40e"
SIGNATURE = "MARKER-signature-c81a"
MALFORMED = "MARKER-malformed-token-62f7"
MARKERS = [CLIENT_SECRET, WRONG_SECRET, PULUMI_TOKEN, WRONG_PULUMI_TOKEN, SIGNATURE, MALFORMED]
# The prefix of the Azure access tokens the emulator issues (crates/emulator/src/server.rs).
# The first segment of every JWT the emulator signs: its Azure access tokens (and the
# OIDC tokens it mints) all start with it.
AZURE_TOKEN_PREFIX = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImVtdWxhdG9yLWtleS0xIn0"


class Seen:
    """Everything a caller could read, as text."""

    def __init__(self) -> None:
        self.texts: List[str] = []
        self._visited: Set[int] = set()

    def add(self, value: Any, depth: int = 0) -> None:
        if depth > 8 or id(value) in self._visited:
            return
        if isinstance(value, (bool, int, float, type(None))):
            return
        if isinstance(value, str):
            self.texts.append(value)
            return
        if isinstance(value, bytes):
            self.texts.append(value.decode("latin-1"))
            return
        self._visited.add(id(value))
        self.texts.append(repr(value))
        self.texts.append(str(value))
        if isinstance(value, dict):
            for k, v in value.items():
                self.add(k, depth + 1)
                self.add(v, depth + 1)
            return
        if isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                self.add(item, depth + 1)
            return
        if isinstance(value, BaseException):
            self.exception(value, depth)
            return
        # A report object: every public attribute, and to_dict().
        for name in dir(value):
            if name.startswith("_"):
                continue
            attr = getattr(value, name)
            if name == "to_dict":
                self.add(attr(), depth + 1)
            elif not callable(attr):
                self.add(attr, depth + 1)

    def exception(self, e: BaseException, depth: int = 0) -> None:
        self.texts.append(str(e))
        self.texts.append(repr(e))
        self.texts.extend(traceback.format_exception_only(type(e), e))
        self.add(e.args, depth + 1)
        self.add(dict(vars(e)), depth + 1)
        for name in dir(e):
            if not name.startswith("_") and name not in ("args", "with_traceback", "add_note"):
                self.add(getattr(e, name), depth + 1)
        self.texts.append(pickle.dumps(e).decode("latin-1"))
        for chained in (e.__cause__, e.__context__):
            if chained is not None:
                self.add(chained, depth + 1)

    def raises(self, cls: type, call: Callable[[], Any]) -> BaseException:
        with pytest.raises(cls) as raised:  # type: ignore[call-overload]
            call()
        self.add(raised.value)
        return raised.value

    def returns(self, call: Callable[[], Any]) -> Any:
        value = call()
        self.add(value)
        return value

    def check(self, secrets: List[str], *extra: str) -> None:
        everything = "\n".join([*self.texts, *extra])
        for secret in secrets:
            assert secret not in everything, f"`{secret}` leaked:\n{everything}"


def signature_of(token: str) -> str:
    return token.rsplit(".", 1)[1]


def with_signature(token: str, signature: str) -> str:
    header, payload, _ = token.split(".")
    return f"{header}.{payload}.{signature}"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with run_emulator(
        tmp_path_factory.mktemp("emulator"),
        "--client-secret",
        CLIENT_SECRET,
        "--pulumi-token",
        PULUMI_TOKEN,
    ) as info:
        yield Emulator(info)


@pytest.fixture
def quiet_host(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AZURE_*/PULUMI_* variables and no Pulumi CLI login of the host's."""
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


@pytest.fixture
def seen(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Iterator[Seen]:
    """A collector; at the end of the test it also holds the log records at DEBUG,
    the warnings, and what was written to fds 1 and 2."""
    caplog.set_level(logging.DEBUG)  # the root logger
    collected = Seen()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield collected
    for w in caught:
        collected.add(str(w.message))
    collected.add(caplog.text)
    collected.add([r.getMessage() for r in caplog.records])
    out, err = capfd.readouterr()
    collected.add(out)
    collected.add(err)
    collected.check(MARKERS, AZURE_TOKEN_PREFIX)


def options(emulator: Emulator, secret: str = CLIENT_SECRET, pulumi_token: str = PULUMI_TOKEN) -> dict:  # type: ignore[type-arg]
    return {
        **emulator.options(secret=secret),
        "pulumi_access_token": pulumi_token,
    }


def test_markers_are_what_the_emulator_accepts(emulator: Emulator, quiet_host: None, seen: Seen) -> None:
    # The right secrets work, so the refusals below are about the wrong ones.
    status = seen.returns(lambda: oidc.status(emulator.config(), **options(emulator)))
    assert isinstance(status, oidc.StatusReport)


def test_apply_status_verify_destroy(emulator: Emulator, quiet_host: None, seen: Seen) -> None:
    config = emulator.config()
    good = options(emulator)
    wrong_secret = options(emulator, secret=WRONG_SECRET)
    wrong_pulumi = options(emulator, pulumi_token=WRONG_PULUMI_TOKEN)

    seen.returns(lambda: oidc.apply(config, dry_run=True, **good))
    report = seen.returns(lambda: oidc.apply(config, **good))
    [app] = report.apps
    assert seen.returns(lambda: oidc.status(config, **good)).converged

    # A refused client secret: an authentication error naming the AADSTS code.
    for call in (
        lambda: oidc.apply(config, **wrong_secret),
        lambda: oidc.apply(config, dry_run=True, **wrong_secret),
        lambda: oidc.status(config, **wrong_secret),
        lambda: oidc.destroy(config, **wrong_secret),
        lambda: oidc.verify(config, token=emulator.mint(), wait=0, **wrong_secret),
    ):
        e = seen.raises(oidc.AuthenticationError, call)
        assert "AADSTS7000215" in str(e), str(e)
    # A refused Pulumi access token: Pulumi Cloud's 401.
    for call in (
        lambda: oidc.apply(config, **wrong_pulumi),
        lambda: oidc.status(config, **wrong_pulumi),
        lambda: oidc.destroy(config, **wrong_pulumi),
    ):
        refused = seen.raises(oidc.ApiError, call)
        assert getattr(refused, "status", None) == 401, str(refused)

    # Secrets of the wrong shape are refused without being echoed.
    seen.raises(oidc.InputError, lambda: oidc.status(config, **{**good, "azure_client_secret": [WRONG_SECRET]}))
    seen.raises(oidc.InputError, lambda: oidc.status(config, **{**good, "pulumi_access_token": {"t": PULUMI_TOKEN}}))
    seen.raises(oidc.InputError, lambda: oidc.status(config, **{**good, "azure_client_secret": WRONG_SECRET.encode()}))
    seen.raises(oidc.InputError, lambda: oidc.status(config, **good, azure_client_secrett=CLIENT_SECRET))

    # verify: an accepted token, a refused one (wrong audience), a forged signature,
    # and a malformed token; with the config's apps and with a client id alone.
    token = emulator.mint()
    refused_token = emulator.mint(audience="azure:contoso")
    forged = with_signature(emulator.mint(), SIGNATURE)
    tokens = [token, refused_token, forged]
    verified = seen.returns(lambda: oidc.verify(config, token=token, wait=10, **good))
    assert verified.ok and verified.claims.subject == (
        "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write"
    )
    wrong = seen.returns(lambda: oidc.verify(config, token=refused_token, wait=0, **good))
    assert not wrong.ok and wrong.results[0].aadsts == 700212
    for t in (refused_token, forged):
        direct = seen.returns(
            lambda: oidc.verify(token=t, client_id=app.client_id, tenant_id=emulator.tenant, wait=0, **good)
        )
        assert not direct.ok
    forged_report = seen.returns(lambda: oidc.verify(config, token=forged, wait=0, **good))
    assert not forged_report.ok and forged_report.claims.subject  # shown by its claims
    seen.raises(oidc.InputError, lambda: oidc.verify(config, token=MALFORMED, wait=0, **good))
    seen.raises(oidc.InputError, lambda: oidc.verify(config, token=f"{MALFORMED}.{MALFORMED}.{SIGNATURE}", **good))

    destroyed = seen.returns(lambda: oidc.destroy(config, **good))
    assert destroyed.removed
    seen.check([*tokens, *(signature_of(t) for t in tokens)])


def test_async_variants_with_wrong_secrets(emulator: Emulator, quiet_host: None, seen: Seen) -> None:
    import asyncio

    config = emulator.config()
    loop = asyncio.new_event_loop()
    try:
        for coroutine, cls in (
            (oidc.status_async(config, **options(emulator, secret=WRONG_SECRET)), oidc.AuthenticationError),
            (oidc.apply_async(config, **options(emulator, pulumi_token=WRONG_PULUMI_TOKEN)), oidc.ApiError),
        ):
            seen.raises(cls, lambda: loop.run_until_complete(coroutine))
    finally:
        loop.close()


def test_diagnose_token_shows_claims_only(seen: Seen) -> None:
    claims = {
        "iss": "https://api.pulumi.com/oidc",
        "sub": "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write",
        "aud": "contoso",
        "exp": 1767229200,
        "iat": 1767225600,
    }
    token = with_signature(unsigned_token(claims), SIGNATURE)
    credentials = oidc.deployment_credentials("contoso", "core", "dev")
    for args in ((token,), (token, credentials), (f"Bearer {token}", credentials)):
        diagnosis = seen.returns(lambda: oidc.diagnose_token(*args, now=1767225700))
        assert diagnosis.claims.subject == claims["sub"] and not diagnosis.verified
    # A token that is not one: its text is never echoed.
    for text in (
        MALFORMED,
        f"{MALFORMED}.{MALFORMED}",
        f"{MALFORMED}.{MALFORMED}.{SIGNATURE}",
        f"a.{MALFORMED}.{SIGNATURE}",
        f"{token.split('.')[0]}.{MALFORMED}.{SIGNATURE}",
        f"{MALFORMED}.{MALFORMED}.{MALFORMED}.{MALFORMED}.{SIGNATURE}",
        f"{base64.urlsafe_b64encode(json.dumps(MALFORMED).encode()).decode()}.e30.{SIGNATURE}",
    ):
        seen.raises(oidc.InputError, lambda: oidc.diagnose_token(text))
    seen.check([token, token.split(".", 1)[1]])
