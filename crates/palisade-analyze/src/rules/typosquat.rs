//! `typosquat`: a package name one slip away from a popular one.

use std::collections::HashSet;
use std::sync::OnceLock;

use palisade_core::{Confidence, Finding, Severity};

use super::{PackageFacts, PackageRule, RuleInfo};

pub struct Typosquat;

static INFO: RuleInfo = RuleInfo {
    id: "typosquat",
    severity: Severity::Moderate,
    confidence: Confidence::Medium,
    capabilities: &[],
    summary:
        "The package name imitates a popular package (edit distance, swapped letters, homoglyphs, separators, scope)",
    docs: r#"## What it detects

A name that is not itself popular but is within one slip of a popular npm package (the
~2,750 names shipped in `data/popular-npm-names.txt`: the 1,000 most-downloaded packages,
well-known application packages, and every package those 1,000 depend on):

- **edit distance** 1 for names of 6+ characters, 2 for names of 12+ (`expres`, `mongose`,
  `webpack-dev-servr`); a trailing version digit (`split2`), a plural `s`, or one name
  extending the other by two characters are naming conventions and do not count;
- **transposition** of adjacent letters, from 5 characters: `electorn` → `electron`, `axois`;
- **homoglyphs**: `rn`→`m`, `vv`→`w`, `0`→`o`, `1`→`l` (`rnongoose`, `l0dash`);
- **separator and scope confusion**: `react_dom`, `reactdom`, `types-node` or `typesnode`
  for `@types/node`, `babelcore` for `@babel/core`.

A package whose own name is in the list is never reported, nor a scoped package compared
with another name in the same scope (only the scope's owner can publish there). Moderate
on its own: the name is a reason to look, the code decides.

## Real attacks

- electorn (2018), `crossenv` (2017, stole npm tokens), `babelcli`, `mongose`, `discordi.js`,
  `loadyaml`, the 2020–2025 waves of `lodahs`, `axois`, `nodemailer-js`-style names.
- `ethres`/`ethers-v6`-style names aimed at crypto developers (2023–2025).

## Known false positives

Legitimate less-known packages with names close to popular ones: measured on 1,705 real
dependency names from lockfiles that are not in the list, 30 (1.8%) are reported, many
separator variants that predate the popular package (`camel-case` / `camelcase`,
`isstream` / `is-stream`). The finding names the package it resembles so a reviewer can
decide in a second.
"#,
};

static NAMES_TEXT: &str = include_str!("../../data/popular-npm-names.txt");

struct Popular {
    /// In rank order (most-downloaded first).
    names: Vec<&'static str>,
    set: HashSet<&'static str>,
    /// `squash` and `homoglyph_canon` of each name, computed once.
    squashed: Vec<String>,
    canonical: Vec<String>,
}

fn popular() -> &'static Popular {
    static POPULAR: OnceLock<Popular> = OnceLock::new();
    POPULAR.get_or_init(|| {
        let names: Vec<&'static str> = NAMES_TEXT
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let set = names.iter().copied().collect();
        let squashed = names.iter().map(|n| squash(n)).collect();
        let canonical = names.iter().map(|n| homoglyph_canon(n)).collect();
        Popular {
            names,
            set,
            squashed,
            canonical,
        }
    })
}

/// Whether `name` is one of the shipped popular names.
pub fn is_popular(name: &str) -> bool {
    popular().set.contains(name)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Technique {
    EditDistance(usize),
    Transposition,
    Homoglyph,
    Separator,
}

impl Technique {
    fn describe(self) -> String {
        match self {
            Technique::EditDistance(1) => "one character different".into(),
            Technique::EditDistance(n) => format!("{n} characters different"),
            Technique::Transposition => "two letters swapped".into(),
            Technique::Homoglyph => "look-alike characters".into(),
            Technique::Separator => "same name with different separators or scope".into(),
        }
    }
}

fn split_scope(name: &str) -> (Option<&str>, &str) {
    match name.strip_prefix('@').and_then(|rest| rest.split_once('/')) {
        Some((scope, bare)) => (Some(scope), bare),
        None => (None, name),
    }
}

fn squash(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '-' | '_' | '.' | '@' | '/'))
        .collect::<String>()
        .to_ascii_lowercase()
}

fn homoglyph_canon(name: &str) -> String {
    name.to_ascii_lowercase()
        .replace("rn", "m")
        .replace("vv", "w")
        .replace('0', "o")
        .replace('1', "l")
}

