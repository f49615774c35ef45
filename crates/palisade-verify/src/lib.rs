//! Trust verification for npm packages: is what we install what the author published?
//!
//! - [`integrity`]: bytes against a Subresource Integrity string (the lockfile's `integrity`).
//! - [`signature`]: npm registry ECDSA signatures (`dist.signatures`) with the registry keys
//!   ([`keys`]).
//! - [`provenance`]: Sigstore bundles from `/-/npm/v1/attestations/NAME@VERSION` — DSSE
//!   envelope, Fulcio certificate chain to the shipped [`trusted_root`], Rekor signed entry
//!   timestamp, RFC 6962 inclusion proof and checkpoint, in-toto subject (sha512) and SLSA
//!   predicate summary; the npm publish attestation with the registry key.
//! - [`downgrade`]: provenance, trusted-publisher and publisher downgrades across the versions of
//!   a packument, compared within one major line.
//! - [`report`]: the `palisade verify --format json` model.
//!
//! Everything here is pure: no I/O, no printing. Fetching keys, packuments and attestations is
//! `palisade-registry`'s job; this crate judges what it is given. All registry data is treated
//! as hostile: sizes are bounded, nothing panics, and a malformed signature or bundle is a
//! verification *outcome* (invalid), not an error.

pub mod downgrade;
pub mod integrity;
pub mod keys;
pub mod provenance;
pub mod report;
pub mod signature;
pub mod trusted_root;

mod crypto;
mod encoding;

pub use integrity::{check_integrity, Integrity, IntegrityError, IntegrityOutcome};
pub use keys::{KeyUsage, KeysError, RegistryKey, RegistryKeys};

pub use signature::{verify_registry_signatures, DistSignature, SignatureFailure, SignatureOutcome};

pub use provenance::{
    verify_attestations, AttestationStatus, AttestationsOutcome, BundleReport, ProvenanceFailure, ProvenanceSummary,
    VerifyContext,
};
pub use report::{Summary, TarballCheck, VerifyFinding, VerifyReport};
pub use trusted_root::{TrustedRoot, TrustedRootError};
