//! Microsoft Graph's identity and access budgets: what a request costs, the limits it
//! draws from, and the headers that report both.
//!
//! Source for every number and header here: microsoftgraph/microsoft-graph-docs-contrib
//! `concepts/throttling-limits.md`, section "Identity and access service limits" (the
//! page Learn publishes as `graph/throttling-limits`):
//!
//! - per application and tenant: 3,500 resource units per 10 seconds for a small tenant
//!   (S, under 50 users; M is 5,000 and L 8,000), and 3,000 writes per 2 minutes and 30
//!   seconds;
//! - per tenant, all applications together: 18,000 writes per 5 minutes;
//! - per application across all tenants: 150,000 resource units per 20 seconds and
//!   35,000 writes per 5 minutes (70,000 in older revisions). The emulator serves one
//!   tenant, where these can never bind before the per application and tenant limits,
//!   so they are not metered;
//! - a request's cost: 1 resource unit unless the table names the path (`GET
//!   applications` 2, `GET servicePrincipals/{id}/appRoleAssignments` 2, …); `$select`
//!   −1, `$expand` +1, `$top` below 20 −1, never below 1; each POST, PATCH, PUT and
//!   DELETE on a path the table does not name is also one write;
//! - every answer carries `x-ms-resource-unit` (the cost), and
//!   `x-ms-throttle-limit-percentage` once the application has used more than 0.8 of a
//!   limit; a 429 carries `x-ms-throttle-scope`
//!   (`<Scope>/<Limit>/<ApplicationId>/<TenantId>`) and `x-ms-throttle-information`.
//!
//! ASSUMPTION: the emulated tenant is small (S): it holds a handful of objects, and its
//! operators and apps are not users. ASSUMPTION: Graph says these limits are token
//! buckets but does not publish the buckets; each "N per T" is a bucket of N refilled
//! N/T per second (`throttle::Rate::window`), scaled by `Options::rate_scale`.
//!
//! A request refused for want of a permission still costs: Graph's 403 and 400 answers
//! carry `x-ms-resource-unit: 1` in public captures (for instance the 400 in
//! ugurkocde/IntuneRBAC#1), so a request is charged once, right after its token is
//! accepted and before its rights are judged. A request without a valid token names no
//! application and is not charged.

use std::time::{Duration, Instant};

use axum::http::{HeaderValue, Method};
use axum::response::Response;

use crate::http::{Req, graph_throttled, retry_after_value};
use crate::options::Budgets;
use crate::shared::{Grant, Shared, lock};
use crate::throttle::{Buckets, Draw, Rate, retry_after_secs};

/// Writes per application and tenant: 3,000 per 2 minutes 30 seconds.
const APP_WRITES: (f64, f64) = (3_000.0, 150.0);
/// Writes per tenant: 18,000 per 5 minutes.
const TENANT_WRITES: (f64, f64) = (18_000.0, 300.0);
/// Resource units per application and tenant, small tenant: 3,500 per 10 seconds.
const APP_RESOURCE_UNITS: (f64, f64) = (3_500.0, 10.0);

/// Above this share of a limit, answers carry `x-ms-throttle-limit-percentage`.
const REPORTED_USAGE: f64 = 0.8;

/// The base costs the documentation's table lists: method, path (`{id}` matches any one
/// segment), resource units. Every path listed has a write cost of 0; any other
/// identity path costs 1 resource unit, and 1 write for a POST, PATCH, PUT or DELETE.
const LISTED: &[(&str, &str, u32)] = &[
    ("GET", "applications", 2),
    ("GET", "applications/{id}/extensionProperties", 2),
    ("GET", "contracts", 3),
    ("POST", "directoryObjects/getByIds", 5),
    ("GET", "domains/{id}/domainNameReferences", 4),
    ("POST", "getObjectsById", 5),
    ("GET", "groups/{id}/members", 3),
    ("GET", "groups/{id}/transitiveMembers", 5),
    ("POST", "isMemberOf", 4),
    ("POST", "me/checkMemberGroups", 4),
    ("POST", "me/checkMemberObjects", 4),
    ("POST", "me/getMemberGroups", 2),
    ("POST", "me/getMemberObjects", 2),
    ("GET", "me/licenseDetails", 2),
    ("GET", "me/memberOf", 2),
    ("GET", "me/ownedObjects", 2),
    ("GET", "me/transitiveMemberOf", 2),
    ("GET", "oauth2PermissionGrants", 2),
    ("GET", "oauth2PermissionGrants/{id}", 2),
    ("GET", "servicePrincipals/{id}/appRoleAssignments", 2),
    ("GET", "subscribedSkus", 3),
    ("GET", "users", 2),
];

