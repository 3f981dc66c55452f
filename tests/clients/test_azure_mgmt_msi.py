"""`azure-mgmt-msi` 7.1.0 (ARM's Python SDK for managed identities, api-version
2024-11-30) against the emulator's ARM, set up as for any private cloud
(`ManagedServiceIdentityClient(credential, subscription, base_url=…,
credential_scopes=[…])`): user-assigned identities created, read, listed, updated and
deleted; their federated credentials created, read, listed page by page and deleted;
the 21st credential and a concurrent credential write refused as `HttpResponseError`s
with ARM's codes; and the documented throttle, whose fractional `Retry-After` the SDK's
retry policy (azure-core's `parse_retry_after`, a float) honours on its own."""

import concurrent.futures
import json
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Union

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.msi.models import FederatedIdentityCredential, Identity, IdentityUpdate
from conftest import PULUMI_ISSUER, SUBSCRIPTION_ID, Emulator, run, unique
from emulator_process import run_emulator

SUBJECT = "pulumi:deploy:org:contoso:project:core:stack:dev:operation:{op}:scope:write"
CONCURRENT = "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity"


def credential(subject: str, audience: str = "contoso") -> FederatedIdentityCredential:
    return FederatedIdentityCredential(issuer=PULUMI_ISSUER, subject=subject, audiences=[audience])


def test_identity_and_credentials_lifecycle(emulator: Emulator) -> None:
    msi = emulator.msi()
    rg, name = unique("rg-msi"), unique("uami")
    created = msi.user_assigned_identities.create_or_update(
        rg, name, Identity(location="westeurope", tags={"owner": "clients"})
    )
    expected_id = (
        f"/subscriptions/{SUBSCRIPTION_ID}/resourcegroups/{rg}"
        f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    )
    assert (created.id, created.name, created.type, created.location) == (
        expected_id,
        name,
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "westeurope",
    )
    assert created.tenant_id == emulator.tenant
    assert created.client_id and created.principal_id and created.client_id != created.principal_id
    assert created.isolation_scope == "None"
    assert created.tags == {"owner": "clients"}

    got = msi.user_assigned_identities.get(rg, name)
    assert (got.id, got.client_id, got.principal_id) == (
        created.id,
        created.client_id,
        created.principal_id,
    )
    assert [i.name for i in msi.user_assigned_identities.list_by_resource_group(rg)] == [name]
    assert name in {i.name for i in msi.user_assigned_identities.list_by_subscription()}
    updated = msi.user_assigned_identities.update(rg, name, IdentityUpdate(tags={"team": "a"}))
    assert updated.tags == {"team": "a"}

    # Its service principal, as Graph serves it to msgraph-sdk.
    async def principal() -> Any:
        return await emulator.graph().service_principals_with_app_id(created.client_id).get()

    sp = run(principal())
    assert sp is not None
    assert (sp.id, sp.service_principal_type) == (created.principal_id, "ManagedIdentity")
    assert expected_id in (sp.alternative_names or [])

    fics = msi.federated_identity_credentials
    made = fics.create_or_update(rg, name, "deploy-update", credential(SUBJECT.format(op="update")))
    assert (made.name, made.issuer, made.subject, made.audiences) == (
        "deploy-update",
        PULUMI_ISSUER,
        SUBJECT.format(op="update"),
        ["contoso"],
    )
    assert made.id == f"{expected_id}/federatedIdentityCredentials/deploy-update"
    assert made.type == "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
    assert fics.get(rg, name, "deploy-update").subject == made.subject
    fics.create_or_update(rg, name, "deploy-preview", credential(SUBJECT.format(op="preview")))
    assert [c.name for c in fics.list(rg, name)] == ["deploy-update", "deploy-preview"]
    # A repeated issuer and subject is refused, under any name.
    with pytest.raises(HttpResponseError) as refused:
        fics.create_or_update(rg, name, "again", credential(SUBJECT.format(op="update"), "other"))
    assert (refused.value.status_code, refused.value.error.code) == (400, "BadRequest")
    assert "Issuer and subject combination already exists" in refused.value.error.message

    fics.delete(rg, name, "deploy-update")
    fics.delete(rg, name, "deploy-update")  # already gone: 204, not an error
    assert [c.name for c in fics.list(rg, name)] == ["deploy-preview"]
    with pytest.raises(ResourceNotFoundError):
        fics.get(rg, name, "deploy-update")

    msi.user_assigned_identities.delete(rg, name)
    with pytest.raises(ResourceNotFoundError) as gone:
        msi.user_assigned_identities.get(rg, name)
    assert gone.value.error.code == "ResourceNotFound"
    with pytest.raises(HttpResponseError) as parent:
        list(fics.list(rg, name))
    assert (parent.value.status_code, parent.value.error.code) == (404, "ParentResourceNotFound")


