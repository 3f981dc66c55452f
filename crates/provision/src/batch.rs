//! Many Graph requests in few round trips: JSON batches of up to twenty, sent at
//! once, with every inner request judged and retried by the core's rule as if it had
//! gone alone. Graph does not retry inside a batch, so an inner 429 or a replication
//! 404 comes back to us; only those requests go again, after the longest wait any of
//! them was told.

use std::time::{Duration, Instant};

use pulumi_azure_oidc::error::Result;
use pulumi_azure_oidc::provision::requests::{self, BATCH_LIMIT};
use pulumi_azure_oidc::provision::{Action, Answer, Outcome, Request, next_action};
use tokio::task::JoinSet;

use super::Provisioner;
use super::http::jitter;
use super::observe::join_error;

impl Provisioner {
    /// The answers to `requests` (all Graph), in their order, each accepted by the
    /// retry rule; batches of [`BATCH_LIMIT`] run concurrently.
    pub(crate) async fn graph_batch(
        self: &std::sync::Arc<Self>,
        requests: Vec<Request>,
    ) -> Result<Vec<Answer>> {
        let mut chunks = JoinSet::new();
        for (n, chunk) in requests.chunks(BATCH_LIMIT).enumerate() {
            let me = self.clone();
            let chunk = chunk.to_vec();
            chunks.spawn(async move { me.one_batch(&chunk).await.map(|a| (n, a)) });
        }
        let mut answers: Vec<(usize, Vec<Answer>)> = Vec::new();
        while let Some(done) = chunks.join_next().await {
            answers.push(done.map_err(join_error)??);
        }
        answers.sort_by_key(|(n, _)| *n);
        Ok(answers.into_iter().flat_map(|(_, a)| a).collect())
    }

    async fn one_batch(&self, requests: &[Request]) -> Result<Vec<Answer>> {
        let started = Instant::now();
        let mut answers: Vec<Option<Answer>> = vec![None; requests.len()];
        let mut attempts = vec![0_u32; requests.len()];
        loop {
            let pending: Vec<usize> = (0..requests.len())
                .filter(|&i| answers[i].is_none())
                .collect();
            if pending.is_empty() {
                break;
            }
            let sent: Vec<Request> = pending.iter().map(|&i| requests[i].clone()).collect();
            let outer = requests::batch(&sent);
            let got = requests::read_batch(self.send(&outer).await?, &outer, sent.len())?;
            let mut wait = Duration::ZERO;
            let mut again = 0_u64;
            for (&i, answer) in pending.iter().zip(got) {
                attempts[i] += 1;
                self.http.heed(&requests[i], &answer);
                match next_action(
                    &self.http.policy,
                    &requests[i],
                    Outcome::Answered(&answer),
                    attempts[i],
                    started.elapsed(),
                    jitter(),
                ) {
                    Action::Accept => answers[i] = Some(answer),
                    Action::GiveUp(e) => return Err(e),
                    Action::Retry { wait: w, last } => {
                        tracing::info!(
                            operation = %requests[i].operation,
                            attempt = attempts[i],
                            wait_ms = w.as_millis() as u64,
                            last = %last,
                            "retrying inside a batch"
                        );
                        wait = wait.max(w);
                        again += 1;
                    }
                }
            }
            if again > 0 {
                self.http
                    .counters
                    .retries
                    .fetch_add(again, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(wait).await;
            }
        }
        Ok(answers.into_iter().flatten().collect())
    }
}
