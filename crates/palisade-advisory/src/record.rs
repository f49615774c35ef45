//! The OSV record as read from JSON, and its conversion into what the index
//! stores: only npm `affected` entries, ranges validated, kind and severity
//! decided once at import so the match path never re-reads raw JSON.
//!
//! Schema: <https://ossf.github.io/osv-schema/>. Deserialisation is lenient
//! (unknown fields ignored, `null` accepted where a list is expected) because
//! real records from different databases differ in what they leave out.

use palisade_core::Severity;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::cvss;
use crate::range::{EventKind, Range};
use crate::AdvisoryKind;

/// Longest id we accept; real ids are < 64 characters.
const MAX_ID_LENGTH: usize = 256;

#[derive(Debug, Deserialize)]
struct OsvRecord {
    id: String,
    modified: Option<String>,
    published: Option<String>,
    withdrawn: Option<String>,
    aliases: Option<Vec<String>>,
    summary: Option<String>,
    details: Option<String>,
    severity: Option<Vec<OsvSeverity>>,
    affected: Option<Vec<OsvAffected>>,
    references: Option<Vec<OsvReference>>,
    database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct OsvSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Debug, Deserialize)]
struct OsvAffected {
    package: Option<OsvPackage>,
    ranges: Option<Vec<OsvRange>>,
    versions: Option<Vec<String>>,
    severity: Option<Vec<OsvSeverity>>,
}

#[derive(Debug, Deserialize)]
struct OsvPackage {
    ecosystem: String,
    name: String,
}

#[derive(Debug, Deserialize)]
struct OsvRange {
    #[serde(rename = "type")]
    kind: String,
    events: Option<Vec<OsvEvent>>,
}

#[derive(Debug, Deserialize)]
struct OsvEvent {
    introduced: Option<String>,
    fixed: Option<String>,
    last_affected: Option<String>,
    limit: Option<String>,
}

#[derive(Debug, Deserialize)]
struct OsvReference {
    url: Option<String>,
}

/// The ranges and versions of one npm `affected` entry, as stored in the
/// index (compact JSON: `{"r": [[["i","0"],["f","1.0.1"]]], "v": ["1.0.0"]}`).
/// Only ranges whose every version parsed are kept.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct StoredAffected {
    #[serde(rename = "r", default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Vec<(EventKind, String)>>,
    #[serde(rename = "v", default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
}

/// One npm `affected` entry of a record.
#[derive(Debug, Clone)]
pub(crate) struct AffectedEntry {
    pub package: String,
    pub spec: StoredAffected,
}

/// A record ready to be stored.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub id: String,
    pub kind: AdvisoryKind,
    pub severity: Severity,
    pub cvss_vector: Option<String>,
    pub summary: String,
    pub details: String,
    pub aliases: Vec<String>,
    pub published: Option<String>,
    pub modified: String,
    /// `modified` as Unix seconds, for "newer wins"; `i64::MIN` when absent or unreadable.
    pub modified_ts: i64,
    pub references: Vec<String>,
    pub source: String,
    pub affected: Vec<AffectedEntry>,
}

/// What one JSON document turned out to be.
#[derive(Debug)]
pub(crate) enum Parsed {
    Record {
        record: Box<Record>,
        invalid_ranges: usize,
    },
    /// OSV § withdrawn: the record must not be matched; an older copy in the
    /// index is removed.
    Withdrawn {
        id: String,
        modified_ts: i64,
    },
    /// No `affected` entry for the npm ecosystem.
    NotNpm,
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    // serde_json stops at 128 levels of nesting, which bounds hostile input.
    let raw: OsvRecord = serde_json::from_slice(bytes).map_err(|error| format!("not an OSV record: {error}"))?;
    convert(raw)
}

