"""Microsoft's `az` CLI (azure-cli, pinned in requirements-az.txt, in a venv of its own
because it pins its own azure-mgmt-* releases) against the emulator, as a user points
it at a private cloud: the cloud registered only through `az cloud register
--endpoint-resource-manager`, which reads ARM's `/metadata/endpoints`; the CA through
`REQUESTS_CA_BUNDLE`; instance discovery and telemetry off. No profile is edited by hand.

Then our own `render az` script run by that `az`, after which `status` reports the
set-up converged and `verify` accepts a token minted for one of its stacks. And the
script `permissions --output az` prints for the example config, run by that `az` as an
admin: it grants an operator that holds nothing else exactly enough for our `apply`,
`verify` and `destroy` of the example, apps and managed identity alike.
"""

import json
import os
import subprocess
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from conftest import (
    GRANTED_OPERATORS,
    GRAPH_APP_ID,
    OPERATOR_SECRET,
    REPO,
    SUBSCRIPTION_ID,
    Emulator,
    unique,
)

CLOUD = "paoidc-emulator"
# The emulator's default Pulumi access token (docs/emulator.md); a test value.
PULUMI_TOKEN = "pul-emulator-access-token"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"  # Azure's built-in role id
RESOURCE_GROUP = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/core"


def binary(variable: str, default: Path, hint: str) -> Path:
    """A program the suite drives: `variable`, else `default`. Fails, never skips."""
    path = Path(os.environ.get(variable) or default)
    if not path.is_file():
        pytest.fail(f"{path} does not exist: {hint} or set {variable}")
    return path


def target_dir() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    return target if target.is_absolute() else REPO / target


class Az:
    """`az` with a configuration directory of its own, pointed at the emulator."""

    def __init__(self, emulator: Emulator, config_dir: Path) -> None:
        self.program = binary(
            "AZURE_CLI",
            target_dir() / "python" / "az-venv" / "bin" / "az",
            "`cargo xtask python` installs tests/clients/requirements-az.txt there",
        )
        self.emulator = emulator
        self.env = {
            **os.environ,
            "AZURE_CONFIG_DIR": str(config_dir),
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
            "AZURE_CORE_INSTANCE_DISCOVERY": "false",
            "AZURE_CORE_ONLY_SHOW_ERRORS": "true",
            "AZURE_CORE_NO_COLOR": "true",
            "REQUESTS_CA_BUNDLE": emulator.ca_file,
            # The script's `az` and `curl` (which reads CURL_CA_BUNDLE) are found on PATH.
            "PATH": f"{self.program.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "CURL_CA_BUNDLE": emulator.ca_file,
        }

    def run(self, *args: str, expect: int = 0) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(self.program), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == expect, (
            f"az {' '.join(args)} exited {done.returncode}, expected {expect}:\n"
            f"{done.stdout}\n{done.stderr}"
        )
        return done

    def json(self, *args: str) -> Any:
        out = self.run(*args, "--output", "json").stdout
        return json.loads(out) if out.strip() else None


@pytest.fixture(scope="module")
def az(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Az]:
    """Steps 1-3 of a user's session: register the cloud from the emulator's ARM
    metadata, select it, log in as a service principal."""
    cli = Az(emulator, tmp_path_factory.mktemp("azure-config"))
    cli.run("cloud", "register", "-n", CLOUD, "--endpoint-resource-manager", emulator.https + "/")
    cli.run("cloud", "set", "-n", CLOUD)
    cli.run(
        "login",
        "--service-principal",
        "-u",
        emulator.client_id,
        "-p",
        OPERATOR_SECRET,
        "--tenant",
        emulator.tenant,
    )
    yield cli


def test_cloud_is_registered_from_the_arm_metadata(az: Az, emulator: Emulator) -> None:
    cloud = az.json("cloud", "show", "-n", CLOUD)
    endpoints = cloud["endpoints"]
    assert endpoints["resourceManager"].rstrip("/") == emulator.https
    assert endpoints["microsoftGraphResourceId"].rstrip("/") == emulator.https
    assert endpoints["activeDirectory"].rstrip("/") == emulator.https
    assert cloud["isActive"] is True


