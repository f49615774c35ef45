//! The registry firewall behind `palisade serve`: an npm registry mirror that
//! serves only what policy, the advisory database and the analyzer allow.
//!
//! ```text
//! client ──GET──▶ firewall ──(cache miss)──▶ upstream registry
//!                   │ packument: parse once, drop refused versions, move `latest`,
//!                   │            rewrite tarball URLs, `npm-notice` for held-back versions
//!                   │ tarball:   policy → verdict by integrity (one fetch + one scan for
//!                   │            concurrent requests) → serve / 403 / quarantine
//!                   ▼
//!        Store (SQLite: verdicts, decisions, audit log, packuments) + BlobStore (disk, by content)
//! ```
//!
//! Fail closed: a tarball is served only once verified against its integrity
//! and given a verdict; when upstream is down, cached packuments are served
//! (marked `x-palisade-stale: true`) and cached, verdicted tarballs too;
//! anything else is a 503. See docs/serve.md.

pub mod admin;
pub mod client;
pub mod flights;
pub mod packument;
pub mod policy;
pub mod scanner;
pub mod server;
pub mod store;
pub mod upstream;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;

pub use packument::{Form, Packument};
pub use scanner::{AnalyzerScanner, ScanOutcome, Scanner};
pub use server::Firewall;
pub use store::{BlobStore, DiskBlobs, SqliteStore, Store};
pub use upstream::UpstreamOptions;

/// Everything the firewall is configured with.
#[derive(Clone)]
pub struct Settings {
    /// palisade.toml (policy and `[serve]`).
    pub config: palisade_policy::Config,
    /// The upstream registry URL.
    pub upstream: String,
    /// Sent upstream as `Authorization: Bearer`; never logged.
    pub upstream_token: Option<String>,
    /// The admin API token; `None` disables the admin API.
    pub admin_token: Option<String>,
    pub upstream_options: UpstreamOptions,
    /// Bytes of upstream packuments kept in memory.
    pub memory_budget: usize,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("upstream", &palisade_registry::error::redact_url_str(&self.upstream))
            .field("upstream_token", &self.upstream_token.as_ref().map(|_| "<redacted>"))
            .field("admin_token", &self.admin_token.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl Settings {
    pub fn new(config: palisade_policy::Config) -> Settings {
        Settings {
            upstream: config.registry.upstream.clone(),
            config,
            upstream_token: None,
            admin_token: None,
            upstream_options: UpstreamOptions::default(),
            memory_budget: 512 << 20,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Upstream(#[from] upstream::UpstreamError),
    #[error("failed to listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// The metadata store and the blob store.
pub type Storage = (Arc<dyn Store>, Arc<dyn BlobStore>);

/// The data directory layout: `<dir>/palisade-serve.sqlite3` and `<dir>/blobs/`.
pub fn open_storage(data_dir: &std::path::Path) -> Result<Storage, Error> {
    let store = SqliteStore::open(&data_dir.join("palisade-serve.sqlite3"))?;
    let blobs = DiskBlobs::open(&data_dir.join("blobs"), palisade_registry::DEFAULT_MAX_TARBALL_SIZE)?;
    Ok((Arc::new(store), Arc::new(blobs)))
}

/// The HTTP application.
pub fn router(firewall: Arc<Firewall>) -> Router {
    let mut app: Router<Arc<Firewall>> = Router::new();
    if let Some(admin) = admin::routes(&firewall) {
        app = app.merge(admin);
    }
    app.fallback(server::registry_handler)
        // Read-only registry: request bodies are never needed beyond the admin API's.
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .with_state(firewall)
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    firewall: Arc<Firewall>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let app = router(firewall).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(Error::Serve)
}

/// Where `palisade serve` keeps its data when `[serve] data-dir` is not set.
pub fn default_data_dir(palisade_home: &std::path::Path) -> PathBuf {
    palisade_home.join("serve")
}
