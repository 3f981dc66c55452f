"""`azure-mgmt-authorization` (ARM's Python SDK, api-version 2022-04-01) against the
emulator's ARM: role definitions by name, role assignments created, read, listed with
`$filter` and deleted, and ARM's error envelope as the SDK raises it
(`HttpResponseError` with `.error.code`)."""

import uuid
from typing import List, Tuple

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from conftest import GRANTED_OPERATORS, SUBSCRIPTION_ID, Emulator, run, unique
from msgraph.generated.models.application import Application
from msgraph.generated.models.service_principal import ServicePrincipal

SCOPE = f"/subscriptions/{SUBSCRIPTION_ID}"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def principal(emulator: Emulator) -> str:
    """A new application's service principal object id, made through msgraph-sdk."""

    async def make() -> str:
        graph = emulator.graph()
        app = await graph.applications.post(Application(display_name=unique("clients-arm")))
        assert app is not None and app.app_id
        sp = await graph.service_principals.post(ServicePrincipal(app_id=app.app_id))
        assert sp is not None and sp.id
        return sp.id

    return run(make())


def definition_id(emulator: Emulator, role_name: str) -> Tuple[str, str]:
    """(id, name) of the built-in role called `role_name`, looked up as `az` does."""
    found = list(emulator.arm().role_definitions.list(SCOPE, filter=f"roleName eq '{role_name}'"))
    assert len(found) == 1, [d.role_name for d in found]
    assert found[0].id and found[0].name
    return found[0].id, found[0].name


def test_role_definitions_filter_by_role_name(emulator: Emulator) -> None:
    arm = emulator.arm()
    contributor = list(arm.role_definitions.list(SCOPE, filter="roleName eq 'Contributor'"))
    assert [(d.name, d.role_name, d.role_type) for d in contributor] == [
        (CONTRIBUTOR, "Contributor", "BuiltInRole")
    ]
    assert contributor[0].id == f"{SCOPE}/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}"
    assert contributor[0].type == "Microsoft.Authorization/roleDefinitions"
    assert contributor[0].permissions and "*" in (contributor[0].permissions[0].actions or [])
    assert contributor[0].assignable_scopes == ["/"]

    # The name compares without regard to case, as ARM's does.
    reader = list(arm.role_definitions.list(f"{SCOPE}/resourceGroups/rg", filter="roleName eq 'reader'"))
    assert [(d.name, d.role_name) for d in reader] == [(READER, "Reader")]

    assert list(arm.role_definitions.list(SCOPE, filter="roleName eq 'No Such Role'")) == []
    everything = {d.role_name for d in arm.role_definitions.list(SCOPE)}
    assert {"Owner", "Contributor", "Reader", "User Access Administrator"} <= everything

    by_name = arm.role_definitions.get(SCOPE, READER)
    assert (by_name.name, by_name.role_name) == (READER, "Reader")


def test_role_assignment_create_get_list_delete(emulator: Emulator) -> None:
    arm = emulator.arm()
    sp = principal(emulator)
    other = principal(emulator)
    role_id, _ = definition_id(emulator, "Contributor")
    name = str(uuid.uuid4())

    created = arm.role_assignments.create(
        SCOPE,
        name,
        RoleAssignmentCreateParameters(
            role_definition_id=role_id,
            principal_id=sp,
            principal_type="ServicePrincipal",
            description="Pulumi Deployments for contoso/core/dev",
        ),
    )
    expected_id = f"{SCOPE}/providers/Microsoft.Authorization/roleAssignments/{name}"
    assert (created.id, created.name, created.type) == (
        expected_id,
        name,
        "Microsoft.Authorization/roleAssignments",
    )
    # The definition id comes back in the form it was sent.
    assert (created.role_definition_id, created.principal_id, created.principal_type, created.scope) == (
        role_id,
        sp,
        "ServicePrincipal",
        SCOPE,
    )
    assert created.description == "Pulumi Deployments for contoso/core/dev"
    assert created.created_on is not None

    got = arm.role_assignments.get(SCOPE, name)
    assert (got.id, got.role_definition_id, got.principal_id, got.description) == (
        expected_id,
        role_id,
        sp,
        created.description,
    )

    # Another principal's assignment at the same scope is not selected by the filter.
    reader_id, _ = definition_id(emulator, "Reader")
    arm.role_assignments.create(
        SCOPE,
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(role_definition_id=reader_id, principal_id=other, principal_type="ServicePrincipal"),
    )
    listed = list(arm.role_assignments.list_for_scope(SCOPE, filter=f"principalId eq '{sp}'"))
    assert [(a.name, a.principal_id) for a in listed] == [(name, sp)]
    unfiltered = {a.name for a in arm.role_assignments.list_for_scope(SCOPE)}
    assert name in unfiltered and len(unfiltered) >= 2

    deleted = arm.role_assignments.delete(SCOPE, name)
    assert deleted is not None and (deleted.id, deleted.principal_id) == (expected_id, sp)
    assert list(arm.role_assignments.list_for_scope(SCOPE, filter=f"principalId eq '{sp}'")) == []
    with pytest.raises(ResourceNotFoundError) as gone:
        arm.role_assignments.get(SCOPE, name)
    assert gone.value.status_code == 404 and gone.value.error is not None
    assert gone.value.error.code == "RoleAssignmentNotFound"
    # Deleting what is already gone: 204, nothing to return.
    assert arm.role_assignments.delete(SCOPE, name) is None


