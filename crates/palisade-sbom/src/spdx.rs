//! SPDX 2.3 JSON out (<https://spdx.github.io/spdx-spec/v2.3/>).

use std::collections::{BTreeSet, HashMap, HashSet};

use palisade_core::{Package, PackageId};
use serde::Serialize;

use crate::cyclonedx::package_purl;
use crate::licenses::is_spdx_expression;
use crate::{sri, SbomError, SbomInput, WriteOptions};

const NOASSERTION: &str = "NOASSERTION";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<SpdxPackage<'a>>,
    relationships: Vec<Relationship<'a>>,
}

#[derive(Serialize)]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage<'a> {
    #[serde(rename = "SPDXID")]
    spdx_id: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<&'a str>,
    download_location: &'a str,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    license_concluded: &'static str,
    license_declared: &'a str,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    primary_package_purpose: &'static str,
}

#[derive(Serialize)]
struct Checksum {
    algorithm: &'static str,
    #[serde(rename = "checksumValue")]
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
struct Relationship<'a> {
    spdx_element_id: &'a str,
    relationship_type: &'static str,
    related_spdx_element: &'a str,
}

/// An SPDX identifier from free text. §7.2: `SPDXRef-` followed by letters,
/// digits, `.` and `-` only; anything else becomes `-`.
fn sanitise(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn package_ids(packages: &[Package]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    packages
        .iter()
        .map(|package| {
            let base = format!(
                "SPDXRef-Package-npm-{}-{}",
                sanitise(&package.name),
                sanitise(&package.version)
            );
            let count = seen.entry(base.clone()).or_insert(0);
            *count += 1;
            if *count == 1 {
                base
            } else {
                // `@a/b` and `a-b` sanitise alike; the suffix keeps ids unique.
                format!("{base}-{count}")
            }
        })
        .collect()
}

/// Serialise `input` as an SPDX 2.3 JSON document (pretty-printed, ending with a newline).
pub fn write(input: &SbomInput<'_>, options: &WriteOptions) -> Result<Vec<u8>, SbomError> {
    let packages = &input.inventory.packages;
    let ids = package_ids(packages);
    let root_id = {
        let base = format!("SPDXRef-RootPackage-{}", sanitise(&input.root.name));
        if ids.contains(&base) {
            format!("{base}-root")
        } else {
            base
        }
    };
    let by_id: HashMap<PackageId, &str> = packages
        .iter()
        .zip(&ids)
        .rev()
        .map(|(package, id)| (package.id(), id.as_str()))
        .collect();
    let dev: HashSet<&str> = packages
        .iter()
        .zip(&ids)
        .filter(|(package, _)| package.dev)
        .map(|(_, id)| id.as_str())
        .collect();

    let mut spdx_packages = Vec::with_capacity(packages.len() + 1);
    spdx_packages.push(SpdxPackage {
        spdx_id: &root_id,
        name: &input.root.name,
        version_info: input.root.version.as_deref(),
        download_location: NOASSERTION,
        files_analyzed: false,
        checksums: Vec::new(),
        license_concluded: NOASSERTION,
        license_declared: NOASSERTION,
        copyright_text: NOASSERTION,
        external_refs: Vec::new(),
        primary_package_purpose: "APPLICATION",
    });
    for (package, id) in packages.iter().zip(&ids) {
        let checksums = package
            .integrity
            .as_deref()
            .map(sri::decode)
            .unwrap_or_default()
            .into_iter()
            .map(|digest| Checksum {
                algorithm: digest.algorithm.spdx_name(),
                checksum_value: digest.hex,
            })
            .collect();
        // §7.13/§7.15: an expression when the manifest declares one, else NOASSERTION
        // (free text such as `SEE LICENSE IN …` is not an SPDX expression).
        let license_declared = input
            .licenses
            .get(&package.id())
            .map(String::as_str)
            .filter(|text| is_spdx_expression(text))
            .unwrap_or(NOASSERTION);
        spdx_packages.push(SpdxPackage {
            spdx_id: id,
            name: &package.name,
            version_info: Some(&package.version),
            // §7.7: where the package can be downloaded from, or NOASSERTION.
            download_location: crate::resolved_url(package).unwrap_or(NOASSERTION),
            files_analyzed: false,
            checksums,
            license_concluded: NOASSERTION,
            license_declared,
            copyright_text: NOASSERTION,
            // §7.21 and Annex F: the purl as a PACKAGE-MANAGER external reference.
            external_refs: vec![ExternalRef {
                reference_category: "PACKAGE-MANAGER",
                reference_type: "purl",
                reference_locator: package_purl(package),
            }],
            primary_package_purpose: "LIBRARY",
        });
    }

    // §11: DOCUMENT DESCRIBES the root; the root DEPENDS_ON its direct
    // dependencies, except development-only ones, which are stated the other
    // way round as `dep DEV_DEPENDENCY_OF root` (Table 11.1: "A is a
    // development dependency of B"); package DEPENDS_ON package for the rest.
    let mut relationships = BTreeSet::new();
    let direct: BTreeSet<&str> = input
        .inventory
        .importers
        .iter()
        .flat_map(|importer| &importer.dependencies)
        .filter_map(|id| by_id.get(id).copied())
        .collect();
    for dependency in direct {
        relationships.insert(if dev.contains(dependency) {
            Relationship {
                spdx_element_id: dependency,
                relationship_type: "DEV_DEPENDENCY_OF",
                related_spdx_element: &root_id,
            }
        } else {
            Relationship {
                spdx_element_id: &root_id,
                relationship_type: "DEPENDS_ON",
                related_spdx_element: dependency,
            }
        });
    }
    for (package, id) in packages.iter().zip(&ids) {
        for dependency in package.dependencies.iter().filter_map(|dep| by_id.get(dep).copied()) {
            relationships.insert(Relationship {
                spdx_element_id: id,
                relationship_type: "DEPENDS_ON",
                related_spdx_element: dependency,
            });
        }
    }
    let mut relationships: Vec<Relationship<'_>> = relationships.into_iter().collect();
    relationships.insert(
        0,
        Relationship {
            spdx_element_id: "SPDXRef-DOCUMENT",
            relationship_type: "DESCRIBES",
            related_spdx_element: &root_id,
        },
    );

    let mut document = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: match &input.root.version {
            Some(version) => format!("{}@{version}", input.root.name),
            None => input.root.name.clone(),
        },
        document_namespace: String::new(),
        creation_info: CreationInfo {
            // §6.9 makes `created` mandatory; a reproducible document gets the epoch.
            created: if options.reproducible {
                "1970-01-01T00:00:00Z".to_owned()
            } else {
                crate::now_rfc3339()
            },
            creators: vec![format!("Tool: palisade-{}", options.tool_version)],
        },
        packages: spdx_packages,
        relationships,
    };
    // §6.5: a unique absolute URI without `#`; the recommended form is
    // `https://[site]/[path]/[name]-[UUID]`. Content-derived with --reproducible.
    let uuid = if options.reproducible {
        crate::content_uuid(&serde_json::to_vec(&document).map_err(SbomError::Serialise)?)
    } else {
        uuid::Uuid::new_v4()
    };
    document.document_namespace = format!("https://spdx.org/spdxdocs/{}-{uuid}", sanitise(&input.root.name));
    let mut bytes = serde_json::to_vec_pretty(&document).map_err(SbomError::Serialise)?;
    bytes.push(b'\n');
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spdx_ids_are_sanitised_and_unique() {
        let packages = vec![Package::new("@a/b", "1.0.0"), Package::new("-a-b", "1.0.0")];
        let ids = package_ids(&packages);
        assert_eq!(ids[0], "SPDXRef-Package-npm--a-b-1.0.0");
        assert_eq!(ids[1], "SPDXRef-Package-npm--a-b-1.0.0-2");
    }
}
