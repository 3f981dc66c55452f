//! Azure's documented request budgets, which a run paces itself to instead of
//! meeting them as walls of 429s: which buckets a request draws from and how much
//! ([`Budgets::draws`]), and a schedule that says when the next request may go and
//! learns from what the services report ([`Schedule`]). Time is passed in as seconds,
//! so the rule is tested without a clock.
//!
//! Sources:
//! - Graph, identity and access (microsoft-graph-docs-contrib
//!   `concepts/throttling-limits.md`): per application and tenant 3,000 writes per
//!   2 min 30 s and 3,500 resource units per 10 s (the smallest tenant size), per
//!   tenant 18,000 writes per 5 min; a request costs 1 unit, `GET applications` 2,
//!   `$select` one less and `$top` under 20 one less, never below 1; answers report
//!   `x-ms-throttle-limit-percentage` past 0.8 of a limit. Graph calls these token
//!   buckets without publishing their shape; read here, as the emulator reads them,
//!   as a bucket of N refilled N/T per second.
//! - ARM (azure-docs `azure-resource-manager/management/request-limits-and-throttling.md`,
//!   the token-bucket model): per subscription and principal, reads 250 refilled 25/s,
//!   writes and deletes 200 refilled 10/s each, the same at tenant level; every answer
//!   reports the tokens left in `x-ms-ratelimit-remaining-{subscription|tenant}-{reads|writes|deletes}`.
//!
//! One run is one application in one tenant, so Graph's buckets are the run's own;
//! ARM's are per subscription, and work in one subscription never waits for another's.

use crate::hash::HashMap;

use super::request::{Answer, Body, Method, Request, Service};
use super::requests::is_batch;

/// A bucket of `size` tokens refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub size: f64,
    pub per_second: f64,
}

impl Bucket {
    /// "`count` per `seconds`".
    const fn window(count: f64, seconds: f64) -> Self {
        Self {
            size: count,
            per_second: count / seconds,
        }
    }
}

/// Every budget a run draws from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budgets {
    pub graph_app_writes: Bucket,
    pub graph_tenant_writes: Bucket,
    pub graph_resource_units: Bucket,
    pub arm_reads: Bucket,
    pub arm_writes: Bucket,
    pub arm_deletes: Bucket,
}

/// As documented (see the module's sources).
pub const DOCUMENTED_BUDGETS: Budgets = Budgets {
    graph_app_writes: Bucket::window(3_000.0, 150.0),
    graph_tenant_writes: Bucket::window(18_000.0, 300.0),
    graph_resource_units: Bucket::window(3_500.0, 10.0),
    arm_reads: Bucket {
        size: 250.0,
        per_second: 25.0,
    },
    arm_writes: Bucket {
        size: 200.0,
        per_second: 10.0,
    },
    arm_deletes: Bucket {
        size: 200.0,
        per_second: 10.0,
    },
};

impl Default for Budgets {
    fn default() -> Self {
        DOCUMENTED_BUDGETS
    }
}

/// Tokens taken from one bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Draw {
    pub key: String,
    pub bucket: Bucket,
    pub cost: f64,
}

impl Budgets {
    /// The same shapes refilled `factor` times faster, for an emulator started with the
    /// same `--rate-scale`; bucket sizes stay as documented.
    pub fn scaled(self, factor: f64) -> Self {
        let f = if factor.is_finite() && factor > 0.0 {
            factor
        } else {
            1.0
        };
        let s = |b: Bucket| Bucket {
            size: b.size,
            per_second: b.per_second * f,
        };
        Self {
            graph_app_writes: s(self.graph_app_writes),
            graph_tenant_writes: s(self.graph_tenant_writes),
            graph_resource_units: s(self.graph_resource_units),
            arm_reads: s(self.arm_reads),
            arm_writes: s(self.arm_writes),
            arm_deletes: s(self.arm_deletes),
        }
    }

    /// What `request` takes from which bucket; nothing for Pulumi Cloud and Entra.
    pub fn draws(&self, request: &Request) -> Vec<Draw> {
        match request.service {
            Service::Graph => self.graph_draws(request),
            Service::Arm => vec![self.arm_draw(request.method, &request.path)],
            Service::Pulumi | Service::Entra => Vec::new(),
        }
    }