/// One of the limits a Graph request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    AppWrites,
    TenantWrites,
    AppResourceUnits,
}

impl Limit {
    /// The scope part of `x-ms-throttle-scope`.
    fn scope(self) -> &'static str {
        match self {
            Self::AppWrites | Self::AppResourceUnits => "Tenant_Application",
            Self::TenantWrites => "Tenant",
        }
    }

    /// The limit part of `x-ms-throttle-scope`: resource units are spent by reads and
    /// writes alike.
    fn kind(self) -> &'static str {
        match self {
            Self::AppWrites | Self::TenantWrites => "Write",
            Self::AppResourceUnits => "ReadWrite",
        }
    }

    /// `x-ms-throttle-information`, with the reasons the documentation names.
    fn information(self) -> &'static str {
        match self {
            Self::AppWrites | Self::TenantWrites => "WriteLimitExceeded",
            Self::AppResourceUnits => "ResourceUnitLimitExceeded",
        }
    }

    /// Whether the limit is the application's own (what the usage header reports).
    fn is_the_apps(self) -> bool {
        self != Self::TenantWrites
    }

    fn rate(self, scale: f64) -> Rate {
        let (count, seconds) = match self {
            Self::AppWrites => APP_WRITES,
            Self::TenantWrites => TENANT_WRITES,
            Self::AppResourceUnits => APP_RESOURCE_UNITS,
        };
        Rate::window(count, seconds, scale)
    }

    fn key(self, app: &str, tenant: &str) -> String {
        let tenant = tenant.to_ascii_lowercase();
        let app = app.to_ascii_lowercase();
        match self {
            Self::AppWrites => format!("graph app-writes {tenant} {app}"),
            Self::TenantWrites => format!("graph tenant-writes {tenant}"),
            Self::AppResourceUnits => format!("graph resource-units {tenant} {app}"),
        }
    }
}

/// What one request costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cost {
    pub(crate) resource_units: u32,
    pub(crate) write: bool,
}

/// The request's path under the version, one entry per segment, with an OData key
/// segment (`applications(appId='…')`) read as the collection and an id.
fn path_of(req: &Req) -> Vec<&str> {
    let mut path = Vec::new();
    for segment in req.segments.iter().skip(1) {
        match segment.split_once('(') {
            Some((entity, _)) if segment.ends_with(')') && !entity.is_empty() => {
                path.push(entity);
                path.push("{id}");
            }
            _ => path.push(segment.as_str()),
        }
    }
    path
}

fn matches(pattern: &str, path: &[&str]) -> bool {
    let parts: Vec<&str> = pattern.split('/').collect();
    // "Any request cost that applies to a request path starting with `me/` also applies
    // to equivalent requests starting with `users/{id | userPrincipalName}/`."
    let path: Vec<&str> = match path {
        [users, _, rest @ ..] if users.eq_ignore_ascii_case("users") && !rest.is_empty() => {
            std::iter::once("me").chain(rest.iter().copied()).collect()
        }
        _ => path.to_vec(),
    };
    parts.len() == path.len()
        && parts
            .iter()
            .zip(&path)
            .all(|(p, s)| *p == "{id}" || p.eq_ignore_ascii_case(s))
}

