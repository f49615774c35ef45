//! The disk cache: one body file and one metadata file per (URL, Accept)
//! pair, named by the SHA-256 of both, under the cache directory
//! (`<PALISADE_HOME>/cache/registry` by default).
//!
//! Writes are atomic (temporary file in the same directory, then rename; no
//! fsync: the cache can always be refetched, and a torn body fails its hash),
//! the body before its metadata, so a crash leaves either the previous entry
//! or a body without metadata, which is treated as a miss. The metadata
//! records the body length and SHA-256, checked on every read, so a
//! truncated or altered body is a miss too. The cache keeps validators
//! (`ETag`, `Last-Modified`) for HTTP revalidation (RFC 9111 §4.3).
//!
//! Credentials are never written: the key is the URL without credentials,
//! and no request header is stored.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::RegistryError;
use crate::integrity::{to_hex, Hash};

/// Largest metadata file read back (it holds a URL and two headers).
const MAX_META_SIZE: u64 = 64 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Meta {
    pub url: String,
    pub accept: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub length: u64,
    pub sha256: String,
    pub stored_at: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub meta: Meta,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
pub(crate) struct DiskCache {
    dir: PathBuf,
}

impl DiskCache {
    pub fn new(dir: PathBuf) -> Self {
        DiskCache { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn key(url: &str, accept: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(accept.as_bytes());
        hasher.update([0]);
        hasher.update(url.as_bytes());
        to_hex(&hasher.finalize())
    }

    fn paths(&self, url: &str, accept: &str) -> (PathBuf, PathBuf) {
        let key = Self::key(url, accept);
        // Two-level fan-out keeps directories small for a big lockfile.
        let sub = self.dir.join(&key[..2]);
        (sub.join(format!("{key}.json")), sub.join(format!("{key}.body")))
    }

    /// The entry, if present, intact and not larger than `limit`.
    pub fn load(&self, url: &str, accept: &str, limit: u64) -> Option<Entry> {
        let (meta_path, body_path) = self.paths(url, accept);
        let meta_bytes = read_bounded(&meta_path, MAX_META_SIZE)?;
        let meta: Meta = serde_json::from_slice(&meta_bytes).ok()?;
        if meta.url != url || meta.accept != accept || meta.length > limit {
            return None;
        }
        let body = read_bounded(&body_path, meta.length)?;
        if body.len() as u64 != meta.length || to_hex(&Sha256::digest(&body)) != meta.sha256 {
            return None;
        }
        Some(Entry { meta, body })
    }

    pub fn store(
        &self,
        url: &str,
        accept: &str,
        etag: Option<String>,
        last_modified: Option<String>,
        body: &[u8],
    ) -> Result<(), RegistryError> {
        let (meta_path, body_path) = self.paths(url, accept);
        let parent = meta_path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent).map_err(|source| RegistryError::Io {
            action: format!("create cache directory `{}`", parent.display()),
            source,
        })?;
        let meta = Meta {
            url: url.to_owned(),
            accept: accept.to_owned(),
            etag,
            last_modified,
            length: body.len() as u64,
            sha256: to_hex(&Sha256::digest(body)),
            stored_at: time::OffsetDateTime::now_utc().unix_timestamp(),
        };
        let meta_bytes = serde_json::to_vec(&meta).map_err(|error| RegistryError::Io {
            action: "serialise cache metadata".to_owned(),
            source: std::io::Error::other(error),
        })?;
        write_atomic(parent, &body_path, body)?;
        write_atomic(parent, &meta_path, &meta_bytes)
    }
}

impl DiskCache {
    fn content_path(&self, hash: &Hash) -> PathBuf {
        let hex = hash.hex();
        self.dir
            .join("content")
            .join(hash.algorithm.as_str())
            .join(&hex[..2])
            .join(hex)
    }

    /// Bytes stored under `hash` (the caller checks them against it).
    pub fn load_content(&self, hash: &Hash, limit: u64) -> Option<Vec<u8>> {
        read_bounded(&self.content_path(hash), limit)
    }

    /// Store bytes under their own hash (the caller computed it).
    pub fn store_content(&self, hash: &Hash, body: &[u8]) -> Result<(), RegistryError> {
        let path = self.content_path(hash);
        let parent = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent).map_err(|source| RegistryError::Io {
            action: format!("create cache directory `{}`", parent.display()),
            source,
        })?;
        write_atomic(parent, &path, body)
    }
}

/// A tarball from npm's cache (cacache `content-v2/<algorithm>/<hex[0..2]>/<hex[2..4]>/<hex[4..]>`).
/// Read-only; the caller checks the bytes.
pub(crate) fn load_npm_cacache(dir: &Path, hash: &Hash, limit: u64) -> Option<Vec<u8>> {
    let hex = hash.hex();
    let path = dir
        .join("content-v2")
        .join(hash.algorithm.as_str())
        .join(&hex[..2])
        .join(&hex[2..4])
        .join(&hex[4..]);
    read_bounded(&path, limit)
}

fn read_bounded(path: &Path, limit: u64) -> Option<Vec<u8>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).ok()?;
    if bytes.len() as u64 > limit {
        return None;
    }
    Some(bytes)
}

fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    let io_error = |source| RegistryError::Io {
        action: format!("write cache file `{}`", path.display()),
        source,
    };
    let mut temporary = tempfile::NamedTempFile::new_in(dir).map_err(io_error)?;
    temporary.write_all(bytes).map_err(io_error)?;
    temporary.persist(path).map_err(|error| io_error(error.error))?;
    Ok(())
}
