//! Seeded, reproducible fault injection: the same seed gives the same sequence of
//! decisions, one per service request in arrival order.
//!
//! The faults are the ones Azure and Pulumi Cloud actually produce: throttling with
//! `Retry-After` (sometimes fractional, as in microsoftgraph/microsoft-graph-docs-contrib
//! `concepts/throttling.md`), transient 5xx,
//! dropped connections, and latency. Replication windows are time-based, not random;
//! see [`Replication`].

use std::time::Duration;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Rates are probabilities per request, in `0.0..=1.0`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultOptions {
    /// Added to every service request.
    pub latency_ms: u64,
    /// Chance that a request is delayed by `spike_ms` more.
    pub spike_rate: f64,
    pub spike_ms: u64,
    /// Chance of a 429 with a `Retry-After` header.
    pub throttle_rate: f64,
    /// Upper bound of the `Retry-After` value, in seconds; values are drawn in
    /// `0.01..=max` and are often fractional, as Graph's are.
    pub retry_after_max_secs: f64,
    /// Chance of a 500, 502, 503 or 504.
    pub server_error_rate: f64,
    /// Chance that the connection is dropped: half before the request is handled,
    /// half after (the write happened, the answer was lost).
    pub drop_rate: f64,
}

impl FaultOptions {
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("spike_rate", self.spike_rate),
            ("throttle_rate", self.throttle_rate),
            ("server_error_rate", self.server_error_rate),
            ("drop_rate", self.drop_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be within 0..=1, got {rate}"));
            }
        }
        if self.throttle_rate + self.server_error_rate + self.drop_rate > 1.0 {
            return Err("throttle_rate + server_error_rate + drop_rate must not exceed 1".into());
        }
        if !(0.0..=3600.0).contains(&self.retry_after_max_secs) {
            return Err(format!(
                "retry_after_max_secs must be within 0..=3600, got {}",
                self.retry_after_max_secs
            ));
        }
        Ok(())
    }
}

/// Time windows after a write during which Azure does not yet reflect it ("A
/// successful write to Microsoft Entra does not guarantee that an immediate read will
/// reflect that change", Microsoft Entra blog "Designing for Eventual Consistency for
/// Microsoft Entra").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Replication {
    /// After an app, service principal or credential is created: reads by key and
    /// child writes answer 404, `$filter` lists miss it, a service principal for a new
    /// app is refused, a role assignment for a new principal gets `PrincipalNotFound`.
    pub lag_ms: u64,
    /// After a credential is created, token exchanges that match it get AADSTS70021.
    pub fic_propagation_ms: u64,
}

impl Replication {
    pub(crate) fn lag(&self) -> Duration {
        Duration::from_millis(self.lag_ms)
    }
    pub(crate) fn fic_propagation(&self) -> Duration {
        Duration::from_millis(self.fic_propagation_ms)
    }
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Fault {
    None,
    Throttle { retry_after_secs: f64 },
    ServerError { status: u16 },
    DropBefore,
    DropAfter,
}

#[derive(Debug)]
pub(crate) struct FaultEngine {
    options: FaultOptions,
    rng: ChaCha8Rng,
}

impl FaultEngine {
    pub(crate) fn new(seed: u64, options: FaultOptions) -> Self {
        Self {
            options,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    pub(crate) fn options(&self) -> &FaultOptions {
        &self.options
    }

    pub(crate) fn set_options(&mut self, options: FaultOptions) {
        self.options = options;
    }

    /// The next decision: a delay and a fault. Draws the same number of values every
    /// time, so changing one rate does not shift every later decision.
    pub(crate) fn next(&mut self) -> (Duration, Fault) {
        let o = &self.options;
        let spike: f64 = self.rng.random();
        let pick: f64 = self.rng.random();
        let detail: f64 = self.rng.random();
        let mut delay = Duration::from_millis(o.latency_ms);
        if spike < o.spike_rate {
            delay += Duration::from_millis(o.spike_ms);
        }
        let fault = if pick < o.throttle_rate {
            // Two decimals, never zero: `Retry-After: 0.37`, as Graph's samples show.
            let secs = (0.01 + detail * (o.retry_after_max_secs - 0.01).max(0.0)) * 100.0;
            Fault::Throttle {
                retry_after_secs: secs.round() / 100.0,
            }
        } else if pick < o.throttle_rate + o.server_error_rate {
            let statuses = [500, 502, 503, 504];
            let idx = ((detail * statuses.len() as f64) as usize).min(statuses.len() - 1);
            Fault::ServerError {
                status: statuses[idx],
            }
        } else if pick < o.throttle_rate + o.server_error_rate + o.drop_rate {
            if detail < 0.5 {
                Fault::DropBefore
            } else {
                Fault::DropAfter
            }
        } else {
            Fault::None
        };
        (delay, fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busy() -> FaultOptions {
        FaultOptions {
            throttle_rate: 0.2,
            server_error_rate: 0.2,
            drop_rate: 0.2,
            retry_after_max_secs: 2.0,
            spike_rate: 0.1,
            spike_ms: 100,
            ..FaultOptions::default()
        }
    }

    #[test]
    fn same_seed_same_sequence() {
        let mut a = FaultEngine::new(7, busy());
        let mut b = FaultEngine::new(7, busy());
        let sa: Vec<_> = (0..200).map(|_| a.next()).collect();
        let sb: Vec<_> = (0..200).map(|_| b.next()).collect();
        assert_eq!(sa, sb);
        let mut c = FaultEngine::new(8, busy());
        let sc: Vec<_> = (0..200).map(|_| c.next()).collect();
        assert_ne!(sa, sc);
    }

    #[test]
    fn every_kind_occurs_and_retry_after_is_bounded() {
        let mut e = FaultEngine::new(1, busy());
        let faults: Vec<_> = (0..2000).map(|_| e.next().1).collect();
        for f in &faults {
            if let Fault::Throttle { retry_after_secs } = f {
                assert!(
                    (0.01..=2.0).contains(retry_after_secs),
                    "{retry_after_secs}"
                );
            }
        }
        assert!(faults.iter().any(
            |f| matches!(f, Fault::Throttle { retry_after_secs } if retry_after_secs.fract() != 0.0)
        ));
        assert!(
            faults
                .iter()
                .any(|f| matches!(f, Fault::ServerError { status: 503 }))
        );
        assert!(faults.contains(&Fault::DropBefore));
        assert!(faults.contains(&Fault::DropAfter));
        let none = faults.iter().filter(|f| **f == Fault::None).count();
        assert!((700..1700).contains(&none), "{none} of 2000 clean");
    }

    #[test]
    fn no_faults_by_default() {
        let mut e = FaultEngine::new(3, FaultOptions::default());
        assert!((0..100).all(|_| e.next() == (Duration::ZERO, Fault::None)));
    }

    #[test]
    fn rates_are_validated() {
        let bad = FaultOptions {
            throttle_rate: 1.5,
            ..FaultOptions::default()
        };
        assert!(bad.validate().unwrap_err().contains("throttle_rate"));
        let sum = FaultOptions {
            throttle_rate: 0.6,
            drop_rate: 0.6,
            ..FaultOptions::default()
        };
        assert!(sum.validate().is_err());
        assert!(busy().validate().is_ok());
    }
}
