//! `doctor`: what a target's live set-up lacks, judged from what was read of it.
//!
//! The executor reads, for one stack or environment, the login it names (the stack's
//! deployment settings or the environment's `fn::open::azure-login` block), the
//! application that client id names, that app's federated credentials, service
//! principal and role assignments in the named subscription. [`assess`] turns those
//! reads into findings, each with the fix as a command. It needs no token and judges
//! a set-up made by hand, by Pulumi's example program or by `pulumi env setup azure`
//! exactly as one this tool made: credentials are matched by issuer, subject and
//! audience, never by name.

use serde::Serialize;

use crate::claims::{Issuer, PULUMI_CLOUD_ISSUER, esc_yaml_subject};
use crate::credential::FederatedCredential;
use crate::error::Result;
use crate::join::Joined;
use crate::observed::{ObservedCredential, ObservedEscEnvironment, ObservedRoleAssignment};
use crate::plan::MAX_CREDENTIALS_PER_APP;
use crate::spec::TargetSpec;
use crate::target::Target;

/// A credential this young may still be unknown to some Entra replicas
/// (field notes §3: minutes, not seconds).
const PROPAGATION_WINDOW_SECS: i64 = 10 * 60;
/// Built-in roles that grant more than a deployment needs to manage resources:
/// Owner and User Access Administrator can also grant access to others.
const BROAD_ROLES: [(&str, &str); 2] = [
    ("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
    (
        "User Access Administrator",
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    ),
];

/// The Azure login a target names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Login {
    pub client_id: Option<String>,
    pub tenant_id: Option<String>,
    pub subject_attributes: Vec<String>,
    pub subscription_id: Option<String>,
    /// ESC's `oidc: true`; `None` for a stack, whose settings have no such switch.
    pub oidc: Option<bool>,
}

/// The application a login's client id leads to, with what hangs off it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Holder {
    pub object_id: String,
    pub app_id: String,
    pub display_name: String,
    /// Graph's `createdDateTime`, as Unix seconds when it could be read.
    pub created_unix: Option<i64>,
    /// The client id named the app's object id, not its application id.
    pub found_by_object_id: bool,
    pub credentials: Vec<ObservedCredential>,
    pub service_principal_id: Option<String>,
    /// Role assignments of the service principal in the login's subscription, at any
    /// scope in it.
    pub role_assignments: Vec<ObservedRoleAssignment>,
    /// Set when the client id names a user-assigned managed identity (its ARM id)
    /// rather than an app; then `service_principal_id` is its principal id.
    pub identity_id: Option<String>,
}

impl Holder {
    /// `app <client id>` or `managed identity <client id>`, for messages.
    pub fn label(&self) -> String {
        match self.identity_id {
            Some(_) => format!("managed identity {}", self.app_id),
            None => format!("app {}", self.app_id),
        }
    }

    /// The `az` command that creates the credential `body` in this holder (or, with
    /// `update`, corrects the one of the same name).
    fn credential_command(
        &self,
        body: &crate::credential::GraphCredentialBody,
        update: bool,
    ) -> String {
        let Some(id) = &self.identity_id else {
            return body
                .az_command(update)
                .replace("<app client id>", &self.app_id);
        };
        let part = |key: &str| {
            let parts: Vec<&str> = id.split('/').collect();
            parts
                .iter()
                .position(|p| p.eq_ignore_ascii_case(key))
                .and_then(|i| parts.get(i + 1))
                .map(|v| (*v).to_owned())
                .unwrap_or_default()
        };
        let q = |v: &str| {
            shlex::try_quote(v)
                .map(|c| c.into_owned())
                .unwrap_or_else(|_| "''".to_owned())
        };
        format!(
            "az identity federated-credential {} --name {} --identity-name {} --resource-group {} --subscription {} --issuer {} --subject {} --audiences {}",
            if update { "update" } else { "create" },
            q(&body.name),
            q(&part("userAssignedIdentities")),
            q(&part("resourceGroups")),
            q(&part("subscriptions")),
            q(&body.issuer),
            q(&body.subject),
            q(body
                .audiences
                .first()
                .map(String::as_str)
                .unwrap_or_default()),
        )
    }
}

