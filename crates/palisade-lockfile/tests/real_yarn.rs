//! Real yarn.lock files from public repositories (see
//! `fixtures/real/yarn/README.md`): the extracted name@version set must equal,
//! exactly, the one yarn's own parsers compute (`tests/expectations/yarn.mjs`
//! at the repository root writes the `.expected.json` files).

use std::collections::BTreeSet;
use std::path::Path;

use palisade_lockfile::{extract_str, LockfileKind};

#[derive(serde::Deserialize)]
struct Expected {
    generator: String,
    packages: Vec<String>,
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

    let inventory = extract_str(LockfileKind::Yarn, &name, &contents).unwrap_or_else(|error| panic!("{name}: {error}"));
    // Informational only (timings are not asserted): the fastest of a few runs.
    let runs = std::env::var("PALISADE_YARN_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(3);
    let elapsed = (0..runs)
        .map(|_| {
            let started = std::time::Instant::now();
            let _ = extract_str(LockfileKind::Yarn, &name, &contents);
            started.elapsed()
        })
        .min()
        .unwrap_or_default();

    let actual: BTreeSet<String> = inventory
        .packages
        .iter()
        .map(|package| package.id().to_string())
        .collect();
    let wanted: BTreeSet<String> = expected.packages.into_iter().collect();
    let missing: Vec<_> = wanted.difference(&actual).collect();
    let extra: Vec<_> = actual.difference(&wanted).collect();
    eprintln!(
        "{name}: {} packages, {} importers, {elapsed:?}",
        actual.len(),
        inventory.importers.len()
    );
    let mut sources = std::collections::BTreeMap::new();
    for package in &inventory.packages {
        *sources.entry(package.source.as_str()).or_insert(0usize) += 1;
        let from_public_registry = package.resolved.as_deref().is_some_and(|resolved| {
            resolved.starts_with("https://registry.yarnpkg.com/") || resolved.starts_with("https://registry.npmjs.org/")
        });
        if from_public_registry && package.source != palisade_core::SourceKind::Registry {
            return Err(format!(
                "{name}: {} resolves from the registry but is {}",
                package.id(),
                package.source
            ));
        }
    }
    let optional: Vec<String> = inventory
        .packages
        .iter()
        .filter(|package| package.optional)
        .map(|package| package.id().to_string())
        .collect();
    eprintln!(
        "  sources: {sources:?}; {} optional, e.g. {:?}",
        optional.len(),
        &optional[..optional.len().min(6)]
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
    let expected_format = if name.contains(".v1.") {
        "yarn-v1"
    } else {
        "yarn-berry-v"
    };
    if !inventory.format.starts_with(expected_format) {
        return Err(format!("{name}: format {}", inventory.format));
    }
    Ok(())
}

/// The same check on any directory of lockfiles (with expectations from
/// `node tests/expectations/yarn.mjs <dir>`), for trying more real files:
/// `PALISADE_YARN_LOCK_DIR=<dir> cargo test --test real_yarn -- --ignored`.
#[test]
#[ignore = "needs PALISADE_YARN_LOCK_DIR"]
fn lockfiles_in_a_directory_match_yarns_own_parsers() {
    let Some(dir) = std::env::var_os("PALISADE_YARN_LOCK_DIR") else {
        return;
    };
    let mut fixtures: Vec<_> = std::fs::read_dir(dir)
        .expect("directory exists")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "lock"))
        .collect();
    fixtures.sort();
    let failures: Vec<String> = fixtures.iter().filter_map(|fixture| check(fixture).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn real_lockfiles_match_yarns_own_parsers() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real/yarn");
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixture dir exists")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "lock"))
        .collect();
    fixtures.sort();
    let classic = fixtures
        .iter()
        .filter(|path| path.to_string_lossy().contains(".v1."))
        .count();
    assert!(
        classic >= 2 && fixtures.len() - classic >= 2,
        "need two classic and two berry fixtures"
    );
    let failures: Vec<String> = fixtures.iter().filter_map(|fixture| check(fixture).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
