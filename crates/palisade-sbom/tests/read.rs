//! SBOMs written by other tools, and broken input.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use palisade_core::{Inventory, PackageId};
use palisade_sbom::SbomError;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn lockfile_inventory() -> Inventory {
    palisade_lockfile::extract_file(&fixtures().join("cyclonedx-npm/small-project/package-lock.json"))
        .expect("the small project's lockfile reads")
}

fn ids(inventory: &Inventory) -> BTreeSet<PackageId> {
    inventory.packages.iter().map(|package| package.id()).collect()
}

fn flagged(inventory: &Inventory, flag: fn(&palisade_core::Package) -> bool) -> Vec<String> {
    inventory
        .packages
        .iter()
        .filter(|p| flag(p))
        .map(|p| p.id().to_string())
        .collect()
}

fn edges(inventory: &Inventory) -> BTreeSet<(PackageId, PackageId)> {
    inventory
        .packages
        .iter()
        .flat_map(|package| package.dependencies.iter().map(move |dep| (package.id(), dep.clone())))
        .collect()
}

#[test]
fn cyclonedx_npm_sbom_reads_as_the_same_project() {
    let outcome = palisade_sbom::read_file(&fixtures().join("cyclonedx-npm/small-project.cdx.json")).expect("reads");
    let sbom = outcome.inventory;
    let lockfile = lockfile_inventory();
    assert_eq!(sbom.format, "cyclonedx-1.6");
    assert_eq!(outcome.non_npm_components, 0);
    assert!(sbom.warnings.is_empty(), "{:?}", sbom.warnings);
    // Nested components (ms@2.1.2 under debug) are flattened.
    assert_eq!(ids(&sbom), ids(&lockfile));
    assert_eq!(flagged(&sbom, |p| p.dev), flagged(&lockfile, |p| p.dev));
    assert_eq!(flagged(&sbom, |p| p.optional), ["fsevents@2.3.3"]);
    assert_eq!(edges(&sbom), edges(&lockfile));
    let root = &sbom.importers[0];
    assert_eq!(root.name.as_deref(), Some("@palisade-fixtures/small-project"));
    let direct: BTreeSet<_> = root.dependencies.iter().cloned().collect();
    let expected: BTreeSet<_> = lockfile.importers[0].dependencies.iter().cloned().collect();
    assert_eq!(direct, expected);
    // cyclonedx-npm records the install path, which becomes the package's location.
    let ms = sbom
        .packages
        .iter()
        .find(|p| p.id() == PackageId::new("ms", "2.1.2"))
        .expect("ms 2.1.2");
    assert_eq!(ms.paths, ["node_modules/debug/node_modules/ms"]);
}

#[test]
fn syft_style_spdx_reads_as_the_same_project_without_the_non_npm_package() {
    let outcome = palisade_sbom::read_file(&fixtures().join("spdx/syft-style.spdx.json")).expect("reads");
    let sbom = outcome.inventory;
    let lockfile = lockfile_inventory();
    assert_eq!(sbom.format, "spdx-2.3");
    assert_eq!(outcome.non_npm_components, 1, "the GitHub action is not an npm package");
    assert!(sbom.warnings.is_empty(), "{:?}", sbom.warnings);
    assert_eq!(ids(&sbom), ids(&lockfile));
    assert_eq!(edges(&sbom), edges(&lockfile));
    assert_eq!(flagged(&sbom, |p| p.dev), flagged(&lockfile, |p| p.dev));
    assert_eq!(flagged(&sbom, |p| p.optional), ["fsevents@2.3.3"]);
    // Checksums become SRI integrity equal to the lockfile's.
    for package in &sbom.packages {
        let original = lockfile
            .packages
            .iter()
            .find(|p| p.id() == package.id())
            .expect("same package");
        assert_eq!(package.integrity, original.integrity, "{}", package.id());
        assert_eq!(package.resolved, original.resolved, "{}", package.id());
    }
}

