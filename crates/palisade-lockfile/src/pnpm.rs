//! `pnpm-lock.yaml`: lockfile versions 5.x (pnpm 5–7), 6.x (pnpm 8) and 9.x
//! (pnpm 9 and later), including the multi-document files of pnpm 11+.
//!
//! Layouts (<https://pnpm.io/lockfile>, `@pnpm/lockfile.fs`):
//! - 5.x and 6.x ([`legacy`]): one `packages` map whose entries hold both
//!   the metadata (`resolution`, `name`/`version` for non-registry packages)
//!   and the graph (`dependencies`, `optionalDependencies`, `dev`, `optional`).
//! - 9.x ([`v9`]): `packages` holds metadata by package id (`foo@1.0.0`),
//!   `snapshots` the graph by depPath (`foo@1.0.0(react@18.2.0)`); dev-ness
//!   is no longer written and is computed here from the importers.
//! - pnpm 11 writes an "env" document first (`configDependencies`,
//!   `packageManagerDependencies`: pnpm itself and config dependencies, both
//!   real npm code that gets installed) and the project lockfile after `---`.
//!   Every document is read. The env document's packages go to
//!   `Inventory::tooling` (pnpm's own lockfile reader leaves them out of the
//!   project's packages; they are still installed code, so `audit` checks them).
//!
//! Each depPath is one [`Package`] with the key as its path: pnpm installs one
//! copy per depPath (`node_modules/.pnpm/<depPath>`), so peer variants of the
//! same version are merged by [`Inventory::normalize`] into one package with
//! several paths. `resolved` is the tarball URL when the lockfile has one;
//! pnpm omits it for the default registry and so do we: constructing a URL
//! would claim knowledge of which registry was used that the file lacks.

mod keys;
mod legacy;
mod text;
mod v9;
mod yaml;

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use palisade_core::{Importer, Inventory, Package, PackageId, SourceKind, Warning};
use serde::Deserialize;
use serde_norway::Value;

use crate::LockfileError;
use text::{LineIndex, Section};
use yaml::{Map, Node};

const SUPPORTED: &str = "5.x, 6.x, 9.x";

/// Maps keyed by depPaths. The keys come from the lockfile, but a collision
/// attack only slows one parse down, and SipHash is a tenth of the time
/// spent reading a large lockfile; FNV-1a is enough here.
pub(crate) type KeyMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// 64-bit FNV-1a.
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// See [`text::flow_nesting_exceeds`].
const MAX_FLOW_NESTING: usize = 64;

pub(crate) fn extract(display_path: &str, contents: &str) -> Result<Inventory, LockfileError> {
    let contents = contents.strip_prefix('\u{feff}').unwrap_or(contents);
    let documents = parse_documents(display_path, contents)?;
    let lines = LineIndex::build(contents);

    let mut inventory = Inventory::new(display_path, "pnpm");
    let mut format = None;
    let mut understood = 0usize;
    let document_count = documents.len();
    for (index, document) in documents.iter().enumerate() {
        let Some(mapping) = document.as_mapping() else {
            if !document.is_null() {
                inventory.warnings.push(Warning::new(format!(
                    "YAML document {} of {document_count} is not a mapping and was not read",
                    index + 1
                )));
            }
            continue;
        };
        let Some(version) = mapping.get("lockfileVersion") else {
            inventory.warnings.push(Warning::new(format!(
                "YAML document {} of {document_count} has no lockfileVersion and was not read",
                index + 1
            )));
            continue;
        };
        let version_text = version_text(version);
        let major = major_version(&version_text).ok_or_else(|| LockfileError::UnsupportedVersion {
            path: display_path.to_string(),
            found: version_text.clone(),
            supported: SUPPORTED,
        })?;
        let mut graph = Graph::default();
        let context = DocumentContext {
            document: index,
            lines: &lines,
        };
        match major {
            5 => legacy::read(mapping, false, &context, &mut graph),
            6 => legacy::read(mapping, true, &context, &mut graph),
            9 => v9::read(mapping, &context, &mut graph),
            _ => {
                return Err(LockfileError::UnsupportedVersion {
                    path: display_path.to_string(),
                    found: version_text,
                    supported: SUPPORTED,
                })
            }
        }
        understood += 1;
        // The project document comes last; an env document only adds packages.
        if !graph.env_document || format.is_none() {
            format = Some(format!("pnpm-v{major}"));
        }
        graph.finish(&mut inventory);
    }
    if understood == 0 {
        return Err(LockfileError::Invalid {
            path: display_path.to_string(),
            line: None,
            message: "no pnpm lockfile document found (expected a mapping with `lockfileVersion`)".to_string(),
        });
    }
    inventory.format = format.unwrap_or_else(|| "pnpm".to_string());
    Ok(inventory)
}

