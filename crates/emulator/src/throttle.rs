//! Metered request budgets: token buckets keyed by scope (a resource, a subscription, a
//! tenant, an application in a tenant), refilled at a documented rate. Unlike the
//! injected throttling of `faults`, these answer 429 exactly when a client goes faster
//! than the service allows, so a client's pacing is what is being tested.
//!
//! The services decide which buckets a request draws from, how many tokens it costs and
//! at what rate; this module only keeps the arithmetic. Time is passed in, so the rules
//! are testable without sleeping.
//!
//! A bucket holds at most `burst` tokens and gains `per_second` of them continuously; a
//! request passes when every bucket it draws from holds its cost, and then takes it
//! from each. Over any span of `t` seconds a bucket therefore admits at most
//! `burst + t × per_second` tokens' worth of requests, and `per_second` on average.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One documented limit: so many requests per second, and how many may come at once
/// after a quiet spell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rate {
    pub(crate) per_second: f64,
    pub(crate) burst: f64,
}

impl Rate {
    /// A documented rate sped up by `scale` (1.0: as documented). The burst stays the
    /// same number of requests, so scaling changes only how fast a bucket refills.
    pub(crate) fn scaled(per_second: f64, scale: f64) -> Self {
        Self {
            per_second: per_second * scale,
            // ASSUMPTION: no burst is documented; one second's worth, at least one.
            burst: per_second.max(1.0),
        }
    }

    /// A limit documented as a bucket: `size` tokens, refilled `refill_per_second`
    /// (ARM's token-bucket table), refilled `scale` times faster.
    pub(crate) fn bucket(size: f64, refill_per_second: f64, scale: f64) -> Self {
        Self {
            per_second: refill_per_second * scale,
            burst: size,
        }
    }

    /// A limit documented as "`count` per `seconds`" (Graph's identity limits), as a
    /// bucket of `count` tokens refilled at `count / seconds` per second, `scale` times
    /// faster. ASSUMPTION: Graph says its limits are token buckets but publishes neither
    /// the bucket size nor the refill; a full window's worth of burst and an even refill
    /// is the reading that admits exactly `count` in a window that starts with a full
    /// bucket and keeps the long-run rate at the documented one. A window that starts
    /// full and is spent at once can admit up to twice `count` before it ends (the burst
    /// plus the refill), as any token bucket of that shape does.
    pub(crate) fn window(count: f64, seconds: f64, scale: f64) -> Self {
        Self {
            per_second: count / seconds.max(f64::MIN_POSITIVE) * scale,
            burst: count,
        }
    }
}

/// One bucket a request draws from: its key, its rate and how many tokens the request
/// costs there.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Draw {
    pub(crate) key: String,
    pub(crate) rate: Rate,
    pub(crate) cost: f64,
}

impl Draw {
    pub(crate) fn new(key: impl Into<String>, rate: Rate, cost: f64) -> Self {
        Self {
            key: key.into(),
            rate,
            cost,
        }
    }

