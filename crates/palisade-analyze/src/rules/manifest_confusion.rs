//! `manifest-confusion`: the registry shows one package.json, the tarball installs another.

use std::collections::BTreeMap;

use palisade_core::{Capability, Confidence, Finding, Severity};
use serde_json::Value;

use super::install_script::LIFECYCLE_EVENTS;
use super::{PackageFacts, PackageRule, RuleInfo};

pub struct ManifestConfusion;

static INFO: RuleInfo = RuleInfo {
    id: "manifest-confusion",
    severity: Severity::High,
    confidence: Confidence::High,
    capabilities: &[],
    summary:
        "The tarball's package.json differs from the registry's manifest (scripts, dependencies, bin, name/version)",
    docs: r#"## What it detects

The npm registry stores the manifest a client sent at publish time separately from the
tarball, and does not check that they agree. npm installs from the tarball's `package.json`
(its scripts, its dependencies, its `bin`), while the website, `npm view`, audits and most
scanners read the registry manifest. This rule compares the two, when the registry manifest
is known (registry targets), on:

- `name` and `version`;
- lifecycle scripts (`preinstall`, `install`, `postinstall`, `prepare`) — an install script
  hidden from the registry is the most dangerous case;
- `dependencies` (with `optionalDependencies`, which npm folds in) — hidden dependencies;
- `bin` — hidden executables that shadow commands.

npm's own normalisation is not a mismatch: `install: node-gyp rebuild` added by the
registry for packages with `binding.gyp`, `./` prefixes in `bin` paths, a string `bin`
expanded to `{name: path}`, `bin` filled from `directories.bin`, optional dependencies
copied into `dependencies`. Checked on 20 real packages with their registry documents
(sharp, esbuild, bufferutil, typescript, core-js, …): no finding.

## Real attacks

Darcy Clarke's "manifest confusion" disclosure (June 2023) showed that any publisher can
ship install scripts and dependencies that the registry does not display; packages abusing
it have been found since (hidden `preinstall` scripts and dependencies on malicious
packages that never appear in `npm view`).

## Known false positives

Very old packages published by clients that normalised differently. Unpublished-then-
republished versions on mirrors whose manifests were rewritten.
"#,
};

fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|object| {
            object
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn scripts(manifest: &Value) -> BTreeMap<String, String> {
    let mut all = string_map(manifest.get("scripts"));
    all.retain(|k, _| LIFECYCLE_EVENTS.contains(&k.as_str()));
    all
}

fn dependencies(manifest: &Value) -> BTreeMap<String, String> {
    let mut all = string_map(manifest.get("dependencies"));
    all.extend(string_map(manifest.get("optionalDependencies")));
    all
}

fn bins(manifest: &Value) -> BTreeMap<String, String> {
    let clean = |path: &str| path.trim_start_matches("./").to_string();
    match manifest.get("bin") {
        Some(Value::String(path)) => {
            let name = manifest.get("name").and_then(Value::as_str).unwrap_or_default();
            let bare = name.rsplit('/').next().unwrap_or(name);
            BTreeMap::from([(bare.to_string(), clean(path))])
        }
        Some(Value::Object(_)) => string_map(manifest.get("bin"))
            .into_iter()
            .map(|(k, v)| (k, clean(&v)))
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn describe(kind: &str, tarball: &BTreeMap<String, String>, registry: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (key, value) in tarball {
        match registry.get(key) {
            None => out.push(format!("{kind} `{key}: {value}` only in the tarball")),
            Some(other) if other != value => out.push(format!(
                "{kind} `{key}` is `{value}` in the tarball but `{other}` on the registry"
            )),
            Some(_) => {}
        }
    }
    for (key, value) in registry {
        if !tarball.contains_key(key) {
            out.push(format!("{kind} `{key}: {value}` only on the registry"));
        }
    }
    out
}

impl PackageRule for ManifestConfusion {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, package: &PackageFacts<'_>, out: &mut Vec<Finding>) {
        let (Some(registry), Some(tarball)) = (package.options.registry_manifest.as_ref(), package.manifest.as_ref())
        else {
            return;
        };
        let field = |m: &Value, k: &str| m.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let mut push = |severity: Severity, capabilities: &[Capability], message: String, evidence: Vec<String>| {
            out.push(
                Finding::new(INFO.id, severity, INFO.confidence, message)
                    .at("package.json", None)
                    .with_evidence(evidence.join("; "))
                    .with_capabilities(capabilities),
            );
        };

        let mut identity = Vec::new();
        for key in ["name", "version"] {
            let (t, r) = (field(tarball, key), field(registry, key));
            if t != r {
                identity.push(format!("{key} `{t}` in the tarball, `{r}` on the registry"));
            }
        }
        if !identity.is_empty() {
            push(
                Severity::High,
                &[],
                "the tarball is not the package the registry describes".into(),
                identity,
            );
        }

        let mut registry_scripts = scripts(registry);
        let tarball_scripts = scripts(tarball);
        let has_gyp = package.contents.file("binding.gyp").is_some();
        if registry_scripts.get("install").is_some_and(|s| s == "node-gyp rebuild")
            && !tarball_scripts.contains_key("install")
            && has_gyp
        {
            registry_scripts.remove("install");
        }
        let script_diffs = describe("script", &tarball_scripts, &registry_scripts);
        if !script_diffs.is_empty() {
            let hidden = tarball_scripts
                .keys()
                .any(|k| registry_scripts.get(k) != tarball_scripts.get(k));
            let (severity, message) = if hidden {
                (
                    Severity::Critical,
                    "the tarball runs install scripts the registry does not show",
                )
            } else {
                (
                    Severity::High,
                    "install scripts differ between the tarball and the registry",
                )
            };
            push(severity, &[Capability::InstallScript], message.into(), script_diffs);
        }

        let dependency_diffs = describe("dependency", &dependencies(tarball), &dependencies(registry));
        if !dependency_diffs.is_empty() {
            push(
                Severity::High,
                &[],
                "dependencies differ between the tarball and the registry (hidden dependencies)".into(),
                dependency_diffs,
            );
        }

        // npm fills `bin` from `directories.bin` when publishing: only compare real `bin` maps.
        let expands_directory =
            tarball.get("bin").is_none() && tarball.get("directories").and_then(|d| d.get("bin")).is_some();
        let bin_diffs = if expands_directory {
            Vec::new()
        } else {
            describe("bin", &bins(tarball), &bins(registry))
        };
        if !bin_diffs.is_empty() {
            push(
                Severity::High,
                &[],
                "executables (`bin`) differ between the tarball and the registry".into(),
                bin_diffs,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::install_script::testing::run_with;
    use super::*;
    use crate::ScanOptions;

    fn check(tarball: &Value, registry: Value, extra: &[(&str, &[u8])]) -> Vec<Finding> {
        let bytes = serde_json::to_vec(tarball).unwrap_or_default();
        let mut files: Vec<(&str, &[u8])> = vec![("package.json", &bytes)];
        files.extend_from_slice(extra);
        let options = ScanOptions {
            registry_manifest: Some(registry),
        };
        run_with(&ManifestConfusion, &files, &options)
    }

    #[test]
    fn hidden_install_script_is_critical() {
        let tarball =
            serde_json::json!({"name":"a","version":"1.0.0","scripts":{"postinstall":"node x.js","test":"jest"}});
        let registry = serde_json::json!({"name":"a","version":"1.0.0","scripts":{"test":"jest"}});
        let findings = check(&tarball, registry, &[]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Critical);
        assert!(findings[0]
            .evidence
            .as_deref()
            .is_some_and(|e| e.contains("postinstall")));
    }

    #[test]
    fn hidden_dependency_bin_and_identity() {
        let tarball =
            serde_json::json!({"name":"a","version":"1.0.1","dependencies":{"x":"^1","evil":"1.0.0"},"bin":"./cli.js"});
        let registry = serde_json::json!({"name":"a","version":"1.0.0","dependencies":{"x":"^1"}});
        let findings = check(&tarball, registry, &[]);
        let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(findings.len(), 3, "{messages:?}");
        assert!(findings.iter().all(|f| f.severity == Severity::High));
        assert!(findings[1].evidence.as_deref().is_some_and(|e| e.contains("evil")));
    }

    #[test]
    fn npm_normalisation_is_not_confusion() {
        let tarball = serde_json::json!({
            "name":"@s/a","version":"1.0.0","dependencies":{"x":"^1"},"optionalDependencies":{"fsevents":"^2"},
            "bin":"./bin/a.js","scripts":{"test":"jest"}
        });
        let registry = serde_json::json!({
            "name":"@s/a","version":"1.0.0","dependencies":{"x":"^1","fsevents":"^2"},
            "optionalDependencies":{"fsevents":"^2"},"bin":{"a":"bin/a.js"},
            "scripts":{"test":"jest","install":"node-gyp rebuild"},"gypfile":true
        });
        assert_eq!(check(&tarball, registry, &[("binding.gyp", b"{}")]), []);
        let tarball = serde_json::json!({"name":"d","version":"1.0.0","directories":{"bin":"./bin"}});
        let registry =
            serde_json::json!({"name":"d","version":"1.0.0","directories":{"bin":"./bin"},"bin":{"d":"bin/d"}});
        assert_eq!(check(&tarball, registry, &[]), []);
    }

    #[test]
    fn no_registry_manifest_no_finding() {
        let bytes = br#"{"name":"a","version":"1.0.0","scripts":{"postinstall":"node x.js"}}"#;
        assert!(run_with(&ManifestConfusion, &[("package.json", bytes)], &ScanOptions::default()).is_empty());
    }
}