def test_twenty_credentials_page_and_the_21st_is_refused(emulator: Emulator) -> None:
    msi = emulator.msi()
    rg, name = unique("rg-msi"), unique("uami")
    msi.user_assigned_identities.create_or_update(rg, name, Identity(location="eastus"))
    fics = msi.federated_identity_credentials
    for i in range(20):
        fics.create_or_update(rg, name, f"fic-{i:02}", credential(f"subject-{i}"))
    # The SDK follows nextLink until the last page.
    listed = [c.name for c in fics.list(rg, name, top=6)]
    assert listed == [f"fic-{i:02}" for i in range(20)]
    with pytest.raises(HttpResponseError) as refused:
        fics.create_or_update(rg, name, "fic-20", credential("subject-20"))
    assert (refused.value.status_code, refused.value.error.code) == (400, "BadRequest")
    # An update of one of the twenty is no 21st.
    assert fics.create_or_update(rg, name, "fic-00", credential("subject-00b")).subject == "subject-00b"
    msi.user_assigned_identities.delete(rg, name)


def test_concurrent_credential_writes_are_refused_with_409(emulator: Emulator) -> None:
    msi = emulator.msi()
    rg, name = unique("rg-msi"), unique("uami")
    msi.user_assigned_identities.create_or_update(rg, name, Identity(location="eastus"))
    list(msi.federated_identity_credentials.list(rg, name))  # the token is cached from here
    writers = 3
    start = threading.Barrier(writers)
    clients = [emulator.msi() for _ in range(writers)]

    def write(i: int) -> Union[str, HttpResponseError]:
        start.wait()
        try:
            made = clients[i].federated_identity_credentials.create_or_update(
                rg, name, f"concurrent-{i}", credential(f"concurrent-{i}")
            )
            return made.name
        except HttpResponseError as e:
            return e

    with concurrent.futures.ThreadPoolExecutor(writers) as pool:
        results = list(pool.map(write, range(writers)))
    made = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, HttpResponseError)]
    assert made and refused, results
    for e in refused:
        # azure-core does not retry a 409: it surfaces with ARM's code and message.
        assert (e.status_code, e.error.code) == (409, CONCURRENT), e
        assert "Concurrent Federated Identity Credentials writes" in e.error.message
    # Only what was admitted exists; one at a time, every write goes through.
    assert sorted(c.name for c in msi.federated_identity_credentials.list(rg, name)) == sorted(made)
    for i in range(writers, writers + 2):
        msi.federated_identity_credentials.create_or_update(rg, name, f"serial-{i}", credential(f"serial-{i}"))
    msi.user_assigned_identities.delete(rg, name)


def stats(https: str) -> Dict[str, Any]:
    with urllib.request.urlopen(https + "/_emulator/stats", timeout=30) as response:
        return json.loads(response.read())


def test_the_documented_throttle_and_a_fractional_retry_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An emulator of its own at eight times the documented rates: one credential write
    per identity per 500 ms. The second write right after the first gets 429 with a
    fractional Retry-After (about 0.48 s); the SDK waits that long and retries, and the
    caller sees only success."""
    with run_emulator(tmp_path, "--rate-scale", "8", "--identity-credential-write-ms", "0") as info:
        monkeypatch.setenv("SSL_CERT_FILE", info["ca_file"])
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", info["ca_file"])
        own = Emulator(info)
        msi = own.msi()
        rg, name = "rg-paced", "uami-paced"
        msi.user_assigned_identities.create_or_update(rg, name, Identity(location="eastus"))
        fics = msi.federated_identity_credentials
        fics.create_or_update(rg, name, "first", credential("first"))
        started = time.monotonic()
        second = fics.create_or_update(rg, name, "second", credential("second"))
        waited = time.monotonic() - started
        assert second.name == "second"
        counters = stats(own.https)
        assert counters["metered_throttles"] == 1, counters
        assert (counters["honoured_retries"], counters["early_retries"]) == (1, 0), counters
        assert waited < 5, waited
        names: List[str] = [c.name for c in fics.list(rg, name)]
        assert names == ["first", "second"]