/// A user-assigned identity found behind a client id, as a holder: `sp` is its service
/// principal as Graph returns it (`servicePrincipalType` `ManagedIdentity`, the ARM id
/// among `alternativeNames`), `identity` the ARM resource.
pub fn holder_from_identity(identity: &serde_json::Value) -> Option<Holder> {
    let p = &identity["properties"];
    Some(Holder {
        object_id: identity["id"].as_str()?.to_owned(),
        app_id: p["clientId"].as_str()?.to_owned(),
        display_name: identity["name"].as_str().unwrap_or_default().to_owned(),
        service_principal_id: p["principalId"].as_str().map(str::to_owned),
        identity_id: identity["id"].as_str().map(str::to_owned),
        ..Holder::default()
    })
}

/// The ARM id of the user-assigned identity a service principal stands for, if it is
/// one (Graph lists it among the principal's `alternativeNames`).
pub fn identity_of_service_principal(sp: &serde_json::Value) -> Option<String> {
    if sp["servicePrincipalType"].as_str() != Some("ManagedIdentity") {
        return None;
    }
    sp["alternativeNames"]
        .as_array()?
        .iter()
        .filter_map(serde_json::Value::as_str)
        .find(|n| {
            n.to_ascii_lowercase()
                .contains("/providers/microsoft.managedidentity/userassignedidentities/")
        })
        .map(str::to_owned)
}

/// Everything read of one target.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// `None`: no settings, no environment, or no Azure login in them.
    pub login: Option<Login>,
    /// Whether the target itself exists (a stack's settings may be missing while
    /// the stack exists; an environment that does not exist has no login at all).
    pub target_exists: bool,
    pub holder: Option<Holder>,
    /// The tenant the reads were made in (the operator's).
    pub tenant: String,
    /// What could not be read, in words; the target is then unchecked.
    pub unreadable: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A run will fail because of it.
    Fault,
    /// Worth knowing; nothing fails because of it.
    Advice,
}

/// One thing found, with the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable name for the kind of finding, such as `missing_credential`.
    pub kind: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The command that fixes it (our CLI or `az`), when one does.
    pub fix: Option<String>,
}

/// The verdict on one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetDoctor {
    /// `ORG/PROJECT/STACK` or `ORG/PROJECT/ENV`.
    pub target: String,
    /// `stack` or `environment`.
    pub kind: &'static str,
    pub client_id: Option<String>,
    pub healthy: bool,
    pub checked: bool,
    pub findings: Vec<Finding>,
    pub unreadable: Vec<String>,
}

/// The verdict on every target asked about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoctorReport {
    pub healthy: bool,
    pub checked: bool,
    pub targets: Vec<TargetDoctor>,
}

impl DoctorReport {
    pub fn new(targets: Vec<TargetDoctor>) -> Self {
        Self {
            healthy: targets.iter().all(|t| t.healthy),
            checked: targets.iter().all(|t| t.checked),
            targets,
        }
    }

    /// 0 healthy, 1 with faults, 2 when something could not be checked.
    pub fn exit_code(&self) -> u8 {
        if !self.checked {
            2
        } else if !self.healthy {
            1
        } else {
            0
        }
    }
}

