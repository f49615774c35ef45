//! The whole documents a user gets for a small real project (the lockfile
//! npm wrote for tests/fixtures/cyclonedx-npm/small-project), reproducible, so
//! any change to the output shows up in review.

use std::path::Path;

use palisade_sbom::{RootComponent, SbomInput, WriteOptions};

fn documents() -> (String, String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cyclonedx-npm/small-project");
    let lockfile = dir.join("package-lock.json");
    let inventory = palisade_lockfile::extract_file(&lockfile).expect("the fixture reads");
    let licenses = palisade_sbom::licenses::from_npm_lockfile(&lockfile, &inventory);
    let input = SbomInput {
        inventory: &inventory,
        root: RootComponent::discover(Some(&dir), &inventory),
        licenses: &licenses,
    };
    let options = WriteOptions {
        reproducible: true,
        tool_version: "0.1.0".to_owned(),
    };
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("UTF-8");
    (
        text(palisade_sbom::cyclonedx::write(&input, &options).expect("written")),
        text(palisade_sbom::spdx::write(&input, &options).expect("written")),
    )
}

#[test]
fn small_project_cyclonedx() {
    insta::assert_snapshot!(documents().0);
}

#[test]
fn small_project_spdx() {
    insta::assert_snapshot!(documents().1);
}
