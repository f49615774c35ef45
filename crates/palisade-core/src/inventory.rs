//! The dependency inventory: what a project resolved, as read from a lockfile,
//! an installed `node_modules` tree or an SBOM.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A package name and an exact version, the key everything is matched on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PackageId {
    pub name: String,
    pub version: String,
}

impl PackageId {
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
        }
    }
}

impl fmt::Display for PackageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

/// Where a resolved package comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// An npm-compatible registry (the default).
    Registry,
    /// A git repository (`git+https://…`, `github:user/repo`, …).
    Git,
    /// A remote tarball URL that is not a registry tarball.
    Tarball,
    /// A local file or directory (`file:…`).
    File,
    /// A symlink to a directory outside the workspace (`link:…`, `portal:…`).
    Link,
    /// A member of the project's own workspace (never third-party code).
    Workspace,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Registry => "registry",
            SourceKind::Git => "git",
            SourceKind::Tarball => "tarball",
            SourceKind::File => "file",
            SourceKind::Link => "link",
            SourceKind::Workspace => "workspace",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One resolved package of an inventory.
///
/// A name@version that is installed at several places in the tree is one
/// `Package` with several `paths`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// The real package name (for an npm alias `foo: npm:bar@1`, this is `bar`).
    pub name: String,
    pub version: String,
    /// Where the package manager fetched it from, as written in the lockfile.
    pub resolved: Option<String>,
    /// The SRI string (`sha512-…`) from the lockfile, when there is one.
    pub integrity: Option<String>,
    /// Only reachable through development dependencies.
    pub dev: bool,
    /// Only reachable through optional dependencies.
    pub optional: bool,
    pub source: SourceKind,
    /// Locations of the package: `node_modules/…` install paths for npm and
    /// bun, the lockfile key for yarn and pnpm.
    pub paths: Vec<String>,
    /// Names the package is installed under when they differ from `name` (npm aliases).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// 1-based line of the package's first entry in the lockfile, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Resolved direct dependencies of this package (edges of the dependency graph).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<PackageId>,
    /// The lockfile says the package runs lifecycle scripts on install (npm's
    /// `hasInstallScript`, pnpm's `requiresBuild`). False means "not recorded",
    /// not "proven to have none": older formats do not say.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub has_install_script: bool,
    /// Shipped inside its parent's tarball (npm `inBundle`): it has no
    /// `resolved` or `integrity` of its own; the parent's integrity covers it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bundled: bool,
    /// yarn berry's `checksum` as written (`<cache key>/<hex>`): a hash of the
    /// zip archive yarn builds, not of the registry tarball, so it is not an
    /// SRI string and cannot be compared with `integrity`; it still pins the
    /// content, which is what the `integrity-missing` check asks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

impl Package {
    /// A registry package with no flags set; extractors fill in the rest.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            resolved: None,
            integrity: None,
            dev: false,
            optional: false,
            source: SourceKind::Registry,
            paths: Vec::new(),
            aliases: Vec::new(),
            line: None,
            dependencies: Vec::new(),
            has_install_script: false,
            bundled: false,
            checksum: None,
        }
    }

    pub fn id(&self) -> PackageId {
        PackageId::new(self.name.clone(), self.version.clone())
    }
}

/// A workspace member or the root project: the things whose dependencies are
/// "direct". Not third-party code, so not in [`Inventory::packages`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Importer {
    /// Path of the member relative to the lockfile's directory (`""` or `"."` is the root).
    pub path: String,
    /// The member's own package name, when the lockfile records it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Resolved direct dependencies of the member.
    pub dependencies: Vec<PackageId>,
}

/// Something in the input that was not fully understood. Shown to the user and
/// never silently dropped: "never fail green".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

impl Warning {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            line: None,
        }
    }

    pub fn at_line(message: impl Into<String>, line: u32) -> Self {
        Self {
            message: message.into(),
            line: Some(line),
        }
    }
}

/// Everything one source (a lockfile, a `node_modules` tree, an SBOM) resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// The file (or directory) the inventory was read from, as given by the caller.
    pub lockfile: String,
    /// Format and version, e.g. `npm-v3`, `yarn-v1`, `yarn-berry-v8`, `pnpm-v9`, `bun-v1`, `node-modules`.
    pub format: String,
    /// Third-party packages, sorted by name then version, one entry per name@version.
    pub packages: Vec<Package>,
    /// The root project and workspace members.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub importers: Vec<Importer>,
    /// Packages the package manager installs for itself rather than for the
    /// project (pnpm 11's env document: pnpm and its `configDependencies`).
    /// Not part of the dependency tree, but installed code, so audited too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tooling: Vec<Package>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

impl Inventory {
    pub fn new(lockfile: impl Into<String>, format: impl Into<String>) -> Self {
        Self {
            lockfile: lockfile.into(),
            format: format.into(),
            packages: Vec::new(),
            importers: Vec::new(),
            tooling: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Sort packages by name and version (the order every renderer shows) and
    /// merge entries that share name, version and source: their paths, aliases
    /// and dependencies are united, and the package is dev or optional only if
    /// every occurrence was.
    pub fn normalize(&mut self) {
        self.packages = merge_packages(std::mem::take(&mut self.packages));
        self.tooling = merge_packages(std::mem::take(&mut self.tooling));
        for importer in &mut self.importers {
            importer.dependencies.sort();
            importer.dependencies.dedup();
        }
        self.importers.sort_by(|a, b| a.path.cmp(&b.path));
    }
}

/// Sort packages by name and version and merge entries that share name,
/// version and source (see [`Inventory::normalize`]).
fn merge_packages(mut packages: Vec<Package>) -> Vec<Package> {
    packages.sort_by(|a, b| {
        (&a.name, &a.version, a.source, &a.resolved).cmp(&(&b.name, &b.version, b.source, &b.resolved))
    });
    let mut merged: Vec<Package> = Vec::with_capacity(packages.len());
    for package in packages {
        match merged.last_mut() {
            Some(last)
                if last.name == package.name && last.version == package.version && last.source == package.source =>
            {
                last.dev &= package.dev;
                last.optional &= package.optional;
                last.has_install_script |= package.has_install_script;
                last.bundled &= package.bundled;
                if last.resolved.is_none() {
                    last.resolved = package.resolved;
                }
                if last.integrity.is_none() {
                    last.integrity = package.integrity;
                }
                if last.line.is_none() {
                    last.line = package.line;
                }
                last.paths.extend(package.paths);
                last.aliases.extend(package.aliases);
                last.dependencies.extend(package.dependencies);
            }
            _ => merged.push(package),
        }
    }
    for package in &mut merged {
        package.paths.sort();
        package.paths.dedup();
        package.aliases.sort();
        package.aliases.dedup();
        package.dependencies.sort();
        package.dependencies.dedup();
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_merges_same_name_and_version_and_keeps_weakest_flags() {
        let mut inventory = Inventory::new("package-lock.json", "npm-v3");
        let mut a = Package::new("ms", "2.1.3");
        a.paths.push("node_modules/debug/node_modules/ms".into());
        a.dev = true;
        let mut b = Package::new("ms", "2.1.3");
        b.paths.push("node_modules/ms".into());
        let c = Package::new("debug", "4.3.4");
        inventory.packages = vec![a, b, c];
        inventory.normalize();
        assert_eq!(inventory.packages.len(), 2);
        assert_eq!(inventory.packages[0].name, "debug");
        let ms = &inventory.packages[1];
        assert!(!ms.dev, "a package reachable from production is not dev-only");
        assert_eq!(ms.paths, vec!["node_modules/debug/node_modules/ms", "node_modules/ms"]);
    }
}
