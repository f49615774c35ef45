//! Canary credentials planted in the fake home and environment. Each run draws fresh random
//! values, so a value seen in traffic can only have come from the planted file or variable.

use std::io::Read;

/// The fake home inside the sandbox.
pub(crate) const HOME: &str = "/home/node";

/// One planted secret.
#[derive(Debug, Clone)]
pub(crate) struct Honeytoken {
    /// Short name used in reports: `~/.npmrc`, `env:GITHUB_TOKEN`.
    pub name: String,
    /// Absolute path inside the sandbox, for file tokens.
    pub path: Option<String>,
    /// File contents, for file tokens.
    pub contents: String,
    /// The secret value searched for in traffic.
    pub canary: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Honeytokens {
    pub tokens: Vec<Honeytoken>,
    /// Precomputed encodings of every canary: (token index, needle).
    needles: Vec<(usize, Vec<u8>)>,
}

fn random_bytes(count: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; count];
    let filled = std::fs::File::open("/dev/urandom").and_then(|mut file| file.read_exact(&mut bytes));
    if filled.is_err() {
        // Still unique per run and per call; the canaries need to be unguessable by the package,
        // which cannot see this process's clock or address space.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            ^ (&bytes as *const _ as usize as u128);
        for (position, byte) in bytes.iter_mut().enumerate() {
            *byte = (seed.rotate_left((position % 128) as u32) as u8) ^ (position as u8).wrapping_mul(31);
        }
    }
    bytes
}

