//! Real pnpm-lock.yaml files from public projects (see
//! `fixtures/real/pnpm/README.md`): the name@version set we extract must
//! equal, exactly, the one pnpm's own libraries compute
//! (`tests/expectations/pnpm.mjs` writes the `.expected.json` files).

use std::collections::BTreeSet;
use std::path::Path;

use palisade_lockfile::{extract_str, LockfileKind};

#[derive(serde::Deserialize)]
struct Expected {
    generator: String,
    packages: Vec<String>,
}

fn check(fixture: &Path) {
    let name = fixture
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default()
        .to_string();
    let contents = std::fs::read_to_string(fixture).expect("fixture is readable");
    let expected_path = fixture.with_extension("expected.json");
    let expected: Expected = serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run tests/expectations/regenerate.sh",
            expected_path.display()
        )
    }))
    .expect("expectation is JSON");

    let started = std::time::Instant::now();
    let inventory = extract_str(LockfileKind::Pnpm, &name, &contents).unwrap_or_else(|error| panic!("{name}: {error}"));
    let elapsed = started.elapsed();

    let actual: BTreeSet<String> = inventory
        .packages
        .iter()
        .map(|package| package.id().to_string())
        .collect();
    let wanted: BTreeSet<String> = expected.packages.into_iter().collect();
    let missing: Vec<_> = wanted.difference(&actual).collect();
    let extra: Vec<_> = actual.difference(&wanted).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{name}: differs from {}:\n  missing ({}): {missing:?}\n  extra ({}): {extra:?}",
        expected.generator,
        missing.len(),
        extra.len()
    );
    assert!(
        inventory.warnings.is_empty(),
        "{name}: unexpected warnings {:#?}",
        inventory.warnings
    );
    let version = name.split('.').nth(1).unwrap_or_default();
    assert_eq!(inventory.format, format!("pnpm-{version}"), "{name}: format");
    assert!(!inventory.importers.is_empty(), "{name}: no importers");
    eprintln!(
        "{name}: {} packages, {} importers, {elapsed:?}",
        actual.len(),
        inventory.importers.len()
    );
}

#[test]
fn real_pnpm_lockfiles_match_pnpm_libraries() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real/pnpm");
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixture directory exists")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yaml"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 3, "expected real fixtures in {}", dir.display());
    for fixture in fixtures {
        check(&fixture);
    }
}
