//! yarn.lock extractor: scenario fixtures (snapshotted), targeted checks,
//! and a no-panic property test.

use palisade_core::SourceKind;
use palisade_lockfile::{extract_str, LockfileError, LockfileKind};
use proptest::prelude::*;

fn extract(name: &str, contents: &str) -> Result<palisade_core::Inventory, LockfileError> {
    extract_str(LockfileKind::Yarn, name, contents)
}

/// Every file under `fixtures/yarn/` is one snapshot: the inventory as JSON,
/// or the error message.
#[test]
fn scenario_fixtures() {
    insta::glob!("fixtures/yarn/*", |path| {
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        let contents = std::fs::read_to_string(path).expect("fixture is readable");
        let value = match extract(name, &contents) {
            Ok(inventory) => serde_json::to_value(&inventory).expect("inventory serializes"),
            Err(error) => serde_json::json!({ "error": error.to_string() }),
        };
        insta::assert_json_snapshot!(value);
    });
}

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/yarn")
        .join(name);
    std::fs::read_to_string(path).expect("fixture is readable")
}

#[test]
fn truncated_classic_is_a_syntax_error_with_line_and_column() {
    let error = extract("yarn.lock", &fixture("truncated.v1.lock")).expect_err("truncated");
    match error {
        LockfileError::Syntax { line, column, .. } => assert_eq!((line, column), (12, 12)),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn unknown_berry_version_lists_the_supported_ones() {
    let error = extract("yarn.lock", &fixture("unsupported.berry-v99.lock")).expect_err("v99");
    assert!(matches!(error, LockfileError::UnsupportedVersion { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("99") && message.contains("3 to 10"), "{message}");
}

#[test]
fn empty_and_foreign_text_is_refused() {
    for text in ["", "\n\n", "hello: world\n", "{\"lockfileVersion\": 3}"] {
        let error = extract("yarn.lock", text).expect_err(text);
        assert!(matches!(error, LockfileError::Invalid { .. }), "{text:?}: {error:?}");
    }
}

#[test]
fn classic_aliases_report_the_real_name() {
    let inventory = extract("yarn.lock", &fixture("aliases.v1.lock")).expect("valid");
    let string_width = inventory
        .packages
        .iter()
        .find(|package| package.name == "string-width" && package.version == "4.2.3")
        .expect("aliased package under its real name");
    assert_eq!(string_width.aliases, vec!["string-width-cjs"]);
    assert!(inventory.packages.iter().all(|package| !package.name.ends_with("-cjs")));
}

#[test]
fn berry_patches_merge_with_the_base_package_and_workspaces_are_importers() {
    let inventory = extract("yarn.lock", &fixture("patch.berry-v6.lock")).expect("valid");
    let resolves: Vec<_> = inventory
        .packages
        .iter()
        .filter(|package| package.name == "resolve")
        .collect();
    assert_eq!(
        resolves.len(),
        1,
        "patched and unpatched resolve@1.22.1 are one package"
    );
    assert_eq!(resolves[0].source, SourceKind::Registry);
    assert!(inventory
        .packages
        .iter()
        .all(|package| package.source != SourceKind::Workspace));
    assert_eq!(inventory.importers.len(), 1);
    assert_eq!(inventory.importers[0].path, ".");

    let inventory = extract("yarn.lock", &fixture("workspaces.berry-v8.lock")).expect("valid");
    let source_of = |name: &str| {
        inventory
            .packages
            .iter()
            .find(|package| package.name == name)
            .map(|package| package.source)
    };
    assert_eq!(source_of("hammerjs"), Some(SourceKind::Git));
    assert_eq!(source_of("local-config"), Some(SourceKind::Link));
    assert_eq!(source_of("vendored"), Some(SourceKind::File));
    assert_eq!(source_of("react"), Some(SourceKind::Registry));
    assert!(source_of("react-17").is_none(), "aliases resolve to the real name");
    let fsevents = inventory
        .packages
        .iter()
        .find(|package| package.name == "fsevents")
        .expect("fsevents");
    assert!(fsevents.optional, "only reached through dependenciesMeta optional");
    let app = inventory
        .importers
        .iter()
        .find(|importer| importer.path == "packages/app")
        .expect("app");
    assert!(
        app.dependencies.iter().any(|id| id.name == "local-config"),
        "portal bound via ::locator"
    );
}

#[test]
fn non_canonical_berry_goes_through_the_yaml_parser() {
    // Flow mappings and single quotes are valid YAML that yarn never writes.
    let text = "__metadata: {version: 6, cacheKey: 8}\n\n'left-pad@npm:^1.3.0':\n  version: 1.3.0\n  resolution: 'left-pad@npm:1.3.0'\n";
    let inventory = extract("yarn.lock", text).expect("valid YAML");
    assert_eq!(inventory.format, "yarn-berry-v6");
    assert_eq!(inventory.packages.len(), 1);
    assert_eq!(inventory.packages[0].line, Some(3));

    let error = extract("yarn.lock", "__metadata:\n  version: 6\n\"a@npm:1\":\n  version: [\n").expect_err("bad");
    match error {
        LockfileError::Syntax { line, column, .. } => assert!(line >= 4 && column > 0, "{line}:{column}"),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn entries_that_cannot_be_understood_are_warnings_not_silence() {
    let text = "# yarn lockfile v1\n\nleft-pad@^1.3.0:\n  resolved \"https://registry.yarnpkg.com/left-pad/-/left-pad-1.3.0.tgz\"\n";
    let inventory = extract("yarn.lock", text).expect("parses");
    assert!(inventory.packages.is_empty());
    assert_eq!(inventory.warnings.len(), 1);
    assert_eq!(inventory.warnings[0].line, Some(3));

    let text = "__metadata:\n  version: 8\n\n\"x@npm:1\":\n  version: 1.0.0\n";
    let inventory = extract("yarn.lock", text).expect("parses");
    assert_eq!(inventory.warnings.len(), 1);
    assert_eq!(inventory.warnings[0].line, Some(4));
}

#[test]
fn crlf_line_endings_and_a_byte_order_mark_are_accepted() {
    let classic = fixture("multi-specifier.v1.lock");
    let expected = extract("yarn.lock", &classic).expect("valid");
    let windows = format!("\u{feff}{}", classic.replace('\n', "\r\n"));
    assert_eq!(
        extract("yarn.lock", &windows).expect("valid").packages,
        expected.packages
    );

    let berry = fixture("patch.berry-v6.lock");
    let expected = extract("yarn.lock", &berry).expect("valid");
    let windows = format!("\u{feff}{}", berry.replace('\n', "\r\n"));
    assert_eq!(
        extract("yarn.lock", &windows).expect("valid").packages,
        expected.packages
    );
}

#[test]
fn a_key_listing_many_packages_stays_linear() {
    let mut text = String::from("# yarn lockfile v1\n\n");
    let keys: Vec<String> = (0..20_000).map(|index| format!("\"p{index}@^1\"")).collect();
    text.push_str(&keys.join(", "));
    text.push_str(":\n  version \"1.0.0\"\n");
    let started = std::time::Instant::now();
    let inventory = extract("yarn.lock", &text).expect("valid");
    assert_eq!(inventory.packages.len(), 20_000);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn merge_conflicts_are_syntax_errors() {
    let text = "# yarn lockfile v1\n\n<<<<<<< HEAD\na@^1:\n  version \"1.0.0\"\n=======\n";
    let error = extract("yarn.lock", text).expect_err("conflict");
    assert!(matches!(error, LockfileError::Syntax { line: 3, .. }), "{error:?}");
}

#[test]
fn deep_nesting_is_refused_without_recursion() {
    let mut text = String::from("# yarn lockfile v1\n\n");
    for depth in 0..200 {
        text.push_str(&"  ".repeat(depth));
        text.push_str("a:\n");
    }
    assert!(matches!(extract("yarn.lock", &text), Err(LockfileError::Syntax { .. })));
}

#[test]
fn deeply_nested_berry_yaml_is_an_error_not_a_stack_overflow() {
    let flow = format!("__metadata:\n  version: 8\n\n\"a@npm:1\": {}\n", "[".repeat(100_000));
    assert!(extract("yarn.lock", &flow).is_err());
    let mut block = String::from("__metadata:\n  version: 8\n\n");
    for depth in 0..300 {
        block.push_str(&"  ".repeat(depth));
        block.push_str("a:\n");
    }
    block.push_str(&"  ".repeat(300));
    block.push_str("b: c\n");
    assert!(extract("yarn.lock", &block).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC*") {
        let _ = extract("yarn.lock", &text);
    }

    #[test]
    fn arbitrary_classic_bodies_never_panic(body in "[ a-z@^.:,\"#\\\\\n-]{0,200}") {
        let _ = extract("yarn.lock", &format!("# yarn lockfile v1\n\n{body}"));
    }

    #[test]
    fn arbitrary_berry_bodies_never_panic(body in "[ a-z@^.:,\"'#{}\\[\\]\\\\\n-]{0,200}") {
        let _ = extract("yarn.lock", &format!("__metadata:\n  version: 8\n\n{body}"));
    }
}