    fn graph_draws(&self, request: &Request) -> Vec<Draw> {
        let (mut units, mut writes) = (0.0, 0.0);
        if is_batch(request) {
            // A batch is metered request by request.
            if let Some(Body::Json(v)) = &request.body {
                for item in v["requests"].as_array().into_iter().flatten() {
                    let method = item["method"].as_str().unwrap_or("GET");
                    let url = item["url"].as_str().unwrap_or_default();
                    units += graph_units(method, url.trim_start_matches('/'));
                    writes += f64::from(u8::from(method != "GET"));
                }
            }
        } else {
            units = graph_units(request.method.as_str(), &request.path);
            writes = f64::from(u8::from(request.method.writes()));
        }
        let mut out = vec![Draw {
            key: "graph:resource-units".into(),
            bucket: self.graph_resource_units,
            cost: units,
        }];
        if writes > 0.0 {
            out.push(Draw {
                key: "graph:app-writes".into(),
                bucket: self.graph_app_writes,
                cost: writes,
            });
            out.push(Draw {
                key: "graph:tenant-writes".into(),
                bucket: self.graph_tenant_writes,
                cost: writes,
            });
        }
        out.retain(|d| d.cost > 0.0);
        out
    }

    fn arm_draw(&self, method: Method, path: &str) -> Draw {
        let (kind, bucket) = match method {
            Method::Get => ("reads", self.arm_reads),
            Method::Delete => ("deletes", self.arm_deletes),
            Method::Post | Method::Put | Method::Patch => ("writes", self.arm_writes),
        };
        let mut parts = path.trim_start_matches('/').split('/');
        let scope = match (parts.next(), parts.next()) {
            (Some(s), Some(id)) if s.eq_ignore_ascii_case("subscriptions") && !id.is_empty() => {
                let id = id.split('?').next().unwrap_or(id);
                format!("subscription:{}", id.to_ascii_lowercase())
            }
            _ => "tenant".to_owned(),
        };
        Draw {
            key: format!("arm:{scope}:{kind}"),
            bucket,
            cost: 1.0,
        }
    }
}

/// What a Graph request costs in resource units (`path` below the version, with its
/// query): the table's base cost, adjusted by the query, never below 1.
fn graph_units(method: &str, path: &str) -> f64 {
    let (resource, query) = path.split_once('?').unwrap_or((path, ""));
    let mut cost: i32 = if method == "GET" && resource == "applications" {
        2
    } else {
        1
    };
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "$select" => cost -= 1,
            "$expand" => cost += 1,
            "$top" if value.parse::<u32>().is_ok_and(|n| n < 20) => cost -= 1,
            _ => {}
        }
    }
    f64::from(cost.max(1))
}

/// When each bucket's next request may go, kept as the moment the bucket would be
/// full again if nothing more were taken (the generic cell rate algorithm): a request
/// of cost `c` may go once the bucket holds `c`, and waits no longer than that.
#[derive(Debug, Default, Clone)]
pub struct Schedule {
    full_at: HashMap<String, f64>,
    /// Until when a bucket takes nothing, because a 429 said to wait.
    paused_until: HashMap<String, f64>,
}

impl Schedule {
    /// Reserve `draws` at the earliest moment from `now` every bucket allows; that
    /// moment is returned, and the tokens are taken from then on, so concurrent
    /// requests queue in order instead of racing for the same tokens.
    pub fn reserve(&mut self, draws: &[Draw], now: f64) -> f64 {
        let at = draws
            .iter()
            .map(|d| self.allowed_at(d, now))
            .fold(now, f64::max);
        for d in draws {
            let full = self.full_at.get(&d.key).copied().unwrap_or(at).max(at);
            self.full_at.insert(
                d.key.clone(),
                full + d.cost / d.bucket.per_second.max(f64::MIN_POSITIVE),
            );
        }
        at
    }

    /// How many tokens `draw`'s bucket holds at `now`, as far as this schedule knows.
    pub fn level(&self, draw: &Draw, now: f64) -> f64 {
        let full = self.full_at.get(&draw.key).copied().unwrap_or(now);
        (draw.bucket.size - (full - now).max(0.0) * draw.bucket.per_second).max(0.0)
    }

