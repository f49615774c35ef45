//! Command-line arguments. Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use palisade_core::Severity;

/// Palisade: npm supply-chain defence.
///
/// Knows what a project depends on (deps, sbom), matches it against known-vulnerable and
/// known-malicious versions offline (audit), looks inside packages for backdoors statically
/// and in a sandbox (scan, diff, sandbox), verifies signatures and provenance (verify), gates
/// CI (check), keeps bad versions out through a registry firewall (serve) and finds where a
/// compromised version was installed (hunt).
///
/// Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or input error
/// (including a lockfile that was only partly understood), 3 internal error.
#[derive(Debug, Parser)]
#[command(name = "palisade", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// More logging on stderr (-v info, -vv debug, -vvv trace). PALISADE_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Directory for the advisory database and caches [env: PALISADE_HOME]
    /// [default: the platform cache directory + /palisade].
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every resolved package of a project (the dependency inventory).
    ///
    /// Reads package-lock.json (v1–v3), npm-shrinkwrap.json, node_modules/.package-lock.json,
    /// yarn.lock (classic and berry), pnpm-lock.yaml (5.x, 6.x, 9.x, multi-document) or bun.lock,
    /// or walks an installed node_modules tree. Workspace members are listed as importers, not as
    /// packages.
    ///
    /// Examples:
    ///   palisade deps                          # the lockfile in the current directory
    ///   palisade deps path/to/project --format json
    ///   palisade deps --lockfile yarn.lock --omit dev
    ///   palisade deps --node-modules .         # what is installed, not what is locked
    #[command(verbatim_doc_comment)]
    Deps(DepsArgs),

    /// Match the inventory against the advisory database (vulnerabilities and malicious versions).
    ///
    /// Works offline on the local database (`palisade db sync` / `db import`), or on the baseline
    /// snapshot built into the binary when there is none. Malicious versions are always critical.
    ///
    /// Examples:
    ///   palisade audit                         # the project in the current directory
    ///   palisade audit examples/compromised --fail-on high
    ///   palisade audit --format sarif > palisade.sarif
    ///   palisade audit --omit dev --ignore GHSA-29mw-wpgm-hmr9="not reachable from our code"
    #[command(verbatim_doc_comment)]
    Audit(AuditArgs),

    /// Write a software bill of materials: CycloneDX 1.6 or SPDX 2.3 JSON.
    ///
    /// Every resolved package with its purl, hashes (from the lockfile integrity), declared license
    /// where the project's files record one, and the full dependency graph. See docs/sbom.md.
    ///
    /// Examples:
    ///   palisade sbom > bom.cdx.json           # CycloneDX for the project in the current directory
    ///   palisade sbom path/to/project --format spdx --output bom.spdx.json
    ///   palisade sbom --reproducible --omit dev
    ///   palisade sbom --licenses               # also read licenses from installed node_modules
    #[command(verbatim_doc_comment)]
    Sbom(SbomArgs),

    /// The CI gate: run every policy check of palisade.toml and fail on violations.
    ///
    /// Checks advisories (malicious always fails; vulnerabilities at or above fail-on; expiring
    /// ignores), pinning (lockfile present and in sync with package.json, no `*`/`latest`/URL
    /// specs), sources (allowed registries, git and tarball dependencies, integrity), install
    /// scripts (allowlist), release age (cooldown) and bans (deny list or allowlist). Policy
    /// comes from palisade.toml, found by walking up from PATH; without one, safe defaults
    /// apply. See docs/check.md.
    ///
    /// Exit codes: 0 no errors, 1 policy errors, 2 bad palisade.toml or unreadable input.
    ///
    /// Examples:
    ///   palisade check                         # the project in the current directory
    ///   palisade check --format sarif > palisade.sarif
    ///   palisade check path/to/project --config ci/palisade.toml --fail-on high
    #[command(verbatim_doc_comment)]
    Check(CheckArgs),

    /// Verify registry signatures, Sigstore provenance and integrity; catch provenance and
    /// publisher downgrades.
    ///
    /// For every registry package of the inventory: the tarball (Palisade's cache, npm's cache or
    /// the registry) against the lockfile's integrity, that integrity against the registry's, the
    /// `resolved` URL against palisade.toml `[registry] allowed`, the registry's ECDSA signature
    /// (keys from `/-/npm/v1/keys` or --keys), the Sigstore attestations (DSSE, Fulcio chain to
    /// the shipped trusted root, Rekor proofs, sha512 subject; required by `[provenance] require`)
    /// and downgrades within a major line (missing provenance, new publisher, late old-line
    /// release). Uses the registry of .npmrc (or --registry) and its disk cache.
    ///
    /// Examples:
    ///   palisade verify                        # the project in the current directory
    ///   palisade verify --format json --fail-on critical
    ///   palisade verify --keys keys.json --registry https://registry.npmjs.org/
    ///   palisade verify --sbom bom.cdx.json    # SBOM hashes against the registry
    #[command(verbatim_doc_comment)]
    Verify(VerifyArgs),

    /// Incident sweep: every place a compromised package was installed, locked or cached.
    ///
    /// Walks each ROOT once, in parallel (default: the home directory and the global package
    /// locations), without following symlinks or entering /proc, /sys, /dev, and only reading:
    /// node_modules trees (nested, scoped, pnpm's .pnpm), lockfiles of every format, npm's
    /// _cacache, yarn berry and classic caches, the pnpm store and bun's cache. Matches the
    /// advisory database's malicious records and --ioc files. Also reports persistence the npm
    /// malware classes install (systemd user units, cron, shell rc lines, launch agents,
    /// self-hosted runner registrations, planted workflows) and credential files they steal
    /// (paths only, never values), with a response order. See docs/hunt.md.
    ///
    /// Exit codes: 0 nothing found, 1 a hit or persistence found, 2 a bad root or IOC file.
    /// Unreadable folders, broken links and malformed files are counted, never fatal.
    ///
    /// Examples:
    ///   palisade hunt                          # home directory and global prefixes
    ///   palisade hunt ~/code /srv/ci --ioc vendor-advisory.txt
    ///   palisade hunt --ioc shai-hulud.osv.json --format json > "$(hostname).hunt.json"
    ///   palisade hunt /builds --format osv > found.osv.json
    #[command(verbatim_doc_comment)]
    Hunt(HuntArgs),

    /// Install a package in a contained, instrumented sandbox and report what it tried to do.
    ///
    /// Runs the package's preinstall, install and postinstall scripts the way npm does, then
    /// loads its entry point (require, or import for ES modules), inside Linux user, mount, PID,
    /// IPC, UTS and network namespaces: a throwaway root, a fake home with canary credentials,
    /// a fake network that answers and records every DNS query and connection, a syscall trace
    /// (exec, file opens, connects) and hard limits. TARGET is a package directory, a .tgz or
    /// name[@version|@tag|@range] from the registry. Needs user namespaces; a kernel exploit is
    /// not contained: run untrusted workloads at scale in a VM. See docs/sandbox.md.
    ///
    /// Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 bad target or no user
    /// namespaces, 3 internal error.
    ///
    /// Examples:
    ///   palisade sandbox ./suspicious-package
    ///   palisade sandbox left-pad@1.3.0 --format json
    ///   palisade sandbox pkg.tgz --timeout 30 --show-output
    #[command(verbatim_doc_comment)]
    Sandbox(SandboxArgs),

    /// Look inside packages for what backdoors do: install scripts, exfiltration, droppers, worms.
    ///
    /// TARGET is `name@version` or `name` (latest; a tag or range also works) from the registry,
    /// a `.tgz`, an unpacked package directory (has package.json, no lockfile), a `.zip` of package
    /// trees (read in memory; --zip-password), a lockfile, or a project directory (has a lockfile:
    /// every package of its inventory is fetched, checked against the lockfile integrity and
    /// scanned). Nothing is written out or executed. See docs/scan.md.
    ///
    /// Exit codes: 0 nothing at or above --fail-on, 1 a result reached it, 2 an input could not be
    /// read (the other inputs are still reported).
    ///
    /// Examples:
    ///   palisade scan left-pad@1.3.0
    ///   palisade scan ./package.tgz ./unpacked-dir --format json
    ///   palisade scan samples/*.zip --zip-password infected
    ///   palisade scan .                        # every package of the project's lockfile
    ///   palisade scan chalk@5.6.1 --against-previous
    ///   palisade scan suspicious-pkg --format osv > draft-osv.json
    #[command(verbatim_doc_comment)]
    Scan(ScanArgs),

    /// What a release adds compared with another: files, scripts, dependencies, new findings.
    ///
    /// `palisade diff NAME FROM TO` compares two registry versions; `palisade diff A B` compares
    /// two tarballs or package directories. A release that adds an install script, a network
    /// sink, obfuscated code or a process spawn is a high-risk update (exit 1).
    ///
    /// Examples:
    ///   palisade diff chalk 5.6.0 5.6.1
    ///   palisade diff old.tgz new.tgz --format json
    #[command(verbatim_doc_comment)]
    Diff(DiffArgs),

    /// Print an analyzer rule's documentation, or list every rule.
    ///
    /// Examples:
    ///   palisade explain                       # id, severity, summary of every rule
    ///   palisade explain install-script-download
    #[command(verbatim_doc_comment)]
    Explain(ExplainArgs),

    /// Write a commented default palisade.toml (every section explained).
    ///
    /// Examples:
    ///   palisade init                          # ./palisade.toml
    ///   palisade init path/to/project --force  # overwrite an existing file
    #[command(verbatim_doc_comment)]
    Init(InitArgs),

    /// Run the registry firewall: an npm registry that serves only what policy allows.
    ///
    /// Point a client at it (`npm config set registry http://127.0.0.1:4873/`) and every
    /// install is checked: refused versions vanish from packuments (`latest` moves to the
    /// highest allowed one, and npm prints an `npm-notice` saying what was held back and
    /// why); their version documents and tarballs answer 403 with the rule and how to ask
    /// for an exception. Every tarball is verified against its integrity and analysed
    /// before it is served; verdicts are cached by integrity. Policy comes from
    /// palisade.toml ([packages], [advisories], [release-age], [install-scripts], [scan],
    /// [serve]); see docs/serve.md.
    ///
    /// Examples:
    ///   palisade serve                                   # 127.0.0.1:4873, upstream from palisade.toml
    ///   PALISADE_ADMIN_TOKEN=... palisade serve --listen 0.0.0.0:4873 --config /etc/palisade.toml
    #[command(verbatim_doc_comment)]
    Serve(ServeArgs),

    /// Administer a running firewall: refused and quarantined versions, approvals, the audit log.
    ///
    /// Talks to the firewall's admin API with the token in $PALISADE_ADMIN_TOKEN (or the
    /// variable named by `[serve] admin-token-env`).
    ///
    /// Examples:
    ///   palisade admin list
    ///   palisade admin approve left-pad@1.3.0 --reason "reviewed the postinstall script"
    ///   palisade admin log --package left-pad --format json
    #[command(verbatim_doc_comment)]
    Admin(AdminArgs),

    /// Manage the offline advisory database (OSV records for npm).
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
}

