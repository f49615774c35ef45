//! Indicators of compromise: what `--ioc FILE` adds to the advisory
//! database's malicious records.
//!
//! Two input shapes, told apart by content:
//!
//! - OSV JSON (<https://ossf.github.io/osv-schema/>): one record, a JSON list of
//!   records, `{"vulns": [...]}` (osv-scanner / querybatch output), or a zip of
//!   records in osv.dev's `all.zip` layout. Records are imported into a private
//!   temporary index with palisade-advisory, so ranges are evaluated exactly as
//!   `palisade audit` does. Every record of an IOC file is an indicator, whatever
//!   its kind: the team pasting it says these versions are bad.
//! - A line format for vendor advisories pasted as text, one indicator a line,
//!   `#` comments:
//!   `name@version`, `name@range` (npm syntax), `name@1.0.1, 1.0.2` (a list),
//!   a bare `name` (every version), `sha256:HEX` (a file's content),
//!   `path-glob:PATTERN` (a planted file or folder, matched on the full path),
//!   `string:TEXT` (in package.json scripts and persistence files).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use nodejs_semver::{Range, Version};
use palisade_advisory::{AdvisoryKind, Database, ImportOptions};
use palisade_core::PackageId;

use crate::HuntError;

/// IOC files larger than this are refused (a vendor list is kilobytes; the
/// whole osv.dev npm zip is ~100 MB).
const MAX_IOC_BYTES: u64 = 1 << 30;

/// One way a package version is declared bad by a line of an IOC file.
#[derive(Debug, Clone)]
enum VersionSpec {
    Any,
    Exact(String),
    Range(Range),
}

#[derive(Debug, Clone)]
struct PackageIndicator {
    name: String,
    spec: VersionSpec,
    /// `file:line`, for the report.
    origin: String,
    text: String,
}

/// Why a package version or a file is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    /// `MAL-…`/`GHSA-…` id, or the IOC line (`name@range`, `sha256:…`).
    pub id: String,
    /// `advisory-database` or `ioc-file`.
    pub source: &'static str,
    /// The advisory summary, or where the IOC line comes from.
    pub summary: String,
}

/// The indicators the walker checks on each file (shared by the walker threads).
#[derive(Debug, Default)]
pub struct FileIndicators {
    /// Lower-case hex SHA-256 → origin.
    pub sha256: HashMap<[u8; 32], String>,
    pub globs: Option<GlobSet>,
    /// Pattern text and origin, in the order of `globs`.
    pub glob_texts: Vec<(String, String)>,
    /// Text and origin.
    pub strings: Vec<(String, String)>,
}

impl FileIndicators {
    pub fn is_empty(&self) -> bool {
        self.sha256.is_empty() && self.glob_texts.is_empty() && self.strings.is_empty()
    }
}

/// Everything hunt matches against.
pub struct Indicators {
    /// The advisory database (only its malicious records count); `None` with `--no-advisories`.
    database: Option<Database>,
    /// OSV records from IOC files, imported into a temporary index.
    osv: Option<(Database, tempfile::TempDir)>,
    packages: Vec<PackageIndicator>,
    pub files: FileIndicators,
    pub summary: IndicatorSummary,
}

/// What the indicators were, for the report.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IndicatorSummary {
    /// The advisory database used: `null` when disabled.
    pub advisory_database: Option<DatabaseSummary>,
    pub ioc_files: Vec<String>,
    pub osv_records: u64,
    pub package_specs: usize,
    pub sha256: usize,
    pub path_globs: usize,
    pub strings: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DatabaseSummary {
    pub baseline: bool,
    pub records: u64,
    pub malicious_records: u64,
    pub newest_record: Option<String>,
}

