//! CycloneDX 1.6 JSON out (<https://cyclonedx.org/docs/1.6/json/>).
//!
//! Written with serde rather than the `cyclonedx-bom` crate, which stops at
//! spec 1.5. Field names and conventions follow what @cyclonedx/cyclonedx-npm
//! writes for npm projects where the specification leaves a choice (scoped
//! packages: `group` is `@scope`; the `cdx:npm:package:*` property taxonomy).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use palisade_core::{Package, PackageId, SourceKind};
use serde::Serialize;

use crate::licenses::is_spdx_expression;
use crate::{purl, sri, SbomError, SbomInput, WriteOptions};

const SCHEMA: &str = "http://cyclonedx.org/schema/bom-1.6.schema.json";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    bom_format: &'static str,
    spec_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    serial_number: Option<String>,
    version: u32,
    metadata: Metadata<'a>,
    components: Vec<Component<'a>>,
    dependencies: Vec<Dependency<'a>>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<String>,
    tools: Tools<'a>,
    component: Component<'a>,
}

/// 1.5+ form of `metadata.tools`: an object of components and services (§ metadata.tools).
#[derive(Serialize)]
struct Tools<'a> {
    components: Vec<Component<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Component<'a> {
    #[serde(rename = "type")]
    component_type: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<&'a str>,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_references: Vec<ExternalReference<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property<'a>>,
}

#[derive(Serialize)]
struct Hash {
    alg: &'static str,
    content: String,
}

/// `licenses` is either license objects or exactly one expression (§ licenseChoice).
#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice<'a> {
    Expression {
        expression: &'a str,
        acknowledgement: &'static str,
    },
    License {
        license: NamedLicense<'a>,
    },
}

#[derive(Serialize)]
struct NamedLicense<'a> {
    name: &'a str,
    acknowledgement: &'static str,
}

#[derive(Serialize)]
struct ExternalReference<'a> {
    #[serde(rename = "type")]
    reference_type: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct Property<'a> {
    name: &'static str,
    value: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency<'a> {
    #[serde(rename = "ref")]
    reference: &'a str,
    depends_on: Vec<&'a str>,
}

/// The `bom-ref` of every package: its purl, made unique with a `#n` suffix in
/// the rare case of one name@version from two sources.
pub(crate) fn package_refs(packages: &[Package], prefix: impl Fn(&Package) -> String) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    packages
        .iter()
        .map(|package| {
            let base = prefix(package);
            let count = seen.entry(base.clone()).or_insert(0);
            *count += 1;
            if *count == 1 {
                base
            } else {
                format!("{base}#{count}")
            }
        })
        .collect()
}

/// The purl of a package, with the qualifier the purl spec defines for where a
/// non-registry package comes from (`vcs_url` for git, `download_url` for tarballs).
pub(crate) fn package_purl(package: &Package) -> String {
    let resolved = crate::resolved_url(package).unwrap_or("");
    let qualifier: &[(&str, &str)] = match package.source {
        SourceKind::Git => &[("vcs_url", resolved)],
        SourceKind::Tarball => &[("download_url", resolved)],
        _ => &[],
    };
    purl::npm(&package.name, &package.version, qualifier)
}

