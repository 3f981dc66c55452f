//! The emulator process: shared state, the two listeners (HTTP and HTTPS), and the
//! entry point that classifies each request, injects faults and dispatches it.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::faults::{Fault, FaultEngine, FaultOptions, Replication};
use crate::http::{self, DropConnection, Req};
use crate::issuer::{IssuerKeys, MintRequest};
use crate::state::{Directory, Stats};
use crate::{admin, arm, graph, pulumi, sts, tls};

/// Default tenant of the emulated directory.
pub const DEFAULT_TENANT_ID: &str = "6f2c1d4e-8a3b-4c5d-9e0f-1a2b3c4d5e6f";
/// Default client id of the operator identity (the one the tool runs as).
pub const DEFAULT_OPERATOR_CLIENT_ID: &str = "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f";
/// Default client secret of the operator identity. A test value, not a secret.
pub const DEFAULT_OPERATOR_SECRET: &str = "emulator-operator-secret";
/// Default Pulumi access token the emulated Pulumi Cloud accepts.
pub const DEFAULT_PULUMI_TOKEN: &str = "pul-emulator-access-token";
/// The Pulumi Cloud issuer, which the emulator impersonates by default so configs
/// written for Azure work against it unchanged.
pub const PULUMI_ISSUER: &str = "https://api.pulumi.com/oidc";

/// An identity that may obtain Graph and ARM tokens with a client secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Operator {
    pub client_id: String,
    pub client_secret: String,
    /// Whether it may write to Graph and ARM; without, writes get 403.
    pub can_write: bool,
}

impl std::fmt::Debug for Operator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operator")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("can_write", &self.can_write)
            .finish()
    }
}

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct Options {
    pub bind: IpAddr,
    /// 0 picks a free port.
    pub http_port: u16,
    pub https_port: u16,
    pub seed: u64,
    pub faults: FaultOptions,
    pub replication: Replication,
    pub tenant_id: String,
    pub operators: Vec<Operator>,
    pub pulumi_token: String,
    /// Issuers whose tokens the emulator signs and the token endpoint trusts, besides
    /// its own `<url>/oidc`. The first is the default issuer of minted tokens.
    pub issuers: Vec<String>,
    /// Organizations without a Deployments subscription: settings writes get 402.
    pub free_orgs: Vec<String>,
    /// `org/project/stack` names that do not exist: their settings get 404.
    pub missing_stacks: Vec<String>,
    /// Where to write the CA certificate; default: a file in the temp directory.
    pub ca_file: Option<PathBuf>,
    /// Enables the App Service style managed identity endpoint `/msi/token`, which
    /// requires this value in `x-identity-header`.
    pub managed_identity_header: Option<String>,
    /// Put into every access token issued, so a test can prove none is ever printed.
    pub token_marker: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            http_port: 0,
            https_port: 0,
            seed: 0,
            faults: FaultOptions::default(),
            replication: Replication::default(),
            tenant_id: DEFAULT_TENANT_ID.into(),
            operators: vec![Operator {
                client_id: DEFAULT_OPERATOR_CLIENT_ID.into(),
                client_secret: DEFAULT_OPERATOR_SECRET.into(),
                can_write: true,
            }],
            pulumi_token: DEFAULT_PULUMI_TOKEN.into(),
            issuers: vec![PULUMI_ISSUER.into()],
            free_orgs: Vec::new(),
            missing_stacks: Vec::new(),
            ca_file: None,
            managed_identity_header: None,
            token_marker: String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resource {
    Graph,
    Arm,
}

impl Resource {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Graph => "graph",
            Self::Arm => "arm",
        }
    }

    /// The resource of a `.default` scope, for all three clouds (the resource id stays
    /// the cloud's own even when the endpoint is overridden).
    pub(crate) fn from_scope(scope: &str) -> Option<Self> {
        let resource = scope.strip_suffix("/.default")?.trim_end_matches('/');
        match resource {
            "https://graph.microsoft.com"
            | "https://microsoftgraph.chinacloudapi.cn"
            | "https://graph.microsoft.us" => Some(Self::Graph),
            "https://management.azure.com"
            | "https://management.core.windows.net"
            | "https://management.chinacloudapi.cn"
            | "https://management.usgovcloudapi.net" => Some(Self::Arm),
            _ => None,
        }
    }
}

/// An access token the emulated token endpoint issued.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) resource: Resource,
    pub(crate) client_id: String,
    pub(crate) can_write: bool,
    pub(crate) expires: Instant,
}