    /// What is taken: never more than a full bucket, or the request could never pass.
    fn cost(&self) -> f64 {
        self.cost.clamp(0.0, self.rate.burst)
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Every bucket drawn from so far, by key.
#[derive(Debug, Default)]
pub(crate) struct Buckets {
    buckets: HashMap<String, Bucket>,
}

impl Buckets {
    /// Take one token from each of `limits` (a key and its rate), or none at all. When a
    /// bucket is empty, answers how long until every bucket has a token again (the least
    /// wait after which the same request would pass) and which limit needs the longest.
    pub(crate) fn take(
        &mut self,
        limits: &[(String, Rate)],
        now: Instant,
    ) -> Result<(), (Duration, usize)> {
        let draws: Vec<Draw> = limits
            .iter()
            .map(|(key, rate)| Draw::new(key.clone(), *rate, 1.0))
            .collect();
        self.take_all(&draws, now)
    }

    /// Take each draw's cost from its bucket, or nothing at all. When a bucket holds less
    /// than its cost, answers how long until every bucket holds its cost again and the
    /// index of the draw that needs the longest.
    pub(crate) fn take_all(
        &mut self,
        draws: &[Draw],
        now: Instant,
    ) -> Result<(), (Duration, usize)> {
        let mut wait = 0.0_f64;
        let mut limiting = 0;
        for (index, draw) in draws.iter().enumerate() {
            let tokens = self.tokens(&draw.key, draw.rate, now);
            let cost = draw.cost();
            if tokens < cost {
                let per_second = draw.rate.per_second.max(f64::MIN_POSITIVE);
                let needed = (cost - tokens) / per_second;
                if needed > wait {
                    wait = needed;
                    limiting = index;
                }
            }
        }
        if wait > 0.0 {
            return Err((Duration::from_secs_f64(wait.min(86_400.0)), limiting));
        }
        for draw in draws {
            let tokens = self.tokens(&draw.key, draw.rate, now);
            self.buckets.insert(
                draw.key.clone(),
                Bucket {
                    tokens: tokens - draw.cost(),
                    at: now,
                },
            );
        }
        Ok(())
    }

    /// The tokens in `key`'s bucket at `now`; a bucket never drawn from is full.
    pub(crate) fn tokens(&self, key: &str, rate: Rate, now: Instant) -> f64 {
        match self.buckets.get(key) {
            None => rate.burst,
            Some(b) => {
                let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
                (b.tokens + elapsed * rate.per_second).min(rate.burst)
            }
        }
    }
}

/// A wait as a `Retry-After` value: whole seconds, rounded up, at the documented rates
/// (what ARM sends); to the millisecond, rounded up, when the rates are scaled, so a
/// test that runs fifty times faster waits fifty times less.
pub(crate) fn retry_after_secs(wait: Duration, scale: f64) -> f64 {
    // The epsilon keeps float noise (4.000000000001 s) from adding a whole unit.
    let secs = wait.as_secs_f64();
    if scale == 1.0 {
        (secs - 1e-9).ceil().max(1.0)
    } else {
        ((secs * 1000.0 - 1e-6).ceil() / 1000.0).max(0.001)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(scale: f64) -> Vec<(String, Rate)> {
        vec![
            ("identity".into(), Rate::scaled(0.25, scale)),
            ("subscription".into(), Rate::scaled(2.0, scale)),
        ]
    }

    #[test]
    fn a_bucket_refills_at_its_rate() {
        let mut b = Buckets::default();
        let t0 = Instant::now();
        assert!(b.take(&limits(1.0), t0).is_ok());
        // The identity's bucket holds one token and refills one per four seconds.
        let (wait, limiting) = b.take(&limits(1.0), t0).unwrap_err();
        assert_eq!((wait, limiting), (Duration::from_secs(4), 0));
        let (wait, _) = b
            .take(&limits(1.0), t0 + Duration::from_secs(3))
            .unwrap_err();
        assert!((wait.as_secs_f64() - 1.0).abs() < 1e-9, "{wait:?}");
        assert!(b.take(&limits(1.0), t0 + Duration::from_secs(4)).is_ok());
    }

    #[test]
    fn a_refused_request_takes_nothing() {
        let mut b = Buckets::default();
        let t0 = Instant::now();
        let sub_only = vec![("subscription".to_owned(), Rate::scaled(2.0, 1.0))];
        assert!(b.take(&limits(1.0), t0).is_ok());
        // Refused by the identity's bucket: the subscription's keeps its token.
        assert!(b.take(&limits(1.0), t0).is_err());
        assert!(b.take(&sub_only, t0).is_ok());
        assert!(b.take(&sub_only, t0).is_err());
    }

    #[test]
    fn scaling_shortens_the_wait() {
        let mut b = Buckets::default();
        let t0 = Instant::now();
        assert!(b.take(&limits(50.0), t0).is_ok());
        let (wait, _) = b.take(&limits(50.0), t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.08).abs() < 1e-9, "{wait:?}");
        assert_eq!(retry_after_secs(wait, 50.0), 0.08);
        assert_eq!(retry_after_secs(Duration::from_millis(3200), 1.0), 4.0);
        assert_eq!(retry_after_secs(Duration::from_micros(10), 50.0), 0.001);
    }

    #[test]
    fn a_window_is_a_full_bucket_refilled_evenly() {
        let rate = Rate::window(3_000.0, 150.0, 1.0);
        assert_eq!(
            rate,
            Rate {
                per_second: 20.0,
                burst: 3_000.0
            }
        );
        let fast = Rate::window(3_000.0, 150.0, 50.0);
        assert_eq!(
            fast,
            Rate {
                per_second: 1_000.0,
                burst: 3_000.0
            }
        );
        assert_eq!(
            Rate::bucket(250.0, 25.0, 2.0),
            Rate {
                per_second: 50.0,
                burst: 250.0
            }
        );
    }

    #[test]
    fn a_draw_takes_its_cost_from_every_bucket_or_none() {
        let mut b = Buckets::default();
        let t0 = Instant::now();
        let units = Rate::window(10.0, 10.0, 1.0);
        let writes = Rate::window(3.0, 3.0, 1.0);
        let draw = |cost: f64| {
            vec![
                Draw::new("units", units, cost),
                Draw::new("writes", writes, 1.0),
            ]
        };
        assert!(b.take_all(&draw(4.0), t0).is_ok());
        assert!(b.take_all(&draw(4.0), t0).is_ok());
        assert!((b.tokens("units", units, t0) - 2.0).abs() < 1e-9);
        // Two units left: a cost of 4 waits two seconds, and takes nothing meanwhile.
        let (wait, limiting) = b.take_all(&draw(4.0), t0).unwrap_err();
        assert_eq!(limiting, 0);
        assert!((wait.as_secs_f64() - 2.0).abs() < 1e-9, "{wait:?}");
        assert!((b.tokens("writes", writes, t0) - 1.0).abs() < 1e-9);
        assert!(b.take_all(&draw(2.0), t0).is_ok());
        // Both empty now: the longer wait is reported.
        let (wait, limiting) = b.take_all(&draw(4.0), t0).unwrap_err();
        assert_eq!(limiting, 0);
        assert!((wait.as_secs_f64() - 4.0).abs() < 1e-9, "{wait:?}");
        // A bucket never holds more than its size, however long it rests.
        let later = t0 + Duration::from_secs(3_600);
        assert!((b.tokens("units", units, later) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn a_cost_above_the_bucket_takes_the_whole_bucket() {
        let mut b = Buckets::default();
        let t0 = Instant::now();
        let small = Rate::window(2.0, 2.0, 1.0);
        assert!(b.take_all(&[Draw::new("k", small, 5.0)], t0).is_ok());
        let (wait, _) = b.take_all(&[Draw::new("k", small, 5.0)], t0).unwrap_err();
        assert!((wait.as_secs_f64() - 2.0).abs() < 1e-9, "{wait:?}");
    }

    #[test]
    fn a_bucket_admits_its_size_plus_its_refill_over_a_span() {
        // 3,000 per 150 s: over any 150 s at most 6,000 pass, 3,000 of them at once.
        let mut b = Buckets::default();
        let t0 = Instant::now();
        let rate = Rate::window(3_000.0, 150.0, 1.0);
        let limits = vec![("k".to_owned(), rate)];
        let mut passed = 0;
        for ms in (0..=150_000_u64).step_by(10) {
            let now = t0 + Duration::from_millis(ms);
            while b.take(&limits, now).is_ok() {
                passed += 1;
            }
        }
        assert_eq!(passed, 6_000);
    }
}
