//! `dependency-confusion-version`: an absurdly high version, the signature of a package
//! published to win a version race against a private registry.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::install_script::lifecycle_scripts;
use super::{PackageFacts, PackageRule, RuleInfo};

pub struct DependencyConfusionVersion;

static INFO: RuleInfo = RuleInfo {
    id: "dependency-confusion-version",
    severity: Severity::Moderate,
    confidence: Confidence::Medium,
    capabilities: &[],
    summary: "Version like 99.0.0 or 9999.0.0, made to outrank a private package of the same name",
    docs: r#"## What it detects

A package version whose major is 99 or more and is not a date (calendar versions such as
`2024.1.0` or `20240101.0.0` are fine): `99.99.99`, `100.0.0`, `999.9.9`, `9999.0.0`. A
package manager that looks in both a private and the public registry takes the highest
version, so dependency-confusion packages publish absurd versions under internal-looking
names. Moderate alone; **high** when the package also has an install script, which is how
those packages run (and usually phone home with the host name and user).

## Real attacks

- Alex Birsan's dependency-confusion research (2021) and the thousands of copies since,
  typically `version: 9999.0.0` or `99.10.9` with a `preinstall` that sends
  `hostname`/`whoami`/`pwd` over DNS or HTTPS.
- The 2022 `@azure-*`-style scoped-name campaign (hundreds of packages at `99.x`).

## Known false positives

A handful of real packages bumped majors far ahead (rare); calendar-versioned packages are
excluded.
"#,
};

/// Whether a version string looks like a dependency-confusion version.
pub fn absurd_version(version: &str) -> bool {
    let version = version.trim().trim_start_matches(['v', '=']);
    let Some(major) = version
        .split(['.', '-', '+'])
        .next()
        .and_then(|m| m.parse::<u64>().ok())
    else {
        return false;
    };
    let calendar = (1990..=2100).contains(&major)
        || (199_001..=210_012).contains(&major)
        || (19_900_101..=21_001_231).contains(&major);
    major >= 99 && !calendar
}

impl PackageRule for DependencyConfusionVersion {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, package: &PackageFacts<'_>, out: &mut Vec<Finding>) {
        if !absurd_version(&package.version) {
            return;
        }
        let scripts = lifecycle_scripts(package);
        let line = package
            .contents
            .manifest_bytes()
            .and_then(|bytes| super::install_script::key_line(&String::from_utf8_lossy(bytes), "version"));
        let (severity, message, capabilities): (Severity, String, &[Capability]) = match scripts.first() {
            Some(script) => (
                Severity::High,
                format!(
                    "version {} is made to outrank a private package of the same name, and the package runs a `{}` script on install",
                    package.version, script.event
                ),
                &[Capability::InstallScript],
            ),
            None => (
                Severity::Moderate,
                format!("version {} is made to outrank a private package of the same name", package.version),
                &[],
            ),
        };
        out.push(
            Finding::new(INFO.id, severity, INFO.confidence, message)
                .at("package.json", line)
                .with_evidence(format!("{}@{}", package.name, package.version))
                .with_capabilities(capabilities),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::install_script::testing::run;
    use super::*;

    #[test]
    fn absurd_versions() {
        for version in [
            "99.0.0",
            "99.99.99",
            "100.0.0",
            "999.9.9",
            "9999.0.0",
            "10000.1.1",
            "v99.1.0",
        ] {
            assert!(absurd_version(version), "{version}");
        }
        for version in [
            "1.0.0",
            "98.1.0",
            "2024.1.5",
            "20240101.0.0",
            "202401.1.0",
            "0.0.1-security",
            "latest",
            "",
        ] {
            assert!(!absurd_version(version), "{version}");
        }
    }

    #[test]
    fn high_with_an_install_script() {
        let manifest =
            br#"{"name":"corp-internal-utils","version":"9999.0.0","scripts":{"preinstall":"node index.js"}}"#;
        let findings = run(
            &DependencyConfusionVersion,
            &[("package.json", manifest), ("index.js", b"1")],
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::High);

        let manifest = br#"{"name":"corp-internal-utils","version":"99.1.0"}"#;
        let findings = run(&DependencyConfusionVersion, &[("package.json", manifest)]);
        assert_eq!(findings[0].severity, Severity::Moderate);
    }

    #[test]
    fn ordinary_versions_pass() {
        let manifest = br#"{"name":"lodash","version":"4.17.21","scripts":{"postinstall":"node x.js"}}"#;
        assert!(run(&DependencyConfusionVersion, &[("package.json", manifest)]).is_empty());
    }
}
