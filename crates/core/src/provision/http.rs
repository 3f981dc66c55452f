//! One place where requests leave the process: the retry policy of DESIGN §4, a
//! global concurrency limit, request counting, and error bodies turned into
//! [`Error::Service`] without ever echoing a token.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::RngExt;
use reqwest::Method;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::{Notify, Semaphore};

use super::secret::Secret;
use crate::error::{Error, Result};

/// How long and how often to retry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// First backoff; doubled per attempt, with full jitter.
    pub base: Duration,
    pub cap: Duration,
    /// Give up when the next wait would pass this much time since the first attempt.
    pub max_elapsed: Duration,
    pub max_attempts: u32,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    /// For Azure: replication can take minutes (azure-facts.md §5.3).
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(600),
            max_attempts: 60,
            timeout: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Short waits, for the emulator and tests.
    pub fn fast() -> Self {
        Self {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(250),
            max_elapsed: Duration::from_secs(60),
            max_attempts: 200,
            timeout: Duration::from_secs(20),
        }
    }

    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base.saturating_mul(1 << attempt.min(16)).min(self.cap);
        let jitter: f64 = rand::rng().random_range(0.5..=1.0);
        exp.mul_f64(jitter)
    }
}

/// Which service a request goes to; named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    Graph,
    Arm,
    Pulumi,
    Entra,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Graph => "Microsoft Graph",
            Service::Arm => "Azure Resource Manager",
            Service::Pulumi => "Pulumi Cloud",
            Service::Entra => "the Entra token endpoint",
        }
    }
}

/// Requests sent, by service and kind; what `--output json` and the benchmarks report.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) graph: AtomicU64,
    pub(crate) arm: AtomicU64,
    pub(crate) pulumi: AtomicU64,
    pub(crate) entra: AtomicU64,
    pub(crate) writes: AtomicU64,
    pub(crate) retries: AtomicU64,
}

/// A snapshot of [`Counters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RequestCounts {
    pub graph: u64,
    pub arm: u64,
    pub pulumi: u64,
    pub entra: u64,
    pub writes: u64,
    pub retries: u64,
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

/// What to send.
pub(crate) struct Call<'a> {
    pub(crate) service: Service,
    /// For errors: `create credential x in app y`.
    pub(crate) operation: String,
    pub(crate) method: Method,
    pub(crate) url: String,
    pub(crate) auth: Auth<'a>,
    pub(crate) body: Option<Body>,
    pub(crate) headers: Vec<(&'static str, String)>,
    /// Azure's eventual-consistency answers this call should wait out (§5.3).
    pub(crate) transient: fn(&Response) -> bool,
}

