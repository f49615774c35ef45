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
//!   there, every link target inside the project is taken for a member. v1
//!   does not record the root's direct dependencies; its root importer lists
//!   the top-level packages that nothing else requires.
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
use std::hash::{BuildHasherDefault, Hasher};

use palisade_core::{Importer, Inventory, Package, PackageId, SourceKind, Warning};

use self::lines::LineIndex;
use self::model::{Entry, Scalar};
use crate::LockfileError;

const SUPPORTED_VERSIONS: &str = "1, 2, 3";

/// FxHash (as in rustc): lockfile paths are hashed hundreds of thousands of
/// times while resolving edges, and SipHash's DoS resistance buys nothing
/// here: a hostile lockfile already controls the size of the work.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        for byte in chunks.remainder() {
            self.add(u64::from(*byte));
        }
    }
    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }
    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

pub(crate) fn extract(display_path: &str, contents: &str) -> Result<Inventory, LockfileError> {
    // npm reads lockfiles through json-parse-even-better-errors, which drops a
    // byte-order mark; editors on Windows add one.
    let contents = contents.strip_prefix('\u{feff}').unwrap_or(contents);
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
    let mut lines = LineIndex::new(contents);
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
    has_install_script: bool,
    in_bundle: bool,
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
            has_install_script: false,
            in_bundle: false,
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
            has_install_script: entry.has_install_script,
            in_bundle: entry.in_bundle,
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
    lines: &mut LineIndex<'_>,
) -> Inventory {
    let mut globs: Vec<Cow<'a, str>> = Vec::new();
    let mut nodes: Vec<Node<'a>> = Vec::with_capacity(packages.len());
    let mut has_root = false;
    for (key, mut entry) in packages {
        let line = lines.line_of(&key);
        if key.is_empty() {
            has_root = true;
            globs = std::mem::take(&mut entry.workspaces);
        }
        // Duplicate keys are settled in `assemble`: the last one wins, as with JSON.parse.
        nodes.push(Node::from_entry(key, line, entry));
    }
    let globs: Vec<&str> = globs.iter().map(|glob| glob.as_ref()).collect();
    let root = if has_root { Root::Recorded } else { Root::Missing };
    assemble(display_path, format, &nodes, &globs, root)
}

/// A folder of an installed `node_modules` tree, for the walker: a package
/// read from its `package.json`, or a symlink to another folder.
pub(crate) struct Folder {
    /// Path relative to the project directory, `/`-separated; `""` for the project itself.
    pub(crate) location: String,
    pub(crate) manifest: Option<Manifest>,
    /// For a symlink: the target, relative to the project directory.
    pub(crate) link_target: Option<String>,
    pub(crate) line: Option<u32>,
}

/// What the walker keeps of a `package.json`.
pub(crate) struct Manifest {
    pub(crate) name: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) resolved: Option<String>,
    pub(crate) integrity: Option<String>,
    pub(crate) dependencies: Vec<String>,
    pub(crate) dev_dependencies: Vec<String>,
    pub(crate) problems: Vec<String>,
}

/// Read a `package.json` with the lockfile's lenient model: the fields the
/// walker needs, wrong types as problems, invalid JSON as an error message.
pub(crate) fn read_manifest(contents: &str) -> Result<Manifest, String> {
    let entry = model::parse(contents).map_err(|error| error.to_string())?;
    if let Some(found) = entry.malformed {
        return Err(format!("it is {found}, expected a JSON object"));
    }
    let owned = |names: Vec<Cow<'_, str>>| names.into_iter().map(Cow::into_owned).collect::<Vec<_>>();
    let mut dependencies = owned(entry.dependencies);
    dependencies.extend(owned(entry.optional_dependencies));
    dependencies.extend(owned(entry.peer_dependencies));
    Ok(Manifest {
        name: entry.name.map(Cow::into_owned),
        version: entry.version.map(Cow::into_owned),
        resolved: entry.resolved.map(Cow::into_owned),
        integrity: entry.integrity.map(Cow::into_owned),
        dependencies,
        dev_dependencies: owned(entry.dev_dependencies),
        problems: entry.problems,
    })
}

