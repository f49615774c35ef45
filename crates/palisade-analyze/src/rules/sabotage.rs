//! `sabotage-infinite-loop`: protestware that hangs or floods every program importing it — an
//! unconditional infinite loop run at module load (colors 1.4.44-liberty-2).

use oxc_ast::ast::{Expression, Statement};
use oxc_span::GetSpan;
use oxc_syntax::operator::{BinaryOperator, UnaryOperator};
use palisade_core::{Capability, Confidence, Finding, Severity};

use super::signals::finding;
use super::{FileRule, RuleInfo};
use crate::facts::{FileFacts, FileKind};

pub struct Sabotage;

static INFO: RuleInfo = RuleInfo {
    id: "sabotage-infinite-loop",
    severity: Severity::Critical,
    confidence: Confidence::High,
    capabilities: &[Capability::Destructive],
    summary: "Runs an endless loop when the module is loaded, hanging (or flooding the output of) every program that imports it",
    docs: r#"## What it detects

A loop that can never end — `for (;;)`, `while (true)`, `while (1)`, `while (!0)`,
`for (let i = 666; i < Infinity; i++)`, `do … while (true)` — written as a top-level statement of
a library file (or of an immediately invoked function at the top level), so that it runs as soon
as the module is `require`d or imported, and whose body has no way out (`break`, `return`,
`throw`, `await`, `yield`, `process.exit`).

- **critical** when the loop prints (`console.log`, `console.error`, `process.stdout.write`):
  every program using the library floods its terminal forever;
- **high** for a silent endless loop: every program using the library hangs at start-up.

Files under `bin/`, `test/`, `example/`, `benchmark/` and `scripts/` are not reported:
command-line entry points may run a read-eval-print loop at their top level.

## Real attacks

- colors 1.4.44-liberty-2 (January 2022): its maintainer added
  `for (let i = 666; i < Infinity; i++)` to the module's top level, printing "LIBERTY LIBERTY
  LIBERTY" followed by zalgo text forever; every application depending on colors (AWS CDK among
  thousands) hung and filled its logs.
- faker 6.6.6 (same week, same author): sabotage release of a widely used library.

## Known false positives

Loops inside functions (event loops, generators, parsers, retry loops) are not looked at; nor are
loops with a `break`, `return`, `throw`, `await` or `yield` in their body. A script meant to be
run directly (a server's main file outside `bin/`) that loops forever at its top level would be
reported.
"#,
};

/// Texts that announce an endless loop; files without any of them are not parsed again.
const LOOP_MARKERS: &[&str] = &[
    "for(;;)",
    "for (;;)",
    "for ( ; ; )",
    "while(true)",
    "while (true)",
    "while(1)",
    "while (1)",
    "while(!0)",
    "while (!0)",
    "Infinity",
];

/// Words in a loop body that let it end (or yield to the event loop).
const ESCAPES: &[&str] = &["break", "return", "throw", "await", "yield", "exit", "abort"];

const SKIPPED_DIRS: &[&str] = &[
    "bin/",
    "test/",
    "tests/",
    "__tests__/",
    "example/",
    "examples/",
    "benchmark/",
    "benchmarks/",
    "bench/",
    "scripts/",
    "demo/",
];

/// Files larger than this are not parsed a second time (an injected sabotage loop sits in a
/// library's entry file, not deep in a multi-megabyte bundle).
const MAX_BYTES: usize = 4 << 20;

impl FileRule for Sabotage {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, file: &FileFacts, out: &mut Vec<Finding>) {
        if !matches!(file.kind, FileKind::JavaScript | FileKind::TypeScript) {
            return;
        }
        let Some(text) = file.text.as_deref() else { return };
        if text.len() > MAX_BYTES || !LOOP_MARKERS.iter().any(|m| text.contains(m)) {
            return;
        }
        let lower_path = format!("/{}", file.path.to_ascii_lowercase());
        if SKIPPED_DIRS.iter().any(|dir| lower_path.contains(&format!("/{dir}"))) {
            return;
        }
        // Cheap: is any marker at bracket depth 0 (a top-level statement)? Only then parse.
        if !top_level_marker(text) {
            return;
        }
        let Some((start, end)) = endless_top_level_loop(text, &file.path) else {
            return;
        };
        let body = text.get(start..end).unwrap_or("");
        let prints = ["console.", "process.stdout.write", "process.stderr.write"]
            .iter()
            .any(|p| body.contains(p));
        let line = text[..start].bytes().filter(|&b| b == b'\n').count() as u32 + 1;
        let (severity, confidence, message) = if prints {
            (
                Severity::Critical,
                Confidence::High,
                "An endless loop that prints runs when the module is loaded: every program importing it hangs and floods its output (protestware sabotage, as colors 1.4.44-liberty-2).",
            )
        } else {
            (
                Severity::High,
                Confidence::Medium,
                "An endless loop runs when the module is loaded: every program importing it hangs.",
            )
        };
        let evidence = palisade_core::bounded_excerpt(body.lines().next().unwrap_or(""), 200);
        out.push(finding(
            &INFO,
            file,
            line,
            severity,
            confidence,
            message.to_string(),
            &evidence,
        ));
    }
}

