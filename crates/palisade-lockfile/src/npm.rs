//! npm lockfiles: `package-lock.json`, `npm-shrinkwrap.json` and the hidden
//! lockfile `node_modules/.package-lock.json`, versions 1, 2 and 3.
//!
//! v2 and v3 list every installed folder in `packages`, keyed by its path
//! (`node_modules/a/node_modules/b`); v2 also repeats the tree in the legacy
//! `dependencies` section, which is ignored here exactly as npm ignores it
//! when `packages` is present. v1 only has the nested `dependencies` tree and
//! is first flattened into the same shape ([`v1`]). What is a package then
//! follows @npmcli/arborist's `loadVirtual`, the code npm itself reads
//! lockfiles with (<https://docs.npmjs.com/cli/configuring-npm/package-lock-json>):
//!
//! - Every entry that is not the root, not a link and not a workspace member is
//!   one third-party package. Bundled (`inBundle`), `peer`, `extraneous` and
//!   nested copies all count; a name@version installed at several paths is one
//!   package with several `paths`.
//! - Workspace members are the entries the root's `workspaces` globs select
//!   (arborist's `mapWorkspaces.virtual`); with the root and every member they
//!   become [`Importer`]s. A hidden lockfile has no root entry and so no globs:
//!   there, every link target inside the project is taken for a member.
//! - A `link: true` entry is a symlink, never a package itself. Its target is
//!   a package with source `link` when it is not a workspace member (a `file:`
//!   directory dependency), reported at the target path and the link paths.
//! - An alias (`"node_modules/foo": {"name": "bar"}`) is the real package
//!   `bar` with `aliases: ["foo"]`.
//! - Flags: `dev` and `optional` as written. `devOptional` means the package
//!   is needed by dev *and* optional paths, so npm omits it only when both are
//!   omitted: neither `--omit dev` nor `--omit optional` alone drops it, so it
//!   is `dev: false, optional: false`.
//! - An entry with no version (and not a link or a v1 git/directory
//!   dependency, which record none) keeps an empty version, as arborist's node
//!   does, plus a warning; an entry that is not an object is a warning.

mod lines;
mod model;
mod spec;
mod v1;
mod workspaces;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use palisade_core::{Importer, Inventory, Package, PackageId, SourceKind, Warning};

use self::lines::KeyLines;
use self::model::{Entry, Scalar};
use crate::LockfileError;

const SUPPORTED_VERSIONS: &str = "1, 2, 3";

pub(crate) fn extract(display_path: &str, contents: &str) -> Result<Inventory, LockfileError> {
    let invalid = |message: String| LockfileError::Invalid {
        path: display_path.to_string(),
        line: None,
        message,
    };
    let root = model::parse(contents).map_err(|error| json_error(display_path, &error))?;
    if let Some(found) = root.malformed {
        return Err(invalid(format!("the lockfile is {found}, expected a JSON object")));
    }
    if let Some(found) = root.packages_not_object {
        return Err(invalid(format!("`packages` is {found}, expected an object")));
    }
    let version = match &root.lockfile_version {
        Some(Scalar::Integer(version @ 1..=3)) => *version,
        Some(Scalar::Integer(other)) => return Err(unsupported(display_path, other.to_string())),
        Some(Scalar::Other(other)) => return Err(unsupported(display_path, other.clone())),
        // npm-shrinkwrap.json from npm 3 and 4 predates `lockfileVersion`; it
        // is the v1 tree. Anything else without a version is not a lockfile.
        None if root.packages.is_none() && root.has_children => 1,
        None => return Err(invalid("missing `lockfileVersion` (npm writes 1, 2 or 3)".to_string())),
    };
    let format = format!("npm-v{version}");
    let mut lines = KeyLines::scan(contents);
    let mut root = root;
    match root.packages.take() {
        Some(packages) => Ok(from_packages(display_path, format, packages, &mut lines)),
        None if version == 1 || root.has_children => Ok(from_v1_tree(display_path, format, root, &mut lines)),
        None => Err(invalid(format!(
            "lockfileVersion {version} requires a `packages` object"
        ))),
    }
}

fn unsupported(display_path: &str, found: String) -> LockfileError {
    LockfileError::UnsupportedVersion {
        path: display_path.to_string(),
        found,
        supported: SUPPORTED_VERSIONS,
    }
}

/// Invalid JSON is a syntax error with serde_json's position; JSON that
/// parses but cannot be what it must be (not reachable with the lenient
/// model, kept for safety) is reported as invalid at that line.
fn json_error(display_path: &str, error: &serde_json::Error) -> LockfileError {
    let full = error.to_string();
    // serde_json appends " at line L column C"; the error carries those separately.
    let message = match full.rfind(" at line ") {
        Some(at) => full[..at].to_string(),
        None => full,
    };
    match error.classify() {
        serde_json::error::Category::Data => LockfileError::Invalid {
            path: display_path.to_string(),
            line: Some(error.line()),
            message,
        },
        _ => LockfileError::Syntax {
            path: display_path.to_string(),
            line: error.line(),
            column: error.column(),
            message,
        },
    }
}