fn convert(raw: OsvRecord) -> Result<Parsed, String> {
    if raw.id.is_empty() || raw.id.len() > MAX_ID_LENGTH {
        return Err("`id` is empty or too long".into());
    }
    let modified = raw.modified.unwrap_or_default();
    let modified_ts = parse_timestamp(&modified).unwrap_or(i64::MIN);
    if raw.withdrawn.is_some() {
        return Ok(Parsed::Withdrawn {
            id: raw.id,
            modified_ts,
        });
    }

    let mut invalid_ranges = 0;
    let mut affected = Vec::new();
    let mut affected_vectors = Vec::new();
    for entry in raw.affected.unwrap_or_default() {
        let Some(package) = entry.package else { continue };
        // OSV § affected[].package: the npm ecosystem is the exact string
        // "npm" (ecosystems with variants use "Name:suffix"; npm has none).
        if package.ecosystem != "npm" || package.name.is_empty() {
            continue;
        }
        let mut spec = StoredAffected {
            ranges: Vec::new(),
            versions: entry.versions.unwrap_or_default(),
        };
        for range in entry.ranges.unwrap_or_default() {
            // SEMVER and ECOSYSTEM are both SemVer precedence for npm; GIT
            // ranges talk about commits, which a lockfile version never is.
            if range.kind != "SEMVER" && range.kind != "ECOSYSTEM" {
                continue;
            }
            match validate_range(range.events.unwrap_or_default()) {
                Some(events) => spec.ranges.push(events),
                None => invalid_ranges += 1,
            }
        }
        affected_vectors.extend(entry.severity.unwrap_or_default());
        affected.push(AffectedEntry {
            package: package.name,
            spec,
        });
    }
    if affected.is_empty() {
        return Ok(Parsed::NotNpm);
    }

    let aliases: Vec<String> = raw
        .aliases
        .unwrap_or_default()
        .into_iter()
        .filter(|alias| !alias.is_empty())
        .collect();
    let database_specific = raw.database_specific.unwrap_or(serde_json::Value::Null);
    let kind = if raw.id.starts_with("MAL-")
        || aliases.iter().any(|alias| alias.starts_with("MAL-"))
        || has_malicious_cwe(&database_specific)
    {
        AdvisoryKind::Malicious
    } else {
        AdvisoryKind::Vulnerability
    };

    let vectors: Vec<OsvSeverity> = raw
        .severity
        .unwrap_or_default()
        .into_iter()
        .chain(affected_vectors)
        .collect();
    let v3 = vectors.iter().find(|s| s.kind == "CVSS_V3").map(|s| s.score.clone());
    let v4 = vectors.iter().find(|s| s.kind == "CVSS_V4").map(|s| s.score.clone());
    let database_severity = database_specific
        .get("severity")
        .and_then(serde_json::Value::as_str)
        .and_then(|text| text.parse::<Severity>().ok());
    let severity = match kind {
        AdvisoryKind::Malicious => Severity::Critical,
        AdvisoryKind::Vulnerability => database_severity
            .or_else(|| {
                v3.as_deref()
                    .and_then(cvss::base_score_v3)
                    .map(Severity::from_cvss_score)
            })
            .unwrap_or(Severity::Unknown),
    };

    Ok(Parsed::Record {
        record: Box::new(Record {
            source: source_of(&raw.id),
            kind,
            severity,
            cvss_vector: v3.or(v4),
            summary: raw.summary.unwrap_or_default(),
            details: raw.details.unwrap_or_default(),
            aliases,
            published: raw.published,
            modified,
            modified_ts,
            references: raw
                .references
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| r.url)
                .collect(),
            affected,
            id: raw.id,
        }),
        invalid_ranges,
    })
}

/// Checks every event of a range; `None` if any is unusable (then the whole
/// range is skipped: dropping one bound would change what the range means).
fn validate_range(events: Vec<OsvEvent>) -> Option<Vec<(EventKind, String)>> {
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        // OSV § events: each event object has exactly one of the four keys.
        let mut present = [
            (EventKind::Introduced, event.introduced),
            (EventKind::Fixed, event.fixed),
            (EventKind::LastAffected, event.last_affected),
            (EventKind::Limit, event.limit),
        ]
        .into_iter()
        .filter_map(|(kind, value)| value.map(|value| (kind, value)));
        let first = present.next()?;
        if present.next().is_some() {
            return None;
        }
        out.push(first);
    }
    if out.is_empty() || Range::new(&out).is_err() {
        return None;
    }
    Some(out)
}

fn has_malicious_cwe(database_specific: &serde_json::Value) -> bool {
    database_specific
        .get("cwe_ids")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|ids| ids.iter().any(|id| id.as_str() == Some("CWE-506")))
}

/// The database a record comes from, by its id prefix (OSV § id: "the prefix
/// identifies the database").
pub(crate) fn source_of(id: &str) -> String {
    match id.split_once('-').map(|(prefix, _)| prefix) {
        Some("GHSA") => "ghsa".into(),
        Some("MAL") => "ossf-malicious-packages".into(),
        Some(prefix) if !prefix.is_empty() => prefix.to_ascii_lowercase(),
        _ => "unknown".into(),
    }
}

