//! Version-range evaluation for npm, following the OSV schema's
//! [Evaluation](https://ossf.github.io/osv-schema/#evaluation) pseudocode.
//!
//! npm's `ECOSYSTEM` ordering is SemVer 2.0 precedence, the same as the
//! `SEMVER` range type (OSV schema § affected[].ranges[].type), so both are
//! evaluated here with one comparator: `nodejs-semver`'s `Version` order,
//! which ranks prereleases below their release (`1.0.0-beta < 1.0.0`) and
//! ignores build metadata, as SemVer § 11 says.

use std::cmp::Ordering;

use nodejs_semver::Version;
use serde::{Deserialize, Serialize};

/// One bound of a range as written in an OSV event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// `"0"`: before every version (OSV schema § Special values).
    Zero,
    /// `"*"`: after every version; only meaningful for `limit` (§ Special values).
    Infinity,
    Version(Version),
}

impl Bound {
    /// Parses a bound; `None` for a string that is not a valid SemVer version.
    pub fn parse(text: &str) -> Option<Bound> {
        match text {
            "0" => Some(Bound::Zero),
            "*" => Some(Bound::Infinity),
            _ => parse_version(text).map(Bound::Version),
        }
    }

    fn cmp_bound(&self, other: &Bound) -> Ordering {
        match (self, other) {
            (Bound::Zero, Bound::Zero) | (Bound::Infinity, Bound::Infinity) => Ordering::Equal,
            (Bound::Zero, _) | (_, Bound::Infinity) => Ordering::Less,
            (_, Bound::Zero) | (Bound::Infinity, _) => Ordering::Greater,
            (Bound::Version(a), Bound::Version(b)) => a.cmp(b),
        }
    }

    /// How `version` compares with this bound.
    fn cmp_version(&self, version: &Version) -> Ordering {
        match self {
            Bound::Zero => Ordering::Less,
            Bound::Infinity => Ordering::Greater,
            Bound::Version(bound) => bound.cmp(version),
        }
    }
}

/// Parses a strict SemVer version as npm writes it in `package.json` and
/// lockfiles. A leading `v` or `=` is tolerated (npm's own `semver.clean`
/// does the same); anything looser (`1.2`, `latest`, git refs) is not a
/// version and can only match through an exact `versions` entry.
pub fn parse_version(text: &str) -> Option<Version> {
    let trimmed = text.strip_prefix(['v', '=']).unwrap_or(text);
    // nodejs-semver's parser is lenient about partial versions (`1.2` → `1.2.0`);
    // OSV ranges and lockfiles hold full versions, so insist on three parts.
    let core = trimmed.split(['-', '+']).next().unwrap_or("");
    if core.split('.').count() != 3 || trimmed.len() > 256 {
        return None;
    }
    Version::parse(trimmed).ok()
}

/// The kind of an event (OSV schema § affected[].ranges[].events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "i")]
    Introduced,
    #[serde(rename = "f")]
    Fixed,
    /// Inclusive upper bound.
    #[serde(rename = "l")]
    LastAffected,
    /// Exclusive upper bound on the whole range, checked before the walk (`BeforeLimits`).
    #[serde(rename = "m")]
    Limit,
}

/// A validated range: every event's version parsed, events sorted.
#[derive(Debug, Clone)]
pub struct Range {
    events: Vec<(EventKind, Bound)>,
}

/// Why a range could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRange(pub String);

impl Range {
    /// Builds a range from raw events; fails when any version string is not
    /// valid SemVer (the caller skips the whole range and counts it, rather
    /// than guess what a range with a missing bound meant).
    pub fn new(raw_events: &[(EventKind, String)]) -> Result<Range, InvalidRange> {
        let mut events = Vec::with_capacity(raw_events.len());
        for (kind, text) in raw_events {
            let bound = Bound::parse(text)
                .ok_or_else(|| InvalidRange(format!("`{}` is not a valid SemVer version", truncate(text))))?;
            if *kind != EventKind::Limit && bound == Bound::Infinity {
                return Err(InvalidRange("`*` is only allowed in `limit` events".into()));
            }
            events.push((*kind, bound));
        }
        // "for evt in sorted(range.events)": OSV records are not required to
        // keep events sorted. The sort is stable, so ties keep record order.
        events.sort_by(|a, b| a.1.cmp_bound(&b.1));
        Ok(Range { events })
    }

    /// `BeforeLimits(v, range) && walk(...)` of the OSV pseudocode.
    pub fn contains(&self, version: &Version) -> bool {
        self.before_limits(version) && self.walk(version)
    }

    fn before_limits(&self, version: &Version) -> bool {
        let mut limits = self
            .events
            .iter()
            .filter(|(kind, _)| *kind == EventKind::Limit)
            .peekable();
        if limits.peek().is_none() {
            // "implicit `*` entry is assumed"
            return true;
        }
        limits.any(|(_, bound)| bound.cmp_version(version) == Ordering::Greater)
    }

    fn walk(&self, version: &Version) -> bool {
        let mut vulnerable = false;
        for (kind, bound) in &self.events {
            // bound.cmp_version(v) is `bound ? v`: Less means v > bound.
            let order = bound.cmp_version(version);
            match kind {
                EventKind::Introduced if order != Ordering::Greater => vulnerable = true,
                EventKind::Fixed if order != Ordering::Greater => vulnerable = false,
                EventKind::LastAffected if order == Ordering::Less => vulnerable = false,
                _ => {}
            }
        }
        vulnerable
    }

