//! Each check with its configuration given as inline TOML, on one small npm
//! project; the JSON result of the check is snapshotted (cargo-deny style).

use std::collections::BTreeMap;

use palisade_advisory::{Advisory, AdvisoryKind, AdvisoryMatch};
use palisade_core::{Inventory, PackageId, Severity};
use palisade_lockfile::{extract_str, LockfileKind};
use palisade_policy::{all_codes, check, Config, Input, Manifest, PublishTimes};
use time::macros::datetime;
use time::OffsetDateTime;

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn lockfile() -> String {
    format!(
        r#"{{
  "name": "app",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {{
    "": {{
      "name": "app",
      "version": "1.0.0",
      "dependencies": {{
        "esbuild": "^0.20.0",
        "fork": "github:user/fork#{SHA}",
        "left-pad": "^1.3.0",
        "mirrored": "^1.0.0"
      }},
      "devDependencies": {{
        "tiny": "^2.0.0"
      }}
    }},
    "node_modules/@esbuild/linux-x64": {{
      "version": "0.20.2",
      "resolved": "https://registry.npmjs.org/@esbuild/linux-x64/-/linux-x64-0.20.2.tgz",
      "integrity": "sha512-AAAA",
      "optional": true
    }},
    "node_modules/esbuild": {{
      "version": "0.20.2",
      "resolved": "https://registry.npmjs.org/esbuild/-/esbuild-0.20.2.tgz",
      "integrity": "sha512-BBBB",
      "hasInstallScript": true,
      "optionalDependencies": {{
        "@esbuild/linux-x64": "0.20.2"
      }}
    }},
    "node_modules/fork": {{
      "version": "1.0.0",
      "resolved": "git+ssh://git@github.com/user/fork.git#{SHA}"
    }},
    "node_modules/left-pad": {{
      "version": "1.3.0",
      "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
      "integrity": "sha512-CCCC"
    }},
    "node_modules/mirrored": {{
      "version": "1.0.0",
      "resolved": "https://npm.mirror.example/mirrored/-/mirrored-1.0.0.tgz",
      "integrity": "sha512-DDDD"
    }},
    "node_modules/tiny": {{
      "version": "2.0.1",
      "resolved": "https://registry.npmjs.org/tiny/-/tiny-2.0.1.tgz",
      "dev": true
    }}
  }}
}}
"#
    )
}

const PACKAGE_JSON: &str = r#"{
  "name": "app",
  "version": "1.0.0",
  "dependencies": {
    "esbuild": "^0.20.0",
    "fork": "github:user/fork#0123456789abcdef0123456789abcdef01234567",
    "left-pad": "^1.3.0",
    "mirrored": "^1.0.0"
  },
  "devDependencies": {
    "tiny": "^2.0.0"
  }
}
"#;

fn inventory() -> Inventory {
    extract_str(LockfileKind::Npm, "package-lock.json", &lockfile()).expect("the fixture lockfile parses")
}

fn now() -> OffsetDateTime {
    datetime!(2026-06-15 12:00 UTC)
}

fn advisory(id: &str, kind: AdvisoryKind, severity: Severity) -> Advisory {
    Advisory {
        id: id.into(),
        kind,
        summary: format!("summary of {id}"),
        details: String::new(),
        severity,
        cvss_vector: None,
        aliases: vec![format!("CVE-{id}")],
        fixed_in: if kind == AdvisoryKind::Malicious {
            vec![]
        } else {
            vec!["1.3.1".into()]
        },
        published: None,
        modified: "2026-01-01T00:00:00Z".into(),
        references: vec![],
        source: "test".into(),
    }
}

struct Case {
    toml: &'static str,
    inventories: Vec<Inventory>,
    package_json: &'static str,
    advisories: Vec<AdvisoryMatch>,
    installed_scripts: BTreeMap<PackageId, BTreeMap<String, String>>,
    publish_times: Option<BTreeMap<(String, String), OffsetDateTime>>,
    registry_scripts: Option<BTreeMap<PackageId, palisade_policy::RegistryScripts>>,
    /// More package.json files (workspace members), as (importer path, text).
    members: Vec<(&'static str, &'static str)>,
}

