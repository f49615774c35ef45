//! `palisade sbom` and `--sbom` input, end to end: what a user runs, what a CI
//! job gets (exit codes, bytes on stdout).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn example() -> String {
    repo_root().join("examples/compromised").display().to_string()
}

fn sbom_fixture(name: &str) -> String {
    repo_root()
        .join("crates/palisade-sbom/tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

fn palisade(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env("PALISADE_HOME", home)
        .env_remove("PALISADE_LOG")
        .env("NO_COLOR", "1")
        .output()
        .expect("the palisade binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|error| panic!("not JSON ({error}):\n{}", String::from_utf8_lossy(bytes)))
}

/// name@version of every package `palisade deps --format json` lists.
fn deps_set(home: &Path, args: &[&str]) -> BTreeSet<String> {
    let mut full = vec!["deps", "--format", "json"];
    full.extend_from_slice(args);
    let output = palisade(home, &full);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    json(&output.stdout)["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            format!(
                "{}@{}",
                p["name"].as_str().unwrap_or(""),
                p["version"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn cyclonedx_of_the_example_lists_every_package_with_purl_hashes_and_graph() {
    let home = tempfile::tempdir().expect("temp dir");
    let output = palisade(home.path(), &["sbom", &example()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let bom = json(&output.stdout);
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.6");
    assert!(bom["serialNumber"].as_str().is_some_and(|s| s.starts_with("urn:uuid:")));
    assert!(bom["metadata"]["timestamp"].is_string());
    assert_eq!(bom["metadata"]["component"]["name"], "palisade-example-compromised");
    assert_eq!(bom["metadata"]["tools"]["components"][0]["name"], "palisade");
    let components = bom["components"].as_array().expect("components");
    assert_eq!(components.len(), 65);
    let flatmap = components
        .iter()
        .find(|c| c["name"] == "flatmap-stream")
        .expect("flatmap-stream");
    assert_eq!(flatmap["purl"], "pkg:npm/flatmap-stream@0.1.1");
    let lodash = components.iter().find(|c| c["name"] == "lodash").expect("lodash");
    assert_eq!(lodash["hashes"][0]["alg"], "SHA-512");
    assert_eq!(
        lodash["hashes"][0]["content"].as_str().map(str::len),
        Some(128),
        "hex of 64 bytes"
    );
    let chalk = components.iter().find(|c| c["name"] == "chalk").expect("chalk");
    assert_eq!(
        chalk["scope"], "optional",
        "dev dependencies are not required at runtime"
    );
    assert_eq!(chalk["properties"][0]["name"], "cdx:npm:package:development");
    let express = components.iter().find(|c| c["name"] == "express").expect("express");
    assert_eq!(
        express["licenses"][0]["expression"], "MIT",
        "licenses recorded in the lockfile"
    );
    let dependencies = bom["dependencies"].as_array().expect("dependencies");
    assert_eq!(dependencies.len(), 66, "the root and every component");
    let event_stream = dependencies
        .iter()
        .find(|d| d["ref"] == "pkg:npm/event-stream@3.3.6")
        .expect("event-stream in the graph");
    assert!(event_stream["dependsOn"]
        .as_array()
        .expect("dependsOn")
        .iter()
        .any(|d| d == "pkg:npm/flatmap-stream@0.1.1"));
}

#[test]
fn reproducible_output_is_byte_identical_twice_in_both_formats() {
    let home = tempfile::tempdir().expect("temp dir");
    for format in ["cyclonedx", "spdx"] {
        let first = palisade(home.path(), &["sbom", &example(), "--format", format, "--reproducible"]);
        let second = palisade(home.path(), &["sbom", &example(), "--format", format, "--reproducible"]);
        assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
        assert!(!first.stdout.is_empty());
        assert_eq!(first.stdout, second.stdout, "{format} differs between two runs");
    }
    let first = palisade(home.path(), &["sbom", &example()]);
    let second = palisade(home.path(), &["sbom", &example()]);
    assert_ne!(
        first.stdout, second.stdout,
        "without --reproducible the serial number is random"
    );
}

#[test]
fn spdx_output_to_a_file() {
    let home = tempfile::tempdir().expect("temp dir");
    let out = home.path().join("bom.spdx.json");
    let output = palisade(
        home.path(),
        &[
            "sbom",
            &example(),
            "-f",
            "spdx",
            "--output",
            out.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(output.stdout.is_empty(), "the SBOM goes to the file only");
    let document = json(&std::fs::read(&out).expect("written"));
    assert_eq!(document["spdxVersion"], "SPDX-2.3");
    assert_eq!(
        document["creationInfo"]["creators"][0],
        format!("Tool: palisade-{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(document["packages"].as_array().expect("packages").len(), 66);
    let relationships = document["relationships"].as_array().expect("relationships");
    let has = |a: &str, kind: &str, b: &str| {
        relationships
            .iter()
            .any(|r| r["spdxElementId"] == a && r["relationshipType"] == kind && r["relatedSpdxElement"] == b)
    };
    let root = "SPDXRef-RootPackage-palisade-example-compromised";
    assert!(has("SPDXRef-DOCUMENT", "DESCRIBES", root));
    assert!(has(root, "DEPENDS_ON", "SPDXRef-Package-npm-express-4.17.1"));
    assert!(has("SPDXRef-Package-npm-chalk-5.6.1", "DEV_DEPENDENCY_OF", root));
    assert!(has(
        "SPDXRef-Package-npm-event-stream-3.3.6",
        "DEPENDS_ON",
        "SPDXRef-Package-npm-flatmap-stream-0.1.1"
    ));
}

#[test]
fn sbom_component_set_equals_deps_and_reads_back_through_deps_sbom() {
    let home = tempfile::tempdir().expect("temp dir");
    let lockfiles = repo_root().join("crates/palisade-lockfile/tests/fixtures/real");
    for project in [
        example(),
        lockfiles.join("npm/insomnia.3.json").display().to_string(),
        lockfiles.join("yarn/truffle.v1.lock").display().to_string(),
        lockfiles.join("pnpm/vite.v9.yaml").display().to_string(),
    ] {
        let expected = deps_set(home.path(), &[&project]);
        for format in ["cyclonedx", "spdx"] {
            let out = home.path().join(format!("bom.{format}.json"));
            let out = out.to_str().expect("utf-8");
            let output = palisade(home.path(), &["sbom", &project, "-f", format, "-o", out]);
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
            assert_eq!(
                deps_set(home.path(), &["--sbom", out]),
                expected,
                "{format} of {project}"
            );
        }
    }
}

#[test]
fn omit_dev_leaves_dev_packages_out() {
    let home = tempfile::tempdir().expect("temp dir");
    let output = palisade(home.path(), &["sbom", &example(), "--omit", "dev"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let bom = json(&output.stdout);
    let names: Vec<&str> = bom["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names.len(), 62);
    assert!(!names.contains(&"chalk"));
}

#[test]
fn audit_sbom_finds_flatmap_stream_in_an_sbom_of_the_example() {
    let home = tempfile::tempdir().expect("temp dir");
    for format in ["cyclonedx", "spdx"] {
        let out = home.path().join(format!("example.{format}.json"));
        let out = out.to_str().expect("utf-8");
        let output = palisade(home.path(), &["sbom", &example(), "-f", format, "-o", out]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let output = palisade(home.path(), &["audit", "--sbom", out, "--format", "json"]);
        assert_eq!(output.status.code(), Some(1), "findings exit 1: {}", stderr(&output));
        let report = json(&output.stdout);
        assert_eq!(report["packages_scanned"], 65);
        let findings = report["findings"].as_array().expect("findings");
        assert!(
            findings
                .iter()
                .any(|f| f["package"]["name"] == "flatmap-stream" && f["kind"] == "malicious"),
            "{format}: flatmap-stream is reported"
        );
    }
}

#[test]
fn audit_reads_sboms_written_by_other_tools() {
    let home = tempfile::tempdir().expect("temp dir");
    let output = palisade(
        home.path(),
        &["deps", "--sbom", &sbom_fixture("cyclonedx-npm/small-project.cdx.json")],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = palisade(
        home.path(),
        &[
            "deps",
            "--sbom",
            &sbom_fixture("spdx/syft-style.spdx.json"),
            "-f",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("1 non-npm components left out"),
        "{}",
        stderr(&output)
    );
    assert_eq!(json(&output.stdout)["format"], "spdx-2.3");
}

#[test]
fn input_errors_exit_2() {
    let home = tempfile::tempdir().expect("temp dir");
    let broken = home.path().join("broken.json");
    std::fs::write(&broken, "{\n  \"bomFormat\": \"CycloneDX\",\n  oops\n}\n").expect("write");
    let output = palisade(home.path(), &["audit", "--sbom", broken.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("line 3, column 3"), "{}", stderr(&output));

    let lockfile = repo_root().join("examples/compromised/package-lock.json");
    let output = palisade(home.path(), &["deps", "--sbom", lockfile.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a CycloneDX or SPDX"),
        "{}",
        stderr(&output)
    );

    let output = palisade(
        home.path(),
        &[
            "deps",
            "--sbom",
            "x.json",
            "--lockfile",
            lockfile.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(output.status.code(), Some(2), "--sbom conflicts with --lockfile");

    let empty = tempfile::tempdir().expect("temp dir");
    let output = palisade(home.path(), &["sbom", empty.path().to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(2), "no lockfile: {}", stderr(&output));
    assert!(output.stdout.is_empty());

    let output = palisade(home.path(), &["sbom", &example(), "--format", "swid"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn licenses_flag_reads_installed_package_manifests() {
    let home = tempfile::tempdir().expect("temp dir");
    let project = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        project.path().join("package.json"),
        r#"{"name": "app", "version": "0.1.0", "dependencies": {"left-pad": "1.3.0"}}"#,
    )
    .expect("write");
    std::fs::write(
        project.path().join("package-lock.json"),
        r#"{"name": "app", "version": "0.1.0", "lockfileVersion": 3, "requires": true, "packages": {
            "": {"name": "app", "version": "0.1.0", "dependencies": {"left-pad": "1.3.0"}},
            "node_modules/left-pad": {"version": "1.3.0",
              "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
              "integrity": "sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQEeuRSnpwVYFf0YFnQ4F3/9RSmpAlq9t5NuXJZs1Z4b9qw=="}}}"#,
    )
    .expect("write");
    let installed = project.path().join("node_modules/left-pad");
    std::fs::create_dir_all(&installed).expect("mkdir");
    std::fs::write(
        installed.join("package.json"),
        r#"{"name": "left-pad", "version": "1.3.0", "license": "WTFPL"}"#,
    )
    .expect("write");
    let dir = project.path().to_str().expect("utf-8");
    let without = json(&palisade(home.path(), &["sbom", dir]).stdout);
    assert!(
        without["components"][0]["licenses"].is_null(),
        "the lockfile records no license"
    );
    let output = palisade(home.path(), &["sbom", dir, "--licenses"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let with = json(&output.stdout);
    assert_eq!(with["components"][0]["licenses"][0]["expression"], "WTFPL");
    // An installed tree as input reads its manifests' licenses without the flag.
    let walked = json(&palisade(home.path(), &["sbom", dir, "--node-modules"]).stdout);
    assert_eq!(walked["components"][0]["licenses"][0]["expression"], "WTFPL");
    assert_eq!(with["metadata"]["component"]["version"], "0.1.0");
    assert_eq!(
        with["components"][0]["externalReferences"][0]["url"],
        "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz"
    );
}
