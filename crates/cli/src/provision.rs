//! `apply`, `status`, `verify` and `destroy`: the executor, with the confirmation,
//! progress and reports a person at a terminal (or a CI log) expects.

use std::io::{IsTerminal, Write};

use pulumi_azure_oidc::Error;
use pulumi_azure_oidc_provision::{Call, Progress, RunOptions, executor, runtime, verify_request};

use crate::args::{
    AdoptArgs, ApplyArgs, AuthArg, CloudArg, ConnArgs, DestroyArgs, DoctorArgs, Output, StatusArgs,
    VerifyArgs,
};
use crate::inputs::{read_arg, read_config, target_config};
use crate::text::print_json;
use crate::{EXIT_NEGATIVE, Failure, text};

/// The flags as the executor's run options. The destructuring names every flag, so
/// one added to `ConnArgs` and not mapped here fails to compile.
fn run_options(conn: &ConnArgs) -> RunOptions {
    let ConnArgs {
        cloud,
        endpoint,
        login_url,
        graph_url,
        arm_url,
        pulumi_api_url,
        ca_file,
        auth,
        concurrency,
        rate_scale,
        output: _,
    } = conn;
    let cloud = match cloud {
        CloudArg::Public => "public",
        CloudArg::China => "china",
        CloudArg::Usgov => "usgov",
    };
    let auth = match auth {
        AuthArg::Auto => "auto",
        AuthArg::ClientSecret => "client-secret",
        AuthArg::WorkloadIdentity => "workload-identity",
        AuthArg::ManagedIdentity => "managed-identity",
        AuthArg::AzureCli => "azure-cli",
    };
    RunOptions {
        cloud: Some(cloud.to_owned()),
        endpoint: endpoint.clone(),
        login_url: login_url.clone(),
        graph_url: graph_url.clone(),
        arm_url: arm_url.clone(),
        pulumi_api_url: pulumi_api_url.clone(),
        ca_file: ca_file.as_ref().map(|p| p.display().to_string()),
        auth: Some(auth.to_owned()),
        concurrency: Some(usize::from(*concurrency)),
        rate_scale: *rate_scale,
        ..RunOptions::default()
    }
}

/// Progress on standard error: a bar on a terminal, one line per change otherwise,
/// each with the rate so far and the time left at that rate. A large org's apply is
/// paced to Azure's budgets and takes minutes; the rate says whether it is moving.
struct Reporter {
    bar: Option<indicatif::ProgressBar>,
    started: std::sync::Mutex<std::time::Instant>,
    total: std::sync::atomic::AtomicUsize,
    done: std::sync::atomic::AtomicUsize,
}

impl Reporter {
    fn new(output: Output) -> Self {
        let bar = (output == Output::Text && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} {per_sec} ~{eta} left {wide_msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Self {
            bar,
            started: std::sync::Mutex::new(std::time::Instant::now()),
            total: std::sync::atomic::AtomicUsize::new(0),
            done: std::sync::atomic::AtomicUsize::new(0),
        }
    }
}

/// `n of total, rate/s, about T left`, from the rate since the start.
fn pace_line(done: usize, total: usize, elapsed_s: f64) -> String {
    if done == 0 {
        return format!("0/{total}");
    }
    let rate = done as f64 / elapsed_s.max(1e-3);
    let left = total.saturating_sub(done) as f64 / rate.max(1e-9);
    format!("{done}/{total}, {rate:.1}/s, about {left:.0} s left")
}

impl Progress for Reporter {
    fn start(&self, total: usize) {
        self.total
            .store(total, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut started) = self.started.lock() {
            *started = std::time::Instant::now();
        }
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
        }
    }
    fn step(&self, summary: &str) {
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                bar.println(format!("  {summary}"));
            }
            None => {
                let done = 1 + self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let total = self.total.load(std::sync::atomic::Ordering::Relaxed);
                let elapsed = self
                    .started
                    .lock()
                    .map(|s| s.elapsed().as_secs_f64())
                    .unwrap_or_default();
                let pace = pace_line(done, total, elapsed);
                eprintln!("  done: {summary} ({pace})");
            }
        }
    }
    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Ask on the terminal; refuse to write unasked when nobody can answer.
fn confirm(question: &str, yes: bool) -> Result<bool, Failure> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::InvalidConfig {
            message: "standard input is not a terminal, so nobody can confirm; re-run with --yes to write without asking".into(),
            location: None,
        });
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Error::UnreadableInput {
            what: "the answer".into(),
            reason: e.to_string(),
        })?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}

pub(crate) fn apply(a: ApplyArgs) -> Result<u8, Failure> {
    let config = target_config(
        &a.target,
        a.ids.tenant_id.as_deref(),
        a.ids.subscription_id.as_deref(),
    )?;
    let p = executor(
        &RunOptions {
            skip_rights_check: a.skip_rights_check,
            ..run_options(&a.conn)
        },
        Call::Apply,
    )?;
    let output = a.conn.output;
    runtime()?.block_on(async {
        let plan = p.plan_config(&config).await?;
        let prepared = p
            .prepare_with(
                plan,
                pulumi_azure_oidc::diff::DiffOptions {
                    prune: a.prune,
                    take_ownership: a.take_ownership,
                },
            )
            .await?;
        for w in &prepared.plan.warnings {
            text::warning(w);
        }
        if output == Output::Text {
            text::changes(&prepared.diff);
        }
        if prepared.diff.is_converged() || a.dry_run {
            let report = p.dry_run_report(&prepared);
            match output {
                Output::Json => print_json(&report),
                Output::Text => text::apps(&report.apps),
            }
            return Ok(0);
        }
        let n = prepared.diff.changes.len();
        if !confirm(&format!("Apply these {n} changes?"), a.yes)? {
            eprintln!("nothing changed");
            return Ok(EXIT_NEGATIVE);
        }
        let report = p.apply(&prepared, &Reporter::new(output)).await?;
        match output {
            Output::Json => print_json(&report),
            Output::Text => text::apply_report(&report),
        }
        Ok(0)
    })
}