    fn allowed_at(&self, d: &Draw, now: f64) -> f64 {
        let paused = self.paused_until.get(&d.key).copied().unwrap_or(now);
        let Some(full) = self.full_at.get(&d.key) else {
            return paused.max(now);
        };
        let slack = (d.bucket.size - d.cost).max(0.0) / d.bucket.per_second.max(f64::MIN_POSITIVE);
        (full - slack).max(now).max(paused)
    }

    /// Take what the service reports about `draws`' buckets into account: the tokens
    /// it says are left (ARM), the share of a limit it says is used (Graph), and on a
    /// 429 that nothing of the request's buckets goes before `Retry-After` has passed,
    /// and that the bucket it names (Graph's `x-ms-throttle-scope`) is empty. The
    /// service only ever makes the schedule more careful: our own requests in flight
    /// are already in it.
    pub fn heed(&mut self, draws: &[Draw], answer: &Answer, now: f64) {
        if answer.status == 429 {
            let wait = super::retry::retry_after(answer).map_or(0.0, |w| w.as_secs_f64());
            for d in draws {
                let until = self.paused_until.entry(d.key.clone()).or_insert(0.0);
                *until = until.max(now + wait);
            }
            if let Some(key) = answer.header("x-ms-throttle-scope").and_then(graph_bucket) {
                for d in draws.iter().filter(|d| d.key == key) {
                    self.set_level(d, 0.0, now);
                }
            }
        }
        for d in draws {
            let Some(rest) = d.key.strip_prefix("arm:") else {
                continue;
            };
            let scope = if rest.starts_with("tenant") {
                "tenant"
            } else {
                "subscription"
            };
            let op = rest.rsplit(':').next().unwrap_or_default();
            let level = answer
                .header(&format!("x-ms-ratelimit-remaining-{scope}-{op}"))
                .and_then(|v| v.trim().parse::<f64>().ok());
            if let Some(level) = level {
                self.set_level(d, level, now);
            }
        }
        let used = answer
            .header("x-ms-throttle-limit-percentage")
            .and_then(|v| v.trim().parse::<f64>().ok());
        if let Some(used) = used {
            for d in draws.iter().filter(|d| d.key.starts_with("graph:")) {
                self.set_level(d, (1.0 - used) * d.bucket.size, now);
            }
        }
    }

    /// Hold `draw`'s bucket at no more than `level` tokens at `now`.
    fn set_level(&mut self, d: &Draw, level: f64, now: f64) {
        let per_second = d.bucket.per_second.max(f64::MIN_POSITIVE);
        let full = now + (d.bucket.size - level.clamp(0.0, d.bucket.size)) / per_second;
        let slot = self.full_at.entry(d.key.clone()).or_insert(full);
        *slot = slot.max(full);
    }
}

