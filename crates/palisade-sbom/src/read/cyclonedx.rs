//! CycloneDX JSON 1.2–1.6 → inventory.

use std::collections::HashMap;

use palisade_core::{Importer, Inventory, Package, PackageId, Warning};
use serde_json::Value;

use crate::sri::{self, HashAlgorithm};
use crate::{purl, read::source_from_property, read::source_of};

/// Components nested deeper than this are not followed (a real BOM nests a few levels).
const MAX_NESTING: usize = 64;

/// Fill `inventory` from a CycloneDX document; returns the count of non-npm components.
pub(super) fn read(document: &Value, inventory: &mut Inventory) -> Result<usize, String> {
    let components = match document.get("components") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(components)) => components.as_slice(),
        Some(_) => return Err("`components` is not an array".to_owned()),
    };
    let root = document.get("metadata").and_then(|metadata| metadata.get("component"));
    let root_ref = root.and_then(bom_ref);

    // §components: `components` of a component are its sub-components; all of
    // them are packages of the project, so the tree is flattened.
    let mut stack: Vec<(&Value, usize)> = components.iter().rev().map(|c| (c, 0)).collect();
    // Components nested in the root component are the project's too.
    if let Some(Value::Array(nested)) = root.and_then(|root| root.get("components")) {
        stack.extend(nested.iter().rev().map(|c| (c, 1)));
    }
    let mut non_npm = 0;
    let mut by_ref: HashMap<String, PackageId> = HashMap::new();
    let mut packages: Vec<(Option<String>, Package)> = Vec::new();
    while let Some((component, depth)) = stack.pop() {
        if let Some(Value::Array(children)) = component.get("components") {
            if depth < MAX_NESTING {
                stack.extend(children.iter().rev().map(|child| (child, depth + 1)));
            } else {
                inventory.warnings.push(Warning::new(format!(
                    "components nested deeper than {MAX_NESTING} levels were not read"
                )));
            }
        }
        match package_of(component) {
            Identified::Npm(package) => {
                let reference = bom_ref(component);
                if let Some(reference) = &reference {
                    by_ref.insert(reference.clone(), package.id());
                }
                packages.push((reference, package));
            }
            Identified::Other => non_npm += 1,
            Identified::Unusable(message) => inventory.warnings.push(Warning::new(message)),
        }
    }

    // §dependencies: `ref` depends on each of `dependsOn` (1.2–1.6 all use bom-refs).
    let mut edges: HashMap<&str, Vec<PackageId>> = HashMap::new();
    if let Some(Value::Array(dependencies)) = document.get("dependencies") {
        for dependency in dependencies {
            let Some(reference) = dependency.get("ref").and_then(Value::as_str) else {
                continue;
            };
            let targets = dependency
                .get("dependsOn")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(Value::as_str)
                .filter_map(|target| by_ref.get(target).cloned());
            edges.entry(reference).or_default().extend(targets);
        }
    }
    for (reference, mut package) in packages {
        if let Some(targets) = reference.as_deref().and_then(|reference| edges.get(reference)) {
            package.dependencies.extend(targets.iter().cloned());
        }
        inventory.packages.push(package);
    }
    let root_dependencies = root_ref
        .as_deref()
        .and_then(|reference| edges.get(reference))
        .cloned()
        .unwrap_or_default();
    let root_name = root.and_then(|root| {
        let name = root.get("name").and_then(Value::as_str)?;
        Some(
            match root
                .get("group")
                .and_then(Value::as_str)
                .filter(|group| !group.is_empty())
            {
                Some(group) => format!("{group}/{name}"),
                None => name.to_owned(),
            },
        )
    });
    if root.is_some() || !root_dependencies.is_empty() {
        inventory.importers.push(Importer {
            path: String::new(),
            name: root_name,
            dependencies: root_dependencies,
        });
    }
    Ok(non_npm)
}

fn bom_ref(component: &Value) -> Option<String> {
    component.get("bom-ref").and_then(Value::as_str).map(str::to_owned)
}

enum Identified {
    Npm(Package),
    Other,
    Unusable(String),
}