def test_account_show_and_set(az: Az, emulator: Emulator) -> None:
    account = az.json("account", "show")
    assert account["id"] == SUBSCRIPTION_ID
    assert account["tenantId"] == emulator.tenant
    assert account["environmentName"] == CLOUD
    assert account["user"] == {"name": emulator.client_id, "type": "servicePrincipal"}
    az.run("account", "set", "--subscription", SUBSCRIPTION_ID)
    # A subscription the tenant does not have is refused by az itself, from the list.
    missing = az.run(
        "account", "set", "--subscription", "00000000-0000-4000-8000-0000000000ff", expect=1
    )
    assert "doesn't exist" in missing.stderr or "not found" in missing.stderr.lower()


def credential_parameters(tmp: Path, name: str) -> str:
    path = tmp / f"{name}.json"
    path.write_text(
        json.dumps(
            {
                "name": name,
                "issuer": "https://api.pulumi.com/oidc",
                "subject": "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write",
                "audiences": ["contoso"],
                "description": "written by az",
            }
        )
    )
    return str(path)


def test_application_service_principal_and_federated_credentials(
    az: Az, tmp_path: Path
) -> None:
    # az updates an existing app of the same display name instead of creating one.
    name = unique("az-app")
    app = az.json("ad", "app", "create", "--display-name", name)
    app_id = app["appId"]
    assert app["displayName"] == name and app["keyCredentials"] == []
    listed = az.json("ad", "app", "list", "--display-name", name)
    assert [a["appId"] for a in listed] == [app_id]
    assert az.json("ad", "app", "show", "--id", app_id)["id"] == app["id"]

    sp = az.json("ad", "sp", "create", "--id", app_id)
    assert sp["appId"] == app_id
    assert az.json("ad", "sp", "show", "--id", app_id)["id"] == sp["id"]

    created = az.json(
        "ad", "app", "federated-credential", "create", "--id", app_id,
        "--parameters", credential_parameters(tmp_path, "fic-update"),
    )
    assert created["name"] == "fic-update"
    assert created["audiences"] == ["contoso"]
    listed = az.json("ad", "app", "federated-credential", "list", "--id", app_id)
    assert [c["name"] for c in listed] == ["fic-update"]
    shown = az.json(
        "ad", "app", "federated-credential", "show", "--id", app_id,
        "--federated-credential-id", "fic-update",
    )
    assert shown["subject"].endswith(":operation:update:scope:write")
    # A second credential with the same issuer and subject is refused by Graph.
    duplicate = credential_parameters(tmp_path, "fic-again")
    refused = az.run(
        "ad", "app", "federated-credential", "create", "--id", app_id,
        "--parameters", duplicate, expect=1,
    )
    assert "already" in refused.stderr.lower() or "same" in refused.stderr.lower(), refused.stderr
    az.run(
        "ad", "app", "federated-credential", "delete", "--id", app_id,
        "--federated-credential-id", "fic-update",
    )
    assert az.json("ad", "app", "federated-credential", "list", "--id", app_id) == []

    az.run("ad", "sp", "delete", "--id", app_id)
    # az's exit code for a resource that is not there (ResourceNotFoundError).
    gone = az.run("ad", "sp", "show", "--id", app_id, expect=3)
    assert "does not exist" in gone.stderr
    az.run("ad", "app", "delete", "--id", app_id)
    assert az.json("ad", "app", "list", "--display-name", name) == []
    az.run("ad", "app", "show", "--id", app_id, expect=3)