/// One folder of the installed tree, the common shape of v1 and v2/v3 entries.
pub(super) struct Node<'a> {
    /// `""` for the root, else the path relative to the project root.
    location: Cow<'a, str>,
    /// The real package name when the lockfile records one (aliases, roots).
    name: Option<Cow<'a, str>>,
    version: Option<Cow<'a, str>>,
    resolved: Option<Cow<'a, str>>,
    integrity: Option<Cow<'a, str>>,
    link: bool,
    dev: bool,
    optional: bool,
    dev_optional: bool,
    /// Names of production, optional and peer dependencies.
    dependencies: Vec<Cow<'a, str>>,
    /// Names of dev dependencies (only installed for importers).
    dev_dependencies: Vec<Cow<'a, str>>,
    line: Option<u32>,
    /// Set when the v1 spec already said where the package comes from.
    source: Option<SourceKind>,
    problems: Vec<String>,
    malformed: Option<&'static str>,
}

impl<'a> Node<'a> {
    fn new(location: Cow<'a, str>) -> Self {
        Node {
            location,
            name: None,
            version: None,
            resolved: None,
            integrity: None,
            link: false,
            dev: false,
            optional: false,
            dev_optional: false,
            dependencies: Vec::new(),
            dev_dependencies: Vec::new(),
            line: None,
            source: None,
            problems: Vec::new(),
            malformed: None,
        }
    }

    fn malformed(location: Cow<'a, str>, line: Option<u32>, found: &'static str) -> Self {
        let mut node = Node::new(location);
        node.line = line;
        node.malformed = Some(found);
        node
    }

    fn from_entry(location: Cow<'a, str>, line: Option<u32>, entry: Entry<'a>) -> Self {
        if let Some(found) = entry.malformed {
            return Node::malformed(location, line, found);
        }
        let mut dependencies = entry.dependencies;
        dependencies.extend(entry.optional_dependencies);
        dependencies.extend(entry.peer_dependencies);
        Node {
            location,
            name: entry.name,
            version: entry.version,
            resolved: entry.resolved,
            integrity: entry.integrity,
            link: entry.link,
            dev: entry.dev,
            optional: entry.optional,
            dev_optional: entry.dev_optional,
            dependencies,
            dev_dependencies: entry.dev_dependencies,
            line,
            source: None,
            problems: entry.problems,
            malformed: None,
        }
    }
}

/// v2/v3 (and the hidden lockfile): the `packages` map.
fn from_packages<'a>(
    display_path: &str,
    format: String,
    packages: model::Entries<'a>,
    lines: &mut KeyLines<'_>,
) -> Inventory {
    let mut globs: Vec<Cow<'a, str>> = Vec::new();
    let mut nodes: Vec<Node<'a>> = Vec::with_capacity(packages.len());
    let mut seen: HashMap<Cow<'a, str>, usize> = HashMap::with_capacity(packages.len());
    let mut has_root = false;
    for (key, mut entry) in packages {
        let line = lines.next(&key);
        if key.is_empty() {
            has_root = true;
            globs = std::mem::take(&mut entry.workspaces);
        }
        let node = Node::from_entry(key.clone(), line, entry);
        // JSON.parse keeps the last of duplicate keys; so does npm.
        match seen.get(&key) {
            Some(&index) => nodes[index] = node,
            None => {
                seen.insert(key, nodes.len());
                nodes.push(node);
            }
        }
    }
    let globs: Vec<&str> = globs.iter().map(|glob| glob.as_ref()).collect();
    assemble(display_path, format, &nodes, &globs, !has_root)
}

/// v1: the nested `dependencies` tree.
fn from_v1_tree<'a>(display_path: &str, format: String, mut root: Entry<'a>, lines: &mut KeyLines<'_>) -> Inventory {
    let mut root_node = Node::new(Cow::Borrowed(""));
    root_node.name = root.name.take();
    root_node.version = root.version.take();
    let mut nodes = vec![root_node];
    v1::flatten("", std::mem::take(&mut root.children), &mut nodes, lines);
    // Nested directory links can name a target twice; keep the first.
    let mut seen = HashSet::new();
    nodes.retain(|node| seen.insert(node.location.to_string()));
    assemble(display_path, format, &nodes, &[], false)
}

/// The resolved tree: nodes by location, links and workspace members known.
struct Tree<'n, 'a> {
    nodes: &'n [Node<'a>],
    index: HashMap<&'n str, usize>,
    /// For a link node, the index of its target.
    link_target: HashMap<usize, usize>,
}