pub(crate) struct Shared {
    pub(crate) options: Options,
    pub(crate) dir: Mutex<Directory>,
    pub(crate) grants: Mutex<HashMap<String, Grant>>,
    pub(crate) faults: Mutex<FaultEngine>,
    pub(crate) replication: Mutex<Replication>,
    pub(crate) stats: Mutex<Stats>,
    pub(crate) keys: Arc<IssuerKeys>,
    pub(crate) http_url: String,
    pub(crate) https_url: String,
}

/// A poisoned lock means a handler panicked mid-update; the data is still the best
/// there is, and an emulator must keep answering.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn mutated(&self) {
        lock(&self.stats).mutations += 1;
    }

    pub(crate) fn replication(&self) -> Replication {
        lock(&self.replication).clone()
    }

    /// Every issuer the token endpoint trusts, all signed by the published key.
    pub(crate) fn trusted_issuers(&self) -> Vec<String> {
        let mut all = self.options.issuers.clone();
        all.push(format!("{}/oidc", self.https_url));
        all.push(format!("{}/oidc", self.http_url));
        all
    }

    pub(crate) fn default_issuer(&self) -> String {
        self.trusted_issuers().remove(0)
    }

    pub(crate) fn issue_token(
        &self,
        resource: Resource,
        client_id: &str,
        can_write: bool,
    ) -> String {
        let token = format!(
            "emu.{}{}.{}",
            self.options.token_marker,
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        lock(&self.grants).insert(
            token.clone(),
            Grant {
                resource,
                client_id: client_id.to_owned(),
                can_write,
                expires: Instant::now() + Duration::from_secs(3599),
            },
        );
        *lock(&self.stats)
            .tokens_issued
            .entry(resource.name().to_owned())
            .or_default() += 1;
        token
    }

    pub(crate) fn grant(&self, token: &str) -> Option<Grant> {
        lock(&self.grants)
            .get(token)
            .filter(|g| g.expires > Instant::now())
            .cloned()
    }
}

/// Which emulated service a path belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    Admin,
    Issuer,
    ManagedIdentity,
    Graph,
    Arm,
    Token,
    Pulumi,
    Unknown,
}

pub(crate) fn classify(segments: &[String]) -> Service {
    match segments.first().map(String::as_str) {
        Some("_emulator") => Service::Admin,
        Some("oidc") => Service::Issuer,
        Some("msi") => Service::ManagedIdentity,
        Some("v1.0" | "beta") => Service::Graph,
        Some("api") => Service::Pulumi,
        Some(s)
            if s.eq_ignore_ascii_case("subscriptions") || s.eq_ignore_ascii_case("providers") =>
        {
            Service::Arm
        }
        // `/{tenant}/oauth2/v2.0/token` and the tenant's `/{tenant}/v2.0/.well-known/…`.
        Some(_)
            if segments
                .get(1)
                .is_some_and(|s| s == "oauth2" || s == "v2.0") =>
        {
            Service::Token
        }
        _ => Service::Unknown,
    }
}

#[derive(Clone)]
struct Listener {
    shared: Arc<Shared>,
    base: Arc<str>,
}

/// Bodies larger than this are refused, as real services refuse them.
const MAX_BODY: usize = 1024 * 1024;

