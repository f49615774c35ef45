//! Which versions the firewall serves: palisade.toml's rules, the advisory
//! database, the analyzer's cached verdicts and the operators' decisions,
//! evaluated per version. Pure: everything it looks at is handed in.

use std::collections::HashMap;

use palisade_core::{Severity, Verdict};
use palisade_policy::bans::cfg::Mode;
use palisade_policy::config::Suspicious;
use palisade_policy::Config;
use serde::Serialize;
use time::OffsetDateTime;

use crate::packument::VersionEntry;
use crate::store::{DecisionState, VerdictRecord};

/// Why a version is not served. The `code` is stable (it is in the audit log,
/// 403 bodies and `palisade admin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    NotAllowlisted,
    Denied,
    MaliciousAdvisory,
    Vulnerable,
    ReleaseAge,
    InstallScripts,
    ScanMalicious,
    ScanSuspicious,
    Quarantined,
    AdminDenied,
    NoIntegrity,
    UnsafeTarballName,
}

impl Rule {
    pub fn code(self) -> &'static str {
        match self {
            Rule::NotAllowlisted => "not-allowlisted",
            Rule::Denied => "denied",
            Rule::MaliciousAdvisory => "malicious-advisory",
            Rule::Vulnerable => "vulnerable",
            Rule::ReleaseAge => "release-age",
            Rule::InstallScripts => "install-scripts",
            Rule::ScanMalicious => "scan-malicious",
            Rule::ScanSuspicious => "scan-suspicious",
            Rule::Quarantined => "quarantined",
            Rule::AdminDenied => "admin-denied",
            Rule::NoIntegrity => "no-integrity",
            Rule::UnsafeTarballName => "unsafe-tarball-name",
        }
    }

    /// Whether an operator's approval lifts it. Known-malicious versions stay
    /// refused whatever anyone approves.
    pub fn approvable(self) -> bool {
        !matches!(
            self,
            Rule::MaliciousAdvisory | Rule::NoIntegrity | Rule::UnsafeTarballName
        )
    }
}

/// A refused version: the rule and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub rule: Rule,
    pub reason: String,
}

/// An advisory that applies to one version (what policy needs of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisoryHit {
    pub id: String,
    pub aliases: Vec<String>,
    pub malicious: bool,
    pub severity: Severity,
}

/// Everything known about a package besides its packument.
#[derive(Debug, Default)]
pub struct Context<'a> {
    /// Advisories per version.
    pub advisories: Option<&'a HashMap<String, Vec<AdvisoryHit>>>,
    /// Operators' decisions per version.
    pub decisions: Option<&'a HashMap<String, DecisionState>>,
    /// Cached verdicts by integrity.
    pub verdicts: Option<&'a HashMap<String, VerdictRecord>>,
}

/// The package-level check: allowlist mode refuses unlisted names outright.
pub fn package_refusal(config: &Config, name: &str) -> Option<Refusal> {
    if config.bans.mode == Mode::Allowlist && !config.bans.allow.iter().any(|spec| spec.matches_name(name)) {
        return Some(Refusal {
            rule: Rule::NotAllowlisted,
            reason: format!("`{name}` is not on the allowlist (packages.mode = \"allowlist\")"),
        });
    }
    None
}

/// The version-level check. `None` means serve.
pub fn version_refusal(
    config: &Config,
    refuse_vulnerable: Option<Severity>,
    name: &str,
    entry: &VersionEntry,
    context: &Context<'_>,
    now: OffsetDateTime,
) -> Option<Refusal> {
    let version = entry.version.as_str();
    let decision = context.decisions.and_then(|d| d.get(version)).copied();
    let refusal = first_refusal(config, refuse_vulnerable, name, entry, context, now);
    match (decision, refusal) {
        (Some(DecisionState::Denied), _) => Some(Refusal {
            rule: Rule::AdminDenied,
            reason: format!("`{name}@{version}` was denied by an administrator"),
        }),
        (Some(DecisionState::Approved), Some(refusal)) if refusal.rule.approvable() => None,
        (Some(DecisionState::Quarantined), None) => Some(Refusal {
            rule: Rule::Quarantined,
            reason: format!("`{name}@{version}` is in quarantine, waiting for an administrator's review"),
        }),
        (_, refusal) => refusal,
    }
}