/// RFC 3339 as OSV § modified requires; Unix seconds.
pub(crate) fn parse_timestamp(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(json: &str) -> (Record, usize) {
        match parse(json.as_bytes()) {
            Ok(Parsed::Record { record, invalid_ranges }) => (*record, invalid_ranges),
            other => panic!("expected a record, got {other:?}"),
        }
    }

    #[test]
    fn keeps_only_npm_and_semver_ranges() {
        let (record, invalid) = record(
            r#"{"id":"GHSA-aaaa-bbbb-cccc","modified":"2024-01-01T00:00:00Z",
            "affected":[
              {"package":{"ecosystem":"PyPI","name":"x"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]},
              {"package":{"ecosystem":"npm","name":"x"},"ranges":[
                {"type":"GIT","repo":"https://example.invalid","events":[{"introduced":"abc"}]},
                {"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]},
                {"type":"ECOSYSTEM","events":[{"introduced":"2.0.0"},{"fixed":"nope"}]}]}]}"#,
        );
        assert_eq!(record.affected.len(), 1);
        assert_eq!(record.affected[0].spec.ranges.len(), 1);
        assert_eq!(invalid, 1);
        assert_eq!(record.kind, AdvisoryKind::Vulnerability);
        assert_eq!(record.severity, Severity::Unknown);
    }

    #[test]
    fn withdrawn_and_non_npm() {
        let withdrawn =
            parse(br#"{"id":"MAL-1","modified":"2024-01-01T00:00:00Z","withdrawn":"2024-01-02T00:00:00Z"}"#);
        assert!(matches!(withdrawn, Ok(Parsed::Withdrawn { .. })));
        let pypi = parse(br#"{"id":"X-1","affected":[{"package":{"ecosystem":"PyPI","name":"x"}}]}"#);
        assert!(matches!(pypi, Ok(Parsed::NotNpm)));
        assert!(parse(b"{").is_err());
        assert!(parse(b"[]").is_err());
        let deep = "[".repeat(100_000);
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn kind_and_severity() {
        let json = |id: &str, extra: &str| {
            format!(
                r#"{{"id":"{id}","modified":"2024-01-01T00:00:00Z",{extra}
                "affected":[{{"package":{{"ecosystem":"npm","name":"x"}},"versions":["1.0.0"]}}]}}"#
            )
        };
        let (mal, _) = record(&json("MAL-2024-1", ""));
        assert_eq!((mal.kind, mal.severity), (AdvisoryKind::Malicious, Severity::Critical));
        let (cwe, _) = record(&json(
            "GHSA-x",
            r#""database_specific":{"cwe_ids":["CWE-506"],"severity":"LOW"},"#,
        ));
        assert_eq!((cwe.kind, cwe.severity), (AdvisoryKind::Malicious, Severity::Critical));
        let (alias, _) = record(&json("GHSA-y", r#""aliases":["MAL-2025-9"],"#));
        assert_eq!(alias.kind, AdvisoryKind::Malicious);
        let (db, _) = record(&json(
            "GHSA-z",
            r#""database_specific":{"severity":"MODERATE"},"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],"#,
        ));
        assert_eq!(
            (db.kind, db.severity),
            (AdvisoryKind::Vulnerability, Severity::Moderate)
        );
        let (v3, _) = record(&json(
            "GHSA-w",
            r#""severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],"#,
        ));
        assert_eq!(v3.severity, Severity::Critical);
        let (v4, _) = record(&json(
            "GHSA-v",
            r#""severity":[{"type":"CVSS_V4","score":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}],"#,
        ));
        assert_eq!(v4.severity, Severity::Unknown);
        assert!(v4.cvss_vector.is_some_and(|v| v.starts_with("CVSS:4.0")));
    }

    #[test]
    fn sources() {
        assert_eq!(source_of("GHSA-1"), "ghsa");
        assert_eq!(source_of("MAL-2025-1"), "ossf-malicious-packages");
        assert_eq!(source_of("CVE-2020-1"), "cve");
        assert_eq!(source_of("weird"), "unknown");
    }

    proptest::proptest! {
        /// Hostile input never panics: any bytes are a record, a skip reason or
        /// an ignore, and any event strings either validate or are rejected.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn arbitrary_ranges_never_panic(
            events in proptest::collection::vec(("(introduced|fixed|last_affected|limit)", "[0-9a-z.*+-]{0,12}"), 0..6),
            version in "[0-9a-z.+-]{0,12}",
        ) {
            let events: Vec<String> = events.iter().map(|(kind, value)| format!(r#"{{"{kind}":"{value}"}}"#)).collect();
            let json = format!(
                r#"{{"id":"GHSA-p","modified":"2024-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"npm","name":"p"}},"ranges":[{{"type":"SEMVER","events":[{}]}}]}}]}}"#,
                events.join(",")
            );
            if let Ok(Parsed::Record { record, .. }) = parse(json.as_bytes()) {
                for events in &record.affected[0].spec.ranges {
                    let range = Range::new(events).expect("stored ranges are valid");
                    if let Some(parsed) = crate::range::parse_version(&version) {
                        let _ = range.contains(&parsed);
                        let _ = range.fix_above(&parsed);
                    }
                }
            }
        }
    }
}