/// The documented cost of `req`.
pub(crate) fn cost(req: &Req) -> Cost {
    let path = path_of(req);
    let listed = LISTED
        .iter()
        .find(|(method, pattern, _)| req.method.as_str() == *method && matches(pattern, &path));
    let write = listed.is_none()
        && matches!(
            req.method,
            Method::POST | Method::PATCH | Method::PUT | Method::DELETE
        );
    let base = i64::from(listed.map_or(1, |(_, _, units)| *units));
    let selected = req.query("$select").is_some();
    let by_ids =
        listed.is_some_and(|(_, p, _)| *p == "directoryObjects/getByIds" || *p == "getObjectsById");
    let mut units = if selected && by_ids {
        // "Using `$select` for `directoryObjects/getByIds` and `getObjectsById` results
        // in 2 ResourceUnits."
        2
    } else {
        let mut units = base;
        if selected {
            units -= 1;
        }
        if req.query("$expand").is_some() {
            units += 1;
        }
        if req
            .query("$top")
            .and_then(|t| t.trim().parse::<i64>().ok())
            .is_some_and(|top| top < 20)
        {
            units -= 1;
        }
        units
    };
    // "A request cost can never be lower than 1."
    units = units.max(1);
    Cost {
        resource_units: u32::try_from(units).unwrap_or(1),
        write,
    }
}

/// Why a request was refused, and how long until it would pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Refused {
    pub(crate) limit: Limit,
    pub(crate) wait: Duration,
}

/// Charge `cost` to the buckets of application `app` in `tenant`: all of them or none.
/// Answers the largest share of the application's own limits now used (0 to 1).
pub(crate) fn charge(
    buckets: &mut Buckets,
    app: &str,
    tenant: &str,
    cost: Cost,
    scale: f64,
    now: Instant,
) -> Result<f64, Refused> {
    let mut limits = vec![(Limit::AppResourceUnits, f64::from(cost.resource_units))];
    if cost.write {
        limits.push((Limit::AppWrites, 1.0));
        limits.push((Limit::TenantWrites, 1.0));
    }
    let draws: Vec<Draw> = limits
        .iter()
        .map(|(limit, taken)| Draw::new(limit.key(app, tenant), limit.rate(scale), *taken))
        .collect();
    if let Err((wait, index)) = buckets.take_all(&draws, now) {
        let limit = limits.get(index).map_or(Limit::AppResourceUnits, |l| l.0);
        return Err(Refused { limit, wait });
    }
    let used = limits
        .iter()
        .zip(&draws)
        .filter(|((limit, _), _)| limit.is_the_apps())
        .map(|(_, draw)| {
            let left = buckets.tokens(&draw.key, draw.rate, now);
            (draw.rate.burst - left) / draw.rate.burst
        })
        .fold(0.0_f64, f64::max);
    Ok(used)
}

/// `x-ms-throttle-limit-percentage`: the share used as a decimal fraction, as the
/// documentation's examples write it (`0.8`, `1.0`, `1.2`), to two places, rounded
/// down so a value never claims more than was used.
pub(crate) fn usage_value(used: f64) -> String {
    let hundredths = (used * 100.0 + 1e-9).floor().clamp(0.0, 180.0);
    // Whole hundredths between 0 and 180, so the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let hundredths = hundredths as u32;
    let (whole, part) = (hundredths / 100, hundredths % 100);
    if part % 10 == 0 {
        format!("{whole}.{}", part / 10)
    } else {
        format!("{whole}.{part:02}")
    }
}

/// What a metered request is answered with besides its own headers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Metered {
    cost: Cost,
    /// The share of the application's limits used, when above 0.8.
    usage: Option<f64>,
}