fn package_of(component: &Value) -> Identified {
    let text = |key: &str| {
        component
            .get(key)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
    };
    let label = text("bom-ref").or(text("name")).unwrap_or("(unnamed)").to_owned();
    // The purl is the identity when there is one; name/group/version only without it.
    let (name, version, qualifiers) = match text("purl") {
        Some(purl_text) => match purl::parse(purl_text) {
            // A purl without a version (a local or linked package) keeps the component's
            // version, or none: the package is still there, only unversioned.
            Some(parsed) if parsed.purl_type == "npm" => {
                let version = parsed
                    .version
                    .clone()
                    .or(text("version").map(str::to_owned))
                    .unwrap_or_default();
                (parsed.npm_name(), version, parsed.qualifiers)
            }
            Some(_) => return Identified::Other,
            None => return Identified::Unusable(format!("component `{label}`: `{purl_text}` is not a package URL")),
        },
        None => {
            // Without a purl only a library or framework can be an npm package;
            // files, containers, operating systems and the like are not.
            if !matches!(text("type"), Some("library" | "framework") | None) {
                return Identified::Other;
            }
            let (Some(name), Some(version)) = (text("name"), text("version")) else {
                return Identified::Unusable(format!("component `{label}` has neither a purl nor a name and version"));
            };
            let name = match text("group") {
                Some(group) if group.starts_with('@') => format!("{group}/{name}"),
                Some(_) => return Identified::Other,
                None => name.to_owned(),
            };
            (name, version.to_owned(), Default::default())
        }
    };
    let mut package = Package::new(name, version);
    let reference = |kind: &str| {
        component
            .get("externalReferences")
            .and_then(Value::as_array)?
            .iter()
            .find(|reference| reference.get("type").and_then(Value::as_str) == Some(kind))?
            .get("url")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    package.resolved = reference("distribution")
        .or_else(|| qualifiers.get("download_url").cloned())
        .or_else(|| qualifiers.get("vcs_url").cloned())
        .or_else(|| reference("vcs").filter(|_| qualifiers.contains_key("vcs_url")));
    package.source = source_of(package.resolved.as_deref());
    if qualifiers.contains_key("vcs_url") {
        package.source = palisade_core::SourceKind::Git;
    }
    // Hashes on the component, else on its distribution reference (where
    // cyclonedx-npm puts the lockfile's integrity).
    let mut digests = hashes(component.get("hashes"));
    if digests.is_empty() {
        if let Some(Value::Array(references)) = component.get("externalReferences") {
            for reference in references {
                digests.extend(hashes(reference.get("hashes")));
            }
        }
    }
    package.integrity = sri::encode_strongest(digests.iter().map(|(algorithm, hex)| (*algorithm, hex.as_str())));
    let mut development = false;
    if let Some(Value::Array(properties)) = component.get("properties") {
        for property in properties {
            let name = property.get("name").and_then(Value::as_str).unwrap_or("");
            let value = property.get("value").and_then(Value::as_str).unwrap_or("");
            match name {
                "cdx:npm:package:development" => development = value == "true",
                "cdx:npm:package:path" if !value.is_empty() => package.paths.push(value.to_owned()),
                "palisade:package:source" => {
                    if let Some(source) = source_from_property(value) {
                        package.source = source;
                    }
                }
                _ => {}
            }
        }
    }
    package.dev = development;
    // §scope: `optional` without the development flag is an optional dependency;
    // `excluded` is what cyclonedx-npm writes for optional packages not installed.
    package.optional = !development && matches!(text("scope"), Some("optional" | "excluded"));
    if package.paths.is_empty() {
        package.paths.push(label);
    }
    Identified::Npm(package)
}

fn hashes(value: Option<&Value>) -> Vec<(HashAlgorithm, String)> {
    value
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|hash| {
            let algorithm = HashAlgorithm::parse(hash.get("alg")?.as_str()?)?;
            Some((algorithm, hash.get("content")?.as_str()?.to_ascii_lowercase()))
        })
        .collect()
}
