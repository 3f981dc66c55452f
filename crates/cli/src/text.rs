//! Human-readable output. Colour goes through anstream, which drops it when the
//! stream is not a terminal or `NO_COLOR` is set.

use anstyle::{AnsiColor, Style};
use pulumi_azure_oidc::diagnose::{ErrorDiagnosis, FixAction, TimeStatus, TokenDiagnosis};
use pulumi_azure_oidc::{Plan, Target};
use std::io::Write;

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const GOOD: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));
const BAD: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
const WARN: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));

macro_rules! out {
    ($($arg:tt)*) => {{
        let _ = writeln!(anstream::stdout(), $($arg)*);
    }};
}

pub(crate) fn warning(message: &str) {
    let _ = writeln!(anstream::stderr(), "{WARN}warning:{WARN:#} {message}");
}

pub(crate) fn note(message: &str) {
    let _ = writeln!(anstream::stderr(), "{DIM}note:{DIM:#} {message}");
}

pub(crate) fn plan(plan: &Plan) {
    let identities = plan.apps.iter().filter(|a| a.identity.is_some()).count();
    let apps = plan.apps.len() - identities;
    let mut holders = format!("{apps} app{}", if apps == 1 { "" } else { "s" });
    if identities > 0 {
        holders.push_str(&format!(
            ", {identities} managed identit{}",
            if identities == 1 { "y" } else { "ies" }
        ));
    }
    out!(
        "{BOLD}Plan for {}{BOLD:#}: {holders}, {} credentials, issuer {}",
        plan.org,
        plan.credential_count(),
        plan.issuer
    );
    for app in &plan.apps {
        out!("");
        out!(
            "{BOLD}{} {}{BOLD:#}  {DIM}{}{DIM:#}",
            app.kind(),
            app.unique_name,
            app.display_name
        );
        if let Some(id) = app.identity_id() {
            out!("  id: {id}");
        }
        out!("  why: {}", app.reason);
        out!("  targets:");
        for t in &app.targets {
            let extra = match &t.target {
                Target::Esc(e) => match &e.subject {
                    pulumi_azure_oidc::EscSubjectForm::Default => " (default subject)".to_owned(),
                    pulumi_azure_oidc::EscSubjectForm::Attributes { attributes, .. } => format!(
                        " (subjectAttributes: {})",
                        attributes
                            .iter()
                            .map(|a| a.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                },
                Target::Deployment(_) => String::new(),
            };
            out!("    {}{extra}", t.label);
        }
        out!("  credentials ({}):", app.credentials.len());
        let width = app
            .credentials
            .iter()
            .map(|c| c.name.as_str().len())
            .max()
            .unwrap_or(0);
        for c in &app.credentials {
            out!(
                "    {:width$}  {}  {DIM}aud{DIM:#} {}",
                c.name.as_str(),
                c.subject,
                c.audience
            );
        }
        if app.roles.is_empty() {
            out!("  roles: none");
        } else {
            out!("  roles:");
            for g in &app.roles {
                out!("    {} at {}", g.role.name, g.scope);
            }
        }
    }
    if !plan.warnings.is_empty() {
        out!("");
        for w in &plan.warnings {
            out!("{WARN}warning:{WARN:#} {w}");
        }
    }
}

fn time_text(epoch: Option<i64>) -> String {
    epoch
        .and_then(|e| time::OffsetDateTime::from_unix_timestamp(e).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "(none)".into())
}

pub(crate) fn token_diagnosis(d: &TokenDiagnosis) {
    out!("{BOLD}Token{BOLD:#} {DIM}(unverified: decoded locally, signature not checked){DIM:#}");
    let c = &d.claims;
    out!("  issuer    {}", c.issuer.as_deref().unwrap_or("(none)"));
    out!("  subject   {}", c.subject.as_deref().unwrap_or("(none)"));
    out!(
        "  audience  {}",
        if c.audiences.is_empty() {
            "(none)".into()
        } else {
            c.audiences.join(", ")
        }
    );
    let status = match d.time {
        TimeStatus::Valid => format!("{GOOD}valid{GOOD:#}"),
        TimeStatus::Expired => format!("{BAD}expired{BAD:#}"),
        TimeStatus::NotYetValid => format!("{BAD}not yet valid{BAD:#}"),
        TimeStatus::Unknown => "no expiry".into(),
    };
    out!("  expires   {} ({status})", time_text(c.expires_at));
    out!("  from      {}", d.subject_description);
    out!("");
    let mark = if d.accepted {
        format!("{GOOD}✓{GOOD:#}")
    } else if d.checked_credentials || d.aadsts.is_some() {
        format!("{BAD}✗{BAD:#}")
    } else {
        "•".into()
    };
    out!("{mark} {}", d.verdict);
    if !d.candidates.is_empty() {
        out!("");
        out!("{BOLD}Closest credentials{BOLD:#}");
        for cand in &d.candidates {
            out!("  {}", cand.name);
            for diff in &cand.differences {
                out!(
                    "    {BAD}{}{BAD:#} [{}]: {}",
                    diff.field,
                    diff.kind,
                    diff.explanation
                );
                out!("      token:      {}", diff.token);
                out!("      credential: {}", diff.credential);
            }
        }
    }
    if let Some(fix) = &d.fix {
        let body = serde_json::to_string(fix).unwrap_or_default();
        out!("");
        if d.fix_action == Some(FixAction::Update) {
            out!("{BOLD}Correct credential `{}` to{BOLD:#}", fix.name);
        } else {
            out!("{BOLD}The credential that accepts this token{BOLD:#}");
        }
        out!("  {body}");
        if let Some(command) = &d.fix_command {
            out!("  {DIM}{command}{DIM:#}");
        }
    }
    for n in &d.notes {
        out!("{WARN}note:{WARN:#} {n}");
    }
}

pub(crate) fn doctor(report: &pulumi_azure_oidc::doctor::DoctorReport) {
    use pulumi_azure_oidc::doctor::Severity;
    for (i, t) in report.targets.iter().enumerate() {
        if i > 0 {
            out!("");
        }
        let verdict = if !t.checked {
            format!("{WARN}could not check{WARN:#}")
        } else if t.healthy {
            format!("{GOOD}healthy{GOOD:#}")
        } else {
            format!("{BAD}broken{BAD:#}")
        };
        let app = t
            .client_id
            .as_deref()
            .map(|c| format!(" (client id {c})"))
            .unwrap_or_default();
        out!("{BOLD}{} {}{BOLD:#}{app}: {verdict}", t.kind, t.target);
        for u in &t.unreadable {
            out!("  {WARN}could not read{WARN:#} {u}");
        }
        for f in &t.findings {
            let mark = match f.severity {
                Severity::Fault => format!("{BAD}✗{BAD:#}"),
                Severity::Advice => format!("{WARN}!{WARN:#}"),
            };
            out!("  {mark} {} {DIM}[{}]{DIM:#}", f.message, f.kind);
            if let Some(fix) = &f.fix {
                out!("      {DIM}fix:{DIM:#} {fix}");
            }
        }
    }
    let faults: usize = report
        .targets
        .iter()
        .map(|t| {
            t.findings
                .iter()
                .filter(|f| f.severity == Severity::Fault)
                .count()
        })
        .sum();
    out!("");
    if !report.checked {
        out!("{WARN}Some targets could not be checked{WARN:#}; see above.");
    } else if report.healthy {
        out!("{GOOD}Healthy{GOOD:#}: every target can log in to Azure.");
    } else {
        out!("{BAD}{faults} problem(s){BAD:#} will make runs fail; each has its fix above.");
    }
}

pub(crate) fn error_diagnosis(d: &ErrorDiagnosis) {
    let count = 1 + d.also.len();
    if count > 1 {
        out!("{BOLD}{count} errors in this text{BOLD:#}\n");
    }
    one_error(d);
    for other in &d.also {
        out!("");
        one_error(other);
    }
}

fn one_error(d: &ErrorDiagnosis) {
    out!("{BAD}{}{BAD:#}: {}", d.aadsts, d.title);
    let p = &d.presented;
    if p.issuer.is_some() || p.subject.is_some() || p.audience.is_some() {
        out!("{BOLD}Presented{BOLD:#}");
        if let Some(v) = &p.issuer {
            out!("  issuer    {v}");
        }
        if let Some(v) = &p.subject {
            out!("  subject   {v}");
        }
        if let Some(v) = &p.audience {
            out!("  audience  {v}");
        }
        if let Some(k) = &d.subject_description {
            out!("  from      {k}");
        }
    }
    for detail in &d.details {
        out!("  {:<9} {}", detail.name, detail.value);
    }
    out!("{BOLD}Cause{BOLD:#}\n  {}", d.cause);
    out!("{BOLD}Fix{BOLD:#}");
    for f in &d.fix {
        out!("  - {f}");
    }
    if let Some(c) = &d.suggested_credential {
        out!("{BOLD}Credential to add{BOLD:#}");
        out!("  {}", serde_json::to_string(c).unwrap_or_default());
        if let Some(command) = &d.suggested_command {
            out!("  {DIM}{command}{DIM:#}");
        }
    }
    let ids: Vec<String> = [
        d.trace_id.as_ref().map(|t| format!("trace {t}")),
        d.correlation_id
            .as_ref()
            .map(|t| format!("correlation {t}")),
        d.timestamp.as_ref().map(|t| format!("at {t}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !ids.is_empty() {
        out!("{DIM}{}{DIM:#}", ids.join(", "));
    }
}

pub(crate) fn changes(diff: &pulumi_azure_oidc::Diff) {
    let mut out = anstream::stdout();
    if diff.is_converged() {
        let _ = writeln!(out, "Everything matches the config; nothing to change.");
    } else {
        let _ = writeln!(out, "{} changes:", diff.changes.len());
        for c in &diff.changes {
            let _ = writeln!(out, "  {}", c.summary());
        }
    }
    for u in &diff.unmanaged {
        note(&format!("{}: credential {} ({})", u.app, u.name, u.note));
    }
    for n in &diff.notes {
        note(n);
    }
}

pub(crate) fn apps(apps: &[pulumi_azure_oidc::provision::AppSummary]) {
    let mut out = anstream::stdout();
    for a in apps {
        let _ = writeln!(
            out,
            "app {} ({}): client id {}, {} credentials, targets: {}",
            a.unique_name,
            a.display_name,
            a.client_id.as_deref().unwrap_or("(not created yet)"),
            a.credentials,
            a.targets.join(", ")
        );
    }
}

pub(crate) fn apply_report(r: &pulumi_azure_oidc::provision::ApplyReport) {
    let mut out = anstream::stdout();
    let _ = writeln!(out, "Applied {} changes.", r.applied);
    apps(&r.apps);
    for (stack, settings) in &r.deployment_settings {
        let _ = writeln!(
            out,
            "deployment settings of {stack}: OIDC with client id {}",
            settings["clientId"].as_str().unwrap_or("")
        );
    }
    for (env, yaml) in &r.esc_environments {
        let _ = writeln!(out, "ESC environment {env}:\n{}", yaml.trim_end());
    }
}

pub(crate) fn status(r: &pulumi_azure_oidc::provision::StatusReport) {
    let mut out = anstream::stdout();
    for t in &r.targets {
        if t.ok {
            let _ = writeln!(out, "ok    {} (app {})", t.target, t.app);
        } else {
            let _ = writeln!(out, "DRIFT {} (app {})", t.target, t.app);
            for p in &t.problems {
                let _ = writeln!(out, "        needs {p}");
            }
        }
    }
    if r.converged {
        let _ = writeln!(out, "Everything matches the config.");
    } else {
        let _ = writeln!(
            out,
            "{} changes would bring it in line; run apply.",
            r.changes.len()
        );
    }
    for n in &r.notes {
        note(n);
    }
}

pub(crate) fn verify(r: &pulumi_azure_oidc::provision::VerifyReport) {
    let mut out = anstream::stdout();
    let claim = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
    let _ = writeln!(
        out,
        "token: issuer {}, subject {}, audience {}",
        claim(&r.claims.issuer),
        claim(&r.claims.subject),
        r.claims.audiences.join(",")
    );
    for res in &r.results {
        let who = res.client_id.as_deref().unwrap_or("(none)");
        if res.ok {
            let _ = writeln!(
                out,
                "accepted for client id {who} after {} attempt(s)",
                res.attempts
            );
            continue;
        }
        let _ = writeln!(
            out,
            "REFUSED for client id {who}: {}",
            res.error.as_deref().unwrap_or("unknown error")
        );
        if let Some(d) = &res.diagnosis {
            error_diagnosis(d);
        }
        if let Some(d) = &res.token_diagnosis {
            token_diagnosis(d);
        }
    }
}

pub(crate) fn destroy_plan(p: &pulumi_azure_oidc::provision::DestroyPlan) {
    let mut out = anstream::stdout();
    if p.steps.is_empty() {
        let _ = writeln!(out, "Nothing managed by this tool was found for {}.", p.org);
    } else {
        let _ = writeln!(out, "{} objects to remove:", p.steps.len());
        for s in &p.steps {
            let _ = writeln!(out, "  {}", s.summary());
        }
    }
    for k in &p.kept {
        note(&format!("kept: {k}"));
    }
}

pub(crate) fn print_json<T: serde::Serialize>(value: &T) {
    // Serialising the core's plain data types cannot fail.
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}
