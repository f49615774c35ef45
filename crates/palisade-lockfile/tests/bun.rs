//! bun.lock scenarios: one fixture per scenario under `fixtures/bun/`, each
//! snapshotted as the inventory (or the error) a user would see. Adding a
//! fixture adds a test; write new snapshots with `INSTA_UPDATE=always`.

use palisade_lockfile::{extract_str, LockfileError, LockfileKind};
use proptest::prelude::*;

fn extract(name: &str, contents: &str) -> Result<palisade_core::Inventory, LockfileError> {
    extract_str(LockfileKind::Bun, name, contents)
}

fn outcome(name: &str, contents: &str) -> serde_json::Value {
    match extract(name, contents) {
        Ok(inventory) => serde_json::to_value(&inventory).expect("inventory serializes"),
        Err(error) => serde_json::json!({ "error": error.to_string() }),
    }
}

#[test]
fn scenarios() {
    insta::glob!("fixtures/bun/*", |path| {
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        let contents = std::fs::read_to_string(path).expect("fixture is UTF-8");
        insta::assert_json_snapshot!(outcome(name, &contents));
    });
}

#[test]
fn truncated_file_is_a_syntax_error_with_position() {
    let contents = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/bun/truncated.lock"
    ))
    .expect("fixture");
    match extract("bun.lock", &contents) {
        Err(LockfileError::Syntax { line, column, .. }) => {
            assert_eq!(line, contents.lines().count(), "points at the end of the text");
            assert!(column > 0);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn unknown_versions_say_which_are_supported() {
    for version in ["2", "\"1\"", "-1", "1.5"] {
        let contents = format!("{{\"lockfileVersion\": {version}, \"workspaces\": {{}}, \"packages\": {{}}}}");
        match extract("bun.lock", &contents) {
            Err(LockfileError::UnsupportedVersion { supported, .. }) => assert_eq!(supported, "0, 1"),
            other => panic!("{version}: unexpected {other:?}"),
        }
    }
    assert!(matches!(
        extract("bun.lock", "{\"packages\": {}}"),
        Err(LockfileError::Invalid { .. })
    ));
    assert!(matches!(
        extract("bun.lock", "[1, 2]"),
        Err(LockfileError::Invalid { .. })
    ));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let text = format!(
        "{{\"lockfileVersion\": 1, \"x\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(matches!(extract("bun.lock", &text), Err(LockfileError::Syntax { .. })));
}

#[test]
fn entries_not_understood_are_warnings_with_lines() {
    let contents = "{\n  \"lockfileVersion\": 1,\n  \"workspaces\": { \"\": { \"dependencies\": { \"ok\": \"1\" } } },\n  \"packages\": {\n    \"ok\": [\"ok@1.0.0\", \"\", {}, \"sha512-x\"],\n    \"bad\": 3,\n    \"worse\": [\"no-version\"],\n  }\n}\n";
    let inventory = extract("bun.lock", contents).expect("readable");
    assert_eq!(inventory.packages.len(), 1);
    let lines: Vec<_> = inventory.warnings.iter().map(|warning| warning.line).collect();
    assert_eq!(lines, vec![Some(6), Some(7)], "{:#?}", inventory.warnings);
}

#[test]
fn nested_keys_resolve_to_the_nearest_install() {
    let contents = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/bun/workspaces.v1.lock"
    ))
    .expect("fixture");
    let inventory = extract("bun.lock", &contents).expect("readable");
    let chalk4 = inventory
        .packages
        .iter()
        .find(|package| package.name == "chalk" && package.version == "4.1.2")
        .expect("chalk 4 is listed");
    assert_eq!(chalk4.paths, vec!["packages/app/node_modules/chalk"]);
    let dependencies: Vec<String> = chalk4.dependencies.iter().map(ToString::to_string).collect();
    assert_eq!(dependencies, vec!["ansi-styles@4.3.0", "supports-color@7.2.0"]);
    let app = inventory
        .importers
        .iter()
        .find(|importer| importer.path == "packages/app")
        .expect("app importer");
    assert!(app
        .dependencies
        .iter()
        .any(|id| id.name == "chalk" && id.version == "4.1.2"));
    assert!(
        !inventory
            .packages
            .iter()
            .any(|package| package.name.starts_with("@acme/")),
        "workspace members are not packages"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC*") {
        let _ = extract("bun.lock", &text);
    }

    #[test]
    fn json_shaped_text_never_panics(
        text in "\\{\"lockfileVersion\": [01],( \"workspaces\": \\{(\"[a-z/]{0,6}\": \\{\"name\": \"[a-z@/]{0,5}\", \"dependencies\": \\{(\"[a-z@/]{1,6}\": \"[^\"]{0,4}\",){0,3}\\},?\\},?){0,3}\\},)? \"packages\": \\{(\"[a-z@/]{1,8}\": \\[(\"[a-z@/:.0-9]{0,10}\",?|\\{\\},?|[0-9],?){0,4}\\],?){0,6}\\}\\}"
    ) {
        let _ = extract("bun.lock", &text);
    }
}

/// Scenario fixtures cut and corrupted at random places: every prefix and
/// every single-character edit of a real-shaped file must still be handled
/// without a panic (a poor man's fuzzer that runs with `cargo test`).
const SEEDS: &[&str] = &[
    include_str!("fixtures/bun/workspaces.v1.lock"),
    include_str!("fixtures/bun/trailing-commas.v1.lock"),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn corrupted_fixtures_never_panic(seed in 0..SEEDS.len(), cut in 0.0f64..1.0, at in 0.0f64..1.0, replacement in proptest::char::any()) {
        let text = SEEDS[seed];
        let mut end = ((text.len() as f64) * cut) as usize;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let _ = extract("lockfile", &text[..end]);
        let mut position = ((text.len() as f64) * at) as usize;
        while !text.is_char_boundary(position) {
            position -= 1;
        }
        let mut edited = String::with_capacity(text.len() + 4);
        edited.push_str(&text[..position]);
        edited.push(replacement);
        if let Some(next) = text[position..].chars().next() {
            edited.push_str(&text[position + next.len_utf8()..]);
        }
        let _ = extract("lockfile", &edited);
    }
}
