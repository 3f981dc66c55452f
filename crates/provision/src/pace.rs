//! Keeping managed-identity credential writes under Azure's documented rates (see
//! [`IdentityWriteRates`]): each write takes the next free moment in its identity's,
//! its subscription's and the tenant's schedule, all three at once, and waits for it.
//! Reserving before sleeping keeps the order fair and never lets two writes claim
//! the same moment.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use pulumi_azure_oidc::provision::IdentityWriteRates;

#[derive(Debug)]
pub(crate) struct Pacer {
    gaps: [Duration; 3],
    next_free: Mutex<HashMap<String, Instant>>,
}

impl Pacer {
    pub(crate) fn new(rates: IdentityWriteRates) -> Self {
        Self {
            gaps: rates.gaps(),
            next_free: Mutex::new(HashMap::new()),
        }
    }

    /// Wait for the moment a write to identity `id` (an ARM id) may go.
    pub(crate) async fn write_slot(&self, id: &str) {
        let subscription = id
            .split('/')
            .skip_while(|s| !s.eq_ignore_ascii_case("subscriptions"))
            .nth(1)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let keys = [
            format!("identity:{}", id.to_ascii_lowercase()),
            format!("subscription:{subscription}"),
            "tenant".to_owned(),
        ];
        let at = {
            let mut next = self
                .next_free
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            let at = keys
                .iter()
                .filter_map(|k| next.get(k).copied())
                .fold(now, Instant::max);
            for (k, gap) in keys.iter().zip(self.gaps) {
                next.insert(k.clone(), at + gap);
            }
            at
        };
        tokio::time::sleep_until(at).await;
    }

    /// Note that a write to identity `id` has been answered. Its writes go one at a
    /// time, so spacing the next from this answer (not from when this one was sent)
    /// keeps the gap at the service even when this request waited for a connection or
    /// a token on its way out.
    pub(crate) fn written(&self, id: &str) {
        let key = format!("identity:{}", id.to_ascii_lowercase());
        let mut next = self
            .next_free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let after = Instant::now() + self.gaps[0];
        let slot = next.entry(key).or_insert(after);
        *slot = (*slot).max(after);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lower bounds only: a slow machine can make a write later, never earlier.
    #[tokio::test]
    async fn writes_to_one_identity_are_spaced_and_others_share_the_subscription() {
        let pacer =
            Pacer::new(pulumi_azure_oidc::provision::DOCUMENTED_IDENTITY_WRITE_RATES.scaled(20.0));
        let a = "/subscriptions/S/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a";
        let b = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/b";
        let start = Instant::now();
        pacer.write_slot(a).await;
        pacer.write_slot(b).await;
        assert!(start.elapsed() >= Duration::from_millis(25));
        pacer.write_slot(a).await;
        assert!(start.elapsed() >= Duration::from_millis(200));
    }
}
