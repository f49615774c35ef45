//! Declared licenses, where the project's files already say them: npm
//! lockfiles (v2/v3 record each package's `license`) and the `package.json`
//! of installed packages. Nothing is fetched from a registry.

use std::collections::BTreeMap;
use std::path::Path;

use palisade_core::{Inventory, PackageId};
use serde_json::Value;

/// Manifests and lockfiles bigger than these are skipped, not read.
const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
const MAX_LOCKFILE_BYTES: u64 = 512 * 1024 * 1024;

/// Licenses an npm `package-lock.json` / `npm-shrinkwrap.json` (v2, v3) records
/// for the inventory's packages, matched by install path. Other formats record
/// none; an unreadable file gives an empty map (the SBOM then says NOASSERTION).
pub fn from_npm_lockfile(lockfile: &Path, inventory: &Inventory) -> BTreeMap<PackageId, String> {
    let mut licenses = BTreeMap::new();
    if !inventory.format.starts_with("npm") {
        return licenses;
    }
    let Some(document) = read_json(lockfile, MAX_LOCKFILE_BYTES) else {
        return licenses;
    };
    let Some(entries) = document.get("packages").and_then(Value::as_object) else {
        return licenses;
    };
    for package in &inventory.packages {
        let license = package
            .paths
            .iter()
            .filter_map(|path| entries.get(path))
            .find_map(manifest_license);
        if let Some(license) = license {
            licenses.insert(package.id(), license);
        }
    }
    licenses
}

/// Licenses from the `package.json` of each package installed under
/// `project_dir/node_modules`: at its recorded install paths (npm, bun), else
/// at the hoisted `node_modules/<name>` when that holds the same version.
pub fn from_node_modules(project_dir: &Path, inventory: &Inventory) -> BTreeMap<PackageId, String> {
    let mut licenses = BTreeMap::new();
    for package in &inventory.packages {
        // npm and bun record `node_modules/…` install paths; the node_modules
        // walker records them relative to `node_modules` itself.
        let walked = inventory.format == "node-modules";
        let mut candidates: Vec<String> = package
            .paths
            .iter()
            .filter(|path| !path.contains(".."))
            .filter_map(|path| {
                if path.starts_with("node_modules/") {
                    Some(path.clone())
                } else if walked {
                    Some(format!("node_modules/{path}"))
                } else {
                    None
                }
            })
            .collect();
        candidates.push(format!("node_modules/{}", package.name));
        let license = candidates.iter().find_map(|path| {
            let manifest = read_json(&project_dir.join(path).join("package.json"), MAX_MANIFEST_BYTES)?;
            (manifest.get("version").and_then(Value::as_str) == Some(package.version.as_str()))
                .then(|| manifest_license(&manifest))
                .flatten()
        });
        if let Some(license) = license {
            licenses.insert(package.id(), license);
        }
    }
    licenses
}

/// The `license` of a manifest (or lockfile entry), including the deprecated
/// forms `{"type": "MIT"}` and `licenses: [{"type": …}, …]` (joined with OR,
/// which is what a list of alternatives meant).
fn manifest_license(manifest: &Value) -> Option<String> {
    let text = match manifest.get("license") {
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Object(object)) => object.get("type").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    let text = text.or_else(|| {
        let list: Vec<&str> = manifest
            .get("licenses")?
            .as_array()?
            .iter()
            .filter_map(|entry| entry.get("type").and_then(Value::as_str).or_else(|| entry.as_str()))
            .collect();
        match list.as_slice() {
            [] => None,
            [one] => Some((*one).to_owned()),
            many => Some(format!("({})", many.join(" OR "))),
        }
    })?;
    let text = text.trim();
    (!text.is_empty() && text.len() <= 1024).then(|| text.to_owned())
}

fn read_json(path: &Path, limit: u64) -> Option<Value> {
    let size = std::fs::metadata(path).ok()?.len();
    if size > limit {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// Whether `text` has the shape of an SPDX license expression (SPDX 2.3
/// Annex D): operands (license ids, `LicenseRef-…`, `DocumentRef-…:…`, an
/// optional trailing `+`) joined by AND / OR / WITH, with balanced parentheses.
/// npm's `UNLICENSED` and `SEE LICENSE IN …` are not expressions.
pub fn is_spdx_expression(text: &str) -> bool {
    let spaced = text.replace('(', " ( ").replace(')', " ) ");
    let mut depth = 0usize;
    let mut expect_operand = true;
    let mut operands = 0usize;
    for token in spaced.split_ascii_whitespace() {
        match token {
            "(" if expect_operand => depth += 1,
            ")" if !expect_operand && depth > 0 => depth -= 1,
            "AND" | "OR" | "WITH" | "and" | "or" | "with" if !expect_operand => expect_operand = true,
            operand if expect_operand && is_operand(operand) => {
                expect_operand = false;
                operands += 1;
            }
            _ => return false,
        }
    }
    operands > 0 && depth == 0 && !expect_operand
}

fn is_operand(token: &str) -> bool {
    let body = token.strip_suffix('+').unwrap_or(token);
    !body.is_empty()
        && !matches!(body, "UNLICENSED" | "SEE" | "NONE" | "NOASSERTION")
        && body
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spdx_expressions() {
        for good in [
            "MIT",
            "(MIT OR Apache-2.0)",
            "Apache-2.0 WITH LLVM-exception",
            "GPL-2.0+",
            "LicenseRef-x",
        ] {
            assert!(is_spdx_expression(good), "{good}");
        }
        for bad in [
            "",
            "UNLICENSED",
            "SEE LICENSE IN LICENSE.md",
            "MIT OR",
            "(MIT",
            "MIT)",
            "Public Domain",
        ] {
            assert!(!is_spdx_expression(bad), "{bad}");
        }
    }

    #[test]
    fn deprecated_license_forms() {
        let object: Value = serde_json::json!({"license": {"type": "MIT", "url": "x"}});
        assert_eq!(manifest_license(&object).as_deref(), Some("MIT"));
        let list: Value = serde_json::json!({"licenses": [{"type": "MIT"}, {"type": "Apache-2.0"}]});
        assert_eq!(manifest_license(&list).as_deref(), Some("(MIT OR Apache-2.0)"));
    }
}