async fn entry(State(listener): State<Listener>, request: Request) -> Response {
    let shared = &listener.shared;
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let req = Req::new(
        parts.method,
        parts.uri.path(),
        parts.uri.query(),
        parts.headers,
        body,
    );
    let service = classify(&req.segments);
    match service {
        Service::Admin => return admin::handle(shared, &listener.base, &req),
        Service::Issuer => return issuer_endpoint(shared, &listener.base, &req),
        Service::Unknown => {
            return http::plain_json(
                StatusCode::NOT_FOUND,
                &json!({"error": "the emulator serves no such path"}),
            );
        }
        _ => {}
    }
    let app_key = app_write_key(&req);
    {
        let mut stats = lock(&shared.stats);
        stats.requests += 1;
        if req.is_write() && service != Service::Token {
            stats.write_requests += 1;
        }
        stats.in_flight += 1;
        stats.max_in_flight = stats.max_in_flight.max(stats.in_flight);
        if let Some(key) = &app_key {
            let n = stats.app_writes_in_flight.entry(key.clone()).or_default();
            *n += 1;
            let n = *n;
            stats.max_app_writes_in_flight = stats.max_app_writes_in_flight.max(n);
        }
    }
    // Whether a client waits as long as a 429 told it to.
    let retry_key = format!(
        "{} {}?{:?} {:x}",
        req.method,
        req.segments.join("/"),
        req.query,
        fnv1a(&req.body)
    );
    {
        let mut stats = lock(&shared.stats);
        if let Some(not_before) = stats.retry_not_before.remove(&retry_key) {
            let now = Instant::now();
            if now < not_before {
                stats.early_retries += 1;
                if stats.early_retry_examples.len() < 10 {
                    let early = not_before - now;
                    let example = format!(
                        "{} /{} {:.1} ms early",
                        req.method,
                        req.segments.join("/"),
                        early.as_secs_f64() * 1e3
                    );
                    stats.early_retry_examples.push(example);
                }
            } else {
                stats.honoured_retries += 1;
            }
        }
    }
    let (delay, fault) = lock(&shared.faults).next();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let response = match fault {
        Fault::None => dispatch(shared, &listener.base, service, &req),
        Fault::Throttle { retry_after_secs } => {
            // From when the answer leaves; a millisecond of slack for the header's
            // rounding and the clocks' granularity.
            let wait =
                Duration::from_secs_f64(retry_after_secs).saturating_sub(Duration::from_millis(1));
            lock(&shared.stats)
                .retry_not_before
                .insert(retry_key, Instant::now() + wait);
            throttled(service, &req, retry_after_secs)
        }
        Fault::ServerError { status } => server_error(service, &req, status),
        Fault::DropBefore => http::dropped(),
        Fault::DropAfter => {
            let _ = dispatch(shared, &listener.base, service, &req);
            http::dropped()
        }
    };
    let mut stats = lock(&shared.stats);
    stats.in_flight -= 1;
    if let Some(key) = &app_key
        && let Some(n) = stats.app_writes_in_flight.get_mut(key)
    {
        *n -= 1;
    }
    if fault != Fault::None {
        let name = match fault {
            Fault::Throttle { .. } => "throttle",
            Fault::ServerError { .. } => "server_error",
            Fault::DropBefore => "drop_before",
            Fault::DropAfter => "drop_after",
            Fault::None => "none",
        };
        *stats.faults.entry(name.into()).or_default() += 1;
    }
    response
}

fn dispatch(shared: &Shared, base: &str, service: Service, req: &Req) -> Response {
    let (kind, response) = match service {
        Service::Graph => graph::handle(shared, base, req),
        Service::Arm => arm::handle(shared, req),
        Service::Token => sts::handle(shared, base, req),
        Service::ManagedIdentity => sts::managed_identity(shared, req),
        Service::Pulumi => pulumi::handle(shared, req),
        Service::Admin | Service::Issuer | Service::Unknown => {
            ("unknown", StatusCode::NOT_FOUND.into_response())
        }
    };
    *lock(&shared.stats).by_kind.entry(kind.into()).or_default() += 1;
    response
}

/// Graph writes to one application (the app itself or its credentials), keyed by the
/// path's app segment, to measure how many the client sends at once.
fn app_write_key(req: &Req) -> Option<String> {
    if !req.is_write() || classify(&req.segments) != Service::Graph {
        return None;
    }
    let first = req.segments.get(1)?;
    if first == "applications" {
        req.segments.get(2).map(|id| format!("applications/{id}"))
    } else if first.starts_with("applications(") {
        Some(first.clone())
    } else {
        None
    }
}

/// A cheap body fingerprint for telling requests apart (not security-relevant).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn retry_after(secs: f64) -> HeaderValue {
    let text = if secs.fract() == 0.0 {
        format!("{secs:.0}")
    } else {
        format!("{secs}")
    };
    HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("1"))
}

fn throttled(service: Service, req: &Req, secs: f64) -> Response {
    let mut resp = match service {
        // Graph's sample throttling body (azure-facts.md §5.1).
        Service::Graph => http::graph_throttled(req),
        // ARM's subscription throttling code; the message wording is an assumption.
        // The remaining-budget header says why: nothing is left.
        Service::Arm => {
            let mut resp = http::arm_error(
                req,
                StatusCode::TOO_MANY_REQUESTS,
                "SubscriptionRequestsThrottled",
                "Number of requests for this subscription exceeded the limit. Please try again later.",
            );
            let name = if req.is_write() {
                "x-ms-ratelimit-remaining-subscription-writes"
            } else {
                "x-ms-ratelimit-remaining-subscription-reads"
            };
            resp.headers_mut()
                .insert(name, HeaderValue::from_static("0"));
            resp
        }
        Service::Token | Service::ManagedIdentity => http::plain_json(
            StatusCode::TOO_MANY_REQUESTS,
            &json!({"error": "temporarily_unavailable", "error_description": "The service is throttling requests (emulator fault injection)."}),
        ),
        _ => http::pulumi_error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests"),
    };
    resp.headers_mut().insert("retry-after", retry_after(secs));
    resp
}