/// The inventory of an installed tree, resolved exactly like a lockfile's
/// `packages` map: installed packages come from the registry unless their
/// `_resolved` says otherwise, whatever symlinks point at them.
pub(crate) fn inventory_of_folders(display_path: &str, format: &str, folders: Vec<Folder>) -> Inventory {
    let nodes: Vec<Node<'static>> = folders
        .into_iter()
        .map(|folder| {
            let mut node = Node::new(Cow::Owned(folder.location));
            node.line = folder.line;
            if let Some(target) = folder.link_target {
                node.link = true;
                node.resolved = Some(Cow::Owned(target));
            }
            if let Some(manifest) = folder.manifest {
                node.source = Some(
                    manifest
                        .resolved
                        .as_deref()
                        .and_then(spec::source_of_resolved)
                        .unwrap_or(SourceKind::Registry),
                );
                node.name = manifest.name.map(Cow::Owned);
                node.version = manifest.version.map(Cow::Owned);
                node.resolved = manifest.resolved.map(Cow::Owned);
                node.integrity = manifest.integrity.map(Cow::Owned);
                node.dependencies = manifest.dependencies.into_iter().map(Cow::Owned).collect();
                node.dev_dependencies = manifest.dev_dependencies.into_iter().map(Cow::Owned).collect();
                node.problems = manifest.problems;
            }
            node
        })
        .collect();
    assemble(display_path, format.to_string(), &nodes, &[], Root::Recorded)
}

/// v1: the nested `dependencies` tree.
fn from_v1_tree<'a>(display_path: &str, format: String, mut root: Entry<'a>, lines: &mut LineIndex<'_>) -> Inventory {
    let mut root_node = Node::new(Cow::Borrowed(""));
    root_node.name = root.name.take();
    root_node.version = root.version.take();
    let mut nodes = vec![root_node];
    v1::flatten(
        "",
        std::mem::take(&mut root.children),
        &mut nodes,
        &mut HashSet::new(),
        lines,
    );
    // Nested directory links can name a target twice; keep the first.
    let mut seen = HashSet::new();
    nodes.retain(|node| seen.insert(node.location.to_string()));
    assemble(display_path, format, &nodes, &[], Root::WithoutDependencies)
}

/// The resolved tree: nodes by location, links known.
struct Tree<'n, 'a> {
    nodes: &'n [Node<'a>],
    index: FastMap<&'n str, usize>,
    /// For a link node, the index of its target.
    link_target: FastMap<usize, usize>,
    /// Whether a folder has entries in its own `node_modules`.
    has_nested: Vec<bool>,
}

impl Tree<'_, '_> {
    /// Node's module resolution from the folder at `from`: its own
    /// `node_modules`, then each enclosing package's, up to the root.
    /// Links resolve to their targets.
    fn resolve(&self, from: usize, name: &str, buffer: &mut String) -> Option<usize> {
        let location = self.nodes[from].location.as_ref();
        // Most folders have no `node_modules` of their own: start above them.
        let mut base = if self.has_nested[from] {
            Some(location)
        } else {
            parent_directory(location)
        };
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

    /// Resolve `names` from `from` into `targets` (node indices).
    fn resolve_into<'d>(
        &self,
        from: usize,
        names: impl Iterator<Item = &'d str>,
        targets: &mut Vec<usize>,
        buffer: &mut String,
    ) {
        targets.extend(names.filter_map(|name| self.resolve(from, name, buffer)));
    }
}

/// Package ids of nodes, built once per distinct name@version: a package
/// installed at many paths is the target of many edges.
struct Ids {
    /// Node index → index into `ids`.
    of_node: Vec<usize>,
    ids: Vec<PackageId>,
}