impl Case {
    fn new(toml: &'static str) -> Self {
        Case {
            toml,
            inventories: vec![inventory()],
            package_json: PACKAGE_JSON,
            advisories: Vec::new(),
            installed_scripts: BTreeMap::new(),
            publish_times: None,
            registry_scripts: None,
            members: Vec::new(),
        }
    }

    /// The JSON report restricted to one check's diagnostics.
    fn run(&self, check_name: &str) -> serde_json::Value {
        let config = Config::parse("palisade.toml", self.toml).unwrap_or_else(|error| panic!("{error}"));
        let mut manifests = vec![Manifest::parse("package.json", "", self.package_json).expect("valid package.json")];
        for (path, text) in &self.members {
            let file = format!("{path}/package.json");
            manifests.push(Manifest::parse(&file, path, text).expect("valid package.json"));
        }
        let advisories = vec![self.advisories.clone(); self.inventories.len()];
        let times = self.publish_times.clone();
        let lookup = move |name: &str, version: &str| {
            times
                .as_ref()
                .and_then(|t| t.get(&(name.to_string(), version.to_string())).copied())
        };
        let publish_times: Option<&dyn PublishTimes> = if self.publish_times.is_some() {
            Some(&lookup)
        } else {
            None
        };
        let input = Input {
            project: ".",
            inventories: &self.inventories,
            advisories: &advisories,
            manifests: &manifests,
            installed_scripts: &self.installed_scripts,
            publish_times,
            registry_scripts: self.registry_scripts.as_ref(),
            now: now(),
        };
        let report = check(&config, &input);
        let codes: Vec<&str> = all_codes()
            .iter()
            .filter(|c| c.check == check_name)
            .map(|c| c.code)
            .collect();
        let diagnostics: Vec<_> = report.diagnostics.iter().filter(|d| codes.contains(&d.code)).collect();
        let mut value = serde_json::json!({
            "failed": diagnostics.iter().any(|d| d.level == palisade_policy::Level::Error),
            "diagnostics": diagnostics,
        });
        if check_name == "install-scripts" {
            value["install_scripts"] = serde_json::to_value(&report.install_scripts).expect("serializable");
        }
        value
    }
}

#[test]
fn advisories_malicious_always_fails_and_vulnerabilities_follow_fail_on() {
    let mut case = Case::new(
        r#"
[advisories]
fail-on = "high"
"#,
    );
    case.advisories = vec![
        AdvisoryMatch {
            package: PackageId::new("left-pad", "1.3.0"),
            advisory: advisory("GHSA-moderate", AdvisoryKind::Vulnerability, Severity::Moderate),
        },
        AdvisoryMatch {
            package: PackageId::new("tiny", "2.0.1"),
            advisory: advisory("MAL-2026-1", AdvisoryKind::Malicious, Severity::Unknown),
        },
    ];
    insta::assert_json_snapshot!(case.run("advisories"));
}

#[test]
fn advisories_pass_when_below_fail_on_or_ignored() {
    let mut case = Case::new(
        r#"
[advisories]
fail-on = "critical"
ignore = [{ id = "CVE-GHSA-high", reason = "server-side only", until = 2026-12-31 }]
"#,
    );
    case.advisories = vec![
        AdvisoryMatch {
            package: PackageId::new("left-pad", "1.3.0"),
            advisory: advisory("GHSA-high", AdvisoryKind::Vulnerability, Severity::High),
        },
        AdvisoryMatch {
            package: PackageId::new("esbuild", "0.20.2"),
            advisory: advisory("GHSA-low", AdvisoryKind::Vulnerability, Severity::Low),
        },
    ];
    insta::assert_json_snapshot!(case.run("advisories"));
}

#[test]
fn advisories_expired_ignore_fails_and_names_it() {
    let mut case = Case::new(
        r#"
[advisories]
ignore = [
  { id = "GHSA-high", reason = "was not reachable", until = "2026-01-31" },
  { id = "GHSA-gone", reason = "package removed since" },
]
"#,
    );
    case.advisories = vec![AdvisoryMatch {
        package: PackageId::new("left-pad", "1.3.0"),
        advisory: advisory("GHSA-high", AdvisoryKind::Vulnerability, Severity::High),
    }];
    insta::assert_json_snapshot!(case.run("advisories"));
}

