//! Which `packages` entries are workspace members.
//!
//! npm decides this from the root entry's `workspaces` globs matched against
//! the lockfile's own keys (`mapWorkspaces.virtual` in @npmcli/map-workspaces,
//! which arborist uses for lockfile-only trees): leading `./` and `/` are
//! stripped, `!pattern` excludes, a later positive pattern re-includes what an
//! earlier negation removed, and `**/node_modules/**` is always excluded.
//! Globs follow minimatch defaults: `*` and `?` stay inside one path segment,
//! `**` spans segments, and neither matches a segment that starts with a dot.
//!
//! The globs come from the lockfile, so matching is polynomial (dynamic
//! programming, no backtracking) and brace expansion is bounded.

use std::collections::HashSet;

/// More globs than any real project lists; the rest are ignored (with a
/// warning from the caller) so matching stays bounded.
pub(super) const MAX_GLOBS: usize = 256;

/// The locations among `locations` that the `workspaces` globs select.
pub(super) fn members<'l>(globs: &[&str], locations: impl Iterator<Item = &'l str>) -> HashSet<&'l str> {
    let (positive, negative) = split_patterns(&globs[..globs.len().min(MAX_GLOBS)]);
    if positive.is_empty() {
        return HashSet::new();
    }
    locations
        .filter(|location| !location.is_empty())
        // Fast path for the bulk of a lockfile: a location under a plain
        // `node_modules` segment is excluded by `**/node_modules/**` (which
        // only fails to reach past dot-segments such as `.pnpm`).
        .filter(|location| {
            !(location.contains("node_modules/") && !location.starts_with('.') && !location.contains("/."))
        })
        .filter(|location| !negative.iter().any(|pattern| glob_matches(pattern, location)))
        .filter(|location| positive.iter().any(|pattern| glob_matches(pattern, location)))
        .collect()
}

fn split_patterns(globs: &[&str]) -> (Vec<String>, Vec<String>) {
    let mut positive: Vec<String> = Vec::new();
    let mut negative: Vec<String> = Vec::new();
    for glob in globs {
        let bangs = glob.len() - glob.trim_start_matches('!').len();
        let pattern = strip_leading_dot_slash(&glob[bangs..]);
        if bangs % 2 == 1 {
            negative.push(pattern);
        } else {
            negative.retain(|negated| !glob_matches(negated, &pattern));
            positive.push(pattern);
        }
    }
    positive.retain(|pattern| !negative.iter().any(|negated| glob_matches(negated, pattern)));
    negative.push("**/node_modules/**".to_string());
    (positive, negative)
}

/// `pattern.replace(/^\.?\/+/, '')`.
fn strip_leading_dot_slash(pattern: &str) -> String {
    let without_dot = pattern
        .strip_prefix('.')
        .filter(|rest| rest.starts_with('/'))
        .unwrap_or(pattern);
    if without_dot.starts_with('/') {
        without_dot.trim_start_matches('/').to_string()
    } else {
        pattern.to_string()
    }
}

/// Whether `path` matches the glob `pattern` (braces expanded first).
pub(super) fn glob_matches(pattern: &str, path: &str) -> bool {
    let path_segments: Vec<&str> = path.split('/').collect();
    expand_braces(pattern, 0).iter().any(|alternative| {
        let pattern_segments: Vec<&str> = alternative.split('/').collect();
        segments_match(&pattern_segments, &path_segments)
    })
}

/// Segment-wise match with `**`.
fn segments_match(pattern: &[&str], path: &[&str]) -> bool {
    // reachable[j]: the pattern segments so far can match the first j path segments.
    let mut reachable = vec![false; path.len() + 1];
    reachable[0] = true;
    for segment_pattern in pattern {
        let mut next = vec![false; path.len() + 1];
        if *segment_pattern == "**" {
            for j in 0..=path.len() {
                if !reachable[j] {
                    continue;
                }
                next[j] = true;
                // Swallow following segments until a dot-segment stops it.
                let mut k = j;
                while k < path.len() && !path[k].starts_with('.') {
                    k += 1;
                    next[k] = true;
                }
            }
        } else {
            for j in 0..path.len() {
                if reachable[j] && segment_matches(segment_pattern, path[j]) {
                    next[j + 1] = true;
                }
            }
        }
        reachable = next;
    }
    reachable[path.len()]
}

fn segment_matches(pattern: &str, segment: &str) -> bool {
    if segment.starts_with('.') && !pattern.starts_with('.') && pattern.starts_with(['*', '?', '[']) {
        return false;
    }
    let tokens = tokenize(pattern);
    let text: Vec<char> = segment.chars().collect();
    // matched[j]: the tokens so far can match the first j characters.
    let mut matched = vec![false; text.len() + 1];
    matched[0] = true;
    for token in &tokens {
        let mut next = vec![false; text.len() + 1];
        if let Token::Star = token {
            let mut any = false;
            for j in 0..=text.len() {
                any |= matched[j];
                next[j] = any;
            }
        } else {
            for j in 0..text.len() {
                if matched[j] && token.matches(text[j]) {
                    next[j + 1] = true;
                }
            }
        }
        matched = next;
    }
    matched[text.len()]
}

