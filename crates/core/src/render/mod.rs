//! Renders of a plan: `az` script, ESC YAML, Pulumi programs, Graph-ready JSON.

use std::fmt::Write as _;
mod az;
pub(crate) mod esc;
mod json;
mod program;
mod yaml;

pub use esc::{EscLogin, esc_environment_yaml};
pub use json::{deployment_settings_body, plan_json};

use crate::error::{Error, Result};
use crate::join::Joined;
use crate::plan::{AppPlan, Plan};
use crate::target::Target;

/// Text made safe for a one-line comment in a script or program: every value reaching
/// a render is validated, but a comment must never be able to end early whatever it
/// quotes, so control characters become spaces.
pub(crate) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Every render the tool offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderFormat {
    Az,
    Esc,
    PulumiPython,
    PulumiTypescript,
    Json,
    /// The requests a first apply sends, in order (JSON).
    Requests,
}

impl RenderFormat {
    pub const ALL: [RenderFormat; 6] = [
        RenderFormat::Az,
        RenderFormat::Esc,
        RenderFormat::PulumiPython,
        RenderFormat::PulumiTypescript,
        RenderFormat::Json,
        RenderFormat::Requests,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RenderFormat::Az => "az",
            RenderFormat::Esc => "esc",
            RenderFormat::PulumiPython => "pulumi-python",
            RenderFormat::PulumiTypescript => "pulumi-typescript",
            RenderFormat::Json => "json",
            RenderFormat::Requests => "requests",
        }
    }

    pub fn parse(value: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == value)
            .ok_or_else(|| Error::InvalidConfig {
                message: format!(
                    "unknown render `{}`: expected one of {}",
                    crate::error::Shown(value),
                    Self::ALL.map(Self::as_str).joined(", ")
                ),
                location: None,
            })
    }
}

/// Values known only after apply; placeholders are used for what is missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Client id of the (single) app.
    pub client_id: Option<String>,
    pub tenant_id: Option<String>,
    pub subscription_id: Option<String>,
}

pub(crate) struct Resolved {
    tenant: String,
    subscription: Option<String>,
}

fn check_guid(what: &'static str, value: &Option<String>) -> Result<()> {
    match value {
        Some(v) => crate::roles::Guid::parse(what, v).map(|_| ()),
        None => Ok(()),
    }
}

impl RenderOptions {
    fn resolve(&self, plan: &Plan) -> Result<Resolved> {
        check_guid("client id", &self.client_id)?;
        check_guid("tenant id", &self.tenant_id)?;
        check_guid("subscription id", &self.subscription_id)?;
        if self.client_id.is_some() && plan.apps.len() > 1 {
            return Err(Error::InvalidConfig {
                message: format!(
                    "a client id names one app, but this plan has {} apps; render them after apply, or one target at a time",
                    plan.apps.len()
                ),
                location: None,
            });
        }
        Ok(Resolved {
            tenant: self
                .tenant_id
                .clone()
                .or_else(|| plan.azure.tenant.as_ref().map(|g| g.to_string()))
                .unwrap_or_else(|| "<tenant-id>".to_owned()),
            subscription: self
                .subscription_id
                .clone()
                .or_else(|| plan.azure.subscription.as_ref().map(|g| g.to_string())),
        })
    }

    fn client_id(&self, app: &AppPlan) -> String {
        self.client_id
            .clone()
            .unwrap_or_else(|| format!("<client-id of {}>", app.unique_name))
    }
}

/// Render `plan` in `format`.
pub fn render(plan: &Plan, format: RenderFormat, options: &RenderOptions) -> Result<String> {
    let resolved = options.resolve(plan)?;
    Ok(match format {
        RenderFormat::Az => az::render(plan, &resolved),
        RenderFormat::Esc => render_esc(plan, options, &resolved),
        RenderFormat::PulumiPython => program::python(plan),
        RenderFormat::PulumiTypescript => program::typescript(plan),
        RenderFormat::Json => {
            crate::json_text::pretty(&json::PlanJson(plan)).unwrap_or_default() + "\n"
        }
        RenderFormat::Requests => {
            let shown = crate::provision::preview::first_apply(
                plan,
                &crate::provision::Endpoints::default(),
                &resolved.tenant,
                resolved.subscription.as_deref(),
                options.client_id.as_deref(),
            )?;
            crate::json_text::pretty(&shown).unwrap_or_default() + "\n"
        }
    })
}

fn render_esc(plan: &Plan, options: &RenderOptions, resolved: &Resolved) -> String {
    let mut out = String::new();
    let subscription = resolved
        .subscription
        .clone()
        .unwrap_or_else(|| "<subscription-id>".to_owned());
    for app in &plan.apps {
        let client_id = options.client_id(app);
        for t in &app.targets {
            let Target::Esc(e) = &t.target else { continue };
            if !out.is_empty() {
                out.push_str("---\n");
            }
            let _ = writeln!(
                out,
                "# ESC environment {}/{} (app {})",
                e.org, e.env, app.unique_name
            );
            out.push_str(&esc_environment_yaml(
                e,
                &EscLogin {
                    client_id: &client_id,
                    tenant_id: &resolved.tenant,
                    subscription_id: Some(&subscription),
                },
                t.key_vault.as_ref(),
            ));
        }
    }
    if out.is_empty() {
        out.push_str("# this plan has no ESC environments\n");
    }
    out
}
