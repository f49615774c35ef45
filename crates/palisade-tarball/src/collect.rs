//! The bookkeeping every reader shares: entry count, per-file and total size limits,
//! duplicate paths (the last one wins, as when npm unpacks), and bounded issue lists.

use std::collections::HashMap;
use std::io::{self, Read};

use crate::{ExtractIssue, IssueKind, Limits, PackageContents, PackageFile};

/// More issues than this are summarised in one final issue: a hostile archive of 100,000
/// symlinks must not produce 100,000 findings.
const MAX_ISSUES: usize = 1_000;

/// Extraction was cut short; the reason is already recorded as an issue.
#[derive(Debug)]
pub(crate) struct Stop;

#[derive(Debug)]
pub(crate) enum AddError {
    Stop,
    Io(io::Error),
}

pub(crate) struct Collector<'l> {
    limits: &'l Limits,
    contents: PackageContents,
    index: HashMap<String, usize>,
    entries: usize,
    dropped_issues: usize,
    bytes_read: u64,
}

impl<'l> Collector<'l> {
    pub fn new(origin: &str, limits: &'l Limits) -> Self {
        Collector {
            limits,
            contents: PackageContents {
                origin: origin.to_string(),
                ..PackageContents::default()
            },
            index: HashMap::new(),
            entries: 0,
            dropped_issues: 0,
            bytes_read: 0,
        }
    }

    pub fn limits(&self) -> &'l Limits {
        self.limits
    }

    /// Every byte read so far, including files skipped as too large.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    pub fn has_files(&self) -> bool {
        !self.contents.files.is_empty()
    }

    /// Counts one archive entry (of any type).
    pub fn count_entry(&mut self) -> Result<(), Stop> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            let message = format!("more than {} entries; extraction stopped", self.limits.max_entries);
            self.issue(IssueKind::TooManyEntries, "", message);
            return Err(Stop);
        }
        Ok(())
    }

    pub fn issue(&mut self, kind: IssueKind, raw_path: &str, message: impl Into<String>) {
        if self.contents.issues.len() >= MAX_ISSUES {
            self.dropped_issues += 1;
            return;
        }
        let path = palisade_core::bounded_excerpt(raw_path, 200);
        self.contents.issues.push(ExtractIssue {
            kind,
            path,
            message: message.into(),
        });
    }

    /// Reads one regular file. Declared sizes are never trusted: at most
    /// `max_file_bytes + 1` bytes are read, and what is kept counts against the total.
    pub fn add_file(&mut self, path: String, mode: u32, reader: impl Read) -> Result<(), AddError> {
        let remaining = self.limits.max_total_bytes.saturating_sub(self.contents.unpacked_bytes);
        let cap = self.limits.max_file_bytes.min(remaining);
        let mut data = Vec::new();
        reader
            .take(cap.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(AddError::Io)?;
        let len = data.len() as u64;
        self.bytes_read += len;
        if len > self.limits.max_file_bytes {
            let message = format!(
                "larger than the per-file limit of {} bytes; skipped",
                self.limits.max_file_bytes
            );
            self.issue(IssueKind::FileTooLarge, &path, message);
            return Ok(());
        }
        if len > remaining {
            let message = format!(
                "package exceeds {} unpacked bytes; extraction stopped",
                self.limits.max_total_bytes
            );
            self.issue(IssueKind::TotalTooLarge, &path, message);
            return Err(AddError::Stop);
        }
        self.contents.unpacked_bytes += len;
        match self.index.get(&path) {
            Some(&at) => {
                self.issue(
                    IssueKind::DuplicatePath,
                    &path,
                    "appears more than once; the last copy is kept, as npm does",
                );
                self.contents.files[at] = PackageFile { path, data, mode };
            }
            None => {
                self.index.insert(path.clone(), self.contents.files.len());
                self.contents.files.push(PackageFile { path, data, mode });
            }
        }
        Ok(())
    }

    pub fn finish(mut self, compressed_bytes: u64) -> PackageContents {
        if self.dropped_issues > 0 {
            let message = format!("{} more issues not listed", self.dropped_issues);
            self.contents.issues.push(ExtractIssue {
                kind: IssueKind::TooManyEntries,
                path: String::new(),
                message,
            });
        }
        self.contents.compressed_bytes = compressed_bytes;
        self.contents
    }
}