#[derive(Debug, Args)]
pub struct InputArgs {
    /// Project directory or lockfile to read [default: the current directory].
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,

    /// Read this lockfile instead of looking for one in PATH (repeatable).
    #[arg(long, value_name = "FILE", conflicts_with = "node_modules")]
    pub lockfile: Vec<PathBuf>,

    /// Inventory the installed node_modules tree under PATH instead of a lockfile.
    #[arg(long)]
    pub node_modules: bool,

    /// Read the packages of a CycloneDX (1.2–1.6) or SPDX (2.2, 2.3) JSON SBOM instead of a lockfile.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["lockfile", "node_modules", "path"])]
    pub sbom: Option<PathBuf>,

    /// Leave out dev or optional dependencies (repeatable: --omit dev --omit optional).
    #[arg(long, value_enum, value_name = "KIND")]
    pub omit: Vec<Omit>,

    /// Exit 0/1 as usual even when a lockfile was only partly understood (warnings are still printed).
    #[arg(long)]
    pub allow_partial: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Omit {
    Dev,
    Optional,
}

#[derive(Debug, Args)]
pub struct DepsArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = DepsFormat::Table)]
    pub format: DepsFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DepsFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,

    /// Exit 1 when a finding is at or above this severity (malicious versions are critical).
    #[arg(long, value_name = "SEVERITY", default_value = "low", value_parser = parse_fail_on)]
    pub fail_on: Severity,

    /// Ignore an advisory by id or alias, optionally with a reason: --ignore ID or --ignore ID=REASON.
    /// Ignored advisories are listed in the report, never silently dropped.
    #[arg(long, value_name = "ID[=REASON]")]
    pub ignore: Vec<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format (SARIF points each finding at the lockfile line of the package).
    #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,

    /// Exit 1 when a finding is at or above this severity (invalid signatures are critical).
    #[arg(long, value_name = "SEVERITY", default_value = "high", value_parser = parse_fail_on)]
    pub fail_on: Severity,

    /// Registry to fetch packuments, keys and attestations from [default: the .npmrc registry].
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,

    /// Registry signing keys from FILE (`/-/npm/v1/keys` or Sigstore TUF shape) instead of the registry.
    #[arg(long, value_name = "FILE")]
    pub keys: Option<PathBuf>,

    /// Sigstore trusted root from FILE instead of the one built in.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,

    /// Use only the disk cache; never contact the registry.
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Args)]
pub struct SbomArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// SBOM format.
    #[arg(long, short = 'f', value_enum, default_value_t = SbomFormat::Cyclonedx)]
    pub format: SbomFormat,

    /// Write the SBOM to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Same input, same bytes: no timestamp, and an identifier derived from the content.
    #[arg(long)]
    pub reproducible: bool,

    /// Also read declared licenses from the package.json files of the installed node_modules
    /// (licenses recorded in an npm lockfile are always included; nothing is fetched).
    #[arg(long)]
    pub licenses: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SbomFormat {
    /// CycloneDX 1.6 JSON.
    Cyclonedx,
    /// SPDX 2.3 JSON.
    Spdx,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Project directory (or its lockfile) [default: the current directory].
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,

    /// Policy file to use instead of the palisade.toml found by walking up from PATH.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Read this lockfile instead of looking for one in PATH (repeatable).
    #[arg(long, value_name = "FILE")]
    pub lockfile: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,

    /// Vulnerabilities at or above this severity fail (overrides `[advisories] fail-on`).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_fail_on)]
    pub fail_on: Option<Severity>,

    /// Never contact the registry: `[release-age]` is then reported as not checked.
    #[arg(long)]
    pub offline: bool,

    /// A lockfile to compare with (e.g. the base branch's): packages not in it are listed as
    /// new. Policy still applies to every package, old or new.
    #[arg(long, value_name = "FILE", conflicts_with = "base_ref")]
    pub base_lockfile: Option<PathBuf>,

    /// Like --base-lockfile, with the lockfile as it is at this git ref (`git show REF:PATH`).
    #[arg(long, value_name = "GIT_REF")]
    pub base_ref: Option<String>,

    /// Also run the static analyzer (`palisade scan`) on every package that is new or changed
    /// since the base (--base-lockfile/--base-ref; every package without one): malicious is an
    /// error (`scan-malicious`), suspicious a warning (`scan-suspicious`).
    #[arg(long)]
    pub scan: bool,

    /// Exit 0/1 as usual even when a lockfile was only partly understood (warnings are still printed).
    #[arg(long)]
    pub allow_partial: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Packages to scan: name[@version], .tgz, .zip, package directory, project directory or
    /// lockfile [default: the project in the current directory].
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,

    /// Scan every package of this lockfile (repeatable).
    #[arg(long, value_name = "FILE")]
    pub lockfile: Vec<PathBuf>,

    /// Treat directory targets as unpacked packages, even when they hold a lockfile.
    #[arg(long, conflicts_with = "project")]
    pub package_dir: bool,

    /// Treat directory targets as projects: scan every package of their lockfile.
    #[arg(long)]
    pub project: bool,

    /// Output format (osv: a draft OSV record per malicious result).
    #[arg(long, short = 'f', value_enum, default_value_t = ScanFormat::Table)]
    pub format: ScanFormat,

    /// Exit 1 when a result is at least this bad.
    #[arg(long, value_enum, value_name = "VERDICT", default_value_t = FailOnVerdict::Malicious)]
    pub fail_on: FailOnVerdict,

    /// Password of encrypted .zip targets (e.g. `infected` for malware corpora).
    #[arg(long, value_name = "PASSWORD")]
    pub zip_password: Option<String>,

    /// Registry to fetch from [default: the .npmrc registry].
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,

    /// Use only the disk cache; never contact the registry.
    #[arg(long)]
    pub offline: bool,

    /// For registry targets, also diff against the version published just before (by `time`).
    #[arg(long)]
    pub against_previous: bool,

    /// Leave out dev or optional dependencies of lockfiles (repeatable).
    #[arg(long, value_enum, value_name = "KIND")]
    pub omit: Vec<Omit>,

    /// Exit 0/1 by verdict even when some inputs could not be read (they are still reported).
    #[arg(long)]
    pub allow_partial: bool,

    /// Parallel scans [default: the number of cores].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,

    /// Also install every package in the behavioural sandbox (`palisade sandbox`) and merge:
    /// the worse verdict wins, and the report shows where static and dynamic analysis agree.
    #[arg(long)]
    pub dynamic: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Table,
    Json,
    Sarif,
    /// Draft OSV records (OpenSSF malicious-packages style) for malicious results.
    Osv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOnVerdict {
    Suspicious,
    Malicious,
    /// Never exit 1 for a verdict.
    Never,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// `NAME FROM TO` (registry versions) or `OLD NEW` (.tgz files or package directories).
    #[arg(value_name = "ARGS", num_args = 2..=3, required = true)]
    pub args: Vec<String>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = DepsFormat::Table)]
    pub format: DepsFormat,

    /// Registry to fetch from [default: the .npmrc registry].
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,

    /// Use only the disk cache; never contact the registry.
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Rule id; without one, every rule is listed.
    #[arg(value_name = "RULE")]
    pub rule: Option<String>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = DepsFormat::Table)]
    pub format: DepsFormat,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to write palisade.toml into [default: the current directory].
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,

    /// Overwrite an existing palisade.toml.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Sarif,
}