/// Every YAML document of the file (pnpm 11 writes two): by the fast
/// subset parser when the file is in the shape pnpm writes, else by
/// serde_norway, which also reports syntax errors with their position.
fn parse_documents<'a>(display_path: &str, contents: &'a str) -> Result<Vec<Node<'a>>, LockfileError> {
    if let Ok(documents) = yaml::parse_fast(contents) {
        return Ok(documents);
    }
    // The general parser expands aliases and is slow on deep flow nesting:
    // refuse what pnpm never writes before handing it over. (The fast parser
    // expands nothing and bounds its depth, so only this path needs it.)
    if text::uses_anchor_aliases(contents) {
        return Err(LockfileError::Invalid {
            path: display_path.to_string(),
            line: None,
            message: "uses YAML anchors and aliases, which pnpm never writes (refused: they can expand without bound)"
                .to_string(),
        });
    }
    if let Some(line) = text::flow_nesting_exceeds(contents, MAX_FLOW_NESTING) {
        return Err(LockfileError::Invalid {
            path: display_path.to_string(),
            line: Some(line as usize),
            message: format!("`[`/`{{` nested more than {MAX_FLOW_NESTING} deep; pnpm lockfiles nest two"),
        });
    }
    let mut documents = Vec::new();
    for document in serde_norway::Deserializer::from_str(contents) {
        let value = Value::deserialize(document).map_err(|error| {
            let (line, column) = error
                .location()
                .map_or((0, 0), |location| (location.line(), location.column()));
            // serde_norway appends " at line L column C"; the error already says where.
            let message = error.to_string();
            let message = match message.rfind(" at line ") {
                Some(index) if line > 0 => message[..index].to_string(),
                _ => message,
            };
            LockfileError::Syntax {
                path: display_path.to_string(),
                line,
                column,
                message,
            }
        })?;
        documents.push(Node::from_value(value));
    }
    Ok(documents)
}

/// `lockfileVersion` is a number in 5.x (`5.4`) and a string since
/// (`'6.0'`, `'9.0'`, `'5.4-inlineSpecifiers'`).
fn version_text(version: &Node<'_>) -> String {
    version.scalar_text().unwrap_or("(not a scalar)").to_string()
}

fn major_version(version: &str) -> Option<u32> {
    let digits: String = version.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Where in the file a document sits, for line numbers.
pub(crate) struct DocumentContext<'a> {
    document: usize,
    lines: &'a LineIndex<'a>,
}

impl DocumentContext<'_> {
    fn line(&self, section: Section, key: &str) -> Option<u32> {
        self.lines.line(self.document, section, key)
    }

    /// A warning about `key` of `section`, at its line when the line is known.
    fn warning(&self, section: Section, key: &str, message: String) -> Warning {
        match self.line(section, key) {
            Some(line) => Warning::at_line(message, line),
            None => Warning::new(message),
        }
    }
}

/// One document's packages and edges, keyed by depPath, before flags are
/// settled and edges resolved to name@version.
#[derive(Default)]
pub(crate) struct Graph {
    nodes: Vec<GraphNode>,
    by_key: KeyMap<String, usize>,
    importers: Vec<ImporterNode>,
    warnings: Vec<Warning>,
    /// 9.x computes dev-ness by walking from the importers; 5.x/6.x write it.
    compute_dev: bool,
    /// pnpm 11's env document: its importers are not workspace members.
    env_document: bool,
}