/// Charge `req`, made with `grant`, to its budgets: the cost to stamp on its answer, or
/// the 429 that refuses it. With budgets off, only the cost.
pub(crate) fn meter(shared: &Shared, req: &Req, grant: &Grant) -> Result<Metered, Response> {
    let cost = cost(req);
    if shared.options.budgets == Budgets::Off {
        return Ok(Metered { cost, usage: None });
    }
    let scale = shared.options.rate_scale;
    let tenant = &shared.options.tenant_id;
    let charged = charge(
        &mut lock(&shared.throttle),
        &grant.client_id,
        tenant,
        cost,
        scale,
        Instant::now(),
    );
    match charged {
        Ok(used) => Ok(Metered {
            cost,
            usage: (used > REPORTED_USAGE).then_some(used),
        }),
        Err(refused) => {
            let secs = retry_after_secs(refused.wait, scale);
            shared.expect_retry_after(req, Duration::from_secs_f64(secs));
            {
                let mut stats = lock(&shared.stats);
                stats.metered_throttles += 1;
                let counter = match refused.limit {
                    Limit::AppWrites => &mut stats.budget_throttles.graph_app_writes,
                    Limit::TenantWrites => &mut stats.budget_throttles.graph_tenant_writes,
                    Limit::AppResourceUnits => &mut stats.budget_throttles.graph_resource_units,
                };
                *counter += 1;
            }
            let mut resp = graph_throttled(req);
            let headers = resp.headers_mut();
            headers.insert("retry-after", retry_after_value(secs));
            let scope = format!(
                "{}/{}/{}/{}",
                refused.limit.scope(),
                refused.limit.kind(),
                grant.client_id,
                tenant
            );
            if let Ok(v) = HeaderValue::from_str(&scope) {
                headers.insert("x-ms-throttle-scope", v);
            }
            headers.insert(
                "x-ms-throttle-information",
                HeaderValue::from_static(refused.limit.information()),
            );
            headers.insert("x-ms-resource-unit", HeaderValue::from(cost.resource_units));
            Err(resp)
        }
    }
}

