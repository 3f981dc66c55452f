"""`msgraph-sdk` (Microsoft Graph's Python SDK) against the emulator's Graph:
applications, federated identity credentials, service principals, Graph's error
envelope as the SDK raises it (`ODataError`), and JSON batching."""

from pathlib import Path
from typing import List, Set
from uuid import UUID

import pytest
from conftest import (
    GRANTED_OPERATORS,
    GRAPH_APP_ID,
    GRAPH_SCOPE,
    PULUMI_ISSUER,
    Emulator,
    odata_error_parts,
    run,
    token_claims,
    unique,
)
from emulator_process import run_emulator
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.applications.applications_request_builder import ApplicationsRequestBuilder
from msgraph.generated.models.app_role_assignment import AppRoleAssignment
from msgraph.generated.models.application import Application
from msgraph.generated.models.federated_identity_credential import FederatedIdentityCredential
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.reference_create import ReferenceCreate
from msgraph.generated.models.service_principal import ServicePrincipal
from msgraph.generated.service_principals.service_principals_request_builder import (
    ServicePrincipalsRequestBuilder,
)
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem

SUBJECT = "pulumi:deploy:org:contoso:project:core:stack:dev:operation:{}:scope:write"


def app_query(filter: str, top: int = 0) -> RequestConfiguration:
    params = ApplicationsRequestBuilder.ApplicationsRequestBuilderGetQueryParameters(
        filter=filter, top=top or None
    )
    return RequestConfiguration(query_parameters=params)


def credential(name: str, operation: str = "update") -> FederatedIdentityCredential:
    return FederatedIdentityCredential(
        name=name,
        issuer=PULUMI_ISSUER,
        subject=SUBJECT.format(operation),
        audiences=["contoso"],
        description=f"Pulumi Deployments {operation}",
    )


def test_application_create_get_update_delete(emulator: Emulator) -> None:
    async def scenario() -> None:
        graph = emulator.graph()
        name = unique("clients-app")
        created = await graph.applications.post(
            Application(display_name=name, sign_in_audience="AzureADMyOrg", tags=["pulumi-azure-oidc"])
        )
        assert created is not None and created.id and created.app_id
        assert created.id != created.app_id
        assert (created.display_name, created.sign_in_audience) == (name, "AzureADMyOrg")

        got = await graph.applications.by_application_id(created.id).get()
        assert got is not None
        assert (got.id, got.app_id, got.display_name, got.tags) == (
            created.id,
            created.app_id,
            name,
            ["pulumi-azure-oidc"],
        )

        await graph.applications.by_application_id(created.id).patch(
            Application(display_name=f"{name}-renamed", notes="managed by pulumi-azure-oidc")
        )
        updated = await graph.applications.by_application_id(created.id).get()
        assert updated is not None
        assert (updated.display_name, updated.notes, updated.app_id) == (
            f"{name}-renamed",
            "managed by pulumi-azure-oidc",
            created.app_id,
        )

        await graph.applications.by_application_id(created.id).delete()
        with pytest.raises(ODataError) as gone:
            await graph.applications.by_application_id(created.id).get()
        assert odata_error_parts(gone.value)["status"] == 404
        assert gone.value.error.code == "Request_ResourceNotFound"

    run(scenario())


