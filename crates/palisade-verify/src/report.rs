//! The `palisade verify --format json` model (DESIGN.md, "The JSON contract"):
//! `{"summary": {signatures_verified, signatures_invalid, signatures_missing,
//! attestations_verified, attestations_invalid, attestations_missing, integrity_verified,
//! integrity_mismatched, integrity_unchecked},
//! "findings": [{rule, severity, package: {name, version}, message}]}`.
//!
//! Fields may be added; these may not be renamed or removed.

use palisade_core::{PackageId, Severity};
use serde::Serialize;

use crate::downgrade::{self, DowngradeFinding};
use crate::integrity::IntegrityOutcome;
use crate::provenance::{AttestationStatus, AttestationsOutcome, Signer};
use crate::signature::SignatureOutcome;

/// A verification rule: stable kebab-case id and default severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub description: &'static str,
}

pub const SIGNATURE_INVALID: Rule = Rule {
    id: "signature-invalid",
    severity: Severity::Critical,
    description: "the registry signature does not verify: the tarball's integrity or the metadata was altered, or the key is unknown or was expired at publish time",
};
pub const ATTESTATION_INVALID: Rule = Rule {
    id: "attestation-invalid",
    severity: Severity::Critical,
    description:
        "a Sigstore attestation (provenance or publish) does not verify, or does not name this package and tarball",
};
pub const PROVENANCE_IDENTITY_MISMATCH: Rule = Rule {
    id: "provenance-identity-mismatch",
    severity: Severity::High,
    description:
        "the Fulcio certificate's identity (repository, commit, ref) disagrees with what the SLSA provenance claims",
};
pub const INTEGRITY_MISMATCH: Rule = Rule {
    id: "integrity-mismatch",
    severity: Severity::Critical,
    description: "the tarball does not hash to the lockfile's integrity",
};
pub const INTEGRITY_MISSING: Rule = Rule {
    id: "integrity-missing",
    severity: Severity::Moderate,
    description:
        "the lockfile entry has no usable integrity, so the tarball cannot be checked (lockfile injection risk)",
};
pub const RESOLVED_NOT_ALLOWED: Rule = Rule {
    id: "resolved-not-allowed",
    severity: Severity::High,
    description: "the lockfile's `resolved` URL is not under a registry allowed by palisade.toml `[registry] allowed` (lockfile injection)",
};
pub const PROVENANCE_REQUIRED: Rule = Rule {
    id: "provenance-required",
    severity: Severity::High,
    description:
        "palisade.toml `[provenance] require` names this package, and it has no verified provenance attestation",
};

/// Every rule `palisade verify` can report (downgrade rules included).
pub fn rules() -> Vec<Rule> {
    let mut rules = vec![
        SIGNATURE_INVALID,
        ATTESTATION_INVALID,
        PROVENANCE_IDENTITY_MISMATCH,
        INTEGRITY_MISMATCH,
        INTEGRITY_MISSING,
        RESOLVED_NOT_ALLOWED,
        PROVENANCE_REQUIRED,
    ];
    rules.extend(downgrade::RULES.iter().map(|rule| Rule {
        id: rule.id,
        severity: rule.severity,
        description: rule.description,
    }));
    rules
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub signatures_verified: usize,
    pub signatures_invalid: usize,
    pub signatures_missing: usize,
    pub attestations_verified: usize,
    pub attestations_invalid: usize,
    pub attestations_missing: usize,
    /// Tarballs that hash to the lockfile's integrity.
    pub integrity_verified: usize,
    /// Tarballs (or registry integrity values) that disagree with the lockfile's.
    pub integrity_mismatched: usize,
    /// Entries with an integrity whose tarball could not be read (offline and not cached, or
    /// the registry failed): not checked, and said so rather than passed silently.
    pub integrity_unchecked: usize,
}

impl Summary {
    /// Add another partial summary (workers each keep their own).
    pub fn add(&mut self, other: &Summary) {
        self.signatures_verified += other.signatures_verified;
        self.signatures_invalid += other.signatures_invalid;
        self.signatures_missing += other.signatures_missing;
        self.attestations_verified += other.attestations_verified;
        self.attestations_invalid += other.attestations_invalid;
        self.attestations_missing += other.attestations_missing;
        self.integrity_verified += other.integrity_verified;
        self.integrity_mismatched += other.integrity_mismatched;
        self.integrity_unchecked += other.integrity_unchecked;
    }
}

/// What became of a tarball checked against the lockfile's integrity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TarballCheck {
    Verified,
    /// `expected` and `actual` are SRI strings (`sha512-…`) of the strongest algorithm.
    Mismatch {
        expected: String,
        actual: String,
    },
    /// The bytes could not be read; `reason` says why (offline and not cached, HTTP error).
    Unchecked {
        reason: String,
    },
}