    /// The lowest `fixed` version above `version`: what to upgrade to within
    /// this range. `None` when the range has no fix above it.
    pub fn fix_above(&self, version: &Version) -> Option<&Version> {
        self.events.iter().find_map(|(kind, bound)| match (kind, bound) {
            (EventKind::Fixed, Bound::Version(fixed)) if fixed > version => Some(fixed),
            _ => None,
        })
    }

    /// Every `fixed` version of the range, in order.
    pub fn fixed_versions(&self) -> impl Iterator<Item = &Version> {
        self.events.iter().filter_map(|(kind, bound)| match (kind, bound) {
            (EventKind::Fixed, Bound::Version(fixed)) => Some(fixed),
            _ => None,
        })
    }
}

fn truncate(text: &str) -> String {
    if text.len() <= 64 {
        return text.to_string();
    }
    let mut end = 64;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use EventKind::*;

    fn range(events: &[(EventKind, &str)]) -> Range {
        let raw: Vec<(EventKind, String)> = events.iter().map(|(k, v)| (*k, v.to_string())).collect();
        Range::new(&raw).expect("test ranges are valid")
    }

    fn check(events: &[(EventKind, &str)], table: &[(&str, bool)]) {
        let range = range(events);
        for (version, expected) in table {
            let parsed = parse_version(version).expect("test versions are valid");
            assert_eq!(range.contains(&parsed), *expected, "{version} in {events:?}");
        }
    }

    #[test]
    fn introduced_zero_is_every_version() {
        check(
            &[(Introduced, "0")],
            &[("0.0.0", true), ("0.0.0-alpha", true), ("99.0.0", true)],
        );
    }

    #[test]
    fn introduced_and_fixed() {
        check(
            &[(Introduced, "1.0.0"), (Fixed, "1.2.3")],
            &[
                ("0.9.9", false),
                ("1.0.0-rc.1", false),
                ("1.0.0", true),
                ("1.2.2", true),
                ("1.2.3-beta", true),
                ("1.2.3", false),
                ("2.0.0", false),
            ],
        );
    }

    #[test]
    fn last_affected_is_inclusive() {
        check(
            &[(Introduced, "0"), (LastAffected, "2.0.0")],
            &[
                ("1.0.0", true),
                ("2.0.0", true),
                ("2.0.1-alpha", false),
                ("2.0.1", false),
            ],
        );
    }

    #[test]
    fn limit_bounds_the_whole_range() {
        // OSV § Evaluation: with a limit, v must be below some limit.
        check(
            &[(Introduced, "1.0.0"), (Limit, "1.5.0")],
            &[
                ("0.1.0", false),
                ("1.0.0", true),
                ("1.4.9", true),
                ("1.5.0", false),
                ("3.0.0", false),
            ],
        );
        check(&[(Introduced, "0"), (Limit, "*")], &[("3.0.0", true)]);
    }

    #[test]
    fn unsorted_events_are_sorted_first() {
        check(
            &[
                (Fixed, "2.0.0"),
                (Introduced, "1.5.0"),
                (Fixed, "1.2.0"),
                (Introduced, "1.0.0"),
            ],
            &[
                ("0.5.0", false),
                ("1.0.0", true),
                ("1.2.0", false),
                ("1.4.0", false),
                ("1.5.0", true),
                ("2.0.0", false),
            ],
        );
    }

    #[test]
    fn several_intervals_in_one_range() {
        check(
            &[
                (Introduced, "0"),
                (Fixed, "1.0.1"),
                (Introduced, "2.0.0"),
                (LastAffected, "2.3.0"),
            ],
            &[
                ("1.0.0", true),
                ("1.0.1", false),
                ("1.9.9", false),
                ("2.0.0", true),
                ("2.3.0", true),
                ("2.3.1", false),
            ],
        );
    }

    #[test]
    fn prerelease_ordering_follows_semver() {
        check(
            &[(Introduced, "1.0.0-alpha.2"), (Fixed, "1.0.0-beta")],
            &[
                ("1.0.0-alpha.1", false),
                ("1.0.0-alpha.2", true),
                ("1.0.0-alpha.10", true),
                ("1.0.0-beta", false),
            ],
        );
    }

    #[test]
    fn build_metadata_is_ignored() {
        check(
            &[(Introduced, "1.0.0"), (Fixed, "1.0.1")],
            &[("1.0.0+build.7", true), ("1.0.1+x", false)],
        );
    }

    #[test]
    fn invalid_bounds_are_rejected_not_guessed() {
        assert!(Range::new(&[(Introduced, "not-a-version".into())]).is_err());
        assert!(Range::new(&[(Introduced, "1.2".into())]).is_err());
        assert!(Range::new(&[(Fixed, "*".into())]).is_err());
        assert!(Range::new(&[(Introduced, "x".repeat(10_000))]).is_err());
    }

    #[test]
    fn non_semver_versions_do_not_parse() {
        for text in ["github:user/repo#abc", "file:../x", "latest", "1.2", ""] {
            assert!(parse_version(text).is_none(), "{text}");
        }
        assert!(parse_version("v1.2.3").is_some());
    }

    #[test]
    fn fix_above_picks_the_next_fix() {
        let range = range(&[
            (Introduced, "0"),
            (Fixed, "1.0.1"),
            (Introduced, "2.0.0"),
            (Fixed, "2.0.5"),
        ]);
        let version = parse_version("2.0.1").expect("valid");
        assert_eq!(
            range.fix_above(&version).map(ToString::to_string),
            Some("2.0.5".to_string())
        );
    }
}
