"""The requests Pulumi's own `pulumi-pulumiservice` provider sends for its
`DeploymentSettings` and `Environment` resources, replayed byte for byte against the
emulator: a Pulumi program that manages these resources must find the emulator
answering as Pulumi Cloud does. The provider is a Go plugin, so its HTTP is replayed
here from its source rather than run:

- `provider/pkg/pulumiapi/client.go`: every request carries `X-Pulumi-Source:
  provider`, `Accept: application/vnd.pulumi+8`, `Content-Type: application/json` and
  `Authorization: token …`; a 2xx body is decoded as JSON into the result (so an
  empty body on PUT would fail the resource), anything else as an `ErrorResponse`.
- `provider/pkg/pulumiapi/deployment_settings.go`: Create and Update both PUT the
  whole settings object to `/api/stacks/{org}/{project}/{stack}/deployments/settings`;
  Read is a GET whose 404 means "gone"; Delete is a DELETE. The Go struct's JSON
  names are kept as written there, including `PreRunCommands` and `repoURL`.
- `provider/pkg/resources/environment.go` with pulumi/esc `cmd/esc/cli/client/client.go`:
  Create = `POST …/yaml/check?showSecrets=false` (the YAML as the body, labelled JSON),
  `POST /api/esc/environments/{org}` with `{"project","name"}`, then `PATCH` with the
  YAML, whose `Pulumi-ESC-Revision` answer header must parse as an integer; Read = GET,
  reading `ETag` and `Pulumi-ESC-Revision`; an update with a known etag sends it as
  `ETag`; Delete = DELETE.
- `provider/pkg/pulumiapi/environments.go`: `GET …/{env}/metadata` for the
  environment's UUID, 404 meaning "no such environment".
"""

import json
import ssl
import urllib.error
import urllib.request
from typing import Any, Dict, Optional, Tuple

from conftest import Emulator, unique

PULUMI_TOKEN = "pul-emulator-access-token"  # the emulator's default; a test value
ORG = "contoso"


class Provider:
    def __init__(self, emulator: Emulator) -> None:
        self.base = emulator.https
        self.tls = ssl.create_default_context(cafile=emulator.ca_file)

    def call(
        self,
        method: str,
        path: str,
        body: Optional[bytes] = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> Tuple[int, Dict[str, str], bytes]:
        request = urllib.request.Request(self.base + path, data=body, method=method)
        request.add_header("X-Pulumi-Source", "provider")
        request.add_header("Accept", "application/vnd.pulumi+8")
        request.add_header("Content-Type", "application/json")
        request.add_header("Authorization", f"token {PULUMI_TOKEN}")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, context=self.tls, timeout=30) as response:
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers.items()), error.read()

    def json(self, method: str, path: str, body: Any = None) -> Tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        status, _, raw = self.call(method, path, data)
        # The provider decodes every answer body as JSON; an empty 2xx body is an error.
        return status, json.loads(raw)


def error_response(raw: bytes) -> Dict[str, Any]:
    """The provider's `ErrorResponse`: `code` (or the status) and `message`."""
    parsed = json.loads(raw)
    assert isinstance(parsed.get("message"), str) and parsed["message"], parsed
    return parsed


def test_deployment_settings_as_the_provider_manages_them(emulator: Emulator) -> None:
    provider = Provider(emulator)
    stack = unique("provider")
    path = f"/api/stacks/{ORG}/infra/{stack}/deployments/settings"

    status, _, raw = provider.call("GET", path)
    assert status == 404  # Read: not found means the resource is gone
    error_response(raw)

    created = {
        "operationContext": {
            "PreRunCommands": ["echo hello"],
            "environmentVariables": {"REGION": "westeurope"},
            "oidc": {
                "azure": {
                    "clientId": "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
                    "tenantId": "6f2c1d4e-8a3b-4c5d-9e0f-1a2b3c4d5e6f",
                    "subscriptionId": "00000000-0000-4000-8000-000000000001",
                }
            },
        },
        "sourceContext": {
            "git": {"repoURL": "https://github.com/contoso/infra.git", "branch": "refs/heads/main"}
        },
    }
    status, answer = provider.json("PUT", path, created)  # Create
    assert status == 200, answer
    assert answer["operationContext"]["oidc"]["azure"]["clientId"] == (
        "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
    )

    status, read = provider.json("GET", path)  # Read
    assert status == 200
    assert read["operationContext"]["oidc"] == created["operationContext"]["oidc"]
    assert read["sourceContext"]["git"]["branch"] == "refs/heads/main"

    # Update PUTs the whole object: what it leaves out is gone afterwards.
    updated = {"operationContext": created["operationContext"]}
    status, answer = provider.json("PUT", path, updated)
    assert status == 200, answer
    status, read = provider.json("GET", path)
    assert "sourceContext" not in read or not read["sourceContext"], read
    assert read["operationContext"]["oidc"] == created["operationContext"]["oidc"]

    status, _, _ = provider.call("DELETE", path)  # Delete
    assert 200 <= status < 300
    status, _, _ = provider.call("GET", path)
    assert status == 404