def test_application_list_filters_pages_and_follows_next_link(emulator: Emulator) -> None:
    async def scenario() -> None:
        graph = emulator.graph()
        prefix = unique("clients-page")
        made = []
        for i in range(5):
            app = await graph.applications.post(Application(display_name=f"{prefix}-{i}"))
            assert app is not None and app.id
            made.append(app)
        await graph.applications.post(Application(display_name=unique("clients-other")))

        # `$filter` with `eq` selects exactly one, by display name and by appId.
        one = await graph.applications.get(request_configuration=app_query(f"displayName eq '{prefix}-3'"))
        assert one is not None and [a.id for a in one.value or []] == [made[3].id]
        by_app_id = await graph.applications.get(
            request_configuration=app_query(f"appId eq '{made[1].app_id}'")
        )
        assert by_app_id is not None and [a.id for a in by_app_id.value or []] == [made[1].id]

        # `$top` pages; `@odata.nextLink` leads through the rest of the filtered set.
        page = await graph.applications.get(
            request_configuration=app_query(f"startswith(displayName,'{prefix}')", top=2)
        )
        assert page is not None
        seen: List[str] = [a.id for a in page.value or [] if a.id]
        assert len(seen) == 2
        pages = 1
        while page.odata_next_link:
            page = await graph.applications.with_url(page.odata_next_link).get()
            assert page is not None
            seen.extend(a.id for a in page.value or [] if a.id)
            pages += 1
        assert pages == 3
        assert sorted(seen) == sorted(a.id for a in made if a.id)

    run(scenario())


def test_federated_identity_credential_lifecycle(emulator: Emulator) -> None:
    async def scenario() -> None:
        graph = emulator.graph()
        app = await graph.applications.post(Application(display_name=unique("clients-fic")))
        assert app is not None and app.id
        credentials = graph.applications.by_application_id(app.id).federated_identity_credentials

        created = await credentials.post(credential("deploy-update"))
        assert created is not None and created.id
        assert (created.name, created.issuer, created.subject, created.audiences, created.description) == (
            "deploy-update",
            PULUMI_ISSUER,
            SUBJECT.format("update"),
            ["contoso"],
            "Pulumi Deployments update",
        )
        await credentials.post(credential("deploy-preview", "preview"))

        listed = await credentials.get()
        assert listed is not None
        assert sorted((c.name, c.subject) for c in listed.value or []) == [
            ("deploy-preview", SUBJECT.format("preview")),
            ("deploy-update", SUBJECT.format("update")),
        ]

        got = await credentials.by_federated_identity_credential_id(created.id).get()
        assert got is not None and (got.id, got.name, got.subject) == (
            created.id,
            "deploy-update",
            SUBJECT.format("update"),
        )
        # Graph also addresses a credential by its name.
        by_name = await credentials.by_federated_identity_credential_id("deploy-update").get()
        assert by_name is not None and by_name.id == created.id

        await credentials.by_federated_identity_credential_id(created.id).patch(
            FederatedIdentityCredential(subject=SUBJECT.format("refresh"), audiences=["azure:contoso"])
        )
        updated = await credentials.by_federated_identity_credential_id(created.id).get()
        assert updated is not None
        assert (updated.name, updated.subject, updated.audiences, updated.issuer) == (
            "deploy-update",
            SUBJECT.format("refresh"),
            ["azure:contoso"],
            PULUMI_ISSUER,
        )

        await credentials.by_federated_identity_credential_id(created.id).delete()
        remaining = await credentials.get()
        assert remaining is not None and [c.name for c in remaining.value or []] == ["deploy-preview"]
        with pytest.raises(ODataError) as gone:
            await credentials.by_federated_identity_credential_id(created.id).get()
        assert (gone.value.response_status_code, gone.value.error.code) == (404, "Request_ResourceNotFound")

    run(scenario())


def test_a_duplicate_credential_name_is_a_409(emulator: Emulator) -> None:
    async def scenario() -> None:
        graph = emulator.graph()
        app = await graph.applications.post(Application(display_name=unique("clients-dup")))
        assert app is not None and app.id
        credentials = graph.applications.by_application_id(app.id).federated_identity_credentials
        await credentials.post(credential("deploy-update"))
        with pytest.raises(ODataError) as refused:
            await credentials.post(credential("deploy-update", "destroy"))
        parts = odata_error_parts(refused.value)
        assert (parts["status"], parts["code"]) == (409, "Request_MultipleObjectsWithSameKeyValue")
        assert "deploy-update" in parts["message"]
        # Graph's envelope carries the request ids and date in `innerError`.
        inner = refused.value.error.inner_error
        assert inner is not None and inner.request_id and inner.date is not None

    run(scenario())