def test_role_definitions_and_assignments(az: Az) -> None:
    definitions = az.json("role", "definition", "list", "--name", "Contributor")
    assert [d["name"] for d in definitions] == [CONTRIBUTOR]
    assert definitions[0]["roleName"] == "Contributor"

    app = az.json("ad", "app", "create", "--display-name", unique("az-roles"))
    principal = az.json("ad", "sp", "create", "--id", app["appId"])["id"]
    create = (
        "role", "assignment", "create",
        "--assignee-object-id", principal,
        "--assignee-principal-type", "ServicePrincipal",
        "--role", "Contributor",
        "--scope", RESOURCE_GROUP,
    )
    first = az.json(*create)
    assert first["principalId"] == principal
    assert first["scope"] == RESOURCE_GROUP
    assert first["roleDefinitionId"].endswith("/roleDefinitions/" + CONTRIBUTOR)
    # Azure answers the second PUT (a new assignment name) with 409 RoleAssignmentExists;
    # az treats exactly that as success and returns the existing assignment.
    second = az.json(*create)
    assert second["id"] == first["id"]

    at_scope = az.json("role", "assignment", "list", "--scope", RESOURCE_GROUP)
    assert first["id"] in [a["id"] for a in at_scope]
    everywhere = az.json("role", "assignment", "list", "--assignee", principal, "--all")
    assert [a["id"] for a in everywhere] == [first["id"]]
    assert everywhere[0]["roleDefinitionName"] == "Contributor"

    az.run(
        "role", "assignment", "delete",
        "--assignee", principal, "--role", "Contributor", "--scope", RESOURCE_GROUP,
    )
    assert az.json("role", "assignment", "list", "--assignee", principal, "--all") == []
    az.run("ad", "app", "delete", "--id", app["appId"])



def test_managed_identity_and_its_federated_credentials(az: Az) -> None:
    """`az identity` (api-version 2025-05-31-preview) and `az identity federated-credential`
    (2025-01-31-preview), as azure-cli 2.91.0's generated commands send them. Any resource
    group name ARM accepts counts as existing in the emulator; the location is given, so az
    does not look the group up."""
    group = "core"
    name = unique("az-uami")
    where = ("--resource-group", group)
    created = az.json("identity", "create", "--name", name, *where, "--location", "westeurope")
    assert created["name"] == name and created["location"] == "westeurope"
    assert created["clientId"] and created["principalId"] and created["tenantId"] == az.emulator.tenant
    assert az.json("identity", "show", "--name", name, *where)["id"] == created["id"]
    assert name in [i["name"] for i in az.json("identity", "list", *where)]

    fic = ("identity", "federated-credential")
    subject = "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write"
    made = az.json(
        *fic, "create", "--identity-name", name, *where, "--name", "pulumi-update",
        "--issuer", "https://api.pulumi.com/oidc", "--subject", subject, "--audiences", "contoso",
    )
    assert (made["name"], made["subject"], made["audiences"]) == ("pulumi-update", subject, ["contoso"])
    listed = az.json(*fic, "list", "--identity-name", name, *where)
    assert [c["name"] for c in listed] == ["pulumi-update"]
    shown = az.json(*fic, "show", "--identity-name", name, *where, "--name", "pulumi-update")
    assert shown["issuer"] == "https://api.pulumi.com/oidc"
    # The same issuer and subject under another name: ARM's 400, az's exit 1.
    refused = az.run(
        *fic, "create", "--identity-name", name, *where, "--name", "pulumi-again",
        "--issuer", "https://api.pulumi.com/oidc", "--subject", subject, "--audiences", "contoso",
        expect=1,
    )
    assert "Issuer and subject combination already exists" in refused.stderr, refused.stderr
    az.run(*fic, "delete", "--identity-name", name, *where, "--name", "pulumi-update", "--yes")
    assert az.json(*fic, "list", "--identity-name", name, *where) == []

    az.run("identity", "delete", "--name", name, *where)
    gone = az.run("identity", "show", "--name", name, *where, expect=3)
    assert "was not found" in gone.stderr, gone.stderr

# ---- least privilege: owners, app roles, conditioned assignments, a granted operator ----

OWNED_BY_ID = "18a4783c-866b-4cc7-a460-3d5e5662c884"
RBAC_ADMINISTRATOR = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def rbac_condition(ids: List[str]) -> str:
    """The condition `pulumi-azure-oidc permissions` writes, on one line."""
    listed = ", ".join(ids)

    def part(action: str, source: str) -> str:
        return (
            f"((!(ActionMatches{{'Microsoft.Authorization/roleAssignments/{action}'}})) OR "
            f"(@{source}[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{listed}}} "
            f"AND @{source}[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {{'ServicePrincipal'}}))"
        )

    return f"{part('write', 'Request')} AND {part('delete', 'Resource')}"


