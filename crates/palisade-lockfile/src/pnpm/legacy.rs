//! Lockfile 5.x (pnpm 5–7) and 6.x (pnpm 8): one `packages` map with
//! metadata and graph together, `dev`/`optional` written per entry.
//!
//! Single-project files of these versions have no `importers`: the root's
//! `dependencies`/`devDependencies`/`optionalDependencies` (and 5.x's
//! `specifiers`) sit at the top level.

use palisade_core::{Package, Warning};

use super::keys::{legacy_ref_to_key, parse_legacy_key};
use super::text::Section;
use super::yaml::{Map, Node};
use super::{classify, dependency_refs, flag, string, DependencyKind, DocumentContext, Edge, Graph};

pub(crate) fn read(document: &Map<'_>, v6: bool, context: &DocumentContext<'_>, graph: &mut Graph) {
    read_importers(document, v6, context, graph);
    let Some(packages) = document.get("packages") else {
        return;
    };
    let Some(packages) = packages.as_mapping() else {
        if !packages.is_null() {
            graph
                .warnings
                .push(Warning::new("`packages` is not a mapping; no package was read"));
        }
        return;
    };
    for (key, entry) in packages.iter() {
        let line = context.line(Section::Packages, key);
        let warn = |message: String| match line {
            Some(line) => Warning::at_line(message, line),
            None => Warning::new(message),
        };
        let empty = Map::default();
        let entry = match entry {
            Node::Map(entry) => entry,
            other if other.is_null() => &empty,
            _ => {
                graph
                    .warnings
                    .push(warn(format!("package `{key}` is not a mapping; entry skipped")));
                continue;
            }
        };
        // Non-registry packages (git, tarball, `file:`) record `name` and
        // `version`; registry packages are spelled by their key alone.
        let from_key = parse_legacy_key(key, v6);
        let (name, version) = match (string(entry, "name"), string(entry, "version")) {
            (Some(name), Some(version)) => (name.to_string(), version.to_string()),
            // pnpm 8 itself derives no version for these: a `file:` directory
            // is local code (a fixture or vendored package), not a download.
            (Some(_), None) if key.starts_with("file:") => continue,
            (Some(name), None) => {
                graph.warnings.push(warn(format!(
                    "package `{key}` names `{name}` but records no version; entry skipped"
                )));
                continue;
            }
            (None, _) => match from_key.clone() {
                Some(pair) => pair,
                None => {
                    graph.warnings.push(warn(format!(
                        "package key `{key}` spells no name and version and the entry has no `name`; entry skipped"
                    )));
                    continue;
                }
            },
        };
        let key_version = if key.starts_with("file:") { key } else { "" };
        let (source, resolved) = classify(
            entry.get("resolution").and_then(Node::as_mapping),
            from_key.is_some(),
            key_version,
        );
        let mut package = Package::new(name, version);
        package.source = source;
        package.resolved = resolved;
        package.integrity = entry
            .get("resolution")
            .and_then(Node::as_mapping)
            .and_then(|resolution| string(resolution, "integrity"))
            .map(str::to_string);
        package.dev = flag(entry, "dev");
        package.optional = flag(entry, "optional");
        // pnpm 5–8 record `requiresBuild: true` for packages with install scripts; v9 dropped it.
        package.has_install_script = flag(entry, "requiresBuild");
        package.line = line;

        let mut edges = Vec::new();
        let mut bad_fields = Vec::new();
        for field in ["dependencies", "optionalDependencies"] {
            for (dependency, reference) in dependency_refs(entry, field, |field| bad_fields.push(field.to_string())) {
                if let Some(target) = legacy_ref_to_key(reference, dependency, v6) {
                    edges.push(Edge {
                        name: dependency.to_string(),
                        target,
                    });
                }
            }
        }
        for field in bad_fields {
            graph.warnings.push(warn(format!(
                "package `{key}`: `{field}` has an entry that is not `name: version`"
            )));
        }
        graph.add(key.to_string(), package, edges);
    }
}

fn read_importers(document: &Map<'_>, v6: bool, context: &DocumentContext<'_>, graph: &mut Graph) {
    match document.get("importers").and_then(Node::as_mapping) {
        Some(importers) => {
            for (path, importer) in importers.iter() {
                let Some(importer) = importer.as_mapping() else {
                    continue;
                };
                read_importer(path, importer, v6, context, graph);
            }
        }
        None => read_importer(".", document, v6, context, graph),
    }
}

fn read_importer(path: &str, importer: &Map<'_>, v6: bool, context: &DocumentContext<'_>, graph: &mut Graph) {
    let fields = [
        ("dependencies", DependencyKind::Production),
        ("optionalDependencies", DependencyKind::Optional),
        ("devDependencies", DependencyKind::Development),
    ];
    graph.add_importer(context, path, importer, &fields, "name: version", |reference, name| {
        legacy_ref_to_key(reference, name, v6)
    });
}