impl Indicators {
    /// The database (when given) plus the IOC files.
    pub fn load(database: Option<Database>, ioc_files: &[PathBuf]) -> Result<Indicators, HuntError> {
        let mut summary = IndicatorSummary::default();
        if let Some(database) = &database {
            let status = database.status().map_err(HuntError::Advisory)?;
            summary.advisory_database = Some(DatabaseSummary {
                baseline: status.is_baseline,
                records: status.advisories,
                malicious_records: status.by_kind.get("malicious").copied().unwrap_or(0),
                newest_record: status.newest_modified,
            });
        }
        let mut packages = Vec::new();
        let mut files = FileIndicators::default();
        let mut glob_builder = GlobSetBuilder::new();
        let mut osv_sources: Vec<PathBuf> = Vec::new();
        let osv_dir = tempfile::Builder::new()
            .prefix("palisade-hunt-ioc-")
            .tempdir()
            .map_err(|source| HuntError::Io {
                action: "create a temporary directory",
                path: std::env::temp_dir(),
                source,
            })?;
        for (index, file) in ioc_files.iter().enumerate() {
            summary.ioc_files.push(file.display().to_string());
            let bytes = read_ioc(file)?;
            if bytes.starts_with(b"PK") {
                osv_sources.push(file.clone());
                continue;
            }
            let text = String::from_utf8(bytes).map_err(|_| HuntError::Ioc {
                path: file.clone(),
                line: 0,
                message: "not UTF-8 text, a JSON document or a zip".to_string(),
            })?;
            let trimmed = text.trim_start_matches('\u{feff}').trim_start();
            if trimmed.starts_with('{') || trimmed.starts_with('[') {
                let split = osv_dir.path().join(format!("split-{index}"));
                split_osv_json(file, trimmed, &split)?;
                osv_sources.push(split);
            } else {
                parse_lines(file, &text, &mut packages, &mut files, &mut glob_builder)?;
            }
        }
        if !files.glob_texts.is_empty() {
            files.globs = Some(glob_builder.build().map_err(|error| HuntError::Ioc {
                path: PathBuf::from(&files.glob_texts[0].1),
                line: 0,
                message: error.to_string(),
            })?);
        }
        let osv = if osv_sources.is_empty() {
            None
        } else {
            let home = osv_dir.path().join("db");
            let options = ImportOptions {
                replace: true,
                without_baseline: true,
                ..ImportOptions::default()
            };
            let imported = palisade_advisory::import(&home, &osv_sources, options).map_err(HuntError::Advisory)?;
            if imported.total == 0 {
                return Err(HuntError::Ioc {
                    path: osv_sources[0].clone(),
                    line: 0,
                    message: format!(
                        "no usable npm OSV record ({} read, {} skipped{})",
                        imported.records_read,
                        imported.skipped,
                        imported
                            .skipped_reasons
                            .first()
                            .map(|reason| format!(": {reason}"))
                            .unwrap_or_default()
                    ),
                });
            }
            summary.osv_records = imported.total;
            let database = Database::open(&home).map_err(HuntError::Advisory)?;
            Some((database, osv_dir))
        };
        summary.package_specs = packages.len();
        summary.sha256 = files.sha256.len();
        summary.path_globs = files.glob_texts.len();
        summary.strings = files.strings.len();
        Ok(Indicators {
            database,
            osv,
            packages,
            files,
            summary,
        })
    }

