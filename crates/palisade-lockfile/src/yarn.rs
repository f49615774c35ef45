//! `yarn.lock`: yarn classic (v1) and yarn berry (v2+), told apart by content.
//!
//! Both formats are parsed into the same small tree ([`Field`]/[`Value`]) by
//! their own syntax module, then turned into [`Entry`]s, and [`assemble`]
//! resolves dependency edges and builds the [`Inventory`].
//!
//! Semantics shared by both formats:
//! - `paths` holds the entry's lockfile key: its descriptor list joined by `", "`.
//! - `dev` is always false: yarn.lock does not record which dependencies are
//!   development-only (that lives in the importers' `package.json`, which the
//!   extractor is not given).
//! - `optional` is true only when every edge into the package is optional
//!   (classic `optionalDependencies`, berry `dependenciesMeta.<name>.optional`)
//!   or comes from an optional package; a package nothing points at is not
//!   optional. This errs towards "not optional".
//! - `name` is the real package name: `npm:` aliases (`foo@npm:bar@^1`) give
//!   `bar`, with `foo` in `aliases`; berry takes it from `resolution`.
//! - `importers`: berry lists the root and every workspace member
//!   (`workspace:` resolutions) with its resolved third-party dependencies;
//!   edges between workspace members are left out. Classic lockfiles do not
//!   record workspace members at all; a classic inventory has one inferred
//!   importer `.` whose dependencies are the packages of key descriptors no
//!   entry depends on, i.e. those written in the root's or a workspace
//!   member's `package.json` (all members together).
//! - `dependencies`: each dependency's descriptor is looked up among the entry
//!   keys. When `resolutions` overrides or berry's `catalog:` make the written
//!   range differ from every key, the edge goes to the only entry of that
//!   name, or is left out when several versions are locked.
//! - `integrity`: classic `integrity` as written; berry's `checksum` is not an
//!   SRI string of the registry tarball (see the `berry` module), so berry
//!   packages have none.

mod berry;
mod classic;

use std::borrow::Cow;
use std::collections::HashMap;

use palisade_core::{Importer, Inventory, Package, PackageId, Warning};

use crate::LockfileError;

pub(crate) fn extract(display_path: &str, contents: &str) -> Result<Inventory, LockfileError> {
    let text = contents.strip_prefix('\u{feff}').unwrap_or(contents);
    if berry::looks_like_berry(text) {
        return berry::extract(display_path, text);
    }
    if let Some(version) = classic::header_version(text) {
        if version == "1" {
            return classic::extract(display_path, text);
        }
        return Err(LockfileError::UnsupportedVersion {
            path: display_path.to_string(),
            found: format!("v{version} (`# yarn lockfile` header)"),
            supported: classic::SUPPORTED,
        });
    }
    let message = if text.trim().is_empty() {
        "the file is empty; expected a yarn lockfile".to_string()
    } else {
        "not a yarn lockfile: expected the `# yarn lockfile v1` header (yarn classic) or a `__metadata:` \
         section (yarn berry)"
            .to_string()
    };
    Err(LockfileError::Invalid {
        path: display_path.to_string(),
        line: None,
        message,
    })
}

/// Nesting deeper than this is refused: yarn writes at most three levels
/// (`dependenciesMeta` → name → `optional`), so this only stops hostile input.
const MAX_DEPTH: usize = 16;

/// One `key: value` or `key:` + block of the lockfile syntax tree.
#[derive(Debug)]
struct Field<'a> {
    /// Classic allows several keys for one value (`"a@^1", a@^1.1:`); berry
    /// writes one key (that itself lists descriptors separated by `, `).
    /// Borrowed from the input unless unescaping changed them.
    keys: Keys<'a>,
    /// 1-based line of the key.
    line: u32,
    value: Value<'a>,
}

/// One or more keys; the common single key costs no allocation.
#[derive(Debug)]
struct Keys<'a> {
    first: Cow<'a, str>,
    rest: Vec<Cow<'a, str>>,
}

impl<'a> Keys<'a> {
    fn one(key: Cow<'a, str>) -> Self {
        Self {
            first: key,
            rest: Vec::new(),
        }
    }

    fn first(&self) -> &str {
        &self.first
    }

    fn iter(&self) -> impl Iterator<Item = &Cow<'a, str>> {
        std::iter::once(&self.first).chain(self.rest.iter())
    }

    fn join(&self) -> String {
        let mut out = self.first.to_string();
        for key in &self.rest {
            out.push_str(", ");
            out.push_str(key);
        }
        out
    }
}

