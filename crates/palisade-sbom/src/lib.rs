//! Software bills of materials for npm projects.
//!
//! Out: an [`Inventory`](palisade_core::Inventory) becomes a CycloneDX 1.6 JSON
//! document ([`cyclonedx::write`]) or an SPDX 2.3 JSON document ([`spdx::write`]).
//! In: a CycloneDX (1.2–1.6) or SPDX (2.2, 2.3) JSON document produced by any
//! tool becomes an inventory ([`read::read_file`], [`read::read_str`]), so the
//! rest of the pipeline (audit, verify) can check an SBOM somebody delivered.
//!
//! The library never prints; the caller renders.

pub mod cyclonedx;
mod error;
pub mod licenses;
pub mod project;
pub mod purl;
pub mod read;
pub mod spdx;
pub mod sri;

use std::collections::BTreeMap;

use palisade_core::{Inventory, PackageId};

pub use error::SbomError;
pub use project::RootComponent;
pub use read::{read_file, read_str, ReadOutcome, MAX_SBOM_BYTES};

/// What an SBOM is written from.
#[derive(Debug, Clone)]
pub struct SbomInput<'a> {
    /// The project's packages and importers (several lockfiles merged with [`merge_inventories`]).
    pub inventory: &'a Inventory,
    /// The project itself: the SBOM's subject.
    pub root: RootComponent,
    /// Declared licenses (an SPDX expression or free text) by package, where known.
    pub licenses: &'a BTreeMap<PackageId, String>,
}

/// How an SBOM is written.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// Leave out the creation time and derive the document's identifier from its
    /// content instead of drawing it at random: the same input gives the same bytes.
    pub reproducible: bool,
    /// The version of the tool that writes the document (recorded in its metadata).
    pub tool_version: String,
}

/// One inventory from several (a project with more than one lockfile): the
/// union of their packages and of their importers' direct dependencies.
pub fn merge_inventories(inventories: &[Inventory]) -> Inventory {
    let Some(first) = inventories.first() else {
        return Inventory::new("", "");
    };
    if inventories.len() == 1 {
        return first.clone();
    }
    let mut merged = Inventory::new(first.lockfile.clone(), first.format.clone());
    for inventory in inventories {
        merged.packages.extend(inventory.packages.iter().cloned());
        merged.warnings.extend(inventory.warnings.iter().cloned());
        for importer in &inventory.importers {
            match merged.importers.iter_mut().find(|known| known.path == importer.path) {
                Some(known) => {
                    known.dependencies.extend(importer.dependencies.iter().cloned());
                    if known.name.is_none() {
                        known.name.clone_from(&importer.name);
                    }
                }
                None => merged.importers.push(importer.clone()),
            }
        }
    }
    merged.normalize();
    merged
}

/// The current time as RFC 3339 with whole seconds (what both specifications show).
fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// The namespace for content-derived (UUID v5, RFC 9562 §5.5) identifiers of
/// reproducible documents. A fixed, random v4 UUID owned by Palisade.
const REPRODUCIBLE_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6b3e_4a1c_9d27_4f0e_8c51_2a7d_93f0_b6e4);

fn content_uuid(content: &[u8]) -> uuid::Uuid {
    uuid::Uuid::new_v5(&REPRODUCIBLE_NAMESPACE, content)
}

/// The package's `resolved` when it is a URL. Yarn berry and pnpm record
/// locators (`abab@npm:2.0.6`) or integrity-only entries there, which are not
/// locations: CycloneDX (`externalReferences.url` is an IRI reference) and
/// SPDX (§7.7 `downloadLocation`) both need a real URL or nothing.
pub(crate) fn resolved_url(package: &palisade_core::Package) -> Option<&str> {
    let resolved = package.resolved.as_deref()?;
    let (scheme, rest) = resolved.split_once(':')?;
    let scheme_ok = scheme.len() > 1
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'));
    (scheme_ok && !rest.is_empty() && !resolved.contains(char::is_whitespace)).then_some(resolved)
}

#[cfg(test)]
mod tests {
    use palisade_core::{Importer, Inventory, Package, PackageId};

    use super::merge_inventories;

    #[test]
    fn merging_lockfiles_unites_packages_and_root_dependencies() {
        let mut npm = Inventory::new("package-lock.json", "npm-v3");
        npm.packages = vec![Package::new("a", "1.0.0"), Package::new("b", "1.0.0")];
        npm.importers = vec![Importer {
            path: String::new(),
            name: Some("app".into()),
            dependencies: vec![PackageId::new("a", "1.0.0")],
        }];
        let mut yarn = Inventory::new("yarn.lock", "yarn-v1");
        yarn.packages = vec![Package::new("a", "1.0.0"), Package::new("c", "2.0.0")];
        yarn.importers = vec![Importer {
            path: String::new(),
            name: None,
            dependencies: vec![PackageId::new("c", "2.0.0")],
        }];
        let merged = merge_inventories(&[npm, yarn]);
        let ids: Vec<String> = merged.packages.iter().map(|p| p.id().to_string()).collect();
        assert_eq!(ids, ["a@1.0.0", "b@1.0.0", "c@2.0.0"]);
        assert_eq!(merged.importers.len(), 1);
        assert_eq!(merged.importers[0].name.as_deref(), Some("app"));
        assert_eq!(merged.importers[0].dependencies.len(), 2);
    }

    #[test]
    fn resolved_urls_only() {
        let with = |resolved: &str| {
            let mut package = Package::new("a", "1.0.0");
            package.resolved = Some(resolved.to_owned());
            super::resolved_url(&package).map(str::to_owned)
        };
        assert!(with("https://registry.npmjs.org/a/-/a-1.0.0.tgz").is_some());
        assert!(with("git+ssh://git@github.com/o/r.git#abc").is_some());
        assert!(with("file:../local").is_some());
        assert_eq!(with("abab@npm:2.0.6"), None, "a yarn berry locator is not a URL");
        assert_eq!(with("c:"), None);
    }
}