pub(crate) enum Auth<'a> {
    Bearer(&'a Secret),
    Pulumi(&'a Secret),
    None,
}

pub(crate) enum Body {
    Json(Value),
    Yaml(String),
    Form(Vec<(&'static str, String)>),
}

pub(crate) fn never(_: &Response) -> bool {
    false
}

/// A received answer.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: bytes::Bytes,
}

impl Response {
    pub(crate) fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The service's error code and message: Graph/ARM `{"error":{"code","message"}}`,
    /// Entra `{"error","error_description"}`, Pulumi `{"code","message"}`.
    pub(crate) fn error_parts(&self) -> (String, String) {
        let v = self.json();
        let text = |v: &Value| v.as_str().map(str::to_owned);
        if let Some(e) = v.get("error") {
            if let Some(code) = e.get("code").and_then(text) {
                let message = e.get("message").and_then(text).unwrap_or_default();
                return (code, message);
            }
            if let Some(code) = text(e) {
                let message = v
                    .get("error_description")
                    .and_then(text)
                    .unwrap_or_default();
                return (code, message);
            }
        }
        // A body with a message and no code (Pulumi's `{"code":401,"message":…}` has a
        // numeric one) has no service code to name beyond the status itself.
        if let Some(message) = v.get("message").and_then(text) {
            return (String::new(), message);
        }
        let snippet: String = String::from_utf8_lossy(&self.body)
            .chars()
            .take(200)
            .collect();
        (String::new(), snippet)
    }

    pub(crate) fn error_code(&self) -> String {
        self.error_parts().0
    }

    pub(crate) fn into_error(self, service: Service, operation: &str) -> Error {
        let (code, message) = self.error_parts();
        Error::Service {
            service: service.name(),
            operation: operation.to_owned(),
            status: self.status,
            code,
            message,
        }
    }
}

tokio::task_local! {
    static BACKGROUND: bool;
    static HOLDS_SLOT: bool;
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
pub(crate) struct Slot<'a> {
    permit: Option<tokio::sync::SemaphorePermit<'a>>,
    released: &'a Notify,
}

impl Drop for Slot<'_> {
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
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

fn retry_after(resp: &Response) -> Option<Duration> {
    // Graph sends fractional seconds (`Retry-After: 2.128`, azure-facts.md §5.1).
    let v = resp
        .header("retry-after-ms")
        .or_else(|| resp.header("x-ms-retry-after-ms"));
    if let Some(ms) = v.and_then(|v| v.trim().parse::<f64>().ok()) {
        return Some(Duration::from_secs_f64((ms / 1000.0).clamp(0.0, 3600.0)));
    }
    let secs = resp.header("retry-after")?.trim().parse::<f64>().ok()?;
    Some(Duration::from_secs_f64(secs.clamp(0.0, 3600.0)))
}

impl Http {
    pub(crate) fn new(
        extra_ca_pem: Option<&str>,
        policy: RetryPolicy,
        concurrency: usize,
        request_limit: Option<u64>,
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
        })
    }

    /// Send `call`, retrying what DESIGN §4 says to retry. Any other answer is
    /// returned for the caller to judge.
    pub(crate) async fn send(&self, call: Call<'_>) -> Result<Response> {
        let started = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            let outcome = self.send_once(&call).await;
            let (wait, last) = match &outcome {
                Ok(resp) => {
                    let throttled = matches!(resp.status, 408 | 429 | 500 | 502 | 503 | 504);
                    if !throttled && !(call.transient)(resp) {
                        return outcome;
                    }
                    let wait = retry_after(resp).unwrap_or_else(|| self.policy.backoff(attempt));
                    let (code, _) = resp.error_parts();
                    (wait, crate::error::status_line(resp.status, &code))
                }
                Err(Error::Unreachable { reason, .. }) => {
                    (self.policy.backoff(attempt), reason.clone())
                }
                Err(_) => return outcome,
            };
            attempt += 1;
            let elapsed = started.elapsed();
            if attempt >= self.policy.max_attempts || elapsed + wait > self.policy.max_elapsed {
                return Err(Error::RetriesExhausted {
                    operation: call.operation.clone(),
                    attempts: attempt,
                    seconds: elapsed.as_secs(),
                    last,
                });
            }
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                operation = %call.operation,
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
    pub(crate) async fn slot(&self) -> Result<Option<Slot<'_>>> {
        let closed = |_| Error::Interrupted("the client was shut down".into());
        if HOLDS_SLOT.try_with(|h| *h).unwrap_or(false) {
            return Ok(None);
        }
        let slot = |permit| Slot {
            permit: Some(permit),
            released: &self.released,
        };
        if BACKGROUND.try_with(|b| *b).unwrap_or(false) {
            loop {
                let notified = self.released.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.waiting.load(Ordering::SeqCst) == 0 {
                    match self.permits.try_acquire() {
                        Ok(permit) => return Ok(Some(slot(permit))),
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
        let permit = self.permits.acquire().await;
        drop(waiting);
        Ok(Some(slot(permit.map_err(|_| closed(()))?)))
    }

    /// Run `work` holding one slot throughout: its requests, one at a time, need no
    /// other. For a chain of requests on the critical path (an app's credentials),
    /// which would otherwise queue for a slot again at every step.
    pub(crate) async fn holding_a_slot<F: std::future::Future>(
        &self,
        work: F,
    ) -> Result<F::Output> {
        let _slot = self.slot().await?;
        Ok(HOLDS_SLOT.scope(true, work).await)
    }

    /// A slot of the concurrency limit, for requests sent outside [`Http::send`].
    pub(crate) async fn permit(&self) -> Result<Option<Slot<'_>>> {
        self.slot().await
    }

    async fn send_once(&self, call: &Call<'_>) -> Result<Response> {
        let _slot = self.slot().await?;
        let n = self.sent.fetch_add(1, Ordering::SeqCst);
        if self.request_limit.is_some_and(|limit| n >= limit) {
            return Err(Error::Interrupted(format!(
                "stopped after {n} requests, before {}",
                call.operation
            )));
        }
        let counter = match call.service {
            Service::Graph => &self.counters.graph,
            Service::Arm => &self.counters.arm,
            Service::Pulumi => &self.counters.pulumi,
            Service::Entra => &self.counters.entra,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if call.method != Method::GET
            && call.method != Method::HEAD
            && call.service != Service::Entra
        {
            self.counters.writes.fetch_add(1, Ordering::Relaxed);
        }
        let mut req = self.client.request(call.method.clone(), &call.url);
        req = match &call.auth {
            Auth::Bearer(t) => req.bearer_auth(t.expose()),
            Auth::Pulumi(t) => req
                .header("authorization", format!("token {}", t.expose()))
                .header("accept", "application/vnd.pulumi+8"),
            Auth::None => req,
        };
        for (k, v) in &call.headers {
            req = req.header(*k, v);
        }
        req = match &call.body {
            Some(Body::Json(v)) => req.json(v),
            // The ESC CLI sends the definition as the raw body (pulumi-oidc-facts.md §3.2).
            Some(Body::Yaml(text)) => req
                .header("content-type", "application/x-yaml")
                .body(text.clone()),
            Some(Body::Form(pairs)) => req.form(pairs),
            None => req,
        };
        let unreachable = |e: reqwest::Error| Error::Unreachable {
            url: strip_query(&call.url),
            reason: describe_transport(&e),
        };
        let sent_at = Instant::now();
        let resp = req.send().await.map_err(unreachable)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(unreachable)?;
        let resp = Response {
            status,
            headers,
            body,
        };
        // The URL without its query (which may hold names, never a secret); for an
        // error, the service's code and message, as they would appear in an error.
        let url = strip_query(&call.url);
        let ms = sent_at.elapsed().as_millis() as u64;
        if resp.ok() {
            tracing::debug!(service = ?call.service, method = %call.method, %url, status, ms, "request");
        } else {
            let (code, message) = resp.error_parts();
            tracing::debug!(service = ?call.service, method = %call.method, %url, status, ms, %code, %message, "request");
        }
        Ok(resp)
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
        let http = Arc::new(Http::new(None, RetryPolicy::fast(), 1, None).expect("client"));
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
