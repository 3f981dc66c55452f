"""Pulumi's own Python clients against the emulator's Pulumi Cloud: `pulumi-esc-sdk`
(`EscClient`, and its generated `EscApi` where a call needs the response headers or
a request header) and `pulumi-cloud-sdk` (`DeploymentsApi`). Unchanged apart from the
API URL, the access token and the trusted CA (`ssl_ca_cert` for the ESC client, whose
urllib3 pool ignores `SSL_CERT_FILE`; the cloud client's urllib reads `SSL_CERT_FILE`,
which conftest sets)."""

import base64
import json
import urllib.error
from typing import Any, Dict

import pulumi_cloud_sdk
import pulumi_esc_sdk
import pytest
from pulumi_cloud_sdk import models as cloud_models
from pulumi_cloud_sdk.apis.deployments_api_ import DeploymentsApi
from pulumi_esc_sdk.exceptions import ApiException, NotFoundException

from conftest import PULUMI_ISSUER, Emulator, unique

# The emulator's default Pulumi access token (docs/emulator.md); a test value.
PULUMI_TOKEN = "pul-emulator-access-token"
ORG = "contoso"

CLIENT_ID = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
TENANT_ID = "6f2c1d4e-8a3b-4c5d-9e0f-1a2b3c4d5e6f"
SUBSCRIPTION_ID = "00000000-0000-4000-8000-000000000001"

AZURE_LOGIN_YAML = f"""values:
  azure:
    login:
      fn::open::azure-login:
        clientId: {CLIENT_ID}
        tenantId: {TENANT_ID}
        subscriptionId: {SUBSCRIPTION_ID}
        oidc: true
  environmentVariables:
    ARM_USE_OIDC: "true"
    ARM_CLIENT_ID: ${{azure.login.clientId}}
    ARM_TENANT_ID: ${{azure.login.tenantId}}
    ARM_SUBSCRIPTION_ID: ${{azure.login.subscriptionId}}
    ARM_OIDC_TOKEN: ${{azure.login.oidc.token}}
"""


def esc_client(emulator: Emulator) -> pulumi_esc_sdk.EscClient:
    configuration = pulumi_esc_sdk.Configuration(
        host=emulator.https, access_token=PULUMI_TOKEN, ssl_ca_cert=emulator.ca_file
    )
    return pulumi_esc_sdk.EscClient(configuration)


def deployments(emulator: Emulator) -> DeploymentsApi:
    configuration = pulumi_cloud_sdk.Configuration()
    configuration.host = emulator.https
    configuration.access_token = PULUMI_TOKEN
    return DeploymentsApi(pulumi_cloud_sdk.ApiClient(configuration))


def jwt_claims(token: str) -> Dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_environment_create_check_update_with_etag_list_delete(emulator: Emulator) -> None:
    client = esc_client(emulator)
    project, name = "infra", unique("env")
    client.create_environment(ORG, project, name)

    checked = client.check_environment_yaml(ORG, AZURE_LOGIN_YAML)
    assert checked.diagnostics == []
    # A check evaluates without opening providers: their outputs are unknown.
    assert checked.properties["azure"].value["login"]["unknown"] is True
    assert checked.properties["environmentVariables"].value["ARM_USE_OIDC"]["value"] == "true"
    refused = client.check_environment_yaml(ORG, "values: [\n")
    assert refused.diagnostics and refused.diagnostics[0].summary

    assert client.update_environment_yaml(ORG, project, name, AZURE_LOGIN_YAML).diagnostics == []
    read = client.esc_api.get_environment_with_http_info(ORG, project, name)
    # The SDK hands back the headers as a plain dict under their wire (lower-case) names.
    etag, revision = read.headers["etag"], int(read.headers["pulumi-esc-revision"])
    assert etag and revision == 2
    login = read.data.values.additional_properties["azure"]["login"]["fn::open::azure-login"]
    assert login == {
        "clientId": CLIENT_ID,
        "tenantId": TENANT_ID,
        "subscriptionId": SUBSCRIPTION_ID,
        "oidc": True,
    }
    definition, raw = client.get_environment(ORG, project, name)
    assert raw.decode() == AZURE_LOGIN_YAML
    assert definition.values.environment_variables["ARM_CLIENT_ID"] == "${azure.login.clientId}"

    changed = AZURE_LOGIN_YAML + "  region: westeurope\n"
    diagnostics = client.esc_api.update_environment_yaml(
        ORG, project, name, changed, _headers={"ETag": etag}
    )
    assert diagnostics.diagnostics == []
    after = client.esc_api.get_environment_e_tag_with_http_info(ORG, project, name).headers
    assert int(after["pulumi-esc-revision"]) == revision + 1
    assert after["etag"] != etag

    with pytest.raises(ApiException) as stale:
        client.esc_api.update_environment_yaml(
            ORG, project, name, AZURE_LOGIN_YAML, _headers={"ETag": etag}
        )
    assert stale.value.status == 409
    assert client.get_environment(ORG, project, name)[1].decode() == changed

    listed = client.list_environments(ORG).environments
    mine = [e for e in listed if (e.project, e.name) == (project, name)]
    assert len(mine) == 1 and mine[0].organization == ORG and mine[0].created

    client.delete_environment(ORG, project, name)
    with pytest.raises(NotFoundException):
        client.get_environment(ORG, project, name)
    assert all(e.name != name for e in client.list_environments(ORG).environments)


