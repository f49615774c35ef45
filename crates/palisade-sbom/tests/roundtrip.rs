//! Write an SBOM of a real project, read it back: the same packages (the
//! component set `palisade deps` shows), the same integrity, the same graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use palisade_core::{Inventory, PackageId};
use palisade_sbom::{RootComponent, SbomInput, WriteOptions};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn projects() -> Vec<PathBuf> {
    let real = repo_root().join("crates/palisade-lockfile/tests/fixtures/real");
    let mut paths = vec![repo_root().join("examples/compromised/package-lock.json")];
    for file in [
        "npm/atom.1.json",
        "npm/create-react-app.2.json",
        "npm/insomnia.3.json",
        "npm/npm-cli.3.json",
        "yarn/truffle.v1.lock",
        "yarn/sentry-javascript.v1.lock",
        "yarn/babel.berry-v10.lock",
        "yarn/outline.berry-v8.lock",
        "pnpm/vite.v9.yaml",
        "pnpm/hoppscotch.v5.yaml",
        "pnpm/nuxt.v9.yaml",
        "bun/hono.lock",
    ] {
        paths.push(real.join(file));
    }
    paths
}

fn ids(inventory: &Inventory) -> BTreeSet<PackageId> {
    inventory.packages.iter().map(|package| package.id()).collect()
}

/// name@version → (strongest integrity, dependencies), as a reader can recover them.
fn details(
    inventory: &Inventory,
    known: &BTreeSet<PackageId>,
) -> BTreeMap<PackageId, (Option<String>, BTreeSet<PackageId>)> {
    let mut details: BTreeMap<PackageId, (Option<String>, BTreeSet<PackageId>)> = BTreeMap::new();
    for package in &inventory.packages {
        let integrity = package.integrity.as_deref().and_then(|sri| {
            let digests = palisade_sbom::sri::decode(sri);
            palisade_sbom::sri::encode_strongest(digests.iter().map(|d| (d.algorithm, d.hex.as_str())))
        });
        let entry = details.entry(package.id()).or_default();
        if entry.0.is_none() {
            entry.0 = integrity;
        }
        entry
            .1
            .extend(package.dependencies.iter().filter(|id| known.contains(*id)).cloned());
    }
    details
}

fn direct(inventory: &Inventory, known: &BTreeSet<PackageId>) -> BTreeSet<PackageId> {
    inventory
        .importers
        .iter()
        .flat_map(|importer| &importer.dependencies)
        .filter(|id| known.contains(*id))
        .cloned()
        .collect()
}

fn dev_flags(inventory: &Inventory) -> BTreeMap<PackageId, bool> {
    let mut flags = BTreeMap::new();
    for package in &inventory.packages {
        // One id from two sources is dev only if both are.
        let flag = flags.entry(package.id()).or_insert(true);
        *flag &= package.dev;
    }
    flags
}

#[test]
fn real_projects_round_trip_through_both_formats() {
    for path in projects() {
        let original = palisade_lockfile::extract_file(&path).expect("the fixture is readable");
        let known = ids(&original);
        let licenses = BTreeMap::new();
        let input = SbomInput {
            inventory: &original,
            root: RootComponent::discover(path.parent(), &original),
            licenses: &licenses,
        };
        let options = WriteOptions {
            reproducible: true,
            tool_version: "0.1.0".to_owned(),
        };
        for (format, document) in [
            (
                "cyclonedx-1.6",
                palisade_sbom::cyclonedx::write(&input, &options).expect("written"),
            ),
            (
                "spdx-2.3",
                palisade_sbom::spdx::write(&input, &options).expect("written"),
            ),
        ] {
            let what = format!("{format} of {}", path.display());
            let text = String::from_utf8(document).expect("UTF-8");
            let outcome = palisade_sbom::read_str("bom.json", &text).expect("reads back");
            let back = outcome.inventory;
            assert_eq!(back.format, format);
            assert_eq!(outcome.non_npm_components, 0, "{what}");
            assert!(back.warnings.is_empty(), "{what}: {:?}", back.warnings);
            assert_eq!(
                ids(&back),
                known,
                "{what}: the component set differs from the inventory"
            );
            assert_eq!(
                details(&back, &known),
                details(&original, &known),
                "{what}: integrity or graph differs"
            );
            assert_eq!(
                direct(&back, &known),
                direct(&original, &known),
                "{what}: the root's dependencies differ"
            );
            if format.starts_with("cyclonedx") {
                // CycloneDX carries the flag itself; SPDX only through relationships (see the next test).
                assert_eq!(dev_flags(&back), dev_flags(&original), "{what}: dev flags differ");
            }
        }
    }
}

