//! Provenance and publisher downgrades: the footprints of stolen-token releases.
//!
//! A maintainer who publishes from CI with provenance (or through npm trusted publishing)
//! does not suddenly publish a patch from a laptop. When a version lacks the evidence its
//! predecessors had, or comes from a publisher the package has never seen, or lands on an old
//! major line long after that line went quiet, it deserves a look: the nx compromise (2025-08)
//! published versions without the provenance earlier ones had; the chalk/debug compromise
//! (2025-09) and Shai-Hulud published with stolen credentials.
//!
//! Comparisons stay within one *major line* (`1.x`, or `0.N.x` for 0.x packages, following
//! caret semantics): pnpm's `trustPolicy: no-downgrade` compares across majors, and the noise
//! of a new major that legitimately changed its release process makes users turn it off.
//! Every finding names the earlier version that had the stronger evidence.
//!
//! Pure functions over a packument model; fetching is `palisade-registry`'s job.

use std::collections::{BTreeMap, BTreeSet};

use nodejs_semver::Version;
use palisade_core::{PackageId, Severity};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::encoding::parse_time;
use crate::signature::DistSignature;

/// The parts of a packument (npm registry `GET /NAME`) downgrade analysis reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Packument {
    pub name: String,
    #[serde(default)]
    pub versions: BTreeMap<String, PackumentVersion>,
    /// `time[version]`: publish times (also `created`/`modified`, ignored here).
    #[serde(default)]
    pub time: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PackumentVersion {
    /// Who published this version; `trustedPublisher` is set for npm trusted publishing (OIDC).
    #[serde(rename = "_npmUser", default)]
    pub npm_user: Option<NpmUser>,
    #[serde(default, deserialize_with = "people")]
    pub maintainers: Vec<Person>,
    #[serde(default)]
    pub dist: Dist,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NpmUser {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(rename = "trustedPublisher", default)]
    pub trusted_publisher: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Person {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Dist {
    /// Where the registry serves the tarball (what `palisade verify` hashes).
    #[serde(default)]
    pub tarball: Option<String>,
    #[serde(default)]
    pub integrity: Option<String>,
    #[serde(default)]
    pub shasum: Option<String>,
    #[serde(default)]
    pub signatures: Vec<DistSignature>,
    #[serde(default)]
    pub attestations: Option<DistAttestations>,
}

/// `dist.attestations`: `{url, provenance: {predicateType}}`; `provenance` is present only
/// when a SLSA provenance attestation was published (npm docs, "Generating provenance
/// statements").
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DistAttestations {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub provenance: Option<serde_json::Value>,
}

/// Old packuments write maintainers as `"name <email>"` strings; newer ones as objects.
fn people<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<Person>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Entry {
        Object(Person),
        Text(String),
        Other(serde::de::IgnoredAny),
    }
    let entries = Option::<Vec<Entry>>::deserialize(deserializer)?.unwrap_or_default();
    Ok(entries
        .into_iter()
        .filter_map(|entry| match entry {
            Entry::Object(person) => Some(person),
            Entry::Text(text) => {
                let name = text.split('<').next().unwrap_or(&text).trim().to_owned();
                Some(Person { name, email: None })
            }
            Entry::Other(_) => None,
        })
        .collect())
}

impl Packument {
    /// `time[version]` as a time, when present and well-formed.
    pub fn published(&self, version: &str) -> Option<OffsetDateTime> {
        self.time.get(version).and_then(|text| parse_time(text))
    }
}

impl PackumentVersion {
    pub fn has_provenance(&self) -> bool {
        self.dist
            .attestations
            .as_ref()
            .is_some_and(|attestations| attestations.provenance.is_some())
    }

    pub fn has_trusted_publisher(&self) -> bool {
        self.npm_user
            .as_ref()
            .is_some_and(|user| user.trusted_publisher.is_some())
    }

    fn publisher(&self) -> Option<&str> {
        self.npm_user
            .as_ref()
            .map(|user| user.name.as_str())
            .filter(|name| !name.is_empty())
    }
}

/// A downgrade rule: stable kebab-case id, default severity, what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub description: &'static str,
}

