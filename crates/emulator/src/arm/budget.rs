//! ARM's own request budgets, which every request meets before any resource provider
//! sees it: token buckets per operation type (reads, writes, deletes).
//!
//! Source: MicrosoftDocs/azure-docs
//! `articles/azure-resource-manager/management/request-limits-and-throttling.md`
//! ("Regional throttling and token bucket algorithm", since 2024):
//!
//! | scope        | operations | bucket size | refill per second |
//! |--------------|------------|-------------|-------------------|
//! | subscription | reads      | 250         | 25                |
//! | subscription | deletes    | 200         | 10                |
//! | subscription | writes     | 200         | 10                |
//! | tenant       | reads      | 250         | 25                |
//! | tenant       | deletes    | 200         | 10                |
//! | tenant       | writes     | 200         | 10                |
//!
//! "Subscription limits apply per subscription, per service principal, and per operation
//! type", with "a global subscription limit equivalent to 15 times the individual service
//! principal limit for each operation type", across all principals. Subscription
//! requests carry the subscription id in their path; tenant requests (`GET
//! /subscriptions`, `/providers/…`) do not. The page's earlier revision scopes the tenant
//! limits to the principal too ("scoped to the security principal … and the subscription
//! ID or tenant ID"), and so does the emulator.
//!
//! Every answer carries the whole tokens left in the caller's bucket for the request's
//! operation type, in `x-ms-ratelimit-remaining-{subscription|tenant}-{reads|writes|
//! deletes}` (the page's header table names the reads and writes headers; the deletes
//! header follows the same pattern, as ARM sends it); a refused request gets 429 with
//! `Retry-After` in seconds and that header at 0.
//!
//! ASSUMPTION: the global limit's bucket is 15 times the size and refills 15 times as
//! fast; ARM reports it in headers of its own, which the emulator does not send. Rates
//! are scaled by `Options::rate_scale`; bucket sizes are not.

use std::time::{Duration, Instant};

use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;

use crate::http::{Req, arm_error, retry_after_value};
use crate::options::Budgets;
use crate::shared::{Grant, Shared, lock};
use crate::throttle::{Buckets, Draw, Rate, retry_after_secs};

/// How many times a principal's limit the whole subscription's limit is.
const GLOBAL_FACTOR: f64 = 15.0;

/// The headers a request without budgets carries: the fixed value `http::arm_json`
/// sends, taken off when the real value replaces it.
const FIXED_HEADERS: [&str; 2] = [
    "x-ms-ratelimit-remaining-subscription-reads",
    "x-ms-ratelimit-remaining-subscription-writes",
];

/// ARM's operation types, each with its own buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Read,
    Write,
    Delete,
}

impl Op {
    pub(crate) fn of(method: &Method) -> Self {
        match *method {
            Method::GET | Method::HEAD | Method::OPTIONS => Self::Read,
            Method::DELETE => Self::Delete,
            _ => Self::Write,
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Self::Read => "reads",
            Self::Write => "writes",
            Self::Delete => "deletes",
        }
    }

    fn singular(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Delete => "delete",
        }
    }

    /// A principal's bucket for this operation type (the same at both levels).
    fn rate(self, scale: f64) -> Rate {
        match self {
            Self::Read => Rate::bucket(250.0, 25.0, scale),
            Self::Write | Self::Delete => Rate::bucket(200.0, 10.0, scale),
        }
    }
}

/// Where a request is counted: its subscription (lower case), or the tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Level {
    Subscription(String),
    Tenant,
}

impl Level {
    pub(crate) fn of(req: &Req) -> Self {
        match req.segments.as_slice() {
            [first, id, ..] if first.eq_ignore_ascii_case("subscriptions") => {
                Self::Subscription(id.to_ascii_lowercase())
            }
            _ => Self::Tenant,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Subscription(_) => "subscription",
            Self::Tenant => "tenant",
        }
    }
}

/// The header that reports what is left of `op`'s budget at `level`.
pub(crate) fn remaining_header(level: &Level, op: Op) -> String {
    format!("x-ms-ratelimit-remaining-{}-{}", level.name(), op.plural())
}

/// Which bucket refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bucket {
    Principal,
    Subscription,
}

/// A refusal: which bucket, and how long until the request would pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Refused {
    pub(crate) bucket: Bucket,
    pub(crate) wait: Duration,
}

