//! A lockfile must exist and agree with package.json; package.json specs
//! must say which versions are acceptable.

pub mod cfg;
pub mod diags;

use nodejs_semver::{Range, Version};
use palisade_core::{Inventory, PackageId, Severity};

use crate::diag::{Diagnostic, Label, Level};
use crate::manifest::{normalize_importer_path, Manifest, ManifestDependency};
use crate::{Config, Input};

/// What a package.json spec asks for.
#[derive(Debug, PartialEq, Eq)]
enum Spec<'a> {
    /// A semver range, for the package `name` (differs from the key for `npm:` aliases).
    Range { name: &'a str, range: Range },
    /// A workspace member or a local folder or file: not registry code, nothing to pin.
    Local,
    /// A git dependency pinned to a full commit.
    GitCommit,
    /// Something that can change under the same lockfile-less install: a
    /// dist-tag, `*`, a URL, a git branch.
    Unpinned(&'static str),
}

fn classify<'a>(key: &'a str, spec: &'a str) -> Spec<'a> {
    let spec = spec.trim();
    let (name, spec) = match spec.strip_prefix("npm:") {
        // `npm:real-name@range`; the name may be scoped.
        Some(aliased) => match aliased.get(1..).and_then(|rest| rest.find('@')) {
            Some(position) => (&aliased[..position + 1], &aliased[position + 2..]),
            None => (aliased, ""),
        },
        None => (key, spec),
    };
    if spec.starts_with("workspace:")
        || spec.starts_with("file:")
        || spec.starts_with("link:")
        || spec.starts_with("portal:")
        || spec.starts_with("./")
        || spec.starts_with("../")
        || spec.starts_with('/')
        || spec.starts_with("~/")
    {
        return Spec::Local;
    }
    if is_git(spec) {
        let commit = spec
            .rsplit_once('#')
            .map(|(_, fragment)| fragment.trim_start_matches("commit="));
        return if commit.is_some_and(|c| c.len() == 40 && c.chars().all(|c| c.is_ascii_hexdigit())) {
            Spec::GitCommit
        } else {
            Spec::Unpinned("a git reference that is not a commit")
        };
    }
    if spec.starts_with("http://") || spec.starts_with("https://") {
        return Spec::Unpinned("a URL");
    }
    match spec {
        "" => return Spec::Unpinned("an empty spec (any version)"),
        "*" | "x" | "X" => return Spec::Unpinned("`*` (any version)"),
        "latest" => return Spec::Unpinned("the `latest` dist-tag"),
        _ => {}
    }
    match Range::parse(spec) {
        // `>=0.0.0` and friends are `*` in disguise.
        Ok(range) if range.satisfies(&Version::from((0, 0, 0))) && range.satisfies(&Version::from((999_999, 0, 0))) => {
            Spec::Unpinned("a range that allows any version")
        }
        Ok(range) => Spec::Range { name, range },
        Err(_) => Spec::Unpinned("a dist-tag or unrecognised spec"),
    }
}

/// npm's git spec shapes: protocols, `github:`-style shortcuts and `user/repo`.
fn is_git(spec: &str) -> bool {
    const PREFIXES: [&str; 8] = [
        "git+",
        "git://",
        "git@",
        "github:",
        "gitlab:",
        "bitbucket:",
        "gist:",
        "ssh://",
    ];
    if PREFIXES.iter().any(|prefix| spec.starts_with(prefix)) {
        return true;
    }
    // `user/repo` or `user/repo#ref` (but not `@scope/name`, not a path).
    let head = spec.split('#').next().unwrap_or(spec);
    !spec.starts_with('@')
        && head.matches('/').count() == 1
        && !head.contains(':')
        && !head.contains(' ')
        && head.split('/').all(|part| !part.is_empty())
}

pub(crate) fn check(config: &Config, input: &Input<'_>, out: &mut Vec<Diagnostic>) {
    if input.inventories.is_empty() {
        out.push(
            Diagnostic::new(
                &diags::LOCKFILE_MISSING,
                Level::Error,
                Severity::High,
                format!("no lockfile in `{}`: installs resolve afresh every time", input.project),
            )
            .label(Label::new(input.project.to_string(), None))
            .help(
                "run `npm install --package-lock-only` (or your package manager's equivalent) and commit the lockfile",
            ),
        );
    }
    for manifest in input.manifests {
        for dependency in &manifest.dependencies {
            let spec = classify(&dependency.name, &dependency.spec);
            if let Spec::Unpinned(what) = spec {
                if !config
                    .pinning
                    .allow_unpinned
                    .iter()
                    .any(|s| s.matches_name(&dependency.name))
                {
                    out.push(
                        Diagnostic::new(
                            &diags::SPEC_UNPINNED,
                            Level::Error,
                            Severity::Moderate,
                            format!(
                                "`{}`: \"{}\" in {} is {what}",
                                dependency.name, dependency.spec, dependency.section
                            ),
                        )
                        .label(Label::new(manifest.file.clone(), dependency.line))
                        .help(format!(
                            "use a version range (e.g. \"^1.2.3\") or a git commit, or add \"{}\" to `[packages] allow-unpinned`",
                            dependency.name
                        )),
                    );
                }
            }
            for inventory in input.inventories {
                in_sync(inventory, manifest, dependency, &spec, out);
            }
        }
    }
}

/// Is the dependency locked, at a version its spec allows?
fn in_sync(
    inventory: &Inventory,
    manifest: &Manifest,
    dependency: &ManifestDependency,
    spec: &Spec<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let name = match spec {
        Spec::Local => return,
        Spec::Range { name, .. } => *name,
        Spec::GitCommit | Spec::Unpinned(_) => dependency.name.as_str(),
    };
    // Prefer the importer's own resolved dependencies; fall back to any
    // locked package of that name for formats without importers.
    let importer = inventory
        .importers
        .iter()
        .find(|importer| normalize_importer_path(&importer.path) == manifest.importer_path)
        .filter(|importer| !importer.dependencies.is_empty());
    let matches_name = |id: &PackageId| {
        id.name == name
            || inventory.packages.iter().any(|p| {
                p.name == id.name && p.version == id.version && p.aliases.iter().any(|a| a == &dependency.name)
            })
    };
    let candidates: Vec<PackageId> = match importer {
        Some(importer) => importer
            .dependencies
            .iter()
            .filter(|id| matches_name(id))
            .cloned()
            .collect(),
        None => inventory
            .packages
            .iter()
            .map(|p| p.id())
            .filter(|id| matches_name(id))
            .collect(),
    };
    let label = || Label::new(manifest.file.clone(), dependency.line);
    if candidates.is_empty() {
        out.push(
            Diagnostic::new(
                &diags::OUT_OF_SYNC,
                Level::Error,
                Severity::Moderate,
                format!(
                    "`{}` ({} \"{}\") is not in `{}`",
                    dependency.name, dependency.section, dependency.spec, inventory.lockfile
                ),
            )
            .label(label())
            .help("run the package manager's install and commit the updated lockfile"),
        );
        return;
    }
    if let Spec::Range { range, .. } = spec {
        let satisfied = candidates
            .iter()
            .any(|id| Version::parse(&id.version).is_ok_and(|version| range.satisfies(&version)));
        if !satisfied {
            let locked: Vec<String> = candidates.iter().map(|id| id.version.clone()).collect();
            out.push(
                Diagnostic::new(
                    &diags::OUT_OF_SYNC,
                    Level::Error,
                    Severity::Moderate,
                    format!(
                        "`{}` is locked at {} in `{}`, which \"{}\" ({}) does not allow",
                        dependency.name,
                        locked.join(", "),
                        inventory.lockfile,
                        dependency.spec,
                        dependency.section
                    ),
                )
                .package(candidates[0].clone())
                .label(label())
                .help("run the package manager's install and commit the updated lockfile"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_classes() {
        assert!(matches!(classify("a", "^1.2.3"), Spec::Range { name: "a", .. }));
        assert!(matches!(classify("a", "npm:@s/b@^2"), Spec::Range { name: "@s/b", .. }));
        assert_eq!(classify("a", "workspace:*"), Spec::Local);
        assert_eq!(classify("a", "file:../a"), Spec::Local);
        assert!(matches!(classify("a", "*"), Spec::Unpinned(_)));
        assert!(matches!(classify("a", "latest"), Spec::Unpinned(_)));
        assert!(matches!(classify("a", ""), Spec::Unpinned(_)));
        assert!(matches!(classify("a", ">=0.0.0"), Spec::Unpinned(_)));
        assert!(matches!(classify("a", "https://x.test/a.tgz"), Spec::Unpinned(_)));
        assert!(matches!(classify("a", "user/repo#main"), Spec::Unpinned(_)));
        assert_eq!(
            classify("a", "github:user/repo#0123456789abcdef0123456789abcdef01234567"),
            Spec::GitCommit
        );
        assert!(matches!(classify("a", "next"), Spec::Unpinned(_)));
    }
}