#[derive(Debug)]
enum Value<'a> {
    Scalar(Cow<'a, str>),
    Map(Vec<Field<'a>>),
    /// Anything else valid YAML may hold (sequences); yarn never writes it in
    /// the places the extractor reads.
    Other,
}

impl Value<'_> {
    fn as_scalar(&self) -> Option<&str> {
        match self {
            Value::Scalar(text) => Some(text),
            _ => None,
        }
    }
}

/// A lockfile entry, format-independent, before edges are resolved.
#[derive(Debug)]
struct Entry<'a> {
    /// The descriptors of the key (`name@range`), in lockfile order.
    descriptors: Vec<Cow<'a, str>>,
    line: u32,
    kind: EntryKind,
    /// `(name, range, optional)` as written under `dependencies` /
    /// `optionalDependencies`.
    dependencies: Vec<(Cow<'a, str>, Cow<'a, str>, bool)>,
    /// Berry: the entry's resolution (`name@npm:1.2.3`), used to bind
    /// descriptors like `link:./x::locator=<parent>` to their parent.
    resolution: Option<Cow<'a, str>>,
}

enum Lookup {
    Found(usize),
    Ambiguous,
    Missing,
}

#[derive(Debug)]
enum EntryKind {
    Package(Box<Package>),
    Workspace { path: String, name: String },
}

/// A `name@range` descriptor split at the `@` that separates them (a scope's
/// leading `@` is part of the name).
fn split_descriptor(descriptor: &str) -> Option<(&str, &str)> {
    let search_from = usize::from(descriptor.starts_with('@'));
    let at = descriptor.get(search_from..)?.find('@')? + search_from;
    let name = &descriptor[..at];
    let range = &descriptor[at + 1..];
    if name.is_empty() || name == "@" {
        return None;
    }
    Some((name, range))
}

/// Percent-decoding as yarn's `encodeURIComponent` output needs it. Invalid
/// escapes are kept as written.
fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            let high = (bytes[index + 1] as char).to_digit(16);
            let low = (bytes[index + 2] as char).to_digit(16);
            if let (Some(high), Some(low)) = (high, low) {
                out.push((high * 16 + low) as u8);
                index += 3;
                continue;
            }
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// Split a berry descriptor or locator into (without the `locator` binding
/// parameter, the decoded locator), if it has one.
///
/// Yarn binds relative protocols (`link:`, `portal:`, `file:`, local patches)
/// to the package that declared them by appending `::locator=<encoded parent>`
/// to the key; the parent's `dependencies` list the descriptor without it.
fn strip_locator_binding(descriptor: &str) -> Option<(String, String)> {
    let params_at = descriptor.find("::")?;
    let (head, params) = (&descriptor[..params_at], &descriptor[params_at + 2..]);
    let mut locator = None;
    let mut rest: Vec<&str> = Vec::new();
    for param in params.split('&') {
        match param.strip_prefix("locator=") {
            Some(value) => locator = Some(percent_decode(value)),
            None => rest.push(param),
        }
    }
    let locator = locator?;
    let base = if rest.is_empty() {
        head.to_string()
    } else {
        format!("{head}::{}", rest.join("&"))
    };
    Some((base, locator))
}