    /// Every indicator that names one of `packages`.
    pub fn match_packages(&self, packages: &[PackageId]) -> Result<HashMap<PackageId, Vec<Indicator>>, HuntError> {
        let mut found: HashMap<PackageId, Vec<Indicator>> = HashMap::new();
        if let Some(database) = &self.database {
            for matched in database.matches(packages).map_err(HuntError::Advisory)? {
                if matched.advisory.kind != AdvisoryKind::Malicious {
                    continue;
                }
                found.entry(matched.package).or_default().push(Indicator {
                    id: matched.advisory.id,
                    source: "advisory-database",
                    summary: matched.advisory.summary,
                });
            }
        }
        if let Some((database, _dir)) = &self.osv {
            for matched in database.matches(packages).map_err(HuntError::Advisory)? {
                let indicators = found.entry(matched.package).or_default();
                if indicators.iter().any(|known| known.id == matched.advisory.id) {
                    continue;
                }
                indicators.push(Indicator {
                    id: matched.advisory.id,
                    source: "ioc-file",
                    summary: matched.advisory.summary,
                });
            }
        }
        if !self.packages.is_empty() {
            let mut by_name: HashMap<&str, Vec<&PackageIndicator>> = HashMap::new();
            for indicator in &self.packages {
                by_name.entry(indicator.name.as_str()).or_default().push(indicator);
            }
            for package in packages {
                let Some(candidates) = by_name.get(package.name.as_str()) else {
                    continue;
                };
                for indicator in candidates {
                    if indicator.spec.matches(&package.version) {
                        found.entry(package.clone()).or_default().push(Indicator {
                            id: indicator.text.clone(),
                            source: "ioc-file",
                            summary: format!("listed in {}", indicator.origin),
                        });
                    }
                }
            }
        }
        Ok(found)
    }
}

impl VersionSpec {
    fn matches(&self, version: &str) -> bool {
        match self {
            VersionSpec::Any => true,
            VersionSpec::Exact(exact) => {
                exact == version || matches!((Version::parse(exact), Version::parse(version)), (Ok(a), Ok(b)) if a == b)
            }
            VersionSpec::Range(range) => Version::parse(version).is_ok_and(|parsed| range.satisfies(&parsed)),
        }
    }
}

fn read_ioc(path: &Path) -> Result<Vec<u8>, HuntError> {
    let io_error = |source| HuntError::Io {
        action: "read IOC file",
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io_error)?;
    let mut bytes = Vec::new();
    file.take(MAX_IOC_BYTES + 1).read_to_end(&mut bytes).map_err(io_error)?;
    if bytes.len() as u64 > MAX_IOC_BYTES {
        return Err(HuntError::Ioc {
            path: path.to_path_buf(),
            line: 0,
            message: format!("larger than {MAX_IOC_BYTES} bytes"),
        });
    }
    Ok(bytes)
}

/// Writes each OSV record of a JSON document (one record, a list, or
/// `{"vulns": [...]}`) to its own file under `dir`, the layout the importer reads.
fn split_osv_json(path: &Path, text: &str, dir: &Path) -> Result<(), HuntError> {
    let bad = |message: String| HuntError::Ioc {
        path: path.to_path_buf(),
        line: 0,
        message,
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|error| bad(format!("not valid JSON: {error}")))?;
    let records = match value {
        serde_json::Value::Array(records) => records,
        serde_json::Value::Object(mut object) => match object.remove("vulns") {
            Some(serde_json::Value::Array(records)) => records,
            Some(_) => return Err(bad("`vulns` is not a list".to_string())),
            None => vec![serde_json::Value::Object(object)],
        },
        _ => return Err(bad("expected an OSV record or a list of them".to_string())),
    };
    if records.is_empty() {
        return Err(bad("no OSV record".to_string()));
    }
    std::fs::create_dir_all(dir).map_err(|source| HuntError::Io {
        action: "create directory",
        path: dir.to_path_buf(),
        source,
    })?;
    for (index, record) in records.iter().enumerate() {
        if record.get("id").and_then(|id| id.as_str()).is_none() {
            return Err(bad(format!("record {index} has no `id`: not an OSV record")));
        }
        let out = dir.join(format!("{index}.json"));
        std::fs::write(&out, record.to_string()).map_err(|source| HuntError::Io {
            action: "write",
            path: out.clone(),
            source,
        })?;
    }
    Ok(())
}

