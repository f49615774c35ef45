//! Hostile inputs: bounded time and memory, never a stack overflow or a panic.

use std::time::{Duration, Instant};

use palisade_analyze::facts::{extract, FileKind, MAX_NESTING};

#[test]
fn ten_thousand_deep_parentheses_are_refused_not_recursed() {
    let source = format!(
        "x = {}1{};\nfetch('http://1.2.3.4')",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let facts = extract("deep.js", source.as_bytes(), 0);
    assert!(!facts.parsed);
    assert!(
        facts
            .parse_error
            .as_deref()
            .is_some_and(|e| e.contains("nesting deeper than")),
        "{:?}",
        facts.parse_error
    );
    assert!(facts.text.is_some(), "textual rules still see the file");
    assert!(facts.metrics.max_nesting >= 10_000);
}

#[test]
fn deep_nesting_of_every_shape_below_the_limit_parses() {
    let depth = MAX_NESTING - 10;
    let shapes = [
        format!("x = {}1{};", "[".repeat(depth), "]".repeat(depth)),
        format!("x = {}{};", "{a:".repeat(depth), "}".repeat(depth)),
        format!("x = {}1{};", "f(".repeat(depth), ")".repeat(depth)),
        format!("x = {}y;", "!".repeat(depth)),
        format!("{}{}", "if (a) {".repeat(depth), "}".repeat(depth)),
        format!(
            "x = {}1{};",
            "(function(){ return ".repeat(depth / 2),
            "})()".repeat(depth / 2)
        ),
    ];
    for source in shapes {
        let facts = extract("deep.js", source.as_bytes(), 0);
        assert!(facts.parsed || facts.parse_error.is_some(), "{}", &source[..40]);
    }
}

#[test]
fn long_flat_chains_do_not_recurse_unbounded() {
    // Left-deep and right-deep chains that the bracket pre-scan does not see.
    let shapes = [
        format!("x = {}'end';", "'a' + ".repeat(100_000)),
        format!("x = {}0;", "a ? b : ".repeat(50_000)),
        format!("x = {}0;", "a = ".repeat(50_000)),
        format!("x = {}0;", "a => ".repeat(20_000)),
        format!("{}eval(x);", "if (a) ".repeat(20_000)),
        format!("x = a{};", ".b".repeat(100_000)),
        format!("x = a{};", "()".repeat(50_000)),
    ];
    for source in shapes {
        let start = Instant::now();
        let facts = extract("chain.js", source.as_bytes(), 0);
        assert!(facts.text.is_some());
        assert!(start.elapsed() < Duration::from_secs(20), "{}", &source[..30]);
    }
    let facts = extract(
        "concat.js",
        format!("eval({}'end');", "'a' + ".repeat(100_000)).as_bytes(),
        0,
    );
    let eval = facts.calls.iter().find(|c| c.callee == "eval").expect("eval call");
    assert_eq!(eval.args[0].as_str().map(str::len), Some(100_003));
}

#[test]
fn fifty_megabyte_single_line() {
    let chunk = "var a=function(b,c){return b+c+\"xyzzy\"},d=[1,2,3].map(function(e){return e*2});";
    let mut source = String::with_capacity(50 << 20);
    while source.len() < 50 << 20 {
        source.push_str(chunk);
    }
    source.push_str("require('child_process').exec('id');");
    let start = Instant::now();
    let facts = extract("bundle.min.js", source.as_bytes(), 0);
    let elapsed = start.elapsed();
    assert!(facts.parsed, "{:?}", facts.parse_error);
    assert_eq!(facts.metrics.lines, 1);
    assert!(facts.metrics.minified);
    assert!(facts.metrics.facts_truncated, "caps reached on a file this size");
    assert!(facts.calls.len() <= 100_000 && facts.strings.len() <= 100_000);
    // Known callees are still recorded past the cap for unknown receivers.
    assert!(facts.calls.iter().any(|c| c.callee == "child_process.exec"));
    assert!(elapsed < Duration::from_secs(120), "{elapsed:?}");
}

#[test]
fn huge_string_arrays_and_fold_bombs_are_bounded() {
    let array = format!("var _0xabc = [{}];", vec!["'aGVsbG8='"; 200_000].join(","));
    let facts = extract("obf.js", array.as_bytes(), 0);
    assert!(facts.parsed);
    assert_eq!(facts.metrics.max_string_array, 200_000);
    assert!(facts.strings.len() <= 100_000);

    // Each constant doubles the previous one: the folder must stop at its length bound.
    let mut doubling = String::from("const s0 = 'abcdefghijklmnop';\n");
    for i in 1..40 {
        doubling.push_str(&format!("const s{i} = s{} + s{};\n", i - 1, i - 1));
    }
    doubling.push_str("eval(s39);");
    // replaceAll multiplying a long string by a long replacement.
    doubling.push_str(&format!(
        "const big = '{}'; eval(big.replaceAll('a', big));",
        "a".repeat(100_000)
    ));
    let start = Instant::now();
    let facts = extract("bomb.js", doubling.as_bytes(), 0);
    assert!(start.elapsed() < Duration::from_secs(10));
    let eval = facts.calls.iter().find(|c| c.callee == "eval").expect("eval call");
    assert!(eval.args[0].as_str().is_none_or(|s| s.len() <= 1 << 20));
    assert!(facts.metrics.facts_truncated);
}

#[test]
fn invalid_utf8_and_binary_named_js() {
    let facts = extract("index.js", b"const a = 1;\n\xC3\x28 fetch('x')", 0);
    assert_eq!(facts.kind, FileKind::Binary);
    let facts = extract("index.js", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xFF\xFF\x00\x00 lots of header bytes ........................................", 0);
    assert_eq!(facts.kind, FileKind::NativeExecutable);
    let random: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let facts = extract("payload.js", &random, 0);
    assert_eq!(facts.kind, FileKind::Binary);
    assert!(facts.calls.is_empty());
}

#[test]
fn ten_thousand_tiny_files() {
    let start = Instant::now();
    for i in 0..10_000 {
        let source = format!("module.exports = require('./f{i}') + {i};");
        let facts = extract(&format!("lib/f{i}.js"), source.as_bytes(), 0);
        assert!(facts.parsed);
    }
    assert!(start.elapsed() < Duration::from_secs(30), "{:?}", start.elapsed());
}

#[test]
fn scan_package_on_ten_thousand_tiny_files_and_a_hostile_mix() {
    use palisade_analyze::{scan_package, ScanOptions};
    use palisade_tarball::{PackageContents, PackageFile};

    let mut files = vec![PackageFile {
        path: "package.json".to_string(),
        data: br#"{"name":"many","version":"1.0.0","main":"index.js"}"#.to_vec(),
        mode: 0o644,
    }];
    for i in 0..10_000 {
        files.push(PackageFile {
            path: format!("lib/f{i}.js"),
            data: format!("module.exports = {i};").into_bytes(),
            mode: 0o644,
        });
    }
    files.push(PackageFile {
        path: "deep.js".to_string(),
        data: "[".repeat(20_000).into_bytes(),
        mode: 0o644,
    });
    files.push(PackageFile {
        path: "bin.js".to_string(),
        data: vec![0x7F, b'E', b'L', b'F', 2, 1, 1, 0],
        mode: 0o755,
    });
    files.push(PackageFile {
        path: "bad.js".to_string(),
        data: b"\xFF\xFE\x00junk".to_vec(),
        mode: 0o644,
    });
    let contents = PackageContents {
        origin: "test".to_string(),
        files,
        ..Default::default()
    };
    let start = Instant::now();
    let result = scan_package(&contents, &ScanOptions::default());
    assert!(start.elapsed() < Duration::from_secs(60), "{:?}", start.elapsed());
    assert_eq!(result.files_scanned, 10_004);
    assert_eq!(result.unparsed_files, vec!["deep.js".to_string()]);
    assert!((0.0..=1.0).contains(&result.score));
}