/// A rough scan: is one of [`LOOP_MARKERS`] found outside strings and comments at bracket depth 0
/// (or right inside a top-level IIFE, `(function () {` / `!function () {` / `(() => {`)?
fn top_level_marker(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut depth: i64 = 0;
    // Depth at which an IIFE body opened at the top level starts.
    let mut iife_depth: Option<i64> = None;
    let mut last_significant = b';';
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' | b'\'' | b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                last_significant = b'"';
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..].find("*/").map_or(bytes.len(), |p| i + 2 + p + 2);
                continue;
            }
            b'/' if b"(,=:[!&|?{};+-*%<>~^".contains(&last_significant) => {
                // A regular expression literal.
                i += 1;
                let mut class = false;
                while i < bytes.len() && bytes[i] != b'\n' && (class || bytes[i] != b'/') {
                    match bytes[i] {
                        b'\\' => i += 1,
                        b'[' => class = true,
                        b']' => class = false,
                        _ => {}
                    }
                    i += 1;
                }
                last_significant = b'"';
            }
            b'{' | b'(' | b'[' => {
                if b == b'{' && depth <= 2 && iife_depth.is_none() {
                    let before = text[..i].trim_end();
                    // Bytes: the 40th byte back may sit inside a multi-byte character.
                    let tail = &before.as_bytes()[before.len().saturating_sub(40)..];
                    let has = |needle: &[u8]| tail.windows(needle.len()).any(|w| w == needle);
                    if (tail.ends_with(b")") || tail.ends_with(b"=>")) && (has(b"function") || has(b"=>")) {
                        iife_depth = Some(depth + 1);
                    }
                }
                depth += 1;
                last_significant = b;
            }
            b'}' | b')' | b']' => {
                depth = (depth - 1).max(0);
                if iife_depth.is_some_and(|d| depth < d) {
                    iife_depth = None;
                }
                last_significant = b;
            }
            b'f' | b'w' if depth == 0 || iife_depth == Some(depth) => {
                // A `for`/`while` header that names a marker (`for (let i = 0; i < Infinity; i++)`).
                let rest = &text[i..];
                if rest.starts_with("for") || rest.starts_with("while") {
                    let mut end = rest.len().min(120);
                    while !rest.is_char_boundary(end) {
                        end -= 1;
                    }
                    let header = &rest[..end];
                    if LOOP_MARKERS.iter().any(|m| header.contains(m)) {
                        return true;
                    }
                }
                last_significant = b;
            }
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => last_significant = b,
        }
        i += 1;
    }
    false
}

/// Parses `text` and returns the byte span of the first top-level endless loop without an
/// escape (in the program body or in the body of a top-level IIFE).
fn endless_top_level_loop(text: &str, path: &str) -> Option<(usize, usize)> {
    let allocator = oxc_allocator::Allocator::default();
    let lower = path.to_ascii_lowercase();
    let source_type = if lower.ends_with(".ts") || lower.ends_with(".mts") || lower.ends_with(".cts") {
        oxc_span::SourceType::ts()
    } else {
        oxc_span::SourceType::unambiguous()
    };
    let options = oxc_parser::ParseOptions {
        allow_return_outside_function: true,
        ..Default::default()
    };
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let ret = oxc_parser::Parser::new(&allocator, text, source_type)
            .with_options(options)
            .parse();
        if ret.panicked {
            return None;
        }
        find_in(text, &ret.program.body, 0)
    }));
    parsed.ok().flatten()
}

