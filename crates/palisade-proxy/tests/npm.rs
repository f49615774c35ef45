//! The real npm client installing through the firewall (loopback only).
#![expect(clippy::unwrap_used, reason = "tests: a failed unwrap is a failed test")]

mod common;

use common::*;
use palisade_core::Verdict;

#[test]
fn clean_install_resolves_through_the_firewall() {
    let harness = Harness::start(Options::default());
    let project = harness.project("clean", &[("is-odd", "^3.0.0")]);
    let output = npm_install(&project, &harness.url, &[]);
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(installed_version(&project, "is-odd").as_deref(), Some("3.0.1"));
    assert_eq!(installed_version(&project, "is-number").as_deref(), Some("6.0.0"));
    let resolved = lock_resolved(&project);
    assert_eq!(resolved.len(), 2, "{resolved:?}");
    for url in &resolved {
        assert!(
            url.starts_with(&format!("{}/", harness.url)),
            "lockfile points elsewhere: {url}"
        );
    }
    // Each tarball fetched once upstream and scanned once.
    assert_eq!(harness.upstream.hits("/is-odd/-/is-odd-3.0.1.tgz"), 1);
    assert_eq!(harness.scanner.scans.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[test]
fn a_malicious_version_is_never_installed_and_the_previous_one_is() {
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
    let project = harness.project("mal", &[("demo-mal", "^1.0.0")]);
    let output = npm_install(&project, &harness.url, &[]);
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(installed_version(&project, "demo-mal").as_deref(), Some("1.0.0"));
    // npm prints the notice naming the held-back version and the rule.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("demo-mal@1.1.0 (malicious-advisory"),
        "{}",
        text(&output)
    );
    // The malicious tarball was never fetched from upstream.
    assert_eq!(harness.upstream.hits("/demo-mal/-/demo-mal-1.1.0.tgz"), 0);

    // An exact request fails with our message, whatever path it takes.
    let exact = harness.project("mal-exact", &[("demo-mal", "1.1.0")]);
    let output = npm_install(&exact, &harness.url, &[]);
    assert!(!output.status.success(), "{}", text(&output));
    assert!(installed_version(&exact, "demo-mal").is_none());
}

#[test]
fn a_too_young_version_is_hidden_by_the_cooldown() {
    let harness = Harness::start(Options {
        toml: "[release-age]\nminimum = \"72h\"\n".into(),
        ..Options::default()
    });
    harness.publish(
        "demo-young",
        vec![
            Version::new("demo-young", "1.0.0", 30),
            Version::new("demo-young", "1.1.0", 0).hours_ago(2),
        ],
    );
    let project = harness.project("young", &[("demo-young", "^1.0.0")]);
    let output = npm_install(&project, &harness.url, &[]);
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(installed_version(&project, "demo-young").as_deref(), Some("1.0.0"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("demo-young@1.1.0 (release-age"), "{}", text(&output));
}

#[test]
fn allowlist_mode_refuses_an_unlisted_package_with_our_message() {
    let harness = Harness::start(Options {
        toml: "[packages]\nmode = \"allowlist\"\nallow = [\"is-number\"]\n".into(),
        ..Options::default()
    });
    let project = harness.project("allowlist", &[("is-odd", "^3.0.0")]);
    let output = npm_install(&project, &harness.url, &[]);
    assert!(!output.status.success(), "{}", text(&output));
    let all = text(&output);
    assert!(all.contains("palisade refused is-odd (not-allowlisted)"), "{all}");
    assert!(all.contains("packages.allow"), "{all}");
    // The listed one installs.
    let listed = harness.project("allowlist-ok", &[("is-number", "^7.0.0")]);
    let output = npm_install(&listed, &harness.url, &[]);
    assert!(output.status.success(), "{}", text(&output));
}

#[test]
fn a_tarball_that_does_not_match_its_integrity_is_refused() {
    let harness = Harness::start(Options::default());
    harness.publish("demo-tamper", vec![Version::new("demo-tamper", "1.0.0", 30)]);
    harness.tamper("demo-tamper", "1.0.0");
    let project = harness.project("tamper", &[("demo-tamper", "1.0.0")]);
    let output = npm_install(&project, &harness.url, &[]);
    assert!(!output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("integrity-mismatch"), "{}", text(&output));
    assert!(installed_version(&project, "demo-tamper").is_none());
    assert_eq!(
        harness.scanner.scans.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "never scanned, never served"
    );
}

#[test]
fn a_quarantined_version_installs_after_an_approval() {
    let harness = Harness::start(Options {
        toml: "[scan]\nsuspicious = \"quarantine\"\n".into(),
        ..Options::default()
    });
    harness.publish("demo-sus", vec![Version::new("demo-sus", "2.0.0", 30)]);
    harness
        .scanner
        .verdicts
        .lock()
        .unwrap()
        .insert("demo-sus@2.0.0".into(), Verdict::Suspicious);
    let project = harness.project("quarantine", &[("demo-sus", "2.0.0")]);
    let output = npm_install(&project, &harness.url, &[]);
    assert!(!output.status.success(), "{}", text(&output));
    let all = text(&output);
    assert!(all.contains("quarantine"), "{all}");
    assert!(all.contains("palisade admin approve demo-sus@2.0.0"), "{all}");

    let listed = harness.admin().list().unwrap();
    assert!(listed
        .decisions
        .iter()
        .any(|d| d.package == "demo-sus" && d.version == "2.0.0" && d.state == "quarantined"));
    harness
        .admin()
        .decide(
            true,
            &palisade_proxy::admin::DecisionRequest {
                package: "demo-sus".into(),
                version: "2.0.0".into(),
                reason: "reviewed: the flagged code is a build step".into(),
                by: Some("alice".into()),
            },
        )
        .unwrap();
    let output = npm_install(&project, &harness.url, &[]);
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(installed_version(&project, "demo-sus").as_deref(), Some("2.0.0"));
    // Scanned once: the verdict is cached by integrity.
    assert_eq!(harness.scanner.scans.load(std::sync::atomic::Ordering::SeqCst), 1);
    let log = harness.admin().log(50, Some("demo-sus")).unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"quarantine") && actions.contains(&"approve") && actions.contains(&"serve"),
        "{actions:?}"
    );
    let approval = log.iter().find(|e| e.action == "approve").unwrap();
    assert_eq!(approval.actor, "admin:alice");
    assert!(approval.detail.contains("reviewed"));
}