/// Optimal string alignment distance (Levenshtein plus adjacent transposition), bounded:
/// returns `limit + 1` as soon as the distance must exceed `limit`.
fn osa_distance(a: &[u8], b: &[u8], limit: usize) -> usize {
    if a.len().abs_diff(b.len()) > limit {
        return limit + 1;
    }
    let width = b.len() + 1;
    let mut rows = vec![vec![0usize; width]; 3];
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        let (current, previous, before) = (i % 3, (i + 2) % 3, (i + 1) % 3);
        rows[current][0] = i;
        let mut row_min = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut value = (rows[previous][j] + 1)
                .min(rows[current][j - 1] + 1)
                .min(rows[previous][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                value = value.min(rows[before][j - 2] + 1);
            }
            rows[current][j] = value;
            row_min = row_min.min(value);
        }
        if row_min > limit {
            return limit + 1;
        }
    }
    rows[a.len() % 3][b.len()]
}

fn is_transposition(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let diffs: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    matches!(diffs.as_slice(), [i, j] if *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i])
}

/// `split2` / `split`, `cli-table3` / `cli-table`: a trailing major-version digit is how
/// maintained forks are named, not a slip of the finger.
fn digit_suffix_variant(a: &str, b: &str) -> bool {
    let stem = |s: &str| s.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (a_stem, b_stem) = (stem(a), stem(b));
    a_stem == b_stem && a[..a_stem] == b[..b_stem] && a != b
}

/// `cookie` / `cookies`: singular and plural are both common, legitimate names.
fn plural_variant(a: &str, b: &str) -> bool {
    let singular = |plural: &str, single: &str| plural.strip_suffix('s') == Some(single) && !single.ends_with('s');
    singular(a, b) || singular(b, a)
}

