//! `archive-anomaly`: what the safe extractor refused or stopped on — archive bombs, path
//! traversal, links and devices in a package tarball.

use std::collections::BTreeMap;

use palisade_core::{Capability, Confidence, Finding, Severity};
use palisade_tarball::IssueKind;

use super::{PackageFacts, PackageRule, RuleInfo};

pub struct ArchiveAnomaly;

static INFO: RuleInfo = RuleInfo {
    id: "archive-anomaly",
    severity: Severity::High,
    confidence: Confidence::High,
    capabilities: &[],
    summary:
        "The package archive is crafted: a decompression or entry bomb, path traversal, links, devices, duplicates",
    docs: r#"## What it detects

Entries `npm pack` never produces, reported by the extractor (see docs/extraction.md):

- **high**: archive bombs (compression ratio over the limit, too many entries, too many
  bytes — extraction was stopped and the package only partly analysed), path traversal
  (`../`), absolute paths, device and FIFO entries;
- **moderate**: symbolic and hard links, a truncated or corrupt archive;
- **low**: duplicate paths (a scanner that keeps the first copy sees different code from what
  npm installs; the extractor keeps the last, as npm does), a file over the per-file size
  limit (not analysed), names that are not UTF-8 or otherwise unusual, entries of
  unsupported types.

## Real attacks

- Tarballs with `../` and symlink entries aimed at extractor bugs (node-tar CVE-2021-32803,
  CVE-2021-37701, CVE-2021-37712: arbitrary file write on install).
- Decompression bombs used to crash or time out scanners and registry mirrors, so that the
  payload beside them goes unexamined.
- Duplicate entries used to show one `package.json` to tools and install another.

## Known false positives

Very large legitimate packages (prebuilt native binaries over 64 MiB) report the skipped file
at low severity. A few real npm tarballs contain one entry twice (@rollup/pluginutils 5.5.1),
hence duplicates are low.
"#,
};

fn grade(kind: IssueKind) -> (Severity, &'static str) {
    match kind {
        IssueKind::CompressionRatio => (
            Severity::High,
            "decompression bomb: the archive expands far beyond its size",
        ),
        IssueKind::TooManyEntries => (Severity::High, "archive bomb: more entries than any package needs"),
        IssueKind::TotalTooLarge => (
            Severity::High,
            "archive bomb: the package unpacks to more than the size limit",
        ),
        IssueKind::PathTraversal => (Severity::High, "entries try to escape the package folder with `..`"),
        IssueKind::AbsolutePath => (Severity::High, "entries with absolute paths"),
        IssueKind::Device => (Severity::High, "device or FIFO entries"),
        IssueKind::Symlink => (Severity::Moderate, "symbolic links"),
        IssueKind::HardLink => (Severity::Moderate, "hard links"),
        // Real npm tarballs occasionally carry a duplicate entry (@rollup/pluginutils 5.5.1).
        IssueKind::DuplicatePath => (
            Severity::Low,
            "the same path appears more than once (the last copy is used)",
        ),
        IssueKind::Truncated => (Severity::Moderate, "the archive is truncated or corrupt"),
        IssueKind::FileTooLarge => (Severity::Low, "files over the size limit were not analysed"),
        IssueKind::InvalidPath => (Severity::Low, "entries with unusual names"),
        IssueKind::UnsupportedEntry => (Severity::Low, "entries of unsupported types"),
        IssueKind::Unreadable => (Severity::Low, "entries that could not be read"),
    }
}

impl PackageRule for ArchiveAnomaly {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, package: &PackageFacts<'_>, out: &mut Vec<Finding>) {
        let mut by_kind: BTreeMap<&'static str, (IssueKind, Vec<&palisade_tarball::ExtractIssue>)> = BTreeMap::new();
        for issue in &package.contents.issues {
            by_kind
                .entry(issue.kind.as_str())
                .or_insert_with(|| (issue.kind, Vec::new()))
                .1
                .push(issue);
        }
        let mut findings: Vec<Finding> = by_kind
            .into_values()
            .map(|(kind, issues)| {
                let (severity, what) = grade(kind);
                let partial = if kind.stops_extraction() {
                    "; only part of the package was analysed"
                } else {
                    ""
                };
                let message = format!(
                    "{what} ({} {}){partial}",
                    issues.len(),
                    if issues.len() == 1 { "entry" } else { "entries" }
                );
                let evidence = issues
                    .iter()
                    .take(3)
                    .map(|i| {
                        if i.path.is_empty() {
                            i.message.clone()
                        } else {
                            format!("{}: {}", i.path, i.message)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                let capabilities: &[Capability] = if matches!(
                    kind,
                    IssueKind::PathTraversal | IssueKind::AbsolutePath | IssueKind::Symlink | IssueKind::HardLink
                ) {
                    &[Capability::Filesystem]
                } else {
                    &[]
                };
                Finding::new(INFO.id, severity, INFO.confidence, message)
                    .with_evidence(evidence)
                    .with_capabilities(capabilities)
            })
            .collect();
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        out.extend(findings);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::install_script::testing::contents;
    use crate::rules::package_facts;
    use crate::ScanOptions;
    use palisade_tarball::ExtractIssue;

    fn issue(kind: IssueKind, path: &str) -> ExtractIssue {
        ExtractIssue {
            kind,
            path: path.into(),
            message: "skipped".into(),
        }
    }

    fn check(issues: Vec<ExtractIssue>) -> Vec<Finding> {
        let contents = contents(&[("package.json", br#"{"name":"a","version":"1.0.0"}"#)], issues);
        let options = ScanOptions::default();
        let package = package_facts(&contents, &options);
        let mut out = Vec::new();
        ArchiveAnomaly.check(&package, &mut out);
        out
    }

    #[test]
    fn bombs_and_escapes_are_high_and_grouped() {
        let findings = check(vec![
            issue(IssueKind::Symlink, "package/a"),
            issue(IssueKind::PathTraversal, "package/../../x"),
            issue(IssueKind::PathTraversal, "package/../y"),
            issue(IssueKind::CompressionRatio, ""),
        ]);
        assert_eq!(findings.len(), 3);
        assert_eq!(findings[0].severity, Severity::High);
        assert!(findings
            .iter()
            .any(|f| f.message.starts_with("decompression bomb") && f.message.contains("only part")));
        let traversal = findings
            .iter()
            .find(|f| f.message.contains("`..`"))
            .expect("traversal finding");
        assert!(traversal.message.contains("2 entries"));
        assert!(traversal
            .evidence
            .as_deref()
            .is_some_and(|e| e.contains("package/../../x")));
        assert_eq!(findings[2].severity, Severity::Moderate);
    }

    #[test]
    fn clean_archive_no_finding() {
        assert!(check(Vec::new()).is_empty());
        let low = check(vec![issue(IssueKind::FileTooLarge, "prebuilt.node")]);
        assert_eq!(low.len(), 1);
        assert_eq!(low[0].severity, Severity::Low);
    }
}
