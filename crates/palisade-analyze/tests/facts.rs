//! The extractor's contract: canonical callees, folded values, member reads, imports.

use palisade_analyze::facts::{extract, FileFacts, FileKind, Value};

fn js(source: &str) -> FileFacts {
    let facts = extract("index.js", source.as_bytes(), 0o644);
    assert!(facts.parsed, "{source}: {:?}", facts.parse_error);
    facts
}

fn callees(facts: &FileFacts) -> Vec<&str> {
    facts.calls.iter().map(|c| c.callee.as_str()).collect()
}

fn first_arg<'a>(facts: &'a FileFacts, callee: &str) -> &'a Value {
    let call = facts
        .calls
        .iter()
        .find(|c| c.callee == callee)
        .unwrap_or_else(|| panic!("no call to {callee}"));
    call.args.first().unwrap_or(&Value::Unknown)
}

fn str_of(value: &Value) -> (&str, bool) {
    match value {
        Value::Str { value, decoded } => (value.as_str(), *decoded),
        other => panic!("not a string: {other:?}"),
    }
}

#[test]
fn require_aliases_resolve() {
    let cases = [
        "const cp = require('child_process'); cp.exec(x);",
        "const cp = require('node:child_process'); cp.exec(x);",
        "import cp from 'child_process'; cp.exec(x);",
        "import * as cp from 'node:child_process'; cp.exec(x);",
        "import { exec } from 'child_process'; exec(x);",
        "import { exec as run } from 'child_process'; run(x);",
        "const { exec } = require('child_process'); exec(x);",
        "const { exec: run } = require('child_process'); run(x);",
        "require('child_process').exec(x);",
        "const cp = require('child_process'); cp['exec'](x);",
        "const cp = require('child_process'); cp['ex' + 'ec'](x);",
        "var cp; cp = require('child_process'); cp.exec(x);",
        "const m = 'child_' + 'process'; require(m).exec(x);",
        "async function f() { const cp = await import('child_process'); cp.exec(x); }",
        "const cp = module.require('child_process'); cp.exec(x);",
        "const r = require; r('child_process').exec(x);",
        "function run(c) { cp.exec(c); }\nconst cp = require('child_process');\nrun('id');",
    ];
    for case in cases {
        let facts = js(case);
        assert!(
            callees(&facts).contains(&"child_process.exec"),
            "{case}: {:?}",
            callees(&facts)
        );
        assert!(
            facts.imports.iter().any(|i| i == "child_process"),
            "{case}: {:?}",
            facts.imports
        );
    }
}

#[test]
fn globals_are_canonical() {
    let facts = js("globalThis.eval(a); window.fetch(u); (0, eval)(b); global.process.env.X; self['fetch'](u);");
    let names = callees(&facts);
    assert_eq!(names.iter().filter(|n| **n == "eval").count(), 2, "{names:?}");
    assert_eq!(names.iter().filter(|n| **n == "fetch").count(), 2, "{names:?}");
    assert!(facts.member_reads.iter().any(|r| r.path == "process.env.X" && !r.whole));

    let facts = js("new Function('return 1')(); Function('a', 'b')(); import('x' + 'y');");
    let function_calls: Vec<_> = facts.calls.iter().filter(|c| c.callee == "Function").collect();
    assert_eq!(function_calls.len(), 2);
    assert!(function_calls[0].is_new && !function_calls[1].is_new);
    assert_eq!(str_of(first_arg(&facts, "import")).0, "xy");
    assert!(facts.imports.contains(&"xy".to_string()));
}

#[test]
fn computed_require_keeps_the_unknown() {
    let facts = js("function load(name) { return require(name); } load('x');");
    assert!(!matches!(first_arg(&facts, "require"), Value::Str { .. }));
    let facts = js("require(Buffer.from('Y2hpbGRfcHJvY2Vzcw==', 'base64').toString()).exec(c)");
    assert_eq!(str_of(first_arg(&facts, "require")), ("child_process", true));
    assert!(callees(&facts).contains(&"child_process.exec"), "{:?}", callees(&facts));
}

#[test]
fn unknown_receivers_and_locals() {
    let facts = js("function f(req) { req.send(data); } const o = {}; o.exec(x); get().write(y);");
    let names = callees(&facts);
    assert!(names.contains(&"?.send"), "{names:?}");
    assert!(names.contains(&"?.exec"), "{names:?}");
    assert!(names.contains(&"?.write"), "{names:?}");
    // A local named like a global is not the global.
    let facts = js("function g(eval) { eval(x); }");
    assert!(!callees(&facts).contains(&"eval"));
}