/// The popular package `name` imitates, and how; `None` for popular names themselves.
pub fn typosquat_target(name: &str) -> Option<(&'static str, Technique)> {
    let popular = popular();
    let name = name.trim();
    if name.is_empty() || popular.set.contains(name) {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    if popular.set.contains(lower.as_str()) {
        // Upper-case variants of a popular name (old npm allowed them).
        return popular.set.get(lower.as_str()).map(|p| (*p, Technique::Homoglyph));
    }
    let (scope, bare) = split_scope(&lower);
    let squashed = squash(&lower);
    let canon = homoglyph_canon(&lower);
    for (index, &target) in popular.names.iter().enumerate() {
        let (target_scope, target_bare) = split_scope(target);
        if scope.is_some() && scope == target_scope {
            continue;
        }
        // A scoped package reusing a popular bare name (`@acme/lodash`) is a fork, not a squat.
        if scope.is_some() && target_scope.is_none() && bare == target {
            continue;
        }
        let target_squashed = &popular.squashed[index];
        if target_squashed.len() >= 4 && squashed == *target_squashed {
            return Some((target, Technique::Separator));
        }
        if target.len() >= 5 && canon == popular.canonical[index] {
            return Some((target, Technique::Homoglyph));
        }
        if target_bare.len() < 5 || (scope.is_some() != target_scope.is_some()) {
            continue;
        }
        // Two edits only on long names, and not when one name extends the other
        // (`http-proxy` / `http-proxy-3`): that is a naming convention, not a slip.
        let limit = if target.len() >= 12 && !lower.starts_with(target) && !target.starts_with(&lower) {
            2
        } else {
            1
        };
        let distance = osa_distance(lower.as_bytes(), target.as_bytes(), limit);
        if distance > limit || digit_suffix_variant(&lower, target) || plural_variant(&lower, target) {
            continue;
        }
        // On five-letter names one plain edit is too often another real word (`socks`,
        // `sockjs`); only a swap of two letters counts there.
        if is_transposition(&lower, target) {
            return Some((target, Technique::Transposition));
        }
        if target.len() >= 6 {
            return Some((target, Technique::EditDistance(distance)));
        }
    }
    None
}

impl PackageRule for Typosquat {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, package: &PackageFacts<'_>, out: &mut Vec<Finding>) {
        let Some((target, technique)) = typosquat_target(&package.name) else {
            return;
        };
        let message = format!(
            "name `{}` imitates the popular package `{target}` ({}): check that this is the package you meant",
            package.name,
            technique.describe()
        );
        let line = package
            .contents
            .manifest_bytes()
            .and_then(|bytes| super::install_script::key_line(&String::from_utf8_lossy(bytes), "name"));
        out.push(
            Finding::new(INFO.id, INFO.severity, INFO.confidence, message)
                .at("package.json", line)
                .with_evidence(format!("{} ~ {target}", package.name)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::install_script::testing::run;
    use super::*;

    fn target(name: &str) -> Option<(&'static str, Technique)> {
        typosquat_target(name)
    }

    #[test]
    fn catches_the_classic_shapes() {
        assert_eq!(target("electorn"), Some(("electron", Technique::Transposition)));
        assert_eq!(target("lodahs"), Some(("lodash", Technique::Transposition)));
        assert_eq!(target("expresss"), Some(("express", Technique::EditDistance(1))));
        assert_eq!(target("react_dom"), Some(("react-dom", Technique::Separator)));
        assert_eq!(target("reactdom"), Some(("react-dom", Technique::Separator)));
        assert_eq!(target("types-node"), Some(("@types/node", Technique::Separator)));
        assert_eq!(target("@types-node"), Some(("@types/node", Technique::Separator)));
        assert_eq!(
            target("@typescript_eslint/parser"),
            Some(("@typescript-eslint/parser", Technique::Separator))
        );
        assert_eq!(target("babelcore"), Some(("@babel/core", Technique::Separator)));
        assert_eq!(target("rnongoose"), Some(("mongoose", Technique::Homoglyph)));
        assert_eq!(target("l0dash"), Some(("lodash", Technique::Homoglyph)));
        assert_eq!(target("mongose").map(|t| t.0), Some("mongoose"));
        assert_eq!(target("discord.jss").map(|t| t.0), Some("discord.js"));
        assert_eq!(target("typescirpt"), Some(("typescript", Technique::Transposition)));
        assert_eq!(target("webpack-dev-servr").map(|t| t.0), Some("webpack-dev-server"));
    }

    #[test]
    fn popular_names_and_unrelated_names_are_not_squats() {
        for name in popular().names.iter() {
            assert_eq!(target(name), None, "{name}");
        }
        for name in [
            "palisade",
            "split3",
            "cli-table4",
            "lru-cache2",
            "my-internal-tool",
            "@acme/lodash",
            "@types/reakt",
            "left-pad",
            "some-long-unrelated-name",
            "ab",
            "",
        ] {
            assert_eq!(target(name), None, "{name}");
        }
    }

    #[test]
    fn distance_is_bounded_and_symmetric() {
        assert_eq!(osa_distance(b"electron", b"electorn", 2), 1);
        assert_eq!(osa_distance(b"abc", b"abc", 1), 0);
        assert_eq!(osa_distance(b"kitten", b"sitting", 5), 3);
        assert_eq!(osa_distance(b"kitten", b"sitting", 1), 2);
        assert_eq!(osa_distance(b"a", b"abcdef", 2), 3);
        assert_eq!(osa_distance(b"synckit", b"asynckit", 1), 1);
        assert_eq!(osa_distance(b"ab", b"ba", 1), 1);
        assert_eq!(osa_distance(b"abc", b"xyz", 5), 3);
        assert_eq!(osa_distance(b"", b"abc", 5), 3);
    }

    #[test]
    fn rule_reports_with_the_target() {
        let findings = run(
            &Typosquat,
            &[("package.json", br#"{"name": "electorn", "version": "1.0.1"}"#)],
        );
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("`electron`"));
        assert_eq!(findings[0].severity, Severity::Moderate);
        assert_eq!(findings[0].line, Some(1));
        assert!(run(
            &Typosquat,
            &[("package.json", br#"{"name": "electron", "version": "1.0.1"}"#)]
        )
        .is_empty());
    }
}

#[cfg(test)]
mod measure {
    use super::typosquat_target;

    /// `PALISADE_NAMES_FILE=names.txt cargo test -p palisade-analyze --lib typosquat_on_names -- --ignored --nocapture`:
    /// prints how many legitimate names (e.g. every dependency named by the popular packages)
    /// the rule would report.
    #[test]
    #[ignore = "needs a names file"]
    fn typosquat_on_names() {
        let Ok(path) = std::env::var("PALISADE_NAMES_FILE") else {
            return;
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let names: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        let hits: Vec<String> = names
            .iter()
            .filter_map(|n| typosquat_target(n).map(|(t, how)| format!("{n} ~ {t} ({how:?})")))
            .collect();
        for hit in &hits {
            println!("{hit}");
        }
        println!("{} of {} names reported", hits.len(), names.len());
    }
}
