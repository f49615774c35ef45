//! Package-manager caches: which package versions a machine downloaded, and
//! when, even after the project that pulled them was deleted.
//!
//! Each function takes what the walker found (a path, the file's text) and
//! returns package ids; none of them walks.

use std::path::Path;

use palisade_core::PackageId;

/// One cache entry naming a package version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    pub package: PackageId,
    /// When it was fetched (Unix milliseconds), when the cache records it.
    pub fetched_at_ms: Option<i64>,
    /// What the cache says about it (the tarball URL, the index key).
    pub detail: String,
}

/// npm's `_cacache/index-v5/<xx>/<yy>/<hash>` bucket files (cacache's format:
/// <https://github.com/npm/cacache>): one entry a line, `<sha1 of the JSON>\t<JSON>`,
/// the JSON holding `key`, `integrity` (null for a deletion), `time` (ms) and
/// `metadata.url`. Tarball keys are
/// `make-fetch-happen:request-cache:<registry>/<name>/-/<basename>-<version>.tgz`
/// (npm 7+) or `pacote:tarball:<name>@<version>`; packument keys name no version
/// and are skipped. A malformed line is skipped (returned count), not fatal.
pub fn npm_cacache_bucket(text: &str) -> (Vec<CacheEntry>, usize) {
    let mut entries = Vec::new();
    let mut malformed = 0;
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let Some((_hash, json)) = line.split_once('\t') else {
            malformed += 1;
            continue;
        };
        let Ok(value) = serde_json::from_str::<serde_json::Value>(json) else {
            malformed += 1;
            continue;
        };
        if value.get("integrity").is_none_or(serde_json::Value::is_null) {
            continue; // a deletion record
        }
        let Some(key) = value.get("key").and_then(serde_json::Value::as_str) else {
            malformed += 1;
            continue;
        };
        let package = if let Some(url) = key.strip_prefix("make-fetch-happen:request-cache:") {
            package_from_tarball_url(url)
        } else if let Some(spec) = key.strip_prefix("pacote:tarball:") {
            package_from_spec(spec)
        } else {
            None
        };
        if let Some(package) = package {
            entries.push(CacheEntry {
                package,
                fetched_at_ms: value.get("time").and_then(serde_json::Value::as_i64),
                detail: key.to_string(),
            });
        }
    }
    (entries, malformed)
}

/// `https://host/prefix/@scope/name/-/name-1.2.3.tgz` (also `@scope%2fname`).
pub fn package_from_tarball_url(url: &str) -> Option<PackageId> {
    let without_query = url.split(['?', '#']).next()?;
    let (before, file) = without_query.rsplit_once("/-/")?;
    let basename = file.strip_suffix(".tgz")?;
    let decoded = before.replace("%2f", "/").replace("%2F", "/").replace("%40", "@");
    let segments: Vec<&str> = decoded.rsplit('/').take(2).collect();
    let name = match segments.as_slice() {
        [last, scope, ..] if scope.starts_with('@') => format!("{scope}/{last}"),
        [last, ..] => (*last).to_string(),
        [] => return None,
    };
    let unscoped = name.rsplit('/').next()?;
    let version = basename.strip_prefix(unscoped)?.strip_prefix('-')?;
    (!version.is_empty()).then(|| PackageId::new(name.clone(), version))
}

/// `name@version` or `@scope/name@version`.
fn package_from_spec(spec: &str) -> Option<PackageId> {
    let at = spec.get(1..)?.find('@')? + 1;
    let (name, version) = (&spec[..at], &spec[at + 1..]);
    (!name.is_empty() && nodejs_semver::Version::parse(version).is_ok()).then(|| PackageId::new(name, version))
}

/// A yarn berry cache archive, `<slug>-npm-<version>-<hash>[-<checksum>].zip`
/// (`lodash-npm-4.17.21-6382451519-eb835a2e51.zip`, yarn 2–4; the global cache
/// `~/.yarn/berry/cache` uses the same names). The slug of `@scope/name` is
/// `@scope-name`, ambiguous when the scope has a dash, so for scoped slugs the
/// name is taken from the archive's own `node_modules/@scope/name/` entries
/// when it can be read.
pub fn yarn_berry_zip(path: &Path) -> Option<PackageId> {
    let stem = path.file_name()?.to_str()?.strip_suffix(".zip")?;
    let mut rest = stem;
    // Trailing hash and checksum: hex segments.
    for _ in 0..2 {
        match rest.rsplit_once('-') {
            Some((head, tail)) if tail.len() >= 8 && tail.bytes().all(|b| b.is_ascii_hexdigit()) => rest = head,
            _ => break,
        }
    }
    // The `-npm-` whose right side is a version.
    let mut search_end = rest.len();
    while let Some(position) = rest[..search_end].rfind("-npm-") {
        let slug = &rest[..position];
        let version = &rest[position + 5..];
        if !slug.is_empty() && nodejs_semver::Version::parse(version).is_ok() {
            let name = if let Some(scoped) = slug.strip_prefix('@') {
                zip_package_name(path).unwrap_or_else(|| match scoped.split_once('-') {
                    Some((scope, name)) => format!("@{scope}/{name}"),
                    None => slug.to_string(),
                })
            } else {
                slug.to_string()
            };
            return Some(PackageId::new(name, version));
        }
        search_end = position;
    }
    None
}