pub const PROVENANCE_DOWNGRADE: Rule = Rule {
    id: "provenance-downgrade",
    severity: Severity::High,
    description: "version has no provenance attestation although an earlier version of the same major line had one",
};
pub const TRUSTED_PUBLISHER_DOWNGRADE: Rule = Rule {
    id: "trusted-publisher-downgrade",
    severity: Severity::High,
    description:
        "version was not published by a trusted publisher (OIDC) although an earlier version of the same major line was",
};
pub const NEW_PUBLISHER: Rule = Rule {
    id: "new-publisher",
    severity: Severity::High,
    description: "version was published by an account that never published this package before",
};
pub const PUBLISHER_CHANGED: Rule = Rule {
    id: "publisher-changed",
    severity: Severity::Low,
    description: "version was published by a different account than the previous version",
};
pub const MAINTAINERS_CHANGED: Rule = Rule {
    id: "maintainers-changed",
    severity: Severity::Moderate,
    description: "the maintainer set changed at this version",
};
pub const OLD_LINE_LATE_RELEASE: Rule = Rule {
    id: "old-line-late-release",
    severity: Severity::Moderate,
    description: "version published to an old major line long after that line's previous release",
};

/// Every downgrade rule, for `palisade explain` and the stable-ids test.
pub const RULES: &[Rule] = &[
    PROVENANCE_DOWNGRADE,
    TRUSTED_PUBLISHER_DOWNGRADE,
    NEW_PUBLISHER,
    PUBLISHER_CHANGED,
    MAINTAINERS_CHANGED,
    OLD_LINE_LATE_RELEASE,
];

/// Tunables.
#[derive(Debug, Clone, Copy)]
pub struct DowngradeOptions {
    /// How long an old major line must have been quiet for a new release on it to be flagged.
    pub late_release_gap: Duration,
}

impl Default for DowngradeOptions {
    fn default() -> Self {
        Self {
            late_release_gap: Duration::days(180),
        }
    }
}

/// One downgrade finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DowngradeFinding {
    pub rule: &'static str,
    pub severity: Severity,
    pub package: PackageId,
    /// The earlier version that had the stronger evidence (or the established publisher).
    pub earlier_version: String,
    pub message: String,
}

/// `1.x` lines by major; `0.N.x` lines by minor (caret semantics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Line(u64, Option<u64>);

struct Entry<'a> {
    version: &'a str,
    semver: Version,
    line: Line,
    published: Option<OffsetDateTime>,
    data: &'a PackumentVersion,
}

impl Entry<'_> {
    /// Published before `other`: by publish time when both are known, else by semver.
    fn before(&self, other: &Entry<'_>) -> bool {
        match (self.published, other.published) {
            (Some(a), Some(b)) => a < b,
            _ => self.semver < other.semver,
        }
    }
}

fn entries(packument: &Packument) -> Vec<Entry<'_>> {
    let mut entries: Vec<Entry<'_>> = packument
        .versions
        .iter()
        .filter_map(|(version, data)| {
            let semver: Version = version.parse().ok()?;
            let line = if semver.major == 0 {
                Line(0, Some(semver.minor))
            } else {
                Line(semver.major, None)
            };
            Some(Entry {
                version,
                published: packument.time.get(version).and_then(|t| parse_time(t)),
                line,
                semver,
                data,
            })
        })
        .collect();
    entries.sort_by(|a, b| match (a.published, b.published) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => a.semver.cmp(&b.semver),
    });
    entries
}