/// The login in a stack's deployment settings (`operationContext.oidc.azure`), if any.
pub fn login_from_settings(settings: &serde_json::Value) -> Option<Login> {
    let azure = settings.pointer("/operationContext/oidc/azure")?;
    let text = |k: &str| {
        azure[k]
            .as_str()
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    Some(Login {
        client_id: text("clientId"),
        tenant_id: text("tenantId"),
        subscription_id: text("subscriptionId"),
        oidc: None,
        subject_attributes: Vec::new(),
    })
}

/// The login of an environment's `fn::open::azure-login` block, if it has one.
pub fn login_from_env(seen: ObservedEscEnvironment) -> Option<Login> {
    let any = seen.client_id.is_some()
        || seen.tenant_id.is_some()
        || seen.subscription_id.is_some()
        || seen.oidc.is_some();
    any.then_some(Login {
        client_id: seen.client_id,
        tenant_id: seen.tenant_id,
        subscription_id: seen.subscription_id,
        oidc: Some(seen.oidc.unwrap_or(false)),
        subject_attributes: seen.subject_attributes,
    })
}

/// A Graph application as a holder, before its credentials, service principal and
/// roles are read.
pub fn holder_from_app(app: &serde_json::Value, found_by_object_id: bool) -> Option<Holder> {
    let created_unix = app["createdDateTime"].as_str().and_then(|t| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .ok()
            .map(time::OffsetDateTime::unix_timestamp)
    });
    Some(Holder {
        object_id: app["id"].as_str()?.to_owned(),
        app_id: app["appId"].as_str()?.to_owned(),
        display_name: app["displayName"].as_str().unwrap_or_default().to_owned(),
        created_unix,
        found_by_object_id,
        ..Holder::default()
    })
}

/// The targets a `doctor` run looks at: a config's, or one named on the command line
/// as `ORG/PROJECT/STACK` (`stack`) or `ORG/PROJECT/ENV` (`env`). An environment's
/// subject form is read from the environment itself.
pub fn targets(
    config: Option<&crate::Config>,
    stack: Option<&str>,
    env: Option<&str>,
) -> Result<Vec<(Target, Issuer)>> {
    let parts = |what: &'static str, text: &str| -> Result<(String, String, String)> {
        let mut it = text.split('/');
        match (it.next(), it.next(), it.next(), it.next()) {
            (Some(o), Some(p), Some(n), None)
                if !o.is_empty() && !p.is_empty() && !n.is_empty() =>
            {
                Ok((o.to_owned(), p.to_owned(), n.to_owned()))
            }
            _ => Err(crate::Error::InvalidConfig {
                message: format!("{what} `{text}` is not ORG/PROJECT/NAME"),
                location: None,
            }),
        }
    };
    let spec = match (config, stack, env) {
        (Some(c), None, None) => {
            return Ok(c
                .targets
                .iter()
                .map(|t| (t.target.clone(), c.issuer.clone()))
                .collect());
        }
        (None, Some(s), None) => {
            let (org, project, stack) = parts("the stack", s)?;
            TargetSpec::Deployment {
                org,
                project,
                stack,
                operations: None,
                issuer: None,
            }
        }
        (None, None, Some(e)) => {
            let (org, project, env) = parts("the environment", e)?;
            TargetSpec::Esc {
                org,
                project,
                env,
                subject_attributes: None,
                user: None,
                root_env: None,
                include_yaml_subject: false,
                issuer: None,
            }
        }
        _ => {
            return Err(crate::Error::InvalidConfig {
                message: "give exactly one of a config, a stack (ORG/PROJECT/STACK) or an environment (ORG/PROJECT/ENV)".into(),
                location: None,
            });
        }
    };
    Ok(vec![spec.build()?])
}

/// Whether `target` is an ESC environment whose subject form names exactly
/// `attributes` (none: Pulumi's default subject).
pub fn same_attributes(target: &Target, attributes: &[String]) -> bool {
    match target {
        Target::Esc(e) => match &e.subject {
            crate::target::EscSubjectForm::Default => attributes.is_empty(),
            crate::target::EscSubjectForm::Attributes {
                attributes: own, ..
            } => own
                .iter()
                .map(|a| a.as_str())
                .eq(attributes.iter().map(String::as_str)),
        },
        Target::Deployment(_) => false,
    }
}

/// The target an ESC environment is, with the `subjectAttributes` its login names
/// (none: the default subject).
pub fn env_target(org: &str, project: &str, env: &str, attributes: &[String]) -> Result<Target> {
    TargetSpec::Esc {
        org: org.to_owned(),
        project: project.to_owned(),
        env: env.to_owned(),
        // An empty list is Pulumi's default subject, as an environment without
        // `subjectAttributes` presents it.
        subject_attributes: Some(attributes.to_vec()),
        user: None,
        root_env: None,
        include_yaml_subject: false,
        issuer: None,
    }
    .build()
    .map(|(t, _)| t)
}

