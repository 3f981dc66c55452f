#![allow(clippy::unwrap_used)]
//! ARM role assignments as the emulator serves them: PUT 201/200,
//! 409 RoleAssignmentExists, 400 PrincipalNotFound, GET, list with
//! `$filter=principalId eq '…'`, DELETE 200/204, and the 401/403 answers; the
//! built-in role definitions, listed by name and read by GUID.

mod common;

use common::{API_VERSION, Api, CONTRIBUTOR, READER, SUBSCRIPTION, role_assignment};
use pulumi_azure_oidc_emulator::{Operator, Options, Rights};
use reqwest::Method;
use serde_json::{Value, json};

const NAME: &str = "05c5a614-a7d6-4502-b150-c2fb455033ff";
const OTHER_NAME: &str = "15c5a614-a7d6-4502-b150-c2fb455033ff";

async fn principal(api: &Api) -> String {
    let app = api.create_app("pulumi-arm").await;
    let sp = api.create_sp(app["appId"].as_str().unwrap()).await;
    sp["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn role_assignment_lifecycle() {
    let api = Api::start().await;
    let sp = principal(&api).await;
    let path = api.role_assignment_path(SUBSCRIPTION, NAME);

    let created = api
        .arm(Method::PUT, &path, Some(role_assignment(CONTRIBUTOR, &sp)))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    // The properties of the recorded answer (Azure/azure-cli
    // `test_role_assignment_create_update.yaml`), the definition id as it was sent.
    let expected = json!({
        "properties": {
            "roleDefinitionId": format!("{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}"),
            "principalId": sp,
            "principalType": "ServicePrincipal",
            "scope": SUBSCRIPTION,
            "condition": null,
            "conditionVersion": null,
            "createdBy": null,
            "updatedBy": null,
            "delegatedManagedIdentityResourceId": null,
            "description": null,
        },
        "id": format!("{SUBSCRIPTION}/providers/Microsoft.Authorization/roleAssignments/{NAME}"),
        "type": "Microsoft.Authorization/roleAssignments",
        "name": NAME,
    });
    let created_on = created.json["properties"]["createdOn"].clone();
    assert!(
        created_on.as_str().is_some_and(is_arm_time),
        "{}",
        created.text
    );
    assert_eq!(created.json["properties"]["updatedOn"], created_on);
    let expected_timed = with_times(&expected, &created_on);
    assert_eq!(without_times(&created.json), expected);
    assert!(
        created
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert!(
        created
            .header("x-ms-ratelimit-remaining-subscription-writes")
            .is_some()
    );

    // Same name, same content: 200 with the same body.
    let again = api
        .arm(Method::PUT, &path, Some(role_assignment(CONTRIBUTOR, &sp)))
        .await;
    assert_eq!(
        (again.status, &again.json),
        (200, &expected_timed),
        "{}",
        again.text
    );

    // Another name for the same principal, role and scope: the captured 409.
    let other = api.role_assignment_path(SUBSCRIPTION, OTHER_NAME);
    let exists = api
        .arm(Method::PUT, &other, Some(role_assignment(CONTRIBUTOR, &sp)))
        .await;
    exists.assert_arm_error(409, "RoleAssignmentExists");
    assert_eq!(exists.message(), "The role assignment already exists.");
    // The definition id compares by its GUID, case-insensitively.
    let mut upper = role_assignment(&CONTRIBUTOR.to_uppercase(), &sp);
    upper["properties"]["roleDefinitionId"] = json!(format!(
        "/providers/Microsoft.Authorization/roleDefinitions/{}",
        CONTRIBUTOR.to_uppercase()
    ));
    api.arm(Method::PUT, &other, Some(upper))
        .await
        .assert_arm_error(409, "RoleAssignmentExists");
    // Changing the role under the same name: refused with 400 (azure-docs
    // `role-based-access-control/troubleshooting.md`).
    api.arm(Method::PUT, &path, Some(role_assignment(READER, &sp)))
        .await
        .assert_arm_error(400, "RoleAssignmentUpdateNotPermitted");
    // A second role under another name is fine.
    let reader = api
        .arm(Method::PUT, &other, Some(role_assignment(READER, &sp)))
        .await;
    assert_eq!(reader.status, 201, "{}", reader.text);

    // GET by name.
    let got = api.arm(Method::GET, &path, None).await;
    assert_eq!((got.status, &got.json), (200, &expected_timed));
    assert!(
        got.header("x-ms-ratelimit-remaining-subscription-reads")
            .is_some()
    );

    // List by principal: at, above and below the scope.
    let list_path = |scope: &str, filter: &str| {
        format!(
            "{scope}/providers/Microsoft.Authorization/roleAssignments?{API_VERSION}&$filter={}",
            urlencode(filter)
        )
    };
    let listed = api
        .arm(
            Method::GET,
            &list_path(SUBSCRIPTION, &format!("principalId eq '{sp}'")),
            None,
        )
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let mut names: Vec<&str> = listed.json["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, [NAME, OTHER_NAME]);
    // The documented unquoted form answers the same.
    let unquoted = api
        .arm(
            Method::GET,
            &list_path(SUBSCRIPTION, &format!("principalId eq {sp}")),
            None,
        )
        .await;
    assert_eq!(unquoted.json, listed.json);
    api.arm(
        Method::GET,
        &list_path(SUBSCRIPTION, "principalId eq 'a' and x"),
        None,
    )
    .await
    .assert_arm_error(400, "UnsupportedQuery");
    let below = format!("{SUBSCRIPTION}/resourceGroups/rg-app");
    let from_below = api
        .arm(
            Method::GET,
            &list_path(&below, &format!("principalId eq '{sp}'")),
            None,
        )
        .await;
    assert_eq!(
        from_below.json["value"].as_array().unwrap().len(),
        2,
        "{}",
        from_below.text
    );
    let nobody = api
        .arm(
            Method::GET,
            &list_path(
                SUBSCRIPTION,
                "principalId eq '00000000-0000-4000-8000-000000000009'",
            ),
            None,
        )
        .await;
    assert_eq!(
        (nobody.status, nobody.json.clone()),
        (200, json!({"value": []}))
    );
    let at_scope = api
        .arm(Method::GET, &list_path(&below, "atScope()"), None)
        .await;
    // The two above, and the default operator's implicit Owner at `/` (listed, never
    // stored).
    let listed = at_scope.json["value"].as_array().unwrap();
    assert_eq!(listed.len(), 3, "{}", at_scope.text);
    assert_eq!(
        listed
            .iter()
            .filter(|a| a["properties"]["scope"] == "/")
            .count(),
        1
    );
    api.arm(
        Method::GET,
        &list_path(SUBSCRIPTION, "roleDefinitionId eq 'x'"),
        None,
    )
    .await
    .assert_arm_error(400, "UnsupportedQuery");

    // DELETE: 200 with the body, then 204 with none; GET then 404.
    let deleted = api.arm(Method::DELETE, &path, None).await;
    assert_eq!(
        (deleted.status, &deleted.json),
        (200, &expected_timed),
        "{}",
        deleted.text
    );
    let again = api.arm(Method::DELETE, &path, None).await;
    assert_eq!((again.status, again.text.as_str()), (204, ""));
    api.arm(Method::GET, &path, None)
        .await
        .assert_arm_error(404, "RoleAssignmentNotFound");
}

/// `2023-08-23T13:05:38.8480660Z`: ARM's time, seven fractional digits.
fn is_arm_time(s: &str) -> bool {
    s.len() == 28
        && s.ends_with('Z')
        && s.as_bytes()[10] == b'T'
        && s.as_bytes()[19] == b'.'
        && s[20..27].bytes().all(|b| b.is_ascii_digit())
}

fn without_times(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(p) = v["properties"].as_object_mut() {
        p.remove("createdOn");
        p.remove("updatedOn");
    }
    v
}

fn with_times(v: &Value, at: &Value) -> Value {
    let mut v = v.clone();
    v["properties"]["createdOn"] = at.clone();
    v["properties"]["updatedOn"] = at.clone();
    v
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn principal_not_found_and_bad_requests() {
    let api = Api::start().await;
    let sp = principal(&api).await;
    let ghost = "3f2b2e4c-1d5a-4b6c-8d7e-9f0a1b2c3d4e";
    let r = api
        .arm(
            Method::PUT,
            &api.role_assignment_path(SUBSCRIPTION, NAME),
            Some(role_assignment(CONTRIBUTOR, ghost)),
        )
        .await;
    r.assert_arm_error(400, "PrincipalNotFound");
    // The captured message, principal id without dashes, double space before "See".
    assert_eq!(
        r.message(),
        format!(
            "Principal {} does not exist in the directory {}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype",
            ghost.replace('-', ""),
            api.emu.tenant_id()
        )
    );

    let not_guid = api
        .arm(
            Method::PUT,
            &api.role_assignment_path(SUBSCRIPTION, "my-assignment"),
            Some(role_assignment(CONTRIBUTOR, &sp)),
        )
        .await;
    not_guid.assert_arm_error(400, "InvalidRoleAssignmentId");
    let no_version =
        format!("{SUBSCRIPTION}/providers/Microsoft.Authorization/roleAssignments/{NAME}");
    api.arm(
        Method::PUT,
        &no_version,
        Some(role_assignment(CONTRIBUTOR, &sp)),
    )
    .await
    .assert_arm_error(400, "MissingApiVersionParameter");
    let path = api.role_assignment_path(SUBSCRIPTION, NAME);
    api.arm(
        Method::PUT,
        &path,
        Some(json!({"properties": {"principalId": sp}})),
    )
    .await
    .assert_arm_error(400, "InvalidRequestContent");
    let mut bad_role = role_assignment(CONTRIBUTOR, &sp);
    bad_role["properties"]["roleDefinitionId"] = json!("Contributor");
    api.arm(Method::PUT, &path, Some(bad_role))
        .await
        .assert_arm_error(400, "RoleDefinitionDoesNotExist");
    let mut bad_type = role_assignment(CONTRIBUTOR, &sp);
    bad_type["properties"]["principalType"] = json!("Robot");
    api.arm(Method::PUT, &path, Some(bad_type))
        .await
        .assert_arm_error(400, "InvalidPrincipalType");
    // Without principalType the default is User, as ARM's.
    let mut untyped = role_assignment(CONTRIBUTOR, &sp);
    untyped["properties"]
        .as_object_mut()
        .unwrap()
        .remove("principalType");
    let created = api.arm(Method::PUT, &path, Some(untyped)).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.json["properties"]["principalType"], "User");
    // Other resource types are not served.
    api.arm(
        Method::GET,
        &format!("{SUBSCRIPTION}/providers/Microsoft.Compute/virtualMachines?{API_VERSION}"),
        None,
    )
    .await
    .assert_arm_error(404, "InvalidResourceType");
    api.arm(Method::POST, &path, Some(json!({})))
        .await
        .assert_arm_error(405, "MethodNotAllowed");
}

#[tokio::test(flavor = "multi_thread")]
async fn arm_refuses_missing_foreign_and_unknown_tokens_and_read_only_writes() {
    let mut options = Options::default();
    options.operators.push(Operator {
        client_id: "21111111-2222-4333-8444-555555555555".into(),
        client_secret: "reader".into(),
        rights: Rights::ReadOnly,
    });
    let api = Api::start_with(options).await;
    let sp = principal(&api).await;
    let url = format!(
        "{}{}",
        api.base,
        api.role_assignment_path(SUBSCRIPTION, NAME)
    );
    let body = role_assignment(CONTRIBUTOR, &sp);
    api.send(Method::PUT, &url, None, Some(&body), &[])
        .await
        .assert_arm_error(401, "AuthenticationFailed");
    let graph = format!("Bearer {}", api.graph_token);
    api.send(Method::PUT, &url, Some(&graph), Some(&body), &[])
        .await
        .assert_arm_error(401, "InvalidAuthenticationTokenAudience");
    api.send(Method::GET, &url, Some("Bearer nope"), None, &[])
        .await
        .assert_arm_error(401, "InvalidAuthenticationToken");

    let token = api
        .secret_token(
            "21111111-2222-4333-8444-555555555555",
            "reader",
            common::ARM_SCOPE,
        )
        .await;
    let reader = format!("Bearer {token}");
    let denied = api
        .send(Method::PUT, &url, Some(&reader), Some(&body), &[])
        .await;
    denied.assert_arm_error(403, "AuthorizationFailed");
    assert!(
        denied
            .message()
            .contains("Microsoft.Authorization/roleAssignments/write")
    );
    let delete = api
        .send(Method::DELETE, &url, Some(&reader), None, &[])
        .await;
    delete.assert_arm_error(403, "AuthorizationFailed");
    assert!(delete.message().contains("roleAssignments/delete"));
    // Reads are allowed.
    let get = api.send(Method::GET, &url, Some(&reader), None, &[]).await;
    get.assert_arm_error(404, "RoleAssignmentNotFound");
}

#[tokio::test(flavor = "multi_thread")]
async fn optional_properties_echo_and_the_definition_id_keeps_its_form() {
    let api = Api::start().await;
    let sp = principal(&api).await;
    let path = api.role_assignment_path(SUBSCRIPTION, NAME);
    let tenant_form = format!("/providers/Microsoft.Authorization/roleDefinitions/{READER}");
    let mut body = role_assignment(READER, &sp);
    body["properties"]["roleDefinitionId"] = json!(tenant_form);
    body["properties"]["description"] = json!("read the subscription");
    body["properties"]["condition"] = json!(
        "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:Name] stringEquals 'foo'"
    );
    body["properties"]["conditionVersion"] = json!("2.0");
    let created = api.arm(Method::PUT, &path, Some(body.clone())).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let props = &created.json["properties"];
    assert_eq!(props["roleDefinitionId"], json!(tenant_form));
    assert_eq!(props["description"], "read the subscription");
    assert_eq!(props["conditionVersion"], "2.0");
    assert_eq!(props["condition"], body["properties"]["condition"]);

    // The same assignment with another description: 200, the description changes.
    body["properties"]["description"] = json!("read it all");
    let updated = api.arm(Method::PUT, &path, Some(body)).await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(updated.json["properties"]["description"], "read it all");
    assert_eq!(
        updated.json["properties"]["createdOn"],
        created.json["properties"]["createdOn"]
    );
    let got = api.arm(Method::GET, &path, None).await;
    assert_eq!(got.json, updated.json);
}

#[tokio::test(flavor = "multi_thread")]
async fn role_definitions_list_by_name_and_read_by_guid() {
    let api = Api::start().await;
    let list = |scope: &str, filter: Option<&str>| {
        let filter = filter
            .map(|f| format!("&$filter={}", urlencode(f)))
            .unwrap_or_default();
        format!("{scope}/providers/Microsoft.Authorization/roleDefinitions?{API_VERSION}{filter}")
    };
    // The recorded lookup: a lower-case name at a resource-group scope finds Reader,
    // with the id in the subscription's form (Azure/azure-cli
    // `test_role_assignment_create_update.yaml`).
    let rg = format!("{SUBSCRIPTION}/resourceGroups/rg-app");
    let reader = api
        .arm(Method::GET, &list(&rg, Some("roleName eq 'reader'")), None)
        .await;
    assert_eq!(reader.status, 200, "{}", reader.text);
    assert_eq!(
        reader.json,
        json!({"value": [{
            "properties": {
                "roleName": "Reader",
                "type": "BuiltInRole",
                "description": "View all resources, but does not allow you to make any changes.",
                "assignableScopes": ["/"],
                "permissions": [{"actions": ["*/read"], "notActions": [], "dataActions": [], "notDataActions": []}],
            },
            "id": format!("{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{READER}"),
            "type": "Microsoft.Authorization/roleDefinitions",
            "name": READER,
        }]})
    );
    assert!(
        reader
            .header("x-ms-ratelimit-remaining-subscription-reads")
            .is_some()
    );

    let contributor = api
        .arm(
            Method::GET,
            &list(SUBSCRIPTION, Some("roleName eq 'Contributor'")),
            None,
        )
        .await;
    let value = contributor.json["value"].as_array().unwrap();
    assert_eq!(value.len(), 1, "{}", contributor.text);
    assert_eq!(value[0]["name"], CONTRIBUTOR);
    assert!(
        value[0]["properties"]["permissions"][0]["notActions"]
            .as_array()
            .unwrap()
            .contains(&json!("Microsoft.Authorization/*/Write"))
    );

    // Outside a subscription the id is the tenant-level one.
    let mg = "/providers/Microsoft.Management/managementGroups/mg-1";
    let owner = api
        .arm(Method::GET, &list(mg, Some("roleName eq 'Owner'")), None)
        .await;
    assert_eq!(
        owner.json["value"][0]["id"],
        "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
    );

    let all = api.arm(Method::GET, &list(SUBSCRIPTION, None), None).await;
    let names: Vec<&str> = all.json["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["properties"]["roleName"].as_str().unwrap())
        .collect();
    for role in [
        "Owner",
        "Contributor",
        "Reader",
        "User Access Administrator",
    ] {
        assert!(names.contains(&role), "{names:?}");
    }
    let built_in = api
        .arm(
            Method::GET,
            &list(SUBSCRIPTION, Some("type eq 'BuiltInRole'")),
            None,
        )
        .await;
    assert_eq!(built_in.json, all.json);
    let custom = api
        .arm(
            Method::GET,
            &list(SUBSCRIPTION, Some("type eq 'CustomRole'")),
            None,
        )
        .await;
    assert_eq!(custom.json, json!({"value": []}));
    let nothing = api
        .arm(
            Method::GET,
            &list(SUBSCRIPTION, Some("roleName eq 'No Such Role'")),
            None,
        )
        .await;
    assert_eq!((nothing.status, nothing.json), (200, json!({"value": []})));
    api.arm(
        Method::GET,
        &list(SUBSCRIPTION, Some("description eq 'x'")),
        None,
    )
    .await
    .assert_arm_error(400, "UnsupportedQuery");

    let by_guid = format!(
        "{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}?{API_VERSION}"
    );
    let got = api.arm(Method::GET, &by_guid, None).await;
    assert_eq!((got.status, &got.json), (200, &value[0]));
    api.arm(
        Method::GET,
        &format!(
            "{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-4000-8000-00000000dead?{API_VERSION}"
        ),
        None,
    )
    .await
    .assert_arm_error(404, "RoleDefinitionDoesNotExist");
    api.arm(Method::PUT, &by_guid, Some(json!({"properties": {}})))
        .await
        .assert_arm_error(405, "MethodNotAllowed");
}