def test_the_21st_credential_is_refused(emulator: Emulator) -> None:
    async def scenario() -> None:
        graph = emulator.graph()
        app = await graph.applications.post(Application(display_name=unique("clients-limit")))
        assert app is not None and app.id
        credentials = graph.applications.by_application_id(app.id).federated_identity_credentials
        for i in range(20):
            made = await credentials.post(credential(f"cred-{i:02}", f"op{i}"))
            assert made is not None and made.id
        with pytest.raises(ODataError) as refused:
            await credentials.post(credential("cred-20", "op20"))
        # The status and code are the emulator's documented assumption (no capture of
        # Graph's answer exists); the limit of 20 is Graph's.
        assert odata_error_parts(refused.value)["status"] == 400
        assert refused.value.error.code == "Request_BadRequest"
        assert refused.value.error.message
        listed = await credentials.get()
        assert listed is not None and len(listed.value or []) == 20

    run(scenario())


def test_a_missing_object_is_request_resource_not_found(emulator: Emulator) -> None:
    async def scenario() -> None:
        graph = emulator.graph()
        missing = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
        with pytest.raises(ODataError) as refused:
            await graph.applications.by_application_id(missing).get()
        parts = odata_error_parts(refused.value)
        assert (parts["status"], parts["code"]) == (404, "Request_ResourceNotFound")
        assert missing in parts["message"]
        with pytest.raises(ODataError) as no_sp:
            await graph.service_principals.by_service_principal_id(missing).get()
        assert (no_sp.value.response_status_code, no_sp.value.error.code) == (404, "Request_ResourceNotFound")

    run(scenario())


def test_service_principal_create_get_and_filter_by_app_id(emulator: Emulator) -> None:
    async def scenario() -> None:
        graph = emulator.graph()
        apps = []
        for _ in range(2):
            app = await graph.applications.post(Application(display_name=unique("clients-sp")))
            assert app is not None and app.app_id
            apps.append(app)
        sps = []
        for app in apps:
            sp = await graph.service_principals.post(ServicePrincipal(app_id=app.app_id))
            assert sp is not None and sp.id and sp.id != app.id
            assert (sp.app_id, sp.display_name) == (app.app_id, app.display_name)
            sps.append(sp)

        got = await graph.service_principals.by_service_principal_id(sps[0].id).get()
        assert got is not None and (got.id, got.app_id) == (sps[0].id, apps[0].app_id)

        params = ServicePrincipalsRequestBuilder.ServicePrincipalsRequestBuilderGetQueryParameters(
            filter=f"appId eq '{apps[1].app_id}'"
        )
        found = await graph.service_principals.get(
            request_configuration=RequestConfiguration(query_parameters=params)
        )
        assert found is not None and [s.id for s in found.value or []] == [sps[1].id]

        # A second principal for the same app is refused.
        with pytest.raises(ODataError) as refused:
            await graph.service_principals.post(ServicePrincipal(app_id=apps[0].app_id))
        assert (refused.value.response_status_code, refused.value.error.code) == (
            409,
            "Request_MultipleObjectsWithSameKeyValue",
        )

    run(scenario())


def test_json_batch_answers_each_request(emulator: Emulator) -> None:
    async def scenario() -> None:
        graph = emulator.graph()
        prefix = unique("clients-batch")
        first = BatchRequestItem(
            request_information=graph.applications.to_post_request_information(
                Application(display_name=f"{prefix}-1")
            )
        )
        # msgraph-core writes this dependency as `depends_on`, which Graph ignores.
        second = BatchRequestItem(
            request_information=graph.applications.to_post_request_information(
                Application(display_name=f"{prefix}-2")
            ),
            depends_on=[first],
        )
        missing = BatchRequestItem(
            request_information=graph.applications.by_application_id(
                "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
            ).to_get_request_information()
        )
        batch = BatchRequestContent({item.id: item for item in (first, second, missing)})
        answer = await graph.batch.post(batch_request_content=batch)
        assert answer.get_response_status_codes() == {first.id: 201, second.id: 201, missing.id: 404}
        for item in (first, second, missing):
            response = answer.get_response_by_id(item.id)
            assert response is not None and response.content_type is not None
            assert response.content_type.startswith("application/json")

        # Both creates happened, once each.
        listed = await graph.applications.get(
            request_configuration=app_query(f"startswith(displayName,'{prefix}')")
        )
        assert listed is not None
        names: Set[str] = {a.display_name for a in listed.value or [] if a.display_name}
        assert names == {f"{prefix}-1", f"{prefix}-2"} and len(listed.value or []) == 2

    run(scenario())


