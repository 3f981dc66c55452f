//! One place where requests leave the process: the core's retry rule carried out,
//! a global concurrency limit with a work-conserving scheduler, request counting, and
//! answers turned into plain [`Answer`]s without ever echoing a token.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pulumi_azure_oidc::Error;
use pulumi_azure_oidc::error::Result;
use pulumi_azure_oidc::provision::{
    Action, Answer, Body, Method, Outcome, Request, RequestCounts, RetryPolicy, Secret, Service,
    next_action,
};
use rand::RngExt;
use tokio::sync::{Notify, Semaphore};

/// Requests sent, by service and kind.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) graph: AtomicU64,
    pub(crate) arm: AtomicU64,
    pub(crate) pulumi: AtomicU64,
    pub(crate) entra: AtomicU64,
    pub(crate) writes: AtomicU64,
    pub(crate) retries: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> RequestCounts {
        RequestCounts {
            graph: self.graph.load(Ordering::Relaxed),
            arm: self.arm.load(Ordering::Relaxed),
            pulumi: self.pulumi.load(Ordering::Relaxed),
            entra: self.entra.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
        }
    }
}

/// How a request proves who sends it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Auth<'a> {
    Bearer(&'a Secret),
    Pulumi(&'a Secret),
    None,
}

/// The jitter the core's backoff is scaled by: retries of many requests spread out.
pub(crate) fn jitter() -> f64 {
    rand::rng().random_range(0.5..=1.0)
}

/// The slot a chain holds (see [`Http::holding_a_slot`]); empty while the chain has
/// lent it back, waiting for its budget.
type Held = Arc<std::sync::Mutex<Option<Slot>>>;

tokio::task_local! {
    static BACKGROUND: bool;
    static HELD: Held;
}

fn lock_held(held: &Held) -> std::sync::MutexGuard<'_, Option<Slot>> {
    held.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Run `work` as background: its requests take a request slot only when no other
/// request is waiting for one (see [`Http::slot`]). For writes off the critical path:
/// an app's service principal, role assignments and Pulumi Cloud writes.
pub(crate) async fn in_background<F: std::future::Future>(work: F) -> F::Output {
    BACKGROUND.scope(true, work).await
}

/// A request waiting for a slot (see [`Http::slot`]).
struct Waiting<'a>(&'a Http);

impl<'a> Waiting<'a> {
    fn new(http: &'a Http) -> Self {
        http.waiting.fetch_add(1, Ordering::SeqCst);
        Waiting(http)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.0.waiting.fetch_sub(1, Ordering::SeqCst) == 1 {
            // The last waiter is gone: background requests may look again.
            self.0.released.notify_waiters();
        }
    }
}

/// One of the concurrency limit's slots; dropping it wakes the background requests
/// waiting for one.
pub(crate) struct Slot {
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    released: Arc<Notify>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        drop(self.permit.take());
        self.released.notify_waiters();
    }
}