fn first_refusal(
    config: &Config,
    refuse_vulnerable: Option<Severity>,
    name: &str,
    entry: &VersionEntry,
    context: &Context<'_>,
    now: OffsetDateTime,
) -> Option<Refusal> {
    let version = entry.version.as_str();
    let refuse = |rule, reason: String| Some(Refusal { rule, reason });
    if entry.integrity.is_none() {
        return refuse(
            Rule::NoIntegrity,
            format!("`{name}@{version}` has no integrity in the registry, so its tarball cannot be verified"),
        );
    }
    if entry.tarball_file.is_none() {
        return refuse(
            Rule::UnsafeTarballName,
            format!("`{name}@{version}` has a tarball URL whose file name is not a plain package file name"),
        );
    }
    let hits = context.advisories.and_then(|a| a.get(version));
    if let Some(hit) = hits.into_iter().flatten().find(|hit| hit.malicious) {
        return refuse(
            Rule::MaliciousAdvisory,
            format!("`{name}@{version}` is a known-malicious version ({})", hit.id),
        );
    }
    if let Some(package_refusal) = package_refusal(config, name) {
        return Some(package_refusal);
    }
    if let Some(deny) = config.bans.deny.iter().find(|deny| deny.spec.matches(name, version)) {
        let why = deny.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
        return refuse(
            Rule::Denied,
            format!("`{name}@{version}` is denied by `{}` in packages.deny{why}", deny.spec),
        );
    }
    if config.bans.mode == Mode::Allowlist && !config.bans.allow.iter().any(|spec| spec.matches(name, version)) {
        return refuse(
            Rule::NotAllowlisted,
            format!("`{name}@{version}` is outside the allowlisted versions of `{name}`"),
        );
    }
    if let Some(threshold) = refuse_vulnerable {
        let today = now.date();
        let ignored = |hit: &AdvisoryHit| {
            config.advisories.ignore.iter().any(|ignore| {
                (ignore.id == hit.id || hit.aliases.contains(&ignore.id))
                    && ignore.until.is_none_or(|until| today <= until)
            })
        };
        if let Some(hit) = hits
            .into_iter()
            .flatten()
            .find(|hit| !hit.malicious && hit.severity >= threshold && !ignored(hit))
        {
            return refuse(
                Rule::Vulnerable,
                format!(
                    "`{name}@{version}` has a {} vulnerability ({}); serve.refuse-vulnerable = \"{}\"",
                    hit.severity.as_str(),
                    hit.id,
                    threshold.as_str()
                ),
            );
        }
    }
    if let Some(minimum) = config.release_age.minimum {
        let excluded = config
            .release_age
            .exclude
            .iter()
            .any(|spec| spec.matches(name, version));
        if !excluded {
            match entry.published {
                Some(published) if now - published < minimum => {
                    let age = palisade_policy::duration::display(now - published);
                    return refuse(
                        Rule::ReleaseAge,
                        format!(
                            "`{name}@{version}` was published {age} ago; release-age.minimum is {}",
                            palisade_policy::duration::display(minimum)
                        ),
                    );
                }
                Some(_) => {}
                None => {
                    return refuse(
                        Rule::ReleaseAge,
                        format!("`{name}@{version}` has no publish time, so its age cannot be checked"),
                    )
                }
            }
        }
    }
    if !entry.install_scripts.is_empty()
        && !config
            .install_scripts
            .allow
            .iter()
            .any(|spec| spec.matches(name, version))
    {
        return refuse(
            Rule::InstallScripts,
            format!(
                "`{name}@{version}` runs install scripts ({}) and is not in install-scripts.allow",
                entry.install_scripts.join(", ")
            ),
        );
    }
    if let Some(record) = entry
        .integrity
        .as_deref()
        .and_then(|integrity| context.verdicts.and_then(|v| v.get(integrity)))
    {
        return verdict_refusal(config, name, version, record);
    }
    None
}

/// What a cached analyzer verdict means under `[scan]`.
pub fn verdict_refusal(config: &Config, name: &str, version: &str, record: &VerdictRecord) -> Option<Refusal> {
    match record.verdict {
        Verdict::Clean => None,
        Verdict::Malicious => Some(Refusal {
            rule: Rule::ScanMalicious,
            reason: format!("the analyzer found `{name}@{version}` malicious: {}", record.summary),
        }),
        Verdict::Suspicious => match config.scan.suspicious {
            Suspicious::Serve => None,
            Suspicious::Refuse => Some(Refusal {
                rule: Rule::ScanSuspicious,
                reason: format!("the analyzer found `{name}@{version}` suspicious: {}", record.summary),
            }),
            Suspicious::Quarantine => Some(Refusal {
                rule: Rule::Quarantined,
                reason: format!(
                    "the analyzer found `{name}@{version}` suspicious ({}); it is in quarantine until reviewed",
                    record.summary
                ),
            }),
        },
    }
}

/// `(tag, version)` pairs.
pub type Tags = Vec<(String, String)>;

/// The dist-tags to serve: tags whose version is kept stay; `latest` moves to
/// the highest kept version not above the original (a release before a
/// prerelease); other tags pointing at a refused version are dropped.
pub fn filtered_dist_tags(
    tags: &[(String, String)],
    versions: &[VersionEntry],
    keep: &[bool],
) -> (Tags, Option<(String, String)>) {
    let kept = |version: &str| {
        versions
            .iter()
            .zip(keep)
            .any(|(entry, keep)| *keep && entry.version == version)
    };
    let mut out = Vec::new();
    let mut moved = None;
    for (tag, version) in tags {
        if kept(version) {
            out.push((tag.clone(), version.clone()));
            continue;
        }
        if tag != "latest" {
            continue;
        }
        let ceiling = nodejs_semver::Version::parse(version).ok();
        let candidates = versions
            .iter()
            .zip(keep)
            .filter(|(_, keep)| **keep)
            .filter_map(|(entry, _)| {
                let semver = entry.semver.as_ref()?;
                match &ceiling {
                    Some(ceiling) if semver > ceiling => None,
                    _ => Some((entry, semver)),
                }
            });
        let best = candidates
            .clone()
            .filter(|(_, semver)| semver.pre_release.is_empty())
            .max_by(|a, b| a.1.cmp(b.1))
            .or_else(|| candidates.max_by(|a, b| a.1.cmp(b.1)));
        if let Some((entry, _)) = best {
            out.push((tag.clone(), entry.version.clone()));
            moved = Some((version.clone(), entry.version.clone()));
        }
    }
    (out, moved)
}