#[test]
fn pinning_passes_when_package_json_and_lockfile_agree() {
    insta::assert_json_snapshot!(Case::new("").run("pinning"));
}

#[test]
fn pinning_flags_unpinned_specs_and_out_of_sync_entries() {
    let mut case = Case::new(
        r#"
[packages]
allow-unpinned = ["@myorg/*"]
"#,
    );
    case.package_json = r#"{
  "dependencies": {
    "esbuild": "^0.21.0",
    "left-pad": "latest",
    "missing": "^1.0.0",
    "@myorg/tool": "*",
    "local": "file:../local",
    "alias": "npm:tiny@^2.0.0",
    "fork": "user/fork#main"
  },
  "devDependencies": {
    "tiny": "*"
  }
}"#;
    insta::assert_json_snapshot!(case.run("pinning"));
}

#[test]
fn pinning_requires_a_lockfile() {
    let mut case = Case::new("");
    case.inventories.clear();
    insta::assert_json_snapshot!(case.run("pinning"));
}

#[test]
fn sources_default_policy_flags_git_other_registries_and_missing_integrity() {
    insta::assert_json_snapshot!(Case::new("").run("sources"));
}

#[test]
fn sources_pass_when_allowed() {
    let case = Case::new(
        r#"
[registry]
allowed = ["https://registry.npmjs.org", "https://npm.mirror.example/"]
allow-git = ["fork"]
"#,
    );
    // Only the missing integrity of `tiny` remains.
    insta::assert_json_snapshot!(case.run("sources"));
}

#[test]
fn install_scripts_not_allowlisted_fail_and_are_listed() {
    let mut case = Case::new("");
    case.installed_scripts.insert(
        PackageId::new("left-pad", "1.3.0"),
        BTreeMap::from([("postinstall".to_string(), "node steal.js".to_string())]),
    );
    insta::assert_json_snapshot!(case.run("install-scripts"));
}

#[test]
fn install_scripts_allowlisted_pass_by_name_or_range() {
    let case = Case::new(
        r#"
[install-scripts]
allow = ["esbuild@0.20.x"]
"#,
    );
    insta::assert_json_snapshot!(case.run("install-scripts"));
}

#[test]
fn release_age_flags_young_versions_even_if_already_locked() {
    let mut case = Case::new(
        r#"
[release-age]
minimum = "3d"
exclude = ["@esbuild/*"]
"#,
    );
    let times = BTreeMap::from([
        (
            ("esbuild".to_string(), "0.20.2".to_string()),
            datetime!(2026-06-14 12:00 UTC),
        ),
        (
            ("left-pad".to_string(), "1.3.0".to_string()),
            datetime!(2016-01-01 00:00 UTC),
        ),
        (
            ("mirrored".to_string(), "1.0.0".to_string()),
            datetime!(2026-06-01 00:00 UTC),
        ),
        (
            ("@esbuild/linux-x64".to_string(), "0.20.2".to_string()),
            datetime!(2026-06-15 11:00 UTC),
        ),
    ]);
    case.publish_times = Some(times);
    // `tiny` has no publish time: reported as unchecked, not passed silently.
    insta::assert_json_snapshot!(case.run("release-age"));
}

#[test]
fn release_age_without_registry_data_warns() {
    let case = Case::new(
        r#"
[release-age]
minimum = "72h"
"#,
    );
    insta::assert_json_snapshot!(case.run("release-age"));
}

#[test]
fn bans_deny_with_reason_and_path() {
    let case = Case::new(
        r#"
[packages]
deny = ["left-pad@<2", { spec = "@esbuild/*", reason = "native binaries are built in-house" }]
"#,
    );
    insta::assert_json_snapshot!(case.run("bans"));
}

#[test]
fn bans_allowlist_mode_only_passes_allow_entries() {
    let case = Case::new(
        r#"
[packages]
mode = "allowlist"
allow = ["esbuild@^0.20", "@esbuild/*", "left-pad", "tiny", "fork"]
"#,
    );
    insta::assert_json_snapshot!(case.run("bans"));
}