#[test]
fn malformed_json_names_line_and_column() {
    let error =
        palisade_sbom::read_str("bom.json", "{\n  \"bomFormat\": \"CycloneDX\",\n  oops\n}").expect_err("not JSON");
    match error {
        SbomError::Syntax { path, line, column, .. } => {
            assert_eq!(path, "bom.json");
            assert_eq!((line, column), (3, 3));
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn other_documents_and_versions_are_refused_clearly() {
    let unrecognised = palisade_sbom::read_str("x.json", r#"{"lockfileVersion": 3}"#).expect_err("not an SBOM");
    assert!(
        matches!(unrecognised, SbomError::Unrecognised { .. }),
        "{unrecognised:?}"
    );
    let old =
        palisade_sbom::read_str("x.json", r#"{"bomFormat": "CycloneDX", "specVersion": "1.1"}"#).expect_err("1.1");
    assert!(old.to_string().contains("CycloneDX 1.1"), "{old}");
    let spdx = palisade_sbom::read_str("x.json", r#"{"spdxVersion": "SPDX-3.0"}"#).expect_err("3.0");
    assert!(matches!(spdx, SbomError::UnsupportedVersion { .. }), "{spdx:?}");
    let bad = palisade_sbom::read_str(
        "x.json",
        r#"{"bomFormat": "CycloneDX", "specVersion": "1.4", "components": {}}"#,
    )
    .expect_err("components must be an array");
    assert!(matches!(bad, SbomError::Invalid { .. }), "{bad:?}");
}

#[test]
fn hostile_nesting_is_an_error_not_a_crash() {
    let deep = format!(
        r#"{{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{}]}}"#,
        "{\"type\":\"library\",\"name\":\"a\",\"version\":\"1\",\"components\":[".repeat(500) + &"]}".repeat(500)
    );
    assert!(matches!(
        palisade_sbom::read_str("deep.json", &deep),
        Err(SbomError::Syntax { .. })
    ));
}

#[test]
fn oversized_files_are_refused_before_reading() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("huge.json");
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(palisade_sbom::MAX_SBOM_BYTES + 1).expect("sparse file");
    assert!(matches!(
        palisade_sbom::read_file(&path),
        Err(SbomError::TooLarge { .. })
    ));
}

#[test]
fn components_without_purl_broken_purls_and_other_ecosystems() {
    let document = r#"{
      "bomFormat": "CycloneDX", "specVersion": "1.5",
      "metadata": {"component": {"type": "application", "name": "app", "bom-ref": "app"}},
      "components": [
        {"type": "library", "bom-ref": "a", "group": "@scope", "name": "pkg", "version": "1.0.0",
         "hashes": [{"alg": "SHA-1", "content": "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"}]},
        {"type": "library", "bom-ref": "b", "name": "left-pad", "version": "1.3.0", "purl": "pkg:npm/left-pad@1.3.0",
         "externalReferences": [{"type": "distribution", "url": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
           "hashes": [{"alg": "SHA-512", "content": "5f9263bd7bf1e5dd2e2b5a2bcf9ae1d7c4f4ceae1a7bdd9e5f1f2b4d5a7a8e09c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3"}]}]},
        {"type": "library", "bom-ref": "c", "name": "requests", "version": "2.31.0", "purl": "pkg:pypi/requests@2.31.0"},
        {"type": "operating-system", "bom-ref": "d", "name": "debian", "version": "12"},
        {"type": "library", "bom-ref": "e", "name": "broken", "purl": "pkg:npm/%zz@1"}
      ],
      "dependencies": [{"ref": "app", "dependsOn": ["a", "b", "c"]}, {"ref": "a", "dependsOn": ["b"]}]
    }"#;
    let outcome = palisade_sbom::read_str("mixed.cdx.json", document).expect("reads");
    assert_eq!(outcome.non_npm_components, 2);
    let inventory = outcome.inventory;
    assert_eq!(inventory.format, "cyclonedx-1.5");
    assert_eq!(
        inventory.warnings.len(),
        1,
        "the broken purl is a warning: {:?}",
        inventory.warnings
    );
    let names: Vec<String> = inventory.packages.iter().map(|p| p.id().to_string()).collect();
    assert_eq!(names, ["@scope/pkg@1.0.0", "left-pad@1.3.0"]);
    assert_eq!(
        inventory.packages[0].integrity.as_deref(),
        Some("sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=")
    );
    assert!(inventory.packages[1]
        .integrity
        .as_deref()
        .is_some_and(|sri| sri.starts_with("sha512-")));
    assert_eq!(
        inventory.packages[1].resolved.as_deref(),
        Some("https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz")
    );
    assert_eq!(
        inventory.packages[0].dependencies,
        [PackageId::new("left-pad", "1.3.0")]
    );
    assert_eq!(inventory.importers[0].dependencies.len(), 2);
}