fn finding(
    kind: &'static str,
    severity: Severity,
    message: String,
    fix: Option<String>,
) -> Finding {
    Finding {
        kind,
        severity,
        message,
        fix,
    }
}

fn fault(kind: &'static str, message: String, fix: Option<String>) -> Finding {
    finding(kind, Severity::Fault, message, fix)
}

fn advice(kind: &'static str, message: String, fix: Option<String>) -> Finding {
    finding(kind, Severity::Advice, message, fix)
}

/// `ORG/PROJECT/NAME` and `stack`/`environment` of a target.
fn describe(target: &Target) -> (String, &'static str) {
    match target {
        Target::Deployment(d) => (format!("{}/{}/{}", d.org, d.project, d.stack), "stack"),
        Target::Esc(e) => (format!("{}/{}", e.org, e.env), "environment"),
    }
}

/// Judge one target from what was read of it. `issuer` is the Pulumi issuer its
/// tokens come from; `now` is Unix seconds.
pub fn assess(target: &Target, issuer: &Issuer, seen: &Seen, now: i64) -> Result<TargetDoctor> {
    let (name, kind) = describe(target);
    let mut findings = Vec::new();
    let done = |findings: Vec<Finding>, client_id: Option<String>| TargetDoctor {
        healthy: !findings.iter().any(|f| f.severity == Severity::Fault),
        checked: seen.unreadable.is_empty(),
        target: name.clone(),
        kind,
        client_id,
        findings,
        unreadable: seen.unreadable.clone(),
    };
    if !seen.unreadable.is_empty() {
        return Ok(done(findings, None));
    }
    // The one-target form of `apply`, which writes the login with everything it needs.
    let fix_all = match target {
        Target::Deployment(d) => format!(
            "pulumi-azure-oidc apply --org {} --project {} --stack {}",
            d.org, d.project, d.stack
        ),
        Target::Esc(e) => format!(
            "pulumi-azure-oidc apply --org {} --project {} --env {}",
            e.org, e.env.project, e.env.env
        ),
    };

    let Some(login) = &seen.login else {
        let message = match (kind, seen.target_exists) {
            ("stack", _) => {
                format!("OIDC to Azure is not enabled in the deployment settings of {name}")
            }
            (_, true) => format!("environment {name} has no `fn::open::azure-login` block"),
            (_, false) => format!("environment {name} does not exist"),
        };
        findings.push(fault("oidc_not_enabled", message, Some(fix_all)));
        return Ok(done(findings, None));
    };
    let missing: Vec<&str> = [
        ("clientId", login.client_id.is_none()),
        ("tenantId", login.tenant_id.is_none()),
    ]
    .into_iter()
    .filter_map(|(field, absent)| absent.then_some(field))
    .collect();
    if !missing.is_empty() {
        findings.push(fault(
            "login_field_missing",
            format!("the Azure login of {name} lacks {}", missing.joined(", ")),
            Some(fix_all.clone()),
        ));
    }
    if login.subscription_id.is_none() {
        // A tenant-scoped login is legitimate (`pulumi env setup azure` omits the
        // field then), but azure-native wants a subscription with OIDC
        // (pulumi/pulumi-azure-native#4751), and roles cannot be looked up.
        findings.push(advice(
            "no_subscription",
            format!("the Azure login of {name} names no subscription: azure-native then needs ARM_SUBSCRIPTION_ID, and the app's roles were not checked"),
            None,
        ));
    }
    if login.oidc == Some(false) {
        findings.push(fault(
            "esc_oidc_off",
            format!("the `fn::open::azure-login` block of {name} does not say `oidc: true`, so it logs in with a secret, not a Pulumi token"),
            Some(format!("pulumi env edit {name}  # set oidc: true")),
        ));
    }
    if let Some(t) = &login.tenant_id
        && !seen.tenant.is_empty()
        && !t.eq_ignore_ascii_case(&seen.tenant)
    {
        findings.push(fault(
            "tenant_mismatch",
            format!(
                "{name} logs in to tenant {t}, but its app was looked up in tenant {}; the token exchange goes to the tenant the settings name",
                seen.tenant
            ),
            None,
        ));
    }
    let Some(client_id) = &login.client_id else {
        return Ok(done(findings, None));
    };
    let Some(holder) = &seen.holder else {
        findings.push(fault(
            "no_such_app",
            format!(
                "client id {client_id} names no application in tenant {}",
                seen.tenant
            ),
            Some(format!("az ad app show --id {client_id}")),
        ));
        return Ok(done(findings, Some(client_id.clone())));
    };
    if holder.found_by_object_id {
        findings.push(fault(
            "client_id_is_object_id",
            format!(
                "{client_id} is the object id of app `{}`; Azure wants its application (client) id, {}",
                holder.display_name, holder.app_id
            ),
            Some(format!("set clientId to {} in {name}", holder.app_id)),
        ));
    }
    let app = &holder.app_id;
    let who = holder.label();
    if holder.service_principal_id.is_none() {
        findings.push(fault(
            "no_service_principal",
            format!("{who} has no service principal in the tenant, so nothing can log in as it"),
            Some(format!("az ad sp create --id {app}")),
        ));
    }

    check_credentials(target, issuer, holder, &name, &mut findings)?;

    if holder.service_principal_id.is_some()
        && let Some(subscription) = login.subscription_id.as_deref()
    {
        if holder.role_assignments.is_empty() {
            findings.push(fault(
                "no_role",
                format!(
                    "{who}'s service principal holds no role in subscription {subscription}: the login works, then every Azure call fails with AuthorizationFailed"
                ),
                Some(format!(
                    "az role assignment create --assignee-object-id {} --assignee-principal-type ServicePrincipal --role <role> --scope /subscriptions/{subscription}/resourceGroups/<group>",
                    holder.service_principal_id.as_deref().unwrap_or_default()
                )),
            ));
        }
        for ra in &holder.role_assignments {
            let at_subscription = ra.scope.trim_end_matches('/').matches('/').count() <= 2;
            if let Some((role, _)) = BROAD_ROLES
                .iter()
                .find(|(_, id)| ra.role_definition_id.to_ascii_lowercase().ends_with(id))
                && at_subscription
            {
                findings.push(advice(
                    "broad_role",
                    format!("{who} holds {role} on the whole subscription ({}); a deployment rarely needs more than Contributor on its resource groups", ra.scope),
                    None,
                ));
            }
        }
    }
    if let Some(created) = holder.created_unix
        && now.saturating_sub(created) < PROPAGATION_WINDOW_SECS
    {
        findings.push(advice(
            "recently_created",
            format!(
                "{who} was created {} s ago; new credentials take minutes to reach every Entra replica, so an AADSTS70021 now may pass on retry",
                now.saturating_sub(created).max(0)
            ),
            None,
        ));
    }
    Ok(done(findings, Some(client_id.clone())))
}

