//! When to try a request again, and how long to wait first (DESIGN §4): decided here
//! as values, from the answer, the attempt and the time spent, so the rule is tested
//! without a clock or a network.

use std::time::Duration;

use super::request::{Answer, Request};
use crate::error::{Error, status_line};

/// How long and how often to retry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// First backoff; doubled per attempt, with jitter.
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

    /// The wait before retry number `attempt + 1`: exponential, capped, scaled by
    /// `jitter` (the caller draws it from 0.5..=1.0, so retries of many requests
    /// spread out).
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = self.base.saturating_mul(1 << attempt.min(16)).min(self.cap);
        exp.mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// What the service asked us to wait, if it did. Graph sends fractional seconds
/// (`Retry-After: 2.128`, azure-facts.md §5.1); some services send milliseconds.
pub fn retry_after(answer: &Answer) -> Option<Duration> {
    let ms = answer
        .header("retry-after-ms")
        .or_else(|| answer.header("x-ms-retry-after-ms"));
    if let Some(ms) = ms.and_then(|v| v.trim().parse::<f64>().ok()) {
        return Some(Duration::from_secs_f64((ms / 1000.0).clamp(0.0, 3600.0)));
    }
    let secs = answer.header("retry-after")?.trim().parse::<f64>().ok()?;
    Some(Duration::from_secs_f64(secs.clamp(0.0, 3600.0)))
}

/// What one attempt ended in, as the retry rule sees it.
#[derive(Debug)]
pub enum Outcome<'a> {
    Answered(&'a Answer),
    /// No answer: the connection failed or timed out.
    Unreachable(&'a str),
}

/// What to do after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Take the answer as it is (success, or a failure for the caller to judge).
    Accept,
    /// Send the request again after this wait; `last` says what went wrong.
    Retry { wait: Duration, last: String },
    /// The budget is spent.
    GiveUp(Error),
}

/// The retry rule of DESIGN §4: throttling (honouring `Retry-After`), 408 and 5xx,
/// no answer at all, and the replication answers the request says to wait out are
/// retried with backoff until the attempts or the time run out; anything else is the
/// caller's to judge. `attempt` counts the attempts made so far (≥ 1).
pub fn next_action(
    policy: &RetryPolicy,
    request: &Request,
    outcome: Outcome<'_>,
    attempt: u32,
    elapsed: Duration,
    jitter: f64,
) -> Action {
    let (wait, last) = match outcome {
        Outcome::Answered(answer) => {
            let throttled = matches!(answer.status, 408 | 429 | 500 | 502 | 503 | 504);
            if !throttled && !request.wait_out.matches(answer) {
                return Action::Accept;
            }
            let wait = retry_after(answer).unwrap_or_else(|| policy.backoff(attempt - 1, jitter));
            (wait, status_line(answer.status, &answer.error_code()))
        }
        Outcome::Unreachable(reason) => (policy.backoff(attempt - 1, jitter), reason.to_owned()),
    };
    if attempt >= policy.max_attempts || elapsed + wait > policy.max_elapsed {
        return Action::GiveUp(Error::RetriesExhausted {
            operation: request.operation.clone(),
            attempts: attempt,
            seconds: elapsed.as_secs(),
            last,
        });
    }
    Action::Retry { wait, last }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision::request::{Method, Service, WaitOut};

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Answer {
        Answer {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn request(wait_out: WaitOut) -> Request {
        Request::new(Service::Graph, "op".into(), Method::Get, "x".into()).wait_out(wait_out)
    }

    #[test]
    fn retry_after_wins_over_backoff_and_may_be_fractional() {
        let a = answer(429, &[("Retry-After", "2.5")], "");
        let action = next_action(
            &RetryPolicy::default(),
            &request(WaitOut::Nothing),
            Outcome::Answered(&a),
            1,
            Duration::ZERO,
            1.0,
        );
        assert_eq!(
            action,
            Action::Retry {
                wait: Duration::from_millis(2500),
                last: "HTTP 429".into()
            }
        );
    }

    #[test]
    fn replication_answers_are_waited_out_only_when_the_request_says_so() {
        let a = answer(
            400,
            &[],
            r#"{"error":{"code":"PrincipalNotFound","message":"x"}}"#,
        );
        let policy = RetryPolicy::fast();
        let plain = next_action(
            &policy,
            &request(WaitOut::Nothing),
            Outcome::Answered(&a),
            1,
            Duration::ZERO,
            1.0,
        );
        assert_eq!(plain, Action::Accept);
        let waiting = next_action(
            &policy,
            &request(WaitOut::PrincipalReplication),
            Outcome::Answered(&a),
            1,
            Duration::ZERO,
            1.0,
        );
        assert!(matches!(waiting, Action::Retry { .. }), "{waiting:?}");
    }

    #[test]
    fn the_budget_ends_in_retries_exhausted() {
        let policy = RetryPolicy::fast();
        let action = next_action(
            &policy,
            &request(WaitOut::Nothing),
            Outcome::Unreachable("connection refused"),
            policy.max_attempts,
            Duration::ZERO,
            1.0,
        );
        match action {
            Action::GiveUp(Error::RetriesExhausted { attempts, last, .. }) => {
                assert_eq!(attempts, policy.max_attempts);
                assert_eq!(last, "connection refused");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(0, 1.0), Duration::from_millis(500));
        assert_eq!(p.backoff(1, 1.0), Duration::from_secs(1));
        assert_eq!(p.backoff(20, 1.0), p.cap);
        assert_eq!(p.backoff(1, 0.5), Duration::from_millis(500));
    }
}