fn parse_fail_on(text: &str) -> Result<Severity, String> {
    match text.parse::<Severity>() {
        Ok(Severity::Unknown) | Err(_) => Err(format!(
            "`{text}` is not a severity: expected low, moderate, high or critical"
        )),
        Ok(severity) => Ok(severity),
    }
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Load OSV records (zips in osv.dev's all.zip layout, directories of .json, single files).
    ///
    /// The import is atomic: if it fails half-way, the previous database stays as it was.
    ///
    /// Examples:
    ///   palisade db import ossf-malicious-npm.zip ghsa-npm.zip
    ///   palisade db import ./advisories/ --replace
    #[command(verbatim_doc_comment)]
    Import(DbImportArgs),

    /// Download osv.dev's npm all.zip (or --url) and import it atomically.
    ///
    /// Example:
    ///   palisade db sync
    ///   palisade db sync --url https://mirror.example/osv/npm/all.zip
    #[command(verbatim_doc_comment)]
    Sync(DbSyncArgs),

    /// Show what the database holds: counts by kind and source, newest record, last sync.
    ///
    /// Says whether a sync is due (the built-in baseline, never synced, or last sync over 24 h ago).
    ///
    /// Examples:
    ///   palisade db status
    ///   palisade db status --format json
    #[command(verbatim_doc_comment)]
    Status(DbStatusArgs),
}

#[derive(Debug, Args)]
pub struct DbImportArgs {
    /// OSV zips, directories or .json files.
    #[arg(required = true, value_name = "SOURCE")]
    pub sources: Vec<PathBuf>,

    /// Start from an empty database instead of adding to the current one.
    #[arg(long)]
    pub replace: bool,
}

#[derive(Debug, Args)]
pub struct DbSyncArgs {
    /// Where to download the OSV npm archive from.
    #[arg(long, value_name = "URL", default_value = palisade_advisory::DEFAULT_SYNC_URL)]
    pub url: String,
}

#[derive(Debug, Args)]
pub struct DbStatusArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = DepsFormat::Table)]
    pub format: DepsFormat,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// A package directory, a .tgz, or name[@version|@tag|@range] from the registry.
    pub target: String,

    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,

    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, default_value = "moderate", value_parser = parse_fail_on, value_name = "SEVERITY")]
    pub fail_on: Severity,

    /// The node binary to run inside [default: node on PATH].
    #[arg(long, value_name = "PATH")]
    pub node: Option<PathBuf>,

    /// Wall-clock limit of the whole run; then every process is killed.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub timeout: u64,

    /// CPU time limit per process.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub cpu: u64,

    /// Address-space limit per process.
    #[arg(long, default_value_t = 4096, value_name = "MIB")]
    pub memory: u64,

    /// Processes alive at once (a fork bomb is cut off here).
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub max_processes: u32,

    /// Do not run the lifecycle scripts (only load the entry point).
    #[arg(long)]
    pub no_scripts: bool,

    /// Do not load the entry point after the scripts.
    #[arg(long)]
    pub no_load: bool,

    /// Print the steps' stdout/stderr after the table.
    #[arg(long)]
    pub show_output: bool,

    /// Registry for name@version targets [default: from .npmrc].
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,
}

