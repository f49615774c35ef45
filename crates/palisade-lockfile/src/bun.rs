//! `bun.lock`, bun's text lockfile (bun ≥ 1.1.39; default since 1.2),
//! `lockfileVersion` 0 or 1. The binary `bun.lockb` is not read.
//!
//! The file is JSON with trailing commas ([`jsonc`]). Its `packages` map is
//! keyed by install path (`"foo"`, nested `"parent/foo"`, workspace-scoped
//! `"@my/app/foo"`) and each value is a tuple whose shape depends on where the
//! package comes from (bun's `src/install/lockfile/bun.lock.zig`):
//!
//! ```text
//! npm        ["name@1.0.0", "registry-or-empty", INFO, "sha512-…"]
//! git        ["name@git+https://…#sha", INFO, "bun-tag"]
//! github     ["name@github:user/repo#sha", INFO, "bun-tag"]
//! tarball    ["name@https://…/x.tgz", INFO]     (or a local path)
//! folder     ["name@file:../x", INFO]
//! symlink    ["name@link:x", INFO]
//! workspace  ["name@workspace:packages/a"]      (project code: an importer)
//! root       ["name@root:", {bin, binDir}]      (the project itself)
//! ```
//!
//! The key is the name the package is installed under, so `"alias":
//! ["real@1.0.0", …]` is an alias of `real`. A package that is not from a
//! registry has no version in the lockfile; its version is the resolution
//! (`github:user/repo#sha`, `file:../x`), as bun itself prints it.

mod jsonc;

use std::collections::{HashMap, VecDeque};

use palisade_core::{Importer, Inventory, Package, PackageId, SourceKind, Warning};
use serde_json::{Map, Value};

use crate::LockfileError;

const SUPPORTED: &str = "0, 1";

pub(crate) fn extract(display_path: &str, contents: &str) -> Result<Inventory, LockfileError> {
    let contents = contents.strip_prefix('\u{feff}').unwrap_or(contents);
    let json = jsonc::to_json(contents);
    let value: Value = serde_json::from_str(&json).map_err(|error| {
        // serde_json appends " at line L column C"; the error already says where.
        let message = error.to_string();
        let message = match message.rfind(" at line ") {
            Some(index) if error.line() > 0 => message[..index].to_string(),
            _ => message,
        };
        LockfileError::Syntax {
            path: display_path.to_string(),
            line: error.line(),
            column: error.column(),
            message,
        }
    })?;
    let invalid = |message: &str| LockfileError::Invalid {
        path: display_path.to_string(),
        line: None,
        message: message.to_string(),
    };
    let root = value.as_object().ok_or_else(|| invalid("is not a JSON object"))?;
    let version = root
        .get("lockfileVersion")
        .ok_or_else(|| invalid("has no `lockfileVersion`: not a bun.lock"))?;
    let version = match version.as_u64() {
        Some(version @ (0 | 1)) => version,
        _ => {
            return Err(LockfileError::UnsupportedVersion {
                path: display_path.to_string(),
                found: version.to_string(),
                supported: SUPPORTED,
            })
        }
    };

    let mut inventory = Inventory::new(display_path, format!("bun-v{version}"));
    let lines = package_lines(contents);
    let workspaces = read_workspaces(root, &mut inventory);
    let graph = read_packages(root, &workspaces, &lines, &mut inventory);
    graph.finish(&workspaces, &mut inventory);
    Ok(inventory)
}