/// The bucket a Graph 429's `x-ms-throttle-scope` names
/// (`<Scope>/<Limit>/<ApplicationId>/<TenantId>`).
fn graph_bucket(scope: &str) -> Option<&'static str> {
    let mut parts = scope.split('/');
    match (parts.next()?, parts.next()?) {
        ("Tenant_Application", "Write") => Some("graph:app-writes"),
        ("Tenant", "Write") => Some("graph:tenant-writes"),
        (_, "ReadWrite" | "Read") => Some("graph:resource-units"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision::requests::{
        AppIds, batch, get_sp, list_all_role_assignments, list_apps_tagged, list_credentials,
        upsert_credential,
    };
    use serde_json::json;

    fn app() -> AppIds {
        AppIds {
            id: "o".into(),
            app_id: "a".into(),
        }
    }

    fn answer(status: u16, headers: &[(&str, &str)]) -> Answer {
        Answer {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn requests_draw_what_the_documentation_says_they_cost() {
        let b = DOCUMENTED_BUDGETS;
        let cost = |r: &Request| -> Vec<(String, f64)> {
            b.draws(r).into_iter().map(|d| (d.key, d.cost)).collect()
        };
        // `GET applications` costs 2, less 1 for `$select`.
        assert_eq!(
            cost(&list_apps_tagged("t")),
            vec![("graph:resource-units".to_owned(), 1.0)]
        );
        assert_eq!(cost(&list_credentials(&app(), "x"))[0].1, 1.0);
        let write = cost(&upsert_credential(&app(), "x", "c", json!({})));
        assert_eq!(write.len(), 3, "{write:?}");
        // A batch costs what its requests cost.
        let b2 = batch(&[
            get_sp("a"),
            upsert_credential(&app(), "x", "c", json!({})),
            list_credentials(&app(), "x"),
        ]);
        assert_eq!(
            cost(&b2),
            vec![
                ("graph:resource-units".to_owned(), 3.0),
                ("graph:app-writes".to_owned(), 1.0),
                ("graph:tenant-writes".to_owned(), 1.0)
            ]
        );
        assert_eq!(
            cost(&list_all_role_assignments("/subscriptions/ABC")),
            vec![("arm:subscription:abc:reads".to_owned(), 1.0)]
        );
        assert_eq!(
            b.graph_app_writes,
            Bucket {
                size: 3000.0,
                per_second: 20.0
            }
        );
    }

    #[test]
    fn a_full_bucket_lets_its_size_go_at_once_then_its_refill_rate() {
        let bucket = Bucket {
            size: 3.0,
            per_second: 2.0,
        };
        let d = vec![Draw {
            key: "k".into(),
            bucket,
            cost: 1.0,
        }];
        let mut s = Schedule::default();
        let times: Vec<f64> = (0..6).map(|_| s.reserve(&d, 10.0)).collect();
        assert_eq!(times, vec![10.0, 10.0, 10.0, 10.5, 11.0, 11.5]);
        // After a quiet spell the bucket is full again.
        assert_eq!(s.reserve(&d, 20.0), 20.0);
        assert!((s.level(&d[0], 20.0) - 2.0).abs() < 1e-9);
    }

    #[test]
    fn a_request_waits_for_the_slowest_of_its_buckets() {
        let fast = Draw {
            key: "fast".into(),
            bucket: Bucket {
                size: 1.0,
                per_second: 100.0,
            },
            cost: 1.0,
        };
        let slow = Draw {
            key: "slow".into(),
            bucket: Bucket {
                size: 1.0,
                per_second: 1.0,
            },
            cost: 1.0,
        };
        let both = vec![fast.clone(), slow];
        let mut s = Schedule::default();
        assert_eq!(s.reserve(&both, 0.0), 0.0);
        assert_eq!(s.reserve(&both, 0.0), 1.0);
        // The fast bucket alone is free again soon after that.
        assert!((s.reserve(std::slice::from_ref(&fast), 1.0) - 1.01).abs() < 1e-9);
    }

    #[test]
    fn the_service_s_reports_make_the_schedule_more_careful() {
        let b = DOCUMENTED_BUDGETS;
        let read = list_all_role_assignments("/subscriptions/s");
        let d = b.draws(&read);
        let mut s = Schedule::default();
        s.heed(
            &d,
            &answer(200, &[("x-ms-ratelimit-remaining-subscription-reads", "0")]),
            0.0,
        );
        // Empty: the next read waits for one token at 25/s.
        assert!((s.reserve(&d, 0.0) - 0.04).abs() < 1e-9);
        // A 429 holds every bucket of the request until its Retry-After has passed,
        // and empties the one it names.
        let w = b.draws(&upsert_credential(&app(), "x", "c", json!({})));
        let mut s = Schedule::default();
        s.heed(
            &w,
            &answer(
                429,
                &[
                    ("retry-after", "2.5"),
                    ("x-ms-throttle-scope", "Tenant_Application/Write/app/tenant"),
                ],
            ),
            1.0,
        );
        assert!(s.level(&w[0], 1.0) > 3000.0, "resource units untouched");
        assert!(s.level(&w[1], 1.0) < 1.0, "app writes emptied");
        assert!((s.reserve(&w, 1.0) - 3.5).abs() < 1e-9);
        // A report of 90 % used leaves a tenth of the bucket.
        let mut s = Schedule::default();
        s.heed(
            &w,
            &answer(204, &[("x-ms-throttle-limit-percentage", "0.9")]),
            0.0,
        );
        assert!(
            (s.level(&w[1], 0.0) - 300.0).abs() < 1e-6,
            "{}",
            s.level(&w[1], 0.0)
        );
    }
}
