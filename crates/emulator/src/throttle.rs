//! Metered request budgets: token buckets keyed by scope (a resource, a subscription, a
//! tenant), refilled at a documented rate. Unlike the injected throttling of `faults`,
//! these answer 429 exactly when a client goes faster than the service allows, so a
//! client's pacing is what is being tested.
//!
//! The services decide which buckets a request draws from and at what rate; this module
//! only keeps the arithmetic. Time is passed in, so the rules are testable without
//! sleeping.

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
        let mut wait = 0.0_f64;
        let mut limiting = 0;
        for (index, (key, rate)) in limits.iter().enumerate() {
            let tokens = self.level(key, *rate, now);
            if tokens < 1.0 {
                let per_second = rate.per_second.max(f64::MIN_POSITIVE);
                let needed = (1.0 - tokens) / per_second;
                if needed > wait {
                    wait = needed;
                    limiting = index;
                }
            }
        }
        if wait > 0.0 {
            return Err((Duration::from_secs_f64(wait.min(86_400.0)), limiting));
        }
        for (key, rate) in limits {
            let tokens = self.level(key, *rate, now);
            self.buckets.insert(
                key.clone(),
                Bucket {
                    tokens: tokens - 1.0,
                    at: now,
                },
            );
        }
        Ok(())
    }

    /// The tokens in `key`'s bucket at `now`; a bucket never drawn from is full.
    fn level(&self, key: &str, rate: Rate, now: Instant) -> f64 {
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
}