AZURE_LOGIN_YAML = """values:
  azure:
    login:
      fn::open::azure-login:
        clientId: 0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9
        tenantId: 6f2c1d4e-8a3b-4c5d-9e0f-1a2b3c4d5e6f
        subscriptionId: 00000000-0000-4000-8000-000000000001
        oidc: true
"""


def revision(headers: Dict[str, str]) -> int:
    """`strconv.Atoi(resp.Header.Get("Pulumi-ESC-Revision"))`: absent or not a number
    fails the provider's Create, Update and Read."""
    value = {k.lower(): v for k, v in headers.items()}.get("pulumi-esc-revision", "")
    return int(value)


def etag(headers: Dict[str, str]) -> str:
    return {k.lower(): v for k, v in headers.items()}.get("etag", "")


def test_environment_as_the_provider_manages_it(emulator: Emulator) -> None:
    provider = Provider(emulator)
    project, name = "azure", unique("provider-env")
    path = f"/api/esc/environments/{ORG}/{project}/{name}"

    # Create: check, create, then write the YAML.
    status, _, raw = provider.call(
        "POST", f"/api/esc/environments/{ORG}/yaml/check?showSecrets=false", AZURE_LOGIN_YAML.encode()
    )
    assert status == 200, raw
    assert json.loads(raw).get("diagnostics") in (None, [])
    status, _, raw = provider.call(
        "POST",
        f"/api/esc/environments/{ORG}",
        json.dumps({"project": project, "name": name}).encode(),
    )
    assert 200 <= status < 300, raw
    status, headers, raw = provider.call("PATCH", path, AZURE_LOGIN_YAML.encode())
    assert status == 200, raw
    created_revision = revision(headers)
    assert created_revision >= 2  # the create made revision 1, the YAML the next

    # The metadata the provider reads for the environment's UUID.
    status, _, raw = provider.call("GET", path + "/metadata")
    assert status == 200, raw
    metadata = json.loads(raw)
    assert len(metadata["id"]) == 36 and metadata["id"].count("-") == 4
    assert metadata["ownedBy"]["githubLogin"]
    listed = json.loads(provider.call("GET", f"/api/esc/environments/{ORG}")[2])
    assert metadata["id"] in [e.get("id") for e in listed["environments"]]

    # Read: the YAML, its etag and its revision.
    status, headers, raw = provider.call("GET", path)
    assert status == 200
    assert raw.decode().strip() == AZURE_LOGIN_YAML.strip()
    assert revision(headers) == created_revision
    tag = etag(headers)
    assert tag

    # Update with the etag just read, then a stale one: 409 in the ErrorResponse shape.
    changed = AZURE_LOGIN_YAML + "  region: westeurope\n"
    status, headers, raw = provider.call("PATCH", path, changed.encode(), {"ETag": tag})
    assert status == 200, raw
    assert revision(headers) == created_revision + 1
    status, _, raw = provider.call("PATCH", path, AZURE_LOGIN_YAML.encode(), {"ETag": tag})
    assert status == 409
    error_response(raw)

    # An invalid definition comes back as diagnostics, which the provider reports.
    status, _, raw = provider.call(
        "POST", f"/api/esc/environments/{ORG}/yaml/check?showSecrets=false", b"values: [unclosed"
    )
    assert status == 400
    assert json.loads(raw)["diagnostics"]

    status, _, _ = provider.call("DELETE", path)
    assert 200 <= status < 300
    status, _, raw = provider.call("GET", path + "/metadata")
    assert status == 404  # GetEnvironmentMetadata: (nil, nil)
    error_response(raw)