fn server_error(service: Service, req: &Req, status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = status.canonical_reason().unwrap_or("Server Error");
    match service {
        Service::Graph => {
            let code = if status == StatusCode::SERVICE_UNAVAILABLE {
                "serviceNotAvailable"
            } else {
                "generalException"
            };
            http::graph_error(
                req,
                status,
                code,
                "The service encountered a transient error (emulator fault injection).",
            )
        }
        Service::Arm => http::arm_error(
            req,
            status,
            &reason.replace(' ', ""),
            "The service encountered a transient error (emulator fault injection).",
        ),
        Service::Token | Service::ManagedIdentity => http::plain_json(
            status,
            &json!({"error": "temporarily_unavailable", "error_description": "The service encountered a transient error (emulator fault injection)."}),
        ),
        _ => http::pulumi_error(status, reason),
    }
}

fn issuer_endpoint(shared: &Shared, base: &str, req: &Req) -> Response {
    let rest: Vec<&str> = req.segments.iter().skip(1).map(String::as_str).collect();
    let issuer = format!("{base}/oidc");
    match rest.as_slice() {
        [".well-known", "openid-configuration"] => {
            http::plain_json(StatusCode::OK, &crate::issuer::discovery(&issuer))
        }
        [".well-known", "jwks"] => http::plain_json(StatusCode::OK, &shared.keys.jwks()),
        _ => http::plain_json(StatusCode::NOT_FOUND, &json!({"error": "not found"})),
    }
}

/// Wraps the router so a response marked [`DropConnection`] closes the connection
/// without an answer, as a network fault would.
#[derive(Clone)]
struct DropAware(Router);

impl tower::Service<Request<hyper::body::Incoming>> for DropAware {
    type Response = Response;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, io::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<hyper::body::Incoming>) -> Self::Future {
        let router = self.0.clone();
        Box::pin(async move {
            let response = tower::ServiceExt::oneshot(router, req.map(Body::new))
                .await
                .unwrap_or_else(|never| match never {});
            if response.extensions().get::<DropConnection>().is_some() {
                Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "connection dropped by fault injection",
                ))
            } else {
                Ok(response)
            }
        })
    }
}

/// A running emulator. Dropping it stops the listeners.
pub struct Emulator {
    shared: Arc<Shared>,
    http_handle: axum_server::Handle<SocketAddr>,
    https_handle: axum_server::Handle<SocketAddr>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    ca_pem: String,
    ca_file: PathBuf,
    /// The directory made for the CA file when the caller named none; removed on drop.
    owned_dir: Option<PathBuf>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("http_url", &self.shared.http_url)
            .field("https_url", &self.shared.https_url)
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Bind both listeners, write the CA certificate, and start serving. Needs a tokio
    /// runtime.
    pub async fn start(options: Options) -> io::Result<Self> {
        options
            .faults
            .validate()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        // Several TLS back-ends may be linked into one program; pick ours explicitly.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http_listener =
            std::net::TcpListener::bind(SocketAddr::new(options.bind, options.http_port))?;
        let https_listener =
            std::net::TcpListener::bind(SocketAddr::new(options.bind, options.https_port))?;
        http_listener.set_nonblocking(true)?;
        https_listener.set_nonblocking(true)?;
        let host = match options.bind {
            IpAddr::V4(ip) if ip.is_unspecified() => "127.0.0.1".to_owned(),
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
        };
        let http_url = format!("http://{host}:{}", http_listener.local_addr()?.port());
        let https_url = format!("https://{host}:{}", https_listener.local_addr()?.port());
        let certs = tls::generate(options.bind).map_err(io::Error::other)?;
        let ca_file = match &options.ca_file {
            Some(p) => p.clone(),
            None => default_ca_path(https_listener.local_addr()?.port()),
        };
        let options_ca_dir = match &options.ca_file {
            Some(_) => None,
            None => ca_file.parent().map(Path::to_path_buf),
        };
        write_ca(&ca_file, &certs.ca_pem)?;
        let keys = IssuerKeys::shared().map_err(io::Error::other)?;
        let shared = Arc::new(Shared {
            dir: Mutex::new(Directory::default()),
            grants: Mutex::new(HashMap::new()),
            faults: Mutex::new(FaultEngine::new(options.seed, options.faults.clone())),
            replication: Mutex::new(options.replication.clone()),
            stats: Mutex::new(Stats::default()),
            keys,
            http_url: http_url.clone(),
            https_url: https_url.clone(),
            options,
        });
        let router = |base: &str| {
            Router::new().fallback(entry).with_state(Listener {
                shared: shared.clone(),
                base: Arc::from(base),
            })
        };
        let http_handle = axum_server::Handle::new();
        let https_handle = axum_server::Handle::new();
        let tls_config = axum_server::tls_rustls::RustlsConfig::from_der(
            vec![certs.leaf_der.clone(), certs.ca_der.clone()],
            certs.leaf_key_der.clone(),
        )
        .await?;
        let http_server = axum_server::from_tcp(http_listener)?.handle(http_handle.clone());
        let https_server =
            axum_server::from_tcp_rustls(https_listener, tls_config)?.handle(https_handle.clone());
        let http_service = tower::make::Shared::new(DropAware(router(&http_url)));
        let https_service = tower::make::Shared::new(DropAware(router(&https_url)));
        let tasks = vec![
            tokio::spawn(async move {
                let _ = http_server.serve(http_service).await;
            }),
            tokio::spawn(async move {
                let _ = https_server.serve(https_service).await;
            }),
        ];
        http_handle.listening().await;
        https_handle.listening().await;
        Ok(Self {
            shared,
            http_handle,
            https_handle,
            tasks,
            ca_pem: certs.ca_pem,
            owned_dir: options_ca_dir,
            ca_file,
        })
    }

