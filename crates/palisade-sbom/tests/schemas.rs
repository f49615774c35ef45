//! Both outputs validate against the official JSON schemas (CycloneDX 1.6 with
//! the SPDX license list and JSF schemas it references; SPDX 2.3), resolved
//! from the copies under tests/fixtures/schemas: no network.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jsonschema::{Draft, Resource, Validator};
use palisade_core::Inventory;
use palisade_sbom::{RootComponent, SbomInput, WriteOptions};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("parse {}: {error}", path.display()))
}

fn cyclonedx_validator() -> Validator {
    let schemas = fixtures().join("schemas");
    let resource = |file: &str| Resource::from_contents(load_json(&schemas.join(file))).expect("a schema resource");
    jsonschema::options()
        .with_draft(Draft::Draft7)
        .should_validate_formats(true)
        // bom-1.6 refers to these by ids relative to its own `$id`.
        .with_resource(
            "http://cyclonedx.org/schema/spdx.schema.json",
            resource("spdx.schema.json"),
        )
        .with_resource(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            resource("jsf-0.82.schema.json"),
        )
        .build(&load_json(&schemas.join("bom-1.6.schema.json")))
        .expect("the CycloneDX 1.6 schema compiles")
}

fn spdx_validator() -> Validator {
    jsonschema::options()
        .with_draft(Draft::Draft7)
        .should_validate_formats(true)
        .build(&load_json(&fixtures().join("schemas/spdx-2.3.schema.json")))
        .expect("the SPDX 2.3 schema compiles")
}

fn assert_valid(validator: &Validator, document: &[u8], what: &str) {
    let instance: Value = serde_json::from_slice(document).expect("the SBOM is JSON");
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .take(10)
        .map(|error| format!("{} at {}", error, error.instance_path))
        .collect();
    assert!(errors.is_empty(), "{what} does not validate:\n{}", errors.join("\n"));
}

/// Real lockfiles of each package manager (npm, yarn classic and berry, pnpm, bun).
fn projects() -> Vec<PathBuf> {
    let real = repo_root().join("crates/palisade-lockfile/tests/fixtures/real");
    let mut paths = vec![repo_root().join("examples/compromised/package-lock.json")];
    for file in [
        "npm/atom.1.json",
        "npm/insomnia.3.json",
        "npm/npm-cli.2.json",
        "yarn/truffle.v1.lock",
        "yarn/babel.berry-v10.lock",
        "pnpm/vite.v9.yaml",
        "pnpm/hoppscotch.v5.yaml",
        "bun/hono.lock",
    ] {
        paths.push(real.join(file));
    }
    paths
}

fn write_both(inventory: &Inventory, root: RootComponent, reproducible: bool) -> (Vec<u8>, Vec<u8>) {
    let licenses = BTreeMap::new();
    let input = SbomInput {
        inventory,
        root,
        licenses: &licenses,
    };
    let options = WriteOptions {
        reproducible,
        tool_version: "0.1.0".to_owned(),
    };
    (
        palisade_sbom::cyclonedx::write(&input, &options).expect("CycloneDX is written"),
        palisade_sbom::spdx::write(&input, &options).expect("SPDX is written"),
    )
}

#[test]
fn outputs_of_real_lockfiles_validate() {
    let cyclonedx = cyclonedx_validator();
    let spdx = spdx_validator();
    for path in projects() {
        let inventory = palisade_lockfile::extract_file(&path).expect("the fixture is readable");
        let dir = path.parent().expect("a fixture has a directory");
        let mut licenses = palisade_sbom::licenses::from_npm_lockfile(&path, &inventory);
        // A free-text license, to exercise the `license.name` form.
        if let Some(first) = inventory.packages.first() {
            licenses.insert(first.id(), "SEE LICENSE IN LICENSE.md".to_owned());
        }
        let input = SbomInput {
            inventory: &inventory,
            root: RootComponent::discover(Some(dir), &inventory),
            licenses: &licenses,
        };
        for reproducible in [false, true] {
            let options = WriteOptions {
                reproducible,
                tool_version: "0.1.0".to_owned(),
            };
            let what = format!("{} (reproducible: {reproducible})", path.display());
            let document = palisade_sbom::cyclonedx::write(&input, &options).expect("written");
            assert_valid(&cyclonedx, &document, &format!("CycloneDX of {what}"));
            let document = palisade_sbom::spdx::write(&input, &options).expect("written");
            assert_valid(&spdx, &document, &format!("SPDX of {what}"));
        }
    }
}

#[test]
fn git_tarball_and_scoped_packages_validate() {
    let mut inventory = Inventory::new("package-lock.json", "npm-v3");
    let mut git = palisade_core::Package::new("@scope/from-git", "1.0.0");
    git.source = palisade_core::SourceKind::Git;
    git.resolved = Some("git+ssh://git@github.com/owner/repo.git#0123456789abcdef".to_owned());
    let mut tarball = palisade_core::Package::new("from-tarball", "2.0.0+build.7");
    tarball.source = palisade_core::SourceKind::Tarball;
    tarball.resolved = Some("https://example.com/files/from-tarball-2.0.0.tgz".to_owned());
    tarball.dev = true;
    let mut file = palisade_core::Package::new("local", "file:../local");
    file.source = palisade_core::SourceKind::File;
    inventory.packages = vec![git, tarball, file];
    inventory.normalize();
    let root = RootComponent {
        name: "@org/app".to_owned(),
        version: None,
        description: None,
    };
    let (cyclonedx, spdx) = write_both(&inventory, root, false);
    assert_valid(
        &cyclonedx_validator(),
        &cyclonedx,
        "CycloneDX with git/tarball/file packages",
    );
    assert_valid(&spdx_validator(), &spdx, "SPDX with git/tarball/file packages");
}

#[test]
fn sboms_of_other_tools_validate_so_the_fixtures_are_genuine() {
    let cyclonedx = cyclonedx_validator();
    let document = std::fs::read(fixtures().join("cyclonedx-npm/small-project.cdx.json")).expect("fixture");
    assert_valid(&cyclonedx, &document, "the cyclonedx-npm fixture");
    let spdx = spdx_validator();
    let document = std::fs::read(fixtures().join("spdx/syft-style.spdx.json")).expect("fixture");
    assert_valid(&spdx, &document, "the syft-style fixture");
}

#[test]
fn the_validators_reject_a_broken_document() {
    let (cyclonedx, spdx) = write_both(
        &palisade_lockfile::extract_file(&repo_root().join("examples/compromised/package-lock.json")).expect("example"),
        RootComponent {
            name: "x".to_owned(),
            version: None,
            description: None,
        },
        true,
    );
    let mut broken: Value = serde_json::from_slice(&cyclonedx).expect("JSON");
    broken["components"][0]["scope"] = Value::from("sometimes");
    assert!(!cyclonedx_validator().is_valid(&broken));
    let mut broken: Value = serde_json::from_slice(&spdx).expect("JSON");
    broken["packages"][1]["filesAnalyzed"] = Value::from("no");
    assert!(!spdx_validator().is_valid(&broken));
}
