//! SPDX JSON 2.2/2.3 → inventory.

use std::collections::{HashMap, HashSet, VecDeque};

use palisade_core::{Importer, Inventory, Package, PackageId, SourceKind, Warning};
use serde_json::Value;

use crate::purl;
use crate::read::source_of;
use crate::sri::{self, HashAlgorithm};

/// How an edge of the dependency graph was stated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EdgeKind {
    Normal,
    Dev,
    Optional,
}

/// Fill `inventory` from an SPDX document; returns the count of non-npm packages.
pub(super) fn read(document: &Value, inventory: &mut Inventory) -> Result<usize, String> {
    let packages = match document.get("packages") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(packages)) => packages.as_slice(),
        Some(_) => return Err("`packages` is not an array".to_owned()),
    };
    let relationships = document
        .get("relationships")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let field = |value: &'_ Value, key: &str| -> Option<String> {
        value
            .get(key)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };

    // §6.10 / §11.1: what the document describes is the project, not a dependency.
    let mut roots: HashSet<String> = document
        .get("documentDescribes")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|id| id.as_str().map(str::to_owned))
        .collect();
    for relationship in relationships {
        let kind = field(relationship, "relationshipType");
        let (Some(a), Some(b)) = (
            field(relationship, "spdxElementId"),
            field(relationship, "relatedSpdxElement"),
        ) else {
            continue;
        };
        match kind.as_deref() {
            Some("DESCRIBES") if a == "SPDXRef-DOCUMENT" => {
                roots.insert(b);
            }
            Some("DESCRIBED_BY") if b == "SPDXRef-DOCUMENT" => {
                roots.insert(a);
            }
            _ => {}
        }
    }

    let mut non_npm = 0;
    let mut by_spdx_id: HashMap<String, usize> = HashMap::new();
    let mut root_name = None;
    for package in packages {
        let spdx_id = field(package, "SPDXID").unwrap_or_default();
        if roots.contains(&spdx_id) {
            root_name = root_name.or_else(|| field(package, "name"));
            continue;
        }
        let label = if spdx_id.is_empty() {
            field(package, "name").unwrap_or_default()
        } else {
            spdx_id.clone()
        };
        let purl_text = package
            .get("externalRefs")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .find(|reference| field(reference, "referenceType").as_deref() == Some("purl"))
            .and_then(|reference| field(reference, "referenceLocator"));
        let mut vcs = false;
        let (name, version) = match &purl_text {
            Some(text) => match purl::parse(text) {
                Some(parsed) if parsed.purl_type == "npm" => {
                    vcs = parsed.qualifiers.contains_key("vcs_url");
                    // No version (a local or linked package): still a package, unversioned.
                    let version = parsed.version.clone().or_else(|| field(package, "versionInfo"));
                    (parsed.npm_name(), version.unwrap_or_default())
                }
                Some(_) => {
                    non_npm += 1;
                    continue;
                }
                None => {
                    inventory.warnings.push(Warning::new(format!(
                        "package `{label}`: `{text}` is not a package URL"
                    )));
                    continue;
                }
            },
            // Without a purl the name and version are taken as an npm package's.
            None => match (field(package, "name"), field(package, "versionInfo")) {
                (Some(name), Some(version)) => (name, version),
                _ => {
                    inventory.warnings.push(Warning::new(format!(
                        "package `{label}` has neither an npm purl nor a name and versionInfo"
                    )));
                    continue;
                }
            },
        };
        let mut entry = Package::new(name, version);
        // §7.7: NONE and NOASSERTION are not locations.
        entry.resolved =
            field(package, "downloadLocation").filter(|location| location != "NONE" && location != "NOASSERTION");
        entry.source = if vcs {
            SourceKind::Git
        } else {
            source_of(entry.resolved.as_deref())
        };
        let digests: Vec<(HashAlgorithm, String)> = package
            .get("checksums")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|checksum| {
                let algorithm = HashAlgorithm::parse(checksum.get("algorithm")?.as_str()?)?;
                Some((algorithm, checksum.get("checksumValue")?.as_str()?.to_ascii_lowercase()))
            })
            .collect();
        entry.integrity = sri::encode_strongest(digests.iter().map(|(algorithm, hex)| (*algorithm, hex.as_str())));
        entry.paths.push(label);
        by_spdx_id.insert(spdx_id, inventory.packages.len());
        inventory.packages.push(entry);
    }

    // §11.1 Table 1: the direction of each relationship type. `A DEPENDS_ON B`,
    // but `A DEPENDENCY_OF B` / `A DEV_DEPENDENCY_OF B` / … say that B depends on A.
    // syft states the root's direct packages with CONTAINS.
    let mut edges: HashMap<String, Vec<(usize, EdgeKind)>> = HashMap::new();
    for relationship in relationships {
        let (Some(kind), Some(a), Some(b)) = (
            field(relationship, "relationshipType"),
            field(relationship, "spdxElementId"),
            field(relationship, "relatedSpdxElement"),
        ) else {
            continue;
        };
        let (from, to, edge) = match kind.as_str() {
            "DEPENDS_ON" => (a, b, EdgeKind::Normal),
            "CONTAINS" if roots.contains(&a) => (a, b, EdgeKind::Normal),
            "DEPENDENCY_OF" | "RUNTIME_DEPENDENCY_OF" | "BUILD_DEPENDENCY_OF" | "PROVIDED_DEPENDENCY_OF" => {
                (b, a, EdgeKind::Normal)
            }
            "DEV_DEPENDENCY_OF" | "TEST_DEPENDENCY_OF" => (b, a, EdgeKind::Dev),
            "OPTIONAL_DEPENDENCY_OF" => (b, a, EdgeKind::Optional),
            _ => continue,
        };
        if let Some(&target) = by_spdx_id.get(&to) {
            edges.entry(from).or_default().push((target, edge));
        }
    }
    let ids: Vec<PackageId> = inventory.packages.iter().map(Package::id).collect();
    for (spdx_id, &index) in &by_spdx_id {
        if let Some(targets) = edges.get(spdx_id) {
            let dependencies = targets.iter().map(|(target, _)| ids[*target].clone());
            inventory.packages[index].dependencies.extend(dependencies);
        }
    }

    let mut root_ids: Vec<&String> = roots.iter().collect();
    root_ids.sort();
    let direct: Vec<(usize, EdgeKind)> = root_ids
        .iter()
        .filter_map(|root| edges.get(*root))
        .flatten()
        .copied()
        .collect();
    if !direct.is_empty() || !roots.is_empty() {
        inventory.importers.push(Importer {
            path: String::new(),
            name: root_name,
            dependencies: direct.iter().map(|(target, _)| ids[*target].clone()).collect(),
        });
    }

    // dev / optional: reachable from the root only through such an edge
    // (the same "only reachable through" meaning lockfile extractors give them).
    if !direct.is_empty() {
        let package_edges: HashMap<usize, &Vec<(usize, EdgeKind)>> = by_spdx_id
            .iter()
            .filter_map(|(spdx_id, &index)| Some((index, edges.get(spdx_id)?)))
            .collect();
        let reach = |allowed: &dyn Fn(EdgeKind) -> bool| -> Vec<bool> {
            let mut seen = vec![false; ids.len()];
            let mut queue: VecDeque<usize> = direct
                .iter()
                .filter(|(_, kind)| allowed(*kind))
                .map(|(t, _)| *t)
                .collect();
            while let Some(index) = queue.pop_front() {
                if std::mem::replace(&mut seen[index], true) {
                    continue;
                }
                if let Some(targets) = package_edges.get(&index) {
                    queue.extend(targets.iter().filter(|(_, kind)| allowed(*kind)).map(|(t, _)| *t));
                }
            }
            seen
        };
        let anything = reach(&|_| true);
        let without_dev = reach(&|kind| kind != EdgeKind::Dev);
        let required = reach(&|kind| kind == EdgeKind::Normal);
        for (index, package) in inventory.packages.iter_mut().enumerate() {
            package.dev = anything[index] && !without_dev[index];
            package.optional = without_dev[index] && !required[index];
        }
    }
    Ok(non_npm)
}