impl Tree<'_, '_> {
    /// Node's module resolution from the folder at `from`: its own
    /// `node_modules`, then each enclosing package's, up to the root.
    fn resolve(&self, from: &str, name: &str, buffer: &mut String) -> Option<usize> {
        let mut base = Some(from);
        while let Some(directory) = base {
            buffer.clear();
            if !directory.is_empty() {
                buffer.push_str(directory);
                buffer.push('/');
            }
            buffer.push_str("node_modules/");
            buffer.push_str(name);
            if let Some(&found) = self.index.get(buffer.as_str()) {
                return Some(self.link_target.get(&found).copied().unwrap_or(found));
            }
            base = parent_directory(directory);
        }
        None
    }

    fn id(&self, index: usize) -> PackageId {
        let node = &self.nodes[index];
        PackageId::new(package_name(node), node.version.as_deref().unwrap_or(""))
    }

    fn resolve_all<'d>(&self, from: &str, names: impl Iterator<Item = &'d str>, buffer: &mut String) -> Vec<PackageId> {
        names
            .filter_map(|name| self.resolve(from, name, buffer))
            .map(|index| self.id(index))
            .collect()
    }
}

/// The folder whose `node_modules` is searched next: the package enclosing
/// `location`, the root for a folder inside the project, nothing for the root
/// or a folder outside the project.
fn parent_directory(location: &str) -> Option<&str> {
    if location.is_empty() {
        return None;
    }
    match last_node_modules(location) {
        Some(at) => Some(location[..at].strip_suffix('/').unwrap_or("")),
        None if location.starts_with("../") || location == ".." || location.starts_with('/') => None,
        None => Some(""),
    }
}

/// Byte offset of the last `node_modules/` path segment in `location`.
fn last_node_modules(location: &str) -> Option<usize> {
    let mut end = location.len();
    while let Some(at) = location[..end].rfind("node_modules/") {
        if at == 0 || location.as_bytes()[at - 1] == b'/' {
            return Some(at);
        }
        end = at;
    }
    None
}

/// The name a folder gives a package: what follows the last `node_modules/`,
/// or for other folders the basename with its `@scope` (arborist's
/// `nameFromFolder`).
fn folder_name(location: &str) -> &str {
    if let Some(at) = last_node_modules(location) {
        return &location[at + "node_modules/".len()..];
    }
    let trimmed = location.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(slash) => {
            let base = &trimmed[slash + 1..];
            let parent = &trimmed[..slash];
            let scope_start = parent.rfind('/').map_or(0, |at| at + 1);
            if parent[scope_start..].starts_with('@') {
                &trimmed[scope_start..]
            } else {
                base
            }
        }
        None => trimmed,
    }
}

fn package_name<'n>(node: &'n Node<'_>) -> &'n str {
    node.name
        .as_deref()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| folder_name(&node.location))
}

fn is_inside_node_modules(location: &str) -> bool {
    last_node_modules(location).is_some()
}

fn assemble(display_path: &str, format: String, nodes: &[Node<'_>], globs: &[&str], hidden: bool) -> Inventory {
    let mut inventory = Inventory::new(display_path, format);
    let index: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(position, node)| (node.location.as_ref(), position))
        .collect();

    // Links: where each points, and the link paths of each target.
    let mut link_target = HashMap::new();
    let mut linked_from: HashMap<usize, Vec<usize>> = HashMap::new();
    for (position, node) in nodes.iter().enumerate() {
        if !node.link {
            continue;
        }
        let Some(resolved) = node.resolved.as_deref() else {
            inventory.warnings.push(warning(
                node,
                format!("link `{}` has no `resolved` target", node.location),
            ));
            continue;
        };
        let target = spec::normalize_relative(resolved.strip_prefix("file:").unwrap_or(resolved));
        match index.get(target.as_str()) {
            Some(&target_index) if target_index != position => {
                link_target.insert(position, target_index);
                linked_from.entry(target_index).or_default().push(position);
            }
            _ => inventory.warnings.push(warning(
                node,
                format!(
                    "link `{}` points to `{target}`, which has no entry in the lockfile",
                    node.location
                ),
            )),
        }
    }

    let members: HashSet<&str> = if hidden {
        // No root entry, so no globs: in-project link targets are members.
        link_target
            .values()
            .map(|&target| nodes[target].location.as_ref())
            .filter(|location| {
                !is_inside_node_modules(location) && !location.starts_with("..") && !location.starts_with('/')
            })
            .collect()
    } else {
        workspaces::members(globs, nodes.iter().map(|node| node.location.as_ref()))
    };

    let tree = Tree {
        nodes,
        index,
        link_target,
    };
    let mut buffer = String::new();
    for (position, node) in nodes.iter().enumerate() {
        for problem in &node.problems {
            inventory
                .warnings
                .push(warning(node, format!("`{}`: {problem}", node.location)));
        }
        if node.location.is_empty() || node.link || members.contains(node.location.as_ref()) {
            continue;
        }
        if let Some(found) = node.malformed {
            inventory.warnings.push(warning(
                node,
                format!(
                    "entry `{}` is {found}, expected an object; it was skipped",
                    node.location
                ),
            ));
            continue;
        }
        let links = linked_from.get(&position).map(Vec::as_slice).unwrap_or_default();
        inventory
            .packages
            .push(package(&tree, position, links, &mut inventory.warnings, &mut buffer));
    }

    if !hidden {
        if let Some(&root) = tree.index.get("") {
            let node = &nodes[root];
            inventory.importers.push(Importer {
                path: String::new(),
                name: node.name.as_deref().map(str::to_string),
                dependencies: importer_dependencies(&tree, node, &mut buffer),
            });
        }
    }
    for member in &members {
        if let Some(&position) = tree.index.get(member) {
            let node = &nodes[position];
            inventory.importers.push(Importer {
                path: node.location.to_string(),
                name: Some(package_name(node).to_string()),
                dependencies: importer_dependencies(&tree, node, &mut buffer),
            });
        }
    }
    inventory
}