#[test]
fn folding() {
    let facts = js(r#"
        const a = 'ht' + 'tp://' + `${'ev'}il.com`;
        fetch(a);
        exec(atob('Y3VybCBldmls'));
        exec(String.fromCharCode(104, 105));
        exec(['c', 'u', 'r', 'l'].join(''));
        exec('lruc'.split('').reverse().join(''));
        exec(decodeURIComponent('%2Fetc%2Fpasswd'));
        exec(Buffer.from('6869', 'hex').toString('utf8'));
        exec("\x68\u0069");
        let s = 'cu'; s += 'rl'; exec2(s);
    "#);
    assert_eq!(str_of(first_arg(&facts, "fetch")), ("http://evil.com", false));
    let execs: Vec<_> = facts
        .calls
        .iter()
        .filter(|c| c.callee == "exec")
        .map(|c| c.args[0].clone())
        .collect();
    let values: Vec<(String, bool)> = execs.iter().map(|v| (str_of(v).0.to_string(), str_of(v).1)).collect();
    assert_eq!(
        values,
        vec![
            ("curl evil".to_string(), true),
            ("hi".to_string(), true),
            ("curl".to_string(), false),
            ("curl".to_string(), false),
            ("/etc/passwd".to_string(), true),
            ("hi".to_string(), true),
            ("hi".to_string(), false),
        ]
    );
    assert_eq!(str_of(first_arg(&facts, "exec2")).0, "curl");
    assert!(facts.strings.iter().any(|s| s.value == "curl evil" && s.decoded));
    assert!(facts.strings.iter().any(|s| s.value == "http://evil.com"));
}

#[test]
fn home_paths_fold_to_tilde() {
    let cases = [
        "const os = require('os'); const path = require('path'); fs.readFileSync(path.join(os.homedir(), '.npmrc'));",
        "fs.readFileSync(require('path').join(require('os').homedir(), '.npmrc'))",
        "fs.readFileSync(process.env.HOME + '/.npmrc')",
        "fs.readFileSync(`${process.env.HOME || process.env.USERPROFILE}/.npmrc`)",
        "const { homedir } = require('os'); fs.readFileSync(homedir() + '/.npmrc')",
        "import os from 'os'; import { join } from 'path'; fs.readFileSync(join(os.homedir(), '.npmrc'))",
    ];
    for case in cases {
        let facts = js(case);
        let call = facts
            .calls
            .iter()
            .find(|c| c.callee.ends_with("readFileSync"))
            .expect(case);
        assert_eq!(call.args[0].as_str(), Some("~/.npmrc"), "{case}: {:?}", call.args);
    }
}

#[test]
fn env_reads() {
    let whole = [
        "JSON.stringify(process.env)",
        "send({ ...process.env })",
        "Object.keys(process.env).forEach(f)",
        "for (const k in process.env) {}",
        "const e = process.env; post(e);",
        "const { env } = process; post(env);",
        "post({ env: process.env })",
        "const { ...all } = process.env;",
    ];
    for case in whole {
        let facts = js(case);
        assert!(
            facts.member_reads.iter().any(|r| r.path == "process.env" && r.whole),
            "{case}: {:?}",
            facts.member_reads
        );
    }
    let facts = js("const t = process.env.NPM_TOKEN; const { GITHUB_TOKEN } = process.env; process.env['AWS_KEY'];");
    for name in ["NPM_TOKEN", "GITHUB_TOKEN", "AWS_KEY"] {
        let path = format!("process.env.{name}");
        assert!(
            facts.member_reads.iter().any(|r| r.path == path && !r.whole),
            "{path}: {:?}",
            facts.member_reads
        );
    }
    assert!(!facts.member_reads.iter().any(|r| r.whole));
}

#[test]
fn assignments() {
    let facts = js(r#"
        window.fetch = function () {};
        XMLHttpRequest.prototype.send = function () {};
        globalThis.ethereum.request = hook;
        process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
        module.exports = { a: 1 };
    "#);
    let targets: Vec<&str> = facts.assignments.iter().map(|a| a.target.as_str()).collect();
    assert_eq!(
        targets,
        vec![
            "window.fetch",
            "XMLHttpRequest.prototype.send",
            "window.ethereum.request",
            "process.env.NODE_TLS_REJECT_UNAUTHORIZED",
            "module.exports"
        ]
    );
    assert_eq!(facts.assignments[0].value, Value::Function);
    assert_eq!(facts.assignments[3].value.as_str(), Some("0"));
    // Writes are not reads.
    assert!(!facts
        .member_reads
        .iter()
        .any(|r| r.path.starts_with("process.env.NODE_TLS")));
}

#[test]
fn lines_columns_and_excerpts() {
    let facts = js("const a = 1;\n\n  eval(\n'x')\n");
    let call = &facts.calls[0];
    assert_eq!((call.line, call.column), (3, 3));
    assert_eq!(call.excerpt, "eval( 'x')");
}

#[test]
fn typescript_jsx_and_scripts() {
    let facts = extract(
        "a.ts",
        b"import { exec } from 'child_process'; const x: string = 'a'; exec(x as string);",
        0,
    );
    assert!(facts.parsed && facts.kind == FileKind::TypeScript);
    assert_eq!(facts.calls[0].callee, "child_process.exec");
    assert_eq!(facts.calls[0].args[0].as_str(), Some("a"));
    let facts = extract("a.tsx", b"const A = () => <div onClick={() => fetch('u')} />;", 0);
    assert!(facts.parsed, "{:?}", facts.parse_error);
    let facts = extract("a.jsx", b"const A = () => <div>{eval(x)}</div>;", 0);
    assert!(facts.parsed && facts.calls[0].callee == "eval");
    // Sloppy-mode script: `with` and legacy octal are not module syntax.
    let facts = js("with (obj) { eval(a) } var n = 010; return;");
    assert!(facts.calls.iter().any(|c| c.callee == "eval"));
    let facts = extract(
        "bin/cli",
        b"#!/usr/bin/env node\nrequire('child_process').execSync('id')",
        0,
    );
    assert!(facts.parsed && facts.kind == FileKind::JavaScript);
    assert!(callees(&facts).contains(&"child_process.execSync"));
}

#[test]
fn unparsable_files_keep_text() {
    let facts = extract("broken.js", b"function ( {\nfetch('http://x')", 0);
    assert!(!facts.parsed);
    assert!(facts.parse_error.is_some());
    assert!(facts.text.as_deref().is_some_and(|t| t.contains("fetch")));
    assert_eq!(facts.line_text(2).as_deref(), Some("fetch('http://x')"));
}

#[test]
fn binary_and_native_files() {
    let facts = extract("index.js", b"\x7fELF\x02\x01\x01\0\0\0\0\0", 0o755);
    assert_eq!(facts.kind, FileKind::NativeExecutable);
    assert!(facts.text.is_none() && !facts.parsed);
    let facts = extract("index.js", b"var a = '\xff\xfe';", 0);
    assert_eq!(facts.kind, FileKind::Binary);
    assert!(facts.text.is_none());
}

#[test]
fn metrics() {
    let facts = js("var _0x1a2b = ['a', 'b', 'c', 'd']; function _0x3c4d(_0x5e6f) { return _0x1a2b[_0x5e6f]; }");
    assert_eq!(facts.metrics.max_string_array, 4);
    assert!(facts.metrics.hex_identifiers >= 5, "{:?}", facts.metrics);
    assert!(facts.metrics.identifiers >= facts.metrics.hex_identifiers);
    let jsfuck = js("[][(![]+[])[+[]]+(![]+[])[!+[]+!+[]]]");
    assert!(jsfuck.metrics.jsfuck_ratio > 0.9);
    let minified = "var a=1;".repeat(200);
    assert!(js(&minified).metrics.minified);
    let plain = "var a = 1;\n".repeat(200);
    assert!(!js(&plain).metrics.minified);
    let encoded = format!("var p = '{}';", "QUJDRGVmZ2gxMjM0".repeat(20));
    assert_eq!(js(&encoded).metrics.long_encoded_strings, 1);
}

#[test]
fn shebang_below_a_comment_still_parses() {
    let source =
        "// generated by a build tool\n#!/usr/bin/env node\nconst cp = require('child_process');\ncp.exec('id');\n";
    let facts = js(source);
    assert!(callees(&facts).contains(&"child_process.exec"), "{:?}", callees(&facts));
    let exec = facts
        .calls
        .iter()
        .find(|c| c.callee == "child_process.exec")
        .map(|c| c.line);
    assert_eq!(exec, Some(4), "lines keep their numbers");
    // The rules still see the original text.
    assert!(facts.text.as_deref().is_some_and(|t| t.contains("#!/usr/bin/env node")));
    // A first-line shebang is left to the parser as before.
    assert!(js("#!/usr/bin/env node\nmodule.exports = 1;\n").parsed);
}
