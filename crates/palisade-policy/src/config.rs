//! palisade.toml: found by walking up from the project, parsed with spans,
//! then validated section by section (each check's `cfg.rs`), so every error
//! names the file, line and column.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::{advisories, bans, install_scripts, pinning, release_age, sources};

/// The file name looked for in the project directory and its parents.
pub const FILE_NAME: &str = "palisade.toml";

/// The commented default file `palisade init` writes. It parses to the same
/// policy as [`Config::default`] (a test holds that).
pub const DEFAULT_FILE: &str = include_str!("palisade.default.toml");

/// Largest palisade.toml read; a policy file is a few kilobytes.
const MAX_BYTES: u64 = 1024 * 1024;

/// One problem in palisade.toml.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigIssue {
    pub line: u32,
    pub column: u32,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("failed to read `{path}`")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is larger than {MAX_BYTES} bytes; a policy file is never this large")]
    TooLarge { path: String },
    /// Syntax errors, unknown keys, wrong types and bad values, all with places.
    #[error("{}", render_issues(file, issues))]
    Invalid { file: String, issues: Vec<ConfigIssue> },
}

fn render_issues(file: &str, issues: &[ConfigIssue]) -> String {
    let mut text = format!("invalid `{file}`");
    for issue in issues {
        text.push_str(&format!(
            "\n  {file}:{}:{}: {}",
            issue.line, issue.column, issue.message
        ));
        if let Some(help) = &issue.help {
            text.push_str(&format!("\n    help: {help}"));
        }
    }
    text
}

/// A place in palisade.toml, kept on validated entries so diagnostics about
/// them (an expired ignore) can point at the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    pub line: u32,
    pub column: u32,
}

/// The validated configuration. `Config::default()` is the safe policy used
/// when there is no palisade.toml.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it came from (as displayed), `None` for the defaults.
    pub file: Option<String>,
    pub registry: sources::cfg::Config,
    pub pinning: pinning::cfg::Config,
    pub bans: bans::cfg::Config,
    pub advisories: advisories::cfg::Config,
    pub release_age: release_age::cfg::Config,
    pub install_scripts: install_scripts::cfg::Config,
    pub scan: ScanConfig,
    pub provenance: ProvenanceConfig,
    pub serve: ServeConfig,
}

/// `[scan]`: what the firewall does with a package the analyzer finds suspicious.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Suspicious {
    Serve,
    Refuse,
    /// Held back until an operator releases it (the safe default).
    #[default]
    Quarantine,
}

#[derive(Debug, Clone, Default)]
pub struct ScanConfig {
    pub suspicious: Suspicious,
}

#[derive(Debug, Clone)]
pub struct ProvenanceConfig {
    /// Packages that must carry a provenance attestation.
    pub require: Vec<crate::PackageSpec>,
    /// Refuse a version published without provenance when an earlier one had it.
    pub no_downgrade: bool,
}

impl Default for ProvenanceConfig {
    fn default() -> Self {
        ProvenanceConfig {
            require: Vec::new(),
            no_downgrade: true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: std::net::SocketAddr,
    /// Name of the environment variable holding the admin token.
    pub admin_token_env: String,
    /// Name of the environment variable holding the token sent upstream
    /// (`Authorization: Bearer`); the token itself never goes in the file.
    pub upstream_token_env: Option<String>,
    /// Versions with a vulnerability advisory at or above this severity are
    /// refused (`advisories.ignore` entries are the exceptions); `None` = off.
    pub refuse_vulnerable: Option<palisade_core::Severity>,
    /// Where verdicts, approvals, the audit log and the tarball cache live;
    /// `None`: `<PALISADE_HOME>/serve`.
    pub data_dir: Option<PathBuf>,
    /// The URL clients reach the firewall at, used in tarball URLs; `None`:
    /// taken from each request's `Host`.
    pub public_url: Option<String>,
    /// How long a fetched packument is served before asking upstream again.
    pub packument_max_age: time::Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            // Loopback only: exposing the firewall is an explicit decision.
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 4873)),
            admin_token_env: "PALISADE_ADMIN_TOKEN".into(),
            upstream_token_env: None,
            refuse_vulnerable: Some(palisade_core::Severity::Critical),
            data_dir: None,
            public_url: None,
            packument_max_age: time::Duration::minutes(5),
        }
    }
}