/// Put the request's cost, and the usage when it is high, on its answer.
pub(crate) fn stamp(resp: &mut Response, metered: Metered) {
    let headers = resp.headers_mut();
    headers.insert(
        "x-ms-resource-unit",
        HeaderValue::from(metered.cost.resource_units),
    );
    if let Some(used) = metered.usage
        && let Ok(v) = HeaderValue::from_str(&usage_value(used))
    {
        headers.insert("x-ms-throttle-limit-percentage", v);
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderMap;

    use super::*;

    fn req(method: Method, path: &str, query: Option<&str>) -> Req {
        Req::new(method, path, query, HeaderMap::new(), bytes::Bytes::new())
    }

    fn units(method: Method, path: &str, query: Option<&str>) -> u32 {
        cost(&req(method, path, query)).resource_units
    }

    #[test]
    fn costs_follow_the_documented_table() {
        assert_eq!(units(Method::GET, "/v1.0/applications", None), 2);
        assert_eq!(units(Method::GET, "/v1.0/applications/abc", None), 1);
        assert_eq!(units(Method::GET, "/v1.0/applications(appId='x')", None), 1);
        assert_eq!(units(Method::GET, "/v1.0/servicePrincipals", None), 1);
        assert_eq!(
            units(
                Method::GET,
                "/v1.0/servicePrincipals/abc/appRoleAssignments",
                None
            ),
            2
        );
        assert_eq!(
            units(
                Method::GET,
                "/v1.0/servicePrincipals(appId='x')/appRoleAssignments",
                None
            ),
            2
        );
        assert_eq!(units(Method::GET, "/v1.0/users/someone/memberOf", None), 2);
        assert_eq!(
            units(Method::GET, "/v1.0/groups/g/transitiveMembers", None),
            5
        );
        let create = cost(&req(Method::POST, "/v1.0/applications", None));
        assert_eq!(
            create,
            Cost {
                resource_units: 1,
                write: true
            }
        );
        let lookup = cost(&req(Method::POST, "/v1.0/directoryObjects/getByIds", None));
        assert_eq!(
            lookup,
            Cost {
                resource_units: 5,
                write: false
            }
        );
        let read = cost(&req(Method::GET, "/v1.0/applications", None));
        assert!(!read.write);
    }

    #[test]
    fn query_options_change_the_cost_but_never_below_one() {
        assert_eq!(
            units(Method::GET, "/v1.0/applications", Some("$select=id")),
            1
        );
        assert_eq!(units(Method::GET, "/v1.0/applications", Some("$top=5")), 1);
        assert_eq!(units(Method::GET, "/v1.0/applications", Some("$top=20")), 2);
        assert_eq!(
            units(Method::GET, "/v1.0/applications", Some("$select=id&$top=5")),
            1
        );
        assert_eq!(
            units(Method::GET, "/v1.0/applications/a", Some("$expand=owners")),
            2
        );
        assert_eq!(
            units(
                Method::GET,
                "/v1.0/applications",
                Some("$expand=owners&$select=id")
            ),
            2
        );
        assert_eq!(
            units(
                Method::POST,
                "/v1.0/directoryObjects/getByIds",
                Some("$select=id")
            ),
            2
        );
    }

    const APP: &str = "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f";
    const TENANT: &str = "6f2c1d4e-8a3b-4c5d-9e0f-1a2b3c4d5e6f";
    const WRITE: Cost = Cost {
        resource_units: 1,
        write: true,
    };

    #[test]
    fn the_app_write_limit_refuses_the_3001st_write() {
        let mut b = Buckets::default();
        let t0 = Instant::now();
        for n in 0..3_000 {
            assert!(charge(&mut b, APP, TENANT, WRITE, 1.0, t0).is_ok(), "{n}");
        }
        let refused = charge(&mut b, APP, TENANT, WRITE, 1.0, t0).unwrap_err();
        assert_eq!(refused.limit, Limit::AppWrites);
        // One write comes back every 150/3000 s.
        assert!(
            (refused.wait.as_secs_f64() - 0.05).abs() < 1e-9,
            "{refused:?}"
        );
        assert!(charge(&mut b, APP, TENANT, WRITE, 1.0, t0 + refused.wait).is_ok());
        // Another application in the tenant has its own budget.
        assert!(charge(&mut b, "other-app", TENANT, WRITE, 1.0, t0).is_ok());
    }

    #[test]
    fn the_tenant_write_limit_counts_every_application() {
        let mut b = Buckets::default();
        let t0 = Instant::now();
        for app in 0..6 {
            for _ in 0..3_000 {
                let app = format!("app-{app}");
                assert!(charge(&mut b, &app, TENANT, WRITE, 1.0, t0).is_ok());
            }
        }
        let refused = charge(&mut b, "app-6", TENANT, WRITE, 1.0, t0).unwrap_err();
        assert_eq!(refused.limit, Limit::TenantWrites);
        assert_eq!(refused.limit.scope(), "Tenant");
        // Refused writes took nothing, and reads still pass.
        let read = Cost {
            resource_units: 1,
            write: false,
        };
        assert!(charge(&mut b, "app-6", TENANT, read, 1.0, t0).is_ok());
    }

    #[test]
    fn resource_units_are_spent_by_cost() {
        let mut b = Buckets::default();
        let t0 = Instant::now();
        let list = Cost {
            resource_units: 2,
            write: false,
        };
        for _ in 0..1_750 {
            assert!(charge(&mut b, APP, TENANT, list, 1.0, t0).is_ok());
        }
        let refused = charge(&mut b, APP, TENANT, list, 1.0, t0).unwrap_err();
        assert_eq!(refused.limit, Limit::AppResourceUnits);
        // Two units at 350 per second.
        assert!((refused.wait.as_secs_f64() - 2.0 / 350.0).abs() < 1e-9);
        // Scaled ten times: the same bucket, ten times the refill.
        let mut b = Buckets::default();
        for _ in 0..1_750 {
            assert!(charge(&mut b, APP, TENANT, list, 10.0, t0).is_ok());
        }
        let refused = charge(&mut b, APP, TENANT, list, 10.0, t0).unwrap_err();
        assert!((refused.wait.as_secs_f64() - 2.0 / 3_500.0).abs() < 1e-9);
    }

    #[test]
    fn usage_is_reported_as_the_largest_share_of_the_apps_limits() {
        let mut b = Buckets::default();
        let t0 = Instant::now();
        let mut used = 0.0;
        for _ in 0..2_400 {
            used = charge(&mut b, APP, TENANT, WRITE, 1.0, t0).unwrap();
        }
        assert!((used - 0.8).abs() < 1e-9, "{used}");
        used = charge(&mut b, APP, TENANT, WRITE, 1.0, t0).unwrap();
        assert!(used > 0.8);
        assert_eq!(usage_value(used), "0.8");
        assert_eq!(usage_value(0.856), "0.85");
        assert_eq!(usage_value(0.9), "0.9");
        assert_eq!(usage_value(1.0), "1.0");
        assert_eq!(usage_value(2.5), "1.8");
    }
}
