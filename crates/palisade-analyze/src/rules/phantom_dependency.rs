//! `phantom-dependency`: a declared dependency that no shipped file uses.

use std::collections::BTreeSet;

use palisade_core::{Confidence, Finding, Severity};
use serde_json::Value;

use super::{PackageFacts, PackageRule, RuleInfo};
use crate::facts::FileKind;

pub struct PhantomDependency;

static INFO: RuleInfo = RuleInfo {
    id: "phantom-dependency",
    severity: Severity::Low,
    confidence: Confidence::Low,
    capabilities: &[],
    summary: "A dependency in package.json that no file of the package imports, requires or names",
    docs: r#"## What it detects

A name under `dependencies` that no shipped file imports or requires (from the JavaScript
facts), and that is not even named anywhere else in the package (any text file, scripts,
configuration in package.json). Such a dependency does nothing for the package itself; its
only effect is to get installed, and with it its own install script. Low on its own (build
tools and plugins are often referenced only indirectly); the version diff treats a phantom
dependency *added in a new release* as a high-risk change.

## Real attacks

- event-stream 3.3.6 (2018): the new maintainer added `flatmap-stream`, used only to carry
  the encrypted payload aimed at the Copay wallet.
- 2024–2025 "dependency-only" droppers: harmless-looking packages whose sole purpose is to
  depend on a malicious package with a `postinstall`.

## Known false positives

Packages that load plugins by a short name (`eslint-config-x` referenced as `x`), peer-like
runtime helpers resolved by tools, and meta-packages. Packages without JavaScript files are
skipped; `@types/*` dependencies and compiler helper runtimes (`tslib`, `@babel/runtime`,
`regenerator-runtime`, `core-js`, `@swc/helpers`) are ignored.
"#,
};

/// Helper runtimes that compilers reference on their own (TypeScript `importHelpers`, Babel
/// and SWC transforms, polyfills): declared by habit, often with no import left in the output.
const COMPILER_RUNTIMES: &[&str] = &[
    "tslib",
    "@babel/runtime",
    "@babel/runtime-corejs2",
    "@babel/runtime-corejs3",
    "regenerator-runtime",
    "core-js",
    "core-js-pure",
    "@swc/helpers",
];

/// The package part of a module specifier: `lodash/merge` → `lodash`, `@a/b/c` → `@a/b`.
fn package_of(specifier: &str) -> Option<&str> {
    let specifier = specifier.strip_prefix("node:").unwrap_or(specifier);
    if specifier.starts_with('.') || specifier.starts_with('/') || specifier.is_empty() {
        return None;
    }
    let mut parts = specifier.splitn(3, '/');
    let first = parts.next()?;
    if first.starts_with('@') {
        let second = parts.next()?;
        Some(&specifier[..first.len() + 1 + second.len()])
    } else {
        Some(first)
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '@' | '/' | '.' | '_' | '-')
}

/// Adds every dependency name that a token of `text` refers to.
fn mark_mentions(text: &str, declared: &BTreeSet<&str>, used: &mut BTreeSet<String>) {
    for token in text.split(|c: char| !is_name_char(c)) {
        if token.is_empty() {
            continue;
        }
        let token = token
            .rsplit("node_modules/")
            .next()
            .unwrap_or(token)
            .trim_matches(['.', '/']);
        if let Some(name) = package_of(token) {
            if declared.contains(name) {
                used.insert(name.to_string());
            }
        }
        if declared.contains(token) {
            used.insert(token.to_string());
        }
    }
}