/// Take one `op` token for `principal` at `level` (in `tenant`), from the principal's
/// bucket and, at a subscription, the whole subscription's. Answers the whole tokens
/// left in the principal's bucket.
pub(crate) fn charge(
    buckets: &mut Buckets,
    tenant: &str,
    level: &Level,
    principal: &str,
    op: Op,
    scale: f64,
    now: Instant,
) -> Result<u64, Refused> {
    let principal = principal.to_ascii_lowercase();
    let kind = op.plural();
    let rate = op.rate(scale);
    let mut draws = Vec::with_capacity(2);
    match level {
        Level::Subscription(sub) => {
            draws.push(Draw::new(
                format!("arm subscription {sub} principal {principal} {kind}"),
                rate,
                1.0,
            ));
            draws.push(Draw::new(
                format!("arm subscription {sub} {kind}"),
                Rate::bucket(
                    rate.burst * GLOBAL_FACTOR,
                    rate.per_second * GLOBAL_FACTOR,
                    1.0,
                ),
                1.0,
            ));
        }
        Level::Tenant => draws.push(Draw::new(
            format!(
                "arm tenant {} principal {principal} {kind}",
                tenant.to_ascii_lowercase()
            ),
            rate,
            1.0,
        )),
    }
    if let Err((wait, index)) = buckets.take_all(&draws, now) {
        let bucket = if index == 0 {
            Bucket::Principal
        } else {
            Bucket::Subscription
        };
        return Err(Refused { bucket, wait });
    }
    let left = buckets.tokens(&draws[0].key, rate, now).max(0.0).floor();
    // Whole tokens between 0 and the bucket's size.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(left as u64)
}

/// What a charged request's answer reports.
#[derive(Debug, Clone)]
pub(crate) struct Metered {
    header: String,
    remaining: u64,
}

/// Charge `req`, made with `grant`, to ARM's budgets: what its answer reports, or the
/// 429 that refuses it. `None` with budgets off.
pub(crate) fn meter(
    shared: &Shared,
    req: &Req,
    grant: &Grant,
) -> Result<Option<Metered>, Response> {
    if shared.options.budgets == Budgets::Off {
        return Ok(None);
    }
    let scale = shared.options.rate_scale;
    let tenant = &shared.options.tenant_id;
    let level = Level::of(req);
    let op = Op::of(&req.method);
    let header = remaining_header(&level, op);
    let charged = charge(
        &mut lock(&shared.throttle),
        tenant,
        &level,
        &grant.object_id,
        op,
        scale,
        Instant::now(),
    );
    match charged {
        Ok(remaining) => Ok(Some(Metered { header, remaining })),
        Err(refused) => {
            let secs = retry_after_secs(refused.wait, scale);
            shared.expect_retry_after(req, Duration::from_secs_f64(secs));
            {
                let mut stats = lock(&shared.stats);
                stats.metered_throttles += 1;
                let counter = match op {
                    Op::Read => &mut stats.budget_throttles.arm_reads,
                    Op::Write => &mut stats.budget_throttles.arm_writes,
                    Op::Delete => &mut stats.budget_throttles.arm_deletes,
                };
                *counter += 1;
            }
            let retry = retry_after_value(secs);
            let shown = retry.to_str().unwrap_or("1").to_owned();
            // The code and the "Number of read requests for subscription '…' exceeded
            // the limit" wording as reported in MicrosoftDocs/azure-docs#51431, with the
            // "Please try again after '6' seconds." of #105248. ASSUMPTION: the tenant
            // code and wording, by symmetry.
            let (code, named) = match &level {
                Level::Subscription(sub) => (
                    "SubscriptionRequestsThrottled",
                    format!("subscription '{sub}'"),
                ),
                Level::Tenant => ("TenantRequestsThrottled", format!("tenant '{tenant}'")),
            };
            let message = format!(
                "Number of {} requests for {named} exceeded the limit. Please try again after '{shown}' seconds.",
                op.singular()
            );
            let mut resp = arm_error(req, StatusCode::TOO_MANY_REQUESTS, code, &message);
            clear_fixed(&mut resp);
            let headers = resp.headers_mut();
            headers.insert("retry-after", retry);
            if let Ok(name) = axum::http::HeaderName::from_bytes(header.as_bytes()) {
                headers.insert(name, HeaderValue::from_static("0"));
            }
            Err(resp)
        }
    }
}