/// Resolve edges, compute `optional`, and build the inventory.
fn assemble(mut inventory: Inventory, entries: Vec<Entry<'_>>, berry: bool) -> Inventory {
    // (name, range) → entry index, without allocating per lookup. Later
    // duplicates win, as in yarn's parser.
    let mut by_descriptor: HashMap<(&str, &str), usize> = HashMap::with_capacity(entries.len() * 2);
    let mut by_bound: HashMap<(String, String), usize> = HashMap::new();
    // Name → the entries of that name, for edges whose descriptor is not a key.
    // (first entry, whether there are several).
    let mut by_name: HashMap<&str, (usize, bool)> = HashMap::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        for descriptor in &entry.descriptors {
            let Some((name, range)) = split_descriptor(descriptor) else {
                continue;
            };
            by_descriptor.insert((name, range), index);
            by_name
                .entry(name)
                .and_modify(|(first, several)| *several |= *first != index)
                .or_insert((index, false));
            if berry && range.contains("::") {
                if let Some(bound) = strip_locator_binding(descriptor) {
                    by_bound.insert(bound, index);
                }
            }
        }
    }

    let lookup = |name: &str, range: &str, parent: Option<&str>| -> Lookup {
        if let Some(&index) = by_descriptor.get(&(name, range)) {
            return Lookup::Found(index);
        }
        if berry {
            // Lockfile v4 writes dependency ranges without the default `npm:`
            // protocol that its keys carry.
            if !range.contains(':') {
                if let Some(&index) = by_descriptor.get(&(name, format!("npm:{range}").as_str())) {
                    return Lookup::Found(index);
                }
            }
            if let (Some(parent), false) = (parent, by_bound.is_empty()) {
                if let Some(&index) = by_bound.get(&(format!("{name}@{range}"), parent.to_string())) {
                    return Lookup::Found(index);
                }
            }
        }
        // `resolutions` overrides in package.json and berry's `catalog:`
        // protocol make yarn resolve a dependency under a key other than the
        // range written here. When the name has one entry, that is it.
        match by_name.get(name) {
            Some(&(only, false)) => Lookup::Found(only),
            Some(&(_, true)) => Lookup::Ambiguous,
            None => Lookup::Missing,
        }
    };

    // Edges: (target entry, optional) per entry.
    let mut edges: Vec<Vec<(usize, bool)>> = Vec::with_capacity(entries.len());
    for entry in &entries {
        let mut targets = Vec::with_capacity(entry.dependencies.len());
        for (name, range, optional) in &entry.dependencies {
            match lookup(name, range, entry.resolution.as_deref()) {
                Lookup::Found(target) => targets.push((target, *optional)),
                // Overridden (see above) to one of several versions: which one
                // cannot be told without package.json. Only the edge is lost;
                // every package is listed anyway.
                Lookup::Ambiguous => {}
                // Yarn leaves unresolvable optional dependencies out of the
                // lockfile, and classic lockfiles leave out workspace members
                // (which third-party packages can depend on).
                Lookup::Missing if *optional || !berry => {}
                // In berry every required dependency has an entry: a missing
                // one means the file is not what yarn wrote.
                Lookup::Missing => inventory.warnings.push(Warning::at_line(
                    format!(
                        "dependency `{name}@{range}` of `{}` has no entry in the lockfile",
                        entry.descriptors.join(", ")
                    ),
                    entry.line,
                )),
            }
        }
        edges.push(targets);
    }

    // Dependencies name the unpatched descriptor; yarn installs the `patch:`
    // entry in its place. For `optional`, the patched entry receives the
    // edges that point at its base.
    let mut patched_twins: HashMap<usize, Vec<usize>> = HashMap::new();
    if berry {
        for (index, entry) in entries.iter().enumerate() {
            for descriptor in &entry.descriptors {
                let Some((_, range)) = split_descriptor(descriptor) else {
                    continue;
                };
                let Some(inner) = range.strip_prefix("patch:") else {
                    continue;
                };
                let base = percent_decode(inner.split('#').next().unwrap_or(inner));
                let Some((base_name, base_range)) = split_descriptor(&base) else {
                    continue;
                };
                if let Lookup::Found(base_index) = lookup(base_name, base_range, None) {
                    if base_index != index {
                        patched_twins.entry(base_index).or_default().push(index);
                    }
                }
            }
        }
    }
    // Classic lockfiles do not list the root and workspace members, but every
    // key descriptor comes from some manifest's dependency: one no entry
    // depends on was written in a root or workspace `package.json`, so its
    // package is needed directly and is not optional. (Berry lists the
    // workspaces, whose edges pin their dependencies below.)
    let root_pinned: Vec<bool> = if berry {
        vec![false; entries.len()]
    } else {
        let referenced: std::collections::HashSet<(&str, &str)> = entries
            .iter()
            .flat_map(|entry| {
                entry
                    .dependencies
                    .iter()
                    .map(|(name, range, _)| (name.as_ref(), range.as_ref()))
            })
            .collect();
        entries
            .iter()
            .map(|entry| {
                entry
                    .descriptors
                    .iter()
                    .any(|descriptor| split_descriptor(descriptor).is_some_and(|pair| !referenced.contains(&pair)))
            })
            .collect()
    };
    // Classic: those packages are the manifests' direct dependencies. Yarn v1
    // does not say which workspace member declared which, so they form one
    // inferred root importer; it gives audit its dependency paths.
    if !berry {
        let direct: Vec<PackageId> = entries
            .iter()
            .zip(&root_pinned)
            .filter(|(_, pinned)| **pinned)
            .filter_map(|(entry, _)| match &entry.kind {
                EntryKind::Package(package) => Some(package.id()),
                EntryKind::Workspace { .. } => None,
            })
            .collect();
        if !direct.is_empty() {
            inventory.importers.push(Importer {
                path: ".".to_string(),
                name: None,
                dependencies: direct,
            });
        }
    }
    let optional = if patched_twins.is_empty() {
        compute_optional(&entries, &edges, root_pinned)
    } else {
        let augmented: Vec<Vec<(usize, bool)>> = edges
            .iter()
            .map(|targets| {
                let mut all = targets.clone();
                for &(target, optional) in targets {
                    if let Some(twins) = patched_twins.get(&target) {
                        all.extend(twins.iter().map(|&twin| (twin, optional)));
                    }
                }
                all
            })
            .collect();
        compute_optional(&entries, &augmented, root_pinned)
    };

    // Resolve edge targets to package ids while the entries are still borrowed.
    let resolved_edges: Vec<Vec<PackageId>> = edges
        .iter()
        .map(|targets| {
            targets
                .iter()
                .filter_map(|(target, _)| match &entries[*target].kind {
                    EntryKind::Package(package) => Some(package.id()),
                    EntryKind::Workspace { .. } => None,
                })
                .collect()
        })
        .collect();

    inventory.packages.reserve(entries.len());
    for ((entry, dependencies), is_optional) in entries.into_iter().zip(resolved_edges).zip(optional) {
        match entry.kind {
            EntryKind::Package(mut package) => {
                package.dependencies = dependencies;
                package.optional = is_optional;
                inventory.packages.push(*package);
            }
            EntryKind::Workspace { path, name } => inventory.importers.push(Importer {
                path,
                name: Some(name),
                dependencies,
            }),
        }
    }
    inventory
}

