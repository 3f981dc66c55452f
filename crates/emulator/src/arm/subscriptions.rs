//! ARM subscriptions (`Microsoft.Resources`, api-version 2022-12-01): the one
//! subscription of the emulated tenant, listed and read, as `az login` and
//! `az account set` ask for them.
//!
//! Sources: Azure/azure-rest-api-specs `specification/resources/resource-manager/Microsoft.Resources/stable/2022-12-01/examples/GetSubscriptions.json`
//! and `GetSubscription.json` (the fields; the list without `nextLink` when there is no
//! more). ASSUMPTION: the 404 for an unknown subscription, `SubscriptionNotFound` with
//! "The subscription '…' could not be found.", is the widely seen answer, not a
//! documented one.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::http::{Req, arm_error, arm_json};
use crate::options::DEFAULT_SUBSCRIPTION_ID;
use crate::shared::Shared;

fn subscription(shared: &Shared) -> Value {
    json!({
        "id": format!("/subscriptions/{DEFAULT_SUBSCRIPTION_ID}"),
        "subscriptionId": DEFAULT_SUBSCRIPTION_ID,
        "tenantId": shared.options.tenant_id,
        "displayName": "Emulated Subscription",
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Internal_2014-09-01",
            "quotaId": "Internal_2014-09-01",
            "spendingLimit": "Off",
        },
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
    })
}

pub(super) fn list(shared: &Shared, req: &Req) -> Response {
    arm_json(
        req,
        StatusCode::OK,
        &json!({"value": [subscription(shared)]}),
    )
}

pub(super) fn get(shared: &Shared, req: &Req, id: &str) -> Response {
    if id.eq_ignore_ascii_case(DEFAULT_SUBSCRIPTION_ID) {
        return arm_json(req, StatusCode::OK, &subscription(shared));
    }
    arm_error(
        req,
        StatusCode::NOT_FOUND,
        "SubscriptionNotFound",
        &format!("The subscription '{id}' could not be found."),
    )
}
