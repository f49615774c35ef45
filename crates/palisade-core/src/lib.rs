//! Shared types for every Palisade crate.
//!
//! The pipeline is `source → inventory → checks → findings → report`; this crate
//! holds the nouns of that sentence. It has no I/O and no opinions about formats.

mod finding;
mod graph;
mod inventory;
mod severity;

pub use finding::{bounded_excerpt, Capability, Confidence, Finding, Verdict};
pub use graph::{npm_path_to_chain, DependencyGraph};
pub use inventory::{Importer, Inventory, Package, PackageId, SourceKind, Warning};
pub use severity::{Severity, SeverityParseError};