fn parse_lines(
    path: &Path,
    text: &str,
    packages: &mut Vec<PackageIndicator>,
    files: &mut FileIndicators,
    globs: &mut GlobSetBuilder,
) -> Result<(), HuntError> {
    for (index, raw) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = raw.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let origin = format!("{}:{line_number}", path.display());
        let bad = |message: String| HuntError::Ioc {
            path: path.to_path_buf(),
            line: line_number,
            message,
        };
        if let Some(hex) = strip_prefix_ignore_case(line, "sha256:") {
            let digest = parse_sha256(hex.trim()).ok_or_else(|| bad(format!("`{hex}` is not 64 hex digits")))?;
            files.sha256.insert(digest, origin);
        } else if let Some(pattern) = strip_prefix_ignore_case(line, "path-glob:") {
            let pattern = pattern.trim();
            let glob = Glob::new(pattern).map_err(|error| bad(format!("bad glob `{pattern}`: {error}")))?;
            globs.add(glob);
            files.glob_texts.push((pattern.to_string(), origin));
        } else if let Some(needle) =
            strip_prefix_ignore_case(line, "string:").or_else(|| strip_prefix_ignore_case(line, "script:"))
        {
            if needle.trim().is_empty() {
                return Err(bad("empty string indicator".to_string()));
            }
            files.strings.push((needle.trim().to_string(), origin));
        } else {
            packages.extend(parse_package_line(line, &origin).map_err(bad)?);
        }
    }
    Ok(())
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

fn parse_sha256(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    for (index, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(index * 2..index * 2 + 2)?, 16).ok()?;
    }
    Some(digest)
}