def login_as_granted(emulator: Emulator, config_dir: Path) -> Az:
    """`az`, in a configuration directory of its own, logged in as the granted operator:
    a fresh directory means a fresh token, carrying what is granted now."""
    client_id, secret = GRANTED_OPERATORS["az"]
    cli = Az(emulator, config_dir)
    cli.run("cloud", "register", "-n", CLOUD, "--endpoint-resource-manager", emulator.https + "/")
    cli.run("cloud", "set", "-n", CLOUD)
    cli.run("login", "--service-principal", "-u", client_id, "-p", secret, "--tenant", emulator.tenant)
    return cli


def test_app_owners_app_roles_and_a_conditioned_rbac_administrator(
    az: Az, emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> None:
    client_id, _ = GRANTED_OPERATORS["az"]
    # What our `permissions --output az` script looks up: Graph's app role by value, and
    # the operator's service principal.
    role_id = az.run(
        "ad", "sp", "show", "--id", GRAPH_APP_ID,
        "--query", "appRoles[?value=='Application.ReadWrite.OwnedBy'].id | [0]", "-o", "tsv",
    ).stdout.strip()
    assert role_id == OWNED_BY_ID
    graph_sp = az.run("ad", "sp", "show", "--id", GRAPH_APP_ID, "--query", "id", "-o", "tsv").stdout.strip()
    operator = az.run("ad", "sp", "show", "--id", client_id, "--query", "id", "-o", "tsv").stdout.strip()
    assert operator and graph_sp

    # Owners: `az ad app owner add/list/remove`.
    app = az.json("ad", "app", "create", "--display-name", unique("az-owned"))
    before = az.json("ad", "app", "owner", "list", "--id", app["appId"])
    az.run("ad", "app", "owner", "add", "--id", app["appId"], "--owner-object-id", operator)
    # Adding it again is made idempotent by az itself, which lists first.
    az.run("ad", "app", "owner", "add", "--id", app["appId"], "--owner-object-id", operator)
    owners = az.json("ad", "app", "owner", "list", "--id", app["appId"])
    assert [o["id"] for o in owners] == [o["id"] for o in before] + [operator]
    assert owners[-1]["@odata.type"] == "#microsoft.graph.servicePrincipal"
    az.run("ad", "app", "owner", "remove", "--id", app["appId"], "--owner-object-id", operator)
    assert [o["id"] for o in az.json("ad", "app", "owner", "list", "--id", app["appId"])] == [
        o["id"] for o in before
    ]

    # Without a grant the operator reads nothing in Graph and writes nothing in ARM.
    me = login_as_granted(emulator, tmp_path_factory.mktemp("granted-before"))
    refused = me.run("ad", "app", "list", "--display-name", "anything", expect=1)
    assert "Insufficient privileges to complete the operation." in refused.stderr, refused.stderr
    refused = me.run(
        "identity", "create", "--name", unique("uami"), "--resource-group", "core",
        "--location", "westeurope", expect=1,
    )
    assert "AuthorizationFailed" in refused.stderr, refused.stderr

    # The admin grants Application.ReadWrite.OwnedBy as our script does (`az rest` on
    # appRoleAssignedTo), and a conditioned RBAC Administrator with `--condition`.
    graph = az.run("cloud", "show", "--query", "endpoints.microsoftGraphResourceId", "-o", "tsv").stdout.strip()
    az.run(
        "rest", "--method", "post", "--url", f"{graph.rstrip('/')}/v1.0/servicePrincipals/{graph_sp}/appRoleAssignedTo",
        "--resource", graph, "--headers", "Content-Type=application/json",
        "--body", json.dumps({"principalId": operator, "resourceId": graph_sp, "appRoleId": role_id}),
    )
    condition = rbac_condition([READER])
    delegated = az.json(
        "role", "assignment", "create",
        "--assignee-object-id", operator, "--assignee-principal-type", "ServicePrincipal",
        "--role", RBAC_ADMINISTRATOR, "--scope", f"/subscriptions/{SUBSCRIPTION_ID}",
        "--condition", condition, "--condition-version", "2.0",
    )
    assert (delegated["condition"], delegated["conditionVersion"]) == (condition, "2.0")

    # With them: it creates and owns an app, assigns Reader to a service principal, and
    # gets ARM's 403 for Contributor.
    me = login_as_granted(emulator, tmp_path_factory.mktemp("granted-after"))
    mine = me.json("ad", "app", "create", "--display-name", unique("az-granted"))
    assert [o["id"] for o in me.json("ad", "app", "owner", "list", "--id", mine["appId"])] == [operator]
    target = az.json("ad", "sp", "create", "--id", app["appId"])["id"]
    scope = f"{RESOURCE_GROUP}-delegated"
    assign = (
        "role", "assignment", "create", "--assignee-object-id", target,
        "--assignee-principal-type", "ServicePrincipal", "--scope", scope,
    )
    reader = me.json(*assign, "--role", "Reader")
    assert reader["roleDefinitionId"].endswith(READER)
    denied = me.run(*assign, "--role", "Contributor", expect=1)
    assert "AuthorizationFailed" in denied.stderr and "ABAC condition not fulfilled" in denied.stderr, denied.stderr
    # Another's app it may not change.
    denied = me.run("ad", "app", "update", "--id", app["appId"], "--set", "notes=not-mine", expect=1)
    assert "Insufficient privileges" in denied.stderr, denied.stderr


# ---- our rendered script, run by the real az ----

CONFIG = f"""
org: contoso
azure:
  tenant: TENANT
  subscription: {SUBSCRIPTION_ID}
deployments:
  - project: azcli
    stacks: [dev, prod]
    roles:
      - {{ role: Contributor, scope: {RESOURCE_GROUP} }}
  - project: azreports
    stacks: [prod]
    operations: [preview, update]
    roles:
      - {{ role: Reader, scope: {RESOURCE_GROUP} }}
"""


class Ours:
    """Our CLI, pointed at the emulator through its documented variables."""

    def __init__(self, emulator: Emulator, home: Path) -> None:
        self.program = binary(
            "PULUMI_AZURE_OIDC_CLI",
            target_dir() / "debug" / "pulumi-azure-oidc",
            "build it with `cargo build -p pulumi-azure-oidc-cli`",
        )
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AZURE_", "ARM_", "PULUMI_"))
        }
        self.env.update(
            HOME=str(home),
            PULUMI_AZURE_OIDC_ENDPOINT=emulator.https,
            PULUMI_AZURE_OIDC_CA_FILE=emulator.ca_file,
            AZURE_TENANT_ID=emulator.tenant,
            AZURE_CLIENT_ID=emulator.client_id,
            AZURE_CLIENT_SECRET=OPERATOR_SECRET,
            PULUMI_ACCESS_TOKEN=PULUMI_TOKEN,
        )

    def run(self, *args: str, expect: int = 0, stdin: Optional[str] = None) -> str:
        done = subprocess.run(
            [str(self.program), *args],
            env=self.env,
            capture_output=True,
            text=True,
            input=stdin,
            timeout=120,
        )
        out = done.stdout + done.stderr
        assert done.returncode == expect, f"{args} exited {done.returncode}:\n{out}"
        return done.stdout


