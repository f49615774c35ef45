//! The in-toto statement inside the DSSE payload (in-toto/attestation `spec/v1/statement.md`,
//! v0.1 and v1) and the SLSA provenance predicate (slsa.dev/provenance v0.2 and v1) as npm
//! writes them (npm/cli `lib/utils/provenance.js`, buildType `github.com/npm/cli/gha@v0` and
//! `slsa-framework.github.io/github-actions-buildtypes/workflow/v1`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub(crate) const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
pub const SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";
pub const SLSA_V1: &str = "https://slsa.dev/provenance/v1";
pub const NPM_PUBLISH_V01: &str = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Statement {
    #[serde(rename = "_type")]
    pub(crate) statement_type: String,
    #[serde(default)]
    pub(crate) subject: Vec<Subject>,
    pub(crate) predicate_type: String,
    #[serde(default)]
    pub(crate) predicate: serde_json::Value,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Subject {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) digest: BTreeMap<String, String>,
}

pub(crate) fn is_statement_type(text: &str) -> bool {
    matches!(
        text,
        "https://in-toto.io/Statement/v0.1" | "https://in-toto.io/Statement/v1"
    )
}

/// The package URL npm puts in the subject: `pkg:npm/<name>@<version>`, the scope's `@`
/// percent-encoded as the purl spec requires for a namespace (npm-package-arg `toPurl`).
pub fn npm_purl(name: &str, version: &str) -> String {
    let name = match name.strip_prefix('@') {
        Some(rest) => format!("%40{rest}"),
        None => name.to_owned(),
    };
    format!("pkg:npm/{name}@{version}")
}

/// Where and how a version was built, as its SLSA provenance says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProvenanceSummary {
    pub predicate_type: String,
    /// e.g. `https://github.com/sigstore/sigstore-js`.
    pub source_repository: Option<String>,
    /// e.g. `refs/tags/v1.0.0`.
    pub source_ref: Option<String>,
    pub commit: Option<String>,
    /// e.g. `.github/workflows/publish.yml`.
    pub workflow_path: Option<String>,
    pub builder_id: Option<String>,
    /// The CI run, when the predicate names it.
    pub invocation_id: Option<String>,
}

fn text_at(value: &serde_json::Value, path: &[&str]) -> Option<String> {
    let mut current = value;
    for key in path {
        current = current.get(key)?;
    }
    current.as_str().map(str::to_owned)
}

/// `git+https://github.com/o/r@refs/tags/v1` → (`https://github.com/o/r`, `refs/tags/v1`).
fn split_git_uri(uri: &str) -> (String, Option<String>) {
    let uri = uri.strip_prefix("git+").unwrap_or(uri);
    match uri.rsplit_once('@') {
        Some((repository, reference)) if !repository.ends_with(':') => {
            (repository.to_owned(), Some(reference.to_owned()))
        }
        _ => (uri.to_owned(), None),
    }
}

pub(crate) fn summarize(predicate_type: &str, predicate: &serde_json::Value) -> Option<ProvenanceSummary> {
    let mut summary = ProvenanceSummary {
        predicate_type: predicate_type.to_owned(),
        ..ProvenanceSummary::default()
    };
    match predicate_type {
        SLSA_V02 => {
            let config = predicate.get("invocation").and_then(|i| i.get("configSource"));
            if let Some(uri) = config.and_then(|c| text_at(c, &["uri"])) {
                let (repository, reference) = split_git_uri(&uri);
                summary.source_repository = Some(repository);
                summary.source_ref = reference;
            }
            summary.commit = config.and_then(|c| text_at(c, &["digest", "sha1"]));
            // entryPoint is `owner/repo/.github/workflows/x.yml@ref` in npm's v0.2 predicate.
            summary.workflow_path = config.and_then(|c| text_at(c, &["entryPoint"])).map(|entry| {
                let entry = entry.split('@').next().unwrap_or(&entry).to_owned();
                match entry.find(".github/") {
                    Some(index) => entry[index..].to_owned(),
                    None => entry,
                }
            });
            summary.builder_id = text_at(predicate, &["builder", "id"]);
            summary.invocation_id = text_at(predicate, &["metadata", "buildInvocationId"]);
        }
        SLSA_V1 => {
            let workflow = predicate
                .get("buildDefinition")
                .and_then(|b| b.get("externalParameters"))
                .and_then(|e| e.get("workflow"));
            summary.source_repository = workflow.and_then(|w| text_at(w, &["repository"]));
            summary.source_ref = workflow.and_then(|w| text_at(w, &["ref"]));
            summary.workflow_path = workflow.and_then(|w| text_at(w, &["path"]));
            summary.commit = predicate
                .get("buildDefinition")
                .and_then(|b| b.get("resolvedDependencies"))
                .and_then(|d| d.as_array())
                .and_then(|deps| deps.iter().find_map(|dep| text_at(dep, &["digest", "gitCommit"])));
            summary.builder_id = text_at(predicate, &["runDetails", "builder", "id"]);
            summary.invocation_id = text_at(predicate, &["runDetails", "metadata", "invocationId"]);
        }
        _ => return None,
    }
    Some(summary)
}

/// Normalise a repository URL for comparison (`git+`, `.git`, trailing `/`, case).
pub(crate) fn normalize_repository(url: &str) -> String {
    let url = url.strip_prefix("git+").unwrap_or(url);
    let url = url.trim_end_matches('/');
    let url = url.strip_suffix(".git").unwrap_or(url);
    url.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purl_encodes_scope() {
        assert_eq!(npm_purl("@playwright/cli", "0.1.1"), "pkg:npm/%40playwright/cli@0.1.1");
        assert_eq!(npm_purl("sigstore", "1.0.0"), "pkg:npm/sigstore@1.0.0");
    }

    #[test]
    fn git_uri_split() {
        assert_eq!(
            split_git_uri("git+https://github.com/o/r@refs/tags/v1"),
            ("https://github.com/o/r".to_owned(), Some("refs/tags/v1".to_owned()))
        );
    }
}
