//! A running emulator: the two listeners (HTTP and HTTPS) over one shared state, the
//! CA that signs the HTTPS certificate, and the handle tests use to steer and inspect
//! it. What happens to a request once it arrives is `route`'s business.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use serde_json::Value;

use crate::busy::Busy;
use crate::faults::{FaultEngine, FaultOptions, Replication};
use crate::http::DropConnection;
use crate::keys::IssuerKeys;
use crate::mint::MintRequest;
use crate::options::Options;
use crate::route::{Listener, entry};
use crate::shared::{Shared, lock};
use crate::state::Stats;
use crate::throttle::Buckets;
use crate::tls;

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
            dir: Mutex::new(crate::builtin::seeded_directory(&options)),
            grants: Mutex::new(HashMap::new()),
            faults: Mutex::new(FaultEngine::new(options.seed, options.faults.clone())),
            replication: Mutex::new(options.replication.clone()),
            stats: Mutex::new(Stats::default()),
            busy: Busy::default(),
            throttle: Mutex::new(Buckets::default()),
            keys,
            http_url: http_url.clone(),
            https_url: https_url.clone(),
            started_on: crate::http::now_rfc3339_precise(),
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
    /// The object id of the service principal of the operator with this client id: what
    /// its tokens' `oid` says, and where grants to it go.
    pub fn operator_object_id(&self, client_id: &str) -> Option<String> {
        self.shared
            .operator_object_ids()
            .get(client_id)
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// The object id of Microsoft Graph's service principal in the emulated tenant: the
    /// `resourceId` of app role assignments that grant Graph permissions.
    pub fn graph_service_principal_id(&self) -> String {
        lock(&self.shared.dir).graph_sp_id.clone()
    }

    /// The issuer minted tokens carry by default.
    pub fn issuer(&self) -> String {
        self.shared.default_issuer()
    }

    /// A signed Pulumi OIDC token.
    pub fn mint(&self, request: &MintRequest) -> Result<String, String> {
        crate::mint::mint(&self.shared.keys, &self.shared.default_issuer(), request)
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