def test_json_batch_reports_an_inner_429_from_the_write_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An emulator of its own with Azure's budgets at a hundredth of their refill rate:
    3,000 writes per application and tenant pass, then each further write in a batch
    gets a 429 of its own, with Retry-After and Graph's throttle headers, while a read in
    the same batch is answered 200."""
    with run_emulator(tmp_path, "--budgets", "azure", "--rate-scale", "0.01") as info:
        monkeypatch.setenv("SSL_CERT_FILE", info["ca_file"])
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", info["ca_file"])
        own = Emulator(info)

        async def scenario() -> None:
            graph = own.graph()
            created = await graph.applications.post(Application(display_name=unique("clients-budget")))
            assert created is not None and created.id
            passed = 0
            for number in range(200):
                # Built with a client that has sent nothing, so the requests' URLs are
                # still relative to the version, as the batch wants them (once a client
                # has sent, kiota writes the emulator's base URL into them).
                app = own.graph().applications.by_application_id(created.id)
                writes = [
                    BatchRequestItem(
                        request_information=app.to_patch_request_information(
                            Application(display_name=f"budget-{number}-{i}")
                        )
                    )
                    for i in range(19)
                ]
                read = BatchRequestItem(request_information=app.to_get_request_information())
                batch = BatchRequestContent({item.id: item for item in [*writes, read]})
                answer = await graph.batch.post(batch_request_content=batch)
                codes = answer.get_response_status_codes()
                assert codes[read.id] == 200, codes
                refused = [item for item in writes if codes[item.id] == 429]
                passed += sum(1 for item in writes if codes[item.id] == 204)
                if refused:
                    response = answer.get_response_by_id(refused[0].id)
                    assert response is not None and response.headers is not None
                    headers = {k.lower(): v for k, v in response.headers.items()}
                    assert float(headers["retry-after"]) > 0, headers
                    assert headers["x-ms-throttle-scope"] == (
                        f"Tenant_Application/Write/{own.client_id}/{own.tenant}"
                    ), headers
                    assert headers["x-ms-throttle-information"] == "WriteLimitExceeded", headers
                    break
            else:
                pytest.fail("no write was refused")
            # The create and 2,999 renames; a refill of one write per five seconds at most.
            assert 2_999 <= passed <= 3_010, passed

        run(scenario())


# ---- least privilege: app role assignments, owners, the 403s ----

OWNED_BY = "Application.ReadWrite.OwnedBy"


def test_an_app_role_is_granted_and_reaches_the_next_token(emulator: Emulator) -> None:
    """The admin grants Application.ReadWrite.OwnedBy to the granted operator through
    `appRoleAssignedTo` (serviceprincipal-post-approleassignedto.md); the operator's next
    token carries it in `roles`, and with it the operator creates and owns an app, but may
    neither change another's nor add an owner (application-post-owners.md)."""
    client_id, _ = GRANTED_OPERATORS["msgraph"]

    async def scenario() -> None:
        admin = emulator.graph()
        graph_sp = await admin.service_principals_with_app_id(GRAPH_APP_ID).get()
        assert graph_sp is not None and graph_sp.id and graph_sp.app_roles
        role = next(r for r in graph_sp.app_roles if r.value == OWNED_BY)
        assert str(role.id) == "18a4783c-866b-4cc7-a460-3d5e5662c884"
        assert role.allowed_member_types == ["Application"] and role.is_enabled
        operator = await admin.service_principals_with_app_id(client_id).get()
        assert operator is not None and operator.id

        # Before the grant: no roles, no reads.
        fresh = emulator.credential_for("msgraph")
        assert "roles" not in token_claims(fresh.get_token(GRAPH_SCOPE).token)
        with pytest.raises(ODataError) as refused:
            await emulator.graph(fresh).applications.get()
        assert odata_error_parts(refused.value) == {
            "status": 403,
            "code": "Authorization_RequestDenied",
            "message": "Insufficient privileges to complete the operation.",
        }

        made = await admin.service_principals.by_service_principal_id(
            graph_sp.id
        ).app_role_assigned_to.post(
            AppRoleAssignment(
                principal_id=UUID(operator.id),
                resource_id=UUID(graph_sp.id),
                app_role_id=role.id,
            )
        )
        assert made is not None and made.id
        assert (str(made.principal_id), str(made.resource_id), made.app_role_id) == (
            operator.id,
            graph_sp.id,
            role.id,
        )
        assert made.principal_type == "ServicePrincipal" and made.resource_display_name == "Microsoft Graph"
        granted = await admin.service_principals.by_service_principal_id(
            operator.id
        ).app_role_assignments.get()
        assert granted is not None and [a.id for a in granted.value or []] == [made.id]
        assigned_to = await admin.service_principals.by_service_principal_id(
            graph_sp.id
        ).app_role_assigned_to.get()
        assert made.id in [a.id for a in (assigned_to.value if assigned_to else None) or []]

        # The next token carries the role; with it the operator creates and owns an app.
        credential = emulator.credential_for("msgraph")
        claims = token_claims(credential.get_token(GRAPH_SCOPE).token)
        assert claims["roles"] == [OWNED_BY] and claims["oid"] == operator.id
        assert claims["idtyp"] == "app" and claims["appid"] == client_id
        me = emulator.graph(credential)
        app = await me.applications.post(Application(display_name=unique("owned-by")))
        assert app is not None and app.id
        owners = await me.applications.by_application_id(app.id).owners.get()
        assert owners is not None and [o.id for o in owners.value or []] == [operator.id]
        assert isinstance((owners.value or [])[0], ServicePrincipal)

        # OwnedBy cannot add an owner, nor change an app it does not own.
        admin_sp = await admin.service_principals_with_app_id(emulator.client_id).get()
        assert admin_sp is not None and admin_sp.id
        reference = ReferenceCreate(odata_id=f"{emulator.graph_url}/directoryObjects/{admin_sp.id}")
        with pytest.raises(ODataError) as refused:
            await me.applications.by_application_id(app.id).owners.ref.post(reference)
        assert odata_error_parts(refused.value)["status"] == 403
        theirs = await admin.applications.post(Application(display_name=unique("admins")))
        assert theirs is not None and theirs.id
        with pytest.raises(ODataError) as refused:
            await me.applications.by_application_id(theirs.id).patch(Application(notes="not mine"))
        assert refused.value.error.code == "Authorization_RequestDenied"

        # The admin adds itself as an owner, and removes it again.
        await admin.applications.by_application_id(app.id).owners.ref.post(reference)
        owners = await admin.applications.by_application_id(app.id).owners.get()
        assert owners is not None and {o.id for o in owners.value or []} == {operator.id, admin_sp.id}
        await admin.applications.by_application_id(app.id).owners.by_directory_object_id(
            admin_sp.id
        ).ref.delete()
        owners = await admin.applications.by_application_id(app.id).owners.get()
        assert owners is not None and [o.id for o in owners.value or []] == [operator.id]

        # Revoked, the role is gone from the next token.
        await admin.service_principals.by_service_principal_id(
            graph_sp.id
        ).app_role_assigned_to.by_app_role_assignment_id(made.id).delete()
        after = emulator.credential_for("msgraph")
        assert "roles" not in token_claims(after.get_token(GRAPH_SCOPE).token)

    run(scenario())