#[derive(Debug, Args)]
pub struct HuntArgs {
    /// Folders to sweep [default: the home directory and the global package locations].
    #[arg(value_name = "ROOT")]
    pub roots: Vec<PathBuf>,

    /// Indicators of compromise (repeatable): OSV JSON (a record, a list, {"vulns": [...]}, or a
    /// zip), or lines of `name@version`, `name@range`, `name`, `sha256:HEX`, `path-glob:PATTERN`,
    /// `string:TEXT`.
    #[arg(long, value_name = "FILE")]
    pub ioc: Vec<PathBuf>,

    /// Output format: a table, JSON for fleet collection (docs/json.md), or the hits as OSV
    /// records to share.
    #[arg(long, short = 'f', value_enum, default_value_t = HuntFormat::Table)]
    pub format: HuntFormat,

    /// Match only the --ioc indicators, not the advisory database's malicious records.
    #[arg(long)]
    pub no_advisories: bool,

    /// Walker threads [default: one per core].
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,

    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HuntFormat {
    Table,
    Json,
    Osv,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// palisade.toml to use [default: ./palisade.toml or the nearest parent's].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: `[serve] listen`, else 127.0.0.1:4873].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Upstream registry [default: `[registry] upstream`, else https://registry.npmjs.org/].
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
    /// Where verdicts, approvals, the audit log and cached tarballs are kept
    /// [default: `[serve] data-dir`, else PALISADE_HOME/serve].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// The firewall's URL [default: http:// + `[serve] listen`].
    #[arg(long, global = true, value_name = "URL")]
    pub url: Option<String>,
    /// Environment variable holding the admin token [default: `[serve] admin-token-env`].
    #[arg(long, global = true, value_name = "NAME")]
    pub token_env: Option<String>,
    /// palisade.toml to read `[serve]` from [default: the nearest one].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = AdminFormat::Table)]
    pub format: AdminFormat,
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AdminFormat {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Quarantined, approved and denied versions, and versions the analyzer refused.
    List,
    /// Approve `name@version`: lifts quarantine and every refusal but known-malicious advisories.
    Approve(AdminDecisionArgs),
    /// Deny `name@version`: it is never served, whatever else says.
    Deny(AdminDecisionArgs),
    /// The audit log, newest first.
    Log(AdminLogArgs),
    /// Counters and totals.
    Stats,
    /// Versions removed from packuments, with the rule and the reason.
    HeldBack(AdminLimitArgs),
}

#[derive(Debug, Args)]
pub struct AdminDecisionArgs {
    /// `name@version`, e.g. `left-pad@1.3.0` or `@scope/name@2.0.0`.
    pub package: String,
    /// Why (recorded in the audit log).
    #[arg(long)]
    pub reason: String,
    /// Who decides (recorded in the audit log) [default: $USER].
    #[arg(long)]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct AdminLogArgs {
    /// Only this package.
    #[arg(long)]
    pub package: Option<String>,
    /// How many entries.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct AdminLimitArgs {
    /// How many entries.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
}
