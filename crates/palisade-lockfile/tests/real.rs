//! Real lockfiles from public repositories (each `fixtures/real/<format>/README.md`
//! names its sources): the extracted name@version set must equal, exactly, the
//! one the package manager's own parser computes. `tests/expectations/*.mjs`
//! at the repository root write the `.expected.json` files (@npmcli/arborist,
//! @yarnpkg/lockfile, @yarnpkg/parsers, @pnpm/lockfile.fs, bun's JSONC read
//! with jsonc-parser); CI regenerates them and fails on drift.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use palisade_core::SourceKind;
use palisade_lockfile::{extract_str, LockfileKind};

#[derive(serde::Deserialize)]
struct Expected {
    generator: String,
    packages: Vec<String>,
}

fn fixture_dir(format: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real")
        .join(format)
}

/// Every lockfile in `dir` (anything but expectations and READMEs), sorted.
fn fixtures_in(dir: &Path) -> Vec<PathBuf> {
    let mut fixtures: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
            !name.ends_with(".expected.json") && !name.ends_with(".md")
        })
        .collect();
    fixtures.sort();
    fixtures
}

/// The format a fixture's name promises: `atom.1.json` → `npm-v1`,
/// `truffle.v1.lock` → `yarn-v1`, `outline.berry-v8.lock` → `yarn-berry-v8`.
fn promised_format(kind: LockfileKind, name: &str) -> String {
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    let tag = stem.rsplit('.').next().unwrap_or_default();
    match kind {
        LockfileKind::Npm => format!("npm-v{tag}"),
        LockfileKind::Yarn if tag == "v1" => "yarn-v1".to_string(),
        LockfileKind::Yarn => format!("yarn-{tag}"),
        LockfileKind::Pnpm => "pnpm-v".to_string(),
        LockfileKind::Bun => "bun-v".to_string(),
    }
}

fn check(kind: LockfileKind, fixture: &Path) -> Result<(), String> {
    let name = fixture
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default()
        .to_string();
    let contents = std::fs::read_to_string(fixture).map_err(|error| format!("{name}: {error}"))?;
    let expected_path = fixture.with_extension("expected.json");
    let expected_text = std::fs::read_to_string(&expected_path).map_err(|_| {
        format!(
            "{} is missing: run tests/expectations/regenerate.sh",
            expected_path.display()
        )
    })?;
    let expected: Expected = serde_json::from_str(&expected_text).map_err(|error| format!("{name}: {error}"))?;

    let started = std::time::Instant::now();
    let inventory = extract_str(kind, &name, &contents).map_err(|error| format!("{name}: {error}"))?;
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
    if !inventory.warnings.is_empty() {
        return Err(format!("{name}: unexpected warnings {:#?}", inventory.warnings));
    }
    let promised = promised_format(kind, &name);
    if !inventory.format.starts_with(&promised) {
        return Err(format!(
            "{name}: format {} but the file name says {promised}",
            inventory.format
        ));
    }
    // Invariants every format keeps: packages have a location, workspace
    // members are importers and never packages, and a package downloaded from
    // the public registry is a registry package.
    for package in &inventory.packages {
        if package.paths.is_empty() {
            return Err(format!("{name}: {} has no path", package.id()));
        }
        if package.source == SourceKind::Workspace {
            return Err(format!("{name}: workspace member {} listed as a package", package.id()));
        }
        let from_public_registry = package.resolved.as_deref().is_some_and(|resolved| {
            resolved.starts_with("https://registry.yarnpkg.com/") || resolved.starts_with("https://registry.npmjs.org/")
        });
        if from_public_registry && package.source != SourceKind::Registry {
            return Err(format!(
                "{name}: {} resolves from the registry but is {}",
                package.id(),
                package.source
            ));
        }
    }
    for importer in &inventory.importers {
        if inventory
            .packages
            .iter()
            .any(|package| package.paths.contains(&importer.path))
        {
            return Err(format!("{name}: importer {} is also a package", importer.path));
        }
    }
    Ok(())
}

fn check_all(kind: LockfileKind, fixtures: &[PathBuf]) {
    let failures: Vec<String> = fixtures
        .iter()
        .filter_map(|fixture| check(kind, fixture).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn names(fixtures: &[PathBuf]) -> Vec<String> {
    fixtures
        .iter()
        .filter_map(|path| path.file_name().and_then(|name| name.to_str()).map(str::to_string))
        .collect()
}

#[test]
fn real_npm_lockfiles_match_arborist() {
    let fixtures = fixtures_in(&fixture_dir("npm"));
    let names = names(&fixtures);
    assert!(
        names.iter().any(|n| n.ends_with(".1.json")),
        "need a v1 fixture: {names:?}"
    );
    assert!(
        names.iter().any(|n| n.ends_with(".3.json")),
        "need a v3 fixture: {names:?}"
    );
    check_all(LockfileKind::Npm, &fixtures);
}

#[test]
fn real_yarn_lockfiles_match_yarns_own_parsers() {
    let fixtures = fixtures_in(&fixture_dir("yarn"));
    let classic = names(&fixtures).iter().filter(|n| n.contains(".v1.")).count();
    assert!(
        classic >= 2 && fixtures.len() - classic >= 2,
        "need two classic and two berry fixtures"
    );
    check_all(LockfileKind::Yarn, &fixtures);
}

#[test]
fn real_pnpm_lockfiles_match_pnpm_libraries() {
    let fixtures = fixtures_in(&fixture_dir("pnpm"));
    let names = names(&fixtures);
    for version in ["v5", "v6", "v9"] {
        assert!(
            names.iter().any(|n| n.contains(&format!(".{version}."))),
            "need a {version} fixture: {names:?}"
        );
    }
    check_all(LockfileKind::Pnpm, &fixtures);
}

#[test]
fn real_bun_lockfiles_match_expectations() {
    let fixtures = fixtures_in(&fixture_dir("bun"));
    assert!(fixtures.len() >= 2, "need two bun.lock fixtures");
    check_all(LockfileKind::Bun, &fixtures);
}

/// The same check on any directory of lockfiles with expectations written by
/// `node tests/expectations/<format>.mjs <dir>`, for trying more real files:
/// `PALISADE_REAL_DIR=<dir> PALISADE_REAL_FORMAT=yarn cargo test --test real -- --ignored`.
#[test]
#[ignore = "needs PALISADE_REAL_DIR and PALISADE_REAL_FORMAT"]
fn lockfiles_in_a_directory_match_the_package_managers_parsers() {
    let (Some(dir), Some(format)) = (
        std::env::var_os("PALISADE_REAL_DIR"),
        std::env::var("PALISADE_REAL_FORMAT").ok(),
    ) else {
        return;
    };
    let kind = match format.as_str() {
        "npm" => LockfileKind::Npm,
        "yarn" => LockfileKind::Yarn,
        "pnpm" => LockfileKind::Pnpm,
        "bun" => LockfileKind::Bun,
        other => panic!("PALISADE_REAL_FORMAT={other}: expected npm, yarn, pnpm or bun"),
    };
    check_all(kind, &fixtures_in(Path::new(&dir)));
}