struct Workspace {
    path: String,
    name: Option<String>,
    /// (name, kind) of the declared dependencies.
    dependencies: Vec<(String, DependencyKind)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DependencyKind {
    Production,
    Development,
    Optional,
}

fn read_workspaces(root: &Map<String, Value>, inventory: &mut Inventory) -> Vec<Workspace> {
    let mut workspaces = Vec::new();
    let Some(value) = root.get("workspaces") else {
        inventory
            .warnings
            .push(Warning::new("no `workspaces`: direct dependencies are unknown"));
        return workspaces;
    };
    let Some(map) = value.as_object() else {
        inventory
            .warnings
            .push(Warning::new("`workspaces` is not an object and was not read"));
        return workspaces;
    };
    for (path, workspace) in map {
        let Some(workspace) = workspace.as_object() else {
            inventory.warnings.push(Warning::new(format!(
                "workspace `{path}` is not an object and was not read"
            )));
            continue;
        };
        let mut dependencies = Vec::new();
        for (field, kind) in [
            ("dependencies", DependencyKind::Production),
            ("peerDependencies", DependencyKind::Production),
            ("optionalDependencies", DependencyKind::Optional),
            ("devDependencies", DependencyKind::Development),
        ] {
            if let Some(names) = workspace.get(field).and_then(Value::as_object) {
                dependencies.extend(names.keys().map(|name| (name.clone(), kind)));
            }
        }
        workspaces.push(Workspace {
            path: path.clone(),
            name: workspace.get("name").and_then(Value::as_str).map(str::to_string),
            dependencies,
        });
    }
    workspaces
}

struct Node {
    key: String,
    package: Package,
    /// (dependency name, optional edge)
    edges: Vec<(String, bool)>,
}

#[derive(Default)]
struct Graph {
    nodes: Vec<Node>,
    by_key: HashMap<String, usize>,
    /// Keys of entries that are workspace members or the root: dependencies on
    /// them are workspace links, not packages.
    project_keys: std::collections::HashSet<String>,
}

fn read_packages(
    root: &Map<String, Value>,
    workspaces: &[Workspace],
    lines: &HashMap<String, u32>,
    inventory: &mut Inventory,
) -> Graph {
    let mut graph = Graph::default();
    let Some(value) = root.get("packages") else {
        return graph;
    };
    let Some(packages) = value.as_object() else {
        inventory
            .warnings
            .push(Warning::new("`packages` is not an object; no package was read"));
        return graph;
    };
    for (key, entry) in packages {
        let line = lines.get(key).copied();
        let warn = |message: String| match line {
            Some(line) => Warning::at_line(message, line),
            None => Warning::new(message),
        };
        let Some(tuple) = entry.as_array() else {
            inventory
                .warnings
                .push(warn(format!("package `{key}` is not an array; entry skipped")));
            continue;
        };
        let Some(ident) = tuple.first().and_then(Value::as_str) else {
            inventory.warnings.push(warn(format!(
                "package `{key}` does not start with a \"name@version\" string; entry skipped"
            )));
            continue;
        };
        let Some(at) = ident.get(1..).and_then(|rest| rest.find('@')).map(|index| index + 1) else {
            inventory.warnings.push(warn(format!(
                "package `{key}`: `{ident}` is not \"name@resolution\"; entry skipped"
            )));
            continue;
        };
        let (name, resolution) = (&ident[..at], &ident[at + 1..]);
        if name.is_empty() || resolution.is_empty() {
            inventory.warnings.push(warn(format!(
                "package `{key}`: `{ident}` is not \"name@resolution\"; entry skipped"
            )));
            continue;
        }
        if resolution.starts_with("workspace:") || resolution.starts_with("root:") {
            graph.project_keys.insert(key.clone());
            continue;
        }

        let mut package = Package::new(name, resolution);
        package.line = line;
        package.paths = vec![install_path(key, workspaces)];
        // npm tuples carry the registry as a string in second place; every
        // other shape has the INFO object there.
        let info = if let Some(registry) = tuple.get(1).and_then(Value::as_str) {
            package.source = SourceKind::Registry;
            package.resolved = (!registry.is_empty()).then(|| registry.to_string());
            package.integrity = tuple
                .get(3)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            tuple.get(2)
        } else {
            let (source, resolved) = classify(resolution);
            package.source = source;
            package.resolved = resolved;
            tuple.get(1)
        };
        let mut edges = Vec::new();
        match info {
            Some(Value::Object(info)) => {
                let optional_peers: Vec<&str> = info
                    .get("optionalPeers")
                    .and_then(Value::as_array)
                    .map(|peers| peers.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                for (field, optional) in [
                    ("dependencies", false),
                    ("peerDependencies", false),
                    ("optionalDependencies", true),
                ] {
                    if let Some(names) = info.get(field).and_then(Value::as_object) {
                        for dependency in names.keys() {
                            let optional = optional || optional_peers.contains(&dependency.as_str());
                            edges.push((dependency.clone(), optional));
                        }
                    }
                }
            }
            None | Some(Value::Null) => {}
            Some(_) => inventory.warnings.push(warn(format!(
                "package `{key}`: dependency information is not an object; its dependencies were not read"
            ))),
        }
        let index = graph.nodes.len();
        graph.by_key.insert(key.clone(), index);
        graph.nodes.push(Node {
            key: key.clone(),
            package,
            edges,
        });
    }
    graph
}

/// Source and `resolved` of a non-npm resolution.
fn classify(resolution: &str) -> (SourceKind, Option<String>) {
    let source = if resolution.starts_with("file:") {
        SourceKind::File
    } else if resolution.starts_with("link:") {
        SourceKind::Link
    } else if resolution.starts_with("github:")
        || resolution.starts_with("git+")
        || resolution.starts_with("git:")
        || resolution.starts_with("gitlab:")
        || resolution.starts_with("bitbucket:")
    {
        SourceKind::Git
    } else if resolution.starts_with("http://") || resolution.starts_with("https://") {
        SourceKind::Tarball
    } else {
        // A local tarball path (`./vendor/x.tgz`).
        SourceKind::File
    };
    (source, Some(resolution.to_string()))
}

/// The package-name segments of a key: `@s/a/b` is `["@s/a", "b"]`.
fn key_names(key: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = key;
    while !rest.is_empty() {
        let end = if rest.starts_with('@') {
            rest.find('/')
                .and_then(|slash| rest[slash + 1..].find('/').map(|next| slash + 1 + next))
                .unwrap_or(rest.len())
        } else {
            rest.find('/').unwrap_or(rest.len())
        };
        names.push(&rest[..end]);
        rest = rest.get(end + 1..).unwrap_or("");
    }
    names
}

/// Where bun installs the package: `node_modules/a/node_modules/b`, or under
/// a workspace member when the key starts with that member's name.
fn install_path(key: &str, workspaces: &[Workspace]) -> String {
    let names = key_names(key);
    if names.len() > 1 {
        if let Some(workspace) = workspaces.iter().find(|w| w.name.as_deref() == names.first().copied()) {
            if !workspace.path.is_empty() {
                return format!("{}/node_modules/{}", workspace.path, names[1..].join("/node_modules/"));
            }
        }
    }
    format!("node_modules/{}", names.join("/node_modules/"))
}

impl Graph {
    /// The key bun installed `dependency` at for a package at `from`: the
    /// nearest enclosing key, as Node's resolution walks up node_modules.
    fn resolve(&self, from: &str, dependency: &str) -> Option<Resolved> {
        let mut prefix = from;
        loop {
            let candidate = if prefix.is_empty() {
                dependency.to_string()
            } else {
                format!("{prefix}/{dependency}")
            };
            if let Some(&index) = self.by_key.get(&candidate) {
                return Some(Resolved::Package(index));
            }
            if self.project_keys.contains(&candidate) {
                return Some(Resolved::Project);
            }
            if prefix.is_empty() {
                return None;
            }
            let names = key_names(prefix);
            let parent_len = names[..names.len() - 1]
                .iter()
                .map(|name| name.len() + 1)
                .sum::<usize>();
            prefix = &prefix[..parent_len.saturating_sub(1)];
        }
    }

    fn finish(mut self, workspaces: &[Workspace], inventory: &mut Inventory) {
        // Edges of each package, resolved to node indexes.
        let mut resolved_edges: Vec<Vec<(usize, bool)>> = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            let mut edges = Vec::new();
            for (dependency, optional) in &node.edges {
                if let Some(Resolved::Package(index)) = self.resolve(&node.key, dependency) {
                    edges.push((index, *optional));
                }
            }
            resolved_edges.push(edges);
        }
        let mut aliases: Vec<Vec<String>> = vec![Vec::new(); self.nodes.len()];
        let mut roots: Vec<(usize, DependencyKind)> = Vec::new();
        for workspace in workspaces {
            let prefix = match &workspace.name {
                Some(name) if !workspace.path.is_empty() => name.as_str(),
                _ => "",
            };
            let mut dependencies = Vec::new();
            for (dependency, kind) in &workspace.dependencies {
                if let Some(Resolved::Package(index)) = self.resolve(prefix, dependency) {
                    roots.push((index, *kind));
                    dependencies.push(self.nodes[index].package.id());
                    if &self.nodes[index].package.name != dependency {
                        aliases[index].push(dependency.clone());
                    }
                }
            }
            inventory.importers.push(Importer {
                path: workspace.path.clone(),
                name: workspace.name.clone(),
                dependencies,
            });
        }
        for node in &self.nodes {
            let installed_name = key_names(&node.key).last().copied().unwrap_or_default();
            if installed_name != node.package.name {
                if let Some(&index) = self.by_key.get(&node.key) {
                    aliases[index].push(installed_name.to_string());
                }
            }
        }

        let reach = |roots: &mut dyn Iterator<Item = usize>, follow_optional: bool| {
            let mut seen = vec![false; self.nodes.len()];
            let mut queue: VecDeque<usize> = roots.collect();
            while let Some(index) = queue.pop_front() {
                if std::mem::replace(&mut seen[index], true) {
                    continue;
                }
                for &(next, optional) in &resolved_edges[index] {
                    if (follow_optional || !optional) && !seen[next] {
                        queue.push_back(next);
                    }
                }
            }
            seen
        };
        let production = reach(
            &mut roots
                .iter()
                .filter(|(_, kind)| *kind != DependencyKind::Development)
                .map(|(index, _)| *index),
            true,
        );
        let development = reach(
            &mut roots
                .iter()
                .filter(|(_, kind)| *kind == DependencyKind::Development)
                .map(|(index, _)| *index),
            true,
        );
        let required = reach(
            &mut roots
                .iter()
                .filter(|(_, kind)| *kind != DependencyKind::Optional)
                .map(|(index, _)| *index),
            false,
        );

        let ids: Vec<PackageId> = self.nodes.iter().map(|node| node.package.id()).collect();
        for (index, node) in self.nodes.iter_mut().enumerate() {
            let reachable = production[index] || development[index];
            node.package.dev = development[index] && !production[index];
            node.package.optional = reachable && !required[index];
            node.package.dependencies = resolved_edges[index]
                .iter()
                .map(|(next, _)| ids[*next].clone())
                .collect();
            node.package.aliases = std::mem::take(&mut aliases[index]);
        }
        inventory
            .packages
            .extend(self.nodes.into_iter().map(|node| node.package));
    }
}

enum Resolved {
    Package(usize),
    /// A workspace member or the root: a link, not a package.
    Project,
}

/// Line of every `packages` key. bun writes the section as `  "packages": {`
/// with one entry per line indented by four spaces.
fn package_lines(contents: &str) -> HashMap<String, u32> {
    let mut lines = HashMap::new();
    let mut in_packages = false;
    for (number, line) in contents.lines().enumerate() {
        if !in_packages {
            in_packages = line.trim_start().starts_with("\"packages\"") && line.starts_with("  \"");
            continue;
        }
        if line.starts_with("  }") {
            break;
        }
        let Some(rest) = line.strip_prefix("    \"") else {
            continue;
        };
        // Keys are package paths: no escapes worth decoding.
        if let Some(end) = rest.find('"') {
            let line_number = u32::try_from(number + 1).unwrap_or(u32::MAX);
            lines.entry(rest[..end].to_string()).or_insert(line_number);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_split_scopes() {
        assert_eq!(key_names("a"), vec!["a"]);
        assert_eq!(key_names("@s/a/b"), vec!["@s/a", "b"]);
        assert_eq!(key_names("a/@s/b/c"), vec!["a", "@s/b", "c"]);
        assert_eq!(key_names("@s"), vec!["@s"]);
    }
}