pub(crate) struct GraphNode {
    key: String,
    package: Package,
    edges: Vec<Edge>,
}

pub(crate) struct Edge {
    name: String,
    target: String,
}

pub(crate) struct ImporterNode {
    path: String,
    /// (installed name, target depPath, dependency kind)
    edges: Vec<(String, String, DependencyKind)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum DependencyKind {
    Production,
    Development,
    Optional,
}

impl Graph {
    /// Record one importer: its dependency maps `fields`, each reference
    /// turned into a depPath by `to_key` (`None` for `link:` dependencies,
    /// which are other workspace members, not packages). Entries that are not
    /// of the `expected_shape` are one warning on the importer.
    fn add_importer(
        &mut self,
        context: &DocumentContext<'_>,
        path: &str,
        importer: &yaml::Map<'_>,
        fields: &[(&str, DependencyKind)],
        expected_shape: &str,
        to_key: impl Fn(&str, &str) -> Option<String>,
    ) {
        let mut edges = Vec::new();
        let mut bad = false;
        for (field, kind) in fields {
            for (name, reference) in dependency_refs(importer, field, |_| bad = true) {
                if let Some(target) = to_key(reference, name) {
                    edges.push((name.to_string(), target, *kind));
                }
            }
        }
        if bad {
            let message = format!("importer `{path}` has a dependency that is not `{expected_shape}`");
            self.warnings.push(context.warning(Section::Importers, path, message));
        }
        self.importers.push(ImporterNode {
            path: path.to_string(),
            edges,
        });
    }

    fn add(&mut self, key: String, package: Package, edges: Vec<Edge>) {
        let index = self.nodes.len();
        self.by_key.insert(key.clone(), index);
        self.nodes.push(GraphNode { key, package, edges });
    }