fn find_in(text: &str, statements: &[Statement<'_>], depth: u32) -> Option<(usize, usize)> {
    for statement in statements {
        let endless = match statement {
            Statement::ForStatement(s) => s.test.as_ref().is_none_or(never_false),
            Statement::WhileStatement(s) => never_false(&s.test),
            Statement::DoWhileStatement(s) => never_false(&s.test),
            Statement::ExpressionStatement(s) if depth < 2 => {
                if let Some(body) = iife_body(&s.expression) {
                    if let Some(found) = find_in(text, body, depth + 1) {
                        return Some(found);
                    }
                }
                false
            }
            _ => false,
        };
        if endless {
            let span = statement.span();
            let (start, end) = (span.start as usize, span.end as usize);
            let body = text.get(start..end).unwrap_or("");
            if !has_escape(body) {
                return Some((start, end));
            }
        }
    }
    None
}

/// `(function () { … })()`, `!function () { … }()`, `(() => { … })()`, `void function…`.
fn iife_body<'a, 'b>(expression: &'b Expression<'a>) -> Option<&'b [Statement<'a>]> {
    match expression {
        Expression::ParenthesizedExpression(p) => iife_body(&p.expression),
        Expression::UnaryExpression(u) => iife_body(&u.argument),
        Expression::CallExpression(call) if call.arguments.is_empty() || call.arguments.len() <= 2 => {
            match call.callee.without_parentheses() {
                Expression::FunctionExpression(f) if !f.r#async && !f.generator => {
                    f.body.as_ref().map(|b| b.statements.as_slice())
                }
                Expression::ArrowFunctionExpression(a) if !a.r#async => match &a.body {
                    oxc_ast::ast::ArrowFunctionBody::FunctionBody(body) => Some(body.statements.as_slice()),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    }
}

/// A loop condition that is constantly truthy.
fn never_false(test: &Expression<'_>) -> bool {
    match test.without_parentheses() {
        Expression::BooleanLiteral(b) => b.value,
        Expression::NumericLiteral(n) => n.value != 0.0 && !n.value.is_nan(),
        Expression::StringLiteral(s) => !s.value.is_empty(),
        Expression::UnaryExpression(u) if u.operator == UnaryOperator::LogicalNot => {
            matches!(u.argument.without_parentheses(), Expression::NumericLiteral(n) if n.value == 0.0)
                || matches!(u.argument.without_parentheses(), Expression::BooleanLiteral(b) if !b.value)
        }
        // `i < Infinity`, `i <= Number.POSITIVE_INFINITY`
        Expression::BinaryExpression(b)
            if matches!(b.operator, BinaryOperator::LessThan | BinaryOperator::LessEqualThan) =>
        {
            is_infinity(&b.right)
        }
        _ => false,
    }
}

fn is_infinity(expression: &Expression<'_>) -> bool {
    match expression.without_parentheses() {
        Expression::Identifier(id) => id.name == "Infinity",
        Expression::StaticMemberExpression(m) => {
            m.property.name == "POSITIVE_INFINITY"
                && matches!(&m.object, Expression::Identifier(id) if id.name == "Number")
        }
        _ => false,
    }
}

/// Whether the loop's source has a way out (as a whole word).
fn has_escape(body: &str) -> bool {
    ESCAPES.iter().any(|word| {
        body.match_indices(word).any(|(pos, _)| {
            let before = body[..pos].chars().next_back();
            let after = body[pos + word.len()..].chars().next();
            let boundary = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '$'));
            boundary(before) && boundary(after)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts;

    fn run_at(path: &str, source: &str) -> Vec<Finding> {
        let file = facts::extract(path, source.as_bytes(), 0o644);
        let mut out = Vec::new();
        Sabotage.check(&file, &mut out);
        out
    }

    fn run(source: &str) -> Vec<Finding> {
        run_at("lib/index.js", source)
    }

    #[test]
    fn flags_printing_infinite_loop_at_load() {
        let source = "var colors = require('./colors');\nmodule.exports = colors;\nfor (let i = 666; i < Infinity; i++) {\n  if (i % 333) { console.log('PROTEST'); }\n  console.log(colors.zalgo('FREE SOFTWARE'));\n}\n";
        let findings = run(source);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].severity, Severity::Critical);
        assert_eq!(findings[0].line, Some(3));
    }

    #[test]
    fn flags_silent_loop_and_iife() {
        let findings = run("module.exports = {};\nwhile (true) { Math.random(); }\n");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::High);
        let findings = run("!function(){ var a = 1; for(;;){ process.stdout.write('x' + a) } }();");
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].severity, Severity::Critical);
    }

    #[test]
    fn quiet_on_loops_inside_functions_or_with_an_exit() {
        // A REPL inside an async function, a game loop, a parser.
        assert!(run("async function repl(rl) {\n  while (true) {\n    const line = await rl.question('> ');\n    console.log(line);\n  }\n}\nmodule.exports = repl;").is_empty());
        assert!(run("function tick(){ for(;;){ if (done()) break; step(); } }\nmodule.exports = tick;").is_empty());
        assert!(run("let i = 0;\nwhile (true) {\n  if (i++ > 10) break;\n  console.log(i);\n}\n").is_empty());
        assert!(run("for (let i = 0; i < 10; i++) console.log(i);").is_empty());
        assert!(run("var s = 'while(true){}';\nmodule.exports = s;").is_empty());
    }

    #[test]
    fn quiet_in_minified_bundles_and_cli_entry_points() {
        let bundle = "!function(e,t){\"object\"==typeof exports?module.exports=t():e.lib=t()}(this,function(){function n(e){for(;;){var t=e.next();if(t.done)return t.value}}var r=/[{(]/g;return{n:n,r:r}});";
        assert!(run(bundle).is_empty());
        // Multi-byte text right before a brace (a panic once).
        assert!(run("const dot = '·····································';\nfunction f(x = '··········') { for(;;) { return x } }\nwhile(true){ if (f()) break }").is_empty());
        assert!(run_at(
            "bin/cli.js",
            "while (true) { console.log(require('readline-sync').question('> ')); }"
        )
        .is_empty());
    }
}
