"""Microsoft's Python `azure-identity` against the emulator binary, unchanged apart
from the authority (the emulator's https URL) and the trusted CA (`connection_verify`).

The emulator binary comes from the Cargo target directory (`cargo xtask test` builds
the workspace before the Python suite); these tests fail, not skip, when it is missing.
"""

import json
import ssl
import urllib.error
import urllib.request
from typing import Any, Dict, Iterator, Optional

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientAssertionCredential, ClientSecretCredential
from conftest import run_emulator
from pulumi_azure_oidc import diagnose_error

GRAPH = "https://graph.microsoft.com/.default"
ARM = "https://management.azure.com/.default"
PULUMI_ISSUER = "https://api.pulumi.com/oidc"
SUBJECT = "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write"
# The emulator's documented defaults (crates/emulator, `--help`); test values, not secrets.
OPERATOR_SECRET = "emulator-operator-secret"


class Emulator:
    def __init__(self, info: Dict[str, str]) -> None:
        self.info = info
        self.https = info["https_url"]
        self.http = info["http_url"]
        self.tenant = info["tenant_id"]
        self.client_id = info["client_id"]
        self.ca_file = info["ca_file"]
        self.tls = ssl.create_default_context(cafile=self.ca_file)

    def call(
        self,
        method: str,
        url: str,
        body: Optional[Any] = None,
        token: Optional[str] = None,
    ) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        context = self.tls if url.startswith("https:") else None
        with urllib.request.urlopen(request, context=context, timeout=20) as response:
            text = response.read().decode()
            return json.loads(text) if text else None

    def mint(self, **fields: Any) -> str:
        body = {
            "target": {"kind": "deployment", "org": "contoso", "project": "core", "stack": "dev"},
            "operation": "update",
            **fields,
        }
        token: str = self.call("POST", f"{self.http}/_emulator/mint", body)["token"]
        return token


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with run_emulator(tmp_path_factory.mktemp("emulator")) as info:
        yield Emulator(info)


def operator_credential(emulator: Emulator, secret: str = OPERATOR_SECRET) -> ClientSecretCredential:
    # ClientSecretCredential goes through MSAL, which reads the tenant's OpenID
    # configuration first; instance discovery would ask login.microsoftonline.com
    # whether the emulator's host is a known authority, so it is turned off.
    return ClientSecretCredential(
        emulator.tenant,
        emulator.client_id,
        secret,
        authority=emulator.https,
        disable_instance_discovery=True,
        connection_verify=emulator.ca_file,
    )


def federated_app(emulator: Emulator) -> str:
    """An app, its service principal and a Deployments credential; returns the client id."""
    graph = operator_credential(emulator).get_token(GRAPH).token
    app = emulator.call(
        "POST",
        f"{emulator.https}/v1.0/applications",
        {"displayName": "python-azure-identity", "signInAudience": "AzureADMyOrg"},
        graph,
    )
    emulator.call("POST", f"{emulator.https}/v1.0/servicePrincipals", {"appId": app["appId"]}, graph)
    emulator.call(
        "POST",
        f"{emulator.https}/v1.0/applications/{app['id']}/federatedIdentityCredentials",
        {"name": "deploy-update", "issuer": PULUMI_ISSUER, "subject": SUBJECT, "audiences": ["contoso"]},
        graph,
    )
    client_id: str = app["appId"]
    return client_id


def assertion_credential(emulator: Emulator, client_id: str, token: str) -> ClientAssertionCredential:
    return ClientAssertionCredential(
        emulator.tenant,
        client_id,
        lambda: token,
        authority=emulator.https,
        connection_verify=emulator.ca_file,
    )


def list_role_assignments(emulator: Emulator, token: str) -> Any:
    url = (
        f"{emulator.https}/subscriptions/00000000-0000-4000-8000-000000000001"
        "/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01"
    )
    return emulator.call("GET", url, token=token)


def test_client_secret_credential_gets_graph_and_arm_tokens(emulator: Emulator) -> None:
    credential = operator_credential(emulator)
    graph = credential.get_token(GRAPH)
    listed = emulator.call("GET", f"{emulator.https}/v1.0/applications", token=graph.token)
    assert "value" in listed
    arm = credential.get_token(ARM)
    assert "value" in list_role_assignments(emulator, arm.token)
    # An ARM token is refused by Graph, as Azure refuses it.
    with pytest.raises(urllib.error.HTTPError) as refused:
        emulator.call("GET", f"{emulator.https}/v1.0/applications", token=arm.token)
    assert refused.value.code == 401


def test_client_secret_credential_wrong_secret_names_the_aadsts_code(emulator: Emulator) -> None:
    with pytest.raises(ClientAuthenticationError) as failed:
        operator_credential(emulator, secret="wrong").get_token(GRAPH)
    assert "AADSTS7000215" in str(failed.value)


def test_client_assertion_credential_exchanges_a_pulumi_token(emulator: Emulator) -> None:
    client_id = federated_app(emulator)
    credential = assertion_credential(emulator, client_id, emulator.mint())
    arm = credential.get_token(ARM)
    assert arm.expires_on > 0
    assert "value" in list_role_assignments(emulator, arm.token)

    # One field changed: the AADSTS code reaches the caller, and the core diagnoses it.
    cases: Dict[str, Dict[str, Any]] = {
        "AADSTS700212": {"audience": "azure:contoso"},
        "AADSTS700213": {"operation": "preview"},
        "AADSTS700024": {"expires_in_secs": -3600},
        "AADSTS7000272": {"foreign_key": True},
    }
    for code, fields in cases.items():
        bad = assertion_credential(emulator, client_id, emulator.mint(**fields))
        with pytest.raises(ClientAuthenticationError) as failed:
            bad.get_token(ARM)
        assert code in str(failed.value), (code, str(failed.value))
        assert f"AADSTS{diagnose_error(str(failed.value)).code}" == code


def test_an_unknown_client_id_is_700016(emulator: Emulator) -> None:
    credential = assertion_credential(emulator, "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b", emulator.mint())
    with pytest.raises(ClientAuthenticationError) as failed:
        credential.get_token(ARM)
    assert "AADSTS700016" in str(failed.value)


def test_a_plain_http_authority_is_refused(emulator: Emulator) -> None:
    # Why the emulator serves HTTPS at all: the SDK will not talk to http authorities.
    with pytest.raises(ValueError):
        ClientAssertionCredential(emulator.tenant, "x", lambda: "t", authority=emulator.http)