/// Analyse one version (the one a lockfile pins) against the rest of its packument.
pub fn analyze_version(packument: &Packument, version: &str, options: &DowngradeOptions) -> Vec<DowngradeFinding> {
    let entries = entries(packument);
    let Some(current) = entries.iter().find(|entry| entry.version == version) else {
        return Vec::new();
    };
    let earlier: Vec<&Entry<'_>> = entries
        .iter()
        .filter(|entry| entry.version != version && entry.before(current))
        .collect();
    let same_line: Vec<&Entry<'_>> = earlier
        .iter()
        .copied()
        .filter(|entry| entry.line == current.line)
        .collect();
    let package = PackageId::new(packument.name.clone(), version);
    let mut findings = Vec::new();
    let mut push = |rule: Rule, earlier_version: &str, message: String| {
        findings.push(DowngradeFinding {
            rule: rule.id,
            severity: rule.severity,
            package: package.clone(),
            earlier_version: earlier_version.to_owned(),
            message,
        });
    };
    let name = &packument.name;

    // Trusted publishing is the stronger evidence (it implies provenance); report the
    // strongest downgrade and name the latest earlier version that had it.
    if !current.data.has_trusted_publisher() {
        if let Some(previous) = same_line.iter().rev().find(|e| e.data.has_trusted_publisher()) {
            push(
                TRUSTED_PUBLISHER_DOWNGRADE,
                previous.version,
                format!(
                    "{name}@{version} was not published by a trusted publisher, but {name}@{} (same major line) was",
                    previous.version
                ),
            );
        }
    }
    if !current.data.has_provenance() {
        if let Some(previous) = same_line.iter().rev().find(|e| e.data.has_provenance()) {
            push(
                PROVENANCE_DOWNGRADE,
                previous.version,
                format!(
                    "{name}@{version} has no provenance attestation, but {name}@{} (same major line) had one",
                    previous.version
                ),
            );
        }
    }

    // Publisher: never seen before is the stolen-token signature; merely different is common
    // in teams and stays low.
    let previous = earlier.last();
    if let (Some(publisher), Some(previous)) = (current.data.publisher(), previous) {
        let known: BTreeSet<&str> = earlier.iter().filter_map(|e| e.data.publisher()).collect();
        if !known.is_empty() && !known.contains(publisher) {
            let established = previous.data.publisher().unwrap_or("an unknown account");
            push(
                NEW_PUBLISHER,
                previous.version,
                format!(
                    "{name}@{version} was published by `{publisher}`, who never published {name} before; {name}@{} was published by `{established}`",
                    previous.version
                ),
            );
        } else if let Some(before) = previous.data.publisher().filter(|p| *p != publisher) {
            push(
                PUBLISHER_CHANGED,
                previous.version,
                format!(
                    "{name}@{version} was published by `{publisher}`, {name}@{} by `{before}`",
                    previous.version
                ),
            );
        }
    }

    // Maintainer set.
    if let Some(previous) = previous {
        let now: BTreeSet<&str> = current.data.maintainers.iter().map(|p| p.name.as_str()).collect();
        let before: BTreeSet<&str> = previous.data.maintainers.iter().map(|p| p.name.as_str()).collect();
        if !now.is_empty() && !before.is_empty() && now != before {
            let added: Vec<&str> = now.difference(&before).copied().collect();
            let removed: Vec<&str> = before.difference(&now).copied().collect();
            push(
                MAINTAINERS_CHANGED,
                previous.version,
                format!(
                    "maintainers changed between {name}@{} and {name}@{version}: added [{}], removed [{}]",
                    previous.version,
                    added.join(", "),
                    removed.join(", ")
                ),
            );
        }
    }

    // A late release on an old line: a newer line exists (released before this version), and
    // this line had been quiet for longer than the gap.
    if let (Some(published), Some(line_previous)) = (current.published, same_line.last()) {
        let newer_line_exists = earlier.iter().any(|e| e.line > current.line);
        let gap = line_previous.published.map(|before| published - before);
        if let Some(gap) = gap.filter(|gap| newer_line_exists && *gap >= options.late_release_gap) {
            push(
                OLD_LINE_LATE_RELEASE,
                line_previous.version,
                format!(
                    "{name}@{version} was published {} days after {name}@{}, on a major line that newer releases had superseded",
                    gap.whole_days(),
                    line_previous.version
                ),
            );
        }
    }
    findings
}

/// Analyse every version of the packument.
pub fn analyze_packument(packument: &Packument, options: &DowngradeOptions) -> Vec<DowngradeFinding> {
    packument
        .versions
        .keys()
        .flat_map(|version| analyze_version(packument, version, options))
        .collect()
}