// ---- the raw model: exactly the file's shape, with spans ----

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawConfig {
    #[serde(default)]
    pub registry: RawRegistry,
    #[serde(default)]
    pub packages: RawPackages,
    #[serde(default)]
    pub advisories: RawAdvisories,
    #[serde(default)]
    pub release_age: RawReleaseAge,
    #[serde(default)]
    pub install_scripts: RawInstallScripts,
    #[serde(default)]
    pub scan: RawScan,
    #[serde(default)]
    pub provenance: RawProvenance,
    #[serde(default)]
    pub serve: RawServe,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawRegistry {
    pub upstream: Option<Spanned<String>>,
    pub allowed: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub allow_git: Vec<Spanned<String>>,
    #[serde(default)]
    pub allow_tarball: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawPackages {
    pub mode: Option<Spanned<String>>,
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
    /// `"spec"` or `{ spec = "…", reason = "…" }`, checked by hand in validation.
    #[serde(default)]
    pub deny: Vec<Spanned<toml::Value>>,
    #[serde(default)]
    pub allow_unpinned: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawAdvisories {
    pub fail_on: Option<Spanned<String>>,
    #[serde(default)]
    pub ignore: Vec<Spanned<RawIgnore>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawIgnore {
    pub id: Spanned<String>,
    pub reason: Option<Spanned<String>>,
    /// A TOML date (`2026-12-31`) or a string holding one.
    pub until: Option<Spanned<toml::Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawReleaseAge {
    /// A string with a unit; a bare integer is read so the error can say so.
    pub minimum: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub exclude: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawInstallScripts {
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawScan {
    pub suspicious: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawProvenance {
    #[serde(default)]
    pub require: Vec<Spanned<String>>,
    pub no_downgrade: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawServe {
    pub listen: Option<Spanned<String>>,
    pub admin_token_env: Option<Spanned<String>>,
    pub upstream_token_env: Option<Spanned<String>>,
    pub refuse_vulnerable: Option<Spanned<String>>,
    pub data_dir: Option<Spanned<String>>,
    pub public_url: Option<Spanned<String>>,
    /// A duration string; a bare integer is read so the error can say so.
    pub packument_max_age: Option<Spanned<toml::Value>>,
}

/// Collects validation problems; turns spans into line and column.
pub(crate) struct Validator<'a> {
    text: &'a str,
    pub issues: Vec<ConfigIssue>,
}

impl<'a> Validator<'a> {
    pub fn new(text: &'a str) -> Self {
        Validator {
            text,
            issues: Vec::new(),
        }
    }

    pub fn location(&self, span: &Range<usize>) -> Location {
        let (line, column) = line_column(self.text, span.start);
        Location { line, column }
    }

    pub fn error(&mut self, span: &Range<usize>, message: impl Into<String>, help: Option<&str>) {
        let Location { line, column } = self.location(span);
        self.issues.push(ConfigIssue {
            line,
            column,
            message: message.into(),
            help: help.map(str::to_string),
        });
    }

    /// Parse a list of package specs, reporting each bad one at its place.
    pub fn specs(&mut self, key: &str, entries: &[Spanned<String>]) -> Vec<crate::PackageSpec> {
        let mut specs = Vec::new();
        for entry in entries {
            match crate::PackageSpec::parse(entry.get_ref()) {
                Ok(spec) => specs.push(spec),
                Err(message) => self.error(
                    &entry.span(),
                    format!("bad package spec in `{key}`: {message}"),
                    Some("write `name`, `name@range` (npm semver), `@scope/*` or `*`"),
                ),
            }
        }
        specs
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |tail| tail.chars().count()) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

impl Config {
    /// Parse and validate palisade.toml text. `file` is how the file is named in messages.
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|error| {
            let (line, column) = error.span().map_or((1, 1), |span| line_column(text, span.start));
            ConfigError::Invalid {
                file: file.to_string(),
                issues: vec![ConfigIssue {
                    line,
                    column,
                    message: error.message().trim().to_string(),
                    help: None,
                }],
            }
        })?;
        let mut validator = Validator::new(text);
        let config = Config {
            file: Some(file.to_string()),
            registry: sources::cfg::validate(&raw.registry, &mut validator),
            pinning: pinning::cfg::validate(&raw.packages, &mut validator),
            bans: bans::cfg::validate(&raw.packages, &mut validator),
            advisories: advisories::cfg::validate(&raw.advisories, &mut validator),
            release_age: release_age::cfg::validate(&raw.release_age, &mut validator),
            install_scripts: install_scripts::cfg::validate(&raw.install_scripts, &mut validator),
            scan: validate_scan(&raw.scan, &mut validator),
            provenance: validate_provenance(&raw.provenance, &mut validator),
            serve: validate_serve(&raw.serve, &mut validator),
        };
        // Validation runs section by section; report in file order.
        validator.issues.sort_by_key(|issue| (issue.line, issue.column));
        if validator.issues.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid {
                file: file.to_string(),
                issues: validator.issues,
            })
        }
    }

    /// Read and validate a file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let display = path.display().to_string();
        let metadata = std::fs::metadata(path).map_err(|source| ConfigError::Read {
            path: display.clone(),
            source,
        })?;
        if metadata.len() > MAX_BYTES {
            return Err(ConfigError::TooLarge { path: display });
        }
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: display.clone(),
            source,
        })?;
        Config::parse(&display, &text)
    }
}

/// palisade.toml in `start` or the nearest parent directory that has one.
pub fn find(start: &Path) -> Option<PathBuf> {
    let start = if start.is_file() { start.parent()? } else { start };
    // Absolute, so walking up does not stop at the relative path's first component.
    let absolute = std::path::absolute(start).ok()?;
    absolute
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
}

fn validate_scan(raw: &RawScan, validator: &mut Validator<'_>) -> ScanConfig {
    let mut config = ScanConfig::default();
    if let Some(value) = &raw.suspicious {
        match value.get_ref().as_str() {
            "serve" => config.suspicious = Suspicious::Serve,
            "refuse" => config.suspicious = Suspicious::Refuse,
            "quarantine" => config.suspicious = Suspicious::Quarantine,
            other => validator.error(
                &value.span(),
                format!("`suspicious = \"{other}\"` is not an action"),
                Some("expected \"serve\", \"refuse\" or \"quarantine\""),
            ),
        }
    }
    config
}

fn validate_provenance(raw: &RawProvenance, validator: &mut Validator<'_>) -> ProvenanceConfig {
    ProvenanceConfig {
        require: validator.specs("provenance.require", &raw.require),
        no_downgrade: raw.no_downgrade.unwrap_or(true),
    }
}

fn validate_serve(raw: &RawServe, validator: &mut Validator<'_>) -> ServeConfig {
    let mut config = ServeConfig::default();
    if let Some(listen) = &raw.listen {
        match listen.get_ref().parse() {
            Ok(address) => config.listen = address,
            Err(_) => validator.error(
                &listen.span(),
                format!("`listen = \"{}\"` is not an address", listen.get_ref()),
                Some("write host:port with an IP address, e.g. \"127.0.0.1:4873\""),
            ),
        }
    }
    if let Some(name) = &raw.admin_token_env {
        if let Some(name) = env_name(validator, "admin-token-env", name) {
            config.admin_token_env = name;
        }
    }
    if let Some(name) = &raw.upstream_token_env {
        config.upstream_token_env = env_name(validator, "upstream-token-env", name);
    }
    if let Some(value) = &raw.refuse_vulnerable {
        match value.get_ref().trim() {
            "off" => config.refuse_vulnerable = None,
            text => match text.parse::<palisade_core::Severity>() {
                Ok(severity) if severity != palisade_core::Severity::Unknown => {
                    config.refuse_vulnerable = Some(severity)
                }
                _ => validator.error(
                    &value.span(),
                    format!("`refuse-vulnerable = \"{text}\"` is not a severity"),
                    Some("expected \"low\", \"moderate\", \"high\", \"critical\" or \"off\""),
                ),
            },
        }
    }
    if let Some(dir) = &raw.data_dir {
        if dir.get_ref().trim().is_empty() {
            validator.error(
                &dir.span(),
                "`data-dir` is empty",
                Some("a directory path, e.g. \"/var/lib/palisade\""),
            );
        } else {
            config.data_dir = Some(PathBuf::from(dir.get_ref().trim()));
        }
    }
    if let Some(url) = &raw.public_url {
        let text = url.get_ref().trim().trim_end_matches('/');
        let valid = (text.starts_with("http://") || text.starts_with("https://"))
            && !text.contains(['"', '\\', ' ', '?', '#'])
            && text.len() > "https://".len();
        if valid {
            config.public_url = Some(text.to_string());
        } else {
            validator.error(
                &url.span(),
                format!("`public-url = \"{}\"` is not an http(s) URL", url.get_ref()),
                Some("the URL clients use to reach the firewall, e.g. \"https://npm.internal.example\""),
            );
        }
    }
    if let Some(value) = &raw.packument_max_age {
        match value.get_ref() {
            toml::Value::String(text) => match crate::duration::parse(text) {
                Ok(duration) => config.packument_max_age = duration,
                Err(message) => validator.error(&value.span(), format!("`packument-max-age`: {message}"), None),
            },
            toml::Value::Integer(number) => validator.error(
                &value.span(),
                format!(
                    "`packument-max-age = {number}` has no unit: {}",
                    crate::duration::UNIT_HELP
                ),
                Some(&format!("write packument-max-age = \"{number}m\" for {number} minutes")),
            ),
            other => validator.error(
                &value.span(),
                format!(
                    "`packument-max-age` must be a duration string, found {}",
                    other.type_str()
                ),
                None,
            ),
        }
    }
    config
}

/// An environment variable name (not a token pasted by mistake).
fn env_name(validator: &mut Validator<'_>, key: &str, name: &Spanned<String>) -> Option<String> {
    let valid = !name.get_ref().is_empty() && name.get_ref().chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Some(name.get_ref().clone())
    } else {
        // Never echo the value: it may be the secret itself.
        validator.error(
            &name.span(),
            format!("`{key}` is not an environment variable name"),
            Some("the name of the variable holding the token, not the token itself"),
        );
        None
    }
}
