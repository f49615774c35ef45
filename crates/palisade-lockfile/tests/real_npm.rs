//! Real package-lock.json files from public repositories (see
//! `fixtures/real/npm/README.md`): the extracted name@version set must equal,
//! exactly, the one npm's own lockfile reader (@npmcli/arborist) computes.
//! `tests/expectations/npm.mjs` at the repository root writes the
//! `.expected.json` files; fixtures are named `<project>.<lockfileVersion>.json`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use palisade_lockfile::{extract_str, LockfileKind};

#[derive(serde::Deserialize)]
struct Expected {
    generator: String,
    packages: Vec<String>,
}

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real/npm");
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixture dir exists")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
            name.ends_with(".json") && !name.ends_with(".expected.json")
        })
        .collect();
    fixtures.sort();
    fixtures
}

/// `atom.1.json` → `1`.
fn lockfile_version_in_name(fixture: &Path) -> String {
    let stem = fixture.file_stem().and_then(|stem| stem.to_str()).unwrap_or_default();
    stem.rsplit('.').next().unwrap_or_default().to_string()
}

fn check(fixture: &Path) -> Result<(), String> {
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
    let inventory = extract_str(LockfileKind::Npm, &name, &contents).map_err(|error| format!("{name}: {error}"))?;
    let elapsed = started.elapsed();

    let actual: BTreeSet<String> = inventory
        .packages
        .iter()
        .map(|package| package.id().to_string())
        .collect();
    let wanted: BTreeSet<String> = expected.packages.into_iter().collect();
    let missing: Vec<_> = wanted.difference(&actual).collect();
    let extra: Vec<_> = actual.difference(&wanted).collect();
    eprintln!(
        "{name}: {} packages, {} importers, {} warnings, {elapsed:?}",
        actual.len(),
        inventory.importers.len(),
        inventory.warnings.len()
    );
    if !missing.is_empty() || !extra.is_empty() {
        return Err(format!(
            "{name}: differs from {}:\n  missing ({}): {missing:?}\n  extra ({}): {extra:?}",
            expected.generator,
            missing.len(),
            extra.len()
        ));
    }
    let expected_format = format!("npm-v{}", lockfile_version_in_name(fixture));
    if inventory.format != expected_format {
        return Err(format!(
            "{name}: format {} but the file name says {expected_format}",
            inventory.format
        ));
    }
    if !inventory.warnings.is_empty() {
        return Err(format!("{name}: unexpected warnings {:#?}", inventory.warnings));
    }
    Ok(())
}

#[test]
fn real_lockfiles_match_arborist() {
    let fixtures = fixtures();
    let versions: BTreeSet<String> = fixtures
        .iter()
        .map(|fixture| lockfile_version_in_name(fixture))
        .collect();
    assert!(fixtures.len() >= 3, "need at least three real lockfiles");
    assert!(
        versions.contains("1") && versions.contains("3"),
        "need v1 and v3 fixtures, have {versions:?}"
    );
    let failures: Vec<String> = fixtures.iter().filter_map(|fixture| check(fixture).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every package of a real lockfile has a path, and every path is where it
/// was found; workspace members are importers, never packages.
#[test]
fn real_lockfiles_keep_workspaces_out_of_packages() {
    for fixture in fixtures() {
        let name = fixture
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_string();
        let contents = std::fs::read_to_string(&fixture).expect("fixture is readable");
        let inventory = extract_str(LockfileKind::Npm, &name, &contents).expect("fixture parses");
        for package in &inventory.packages {
            assert!(!package.paths.is_empty(), "{name}: {} has no path", package.id());
            assert_ne!(
                package.source,
                palisade_core::SourceKind::Workspace,
                "{name}: {}",
                package.id()
            );
        }
        for importer in &inventory.importers {
            assert!(
                !inventory
                    .packages
                    .iter()
                    .any(|package| package.paths.contains(&importer.path)),
                "{name}: importer {} is also a package",
                importer.path
            );
        }
    }
}
