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

    /// Send `writes` (all Graph, each with the statuses that mean it is done) in
    /// order, in chained batches of [`BATCH_LIMIT`]: a round trip for up to twenty
    /// writes that must go one after another. `done(i)` follows each accepted write.
    /// After a write the retry rule says to send again (a 429, a replication 404), the
    /// writes behind it failed with 424 unsent, so all of them go again after the wait.
    pub(crate) async fn graph_chain(
        &self,
        writes: &[(Request, &[u16])],
        mut done: impl FnMut(usize),
    ) -> Result<()> {
        let started = Instant::now();
        let mut attempts = vec![0_u32; writes.len()];
        let mut next = 0;
        while next < writes.len() {
            let base = next;
            let end = (base + BATCH_LIMIT).min(writes.len());
            let sent: Vec<Request> = writes[base..end].iter().map(|(r, _)| r.clone()).collect();
            let outer = requests::chained_batch(&sent);
            let got = requests::read_batch(self.send(&outer).await?, &outer, sent.len())?;
            let mut wait = None;
            for (k, answer) in got.into_iter().enumerate() {
                let i = base + k;
                let (request, ok) = &writes[i];
                self.http.heed(request, &answer);
                attempts[i] += 1;
                match next_action(
                    &self.http.policy,
                    request,
                    Outcome::Answered(&answer),
                    attempts[i],
                    started.elapsed(),
                    jitter(),
                ) {
                    Action::Accept if ok.contains(&answer.status) => {
                        done(i);
                        next = i + 1;
                    }
                    Action::Accept => {
                        return Err(answer.into_error(request.service, &request.operation));
                    }
                    Action::GiveUp(e) => return Err(e),
                    Action::Retry { wait: w, last } => {
                        tracing::info!(
                            operation = %request.operation,
                            attempt = attempts[i],
                            wait_ms = w.as_millis() as u64,
                            last = %last,
                            "retrying inside a batch"
                        );
                        wait = Some(w);
                        break;
                    }
                }
            }
            if let Some(w) = wait {
                self.http
                    .counters
                    .retries
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(w).await;
            }
        }
        Ok(())
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