/// `name`, `name@version`, `name@range`, `name@1.0.1, 1.0.2`, `@scope/name@…`.
fn parse_package_line(line: &str, origin: &str) -> Result<Vec<PackageIndicator>, String> {
    // The first character may be a scope's `@`: look for the separator after it.
    let first_len = line.chars().next().map_or(0, char::len_utf8);
    let (name, spec) = match line[first_len..].find('@') {
        Some(at) => (&line[..first_len + at], Some(&line[first_len + at + 1..])),
        None => (line, None),
    };
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) || name.contains(',') {
        return Err(format!(
            "`{line}` is not `name@version`, `name@range`, `sha256:HEX`, `path-glob:PATTERN` or `string:TEXT`"
        ));
    }
    let Some(spec) = spec.map(str::trim).filter(|spec| !spec.is_empty() && *spec != "*") else {
        return Ok(vec![PackageIndicator {
            name: name.to_string(),
            spec: VersionSpec::Any,
            origin: origin.to_string(),
            text: name.to_string(),
        }]);
    };
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|part| !part.is_empty()) {
        let version_spec = if Version::parse(part).is_ok() {
            VersionSpec::Exact(part.trim_start_matches('v').to_string())
        } else {
            VersionSpec::Range(
                Range::parse(part).map_err(|error| format!("`{part}` is not a version or an npm range: {error}"))?,
            )
        };
        out.push(PackageIndicator {
            name: name.to_string(),
            spec: version_spec,
            origin: origin.to_string(),
            text: format!("{name}@{part}"),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(indicators: &Indicators, name: &str, version: &str) -> Vec<String> {
        let found = indicators
            .match_packages(&[PackageId::new(name, version)])
            .expect("matching works");
        found
            .get(&PackageId::new(name, version))
            .map(|list| list.iter().map(|i| i.id.clone()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn line_format_versions_ranges_lists_and_bare_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("iocs.txt");
        std::fs::write(
            &file,
            "# vendor list\n@ctrl/tinycolor@4.1.1, 4.1.2\nrc@>=1.2.9 <1.3.0\nevil-typosquat\n\
             sha256:46FAAB8AB153FAE6E80E7CCA38EAB363075BB524EDD79E42269217A083628F09\n\
             path-glob:**/.github/workflows/shai-hulud*.yml\nstring:webhook.site\n",
        )
        .expect("write");
        let indicators = Indicators::load(None, &[file]).expect("loads");
        assert_eq!(
            ids(&indicators, "@ctrl/tinycolor", "4.1.2"),
            vec!["@ctrl/tinycolor@4.1.2"]
        );
        assert!(ids(&indicators, "@ctrl/tinycolor", "4.1.0").is_empty());
        assert_eq!(ids(&indicators, "rc", "1.2.9"), vec!["rc@>=1.2.9 <1.3.0"]);
        assert!(ids(&indicators, "rc", "1.3.0").is_empty());
        assert_eq!(ids(&indicators, "evil-typosquat", "0.0.1"), vec!["evil-typosquat"]);
        assert_eq!(indicators.files.sha256.len(), 1);
        assert_eq!(indicators.files.glob_texts.len(), 1);
        assert_eq!(indicators.files.strings.len(), 1);
    }

    #[test]
    fn a_bad_line_is_an_error_naming_the_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("iocs.txt");
        std::fs::write(&file, "ok@1.0.0\nsha256:abc\n").expect("write");
        let error = Indicators::load(None, &[file]).err().expect("fails");
        assert!(error.to_string().contains(":2"), "{error}");
    }

    #[test]
    fn osv_single_list_and_vulns_wrapper() {
        let dir = tempfile::tempdir().expect("tempdir");
        let record = |id: &str, name: &str, version: &str| {
            serde_json::json!({"id": id, "modified": "2025-09-16T00:00:00Z", "summary": format!("Malicious code in {name}"),
                "affected": [{"package": {"ecosystem": "npm", "name": name}, "versions": [version]}]})
        };
        let single = dir.path().join("single.json");
        std::fs::write(&single, record("MAL-2025-0001", "one", "1.0.0").to_string()).expect("write");
        let list = dir.path().join("list.json");
        std::fs::write(
            &list,
            serde_json::json!([
                record("MAL-2025-0002", "two", "2.0.0"),
                record("GHSA-aaaa-bbbb-cccc", "three", "3.0.0")
            ])
            .to_string(),
        )
        .expect("write");
        let wrapped = dir.path().join("wrapped.json");
        std::fs::write(
            &wrapped,
            serde_json::json!({"vulns": [record("MAL-2025-0004", "four", "4.0.0")]}).to_string(),
        )
        .expect("write");
        let indicators = Indicators::load(None, &[single, list, wrapped]).expect("loads");
        assert_eq!(indicators.summary.osv_records, 4);
        assert_eq!(ids(&indicators, "one", "1.0.0"), vec!["MAL-2025-0001"]);
        assert_eq!(ids(&indicators, "two", "2.0.0"), vec!["MAL-2025-0002"]);
        assert_eq!(ids(&indicators, "three", "3.0.0"), vec!["GHSA-aaaa-bbbb-cccc"]);
        assert_eq!(ids(&indicators, "four", "4.0.0"), vec!["MAL-2025-0004"]);
        assert!(ids(&indicators, "four", "4.0.1").is_empty());
    }

    proptest::proptest! {
        /// IOC files are pasted from anywhere: no line may panic the parser.
        #[test]
        fn any_line_parses_or_errs(line in "\\PC{0,40}") {
            let _ = parse_package_line(&line, "f:1");
            let mut packages = Vec::new();
            let mut files = FileIndicators::default();
            let mut globs = GlobSetBuilder::new();
            let _ = parse_lines(Path::new("f"), &line, &mut packages, &mut files, &mut globs);
        }
    }

    #[test]
    fn non_ascii_names_do_not_panic() {
        assert!(parse_package_line("é@1.0.0", "f:1").is_ok());
        assert_eq!(parse_package_line("@s/é@1.0.0", "f:1").map(|v| v.len()), Ok(1));
    }

    #[test]
    fn json_that_is_not_osv_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("x.json");
        std::fs::write(&file, r#"[{"name": "x"}]"#).expect("write");
        assert!(Indicators::load(None, &[file]).is_err());
    }

    #[test]
    fn baseline_database_knows_malicious_versions_only() {
        let database = Database::baseline().expect("baseline");
        let indicators = Indicators::load(Some(database), &[]).expect("loads");
        // chalk 5.6.1: the September 2025 compromise, in the baseline.
        assert!(!ids(&indicators, "chalk", "5.6.1").is_empty());
        assert!(ids(&indicators, "chalk", "5.6.0").is_empty());
    }
}