/// An SRI string shortened for messages: the algorithm and the first 16 digest characters are
/// plenty to tell two digests apart, and keep table rows readable.
fn digest_prefix(sri: &str) -> String {
    sri.split_ascii_whitespace()
        .map(
            |token| match token.char_indices().nth(token.find('-').map_or(0, |dash| dash + 17)) {
                Some((end, _)) => format!("{}…", &token[..end]),
                None => token.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyFinding {
    pub rule: String,
    pub severity: Severity,
    pub package: PackageId,
    pub message: String,
    /// For downgrade findings: the earlier version that had the stronger evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earlier_version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub summary: Summary,
    pub findings: Vec<VerifyFinding>,
}

impl VerifyReport {
    fn push(&mut self, rule: Rule, package: &PackageId, message: String) {
        self.findings.push(VerifyFinding {
            rule: rule.id.to_owned(),
            severity: rule.severity,
            package: package.clone(),
            message,
            earlier_version: None,
        });
    }

    pub fn record_signature(&mut self, package: &PackageId, outcome: &SignatureOutcome) {
        match outcome {
            SignatureOutcome::Verified { .. } => self.summary.signatures_verified += 1,
            SignatureOutcome::Missing => self.summary.signatures_missing += 1,
            SignatureOutcome::Invalid { keyid, reason } => {
                self.summary.signatures_invalid += 1;
                self.push(
                    SIGNATURE_INVALID,
                    package,
                    format!("registry signature with key `{keyid}` is invalid: {}", reason.class()),
                );
            }
        }
    }

    pub fn record_attestations(&mut self, package: &PackageId, outcome: &AttestationsOutcome) {
        match outcome.status {
            AttestationStatus::Verified => self.summary.attestations_verified += 1,
            AttestationStatus::Missing => self.summary.attestations_missing += 1,
            AttestationStatus::Invalid => {
                self.summary.attestations_invalid += 1;
                let failures: Vec<String> = outcome
                    .failures()
                    .map(|(predicate, failure)| {
                        if predicate.is_empty() {
                            failure.class().to_owned()
                        } else {
                            format!("{} ({predicate})", failure.class())
                        }
                    })
                    .collect();
                self.push(
                    ATTESTATION_INVALID,
                    package,
                    format!("attestations do not verify: {}", failures.join(", ")),
                );
            }
        }
        for bundle in &outcome.bundles {
            if let Signer::Certificate { .. } = bundle.signer {
                for mismatch in &bundle.identity_mismatches {
                    self.push(
                        PROVENANCE_IDENTITY_MISMATCH,
                        package,
                        format!(
                            "{}: certificate says `{}`, provenance says `{}`",
                            mismatch.field, mismatch.certificate, mismatch.predicate
                        ),
                    );
                }
            }
        }
    }

    pub fn record_integrity(&mut self, package: &PackageId, outcome: Option<&IntegrityOutcome>) {
        match outcome {
            None => self.push(
                INTEGRITY_MISSING,
                package,
                "no sha1/sha256/sha384/sha512 integrity to check the tarball against".to_owned(),
            ),
            Some(IntegrityOutcome::Match { .. }) => {}
            Some(IntegrityOutcome::Mismatch { expected, actual, .. }) => self.push(
                INTEGRITY_MISMATCH,
                package,
                format!("tarball hashes to {actual}, the lockfile says {expected}"),
            ),
        }
    }

    /// The tarball's bytes against the integrity of `origin` (`lockfile` or `SBOM`).
    pub fn record_tarball(&mut self, package: &PackageId, origin: &str, check: &TarballCheck) {
        match check {
            TarballCheck::Verified => self.summary.integrity_verified += 1,
            TarballCheck::Unchecked { .. } => self.summary.integrity_unchecked += 1,
            TarballCheck::Mismatch { expected, actual } => {
                self.summary.integrity_mismatched += 1;
                self.push(
                    INTEGRITY_MISMATCH,
                    package,
                    format!(
                        "the tarball hashes to {}, the {origin} says {}",
                        digest_prefix(actual),
                        digest_prefix(expected)
                    ),
                );
            }
        }
    }

    /// The `origin`'s integrity disagrees with the registry's `dist.integrity`: whatever the
    /// tarball is, one of the two was altered (lockfile injection, or a re-published artifact).
    pub fn record_registry_disagreement(&mut self, package: &PackageId, origin: &str, ours: &str, registry: &str) {
        self.summary.integrity_mismatched += 1;
        self.push(
            INTEGRITY_MISMATCH,
            package,
            format!(
                "the {origin} says {}, the registry's dist.integrity is {}",
                digest_prefix(ours),
                digest_prefix(registry)
            ),
        );
    }

    /// An entry with no usable integrity (`origin`: `lockfile` or `SBOM`).
    pub fn record_integrity_missing(&mut self, package: &PackageId, origin: &str) {
        self.push(
            INTEGRITY_MISSING,
            package,
            format!(
                "the {origin} entry has no usable sha1/sha256/sha384/sha512 integrity to check the tarball against"
            ),
        );
    }

    /// A `resolved` URL outside the allowed registries.
    pub fn record_resolved_not_allowed(&mut self, package: &PackageId, resolved: &str, allowed: &[String]) {
        self.push(
            RESOLVED_NOT_ALLOWED,
            package,
            format!(
                "resolved from `{resolved}`, which is not under an allowed registry ({})",
                allowed.join(", ")
            ),
        );
    }

    /// `[provenance] require` matched `spec` and no attestation verified.
    pub fn record_provenance_required(&mut self, package: &PackageId, spec: &str, why: &str) {
        self.push(
            PROVENANCE_REQUIRED,
            package,
            format!("palisade.toml requires provenance for `{spec}`, and {why}"),
        );
    }

    pub fn record_downgrades(&mut self, findings: impl IntoIterator<Item = DowngradeFinding>) {
        self.findings.extend(findings.into_iter().map(|finding| VerifyFinding {
            rule: finding.rule.to_owned(),
            severity: finding.severity,
            package: finding.package,
            message: finding.message,
            earlier_version: Some(finding.earlier_version),
        }));
    }

    /// The most severe finding, for `--fail-on`.
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|finding| finding.severity).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::SignatureFailure;

    #[test]
    fn json_shape_matches_design() {
        let mut report = VerifyReport::default();
        let package = PackageId::new("left-pad", "1.3.0");
        report.record_signature(
            &package,
            &SignatureOutcome::Invalid {
                keyid: "SHA256:k".to_owned(),
                reason: SignatureFailure::BadSignature,
            },
        );
        report.record_signature(&package, &SignatureOutcome::Missing);
        report.record_attestations(&package, &AttestationsOutcome::missing());
        let value = serde_json::to_value(&report).expect("serialises");
        assert_eq!(
            value,
            serde_json::json!({
                "summary": {
                    "signatures_verified": 0, "signatures_invalid": 1, "signatures_missing": 1,
                    "attestations_verified": 0, "attestations_invalid": 0, "attestations_missing": 1,
                    "integrity_verified": 0, "integrity_mismatched": 0, "integrity_unchecked": 0
                },
                "findings": [{
                    "rule": "signature-invalid",
                    "severity": "critical",
                    "package": {"name": "left-pad", "version": "1.3.0"},
                    "message": "registry signature with key `SHA256:k` is invalid: bad-signature"
                }]
            })
        );
        assert_eq!(report.max_severity(), Some(Severity::Critical));
    }

    #[test]
    fn rule_ids_are_unique_and_stable() {
        let ids: Vec<&str> = rules().iter().map(|rule| rule.id).collect();
        assert_eq!(
            ids,
            [
                "signature-invalid",
                "attestation-invalid",
                "provenance-identity-mismatch",
                "integrity-mismatch",
                "integrity-missing",
                "resolved-not-allowed",
                "provenance-required",
                "provenance-downgrade",
                "trusted-publisher-downgrade",
                "new-publisher",
                "publisher-changed",
                "maintainers-changed",
                "old-line-late-release"
            ]
        );
    }

    #[test]
    fn tarball_mismatch_names_both_digest_prefixes() {
        let mut report = VerifyReport::default();
        let package = PackageId::new("left-pad", "1.3.0");
        let expected = format!("sha512-{}", "A".repeat(86));
        let actual = format!("sha512-{}", "B".repeat(86));
        report.record_tarball(&package, "lockfile", &TarballCheck::Mismatch { expected, actual });
        report.record_tarball(&package, "lockfile", &TarballCheck::Verified);
        report.record_tarball(
            &package,
            "lockfile",
            &TarballCheck::Unchecked {
                reason: "offline".to_owned(),
            },
        );
        assert_eq!(
            report.findings[0].message,
            "the tarball hashes to sha512-BBBBBBBBBBBBBBBB…, the lockfile says sha512-AAAAAAAAAAAAAAAA…"
        );
        assert_eq!(report.findings[0].severity, Severity::Critical);
        assert_eq!(
            (
                report.summary.integrity_verified,
                report.summary.integrity_mismatched,
                report.summary.integrity_unchecked
            ),
            (1, 1, 1)
        );
        // Short or odd strings are left whole rather than sliced mid-character.
        assert_eq!(digest_prefix("sha1-é"), "sha1-é");
    }
}
