//! Azure's documented write rates for managed-identity federated credentials, which a
//! run keeps under instead of meeting them as 429s: create, update and delete are
//! limited to 0.25 per second per identity, 2 per second per subscription and 10 per
//! second per tenant (field-notes-2026-12.md §3; Microsoft Entra "Important
//! considerations and restrictions for federated identity credentials", throttling
//! section). Graph has no such per-object rate, so app credentials are not paced here.

use std::time::Duration;

/// Writes per second, per scope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdentityWriteRates {
    pub per_identity: f64,
    pub per_subscription: f64,
    pub per_tenant: f64,
}

/// The documented rates.
pub const DOCUMENTED_IDENTITY_WRITE_RATES: IdentityWriteRates = IdentityWriteRates {
    per_identity: 0.25,
    per_subscription: 2.0,
    per_tenant: 10.0,
};

impl Default for IdentityWriteRates {
    fn default() -> Self {
        DOCUMENTED_IDENTITY_WRITE_RATES
    }
}

impl IdentityWriteRates {
    /// The same shape `factor` times faster: for an emulator started with the same
    /// `--rate-scale`, so tests run in seconds.
    pub fn scaled(self, factor: f64) -> Self {
        let f = if factor.is_finite() && factor > 0.0 {
            factor
        } else {
            1.0
        };
        Self {
            per_identity: self.per_identity * f,
            per_subscription: self.per_subscription * f,
            per_tenant: self.per_tenant * f,
        }
    }

    /// The least gap between two writes in each scope: identity, subscription, tenant.
    pub fn gaps(&self) -> [Duration; 3] {
        [self.per_identity, self.per_subscription, self.per_tenant]
            .map(|r| Duration::from_secs_f64(1.0 / r.max(1e-6)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_gaps_and_their_scaling() {
        let g = DOCUMENTED_IDENTITY_WRITE_RATES.gaps();
        assert_eq!(g[0], Duration::from_secs(4));
        assert_eq!(g[1], Duration::from_millis(500));
        assert_eq!(g[2], Duration::from_millis(100));
        let fast = DOCUMENTED_IDENTITY_WRITE_RATES.scaled(100.0).gaps();
        assert_eq!(fast[0], Duration::from_millis(40));
        assert_eq!(
            DOCUMENTED_IDENTITY_WRITE_RATES.scaled(-1.0),
            DOCUMENTED_IDENTITY_WRITE_RATES
        );
    }
}