pub(crate) fn status(a: StatusArgs) -> Result<u8, Failure> {
    let config = target_config(
        &a.target,
        a.ids.tenant_id.as_deref(),
        a.ids.subscription_id.as_deref(),
    )?;
    let p = executor(&run_options(&a.conn), Call::Status)?;
    let report = runtime()?.block_on(async { p.status(p.plan_config(&config).await?).await })?;
    match a.conn.output {
        Output::Json => print_json(&report),
        Output::Text => text::status(&report),
    }
    Ok(if report.converged { 0 } else { EXIT_NEGATIVE })
}

/// The config with its `"*"` entries filled from Pulumi Cloud; without such entries,
/// the config itself, with no credential read and no request.
pub(crate) fn discovered(
    config: pulumi_azure_oidc::Config,
    conn: &ConnArgs,
) -> Result<pulumi_azure_oidc::Config, Failure> {
    if !config.needs_discovery() {
        return Ok(config);
    }
    let p = executor(&run_options(conn), Call::Discover)?;
    let expanded = runtime()?.block_on(p.discover(&config))?;
    Ok(expanded)
}

pub(crate) fn adopt(a: AdoptArgs) -> Result<u8, Failure> {
    let adopted = pulumi_azure_oidc_provision::adopt_blocking(
        &a.org,
        a.issuer.as_deref(),
        &run_options(&a.conn),
        None,
    )?;
    if let Some(path) = &a.config_out {
        std::fs::write(path, &adopted.config).map_err(|e| Error::UnreadableInput {
            what: format!("`{}`", path.display()),
            reason: format!("cannot write the config: {e}"),
        })?;
    }
    match a.conn.output {
        Output::Json => print_json(&adopted),
        Output::Text => {
            if a.config_out.is_none() {
                print!("{}", adopted.config);
            }
            let _ = writeln!(
                anstream::stderr(),
                "adopted {} target(s); {} thing(s) not expressed; {} finding(s){}",
                adopted.adopted.len(),
                adopted.not_expressed.len(),
                adopted.findings.len(),
                a.config_out
                    .as_ref()
                    .map(|p| format!("; config written to {}", p.display()))
                    .unwrap_or_default()
            );
        }
    }
    Ok(0)
}

pub(crate) fn doctor(a: DoctorArgs) -> Result<u8, Failure> {
    let config = a.config.as_deref().map(read_config).transpose()?;
    let now = crate::commands::now_from(&a.now)?;
    let report = pulumi_azure_oidc_provision::doctor_blocking(
        config.as_ref(),
        a.stack.as_deref(),
        a.env.as_deref(),
        &run_options(&a.conn),
        Some(now),
    )?;
    match a.conn.output {
        Output::Json => print_json(&report),
        Output::Text => text::doctor(&report),
    }
    Ok(report.exit_code())
}

pub(crate) fn verify(a: VerifyArgs) -> Result<u8, Failure> {
    let token = a
        .token
        .as_ref()
        .map(|t| read_arg(&t.0, "the token"))
        .transpose()?;
    let plan = a
        .config
        .as_deref()
        .map(read_config)
        .transpose()?
        .map(|c| pulumi_azure_oidc::plan(&c))
        .transpose()?;
    let options = RunOptions {
        token,
        client_id: a.client_id.clone(),
        tenant_id: a.tenant_id.clone(),
        wait_secs: Some(a.wait),
        ..run_options(&a.conn)
    };
    let p = executor(
        &options,
        Call::Verify {
            with_config: plan.is_some(),
        },
    )?;
    let request = verify_request(&options, plan)?;
    let report = runtime()?.block_on(p.verify(request))?;
    match a.conn.output {
        Output::Json => print_json(&report),
        Output::Text => text::verify(&report),
    }
    Ok(if report.ok { 0 } else { EXIT_NEGATIVE })
}

pub(crate) fn destroy(a: DestroyArgs) -> Result<u8, Failure> {
    let config = target_config(
        &a.target,
        a.ids.tenant_id.as_deref(),
        a.ids.subscription_id.as_deref(),
    )?;
    let p = executor(&run_options(&a.conn), Call::Destroy)?;
    let output = a.conn.output;
    runtime()?.block_on(async {
        let plan = p.plan_config(&config).await?;
        let (steps, live) = p.plan_destroy(&plan).await?;
        if output == Output::Text {
            text::destroy_plan(&steps);
        }
        if steps.steps.is_empty() {
            if output == Output::Json {
                print_json(
                    &serde_json::json!({"org": steps.org, "removed": [], "kept": steps.kept}),
                );
            }
            return Ok(0);
        }
        if !confirm(
            &format!("Remove these {} objects?", steps.steps.len()),
            a.yes,
        )? {
            eprintln!("nothing changed");
            return Ok(EXIT_NEGATIVE);
        }
        let report = p.destroy(&steps, &live, &Reporter::new(output)).await?;
        match output {
            Output::Json => print_json(&report),
            Output::Text => println!("removed {} objects", report.removed.len()),
        }
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_pace_line_names_the_rate_and_the_time_left() {
        assert_eq!(
            super::pace_line(50, 200, 10.0),
            "50/200, 5.0/s, about 30 s left"
        );
        assert_eq!(super::pace_line(0, 10, 0.0), "0/10");
    }
}
