#![allow(clippy::unwrap_used)]
//! ARM role assignments as the emulator serves them: PUT 201/200,
//! 409 RoleAssignmentExists, 400 PrincipalNotFound, GET, list with
//! `$filter=principalId eq '…'`, DELETE 200/204, and the 401/403 answers.

mod common;

use common::{API_VERSION, Api, CONTRIBUTOR, READER, SUBSCRIPTION, role_assignment};
use pulumi_azure_oidc_emulator::{Operator, Options};
use reqwest::Method;
use serde_json::json;

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
    let expected = json!({
        "properties": {
            "roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}"),
            "principalId": sp,
            "principalType": "ServicePrincipal",
            "scope": SUBSCRIPTION,
        },
        "id": format!("{SUBSCRIPTION}/providers/Microsoft.Authorization/roleAssignments/{NAME}"),
        "type": "Microsoft.Authorization/roleAssignments",
        "name": NAME,
    });
    assert_eq!(created.json, expected);
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
        (200, &expected),
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
    // Changing the role under the same name: refused (code is an assumption).
    api.arm(Method::PUT, &path, Some(role_assignment(READER, &sp)))
        .await
        .assert_arm_error(409, "RoleAssignmentUpdateNotPermitted");
    // A second role under another name is fine.
    let reader = api
        .arm(Method::PUT, &other, Some(role_assignment(READER, &sp)))
        .await;
    assert_eq!(reader.status, 201, "{}", reader.text);

    // GET by name.
    let got = api.arm(Method::GET, &path, None).await;
    assert_eq!((got.status, &got.json), (200, &expected));
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
    assert_eq!(at_scope.json["value"].as_array().unwrap().len(), 2);
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
        (200, &expected),
        "{}",
        deleted.text
    );
    let again = api.arm(Method::DELETE, &path, None).await;
    assert_eq!((again.status, again.text.as_str()), (204, ""));
    api.arm(Method::GET, &path, None)
        .await
        .assert_arm_error(404, "RoleAssignmentNotFound");
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
        can_write: false,
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