/// Least fixpoint: a package is optional when it is not `root_pinned`, has
/// at least one incoming edge, and every incoming edge is optional or comes
/// from an optional package. Linear in the number of edges.
fn compute_optional(entries: &[Entry<'_>], edges: &[Vec<(usize, bool)>], root_pinned: Vec<bool>) -> Vec<bool> {
    let count = entries.len();
    let mut incoming = vec![0usize; count];
    // Required edges whose source is not (yet) known to be optional.
    let mut pending = vec![0usize; count];
    // A required edge from a workspace can never be discharged.
    let mut pinned = root_pinned;
    for (source, targets) in edges.iter().enumerate() {
        let from_workspace = matches!(entries[source].kind, EntryKind::Workspace { .. });
        for &(target, optional) in targets {
            incoming[target] += 1;
            if !optional {
                if from_workspace {
                    pinned[target] = true;
                } else {
                    pending[target] += 1;
                }
            }
        }
    }
    let is_package = |index: usize| matches!(entries[index].kind, EntryKind::Package(_));
    let mut optional = vec![false; count];
    let mut queue: Vec<usize> = (0..count)
        .filter(|&index| is_package(index) && incoming[index] > 0 && pending[index] == 0 && !pinned[index])
        .collect();
    for &index in &queue {
        optional[index] = true;
    }
    while let Some(source) = queue.pop() {
        for &(target, edge_optional) in &edges[source] {
            if edge_optional {
                continue;
            }
            pending[target] -= 1;
            if pending[target] == 0 && !pinned[target] && !optional[target] && is_package(target) {
                optional[target] = true;
                queue.push(target);
            }
        }
    }
    optional
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_scoped_and_aliased_descriptors() {
        assert_eq!(split_descriptor("@babel/core@^7.0.0"), Some(("@babel/core", "^7.0.0")));
        assert_eq!(split_descriptor("foo@npm:bar@^1"), Some(("foo", "npm:bar@^1")));
        assert_eq!(split_descriptor("left-pad@1"), Some(("left-pad", "1")));
        assert_eq!(split_descriptor("@scope"), None);
        assert_eq!(split_descriptor("noversion"), None);
    }

    #[test]
    fn decodes_percent_escapes_and_keeps_bad_ones() {
        assert_eq!(percent_decode("resolve@npm%3A1.22.1"), "resolve@npm:1.22.1");
        assert_eq!(percent_decode("%40babel%2Fcore"), "@babel/core");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn strips_the_locator_binding() {
        assert_eq!(
            strip_locator_binding("x@link:./nope::locator=babel%40workspace%3A."),
            Some(("x@link:./nope".to_string(), "babel@workspace:.".to_string()))
        );
        assert_eq!(strip_locator_binding("x@npm:1"), None);
    }
}