/// Take the fixed remaining-budget value off an answer.
pub(crate) fn clear_fixed(resp: &mut Response) {
    for name in FIXED_HEADERS {
        resp.headers_mut().remove(name);
    }
}

/// Put what is left of the caller's budget on its answer, in place of the fixed value.
pub(crate) fn stamp(resp: &mut Response, metered: Option<&Metered>) {
    let Some(metered) = metered else {
        return;
    };
    clear_fixed(resp);
    if let Ok(name) = axum::http::HeaderName::from_bytes(metered.header.as_bytes()) {
        resp.headers_mut()
            .insert(name, HeaderValue::from(metered.remaining));
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderMap;

    use super::*;

    const TENANT: &str = "6f2c1d4e-8a3b-4c5d-9e0f-1a2b3c4d5e6f";

    fn sub(id: &str) -> Level {
        Level::Subscription(id.to_owned())
    }

    #[test]
    fn levels_and_headers_follow_the_path_and_method() {
        let req = |method: Method, path: &str| {
            Req::new(method, path, None, HeaderMap::new(), bytes::Bytes::new())
        };
        let list = req(Method::GET, "/subscriptions");
        assert_eq!(Level::of(&list), Level::Tenant);
        let one = req(Method::PUT, "/Subscriptions/ABC/resourceGroups/rg");
        assert_eq!(Level::of(&one), sub("abc"));
        assert_eq!(
            Level::of(&req(
                Method::GET,
                "/providers/Microsoft.Authorization/roleDefinitions"
            )),
            Level::Tenant
        );
        assert_eq!(Op::of(&Method::POST), Op::Write);
        assert_eq!(Op::of(&Method::PATCH), Op::Write);
        assert_eq!(Op::of(&Method::DELETE), Op::Delete);
        assert_eq!(
            remaining_header(&sub("abc"), Op::Delete),
            "x-ms-ratelimit-remaining-subscription-deletes"
        );
        assert_eq!(
            remaining_header(&Level::Tenant, Op::Read),
            "x-ms-ratelimit-remaining-tenant-reads"
        );
    }

    #[test]
    fn a_principals_write_bucket_holds_200_and_refills_10_a_second() {
        let mut b = Buckets::default();
        let t0 = Instant::now();
        let level = sub("s");
        for n in (0..200).rev() {
            assert_eq!(
                charge(&mut b, TENANT, &level, "p", Op::Write, 1.0, t0),
                Ok(n)
            );
        }
        let refused = charge(&mut b, TENANT, &level, "p", Op::Write, 1.0, t0).unwrap_err();
        assert_eq!(refused.bucket, Bucket::Principal);
        assert!((refused.wait.as_secs_f64() - 0.1).abs() < 1e-9);
        // Reads and deletes have buckets of their own; so have other principals.
        assert_eq!(
            charge(&mut b, TENANT, &level, "p", Op::Read, 1.0, t0),
            Ok(249)
        );
        assert_eq!(
            charge(&mut b, TENANT, &level, "p", Op::Delete, 1.0, t0),
            Ok(199)
        );
        assert_eq!(
            charge(&mut b, TENANT, &level, "q", Op::Write, 1.0, t0),
            Ok(199)
        );
        // As do other subscriptions and the tenant level.
        assert_eq!(
            charge(&mut b, TENANT, &sub("t"), "p", Op::Write, 1.0, t0),
            Ok(199)
        );
        assert_eq!(
            charge(&mut b, TENANT, &Level::Tenant, "p", Op::Write, 1.0, t0),
            Ok(199)
        );
        // A second later, ten writes are back.
        let later = t0 + Duration::from_secs(1);
        assert_eq!(
            charge(&mut b, TENANT, &level, "p", Op::Write, 1.0, later),
            Ok(9)
        );
    }

    #[test]
    fn the_subscription_holds_fifteen_principals_worth() {
        let mut b = Buckets::default();
        let t0 = Instant::now();
        let level = sub("s");
        for p in 0..15 {
            for _ in 0..250 {
                let p = format!("p{p}");
                assert!(charge(&mut b, TENANT, &level, &p, Op::Read, 1.0, t0).is_ok());
            }
        }
        let refused = charge(&mut b, TENANT, &level, "p15", Op::Read, 1.0, t0).unwrap_err();
        assert_eq!(refused.bucket, Bucket::Subscription);
        // 375 reads a second come back to the subscription.
        assert!((refused.wait.as_secs_f64() - 1.0 / 375.0).abs() < 1e-9);
    }
}