    fn finish(self, inventory: &mut Inventory) {
        let Graph {
            mut nodes,
            by_key,
            importers,
            warnings,
            compute_dev,
            env_document,
        } = self;
        // Resolve every edge once; a name that differs from the target's is
        // an alias the target is installed under.
        let mut aliases: Vec<Vec<String>> = vec![Vec::new(); nodes.len()];
        let mut resolve = |name: &str, target: &str| -> Option<usize> {
            let index = *by_key.get(target)?;
            if nodes[index].package.name != name {
                aliases[index].push(name.to_string());
            }
            Some(index)
        };
        let importer_targets: Vec<Vec<(usize, DependencyKind)>> = importers
            .iter()
            .map(|importer| {
                importer
                    .edges
                    .iter()
                    .filter_map(|(name, target, kind)| resolve(name, target).map(|index| (index, *kind)))
                    .collect()
            })
            .collect();
        let node_targets: Vec<Vec<usize>> = nodes
            .iter()
            .map(|node| {
                node.edges
                    .iter()
                    .filter_map(|edge| resolve(&edge.name, &edge.target))
                    .collect()
            })
            .collect();

        if compute_dev {
            // Dev when no production or optional dependency of any importer
            // reaches the package, but a dev dependency does.
            let reachable = |development: bool| {
                let mut seen = vec![false; nodes.len()];
                let mut queue: VecDeque<usize> = importer_targets
                    .iter()
                    .flatten()
                    .filter(|(_, kind)| (*kind == DependencyKind::Development) == development)
                    .map(|(index, _)| *index)
                    .collect();
                while let Some(index) = queue.pop_front() {
                    if std::mem::replace(&mut seen[index], true) {
                        continue;
                    }
                    queue.extend(node_targets[index].iter().filter(|next| !seen[**next]));
                }
                seen
            };
            let production = reachable(false);
            let development = reachable(true);
            for (index, node) in nodes.iter_mut().enumerate() {
                node.package.dev = development[index] && !production[index];
            }
        }

        let ids: Vec<PackageId> = nodes.iter().map(|node| node.package.id()).collect();
        if !env_document {
            for (importer, targets) in importers.into_iter().zip(&importer_targets) {
                inventory.importers.push(Importer {
                    path: importer.path,
                    name: None,
                    dependencies: targets.iter().map(|(index, _)| ids[*index].clone()).collect(),
                });
            }
        }
        for ((mut node, targets), node_aliases) in nodes.into_iter().zip(&node_targets).zip(aliases) {
            node.package.dependencies = targets.iter().map(|index| ids[*index].clone()).collect();
            node.package.aliases = node_aliases;
            node.package.paths = vec![node.key];
            if env_document {
                inventory.tooling.push(node.package);
            } else {
                inventory.packages.push(node.package);
            }
        }
        inventory.warnings.extend(warnings);
    }
}

/// Source kind and `resolved` of an entry from its `resolution` (and key).
/// `registry_shaped` says the key spells a plain semver version, i.e. pnpm
/// resolved it from a registry; a `tarball` field there is the registry's
/// tarball URL, not a remote-tarball dependency.
fn classify(resolution: Option<&Map<'_>>, registry_shaped: bool, key_version: &str) -> (SourceKind, Option<String>) {
    if key_version.starts_with("file:") {
        let resolved = resolution
            .and_then(|r| string(r, "directory").or_else(|| string(r, "tarball")))
            .map(str::to_string);
        return (SourceKind::File, resolved.or_else(|| Some(key_version.to_string())));
    }
    if key_version.starts_with("link:") {
        return (SourceKind::Link, Some(key_version.to_string()));
    }
    let Some(resolution) = resolution else {
        return (SourceKind::Registry, None);
    };
    let kind = string(resolution, "type");
    if kind == Some("git") || (resolution.contains_key("repo") && resolution.contains_key("commit")) {
        let resolved = match (string(resolution, "repo"), string(resolution, "commit")) {
            (Some(repo), Some(commit)) => Some(format!("{repo}#{commit}")),
            (Some(repo), None) => Some(repo.to_string()),
            _ => None,
        };
        return (SourceKind::Git, resolved);
    }
    if kind == Some("directory") || resolution.contains_key("directory") {
        return (SourceKind::File, string(resolution, "directory").map(str::to_string));
    }
    if let Some(tarball) = string(resolution, "tarball") {
        let source = if tarball.starts_with("file:") {
            SourceKind::File
        } else if resolution.get("gitHosted").and_then(Node::as_bool) == Some(true) || is_git_hosted_tarball(tarball) {
            SourceKind::Git
        } else if registry_shaped {
            SourceKind::Registry
        } else {
            SourceKind::Tarball
        };
        return (source, Some(tarball.to_string()));
    }
    (SourceKind::Registry, None)
}

/// Tarballs of a git host's archive endpoint: a git dependency fetched as a
/// tarball (pnpm's `isGitHostedTarballUrl`).
fn is_git_hosted_tarball(url: &str) -> bool {
    url.starts_with("https://codeload.github.com/")
        || (url.starts_with("https://gitlab.com/") && url.contains("/repository/archive.tar.gz"))
        || (url.starts_with("https://bitbucket.org/") && url.contains("/get/"))
}

fn string<'a>(mapping: &'a Map<'_>, key: &str) -> Option<&'a str> {
    mapping.get(key).and_then(Node::as_str)
}

fn flag(mapping: &Map<'_>, key: &str) -> bool {
    mapping.get(key).and_then(Node::as_bool) == Some(true)
}

/// `name: ref` pairs of a dependency map; non-string values are skipped
/// with a warning by the caller's `bad` callback.
fn dependency_refs<'a>(mapping: &'a Map<'_>, field: &str, mut bad: impl FnMut(&str)) -> Vec<(&'a str, &'a str)> {
    let mut pairs = Vec::new();
    let Some(value) = mapping.get(field) else { return pairs };
    let Some(dependencies) = value.as_mapping() else {
        if !value.is_null() {
            bad(field);
        }
        return pairs;
    };
    for (name, reference) in dependencies.iter() {
        // Importers of 6.x/9.x write `{specifier, version}`; older ones the bare version.
        let reference = match reference {
            Node::Map(inline) => string(inline, "version"),
            other => other.as_str(),
        };
        match reference {
            Some(reference) => pairs.push((name, reference)),
            None => bad(field),
        }
    }
    pairs
}