/// Declared `dependencies` that nothing in the package uses; empty for packages without
/// JavaScript (meta-packages, type-only packages).
pub fn phantom_dependencies(package: &PackageFacts<'_>) -> Vec<String> {
    let Some(manifest) = package.manifest.as_ref() else {
        return Vec::new();
    };
    let Some(dependencies) = manifest.get("dependencies").and_then(Value::as_object) else {
        return Vec::new();
    };
    let declared: BTreeSet<&str> = dependencies
        .keys()
        .map(String::as_str)
        .filter(|name| !name.starts_with("@types/") && !COMPILER_RUNTIMES.contains(name))
        .collect();
    if declared.is_empty() {
        return Vec::new();
    }
    let has_code = package
        .files
        .iter()
        .any(|f| matches!(f.kind, FileKind::JavaScript | FileKind::TypeScript));
    if !has_code {
        return Vec::new();
    }
    let mut used = BTreeSet::new();
    for file in &package.files {
        for import in &file.imports {
            if let Some(name) = package_of(import) {
                if declared.contains(name) {
                    used.insert(name.to_string());
                }
            }
        }
        if file.path == "package.json" {
            continue;
        }
        if let Some(text) = &file.text {
            mark_mentions(text, &declared, &mut used);
        }
    }
    // package.json itself, without the dependency lists: scripts, bin, tool configuration.
    let mut rest = manifest.clone();
    if let Some(object) = rest.as_object_mut() {
        for key in [
            "dependencies",
            "devDependencies",
            "peerDependencies",
            "optionalDependencies",
            "bundleDependencies",
            "bundledDependencies",
            "peerDependenciesMeta",
            "name",
        ] {
            object.remove(key);
        }
    }
    mark_mentions(&rest.to_string(), &declared, &mut used);
    declared
        .into_iter()
        .filter(|name| !used.contains(*name))
        .map(str::to_string)
        .collect()
}

impl PackageRule for PhantomDependency {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, package: &PackageFacts<'_>, out: &mut Vec<Finding>) {
        let phantoms = phantom_dependencies(package);
        if phantoms.is_empty() {
            return;
        }
        let manifest_text = package.contents.manifest_bytes().map(String::from_utf8_lossy);
        for name in phantoms {
            let line = manifest_text
                .as_deref()
                .and_then(|text| super::install_script::key_line(text, &name));
            let version = package
                .manifest
                .as_ref()
                .and_then(|m| m.get("dependencies"))
                .and_then(|d| d.get(&name))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let message = format!("dependency `{name}` is declared but no file of the package uses it");
            out.push(
                Finding::new(INFO.id, INFO.severity, INFO.confidence, message)
                    .at("package.json", line)
                    .with_evidence(format!("\"{name}\": \"{version}\"")),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::install_script::testing::run;
    use super::*;

    const MANIFEST: &[u8] = br#"{
  "name": "carrier",
  "version": "3.3.6",
  "main": "index.js",
  "dependencies": {
    "through": "~2.3.1",
    "lodash": "^4.17.21",
    "@scope/helper": "^1.0.0",
    "flatmap-stream": "0.1.1",
    "@types/node": "*",
    "tslib": "^2.6.0"
  }
}"#;

    #[test]
    fn unused_dependency_is_reported() {
        let index = b"var through = require('through');\nvar merge = require('lodash/merge');\nimport h from '@scope/helper/lib/x';\n";
        let findings = run(&PhantomDependency, &[("package.json", MANIFEST), ("index.js", index)]);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(findings[0].message.contains("`flatmap-stream`"));
        assert_eq!(findings[0].line, Some(9));
        assert_eq!(findings[0].severity, Severity::Low);
    }

    #[test]
    fn every_dependency_used_somewhere() {
        let index = b"require('through'); require('lodash'); require('@scope/helper'); require('flatmap-stream')";
        assert!(run(&PhantomDependency, &[("package.json", MANIFEST), ("index.js", index)]).is_empty());
        // Named in a config or a script counts as used.
        let manifest = br#"{"name":"x","dependencies":{"node-gyp-build":"^4","eslint-plugin-foo":"1"},
            "scripts":{"install":"node-gyp-build"},"eslintConfig":{"plugins":["eslint-plugin-foo"]}}"#;
        assert!(run(&PhantomDependency, &[("package.json", manifest), ("index.js", b"1")]).is_empty());
    }

    #[test]
    fn packages_without_code_are_skipped() {
        assert!(run(
            &PhantomDependency,
            &[("package.json", MANIFEST), ("README.md", b"# hi")]
        )
        .is_empty());
    }

    #[test]
    fn specifiers() {
        assert_eq!(package_of("lodash/merge"), Some("lodash"));
        assert_eq!(package_of("@a/b/c"), Some("@a/b"));
        assert_eq!(package_of("node:fs"), Some("fs"));
        assert_eq!(package_of("./x"), None);
        assert_eq!(package_of("@a"), None);
    }
}
