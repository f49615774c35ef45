//! lockfileVersion 1 (npm 5 and 6, and npm-shrinkwrap.json before that): a
//! tree of nested `dependencies`, converted to the flat `packages` layout of
//! v2/v3 the way arborist migrates it (`Shrinkwrap#loadAll` and
//! `#metaFromLock` in @npmcli/arborist), so both versions share one resolver.
//!
//! v1 overloads `version`: a semver for registry packages, but the git URL for
//! git dependencies, `file:dir` for directory links, `npm:name@1.2.3` for
//! aliases and the URL for remote tarballs. arborist keeps no version for git
//! and directory dependencies (the lockfile does not record one) and reads the
//! version of a tarball from its file name; so do we.

use std::borrow::Cow;
use std::collections::HashSet;

use palisade_core::SourceKind;

use super::lines::LineIndex;
use super::model::Entry;
use super::spec::{self, Spec};
use super::Node;

/// Flatten the nested `dependencies` of the entry at `parent_location` into `nodes`.
pub(super) fn flatten<'a>(
    parent_location: &str,
    children: Vec<(Cow<'a, str>, Entry<'a>)>,
    nodes: &mut Vec<Node<'a>>,
    targets: &mut HashSet<String>,
    lines: &mut LineIndex<'_>,
) {
    for (name, entry) in children {
        let location = if parent_location.is_empty() {
            format!("node_modules/{name}")
        } else {
            format!("{parent_location}/node_modules/{name}")
        };
        let line = lines.line_of(&name);
        convert(&name, location, line, entry, nodes, targets, lines);
    }
}

/// Convert one entry and, recursively, its nested entries (flattened under
/// the entry's location, or under the link target for a directory link).
fn convert<'a>(
    name: &str,
    location: String,
    line: Option<u32>,
    mut entry: Entry<'a>,
    nodes: &mut Vec<Node<'a>>,
    targets: &mut HashSet<String>,
    lines: &mut LineIndex<'_>,
) {
    let children = std::mem::take(&mut entry.children);
    if let Some(found) = entry.malformed {
        nodes.push(Node::malformed(Cow::Owned(location), line, found));
        return;
    }
    let lock_spec = spec_from_lock(&entry);
    let mut node = Node::new(Cow::Owned(location.clone()));
    node.line = line;
    node.dev = entry.dev;
    node.optional = entry.optional;
    node.integrity = entry.integrity.take();
    node.dependencies = std::mem::take(&mut entry.dependencies);
    node.dependencies.append(&mut entry.optional_dependencies);
    node.dependencies.append(&mut entry.peer_dependencies);
    node.problems = std::mem::take(&mut entry.problems);

    let mut nested_base = location.clone();
    match lock_spec {
        Spec::Directory(target) => {
            // A symlink to a local directory: the link lives at `location`,
            // the package (with the entry's flags and requires) at the target,
            // and the entry's nested dependencies under the target.
            let mut link = Node::new(Cow::Owned(location));
            link.link = true;
            link.resolved = Some(Cow::Owned(target.clone()));
            link.line = line;
            nodes.push(link);
            // The first entry linking to a directory describes it (as in arborist).
            if targets.insert(target.clone()) {
                node.location = Cow::Owned(target.clone());
                node.source = Some(SourceKind::Link);
                nodes.push(node);
            }
            nested_base = target;
        }
        Spec::Git(url) => {
            node.resolved = Some(url);
            node.source = Some(SourceKind::Git);
            nodes.push(node);
        }
        Spec::Remote(url) => {
            if let Some((tgz_name, version)) = spec::version_from_tgz(name, &url) {
                if tgz_name != name {
                    node.name = Some(Cow::Owned(tgz_name));
                }
                node.version = Some(Cow::Owned(version));
            }
            node.source = Some(spec::source_of_url(&url));
            node.resolved = Some(url);
            nodes.push(node);
        }
        Spec::FileTarball(path) => {
            if let Some((tgz_name, version)) = spec::version_from_tgz(name, &path) {
                if tgz_name != name {
                    node.name = Some(Cow::Owned(tgz_name));
                }
                node.version = Some(Cow::Owned(version));
            }
            node.resolved = Some(Cow::Owned(format!("file:{path}")));
            node.source = Some(SourceKind::File);
            nodes.push(node);
        }
        Spec::Alias {
            name: real_name,
            version,
        } => {
            node.name = Some(Cow::Owned(real_name));
            node.version = Some(Cow::Owned(version));
            node.resolved = entry.resolved.take();
            nodes.push(node);
        }
        Spec::Registry(range) => {
            // arborist keeps a registry `version` when it is exact, or when
            // the entry has no integrity (then it is all there is).
            if spec::is_exact_semver(&range) || node.integrity.is_none() {
                node.version = entry.version.take();
            }
            node.resolved = entry.resolved.take();
            nodes.push(node);
        }
        Spec::Unknown => {
            node.problems.push(format!(
                "cannot tell what `{}` refers to",
                entry
                    .version
                    .as_deref()
                    .or(entry.resolved.as_deref())
                    .unwrap_or("(no version)")
            ));
            node.resolved = entry.resolved.take();
            nodes.push(node);
        }
    }
    flatten(&nested_base, children, nodes, targets, lines);
}

/// Which spec a v1 entry was installed from, following arborist's
/// `spec-from-lock.js` (itself from npm 6): `version` when it has integrity or
/// is a git URL, else `from` unless it is a registry spec, else `resolved`.
fn spec_from_lock<'a>(entry: &Entry<'a>) -> Spec<'a> {
    if let Some(version) = &entry.version {
        let by_version = spec::classify(version);
        if entry.integrity.is_some() || matches!(by_version, Spec::Git(_)) {
            return by_version;
        }
    }
    if let Some(from) = &entry.from {
        let by_from = spec::classify(from);
        if by_from.is_registry() {
            if let Some(version) = &entry.version {
                return spec::classify(version);
            }
        } else if entry.resolved.is_none() {
            return by_from;
        }
    }
    if let Some(resolved) = &entry.resolved {
        return spec::classify(resolved);
    }
    match &entry.version {
        Some(version) => spec::classify(version),
        None => Spec::Unknown,
    }
}
