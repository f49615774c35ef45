//! From findings to a score and a verdict.

use palisade_core::{Capability, Finding, Severity, Verdict};

use crate::rules::PackageFacts;
use crate::{PackageRef, ScanResult};

pub fn assemble(package: &PackageFacts<'_>, findings: Vec<Finding>) -> ScanResult {
    let mut capabilities: Vec<Capability> = findings.iter().flat_map(|f| f.capabilities.iter().copied()).collect();
    capabilities.sort();
    capabilities.dedup();
    let worst = findings.iter().map(|f| f.severity).max().unwrap_or(Severity::Unknown);
    let (verdict, score) = match worst {
        Severity::Critical => (Verdict::Malicious, 0.9),
        Severity::High => (Verdict::Suspicious, 0.6),
        _ => (Verdict::Clean, 0.0),
    };
    ScanResult {
        package: PackageRef { name: package.name.clone(), version: package.version.clone() },
        verdict,
        score,
        summary: String::new(),
        files_scanned: package.files.len(),
        bytes_scanned: package.files.iter().map(|f| f.size).sum(),
        unparsed_files: Vec::new(),
        findings,
        capabilities,
    }
}