/// Serialise `input` as a CycloneDX 1.6 JSON document (pretty-printed, ending with a newline).
pub fn write(input: &SbomInput<'_>, options: &WriteOptions) -> Result<Vec<u8>, SbomError> {
    let packages = &input.inventory.packages;
    let refs = package_refs(packages, package_purl);
    let mut root_ref = purl::npm(&input.root.name, input.root.version.as_deref().unwrap_or(""), &[]);
    if refs.contains(&root_ref) {
        root_ref = format!("{root_ref}#root");
    }
    let by_id: HashMap<PackageId, &str> = packages
        .iter()
        .zip(&refs)
        .rev() // the first of several entries with one id wins
        .map(|(package, bom_ref)| (package.id(), bom_ref.as_str()))
        .collect();

    let components: Vec<Component<'_>> = packages
        .iter()
        .zip(&refs)
        .map(|(package, bom_ref)| component(package, bom_ref, input.licenses.get(&package.id())))
        .collect();

    // §dependencies: every component is listed, an empty `dependsOn` saying
    // "no dependencies" rather than "unknown". Edges to packages that are not
    // in the SBOM (workspace members, packages left out by --omit) are dropped.
    let resolve = |ids: &mut dyn Iterator<Item = &PackageId>| -> Vec<&str> {
        let set: BTreeSet<&str> = ids.filter_map(|id| by_id.get(id).copied()).collect();
        set.into_iter().collect()
    };
    let mut dependencies = Vec::with_capacity(packages.len() + 1);
    // The root depends on the direct dependencies of every importer: the root
    // project and its workspace members, which are not components of their own.
    dependencies.push(Dependency {
        reference: &root_ref,
        depends_on: resolve(&mut input.inventory.importers.iter().flat_map(|i| &i.dependencies)),
    });
    let mut package_dependencies: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (package, bom_ref) in packages.iter().zip(&refs) {
        package_dependencies.insert(bom_ref, resolve(&mut package.dependencies.iter()));
    }
    dependencies.extend(
        package_dependencies
            .into_iter()
            .map(|(reference, depends_on)| Dependency { reference, depends_on }),
    );

    let root_purl = purl::npm(&input.root.name, input.root.version.as_deref().unwrap_or(""), &[]);
    let (root_group, root_name) = split_group(&input.root.name);
    let mut bom = Bom {
        schema: SCHEMA,
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: None,
        version: 1,
        metadata: Metadata {
            timestamp: (!options.reproducible).then(crate::now_rfc3339),
            tools: Tools {
                components: vec![Component {
                    component_type: "application",
                    bom_ref: None,
                    group: None,
                    name: "palisade",
                    version: Some(&options.tool_version),
                    description: None,
                    scope: None,
                    hashes: Vec::new(),
                    licenses: Vec::new(),
                    purl: None,
                    external_references: Vec::new(),
                    properties: Vec::new(),
                }],
            },
            component: Component {
                component_type: "application",
                bom_ref: Some(&root_ref),
                group: root_group,
                name: root_name,
                version: input.root.version.as_deref(),
                description: input.root.description.as_deref(),
                scope: None,
                hashes: Vec::new(),
                licenses: Vec::new(),
                purl: Some(root_purl),
                external_references: Vec::new(),
                properties: Vec::new(),
            },
        },
        components,
        dependencies,
    };
    // §serialNumber: an RFC 4122 URN. Random (v4) by default; with
    // --reproducible a v5 UUID over the rest of the document, so equal content
    // gets an equal serial number and different content a different one.
    let uuid = if options.reproducible {
        crate::content_uuid(&serde_json::to_vec(&bom).map_err(SbomError::Serialise)?)
    } else {
        uuid::Uuid::new_v4()
    };
    bom.serial_number = Some(format!("urn:uuid:{uuid}"));
    let mut bytes = serde_json::to_vec_pretty(&bom).map_err(SbomError::Serialise)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// `@scope/name` → (`Some("@scope")`, `name`): cyclonedx-npm puts the scope,
/// with its `@`, in `group`.
fn split_group(name: &str) -> (Option<&str>, &str) {
    match purl::split_scope(name) {
        Some((scope, bare)) => (Some(scope), bare),
        None => (None, name),
    }
}

fn component<'a>(package: &'a Package, bom_ref: &'a str, license: Option<&'a String>) -> Component<'a> {
    let (group, name) = split_group(&package.name);
    let hashes = package
        .integrity
        .as_deref()
        .map(sri::decode)
        .unwrap_or_default()
        .into_iter()
        .map(|digest| Hash {
            alg: digest.algorithm.cyclonedx_name(),
            content: digest.hex,
        })
        .collect();
    let licenses = match license {
        Some(text) if is_spdx_expression(text) => vec![LicenseChoice::Expression {
            expression: text,
            acknowledgement: "declared",
        }],
        Some(text) => vec![LicenseChoice::License {
            license: NamedLicense {
                name: text,
                acknowledgement: "declared",
            },
        }],
        None => Vec::new(),
    };
    let external_references = match (crate::resolved_url(package), package.source) {
        (Some(url), SourceKind::Git) => vec![ExternalReference {
            reference_type: "vcs",
            url,
        }],
        (Some(url), SourceKind::Registry | SourceKind::Tarball) => vec![ExternalReference {
            reference_type: "distribution",
            url,
        }],
        _ => Vec::new(),
    };
    let mut properties = Vec::new();
    if package.dev {
        properties.push(Property {
            name: "cdx:npm:package:development",
            value: "true",
        });
    }
    for path in package.paths.iter().filter(|path| path.starts_with("node_modules/")) {
        properties.push(Property {
            name: "cdx:npm:package:path",
            value: path,
        });
    }
    if package.source != SourceKind::Registry {
        properties.push(Property {
            name: "palisade:package:source",
            value: package.source.as_str(),
        });
    }
    Component {
        component_type: "library",
        bom_ref: Some(bom_ref),
        group,
        name,
        version: Some(&package.version),
        description: None,
        // §scope: dev-only and optional-only packages are not required at runtime.
        scope: Some(if package.dev || package.optional {
            "optional"
        } else {
            "required"
        }),
        hashes,
        licenses,
        purl: Some(package_purl(package)),
        external_references,
        properties,
    }
}