fn importer_dependencies(tree: &Tree<'_, '_>, node: &Node<'_>, buffer: &mut String) -> Vec<PackageId> {
    let names = node
        .dependencies
        .iter()
        .chain(&node.dev_dependencies)
        .map(|name| name.as_ref());
    tree.resolve_all(&node.location, names, buffer)
}

fn warning(node: &Node<'_>, message: String) -> Warning {
    Warning {
        message,
        line: node.line,
    }
}

fn package(
    tree: &Tree<'_, '_>,
    position: usize,
    links: &[usize],
    warnings: &mut Vec<Warning>,
    buffer: &mut String,
) -> Package {
    let node = &tree.nodes[position];
    let name = package_name(node);
    let mut package = Package::new(name, node.version.as_deref().unwrap_or(""));
    package.integrity = node.integrity.as_deref().map(str::to_string);
    package.line = node.line;
    package.dev = node.dev && !node.dev_optional;
    package.optional = node.optional && !node.dev_optional;

    let local_directory = !links.is_empty() || !is_inside_node_modules(&node.location);
    package.source = match (node.source, node.resolved.as_deref()) {
        (Some(source), _) => source,
        _ if local_directory => SourceKind::Link,
        (None, None) => SourceKind::Registry,
        (None, Some(resolved)) => spec::source_of_resolved(resolved).unwrap_or_else(|| {
            warnings.push(warning(
                node,
                format!("`{}`: unrecognised `resolved` value `{resolved}`", node.location),
            ));
            SourceKind::Registry
        }),
    };
    package.resolved = match node.resolved.as_deref() {
        Some(resolved) => Some(resolved.to_string()),
        None if package.source == SourceKind::Link => Some(format!("file:{}", node.location)),
        None => None,
    };
    if node.version.is_none() && !matches!(package.source, SourceKind::Git | SourceKind::Link) {
        warnings.push(warning(node, format!("`{}` has no version", node.location)));
    }

    package.paths.push(node.location.to_string());
    for &link in links {
        package.paths.push(tree.nodes[link].location.to_string());
    }
    for location in &package.paths {
        if is_inside_node_modules(location) {
            let installed_as = folder_name(location);
            if installed_as != name {
                package.aliases.push(installed_as.to_string());
            }
        }
    }
    let names = node.dependencies.iter().map(|name| name.as_ref());
    package.dependencies = tree.resolve_all(&node.location, names, buffer);
    package
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names() {
        assert_eq!(folder_name("node_modules/a"), "a");
        assert_eq!(folder_name("node_modules/a/node_modules/@s/b"), "@s/b");
        assert_eq!(folder_name("packages/x"), "x");
        assert_eq!(folder_name("packages/@s/x"), "@s/x");
        assert_eq!(folder_name("../lib"), "lib");
        assert_eq!(folder_name("node_modules/x-node_modules/y"), "x-node_modules/y");
    }

    #[test]
    fn parents_walk_up_to_the_root() {
        assert_eq!(
            parent_directory("node_modules/a/node_modules/b"),
            Some("node_modules/a")
        );
        assert_eq!(parent_directory("node_modules/a"), Some(""));
        assert_eq!(parent_directory("packages/a"), Some(""));
        assert_eq!(parent_directory("packages/a/node_modules/b"), Some("packages/a"));
        assert_eq!(parent_directory("../lib"), None);
        assert_eq!(parent_directory(""), None);
    }
}