def mint(emulator: Emulator, project: str, stack: str, operation: str) -> str:
    body = json.dumps(
        {
            "target": {"kind": "deployment", "org": "contoso", "project": project, "stack": stack},
            "operation": operation,
        }
    ).encode()
    request = urllib.request.Request(
        emulator.https + "/_emulator/mint",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # SSL_CERT_FILE: conftest
        answer = response.read().decode()
    try:
        return json.loads(answer)["token"]
    except (ValueError, KeyError):
        return answer.strip()


def run_script(az: Az, script: Path, work: Path) -> subprocess.CompletedProcess:
    env = {**az.env, "PULUMI_API": az.emulator.https, "PULUMI_ACCESS_TOKEN": PULUMI_TOKEN}
    done = subprocess.run(
        ["bash", str(script)], cwd=work, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"the script failed:\n{done.stdout}\n{done.stderr}"
    return done


def test_rendered_script_sets_up_what_status_and_verify_accept(
    az: Az, emulator: Emulator, tmp_path: Path
) -> None:
    ours = Ours(emulator, tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.replace("TENANT", emulator.tenant))
    script = tmp_path / "setup.sh"
    script.write_text(ours.run("render", "az", "--config", str(config)))

    first = run_script(az, script, tmp_path)
    assert "client id" in first.stdout

    status = json.loads(ours.run("status", "--config", str(config), "--output", "json"))
    assert status["converged"] is True, json.dumps(status, indent=2)

    # Safe to re-run: the second run finds everything and changes nothing.
    before = emulator_state(emulator)
    run_script(az, script, tmp_path)
    after = emulator_state(emulator)
    assert counts(after) == counts(before)

    for project, stack, operation in [
        ("azcli", "prod", "update"),
        ("azcli", "dev", "destroy"),
        ("azreports", "prod", "preview"),
    ]:
        token = mint(emulator, project, stack, operation)
        verdict = ours.run("verify", "--config", str(config), "--token", token, "--wait", "30")
        assert "accepted" in verdict, verdict

    # What the script made carries our tags, so our destroy takes it away again.
    ours.run("destroy", "--config", str(config), "--yes")
    status = json.loads(ours.run("status", "--config", str(config), "--output", "json", expect=1))
    assert status["converged"] is False


def emulator_state(emulator: Emulator) -> Dict[str, Any]:
    with urllib.request.urlopen(emulator.https + "/_emulator/state", timeout=30) as response:
        return json.loads(response.read())


def counts(state: Dict[str, Any]) -> List[int]:
    apps = state.get("applications", [])
    return [
        len(apps),
        sum(len(a.get("federatedIdentityCredentials", []) or []) for a in apps),
        len(state.get("servicePrincipals", [])),
        len(state.get("roleAssignments", [])),
    ]


# The example's tenant and subscription, which the emulator's directory and its one
# subscription are not (`az` refuses a scope in a subscription its account lacks).
EXAMPLE_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
EXAMPLE_SUBSCRIPTION = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"


def test_permissions_script_grants_exactly_enough_for_the_example(
    az: Az, emulator: Emulator, tmp_path: Path
) -> None:
    client_id, secret = GRANTED_OPERATORS["permissions"]
    ours = Ours(emulator, tmp_path)
    ours.env.update(
        AZURE_CLIENT_ID=client_id,
        AZURE_CLIENT_SECRET=secret,
        # The emulator meters managed-identity writes 1000 times faster (conftest).
        PULUMI_AZURE_OIDC_RATE_SCALE="1000",
    )
    example = (REPO / "examples" / "pulumi-azure-oidc.yaml").read_text(encoding="utf-8")
    config = tmp_path / "pulumi-azure-oidc.yaml"
    config.write_text(
        example.replace(EXAMPLE_TENANT, emulator.tenant).replace(EXAMPLE_SUBSCRIPTION, SUBSCRIPTION_ID)
    )

    # Holding nothing, the operator is stopped before its first write, told what to run.
    before = emulator_state(emulator)
    refused = subprocess.run(
        [str(ours.program), "apply", "--config", str(config), "--yes"],
        env=ours.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "permissions --config" in refused.stderr, refused.stderr
    assert counts(emulator_state(emulator)) == counts(before)
    assert emulator_state(emulator)["managedIdentities"] == before["managedIdentities"]

    # An admin (the `az` fixture's login) runs the printed script; twice is harmless.
    script = tmp_path / "grant.sh"
    script.write_text(
        ours.run("permissions", "--config", str(config), "--output", "az", "--operator", client_id)
    )
    run_script(az, script, tmp_path)
    run_script(az, script, tmp_path)

    ours.run("apply", "--config", str(config), "--yes")
    status = json.loads(ours.run("status", "--config", str(config), "--output", "json"))
    assert status["converged"] is True, json.dumps(status, indent=2)
    for project, stack in [("core", "dev"), ("platform", "prod")]:
        token = mint(emulator, project, stack, "update")
        verdict = ours.run("verify", "--config", str(config), "--token", token, "--wait", "30")
        assert "accepted" in verdict, verdict
    ours.run("destroy", "--config", str(config), "--yes")
    state = emulator_state(emulator)
    assert not [i for i in state["managedIdentities"] if i["resourceGroup"] == "pulumi-oidc"], state