/// The package name under `node_modules/` inside a yarn cache zip, from its
/// central directory only (nothing is extracted).
fn zip_package_name(path: &Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let archive = zip::ZipArchive::new(std::io::BufReader::new(file)).ok()?;
    let first = archive.file_names().find(|name| name.starts_with("node_modules/@"))?;
    let mut parts = first.split('/').skip(1);
    let scope = parts.next()?;
    let name = parts.next().filter(|name| !name.is_empty())?;
    Some(format!("{scope}/{name}"))
}

/// A pnpm content-store index file. pnpm 7–9 (`store/v3/files/xx/<hash>-index.json`)
/// write `name` and `version` in the JSON; pnpm 10 (`store/v10/index/xx/<hash>-<id>.json`)
/// and 11 (`….mpk`, msgpack) also put the package id in the file name, with `/`
/// written as `+` and an optional registry host prefix (`registry.npmjs.org+es-toolkit@1.46.1`).
pub fn pnpm_index(file_name: &str, json: Option<&str>) -> Option<PackageId> {
    if let Some(value) = json.and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok()) {
        let field = |key: &str| value.get(key).and_then(serde_json::Value::as_str).map(str::to_string);
        if let (Some(name), Some(version)) = (field("name"), field("version")) {
            return Some(PackageId::new(name, version));
        }
    }
    let stem = file_name
        .strip_suffix(".json")
        .or_else(|| file_name.strip_suffix(".mpk"))?;
    let (_hash, id) = stem.split_once('-')?;
    if id == "index" {
        return None; // pnpm 7–9 without name in the JSON
    }
    let at = id.get(1..)?.rfind('@')? + 1;
    let (name_part, version) = (&id[..at], &id[at + 1..]);
    nodejs_semver::Version::parse(version).ok()?;
    let segments: Vec<&str> = name_part.split('+').collect();
    let name = match segments.iter().rposition(|segment| segment.starts_with('@')) {
        Some(scope) if scope + 1 < segments.len() => format!("{}/{}", segments[scope], segments[scope + 1]),
        _ => (*segments.last()?).to_string(),
    };
    Some(PackageId::new(name, version))
}

/// Where a pnpm content store keeps the `package.json` an index file lists:
/// `<files>/<hex[0..2]>/<hex[2..]>` of its `sha512-<base64>` integrity (pnpm's
/// `contentPathFromHex`), `-exec` suffixed for executable modes.
pub fn pnpm_manifest_path(files_dir: &Path, index_json: &str) -> Option<std::path::PathBuf> {
    use base64::Engine as _;
    let value: serde_json::Value = serde_json::from_str(index_json).ok()?;
    let entry = value.get("files")?.get("package.json")?;
    let integrity = entry.get("integrity")?.as_str()?;
    let encoded = integrity.strip_prefix("sha512-")?;
    let digest = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let executable = entry
        .get("mode")
        .and_then(serde_json::Value::as_u64)
        .is_some_and(|mode| mode & 0o111 != 0);
    let file = if executable {
        format!("{}-exec", &hex[2..])
    } else {
        hex[2..].to_string()
    };
    Some(files_dir.join(&hex[..2]).join(file))
}