enum Token {
    Star,
    AnyOne,
    Literal(char),
    Class { negated: bool, items: Vec<(char, char)> },
}

impl Token {
    fn matches(&self, character: char) -> bool {
        match self {
            Token::Star | Token::AnyOne => true,
            Token::Literal(literal) => *literal == character,
            Token::Class { negated, items } => {
                items.iter().any(|(low, high)| *low <= character && character <= *high) != *negated
            }
        }
    }
}

fn tokenize(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::with_capacity(chars.len());
    let mut index = 0;
    while index < chars.len() {
        match chars[index] {
            '*' => {
                if !matches!(tokens.last(), Some(Token::Star)) {
                    tokens.push(Token::Star);
                }
                index += 1;
            }
            '?' => {
                tokens.push(Token::AnyOne);
                index += 1;
            }
            '\\' if index + 1 < chars.len() => {
                tokens.push(Token::Literal(chars[index + 1]));
                index += 2;
            }
            '[' => match chars.iter().skip(index + 2).position(|c| *c == ']') {
                Some(offset) => {
                    let end = index + 2 + offset;
                    let mut class = &chars[index + 1..end];
                    let negated = matches!(class.first(), Some('!' | '^'));
                    if negated {
                        class = &class[1..];
                    }
                    let mut items = Vec::new();
                    let mut at = 0;
                    while at < class.len() {
                        if at + 2 < class.len() && class[at + 1] == '-' {
                            items.push((class[at], class[at + 2]));
                            at += 3;
                        } else {
                            items.push((class[at], class[at]));
                            at += 1;
                        }
                    }
                    tokens.push(Token::Class { negated, items });
                    index = end + 1;
                }
                None => {
                    tokens.push(Token::Literal('['));
                    index += 1;
                }
            },
            literal => {
                tokens.push(Token::Literal(literal));
                index += 1;
            }
        }
    }
    tokens
}

/// Brace expansion stops here: real workspace globs have a handful.
const MAX_ALTERNATIVES: usize = 256;

/// `a/{b,c}/d` → `a/b/d`, `a/c/d`, bounded in depth and count.
fn expand_braces(pattern: &str, depth: usize) -> Vec<String> {
    if depth > 8 {
        return vec![pattern.to_string()];
    }
    let Some(open) = pattern.find('{') else {
        return vec![pattern.to_string()];
    };
    let mut level = 0usize;
    let mut close = None;
    let mut commas = Vec::new();
    for (index, character) in pattern[open..].char_indices() {
        match character {
            '{' => level += 1,
            '}' => {
                level = level.saturating_sub(1);
                if level == 0 {
                    close = Some(open + index);
                    break;
                }
            }
            ',' if level == 1 => commas.push(open + index),
            _ => {}
        }
    }
    let Some(close) = close else {
        return vec![pattern.to_string()];
    };
    if commas.is_empty() {
        return vec![pattern.to_string()];
    }
    let prefix = &pattern[..open];
    let suffix = &pattern[close + 1..];
    let mut bounds = vec![open];
    bounds.extend(&commas);
    bounds.push(close);
    let mut expanded = Vec::new();
    for window in bounds.windows(2) {
        let alternative = &pattern[window[0] + 1..window[1]];
        for rest in expand_braces(&format!("{prefix}{alternative}{suffix}"), depth + 1) {
            if expanded.len() >= MAX_ALTERNATIVES {
                return expanded;
            }
            expanded.push(rest);
        }
    }
    expanded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_stays_in_one_segment() {
        assert!(glob_matches("packages/*", "packages/a"));
        assert!(!glob_matches("packages/*", "packages/a/b"));
        assert!(!glob_matches("packages/*", "packages/.hidden"));
        assert!(glob_matches("packages/**", "packages/a/b"));
        assert!(glob_matches("**/node_modules/**", "node_modules/a"));
        assert!(glob_matches("**/node_modules/**", "packages/a/node_modules/b"));
        assert!(glob_matches("{apps,libs}/*", "libs/x"));
        assert!(glob_matches("packages/[ab]*", "packages/beta"));
        assert!(!glob_matches("packages/[!ab]*", "packages/beta"));
    }

    #[test]
    fn negation_and_node_modules_exclusion() {
        let locations = [
            "",
            "packages/a",
            "packages/b",
            "node_modules/a",
            "packages/a/node_modules/c",
            "docs",
        ];
        let found = members(&["./packages/*", "!packages/b", "docs"], locations.iter().copied());
        let mut found: Vec<_> = found.into_iter().collect();
        found.sort_unstable();
        assert_eq!(found, vec!["docs", "packages/a"]);
    }

    #[test]
    fn hostile_globs_stay_cheap() {
        let pattern = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        assert!(!glob_matches(pattern, &"a".repeat(200)));
        let braces = "{a,b,c,d}".repeat(12);
        assert!(expand_braces(&braces, 0).len() <= MAX_ALTERNATIVES);
    }
}
