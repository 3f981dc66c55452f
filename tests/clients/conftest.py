"""Microsoft's Python SDK clients (`msgraph-sdk`, `azure-mgmt-authorization`,
`azure-mgmt-msi`, with `azure-identity` for their tokens) and Pulumi's (`pulumi-esc-sdk`, `pulumi-cloud-sdk`,
in test_pulumi_esc_sdk.py) against the emulator binary, unchanged apart from
what a user sets for a private cloud: the endpoints, the token scopes of that cloud,
the trusted CA (`SSL_CERT_FILE` for httpx, `REQUESTS_CA_BUNDLE` for requests) and
instance discovery off.

Besides the default (all-powerful) operator, the emulator runs one operator per suite
with no rights but what the suite grants it (`--operator`, GRANTED_OPERATORS), for the
least-privilege scenarios.

The suite runs in a loopback-only network namespace, so a client that reaches for
anything but the emulator fails instead of quietly talking to Azure; it refuses to run
anywhere else. `cargo xtask python` builds the emulator and runs it that way.
"""

import asyncio
import base64
import json
import os
import sys
import socket
import uuid
from pathlib import Path
from typing import Any, Awaitable, Dict, Iterator, TypeVar

import pytest
from azure.identity import ClientSecretCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from msgraph import GraphServiceClient

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "support"))

from emulator_process import run_emulator  # noqa: E402

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
ARM_SCOPE = "https://management.azure.com/.default"
# The emulator's documented defaults (docs/emulator.md); test values, not secrets.
OPERATOR_SECRET = "emulator-operator-secret"
SUBSCRIPTION_ID = "00000000-0000-4000-8000-000000000001"
PULUMI_ISSUER = "https://api.pulumi.com/oidc"
# Microsoft Graph's application id, the same in every tenant.
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# Operators with no rights but what a test grants them (`--operator`), one per suite so
# the suites' grants do not meet: (client id, secret). Test values, not secrets.
GRANTED_OPERATORS = {
    "msgraph": ("b1111111-2222-4333-8444-555555555501", "granted-msgraph-secret"),
    "arm": ("b1111111-2222-4333-8444-555555555502", "granted-arm-secret"),
    "az": ("b1111111-2222-4333-8444-555555555503", "granted-az-secret"),
    # Runs our CLI with exactly what `permissions` prints for the example config.
    "permissions": ("b1111111-2222-4333-8444-555555555504", "granted-permissions-secret"),
}

NAMESPACE_COMMAND = (
    "unshare --net -- sh -c 'ip link set lo up && exec python -m pytest tests/clients' "
    "(as root, from the repository root), or `cargo xtask python`"
)

T = TypeVar("T")


def run(coroutine: Awaitable[T]) -> T:
    """Run one async scenario to its end (msgraph-sdk is async)."""
    return asyncio.run(coroutine)  # type: ignore[arg-type]


def unique(prefix: str) -> str:
    """A name no other test uses: the tests share one emulator."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"




@pytest.fixture(scope="session", autouse=True)
def loopback_only() -> None:
    # The interfaces of this process's network namespace (sysfs may show the host's).
    interfaces = sorted(name for _, name in socket.if_nameindex())
    if interfaces != ["lo"]:
        pytest.fail(
            f"this suite runs only in a loopback-only network namespace (found {interfaces}): "
            + NAMESPACE_COMMAND
        )


class Emulator:
    def __init__(self, info: Dict[str, str]) -> None:
        self.https = info["https_url"]
        self.graph_url = info["graph_url"]
        self.tenant = info["tenant_id"]
        self.client_id = info["client_id"]
        self.ca_file = info["ca_file"]
        self.credential = ClientSecretCredential(
            self.tenant,
            self.client_id,
            OPERATOR_SECRET,
            authority=self.https,
            # MSAL would ask login.microsoftonline.com whether this authority is known.
            disable_instance_discovery=True,
        )

    def credential_for(self, suite: str) -> ClientSecretCredential:
        """The credential of the granted operator of `suite` (see GRANTED_OPERATORS). A new
        credential has no cached token, so its first token carries what is granted now."""
        client_id, secret = GRANTED_OPERATORS[suite]
        return ClientSecretCredential(
            self.tenant,
            client_id,
            secret,
            authority=self.https,
            disable_instance_discovery=True,
        )

    def graph(self, credential: Any = None) -> GraphServiceClient:
        """A Graph client for the current event loop, as the default operator unless
        another credential is given. The scope is the cloud's Graph resource: without it
        the SDK derives one from the host (`https://127.0.0.1/.default`), which Entra
        would refuse as it refuses any unknown resource."""
        client = GraphServiceClient(credential or self.credential, scopes=[GRAPH_SCOPE])
        client.request_adapter.base_url = self.graph_url
        return client

    def arm(self, credential: Any = None) -> AuthorizationManagementClient:
        return AuthorizationManagementClient(
            credential or self.credential,
            SUBSCRIPTION_ID,
            base_url=self.https,
            credential_scopes=[ARM_SCOPE],
        )

    def msi(self) -> ManagedServiceIdentityClient:
        """ARM's managed identity client, set up like the others for a private cloud."""
        return ManagedServiceIdentityClient(
            self.credential,
            SUBSCRIPTION_ID,
            base_url=self.https,
            credential_scopes=[ARM_SCOPE],
        )


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """The emulator binary on free ports (port 0), its CA trusted through the variables
    the SDKs' HTTP stacks read; stopped with SIGTERM afterwards, which must end it cleanly.

    Managed identity credential writes run at a thousand times Azure's documented rates
    (else twenty credentials on one identity take 80 s of waiting) and each takes 150 ms,
    so that writes the suites send together overlap and meet Azure's 409; the documented
    rates themselves are checked with an emulator of their own (test_azure_mgmt_msi.py)."""
    tmp = tmp_path_factory.mktemp("emulator")
    saved = {k: os.environ.get(k) for k in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")}
    with run_emulator(
        tmp,
        "--port",
        "0",
        "--https-port",
        "0",
        "--rate-scale",
        "1000",
        "--identity-credential-write-ms",
        "150",
        *[arg for client_id, secret in GRANTED_OPERATORS.values() for arg in ("--operator", f"{client_id}:{secret}")],
    ) as info:
        try:
            os.environ["SSL_CERT_FILE"] = info["ca_file"]
            os.environ["REQUESTS_CA_BUNDLE"] = info["ca_file"]
            yield Emulator(info)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def token_claims(token: str) -> Dict[str, Any]:
    """The payload of a JWT access token, unverified (what a client may read of it)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def odata_error_parts(error: Any) -> Dict[str, Any]:
    """What a caller of msgraph-sdk reads of a Graph error."""
    return {
        "status": error.response_status_code,
        "code": error.error.code,
        "message": error.error.message,
    }