#[test]
fn bans_pass_by_default() {
    insta::assert_json_snapshot!(Case::new("").run("bans"));
}

/// The whole code list: codes are stable forever, so any change here must be deliberate.
#[test]
fn diagnostic_codes_are_unique_and_stable() {
    let codes = all_codes();
    let mut names: Vec<&str> = codes.iter().map(|c| c.code).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "duplicate diagnostic code");
    for code in &codes {
        assert!(
            code.code.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "`{}` is not kebab-case",
            code.code
        );
    }
    insta::assert_json_snapshot!(codes);
}

#[test]
fn pinning_checks_workspace_members_against_their_importer() {
    let lockfile = r#"{
  "name": "mono",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": { "name": "mono", "workspaces": ["packages/*"] },
    "node_modules/a": { "resolved": "packages/a", "link": true },
    "node_modules/b": { "resolved": "packages/b", "link": true },
    "packages/a": { "name": "a", "version": "1.0.0", "dependencies": { "left-pad": "^1.3.0" } },
    "packages/b": { "name": "b", "version": "1.0.0", "dependencies": { "a": "*" } },
    "node_modules/left-pad": {
      "version": "1.3.0",
      "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
      "integrity": "sha512-CCCC"
    }
  }
}"#;
    let mut case = Case::new("");
    case.inventories = vec![extract_str(LockfileKind::Npm, "package-lock.json", lockfile).expect("parses")];
    case.package_json = r#"{"name": "mono", "workspaces": ["packages/*"]}"#;
    // `a` asks for a left-pad the lockfile does not have; `b` uses a sibling
    // through `workspace:`, which is the project's own code.
    case.members = vec![
        ("packages/a", r#"{"name": "a", "dependencies": {"left-pad": "^2.0.0"}}"#),
        ("packages/b", r#"{"name": "b", "dependencies": {"a": "workspace:*"}}"#),
    ];
    insta::assert_json_snapshot!(case.run("pinning"));
}

#[test]
fn sources_bundled_packages_are_covered_by_their_parent() {
    let lockfile = r#"{
  "name": "app",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": { "name": "app", "dependencies": { "parent": "^1.0.0" } },
    "node_modules/parent": {
      "version": "1.0.0",
      "resolved": "https://registry.npmjs.org/parent/-/parent-1.0.0.tgz",
      "integrity": "sha512-EEEE",
      "bundleDependencies": ["child"]
    },
    "node_modules/parent/node_modules/child": { "version": "2.0.0", "inBundle": true }
  }
}"#;
    let mut case = Case::new("");
    case.inventories = vec![extract_str(LockfileKind::Npm, "package-lock.json", lockfile).expect("parses")];
    case.package_json = r#"{"dependencies": {"parent": "^1.0.0"}}"#;
    let report = case.run("sources");
    assert_eq!(report["diagnostics"], serde_json::json!([]), "{report:#}");
}

#[test]
fn install_scripts_from_pnpm_requires_build() {
    let lockfile = "lockfileVersion: '6.0'\n\ndependencies:\n  esbuild:\n    specifier: ^0.20.0\n    version: 0.20.2\n\npackages:\n\n  /esbuild@0.20.2:\n    resolution: {integrity: sha512-BBBB}\n    engines: {node: '>=12'}\n    hasBin: true\n    requiresBuild: true\n    dev: false\n";
    let mut case = Case::new("");
    case.inventories = vec![extract_str(LockfileKind::Pnpm, "pnpm-lock.yaml", lockfile).expect("parses")];
    case.package_json = r#"{"dependencies": {"esbuild": "^0.20.0"}}"#;
    insta::assert_json_snapshot!(case.run("install-scripts"));
}

const YARN_CLASSIC: &str = r#"# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


esbuild@^0.20.2:
  version "0.20.2"
  resolved "https://registry.yarnpkg.com/esbuild/-/esbuild-0.20.2.tgz#aaaa"
  integrity sha512-AAAA

left-pad@^1.3.0:
  version "1.3.0"
  resolved "https://registry.yarnpkg.com/left-pad/-/left-pad-1.3.0.tgz#bbbb"
  integrity sha512-BBBB

tiny@^1.0.0:
  version "1.0.0"
  resolved "https://registry.yarnpkg.com/tiny/-/tiny-1.0.0.tgz#cccc"
  integrity sha512-CCCC
"#;

fn yarn_case(toml: &'static str) -> Case {
    let mut case = Case::new(toml);
    case.inventories =
        vec![extract_str(LockfileKind::Yarn, "yarn.lock", YARN_CLASSIC).expect("the yarn fixture parses")];
    case
}

#[test]
fn install_scripts_of_a_lockfile_that_records_none_come_from_the_registry() {
    use palisade_policy::RegistryScripts;
    let mut case = yarn_case("");
    let none = BTreeMap::new();
    case.registry_scripts = Some(BTreeMap::from([
        // A full document lists the scripts; an abbreviated one only the flag.
        (
            PackageId::new("esbuild", "0.20.2"),
            RegistryScripts::new(
                false,
                &BTreeMap::from([
                    ("postinstall".to_string(), "node install.js".to_string()),
                    ("test".to_string(), "jest".to_string()),
                ]),
            ),
        ),
        (PackageId::new("left-pad", "1.3.0"), RegistryScripts::new(true, &none)),
    ]));
    // `tiny` was not in the registry data and is not installed: unchecked, visibly.
    insta::assert_json_snapshot!(case.run("install-scripts"));
}

#[test]
fn install_scripts_offline_and_not_installed_are_a_visible_warning() {
    let mut case = yarn_case("");
    // The installed package.json tells for one package, even offline.
    case.installed_scripts
        .insert(PackageId::new("tiny", "1.0.0"), BTreeMap::new());
    let result = case.run("install-scripts");
    assert_eq!(result["failed"], false);
    let diagnostics = result["diagnostics"].as_array().expect("array");
    assert_eq!(diagnostics.len(), 1, "{result}");
    assert_eq!(diagnostics[0]["code"], "install-scripts-unchecked");
    assert_eq!(diagnostics[0]["level"], "warning");
    let message = diagnostics[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("install scripts not checked for 2 packages: the yarn-v1 lockfile"),
        "{message}"
    );
    assert!(message.ends_with(": esbuild@0.20.2, left-pad@1.3.0"), "{message}");
}

#[test]
fn lockfile_formats_that_record_install_scripts() {
    use palisade_policy::install_scripts::lockfile_records_scripts;
    for format in ["npm-v2", "npm-v3", "pnpm-v5", "pnpm-v6"] {
        assert!(lockfile_records_scripts(format), "{format}");
    }
    for format in ["npm-v1", "pnpm-v9", "yarn-v1", "yarn-berry-v8", "bun-v1", ""] {
        assert!(!lockfile_records_scripts(format), "{format}");
    }
}

#[test]
fn sources_yarn_berry_checksum_counts_as_integrity() {
    let berry = r#"# This file is generated by running "yarn install" inside your project.

__metadata:
  version: 8
  cacheKey: 10c0

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."
  dependencies:
    left-pad: "npm:^1.3.0"
    tiny: "npm:^1.0.0"
  languageName: unknown
  linkType: soft

"left-pad@npm:^1.3.0":
  version: 1.3.0
  resolution: "left-pad@npm:1.3.0"
  checksum: 10c0/3e8e0bd1fd4f6e7c3a36e6f1b8d2fd58a4a6e1dc8e44e3e5d2a1b09fb3f4a0f6a0b3a5c2a8f2b8f1e3c1c0f1b2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e
  languageName: node
  linkType: hard

"tiny@npm:^1.0.0":
  version: 1.0.0
  resolution: "tiny@npm:1.0.0"
  languageName: node
  linkType: hard
"#;
    let mut case = Case::new("");
    case.inventories = vec![extract_str(LockfileKind::Yarn, "yarn.lock", berry).expect("the berry fixture parses")];
    let result = case.run("sources");
    let diagnostics = result["diagnostics"].as_array().expect("array");
    // `left-pad` is pinned by its checksum; `tiny` has neither pin.
    assert_eq!(diagnostics.len(), 1, "{result}");
    assert_eq!(diagnostics[0]["code"], "integrity-missing");
    assert_eq!(diagnostics[0]["package"]["name"], "tiny");
}
