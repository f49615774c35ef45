//! pnpm, yarn classic and yarn berry installing through the firewall. The
//! clients come from `.ci/run` ($HOME/.palisade-ci-tools or PALISADE_CI_TOOLS);
//! without them these tests are skipped with a printed reason, and fail under CI=true.
#![expect(clippy::unwrap_used, reason = "tests: a failed unwrap is a failed test")]

mod common;

use std::path::Path;

use common::*;

/// A firewall with the recorded packages and `demo-mal@1.1.0` marked malicious.
fn harness() -> Harness {
    let harness = Harness::start(Options {
        malicious: vec![("demo-mal".into(), "1.1.0".into())],
        ..Options::default()
    });
    harness.publish(
        "demo-mal",
        vec![
            Version::new("demo-mal", "1.0.0", 30),
            Version::new("demo-mal", "1.1.0", 20),
        ],
    );
    harness
}

fn assert_served_through_firewall(harness: &Harness) {
    let log = harness.admin().log(100, None).unwrap();
    for wanted in ["is-odd@3.0.1", "is-number@6.0.0", "demo-mal@1.0.0"] {
        assert!(
            log.iter()
                .any(|e| e.action == "serve" && format!("{}@{}", e.package, e.version) == wanted),
            "{wanted} not served through the firewall: {log:?}"
        );
    }
    assert!(!log.iter().any(|e| e.action == "serve" && e.version == "1.1.0"));
    assert_eq!(harness.upstream.hits("/demo-mal/-/demo-mal-1.1.0.tgz"), 0);
}

#[test]
fn pnpm_installs_through_the_firewall() {
    let Some(pnpm) = find_client("pnpm") else { return };
    let harness = harness();
    let project = harness.project("pnpm", &[("is-odd", "^3.0.0"), ("demo-mal", "^1.0.0")]);
    let store = project.join(".pnpm-store");
    let output = run_client(
        &pnpm,
        &[
            "install",
            "--ignore-scripts",
            &format!("--registry={}/", harness.url),
            &format!("--store-dir={}", store.display()),
            "--config.confirmModulesPurge=false",
        ],
        &project,
        &harness.url,
    );
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(installed_version(&project, "demo-mal").as_deref(), Some("1.0.0"));
    assert_eq!(installed_version(&project, "is-odd").as_deref(), Some("3.0.1"));
    let lock = std::fs::read_to_string(project.join("pnpm-lock.yaml")).unwrap();
    assert!(
        lock.contains("demo-mal@1.0.0") && !lock.contains("demo-mal@1.1.0"),
        "{lock}"
    );
    assert_served_through_firewall(&harness);
}

#[test]
fn yarn_classic_installs_through_the_firewall() {
    let Some(yarn) = find_client("yarn") else { return };
    let harness = harness();
    let project = harness.project("yarn-classic", &[("is-odd", "^3.0.0"), ("demo-mal", "^1.0.0")]);
    let output = run_client(
        &yarn,
        &[
            "install",
            "--ignore-scripts",
            "--non-interactive",
            "--no-progress",
            "--registry",
            &format!("{}/", harness.url),
            "--cache-folder",
            &project.join(".yarn-cache").display().to_string(),
        ],
        &project,
        &harness.url,
    );
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(installed_version(&project, "demo-mal").as_deref(), Some("1.0.0"));
    let lock = std::fs::read_to_string(project.join("yarn.lock")).unwrap();
    let resolved: Vec<&str> = lock
        .lines()
        .filter_map(|line| line.trim().strip_prefix("resolved "))
        .collect();
    assert_eq!(resolved.len(), 3, "{lock}");
    for url in resolved {
        assert!(url.starts_with(&format!("\"{}/", harness.url)), "{url}");
    }
    assert_served_through_firewall(&harness);
}

#[test]
fn yarn_berry_installs_through_the_firewall() {
    let Some(berry) = find_client("yarn-berry") else { return };
    let harness = harness();
    let project = harness.project("yarn-berry", &[("is-odd", "^3.0.0"), ("demo-mal", "^1.0.0")]);
    std::fs::write(
        project.join(".yarnrc.yml"),
        format!(
            "npmRegistryServer: \"{}\"\nunsafeHttpWhitelist:\n  - \"127.0.0.1\"\nnodeLinker: node-modules\nenableGlobalCache: false\nenableTelemetry: false\nenableScripts: false\n",
            harness.url
        ),
    )
    .unwrap();
    std::fs::write(project.join("yarn.lock"), "").unwrap();
    let output = run_client(
        Path::new("node"),
        &[berry.to_str().unwrap(), "install"],
        &project,
        &harness.url,
    );
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(installed_version(&project, "demo-mal").as_deref(), Some("1.0.0"));
    let lock = std::fs::read_to_string(project.join("yarn.lock")).unwrap();
    assert!(
        lock.contains("demo-mal@npm:1.0.0") && !lock.contains("demo-mal@npm:1.1.0"),
        "{lock}"
    );
    assert_served_through_firewall(&harness);
}