#[test]
fn spdx_round_trip_recovers_dev_packages_from_relationships() {
    let path = repo_root().join("examples/compromised/package-lock.json");
    let original = palisade_lockfile::extract_file(&path).expect("example");
    let licenses = BTreeMap::new();
    let input = SbomInput {
        inventory: &original,
        root: RootComponent::discover(path.parent(), &original),
        licenses: &licenses,
    };
    let options = WriteOptions {
        reproducible: true,
        tool_version: "0.1.0".to_owned(),
    };
    let document = palisade_sbom::spdx::write(&input, &options).expect("written");
    let back = palisade_sbom::read_str("bom.spdx.json", std::str::from_utf8(&document).expect("UTF-8"))
        .expect("reads back")
        .inventory;
    assert_eq!(dev_flags(&back), dev_flags(&original));
    let dev: Vec<String> = back
        .packages
        .iter()
        .filter(|p| p.dev)
        .map(|p| p.id().to_string())
        .collect();
    assert_eq!(dev, ["chalk@5.6.1", "debug@4.4.2", "ms@2.1.3"]);
}

#[test]
fn reproducible_output_is_byte_identical_and_content_addressed() {
    let path = repo_root().join("examples/compromised/package-lock.json");
    let inventory = palisade_lockfile::extract_file(&path).expect("example");
    let licenses = BTreeMap::new();
    let write = |inventory: &Inventory, reproducible: bool| {
        let input = SbomInput {
            inventory,
            root: RootComponent::discover(path.parent(), inventory),
            licenses: &licenses,
        };
        let options = WriteOptions {
            reproducible,
            tool_version: "0.1.0".to_owned(),
        };
        (
            palisade_sbom::cyclonedx::write(&input, &options).expect("written"),
            palisade_sbom::spdx::write(&input, &options).expect("written"),
        )
    };
    assert_eq!(write(&inventory, true), write(&inventory, true));
    let (cyclonedx, spdx) = write(&inventory, true);
    let cyclonedx_text = String::from_utf8(cyclonedx).expect("UTF-8");
    assert!(!cyclonedx_text.contains("\"timestamp\""));
    assert!(String::from_utf8(spdx)
        .expect("UTF-8")
        .contains("\"created\": \"1970-01-01T00:00:00Z\""));
    // Different content, different serial number.
    let mut fewer = inventory.clone();
    fewer.packages.pop();
    let (other, _) = write(&fewer, true);
    let serial = |text: &str| {
        let value: serde_json::Value = serde_json::from_str(text).expect("JSON");
        value["serialNumber"].as_str().expect("a serial number").to_owned()
    };
    assert_ne!(
        serial(&cyclonedx_text),
        serial(&String::from_utf8(other).expect("UTF-8"))
    );
    // Without --reproducible: a timestamp and a random (v4) serial number.
    let (first, _) = write(&inventory, false);
    let (second, _) = write(&inventory, false);
    let first = String::from_utf8(first).expect("UTF-8");
    assert!(first.contains("\"timestamp\""));
    assert_ne!(serial(&first), serial(&String::from_utf8(second).expect("UTF-8")));
}
