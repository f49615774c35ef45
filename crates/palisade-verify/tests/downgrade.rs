//! Downgrade analysis on small SYNTHETIC packuments modelled on real incidents. The names,
//! versions, accounts and times are made up; only the shape of each incident is real.

use palisade_verify::downgrade::{analyze_packument, analyze_version, DowngradeOptions, Packument, RULES};
use serde_json::json;

fn packument(value: serde_json::Value) -> Packument {
    serde_json::from_value(value).expect("synthetic packument parses")
}

fn rules(findings: &[palisade_verify::downgrade::DowngradeFinding]) -> Vec<(&str, &str)> {
    findings
        .iter()
        .map(|finding| (finding.rule, finding.earlier_version.as_str()))
        .collect()
}

const PROVENANCE: &str = r#"{"predicateType":"https://slsa.dev/provenance/v1"}"#;

/// Synthetic, shaped like nx (2025-08): CI had published with provenance; the malicious
/// versions were published with a stolen token from outside CI, without provenance.
#[test]
fn synthetic_nx_like_missing_provenance() {
    let provenance: serde_json::Value = serde_json::from_str(PROVENANCE).expect("json");
    let p = packument(json!({
        "name": "synthetic-nx",
        "versions": {
            "21.4.0": {"_npmUser": {"name": "ci-bot"}, "dist": {"attestations": {"url": "u", "provenance": provenance}}},
            "21.5.0": {"_npmUser": {"name": "ci-bot"}, "dist": {"attestations": {"url": "u", "provenance": provenance}}},
            "21.5.1": {"_npmUser": {"name": "ci-bot"}, "dist": {}},
            "20.9.0": {"_npmUser": {"name": "ci-bot"}, "dist": {}}
        },
        "time": {
            "20.9.0": "2025-05-01T00:00:00.000Z",
            "21.4.0": "2025-08-01T00:00:00.000Z",
            "21.5.0": "2025-08-20T00:00:00.000Z",
            "21.5.1": "2025-08-26T22:32:00.000Z"
        }
    }));
    let findings = analyze_version(&p, "21.5.1", &DowngradeOptions::default());
    assert_eq!(rules(&findings), vec![("provenance-downgrade", "21.5.0")]);
    assert!(findings[0].message.contains("synthetic-nx@21.5.0"));
    // The 20.x line never had provenance: no finding there (same-major-line rule).
    assert!(analyze_version(&p, "20.9.0", &DowngradeOptions::default()).is_empty());
}

/// Synthetic, shaped like chalk/debug (2025-09) as the brief models it: a patch release from
/// an account that had never published the package.
#[test]
fn synthetic_chalk_like_new_publisher() {
    let p = packument(json!({
        "name": "synthetic-chalk",
        "versions": {
            "5.6.0": {"_npmUser": {"name": "longtime-maintainer"}, "maintainers": [{"name": "longtime-maintainer"}]},
            "5.6.1": {"_npmUser": {"name": "attacker"}, "maintainers": [{"name": "longtime-maintainer"}, {"name": "attacker"}]}
        },
        "time": {"5.6.0": "2025-08-28T00:00:00Z", "5.6.1": "2025-09-08T13:16:00Z"}
    }));
    let findings = analyze_version(&p, "5.6.1", &DowngradeOptions::default());
    assert_eq!(
        rules(&findings),
        vec![("new-publisher", "5.6.0"), ("maintainers-changed", "5.6.0")]
    );
    assert!(findings[0].message.contains("`attacker`"));
    assert!(findings[1].message.contains("added [attacker]"));
}

/// Synthetic: trusted publishing (OIDC) dropped in a patch release.
#[test]
fn synthetic_trusted_publisher_dropped() {
    let p = packument(json!({
        "name": "synthetic-tp",
        "versions": {
            "2.0.0": {"_npmUser": {"name": "GitHub Actions", "trustedPublisher": {"id": "github"}},
                      "dist": {"attestations": {"provenance": {"predicateType": "https://slsa.dev/provenance/v1"}}}},
            "2.0.1": {"_npmUser": {"name": "GitHub Actions"}, "dist": {}}
        },
        "time": {"2.0.0": "2025-01-01T00:00:00Z", "2.0.1": "2025-02-01T00:00:00Z"}
    }));
    let findings = analyze_version(&p, "2.0.1", &DowngradeOptions::default());
    assert_eq!(
        rules(&findings),
        vec![
            ("trusted-publisher-downgrade", "2.0.0"),
            ("provenance-downgrade", "2.0.0")
        ]
    );
}

/// Synthetic: a release to the 1.x line two years after it went quiet, with 3.x current.
#[test]
fn synthetic_late_release_to_old_line() {
    let p = packument(json!({
        "name": "synthetic-old",
        "versions": {
            "1.4.0": {"_npmUser": {"name": "dev"}},
            "3.0.0": {"_npmUser": {"name": "dev"}},
            "1.4.1": {"_npmUser": {"name": "dev"}}
        },
        "time": {"1.4.0": "2023-01-01T00:00:00Z", "3.0.0": "2024-06-01T00:00:00Z", "1.4.1": "2025-09-15T00:00:00Z"}
    }));
    let findings = analyze_version(&p, "1.4.1", &DowngradeOptions::default());
    assert_eq!(rules(&findings), vec![("old-line-late-release", "1.4.0")]);
    // The current line releasing after a long pause is not flagged.
    assert!(analyze_version(&p, "3.0.0", &DowngradeOptions::default()).is_empty());
}

/// A new major that changed its release process is not a downgrade of the old one.
#[test]
fn no_finding_across_majors_or_for_0x_minor_lines() {
    let provenance: serde_json::Value = serde_json::from_str(PROVENANCE).expect("json");
    let p = packument(json!({
        "name": "synthetic-major",
        "versions": {
            "1.0.0": {"dist": {"attestations": {"provenance": provenance}}},
            "2.0.0": {"dist": {}},
            "0.1.0": {"dist": {"attestations": {"provenance": provenance}}},
            "0.2.0": {"dist": {}}
        },
        "time": {"0.1.0": "2023-01-01T00:00:00Z", "0.2.0": "2023-02-01T00:00:00Z",
                 "1.0.0": "2024-01-01T00:00:00Z", "2.0.0": "2024-02-01T00:00:00Z"}
    }));
    assert!(analyze_packument(&p, &DowngradeOptions::default()).is_empty());
}

/// Without `time`, order falls back to semver; legacy string maintainers parse.
#[test]
fn no_time_and_legacy_maintainers() {
    let p = packument(json!({
        "name": "synthetic-legacy",
        "versions": {
            "1.0.0": {"_npmUser": {"name": "a"}, "maintainers": ["a <a@example.invalid>"]},
            "1.0.1": {"_npmUser": {"name": "a"}, "maintainers": ["a <a@example.invalid>"]}
        }
    }));
    assert!(analyze_version(&p, "1.0.1", &DowngradeOptions::default()).is_empty());
}

#[test]
fn rule_ids_are_stable_kebab_case_and_unique() {
    let ids: Vec<&str> = RULES.iter().map(|rule| rule.id).collect();
    assert_eq!(
        ids,
        [
            "provenance-downgrade",
            "trusted-publisher-downgrade",
            "new-publisher",
            "publisher-changed",
            "maintainers-changed",
            "old-line-late-release"
        ]
    );
    for id in ids {
        assert!(id.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{id}");
    }
}