def test_open_resolves_azure_login_and_its_references(emulator: Emulator) -> None:
    client = esc_client(emulator)
    project, name = "infra", unique("env")
    client.create_environment(ORG, project, name)
    client.update_environment_yaml(ORG, project, name, AZURE_LOGIN_YAML)

    opened = client.open_environment(ORG, project, name)
    assert opened.id
    environment, values, raw = client.read_open_environment(ORG, project, name, opened.id)
    login = values["azure"]["login"]
    assert login["clientId"] == CLIENT_ID
    assert login["tenantId"] == TENANT_ID
    assert login["subscriptionId"] == SUBSCRIPTION_ID
    token = login["oidc"]["token"]
    claims = jwt_claims(token)
    # The documented ESC claims: azure-login's audience and the default subject.
    assert claims["iss"] == PULUMI_ISSUER
    assert claims["aud"] == f"azure:{ORG}"
    assert claims["sub"] == f"pulumi:environments:org:{ORG}:env:{project}/{name}"
    token_value = environment.properties["azure"].value["login"]["value"]["oidc"]["value"]["token"]
    assert token_value["secret"] is True

    variables = values["environmentVariables"]
    assert variables["ARM_CLIENT_ID"] == CLIENT_ID
    assert variables["ARM_SUBSCRIPTION_ID"] == SUBSCRIPTION_ID
    assert variables["ARM_OIDC_TOKEN"] == token
    assert json.loads(raw)["properties"]["environmentVariables"]["value"]["ARM_USE_OIDC"]["value"] == "true"

    # `subjectAttributes` changes the subject, as ESC documents.
    with_attributes = AZURE_LOGIN_YAML.replace(
        "        oidc: true\n",
        "        oidc: true\n        subjectAttributes:\n          - currentEnvironment.name\n",
    )
    client.update_environment_yaml(ORG, project, name, with_attributes)
    _, values, _ = client.open_and_read_environment(ORG, project, name)
    assert jwt_claims(values["azure"]["login"]["oidc"]["token"])["sub"] == (
        f"pulumi:environments:pulumi.organization.login:{ORG}"
        f":currentEnvironment.name:{project}/{name}"
    )
    client.delete_environment(ORG, project, name)


def test_open_refuses_a_reference_to_nothing(emulator: Emulator) -> None:
    client = esc_client(emulator)
    project, name = "infra", unique("env")
    client.create_environment(ORG, project, name)
    client.update_environment_yaml(ORG, project, name, "values:\n  a: ${azure.login.clientId}\n")
    with pytest.raises(ApiException) as refused:
        client.open_environment(ORG, project, name)
    assert refused.value.status == 400
    assert refused.value.data.diagnostics[0].summary == 'unknown property "azure.login.clientId"'
    client.delete_environment(ORG, project, name)


def azure_oidc_patch() -> cloud_models.DeploymentSettingsRequest:
    azure = cloud_models.OperationContextAzureOIDCConfigurationRequest(
        client_id=CLIENT_ID, tenant_id=TENANT_ID, subscription_id=SUBSCRIPTION_ID
    )
    return cloud_models.DeploymentSettingsRequest(
        operation_context=cloud_models.OperationContextRequest(
            oidc=cloud_models.OperationContextOIDCConfigurationRequest(azure=azure)
        )
    )


def test_deployment_settings_get_patch_replace_delete(emulator: Emulator) -> None:
    api = deployments(emulator)
    project, stack = "core", unique("dev")
    with pytest.raises(urllib.error.HTTPError) as missing:
        api.get_deployment_settings(ORG, project, stack)
    assert missing.value.code == 404

    patched = api.patch_deployment_settings(ORG, project, stack, azure_oidc_patch())
    azure = patched.operation_context.oidc.azure
    assert (azure.client_id, azure.tenant_id, azure.subscription_id) == (
        CLIENT_ID,
        TENANT_ID,
        SUBSCRIPTION_ID,
    )
    read = api.get_deployment_settings(ORG, project, stack)
    assert read.operation_context.oidc.azure.client_id == CLIENT_ID

    source = cloud_models.SourceContextRequest(
        git=cloud_models.SourceContextGitRequest(
            repo_url="https://github.com/contoso/core.git", branch="refs/heads/main"
        )
    )
    replaced = api.replace_deployment_settings(
        ORG, project, stack, cloud_models.DeploymentSettingsRequest(source_context=source)
    )
    # PUT replaces the whole: the OIDC settings it did not carry are gone.
    assert replaced.source_context.git.repo_url == "https://github.com/contoso/core.git"
    assert replaced.operation_context is None
    assert api.get_deployment_settings(ORG, project, stack).operation_context is None

    api.delete_deployment_settings(ORG, project, stack)
    with pytest.raises(urllib.error.HTTPError) as gone:
        api.get_deployment_settings(ORG, project, stack)
    assert gone.value.code == 404


