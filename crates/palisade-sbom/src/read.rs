//! SBOMs in: a CycloneDX or SPDX JSON document written by any tool → an
//! [`Inventory`] of its npm packages.
//!
//! Only npm packages become inventory entries: components whose purl has
//! another type (a container SBOM also lists OS packages, Python wheels, …)
//! are counted in [`ReadOutcome::non_npm_components`], not warned about,
//! because they are not partly-understood npm packages but out of scope.
//! A component that claims to be npm but cannot be identified (a broken purl,
//! no version) is a warning: the inventory is then incomplete.

mod cyclonedx;
mod spdx;

use std::path::Path;

use palisade_core::{Inventory, SourceKind};
use serde_json::Value;

use crate::SbomError;

/// An SBOM bigger than this is refused: real ones for very large projects are tens of MB.
pub const MAX_SBOM_BYTES: u64 = 256 * 1024 * 1024;

/// What reading an SBOM produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOutcome {
    /// The npm packages (format `cyclonedx-1.x` or `spdx-2.x`).
    pub inventory: Inventory,
    /// Components of other ecosystems, left out.
    pub non_npm_components: usize,
}

/// Read an SBOM file (size-capped).
pub fn read_file(path: &Path) -> Result<ReadOutcome, SbomError> {
    let display = path.display().to_string();
    let io = |source| SbomError::Io {
        path: display.clone(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_SBOM_BYTES {
        return Err(SbomError::TooLarge {
            path: display,
            size,
            limit: MAX_SBOM_BYTES,
        });
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    read_str(&display, &text)
}

/// Read an SBOM from text; `display_path` names it in errors and in the inventory.
pub fn read_str(display_path: &str, text: &str) -> Result<ReadOutcome, SbomError> {
    if text.len() as u64 > MAX_SBOM_BYTES {
        return Err(SbomError::TooLarge {
            path: display_path.to_owned(),
            size: text.len() as u64,
            limit: MAX_SBOM_BYTES,
        });
    }
    // serde_json bounds nesting depth (128), so hostile nesting is a syntax error, not a stack overflow.
    let document: Value =
        serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|error| SbomError::Syntax {
            path: display_path.to_owned(),
            line: error.line(),
            column: error.column(),
            message: error.to_string(),
        })?;
    let invalid = |message: String| SbomError::Invalid {
        path: display_path.to_owned(),
        message,
    };
    if document.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        let version = document.get("specVersion").and_then(Value::as_str).unwrap_or("");
        if !matches!(version, "1.2" | "1.3" | "1.4" | "1.5" | "1.6") {
            return Err(SbomError::UnsupportedVersion {
                path: display_path.to_owned(),
                format: "CycloneDX",
                found: version.to_owned(),
                supported: "CycloneDX JSON 1.2 to 1.6",
            });
        }
        let mut inventory = Inventory::new(display_path, format!("cyclonedx-{version}"));
        let non_npm = cyclonedx::read(&document, &mut inventory).map_err(invalid)?;
        inventory.normalize();
        return Ok(ReadOutcome {
            inventory,
            non_npm_components: non_npm,
        });
    }
    if let Some(spdx_version) = document.get("spdxVersion").and_then(Value::as_str) {
        let version = spdx_version.strip_prefix("SPDX-").unwrap_or(spdx_version);
        if !matches!(version, "2.2" | "2.3") {
            return Err(SbomError::UnsupportedVersion {
                path: display_path.to_owned(),
                format: "SPDX",
                found: spdx_version.to_owned(),
                supported: "SPDX JSON 2.2 and 2.3",
            });
        }
        let mut inventory = Inventory::new(display_path, format!("spdx-{version}"));
        let non_npm = spdx::read(&document, &mut inventory).map_err(invalid)?;
        inventory.normalize();
        return Ok(ReadOutcome {
            inventory,
            non_npm_components: non_npm,
        });
    }
    Err(SbomError::Unrecognised {
        path: display_path.to_owned(),
    })
}

/// Where a package came from, judged by the URL an SBOM records for it.
fn source_of(resolved: Option<&str>) -> SourceKind {
    match resolved {
        Some(url) if url.starts_with("git+") || url.starts_with("git:") || url.starts_with("github:") => {
            SourceKind::Git
        }
        Some(url) if url.starts_with("file:") => SourceKind::File,
        Some(url) if url.starts_with("link:") || url.starts_with("portal:") => SourceKind::Link,
        // Registry tarballs are `<registry>/<name>/-/<file>.tgz` (npm registry API).
        Some(url) if (url.starts_with("http://") || url.starts_with("https://")) && !url.contains("/-/") => {
            SourceKind::Tarball
        }
        _ => SourceKind::Registry,
    }
}

/// The source a `palisade:package:source` property names (written by Palisade itself).
fn source_from_property(value: &str) -> Option<SourceKind> {
    Some(match value {
        "registry" => SourceKind::Registry,
        "git" => SourceKind::Git,
        "tarball" => SourceKind::Tarball,
        "file" => SourceKind::File,
        "link" => SourceKind::Link,
        "workspace" => SourceKind::Workspace,
        _ => return None,
    })
}
