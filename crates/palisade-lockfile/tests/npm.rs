//! npm lockfile extractor: scenario fixtures (snapshotted), targeted checks of
//! the semantics documented in `src/npm.rs`, and no-panic property tests.

use palisade_core::{Inventory, Package, PackageId, SourceKind};
use palisade_lockfile::{extract_str, LockfileError, LockfileKind};
use proptest::prelude::*;

fn extract(name: &str, contents: &str) -> Result<Inventory, LockfileError> {
    extract_str(LockfileKind::Npm, name, contents)
}

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/npm")
        .join(name);
    std::fs::read_to_string(path).expect("fixture is readable")
}

fn inventory(name: &str) -> Inventory {
    extract(name, &fixture(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

fn find<'i>(inventory: &'i Inventory, name: &str, version: &str) -> &'i Package {
    inventory
        .packages
        .iter()
        .find(|package| package.name == name && package.version == version)
        .unwrap_or_else(|| panic!("{name}@{version} not in {:?}", ids(inventory)))
}

fn ids(inventory: &Inventory) -> Vec<String> {
    inventory
        .packages
        .iter()
        .map(|package| package.id().to_string())
        .collect()
}

/// Every file under `fixtures/npm/` is one snapshot: the inventory as JSON,
/// or the error message.
#[test]
fn scenario_fixtures() {
    insta::glob!("fixtures/npm/*", |path| {
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        let contents = std::fs::read_to_string(path).expect("fixture is readable");
        let value = match extract(name, &contents) {
            Ok(inventory) => serde_json::to_value(&inventory).expect("inventory serializes"),
            Err(error) => serde_json::json!({ "error": error.to_string() }),
        };
        insta::assert_json_snapshot!(value);
    });
}

#[test]
fn aliases_report_the_real_name_and_the_installed_one() {
    let inventory = inventory("aliases.v3.json");
    let old = find(&inventory, "lodash", "3.10.1");
    assert_eq!(old.aliases, vec!["lodash-old"]);
    assert_eq!(old.paths, vec!["node_modules/lodash-old"]);
    let scoped_alias = find(&inventory, "ms", "2.1.3");
    assert_eq!(scoped_alias.aliases, vec!["@my/ms"]);
    assert!(find(&inventory, "lodash", "4.17.21").aliases.is_empty());
    // Nested resolution: the aliased string-width@4 gets its own strip-ansi@6.
    let cjs = find(&inventory, "string-width", "4.2.3");
    assert_eq!(cjs.dependencies, vec![PackageId::new("strip-ansi", "6.0.1")]);
    assert_eq!(
        find(&inventory, "string-width", "5.1.2").dependencies,
        vec![PackageId::new("strip-ansi", "7.1.0")]
    );
    assert_eq!(format!("{:?}", inventory.format), "\"npm-v3\"");
}

#[test]
fn workspace_members_are_importers_and_file_links_are_packages() {
    let inventory = inventory("workspaces.v3.json");
    assert!(
        !inventory
            .packages
            .iter()
            .any(|package| package.name.starts_with("@monorepo/")),
        "members are not third-party: {:?}",
        ids(&inventory)
    );
    let paths: Vec<&str> = inventory
        .importers
        .iter()
        .map(|importer| importer.path.as_str())
        .collect();
    assert_eq!(paths, vec!["", "packages/app", "packages/util"]);
    let app = &inventory.importers[1];
    assert_eq!(app.name.as_deref(), Some("@monorepo/app"));
    assert_eq!(
        app.dependencies,
        vec![
            PackageId::new("@monorepo/util", "1.0.0"),
            PackageId::new("ms", "1.0.0"),
            PackageId::new("typescript", "5.4.5")
        ],
        "the member's own node_modules wins over the root's, dev dependencies count for importers"
    );
    let root = &inventory.importers[0];
    assert_eq!(
        root.dependencies,
        vec![
            PackageId::new("shared-lib", "2.0.0"),
            PackageId::new("typescript", "5.4.5")
        ]
    );

    let shared = find(&inventory, "shared-lib", "2.0.0");
    assert_eq!(shared.source, SourceKind::Link);
    assert_eq!(shared.paths, vec!["../shared-lib", "node_modules/shared-lib"]);
    assert_eq!(shared.dependencies, vec![PackageId::new("ms", "2.1.2")]);
    assert!(find(&inventory, "typescript", "5.4.5").dev);
}

#[test]
fn dev_optional_is_neither_dev_nor_optional() {
    let inventory = inventory("flags.v3.json");
    let both = find(&inventory, "both-sides", "1.0.0");
    assert!(
        !both.dev && !both.optional,
        "devOptional survives --omit dev and --omit optional"
    );
    assert!(find(&inventory, "test-runner", "1.4.0").dev);
    assert!(find(&inventory, "watcher", "1.1.0").optional);
    let peer = find(&inventory, "react", "18.2.0");
    assert!(!peer.dev && !peer.optional, "peer entries are packages");
    assert_eq!(
        find(&inventory, "react-dom", "18.2.0").dependencies,
        vec![PackageId::new("react", "18.2.0")]
    );
}

#[test]
fn v1_git_tarball_file_alias_and_bundled_entries() {
    let inventory = inventory("git-deps.v1.json");
    assert_eq!(inventory.format, "npm-v1");
    let git = find(&inventory, "left-pad", "");
    assert_eq!(git.source, SourceKind::Git);
    assert!(git
        .resolved
        .as_deref()
        .is_some_and(|resolved| resolved.starts_with("git+https://github.com/left-pad")));
    assert_eq!(find(&inventory, "is-thirteen", "").source, SourceKind::Git);
    assert_eq!(find(&inventory, "lodash", "3.10.1").aliases, vec!["old-lodash"]);
    let vendored = find(&inventory, "vendored", "0.3.1");
    assert_eq!(vendored.source, SourceKind::File);
    let tarball = find(&inventory, "tarball-dep", "");
    assert_eq!(tarball.source, SourceKind::Tarball);
    let local = find(&inventory, "local-tool", "");
    assert_eq!(local.source, SourceKind::Link);
    assert_eq!(local.paths, vec!["node_modules/local-tool", "tools/local-tool"]);
    assert_eq!(
        find(&inventory, "inner", "1.0.1").paths,
        vec!["node_modules/with-bundle/node_modules/inner"]
    );
    let nested = find(&inventory, "debug", "3.2.7");
    assert!(nested.dev);
    assert_eq!(nested.dependencies, vec![PackageId::new("ms", "2.1.2")]);
    assert!(find(&inventory, "fsevents", "2.3.3").optional);
    // The tarball URL names no version: visible, not silent.
    assert!(inventory
        .warnings
        .iter()
        .any(|warning| warning.message.contains("tarball-dep")));
}

#[test]
fn v2_reads_packages_and_ignores_the_legacy_section() {
    let inventory = inventory("bundled.v2.json");
    assert_eq!(inventory.format, "npm-v2");
    assert_eq!(
        ids(&inventory),
        vec!["bundler@1.0.0", "deep@0.0.1", "inner@2.0.1", "native-thing@0.1.4"]
    );
    assert_eq!(
        find(&inventory, "inner", "2.0.1").dependencies,
        vec![PackageId::new("deep", "0.0.1")]
    );
}

#[test]
fn sources_are_told_apart() {
    let inventory = inventory("sources.v3.json");
    let source = |name: &str| {
        inventory
            .packages
            .iter()
            .find(|package| package.name == name)
            .map(|package| package.source)
    };
    assert_eq!(source("from-codeload"), Some(SourceKind::Tarball));
    assert_eq!(source("from-git"), Some(SourceKind::Git));
    assert_eq!(source("from-github-packages"), Some(SourceKind::Registry));
    assert_eq!(source("from-private-registry"), Some(SourceKind::Registry));
    assert_eq!(source("from-tarball"), Some(SourceKind::File));
}

#[test]
fn hidden_lockfile_has_no_root_and_treats_project_links_as_members() {
    let inventory = extract("node_modules/.package-lock.json", &fixture("hidden-lockfile.v3.json")).expect("parses");
    assert_eq!(inventory.format, "npm-v3");
    assert_eq!(ids(&inventory), vec!["lru-cache@6.0.0", "semver@7.6.0"]);
    assert_eq!(inventory.importers.len(), 1);
    assert_eq!(inventory.importers[0].path, "packages/member");
    assert_eq!(
        inventory.importers[0].dependencies,
        vec![PackageId::new("semver", "7.6.0")]
    );
}

#[test]
fn entries_that_are_not_understood_are_warnings_not_losses() {
    let inventory = inventory("malformed-entries.v3.json");
    let messages: Vec<&str> = inventory
        .warnings
        .iter()
        .map(|warning| warning.message.as_str())
        .collect();
    for needle in [
        "not-an-object",
        "no-version",
        "carrier-pigeon",
        "dangling-link",
        "twice",
        "`dev` is a string",
    ] {
        assert!(
            messages.iter().any(|message| message.contains(needle)),
            "no warning about {needle}: {messages:#?}"
        );
    }
    assert!(
        inventory.warnings.iter().all(|warning| warning.line.is_some()),
        "warnings point at a line"
    );
    assert_eq!(
        ids(&inventory),
        vec!["good@1.0.0", "no-version@", "twice@2.0.0", "weird-resolved@1.0.0"]
    );
}

#[test]
fn lines_point_at_the_entry_key() {
    let inventory = inventory("aliases.v3.json");
    let text = fixture("aliases.v3.json");
    for package in &inventory.packages {
        let line = package.line.expect("pretty-printed lockfiles have lines") as usize;
        let key = format!("\"{}\": {{", package.paths[0]);
        assert_eq!(
            text.lines().nth(line - 1).map(str::trim),
            Some(key.as_str()),
            "{}",
            package.id()
        );
    }
}

#[test]
fn legacy_shrinkwrap_without_lockfile_version_is_v1() {
    let inventory = inventory("legacy-shrinkwrap.v1.json");
    assert_eq!(inventory.format, "npm-v1");
    assert_eq!(ids(&inventory), vec!["inherits@2.0.3", "once@1.4.0", "wrappy@1.0.2"]);
}

#[test]
fn truncated_json_is_a_syntax_error_with_line_and_column() {
    match extract("package-lock.json", &fixture("truncated.v3.json")) {
        Err(LockfileError::Syntax { line, column, path, .. }) => {
            assert_eq!(path, "package-lock.json");
            assert_eq!((line, column), (25, 11));
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    assert!(matches!(
        extract("package-lock.json", &fixture("not-json.txt")),
        Err(LockfileError::Syntax { line: 1, .. })
    ));
}

#[test]
fn unknown_versions_list_the_supported_ones() {
    let error = extract("package-lock.json", &fixture("unsupported-version.v4.json")).expect_err("v4");
    assert!(matches!(error, LockfileError::UnsupportedVersion { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains('4') && message.contains("1, 2, 3"), "{message}");
    for text in [
        r#"{"lockfileVersion": "3"}"#,
        r#"{"lockfileVersion": 0}"#,
        r#"{"lockfileVersion": -1}"#,
    ] {
        assert!(
            matches!(
                extract("package-lock.json", text),
                Err(LockfileError::UnsupportedVersion { .. })
            ),
            "{text}"
        );
    }
}

#[test]
fn json_that_is_not_a_lockfile_is_refused() {
    for text in [
        "[]",
        "null",
        "3",
        "{}",
        r#"{"name": "x"}"#,
        r#"{"lockfileVersion": 3}"#,
        r#"{"lockfileVersion": 3, "packages": []}"#,
    ] {
        let error = extract("package-lock.json", text).expect_err(text);
        assert!(matches!(error, LockfileError::Invalid { .. }), "{text}: {error:?}");
    }
    assert!(matches!(
        extract("package-lock.json", &fixture("missing-version.json")),
        Err(LockfileError::Invalid { .. })
    ));
}

#[test]
fn an_empty_project_is_an_empty_inventory() {
    let inventory = inventory("empty-project.v1.json");
    assert!(inventory.packages.is_empty() && inventory.warnings.is_empty());
    let v3 = extract(
        "package-lock.json",
        r#"{"lockfileVersion": 3, "packages": {"": {"name": "x"}}}"#,
    )
    .expect("valid");
    assert!(v3.packages.is_empty());
    assert_eq!(v3.importers.len(), 1);
}

#[test]
fn deep_v1_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 10_000;
    let mut text = String::from(r#"{"lockfileVersion": 1, "dependencies": "#);
    for _ in 0..depth {
        text.push_str(r#"{"a": {"version": "1.0.0", "dependencies": "#);
    }
    text.push_str("{}");
    for _ in 0..depth {
        text.push_str("}}");
    }
    text.push('}');
    assert!(extract("package-lock.json", &text).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = extract("package-lock.json", &text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = extract("package-lock.json", &text);
    }

    /// Lockfile-shaped JSON with hostile keys and values: links to anywhere,
    /// `..` paths, odd types, globs.
    #[test]
    fn lockfile_shaped_json_never_panics(
        version in 0u8..5,
        keys in proptest::collection::vec("(node_modules/)?(\\.\\./|@[a-z]/)?[a-z./@]{0,12}(/node_modules/[a-z@/.]{0,6})?", 0..12),
        values in proptest::collection::vec(prop_oneof![
            Just(r#"{"version": "1.0.0"}"#.to_string()),
            Just(r#"{"link": true, "resolved": "packages/a"}"#.to_string()),
            Just(r#"{"link": true, "resolved": "../../x"}"#.to_string()),
            Just(r#"{"link": true}"#.to_string()),
            Just(r#"{"version": "npm:@s/x@1", "dependencies": {"a": "1", "b": {}}}"#.to_string()),
            Just(r#"{"version": "file:..", "requires": {"a": "*"}, "dependencies": {"b": {"version": "file:."}}}"#.to_string()),
            Just(r#"{"workspaces": ["**", "!*", "{a,b}/[x-z]*"], "dependencies": {"a": ""}}"#.to_string()),
            Just(r#"{"resolved": 3, "dev": "x", "name": null}"#.to_string()),
            Just("[]".to_string()),
            Just("null".to_string()),
        ], 0..12),
    ) {
        let entries: Vec<String> = keys
            .iter()
            .zip(values.iter().cycle())
            .map(|(key, value)| format!("{}: {value}", serde_json::to_string(key).unwrap_or_default()))
            .collect();
        let body = entries.join(", ");
        for text in [
            format!(r#"{{"lockfileVersion": {version}, "packages": {{{body}}}}}"#),
            format!(r#"{{"lockfileVersion": {version}, "dependencies": {{{body}}}}}"#),
        ] {
            let _ = extract("package-lock.json", &text);
        }
    }
}

#[test]
fn byte_order_mark_and_crlf_are_accepted() {
    let text = format!("\u{feff}{}", fixture("aliases.v3.json").replace('\n', "\r\n"));
    let inventory = extract("package-lock.json", &text).expect("BOM and CRLF are fine");
    assert_eq!(inventory.packages.len(), 7);
    assert_eq!(find(&inventory, "lodash", "4.17.21").line, Some(23));
}