/// The credentials the target needs, each matched exactly or diagnosed as a near miss.
fn check_credentials(
    target: &Target,
    issuer: &Issuer,
    holder: &Holder,
    name: &str,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let who = holder.label();
    let wanted = target.credentials(issuer)?.credentials;
    let mut missing = 0;
    for w in &wanted {
        if holder.credentials.iter().any(|c| accepts(c, w)) {
            continue;
        }
        let update = |c: &ObservedCredential| {
            let mut body = w.to_graph_body();
            body.name.clone_from(&c.name);
            body.description = c.description.clone().unwrap_or_default();
            Some(holder.credential_command(&body, true))
        };
        let what = match target {
            Target::Deployment(_) => format!(
                "the `{}` operation",
                w.subject
                    .rsplit(":operation:")
                    .next()
                    .unwrap_or_default()
                    .split(':')
                    .next()
                    .unwrap_or_default()
            ),
            Target::Esc(_) => "opening the environment".to_owned(),
        };
        let subject_of = |c: &ObservedCredential| c.subject.clone().unwrap_or_default();
        if let Some(c) = holder.credentials.iter().find(|c| {
            let s = subject_of(c);
            s != w.subject && s.trim().eq_ignore_ascii_case(&w.subject)
        }) {
            findings.push(fault(
                "subject_case_or_whitespace",
                format!(
                    "credential `{}` has subject `{}`, which differs from `{}` only in letter case or spaces; Azure compares exactly, so {what} of {name} fails",
                    c.name, subject_of(c), w.subject
                ),
                update(c),
            ));
        } else if let Some(c) = holder
            .credentials
            .iter()
            .find(|c| subject_of(c) == w.subject && c.issuer != w.issuer)
        {
            findings.push(fault(
                "wrong_issuer",
                format!(
                    "credential `{}` trusts issuer `{}`, but {name}'s tokens come from `{}`{}",
                    c.name,
                    c.issuer,
                    w.issuer,
                    issuer_hint(&c.issuer, &w.issuer)
                ),
                update(c),
            ));
        } else if let Some(c) = holder
            .credentials
            .iter()
            .find(|c| subject_of(c) == w.subject && c.issuer == w.issuer)
        {
            findings.push(fault(
                "wrong_audience",
                format!(
                    "credential `{}` expects audience `{}`, but {name}'s tokens carry `{}`{}",
                    c.name,
                    c.audiences.joined("`, `"),
                    w.audience,
                    audience_hint(&w.audience)
                ),
                update(c),
            ));
        } else {
            missing += 1;
            let attributes = match target {
                Target::Esc(e) => e.attribute_values().is_some(),
                Target::Deployment(_) => false,
            };
            let kind = if attributes {
                "subject_attributes_unmatched"
            } else {
                "missing_credential"
            };
            findings.push(fault(
                kind,
                format!(
                    "no credential of {who} trusts subject `{}` (issuer {}, audience {}), so {what} of {name} fails with AADSTS70021",
                    w.subject, w.issuer, w.audience
                ),
                Some(holder.credential_command(&w.to_graph_body(), false)),
            ));
        }
    }
    let yaml = esc_yaml_subject(target.org());
    if holder
        .credentials
        .iter()
        .any(|c| c.subject.as_deref() == Some(yaml.as_str()))
    {
        findings.push(advice(
            "yaml_subject",
            format!(
                "{who} trusts `{yaml}`: it works, but any ESC environment of the organization opened from a stack's config can then use it (pulumi/pulumi#14509); prefer subjectAttributes: [currentEnvironment.name]"
            ),
            None,
        ));
    }
    let count = holder.credentials.len();
    if count >= MAX_CREDENTIALS_PER_APP {
        let message =
            format!("{who} already holds {count} federated credentials, Azure's limit per holder");
        findings.push(if missing > 0 {
            fault(
                "holder_full",
                format!("{message}: the missing ones cannot be added to it"),
                Some(
                    "pulumi-azure-oidc apply --config FILE  # spreads targets over more apps"
                        .to_owned(),
                ),
            )
        } else {
            advice("holder_full", message, None)
        });
    }
    Ok(())
}

fn accepts(c: &ObservedCredential, w: &FederatedCredential) -> bool {
    c.subject
        .as_deref()
        .is_some_and(|s| w.accepts(&c.issuer, s, &c.audiences))
}

fn issuer_hint(have: &str, want: &str) -> &'static str {
    if have.trim_end_matches('/') == want {
        " (a trailing slash is enough to fail)"
    } else if have.strip_prefix("http://") == want.strip_prefix("https://") {
        " (`http` instead of `https`)"
    } else if want == PULUMI_CLOUD_ISSUER {
        " (Pulumi Cloud's issuer; a self-hosted Pulumi Cloud has its own, `<scheme>://<api host>/oidc`)"
    } else {
        ""
    }
}

fn audience_hint(want: &str) -> &'static str {
    if want.starts_with("azure:") {
        " (ESC projects other than `default` use `azure:<org>`)"
    } else {
        " (Deployments and ESC's legacy `default` project use the org name)"
    }
}