/// The HTTP client every call goes through.
#[derive(Clone)]
pub(crate) struct Http {
    pub(crate) client: reqwest::Client,
    pub(crate) policy: RetryPolicy,
    permits: Arc<Semaphore>,
    /// Requests other than background ones waiting for a slot; background requests
    /// wait while there are any.
    waiting: Arc<AtomicU64>,
    released: Arc<Notify>,
    pub(crate) counters: Arc<Counters>,
    sent: Arc<AtomicU64>,
    request_limit: Option<u64>,
    /// `None`: requests go as fast as the slots allow, and only 429s slow them.
    pacing: Option<Arc<super::budget::Pacing>>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Http {
    pub(crate) fn new(
        extra_ca_pem: Option<&str>,
        policy: RetryPolicy,
        concurrency: usize,
        request_limit: Option<u64>,
        budgets: Option<pulumi_azure_oidc::provision::Budgets>,
    ) -> Result<Self> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("pulumi-azure-oidc/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(20))
            .timeout(policy.timeout)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(pem) = extra_ca_pem {
            let cert = reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|e| {
                Error::UnreadableInput {
                    what: "the CA certificate".into(),
                    reason: e.to_string(),
                }
            })?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder.build().map_err(|e| Error::Unreachable {
            url: "(client set-up)".into(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            client,
            policy,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            waiting: Arc::new(AtomicU64::new(0)),
            released: Arc::new(Notify::new()),
            counters: Arc::new(Counters::default()),
            sent: Arc::new(AtomicU64::new(0)),
            request_limit,
            pacing: budgets.map(|b| Arc::new(super::budget::Pacing::new(b))),
        })
    }

    /// Send `request` to `url`, retrying as the core's rule decides. Any other answer
    /// is returned for the caller to judge.
    pub(crate) async fn send(
        &self,
        request: &Request,
        url: &str,
        auth: Auth<'_>,
    ) -> Result<Answer> {
        let started = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            if let Some(pacing) = &self.pacing {
                let wait = pacing.reserve(request);
                if !wait.is_zero() {
                    self.wait_for_budget(wait).await?;
                }
            }
            let outcome = self.send_once(request, url, auth).await;
            if let (Some(pacing), Ok(answer)) = (&self.pacing, &outcome) {
                pacing.heed(request, answer);
            }
            attempt += 1;
            let seen = match &outcome {
                Ok(answer) => Outcome::Answered(answer),
                Err(Error::Unreachable { reason, .. }) => Outcome::Unreachable(reason),
                Err(_) => return outcome,
            };
            let action = next_action(
                &self.policy,
                request,
                seen,
                attempt,
                started.elapsed(),
                jitter(),
            );
            let (wait, last) = match action {
                Action::Accept => return outcome,
                Action::GiveUp(e) => return Err(e),
                Action::Retry { wait, last } => (wait, last),
            };
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                operation = %request.operation,
                attempt,
                wait_ms = wait.as_millis() as u64,
                last = %last,
                "retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// A slot of the concurrency limit, for the next request of this task. None when
    /// the task already holds one (see [`Http::holding_a_slot`]). Background requests
    /// (see [`in_background`]) take a slot only while no other request waits for one,
    /// so the critical path never queues behind them, and they still use every slot
    /// it leaves free.
    pub(crate) async fn slot(&self) -> Result<Option<Slot>> {
        if HELD.try_with(|_| ()).is_ok() {
            return Ok(None);
        }
        self.new_slot().await.map(Some)
    }

    /// Sleep `wait` for a budget. A chain lends its slot back meanwhile: it holds one
    /// to work without queueing, not to wait, and paced to a budget it would otherwise
    /// keep a slot idle for most of the time, starving every request that draws on no
    /// budget at all (Pulumi Cloud's).
    async fn wait_for_budget(&self, wait: std::time::Duration) -> Result<()> {
        let held = HELD.try_with(Arc::clone).ok();
        let lent = held.as_ref().and_then(|h| lock_held(h).take());
        let was_holding = lent.is_some();
        drop(lent);
        tokio::time::sleep(wait).await;
        if let (Some(held), true) = (held, was_holding) {
            let slot = BACKGROUND.scope(false, self.new_slot()).await?;
            *lock_held(&held) = Some(slot);
        }
        Ok(())
    }

    async fn new_slot(&self) -> Result<Slot> {
        let closed = |_| Error::Interrupted("the client was shut down".into());
        let slot = |permit| Slot {
            permit: Some(permit),
            released: self.released.clone(),
        };
        if BACKGROUND.try_with(|b| *b).unwrap_or(false) {
            loop {
                let notified = self.released.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.waiting.load(Ordering::SeqCst) == 0 {
                    match self.permits.clone().try_acquire_owned() {
                        Ok(permit) => return Ok(slot(permit)),
                        Err(tokio::sync::TryAcquireError::Closed) => {
                            return Err(closed(()));
                        }
                        Err(tokio::sync::TryAcquireError::NoPermits) => {}
                    }
                }
                notified.await;
            }
        }
        // Counted as waiting until served or dropped: a task aborted while it waits
        // (a failed observe stops its siblings) must not hold background back forever.
        let waiting = Waiting::new(self);
        let permit = self.permits.clone().acquire_owned().await;
        drop(waiting);
        Ok(slot(permit.map_err(|_| closed(()))?))
    }

    /// Run `work` holding one slot throughout: its requests, one at a time, need no
    /// other. For a chain of requests on the critical path (an app's credentials),
    /// which would otherwise queue for a slot again at every step.
    pub(crate) async fn holding_a_slot<F: std::future::Future>(
        &self,
        work: F,
    ) -> Result<F::Output> {
        let held: Held = Arc::new(std::sync::Mutex::new(self.slot().await?));
        let out = HELD.scope(held.clone(), work).await;
        drop(lock_held(&held).take());
        Ok(out)
    }

    /// Learn from an answer that did not come through [`Http::send`] (one inside a
    /// batch) what it says about `request`'s budgets.
    pub(crate) fn heed(&self, request: &Request, answer: &Answer) {
        if let Some(pacing) = &self.pacing {
            pacing.heed(request, answer);
        }
    }

    /// A slot of the concurrency limit, for requests sent outside [`Http::send`].
    pub(crate) async fn permit(&self) -> Result<Option<Slot>> {
        self.slot().await
    }

    async fn send_once(&self, request: &Request, url: &str, auth: Auth<'_>) -> Result<Answer> {
        let _slot = self.slot().await?;
        let n = self.sent.fetch_add(1, Ordering::SeqCst);
        if self.request_limit.is_some_and(|limit| n >= limit) {
            return Err(Error::Interrupted(format!(
                "stopped after {n} requests, before {}",
                request.operation
            )));
        }
        let counter = match request.service {
            Service::Graph => &self.counters.graph,
            Service::Arm => &self.counters.arm,
            Service::Pulumi => &self.counters.pulumi,
            Service::Entra => &self.counters.entra,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if request.writes() && request.service != Service::Entra {
            self.counters.writes.fetch_add(1, Ordering::Relaxed);
        }
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut req = self.client.request(method, url);
        req = match auth {
            Auth::Bearer(t) => req.bearer_auth(t.expose()),
            Auth::Pulumi(t) => req
                .header("authorization", format!("token {}", t.expose()))
                .header("accept", "application/vnd.pulumi+8"),
            Auth::None => req,
        };
        for (k, v) in &request.headers {
            req = req.header(*k, v);
        }
        req = match &request.body {
            Some(Body::Json(v)) => req.json(v),
            Some(Body::Yaml(text)) => req
                .header("content-type", "application/x-yaml")
                .body(text.clone()),
            Some(Body::Form(pairs)) => req.form(pairs),
            None => req,
        };
        let unreachable = |e: reqwest::Error| Error::Unreachable {
            url: strip_query(url),
            reason: describe_transport(&e),
        };
        let sent_at = Instant::now();
        let resp = req.send().await.map_err(unreachable)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = resp.bytes().await.map_err(unreachable)?.to_vec();
        let answer = Answer {
            status,
            headers,
            body,
        };
        // The URL without its query (which may hold names, never a secret); for an
        // error, the service's code and message, as they would appear in an error.
        let url = strip_query(url);
        let ms = sent_at.elapsed().as_millis() as u64;
        let method = request.method.as_str();
        if answer.ok() {
            tracing::debug!(service = ?request.service, method, %url, status, ms, "request");
        } else {
            let (code, message) = answer.error_parts();
            tracing::debug!(service = ?request.service, method, %url, status, ms, %code, %message, "request");
        }
        Ok(answer)
    }
}

fn strip_query(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_owned()
}

/// reqwest's error with its sources (URLs here never hold a secret).
fn describe_transport(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request aborted while it waits for a slot (a failed observe stops its
    /// siblings) must not keep background requests waiting afterwards.
    #[tokio::test]
    async fn an_aborted_waiter_does_not_hold_background_back() {
        let http = Arc::new(Http::new(None, RetryPolicy::fast(), 1, None, None).expect("client"));
        let held = http.slot().await.expect("a slot");
        let other = http.clone();
        let waiter = tokio::spawn(async move {
            let _slot = other.slot().await;
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        waiter.abort();
        let _ = waiter.await;
        drop(held);
        let background = in_background(async { http.slot().await.map(|s| s.is_some()) });
        let got = tokio::time::timeout(Duration::from_secs(5), background).await;
        assert!(matches!(got, Ok(Ok(true))), "background still waiting");
    }
}
