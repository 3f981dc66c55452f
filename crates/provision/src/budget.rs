//! Pacing to Azure's documented budgets (the core's [`Schedule`]): each request waits
//! for its moment before it takes a request slot, so a run keeps just under each
//! bucket's refill rate instead of meeting 429s, and what the services report about
//! their buckets (remaining tokens, the share used, a 429's wait) makes the schedule
//! more careful for every request after it.

use std::sync::Mutex;

use pulumi_azure_oidc::provision::{Answer, Budgets, Request, Schedule};
use std::time::Instant;

#[derive(Debug)]
pub(crate) struct Pacing {
    budgets: Budgets,
    schedule: Mutex<Schedule>,
    epoch: Instant,
}

impl Pacing {
    pub(crate) fn new(budgets: Budgets) -> Self {
        Self {
            budgets,
            schedule: Mutex::new(Schedule::default()),
            epoch: Instant::now(),
        }
    }

    fn now(&self) -> f64 {
        self.epoch.elapsed().as_secs_f64()
    }

    fn schedule(&self) -> std::sync::MutexGuard<'_, Schedule> {
        self.schedule
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Take `request`'s share of every budget it draws from; how long it must wait
    /// until they all allow it.
    pub(crate) fn reserve(&self, request: &Request) -> std::time::Duration {
        let draws = self.budgets.draws(request);
        if draws.is_empty() {
            return std::time::Duration::ZERO;
        }
        let at = self.schedule().reserve(&draws, self.now());
        std::time::Duration::from_secs_f64((at - self.now()).max(0.0))
    }

    /// Learn from what the service said about `request`'s budgets.
    pub(crate) fn heed(&self, request: &Request, answer: &Answer) {
        let draws = self.budgets.draws(request);
        if !draws.is_empty() {
            self.schedule().heed(&draws, answer, self.now());
        }
    }
}