/// A bun cache folder: `~/.bun/install/cache/<name>@<version>@@@<n>` (scoped:
/// `@scope/<name>@<version>@@@<n>`); `scope` is the parent folder when it is an `@scope`.
pub fn bun_cache_dir(dir_name: &str, scope: Option<&str>) -> Option<PackageId> {
    let base = dir_name.split("@@@").next()?;
    let at = base.get(1..)?.rfind('@')? + 1;
    let (name, version) = (&base[..at], &base[at + 1..]);
    nodejs_semver::Version::parse(version).ok()?;
    let name = match scope {
        Some(scope) => format!("{scope}/{name}"),
        None => name.to_string(),
    };
    Some(PackageId::new(name, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines copied from a real `~/.npm/_cacache/index-v5` after
    /// `npm cache add is-number@7.0.0 @types/node@20.0.0` (npm 10).
    const REAL_BUCKETS: &str = include_str!("../tests/fixtures/cacache/buckets.txt");

    #[test]
    fn npm_cacache_real_entries() {
        let (entries, malformed) = npm_cacache_bucket(REAL_BUCKETS);
        assert_eq!(malformed, 0);
        let mut ids: Vec<String> = entries
            .iter()
            .map(|e| format!("{}@{}", e.package.name, e.package.version))
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids, vec!["@types/node@20.0.0", "is-number@7.0.0"]);
        assert!(entries.iter().all(|e| e.fetched_at_ms.is_some()));
        assert!(entries.iter().any(|e| e.fetched_at_ms == Some(1795327859619)));
    }

    #[test]
    fn npm_cacache_bad_lines_and_deletions() {
        let text = "\nnot a tab line\nabc\t{broken\nabc\t{\"key\":\"make-fetch-happen:request-cache:https://r/x/-/x-1.0.0.tgz\",\"integrity\":null,\"time\":1}\n";
        let (entries, malformed) = npm_cacache_bucket(text);
        assert!(entries.is_empty());
        assert_eq!(malformed, 2);
    }

    #[test]
    fn tarball_urls() {
        let id = |url| package_from_tarball_url(url).map(|p| format!("{}@{}", p.name, p.version));
        assert_eq!(
            id("https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz").as_deref(),
            Some("is-number@7.0.0")
        );
        assert_eq!(
            id("https://registry.npmjs.org/@ctrl/tinycolor/-/tinycolor-4.1.1.tgz").as_deref(),
            Some("@ctrl/tinycolor@4.1.1")
        );
        assert_eq!(
            id("https://mirror.example/npm/@ctrl%2ftinycolor/-/tinycolor-4.1.2-beta.1.tgz").as_deref(),
            Some("@ctrl/tinycolor@4.1.2-beta.1")
        );
        assert_eq!(id("https://registry.npmjs.org/is-number"), None);
    }

    #[test]
    fn yarn_berry_names() {
        let id = |name: &str| yarn_berry_zip(Path::new(name)).map(|p| format!("{}@{}", p.name, p.version));
        assert_eq!(
            id("lodash-npm-4.17.21-6382451519-eb835a2e51.zip").as_deref(),
            Some("lodash@4.17.21")
        );
        assert_eq!(
            id("is-npm-npm-1.0.0-aaaaaaaaaa-bbbbbbbbbb.zip").as_deref(),
            Some("is-npm@1.0.0")
        );
        assert_eq!(
            id("@ctrl-tinycolor-npm-4.1.1-1234567890-abcdef0123.zip").as_deref(),
            Some("@ctrl/tinycolor@4.1.1")
        );
        assert_eq!(id("typescript-patch-1234abcd-aaaaaaaaaa.zip"), None);
        assert_eq!(
            id("debug-npm-4.4.2-beta.1-0123456789-abcdef0123.zip").as_deref(),
            Some("debug@4.4.2-beta.1")
        );
    }

    #[test]
    fn pnpm_index_files() {
        let id = |name: &str, json: Option<&str>| pnpm_index(name, json).map(|p| format!("{}@{}", p.name, p.version));
        assert_eq!(
            id(
                "0a1b2c-index.json",
                Some(r#"{"name":"chalk","version":"5.6.1","files":{}}"#)
            )
            .as_deref(),
            Some("chalk@5.6.1")
        );
        assert_eq!(id("0a1b2c-index.json", Some(r#"{"files":{}}"#)), None);
        assert_eq!(
            id("e36d5c-@ctrl+tinycolor@4.1.1.json", None).as_deref(),
            Some("@ctrl/tinycolor@4.1.1")
        );
        assert_eq!(
            id("e36d5c-registry.npmjs.org+es-toolkit@1.46.1.mpk", None).as_deref(),
            Some("es-toolkit@1.46.1")
        );
    }

    proptest::proptest! {
        /// Cache files and names are attacker-influenced: parsers never panic.
        #[test]
        fn cache_parsers_never_panic(text in "\\PC{0,80}", name in "[@a-z0-9.+_-]{0,30}(@[0-9.a-z-]{0,12})?(@@@1|\\.json|\\.mpk|\\.zip)?") {
            let _ = npm_cacache_bucket(&text);
            let _ = npm_cacache_bucket(&format!("abc\t{text}"));
            let _ = package_from_tarball_url(&text);
            let _ = package_from_spec(&text);
            let _ = pnpm_index(&name, Some(&text));
            let _ = bun_cache_dir(&name, Some("@s"));
            let _ = yarn_berry_zip(Path::new(&name));
        }
    }

    #[test]
    fn bun_cache_names() {
        let id = |name: &str, scope| bun_cache_dir(name, scope).map(|p| format!("{}@{}", p.name, p.version));
        assert_eq!(id("chalk@5.6.1@@@1", None).as_deref(), Some("chalk@5.6.1"));
        assert_eq!(
            id("tinycolor@4.1.1@@@1", Some("@ctrl")).as_deref(),
            Some("@ctrl/tinycolor@4.1.1")
        );
        assert_eq!(id("not-a-package", None), None);
    }
}
