//! The `palisade verify --format json` model (DESIGN.md, "The JSON contract"):
//! `{"summary": {signatures_verified, signatures_invalid, signatures_missing,
//! attestations_verified, attestations_invalid, attestations_missing},
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
    description: "the lockfile entry has no usable integrity, so the tarball cannot be checked",
};

/// Every rule `palisade verify` can report (downgrade rules included).
pub fn rules() -> Vec<Rule> {
    let mut rules = vec![
        SIGNATURE_INVALID,
        ATTESTATION_INVALID,
        PROVENANCE_IDENTITY_MISMATCH,
        INTEGRITY_MISMATCH,
        INTEGRITY_MISSING,
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
                    "attestations_verified": 0, "attestations_invalid": 0, "attestations_missing": 1
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
                "provenance-downgrade",
                "trusted-publisher-downgrade",
                "new-publisher",
                "publisher-changed",
                "maintainers-changed",
                "old-line-late-release"
            ]
        );
    }
}