def test_a_model_patch_sends_nulls_that_remove_what_it_does_not_name(emulator: Emulator) -> None:
    """`PatchDeploymentSettings` removes a property the patch sets to null (Pulumi's
    REST API reference; pulumi/pulumi#24525 relies on it), and this SDK writes every
    unset field of a model as an explicit null: a model patch of the OIDC settings
    erases the stack's source. A patch given as a plain mapping carries only its keys."""
    api = deployments(emulator)
    project, stack = "core", unique("dev")
    source = cloud_models.SourceContextRequest(
        git=cloud_models.SourceContextGitRequest(
            repo_url="https://github.com/contoso/core.git", branch="refs/heads/main"
        )
    )
    api.patch_deployment_settings(
        ORG, project, stack, cloud_models.DeploymentSettingsRequest(source_context=source)
    )
    sent = pulumi_cloud_sdk.default_encoder.sanitize_for_serialization(azure_oidc_patch())
    assert "sourceContext" in sent and sent["sourceContext"] is None

    after_model = api.patch_deployment_settings(ORG, project, stack, azure_oidc_patch())
    assert after_model.source_context is None
    assert after_model.operation_context.oidc.azure.client_id == CLIENT_ID

    api.patch_deployment_settings(
        ORG, project, stack, cloud_models.DeploymentSettingsRequest(source_context=source)
    )
    plain = {"operationContext": {"oidc": {"azure": {"clientId": CLIENT_ID, "tenantId": TENANT_ID}}}}
    after_mapping = api.patch_deployment_settings(ORG, project, stack, plain)  # type: ignore[arg-type]
    assert after_mapping.source_context.git.repo_url == "https://github.com/contoso/core.git"
    assert after_mapping.operation_context.oidc.azure.tenant_id == TENANT_ID
    api.delete_deployment_settings(ORG, project, stack)


def test_a_wrong_token_is_refused(emulator: Emulator) -> None:
    configuration = pulumi_esc_sdk.Configuration(
        host=emulator.https, access_token="not-the-token", ssl_ca_cert=emulator.ca_file
    )
    client = pulumi_esc_sdk.EscClient(configuration)
    with pytest.raises(ApiException) as refused:
        client.list_environments(ORG)
    assert refused.value.status == 401


def test_stacks_and_environments_are_listed_page_by_page(
    tmp_path_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two lists a config's `"*"` entries are filled from, read by Pulumi's own
    clients following the continuation tokens: `pulumi-cloud-sdk`'s
    `UsersApi.list_user_stacks` (`continuationToken`) after `OrganizationsApi.create_stack`,
    and `pulumi-esc-sdk`'s `list_environments` (`nextToken`). An emulator of its own
    with two items a page, so five of each take three pages."""
    from pulumi_cloud_sdk.apis.organizations_api_ import OrganizationsApi
    from pulumi_cloud_sdk.apis.users_api_ import UsersApi
    from pulumi_cloud_sdk.models.app_create_stack_request_ import AppCreateStackRequest

    from emulator_process import run_emulator

    tmp = tmp_path_factory.mktemp("paged")
    with run_emulator(tmp, "--port", "0", "--https-port", "0", "--list-page-size", "2") as info:
        emulator = Emulator(info)
        # This emulator has a CA of its own; pulumi-cloud-sdk's urllib reads SSL_CERT_FILE.
        monkeypatch.setenv("SSL_CERT_FILE", emulator.ca_file)
        configuration = pulumi_cloud_sdk.Configuration()
        configuration.host = emulator.https
        configuration.access_token = PULUMI_TOKEN
        api = pulumi_cloud_sdk.ApiClient(configuration)
        for stack in ["s1", "s2", "s3", "s4", "s5"]:
            OrganizationsApi(api).create_stack(ORG, "paged", AppCreateStackRequest(stack_name=stack))
        seen, token, pages = [], None, 0
        while True:
            page = UsersApi(api).list_user_stacks(organization=ORG, continuation_token=token)
            pages += 1
            seen += [(s.project_name, s.stack_name) for s in page.stacks]
            token = page.continuation_token
            if not token:
                break
        assert pages == 3
        assert seen == [("paged", f"s{i}") for i in range(1, 6)]

        client = esc_client(emulator)
        for env in ["e1", "e2", "e3", "e4", "e5"]:
            client.create_environment(ORG, "paged", env)
        names, token, pages = [], None, 0
        while True:
            page = client.list_environments(ORG, token)
            pages += 1
            names += [e.name for e in page.environments]
            token = page.next_token
            if not token:
                break
        assert pages == 3
        assert sorted(names) == ["e1", "e2", "e3", "e4", "e5"]
