//! X.509 (RFC 5280) for Fulcio: leaf certificates issued to a CI workflow identity, checked
//! against the CA chains of the trusted root, plus Fulcio's identity extensions.

use der::asn1::{ObjectIdentifier, Utf8StringRef};
use der::{Decode as _, Encode as _};
use serde::Serialize;
use time::OffsetDateTime;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::Certificate;

use crate::crypto::{HashAlg, PublicKey, SigCheck, ECDSA_WITH_SHA256, ECDSA_WITH_SHA384};

/// A certificate decoded once, with what verification needs at hand.
#[derive(Debug, Clone)]
pub(crate) struct ParsedCertificate {
    pub(crate) der: Vec<u8>,
    pub(crate) cert: Certificate,
    tbs_der: Vec<u8>,
    pub(crate) key: Option<PublicKey>,
}

const ID_CE_SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");

impl ParsedCertificate {
    pub(crate) fn from_der(der: &[u8]) -> Option<Self> {
        let cert = Certificate::from_der(der).ok()?;
        // der is a strict DER decoder, so re-encoding the TBS gives back the signed bytes.
        let tbs_der = cert.tbs_certificate.to_der().ok()?;
        let key = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .ok()
            .and_then(|spki| PublicKey::from_spki_der(&spki));
        Some(Self {
            der: der.to_vec(),
            cert,
            tbs_der,
            key,
        })
    }

    /// Whether `issuer` issued this certificate: names chain and the signature verifies
    /// (RFC 5280 §6.1.3 (a)(1) and (a)(4)).
    pub(crate) fn is_signed_by(&self, issuer: &ParsedCertificate) -> bool {
        if self.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject {
            return false;
        }
        let Some(key) = issuer.key.as_ref() else {
            return false;
        };
        let hash = match self.cert.signature_algorithm.oid {
            oid if oid == ECDSA_WITH_SHA256 => HashAlg::Sha256,
            oid if oid == ECDSA_WITH_SHA384 => HashAlg::Sha384,
            _ => return false,
        };
        let Some(signature) = self.cert.signature.as_bytes() else {
            return false;
        };
        key.verify_with(hash, &self.tbs_der, signature) == SigCheck::Valid
    }

    /// notBefore ≤ when ≤ notAfter (RFC 5280 §4.1.2.5).
    pub(crate) fn valid_at(&self, when: OffsetDateTime) -> bool {
        let validity = &self.cert.tbs_certificate.validity;
        let seconds =
            |time: x509_cert::time::Time| i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
        let now = when.unix_timestamp();
        seconds(validity.not_before) <= now && now <= seconds(validity.not_after)
    }

    /// The SubjectPublicKeyInfo in DER, to compare with the Rekor entry's verifier.
    pub(crate) fn spki_der(&self) -> Option<Vec<u8>> {
        self.cert.tbs_certificate.subject_public_key_info.to_der().ok()
    }

    fn extension(&self, oid: &ObjectIdentifier) -> Option<&[u8]> {
        self.cert
            .tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|extension| &extension.extn_id == oid)
            .map(|extension| extension.extn_value.as_bytes())
    }

    /// Fulcio's identity extensions (sigstore/fulcio `docs/oid-info.md`).
    pub(crate) fn identity(&self) -> CertificateIdentity {
        // 1.3.6.1.4.1.57264.1.1–.6 are the deprecated forms: the raw UTF-8 bytes, not DER.
        let raw = |arc: u32| -> Option<String> {
            let oid = fulcio_oid(arc)?;
            self.extension(&oid)
                .and_then(|bytes| std::str::from_utf8(bytes).ok())
                .map(str::to_owned)
        };
        // 1.3.6.1.4.1.57264.1.8 onwards are DER-encoded UTF8String.
        let utf8 = |arc: u32| -> Option<String> {
            let oid = fulcio_oid(arc)?;
            self.extension(&oid)
                .and_then(|bytes| Utf8StringRef::from_der(bytes).ok())
                .map(|text| text.as_str().to_owned())
        };
        CertificateIdentity {
            subject_alternative_name: self.subject_alternative_name(),
            issuer: utf8(8).or_else(|| raw(1)),
            source_repository_uri: utf8(12)
                .or_else(|| raw(5).map(|repository| format!("https://github.com/{repository}"))),
            source_repository_digest: utf8(13).or_else(|| raw(3)),
            source_repository_ref: utf8(14).or_else(|| raw(6)),
            build_signer_uri: utf8(9),
            build_trigger: utf8(20).or_else(|| raw(2)),
        }
    }

    fn subject_alternative_name(&self) -> Option<String> {
        let bytes = self.extension(&ID_CE_SUBJECT_ALT_NAME)?;
        let names = SubjectAltName::from_der(bytes).ok()?;
        names.0.iter().find_map(|name| match name {
            GeneralName::UniformResourceIdentifier(uri) => Some(ia5(uri)),
            GeneralName::Rfc822Name(email) => Some(ia5(email)),
            _ => None,
        })
    }
}

fn ia5(text: &der::asn1::Ia5String) -> String {
    text.to_string()
}

fn fulcio_oid(arc: u32) -> Option<ObjectIdentifier> {
    ObjectIdentifier::new(&format!("1.3.6.1.4.1.57264.1.{arc}")).ok()
}

/// Who the Fulcio certificate was issued to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CertificateIdentity {
    /// The SAN: for GitHub Actions, the workflow URI `https://github.com/O/R/.github/workflows/W@REF`.
    pub subject_alternative_name: Option<String>,
    /// OIDC issuer (`https://token.actions.githubusercontent.com`).
    pub issuer: Option<String>,
    pub source_repository_uri: Option<String>,
    pub source_repository_digest: Option<String>,
    pub source_repository_ref: Option<String>,
    pub build_signer_uri: Option<String>,
    pub build_trigger: Option<String>,
}