    pub fn http_url(&self) -> &str {
        &self.shared.http_url
    }
    pub fn https_url(&self) -> &str {
        &self.shared.https_url
    }
    /// The CA that signed the HTTPS certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }
    pub fn tenant_id(&self) -> &str {
        &self.shared.options.tenant_id
    }
    pub fn options(&self) -> &Options {
        &self.shared.options
    }
    /// The issuer minted tokens carry by default.
    pub fn issuer(&self) -> String {
        self.shared.default_issuer()
    }

    /// A signed Pulumi OIDC token.
    pub fn mint(&self, request: &MintRequest) -> Result<String, String> {
        crate::issuer::mint(&self.shared.keys, &self.shared.default_issuer(), request)
    }

    pub fn stats(&self) -> Value {
        lock(&self.shared.stats).to_json()
    }
    pub fn reset_stats(&self) {
        *lock(&self.shared.stats) = Stats::default();
    }
    /// Everything the emulated services hold.
    pub fn state(&self) -> Value {
        lock(&self.shared.dir).snapshot()
    }
    pub fn set_faults(&self, faults: FaultOptions) -> Result<(), String> {
        faults.validate()?;
        lock(&self.shared.faults).set_options(faults);
        Ok(())
    }
    pub fn set_replication(&self, replication: Replication) {
        *lock(&self.shared.replication) = replication;
    }

    /// Stop accepting, finish what is in flight (at most a second), and return.
    pub async fn shutdown(mut self) {
        self.http_handle
            .graceful_shutdown(Some(Duration::from_secs(1)));
        self.https_handle
            .graceful_shutdown(Some(Duration::from_secs(1)));
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.http_handle.shutdown();
        self.https_handle.shutdown();
        // Tests start hundreds of emulators; leave no CA directories behind.
        if let Some(dir) = self.owned_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn default_ca_path(port: u16) -> PathBuf {
    std::env::temp_dir()
        .join(format!(
            "pulumi-azure-oidc-emulator-{}-{port}",
            std::process::id()
        ))
        .join("ca.pem")
}

fn write_ca(path: &Path, pem: &str) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, pem)
}

pub(crate) fn admin_info(shared: &Shared) -> Value {
    json!({
        "http_url": shared.http_url,
        "https_url": shared.https_url,
        "tenant_id": shared.options.tenant_id,
        "operator_client_id": shared.options.operators.first().map(|o| o.client_id.clone()),
        "issuer": shared.default_issuer(),
        "trusted_issuers": shared.trusted_issuers(),
        "graph_url": format!("{}/v1.0", shared.https_url),
        "arm_url": shared.https_url,
        "login_url": shared.https_url,
        "pulumi_api_url": shared.https_url,
    })
}

pub(crate) fn mint_for_admin(shared: &Shared, request: &MintRequest) -> Result<String, String> {
    crate::issuer::mint(&shared.keys, &shared.default_issuer(), request)
}