def test_the_same_assignment_under_another_name_is_role_assignment_exists(emulator: Emulator) -> None:
    arm = emulator.arm()
    sp = principal(emulator)
    role_id, _ = definition_id(emulator, "Reader")
    params = RoleAssignmentCreateParameters(role_definition_id=role_id, principal_id=sp, principal_type="ServicePrincipal")
    arm.role_assignments.create(SCOPE, str(uuid.uuid4()), params)
    with pytest.raises(HttpResponseError) as refused:
        arm.role_assignments.create(SCOPE, str(uuid.uuid4()), params)
    assert refused.value.status_code == 409
    assert refused.value.error is not None
    assert refused.value.error.code == "RoleAssignmentExists"
    assert refused.value.error.message == "The role assignment already exists."


def test_an_unknown_principal_is_principal_not_found(emulator: Emulator) -> None:
    arm = emulator.arm()
    role_id, _ = definition_id(emulator, "Reader")
    stranger = str(uuid.uuid4())
    with pytest.raises(HttpResponseError) as refused:
        arm.role_assignments.create(
            SCOPE,
            str(uuid.uuid4()),
            RoleAssignmentCreateParameters(role_definition_id=role_id, principal_id=stranger, principal_type="ServicePrincipal"),
        )
    assert refused.value.status_code == 400
    assert refused.value.error is not None and refused.value.error.code == "PrincipalNotFound"
    assert stranger.replace("-", "") in (refused.value.error.message or "")


# ---- least privilege: a conditioned Role Based Access Control Administrator ----

RBAC_ADMINISTRATOR = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


def tool_condition(ids: List[str]) -> str:
    """The condition `pulumi-azure-oidc permissions` writes (delegate-role-assignments-examples.md):
    writes and deletes only of `ids`, only for service principals."""
    listed = ", ".join(ids)

    def part(action: str, source: str) -> str:
        return (
            f"((!(ActionMatches{{'Microsoft.Authorization/roleAssignments/{action}'}})) OR "
            f"(@{source}[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{listed}}} "
            f"AND @{source}[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {{'ServicePrincipal'}}))"
        )

    return f"{part('write', 'Request')} AND {part('delete', 'Resource')}"


def test_a_conditioned_assignment_is_stored_and_enforced(emulator: Emulator) -> None:
    """The admin makes the granted operator a Role Based Access Control Administrator with
    a version 2.0 condition; the operator then assigns the roles the condition names to a
    service principal, and gets ARM's 403 for any other role."""
    client_id, _ = GRANTED_OPERATORS["arm"]
    operator = run(operator_object_id(emulator, client_id))
    condition = tool_condition([READER, KEY_VAULT_SECRETS_USER])
    admin = emulator.arm()
    name = str(uuid.uuid4())
    made = admin.role_assignments.create(
        SCOPE,
        name,
        RoleAssignmentCreateParameters(
            role_definition_id=f"{SCOPE}/providers/Microsoft.Authorization/roleDefinitions/{RBAC_ADMINISTRATOR}",
            principal_id=operator,
            principal_type="ServicePrincipal",
            condition=condition,
            condition_version="2.0",
        ),
    )
    assert (made.condition, made.condition_version) == (condition, "2.0")
    got = admin.role_assignments.get(SCOPE, name)
    assert (got.condition, got.condition_version) == (condition, "2.0")
    # A condition that does not parse is refused when it is written.
    with pytest.raises(HttpResponseError) as invalid:
        admin.role_assignments.create(
            SCOPE,
            str(uuid.uuid4()),
            RoleAssignmentCreateParameters(
                role_definition_id=f"{SCOPE}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
                principal_id=operator,
                principal_type="ServicePrincipal",
                condition="ActionMatches{'x'} OR",
                condition_version="2.0",
            ),
        )
    assert invalid.value.status_code == 400
    assert invalid.value.error is not None and invalid.value.error.code == "InvalidRoleAssignmentCondition"

    me = emulator.arm(emulator.credential_for("arm"))
    target = principal(emulator)
    group = f"{SCOPE}/resourceGroups/delegated"
    reader_id, _ = definition_id(emulator, "Reader")
    allowed = me.role_assignments.create(
        group,
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(role_definition_id=reader_id, principal_id=target, principal_type="ServicePrincipal"),
    )
    assert allowed.principal_id == target
    # Its own assignment it reads back with the condition.
    mine = list(me.role_assignments.list_for_scope(group, filter=f"principalId eq '{operator}'"))
    assert [(a.role_definition_id.rsplit("/", 1)[-1], a.condition) for a in mine] == [(RBAC_ADMINISTRATOR, condition)]

    contributor_id, _ = definition_id(emulator, "Contributor")
    with pytest.raises(HttpResponseError) as refused:
        me.role_assignments.create(
            group,
            str(uuid.uuid4()),
            RoleAssignmentCreateParameters(role_definition_id=contributor_id, principal_id=target, principal_type="ServicePrincipal"),
        )
    assert refused.value.status_code == 403
    assert refused.value.error is not None and refused.value.error.code == "AuthorizationFailed"
    message = refused.value.error.message or ""
    assert f"The client '{client_id}' with object id '{operator}'" in message
    assert "does not have authorization or an ABAC condition not fulfilled to perform action 'Microsoft.Authorization/roleAssignments/write'" in message
    # The role it may assign, but to a user: refused as well.
    with pytest.raises(HttpResponseError) as user:
        me.role_assignments.create(
            group,
            str(uuid.uuid4()),
            RoleAssignmentCreateParameters(role_definition_id=reader_id, principal_id=target, principal_type="User"),
        )
    assert user.value.status_code == 403
    # And it removes what it may.
    assert me.role_assignments.delete(group, allowed.name) is not None


async def operator_object_id(emulator: Emulator, client_id: str) -> str:
    sp = await emulator.graph().service_principals_with_app_id(client_id).get()
    assert sp is not None and sp.id
    return sp.id
