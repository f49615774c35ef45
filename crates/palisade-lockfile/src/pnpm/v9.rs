//! Lockfile 9.x (pnpm 9 and later): `packages` holds metadata by package id,
//! `snapshots` the dependency graph by depPath. Like pnpm's
//! `convertToLockfileObject`, every snapshot is one package, with the metadata
//! of its package id merged in.

use std::collections::HashSet;

use palisade_core::{Package, Warning};

use super::keys::{is_semver, parse_v9_key, v9_package_id, v9_ref_to_key};
use super::text::Section;
use super::yaml::{Map, Node};
use super::{classify, dependency_refs, flag, string, DependencyKind, DocumentContext, Edge, Graph, KeyMap};

/// Importer fields of pnpm 11's env document.
const ENV_FIELDS: [&str; 2] = ["configDependencies", "packageManagerDependencies"];

pub(crate) fn read(document: &Map<'_>, context: &DocumentContext<'_>, graph: &mut Graph) {
    graph.compute_dev = true;
    read_importers(document, context, graph);
    let empty = Map::default();
    let packages = section(document, "packages", graph).unwrap_or(&empty);
    let snapshots = section(document, "snapshots", graph).unwrap_or(&empty);
    // Metadata is looked up once per snapshot: index it.
    let metadata_by_id: KeyMap<&str, &Node<'_>> = packages.iter().collect();
    let mut used_metadata: HashSet<&str> = HashSet::new();

    for (key, snapshot) in snapshots.iter() {
        let line = context.line(Section::Snapshots, key);
        let warn = |message: String| match line {
            Some(line) => Warning::at_line(message, line),
            None => Warning::new(message),
        };
        let snapshot = match snapshot {
            Node::Map(snapshot) => snapshot,
            other if other.is_null() => &empty,
            _ => {
                graph
                    .warnings
                    .push(warn(format!("snapshot `{key}` is not a mapping; entry skipped")));
                continue;
            }
        };
        let Some((name, key_version)) = parse_v9_key(key) else {
            graph.warnings.push(warn(format!(
                "snapshot key `{key}` is not `name@version`; entry skipped"
            )));
            continue;
        };
        let package_id = v9_package_id(key);
        let metadata = match metadata_by_id.get(package_id) {
            Some(Node::Map(metadata)) => {
                used_metadata.insert(package_id);
                metadata
            }
            Some(other) if other.is_null() => {
                used_metadata.insert(package_id);
                &empty
            }
            Some(_) => {
                used_metadata.insert(package_id);
                graph.warnings.push(warn(format!(
                    "package `{package_id}` is not a mapping; its metadata was ignored"
                )));
                &empty
            }
            None => &empty,
        };
        // Non-registry packages (git, tarball, `file:`) record the version
        // they were built as; registry ones are spelled by the key.
        let version = string(metadata, "version").unwrap_or(key_version);
        let resolution = metadata.get("resolution").and_then(Node::as_mapping);
        let (source, resolved) = classify(resolution, is_semver(key_version), key_version);
        let mut package = Package::new(name, version);
        package.source = source;
        package.resolved = resolved;
        package.integrity = resolution
            .and_then(|resolution| string(resolution, "integrity"))
            .map(str::to_string);
        package.optional = flag(snapshot, "optional");
        package.line = line.or_else(|| context.line(Section::Packages, package_id));

        let mut edges = Vec::new();
        let mut bad_fields = Vec::new();
        for field in ["dependencies", "optionalDependencies"] {
            for (dependency, reference) in dependency_refs(snapshot, field, |field| bad_fields.push(field.to_string()))
            {
                if let Some(target) = v9_ref_to_key(reference, dependency) {
                    edges.push(Edge {
                        name: dependency.to_string(),
                        target,
                    });
                }
            }
        }
        for field in bad_fields {
            graph.warnings.push(warn(format!(
                "snapshot `{key}`: `{field}` has an entry that is not `name: version`"
            )));
        }
        graph.add(key.to_string(), package, edges);
    }

    // Metadata nobody's snapshot refers to is not installed by pnpm; say so
    // rather than drop it silently.
    for key in packages.keys() {
        if !used_metadata.contains(key) {
            let message =
                format!("package `{key}` has metadata but no snapshot; pnpm does not install it, so it is not listed");
            graph.warnings.push(context.warning(Section::Packages, key, message));
        }
    }
}

fn section<'a, 'b>(document: &'a Map<'b>, name: &str, graph: &mut Graph) -> Option<&'a Map<'b>> {
    let value = document.get(name)?;
    match value.as_mapping() {
        Some(mapping) => Some(mapping),
        None => {
            if !value.is_null() {
                graph
                    .warnings
                    .push(Warning::new(format!("`{name}` is not a mapping and was not read")));
            }
            None
        }
    }
}

fn read_importers(document: &Map<'_>, context: &DocumentContext<'_>, graph: &mut Graph) {
    let Some(importers) = section(document, "importers", graph) else {
        return;
    };
    // pnpm 11's env document: its only importer lists the package manager
    // and config dependencies, which are installed like any other package.
    graph.env_document = !importers.is_empty()
        && importers.values().all(|importer| {
            importer.as_mapping().is_some_and(|importer| {
                !importer.is_empty() && importer.keys().all(|field| ENV_FIELDS.contains(&field))
            })
        });
    for (path, importer) in importers.iter() {
        let empty = Map::default();
        let importer = match importer {
            Node::Map(importer) => importer,
            other if other.is_null() => &empty,
            _ => {
                let message = format!("importer `{path}` is not a mapping and was not read");
                graph.warnings.push(context.warning(Section::Importers, path, message));
                continue;
            }
        };
        let fields = [
            ("dependencies", DependencyKind::Production),
            ("optionalDependencies", DependencyKind::Optional),
            ("devDependencies", DependencyKind::Development),
            (ENV_FIELDS[0], DependencyKind::Production),
            (ENV_FIELDS[1], DependencyKind::Production),
        ];
        graph.add_importer(
            context,
            path,
            importer,
            &fields,
            "name: {specifier, version}",
            v9_ref_to_key,
        );
    }
}