impl Ids {
    fn new(nodes: &[Node<'_>], names: &[&str]) -> Self {
        let mut slots: FastMap<(&str, &str), usize> = FastMap::default();
        let mut ids = Vec::new();
        let of_node = nodes
            .iter()
            .zip(names)
            .map(|(node, &name)| {
                let version = node.version.as_deref().unwrap_or("");
                *slots.entry((name, version)).or_insert_with(|| {
                    ids.push(PackageId::new(name, version));
                    ids.len() - 1
                })
            })
            .collect();
        Ids { of_node, ids }
    }

    /// Node indices to sorted, unique package ids.
    fn of(&self, targets: Vec<usize>) -> Vec<PackageId> {
        let mut slots: Vec<usize> = targets.into_iter().map(|target| self.of_node[target]).collect();
        slots.sort_unstable();
        slots.dedup();
        let mut ids: Vec<PackageId> = slots.into_iter().map(|slot| self.ids[slot].clone()).collect();
        ids.sort();
        ids
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

/// Byte offset of the last `node_modules` segment in `location` that has a
/// segment after it (hot: called for every node and edge, so a backwards
/// byte scan rather than a substring search).
fn last_node_modules(location: &str) -> Option<usize> {
    const SEGMENT: &[u8] = b"node_modules";
    let bytes = location.as_bytes();
    let mut end = bytes.len();
    while let Some(slash) = bytes[..end].iter().rposition(|byte| *byte == b'/') {
        let start = slash.checked_sub(SEGMENT.len())?;
        if &bytes[start..slash] == SEGMENT && (start == 0 || bytes[start - 1] == b'/') {
            return Some(start);
        }
        end = slash;
    }
    None
}

/// The name a folder gives a package: its basename, with the parent folder
/// when that is an `@scope` (arborist's `nameFromFolder`, which it applies to
/// every location, `.pnpm` store paths included).
fn folder_name(location: &str) -> &str {
    let trimmed = location.trim_end_matches('/');
    let Some(slash) = trimmed.rfind('/') else {
        return trimmed;
    };
    let base = &trimmed[slash + 1..];
    let parent = &trimmed[..slash];
    let scope_start = parent.rfind('/').map_or(0, |at| at + 1);
    if parent[scope_start..].starts_with('@') {
        &trimmed[scope_start..]
    } else {
        base
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

/// What the lockfile says about the root project.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Root {
    /// A root entry with its dependencies (v2, v3, an installed tree).
    Recorded,
    /// v1: the root exists but its direct dependencies are not recorded.
    WithoutDependencies,
    /// The hidden lockfile: no root entry at all.
    Missing,
}

fn assemble(display_path: &str, format: String, nodes: &[Node<'_>], globs: &[&str], root: Root) -> Inventory {
    let hidden = root == Root::Missing;
    let mut inventory = Inventory::new(display_path, format);
    let mut index: FastMap<&str, usize> = FastMap::default();
    index.reserve(nodes.len());
    // JSON.parse keeps the last of duplicate keys, and so npm does.
    let mut superseded = vec![false; nodes.len()];
    for (position, node) in nodes.iter().enumerate() {
        if let Some(previous) = index.insert(node.location.as_ref(), position) {
            superseded[previous] = true;
        }
    }
    let names: Vec<&str> = nodes.iter().map(package_name).collect();

    // Links: where each points, and the link paths of each target.
    let mut link_target = FastMap::default();
    let mut linked_from: FastMap<usize, Vec<usize>> = FastMap::default();
    for (position, node) in nodes.iter().enumerate() {
        if !node.link || superseded[position] {
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
        if globs.len() > workspaces::MAX_GLOBS {
            inventory.warnings.push(Warning::new(format!(
                "the root lists {} `workspaces` globs; only the first {} were used",
                globs.len(),
                workspaces::MAX_GLOBS
            )));
        }
        workspaces::members(globs, nodes.iter().map(|node| node.location.as_ref()))
    };

    let mut has_nested = vec![false; nodes.len()];
    for node in nodes {
        if let Some(&parent) =
            last_node_modules(&node.location).and_then(|at| index.get(node.location[..at].trim_end_matches('/')))
        {
            has_nested[parent] = true;
        }
    }
    let tree = Tree {
        nodes,
        index,
        link_target,
        has_nested,
    };
    let mut buffer = String::new();
    // One package per name, version and source; its edges as node indices
    // until the end, so a package installed at many paths costs one id per
    // distinct dependency rather than one per path.
    // Keyed by the name@version slot of `ids`, so each node costs one string
    // hash (in `Ids::new`) rather than two.
    let ids = Ids::new(nodes, &names);
    let mut by_identity: FastMap<(usize, SourceKind), usize> = FastMap::default();
    by_identity.reserve(nodes.len() / 2);
    let mut edges: Vec<Vec<usize>> = Vec::new();
    for (position, node) in nodes.iter().enumerate() {
        if superseded[position] {
            let message = format!("`{}` appears more than once; the last entry is used", node.location);
            inventory.warnings.push(warning(node, message));
            continue;
        }
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
        let (source, warn) = source_of(node, links);
        if let Some(message) = warn {
            inventory.warnings.push(warning(node, message));
        }
        if node.version.is_none() && !matches!(source, SourceKind::Git | SourceKind::Link) {
            inventory
                .warnings
                .push(warning(node, format!("`{}` has no version", node.location)));
        }
        let name = names[position];
        let version = node.version.as_deref().unwrap_or("");
        let slot = *by_identity.entry((ids.of_node[position], source)).or_insert_with(|| {
            inventory.packages.push(new_package(node, name, version, source));
            edges.push(Vec::new());
            inventory.packages.len() - 1
        });
        let package = &mut inventory.packages[slot];
        // Flags: a package is dev (optional) only if every copy is.
        let (dev, optional) = flags(node);
        package.dev &= dev;
        package.optional &= optional;
        package.has_install_script |= node.has_install_script;
        // Bundled only if every copy is (one unbundled copy is fetched on its own).
        package.bundled &= node.in_bundle;
        if package.line.is_none() {
            package.line = node.line;
        }
        if package.integrity.is_none() {
            package.integrity = node.integrity.as_deref().map(str::to_string);
        }
        let paths = std::iter::once(position).chain(links.iter().copied());
        for path_node in paths {
            let location = tree.nodes[path_node].location.as_ref();
            package.paths.push(location.to_string());
            // A folder-derived name is never an alias of itself.
            let own_folder_name = path_node == position && node.name.is_none();
            if !own_folder_name && is_inside_node_modules(location) {
                let installed_as = folder_name(location);
                if installed_as != name && !package.aliases.iter().any(|alias| alias == installed_as) {
                    package.aliases.push(installed_as.to_string());
                }
            }
        }
        let names = node.dependencies.iter().map(|name| name.as_ref());
        tree.resolve_into(position, names, &mut edges[slot], &mut buffer);
    }
    // v1 does not record the root's direct dependencies: take the top-level
    // packages nothing else depends on, which can only be direct (or
    // extraneous). Direct dependencies that something else also requires are
    // missed, but every package stays reachable from the root through them.
    let mut unrequired_top_level = Vec::new();
    if root == Root::WithoutDependencies {
        let required: HashSet<usize> = edges.iter().flatten().copied().collect();
        for (position, node) in nodes.iter().enumerate() {
            if superseded[position] || last_node_modules(&node.location) != Some(0) {
                continue;
            }
            let target = tree.link_target.get(&position).copied().unwrap_or(position);
            if !required.contains(&target) && !nodes[target].location.is_empty() {
                unrequired_top_level.push(target);
            }
        }
    }
    for (package, targets) in inventory.packages.iter_mut().zip(edges) {
        package.dependencies = ids.of(targets);
    }

    if !hidden {
        if let Some(&position) = tree.index.get("") {
            let node = &nodes[position];
            let dependencies = match root {
                Root::WithoutDependencies => ids.of(unrequired_top_level),
                _ => importer_dependencies(&tree, &ids, position, &mut buffer),
            };
            inventory.importers.push(Importer {
                path: String::new(),
                name: node.name.as_deref().map(str::to_string),
                dependencies,
            });
        }
    }
    let mut members: Vec<&str> = members.into_iter().collect();
    members.sort_unstable();
    for member in members {
        if let Some(&position) = tree.index.get(member) {
            let node = &nodes[position];
            inventory.importers.push(Importer {
                path: node.location.to_string(),
                name: Some(package_name(node).to_string()),
                dependencies: importer_dependencies(&tree, &ids, position, &mut buffer),
            });
        }
    }
    inventory
}

fn importer_dependencies(tree: &Tree<'_, '_>, ids: &Ids, position: usize, buffer: &mut String) -> Vec<PackageId> {
    let node = &tree.nodes[position];
    let names = node
        .dependencies
        .iter()
        .chain(&node.dev_dependencies)
        .map(|name| name.as_ref());
    let mut targets = Vec::new();
    tree.resolve_into(position, names, &mut targets, buffer);
    ids.of(targets)
}

fn warning(node: &Node<'_>, message: String) -> Warning {
    Warning {
        message,
        line: node.line,
    }
}

/// `dev` and `optional` as npm uses them for `--omit`: a `devOptional`
/// package is dropped only when both dev and optional are omitted, so it is
/// neither.
fn flags(node: &Node<'_>) -> (bool, bool) {
    (node.dev && !node.dev_optional, node.optional && !node.dev_optional)
}

/// Where a package comes from, and a warning when `resolved` is unrecognisable.
fn source_of(node: &Node<'_>, links: &[usize]) -> (SourceKind, Option<String>) {
    if let Some(source) = node.source {
        return (source, None);
    }
    // A linked folder, or one outside any node_modules: a local directory.
    if !links.is_empty() || !is_inside_node_modules(&node.location) {
        return (SourceKind::Link, None);
    }
    match node.resolved.as_deref() {
        None => (SourceKind::Registry, None),
        Some(resolved) => match spec::source_of_resolved(resolved) {
            Some(source) => (source, None),
            None => (
                SourceKind::Registry,
                Some(format!(
                    "`{}`: unrecognised `resolved` value `{resolved}`",
                    node.location
                )),
            ),
        },
    }
}

fn new_package(node: &Node<'_>, name: &str, version: &str, source: SourceKind) -> Package {
    let mut package = Package::new(name, version);
    package.source = source;
    package.dev = true;
    package.optional = true;
    package.bundled = true;
    package.resolved = match node.resolved.as_deref() {
        Some(resolved) => Some(resolved.to_string()),
        None if source == SourceKind::Link => Some(format!("file:{}", node.location)),
        None => None,
    };
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
        assert_eq!(folder_name("../m/node_modules/n/o"), "o");
        assert_eq!(folder_name("node_modules/.pnpm/registry.npmjs.org/a/1.0.0"), "1.0.0");
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