fn random_string(alphabet: &[u8], count: usize) -> String {
    random_bytes(count)
        .into_iter()
        .map(|byte| alphabet[byte as usize % alphabet.len()] as char)
        .collect()
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const HEX: &[u8] = b"0123456789abcdef";

impl Honeytokens {
    pub fn generate() -> Self {
        let npm = format!("npm_{}", random_string(ALNUM, 36));
        let npm_env = format!("npm_{}", random_string(ALNUM, 36));
        let github = format!("ghp_{}", random_string(ALNUM, 36));
        let gh_cli = format!("gho_{}", random_string(ALNUM, 36));
        let aws_key = format!("AKIA{}", random_string(UPPER_DIGITS, 16));
        let aws_secret = random_string(ALNUM, 40);
        let ssh = random_string(ALNUM, 64);
        let wallet = random_string(HEX, 64);
        let address = random_string(HEX, 40);
        let file = |name: &str, path: String, contents: String, canary: &str| Honeytoken {
            name: name.to_string(),
            path: Some(path),
            contents,
            canary: canary.to_string(),
        };
        let env = |name: &str, canary: &str| Honeytoken {
            name: format!("env:{name}"),
            path: None,
            contents: String::new(),
            canary: canary.to_string(),
        };
        let tokens = vec![
            file(
                "~/.npmrc",
                format!("{HOME}/.npmrc"),
                format!("//registry.npmjs.org/:_authToken={npm}\nemail=dev@example.invalid\n"),
                &npm,
            ),
            file(
                "~/.aws/credentials",
                format!("{HOME}/.aws/credentials"),
                format!("[default]\naws_access_key_id = {aws_key}\naws_secret_access_key = {aws_secret}\n"),
                &aws_secret,
            ),
            file(
                "~/.ssh/id_rsa",
                format!("{HOME}/.ssh/id_rsa"),
                format!(
                    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA{ssh}\n-----END OPENSSH PRIVATE KEY-----\n"
                ),
                &ssh,
            ),
            file(
                "~/.config/gh/hosts.yml",
                format!("{HOME}/.config/gh/hosts.yml"),
                format!("github.com:\n    oauth_token: {gh_cli}\n    user: dev\n    git_protocol: https\n"),
                &gh_cli,
            ),
            file(
                "~/.ethereum/keystore (wallet)",
                format!("{HOME}/.ethereum/keystore/UTC--2024-01-01T00-00-00.000000000Z--{address}"),
                format!(
                    "{{\"address\":\"{address}\",\"crypto\":{{\"cipher\":\"aes-128-ctr\",\"ciphertext\":\"{wallet}\"}},\"version\":3}}\n"
                ),
                &wallet,
            ),
            env("GITHUB_TOKEN", &github),
            env("NPM_TOKEN", &npm_env),
        ];
        // The AWS key id is a second canary of the same file.
        let mut all = tokens;
        all.push(Honeytoken {
            name: "~/.aws/credentials".into(),
            path: None,
            contents: String::new(),
            canary: aws_key,
        });
        let needles = all
            .iter()
            .enumerate()
            .flat_map(|(index, token)| encodings(&token.canary).into_iter().map(move |needle| (index, needle)))
            .collect();
        Honeytokens { tokens: all, needles }
    }

    /// The planted files (path, contents).
    pub fn files(&self) -> impl Iterator<Item = (&str, &str)> {
        self.tokens
            .iter()
            .filter_map(|token| token.path.as_deref().map(|path| (path, token.contents.as_str())))
    }

    /// The canary environment variables (name, value).
    pub fn env(&self) -> impl Iterator<Item = (&str, &str)> {
        self.tokens.iter().filter_map(|token| {
            token
                .name
                .strip_prefix("env:")
                .map(|name| (name, token.canary.as_str()))
        })
    }

    /// The token planted at `path`, if any.
    pub fn file_token(&self, path: &str) -> Option<&Honeytoken> {
        self.tokens.iter().find(|token| token.path.as_deref() == Some(path))
    }

    /// Names of the tokens whose canary appears in `data` (raw, hex, base64 or URL-safe base64,
    /// case-insensitively for hex and DNS labels).
    pub fn scan(&self, data: &[u8]) -> Vec<String> {
        let lower: Vec<u8> = data.iter().map(u8::to_ascii_lowercase).collect();
        let mut found: Vec<String> = Vec::new();
        for (index, needle) in &self.needles {
            let name = &self.tokens[*index].name;
            if found.contains(name) {
                continue;
            }
            let lowered: Vec<u8> = needle.iter().map(u8::to_ascii_lowercase).collect();
            if contains(data, needle) || contains(&lower, &lowered) {
                found.push(name.clone());
            }
        }
        found
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|window| window == needle)
}

/// The canary as it may travel: raw, hex, and the stable middle of its base64 at each of the
/// three alignments it can have inside a longer encoded blob.
fn encodings(canary: &str) -> Vec<Vec<u8>> {
    let bytes = canary.as_bytes();
    let mut out = vec![bytes.to_vec()];
    out.push(
        bytes
            .iter()
            .flat_map(|byte| format!("{byte:02x}").into_bytes())
            .collect(),
    );
    for prefix in 0..3 {
        let mut padded = vec![0u8; prefix];
        padded.extend_from_slice(bytes);
        let encoded = base64(&padded);
        // Skip the characters touched by the prefix and the last, possibly partial, group.
        let start = if prefix == 0 { 0 } else { 4 };
        let end = encoded.len().saturating_sub(4);
        if end > start + 8 {
            let middle = &encoded[start..end];
            out.push(middle.as_bytes().to_vec());
            out.push(middle.replace('+', "-").replace('/', "_").into_bytes());
        }
    }
    out
}

fn base64(data: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canaries_are_found_raw_hex_and_base64() {
        let tokens = Honeytokens::generate();
        let npmrc = tokens.tokens[0].canary.clone();
        assert!(tokens
            .scan(format!("token={npmrc}").as_bytes())
            .contains(&"~/.npmrc".to_string()));
        let hex: String = npmrc.bytes().map(|b| format!("{b:02x}")).collect();
        assert_eq!(tokens.scan(hex.to_uppercase().as_bytes()), vec!["~/.npmrc".to_string()]);
        for prefix in ["", "a", "ab", "abc"] {
            let blob = base64(format!("{prefix}{{\"t\":\"{npmrc}\"}}").as_bytes());
            assert_eq!(
                tokens.scan(blob.as_bytes()),
                vec!["~/.npmrc".to_string()],
                "prefix {prefix:?}"
            );
        }
        assert!(tokens.scan(b"nothing here").is_empty());
    }

    #[test]
    fn canaries_differ_per_run() {
        assert_ne!(
            Honeytokens::generate().tokens[0].canary,
            Honeytokens::generate().tokens[0].canary
        );
    }

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b"hello"), "aGVsbG8=");
        assert_eq!(base64(b"hi!"), "aGkh");
    }
}
