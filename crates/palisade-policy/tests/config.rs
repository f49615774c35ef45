//! palisade.toml errors point at file:line:column and say what was expected.

use palisade_policy::Config;

fn error(toml: &str) -> String {
    match Config::parse("palisade.toml", toml) {
        Ok(_) => panic!("expected an error for:\n{toml}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn the_design_example_parses() {
    let config = Config::parse(
        "palisade.toml",
        r#"
[registry]
upstream = "https://registry.npmjs.org/"
allowed = ["https://registry.npmjs.org/"]

[packages]
mode = "denylist"
allow = ["react@^18", "@myorg/*"]
deny = ["event-stream@3.3.6", { spec = "left-pad", reason = "banned by policy" }]

[advisories]
fail-on = "high"
ignore = [{ id = "GHSA-xxxx-xxxx-xxxx", reason = "not reachable", until = "2026-12-31" }]

[release-age]
minimum = "72h"
exclude = ["@myorg/*"]

[install-scripts]
allow = ["esbuild", "sharp@0.33.x"]

[scan]
suspicious = "quarantine"

[provenance]
require = ["@myorg/*"]
no-downgrade = true

[serve]
listen = "127.0.0.1:4873"
admin-token-env = "PALISADE_ADMIN_TOKEN"
"#,
    )
    .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(config.release_age.minimum, Some(time::Duration::hours(72)));
    assert_eq!(config.bans.deny.len(), 2);
    assert_eq!(config.advisories.ignore[0].location.line, 13);
}

#[test]
fn an_empty_file_is_the_safe_default() {
    let config = Config::parse("palisade.toml", "").unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(config.advisories.fail_on, palisade_core::Severity::Low);
    assert!(config
        .registry
        .allowed
        .iter()
        .any(|r| r == "https://registry.npmjs.org/"));
}

#[test]
fn unknown_key() {
    insta::assert_snapshot!(error("[advisories]\nfail-on = \"high\"\nfial-on = \"low\"\n"));
}

#[test]
fn unknown_section() {
    insta::assert_snapshot!(error("[advisory]\nfail-on = \"high\"\n"));
}

#[test]
fn duration_without_unit() {
    insta::assert_snapshot!(error("[release-age]\nminimum = 72\n"));
}

#[test]
fn duration_with_a_bad_unit() {
    insta::assert_snapshot!(error("[release-age]\nminimum = \"3w\"\n"));
}

#[test]
fn bad_package_specs() {
    insta::assert_snapshot!(error(
        "[packages]\ndeny = [\"left pad\", { spec = \"foo@not-a-range!\" }, { spec = \"x\", why = \"?\" }]\nallow = [\"react*\"]\n\n[install-scripts]\nallow = [\"sharp@\"]\n"
    ));
}

#[test]
fn ignore_without_reason_and_bad_date() {
    insta::assert_snapshot!(error(
        "[advisories]\nignore = [\n  { id = \"GHSA-1\" },\n  { id = \"GHSA-2\", reason = \"ok\", until = \"2026-02-30\" },\n]\n"
    ));
}

#[test]
fn bad_values() {
    insta::assert_snapshot!(error(
        "[advisories]\nfail-on = \"severe\"\n\n[packages]\nmode = \"strict\"\n\n[registry]\nallowed = [\"ftp://x\"]\n\n[scan]\nsuspicious = \"ignore\"\n\n[serve]\nlisten = \"localhost\"\n"
    ));
}

#[test]
fn wrong_type() {
    insta::assert_snapshot!(error("[provenance]\nno-downgrade = \"yes\"\n"));
}

#[test]
fn syntax_error() {
    insta::assert_snapshot!(error("[registry\nupstream = 1\n"));
}

#[test]
fn found_by_walking_up() {
    let root = tempfile::tempdir().expect("temp dir");
    std::fs::write(root.path().join("palisade.toml"), "").expect("write");
    let nested = root.path().join("packages/app");
    std::fs::create_dir_all(&nested).expect("mkdir");
    let found = palisade_policy::config::find(&nested).expect("found");
    assert!(found.ends_with("palisade.toml"));
    assert_eq!(
        found.parent().and_then(|p| p.canonicalize().ok()),
        root.path().canonicalize().ok()
    );
}

#[test]
fn the_init_template_parses_to_the_defaults() {
    let written =
        Config::parse("palisade.toml", palisade_policy::config::DEFAULT_FILE).unwrap_or_else(|error| panic!("{error}"));
    let default = Config::default();
    assert_eq!(written.advisories.fail_on, default.advisories.fail_on);
    assert_eq!(written.registry.allowed, default.registry.allowed);
    assert_eq!(written.registry.upstream, default.registry.upstream);
    assert_eq!(written.bans.mode, default.bans.mode);
    assert_eq!(written.release_age.minimum, default.release_age.minimum);
    assert_eq!(written.scan.suspicious, default.scan.suspicious);
    assert_eq!(written.provenance.no_downgrade, default.provenance.no_downgrade);
    assert_eq!(written.serve.listen, default.serve.listen);
    assert_eq!(written.serve.admin_token_env, default.serve.admin_token_env);
}

#[test]
fn serve_keys() {
    let config = Config::parse(
        "palisade.toml",
        "[serve]\nupstream-token-env = \"UPSTREAM_TOKEN\"\nrefuse-vulnerable = \"high\"\ndata-dir = \"/var/lib/p\"\npublic-url = \"https://npm.example/\"\npackument-max-age = \"90m\"\n",
    )
    .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(config.serve.upstream_token_env.as_deref(), Some("UPSTREAM_TOKEN"));
    assert_eq!(config.serve.refuse_vulnerable, Some(palisade_core::Severity::High));
    assert_eq!(
        config.serve.data_dir.as_deref(),
        Some(std::path::Path::new("/var/lib/p"))
    );
    assert_eq!(config.serve.public_url.as_deref(), Some("https://npm.example"));
    assert_eq!(config.serve.packument_max_age, time::Duration::minutes(90));
    let off =
        Config::parse("palisade.toml", "[serve]\nrefuse-vulnerable = \"off\"\n").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(off.serve.refuse_vulnerable, None);
}

#[test]
fn bad_serve_values_point_at_their_lines() {
    let message = error(
        "[serve]\nupstream-token-env = \"npm_abc123 secret!\"\nrefuse-vulnerable = \"severe\"\npublic-url = \"ftp://x\"\npackument-max-age = 5\n",
    );
    assert!(
        message.contains("palisade.toml:2:22: `upstream-token-env` is not an environment variable name"),
        "{message}"
    );
    // The value may be the token itself: never echoed.
    assert!(!message.contains("secret!"), "{message}");
    assert!(
        message.contains("palisade.toml:3:21: `refuse-vulnerable = \"severe\"` is not a severity"),
        "{message}"
    );
    assert!(
        message.contains("palisade.toml:4:14: `public-url = \"ftp://x\"` is not an http(s) URL"),
        "{message}"
    );
    assert!(
        message.contains("palisade.toml:5:21: `packument-max-age = 5` has no unit"),
        "{message}"
    );
}
