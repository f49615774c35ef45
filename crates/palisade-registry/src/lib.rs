//! The npm registry client everything in Palisade fetches through:
//! packuments (full and abbreviated), version documents, tarballs (size-capped,
//! checked against SRI integrity), registry signing keys, attestations and the
//! bulk advisory endpoint; `.npmrc` honoured (registry, scoped registries,
//! credentials by nerf-darted URL, `${VAR}` expansion); a disk cache with
//! ETag revalidation and an offline mode.
//!
//! ```no_run
//! use std::path::Path;
//! use palisade_registry::{NpmrcConfig, RegistryClient, default_cache_dir};
//! use palisade_registry::integrity::Integrity;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let client = RegistryClient::builder()
//!     .npmrc(NpmrcConfig::load(Path::new("."))?)   // project + user .npmrc, env
//!     .registry("https://registry.npmjs.org/")     // --registry, optional
//!     .cache_dir(default_cache_dir(Path::new("/home/me/.cache/palisade")))
//!     .build()?;
//! let packument = client.abbreviated_packument("is-number")?;
//! let latest = packument.latest().ok_or("no latest")?;
//! let integrity = latest.dist.integrity.as_deref().map(Integrity::parse).transpose()?;
//! let bytes = client.tarball(&latest.dist.tarball, integrity.as_ref())?;
//! # let _ = bytes; Ok(()) }
//! ```
//!
//! # Threads and async
//!
//! [`RegistryClient`] is blocking, `Clone + Send + Sync`; share one across
//! rayon workers. From tokio, call it in `spawn_blocking` (see
//! [`client`] for why).
//!
//! # Caching
//!
//! With [`RegistryClientBuilder::cache_dir`], documents are cached by URL
//! and `Accept` and revalidated with `If-None-Match`/`If-Modified-Since`;
//! tarballs fetched with an integrity are cached by that integrity, so a hit
//! does not depend on the URL, and are rechecked on every read.
//! [`RegistryClientBuilder::npm_cache_dir`] adds npm's own `_cacache` as a
//! read-only source of tarballs. [`RegistryClientBuilder::offline`] serves
//! only from these; [`RegistryClientBuilder::stale_if_error`] serves a cached
//! document when the registry is down ([`Fetched::stale`]).
//!
//! # Secrets
//!
//! Tokens live in [`npmrc::Secret`] (redacted `Debug`/`Display`), the
//! `Authorization` header is marked sensitive, errors and logs show URLs
//! through [`error::redact_url`], and the cache never stores credentials.
//! Credentials are only sent to URLs under the nerf-darted prefix they were
//! configured for.
//!
//! This crate never prints; it logs at `debug` level through `tracing`.

mod cache;
pub mod client;
pub mod error;
pub mod integrity;
pub mod model;
pub mod npmrc;

pub use client::{
    client_for_project, default_cache_dir, escape_package_name, Fetched, PackumentKind, RegistryClient,
    RegistryClientBuilder, ACCEPT_ABBREVIATED, ACCEPT_FULL, DEFAULT_MAX_DOCUMENT_SIZE, DEFAULT_MAX_TARBALL_SIZE,
};
pub use error::RegistryError;
pub use integrity::{Algorithm, Integrity, IntegrityError};
pub use model::{
    Attestation, Attestations, BulkAdvisories, BulkAdvisory, Dist, DistAttestations, DistSignature, Packument, Person,
    ProvenanceSummary, SigningKey, SigningKeys, VersionManifest,
};
pub use npmrc::{Auth, NpmrcConfig, Secret, DEFAULT_REGISTRY};
