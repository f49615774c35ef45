//! `.npmrc` loading: files, precedence, scoped registries, credentials by
//! nerf dart, `${VAR}` expansion. Environments are closures, so the tests
//! never read or change the process environment.

use std::collections::BTreeMap;
use std::path::Path;

use palisade_registry::npmrc::Source;
use palisade_registry::{Auth, NpmrcConfig, Secret};
use url::Url;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: BTreeMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |name: &str| map.get(name).cloned()
}

fn url(text: &str) -> Url {
    Url::parse(text).expect("test URL")
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

#[test]
fn defaults_to_the_public_registry() {
    let home = tempfile::tempdir().expect("temp dir");
    let home_path = home.path().display().to_string();
    let config = NpmrcConfig::load_with(home.path(), &env(&[("HOME", &home_path)])).expect("load");
    assert_eq!(config.registry().as_str(), "https://registry.npmjs.org/");
    assert!(config.files().is_empty());
    assert_eq!(config.auth_for(&url("https://registry.npmjs.org/x")), None);
}

#[test]
fn precedence_env_over_project_over_user() {
    let root = tempfile::tempdir().expect("temp dir");
    let home = root.path().join("home");
    let project = root.path().join("work/app");
    write(
        &home.join(".npmrc"),
        "registry=https://user.example/\n@acme:registry=https://acme-user.example/\n",
    );
    write(&project.join("package.json"), "{}");
    write(&project.join(".npmrc"), "registry=https://project.example/npm\n");
    let start = project.join("src/deep"); // walks up to the package.json
    std::fs::create_dir_all(&start).expect("mkdir");
    let home_text = home.display().to_string();

    let config = NpmrcConfig::load_with(&start, &env(&[("HOME", &home_text)])).expect("load");
    // Trailing slash added: the registry is a directory.
    assert_eq!(config.registry().as_str(), "https://project.example/npm/");
    assert_eq!(config.registry_source(), &Source::File(project.join(".npmrc")));
    // The user file still contributes what the project does not override.
    assert_eq!(config.registry_for("@acme/tool").as_str(), "https://acme-user.example/");
    assert_eq!(config.registry_for("lodash").as_str(), "https://project.example/npm/");
    assert_eq!(config.files(), [home.join(".npmrc"), project.join(".npmrc")]);

    for variable in ["NPM_CONFIG_REGISTRY", "npm_config_registry"] {
        let config = NpmrcConfig::load_with(&start, &env(&[("HOME", &home_text), (variable, "https://env.example")]))
            .expect("load");
        assert_eq!(config.registry().as_str(), "https://env.example/", "{variable}");
        assert_eq!(config.registry_source(), &Source::Environment(variable.to_owned()));
    }
}

#[test]
fn userconfig_variable_replaces_home_npmrc() {
    let root = tempfile::tempdir().expect("temp dir");
    write(&root.path().join("home/.npmrc"), "registry=https://home.example/\n");
    write(
        &root.path().join("elsewhere.npmrc"),
        "registry=https://elsewhere.example/\n",
    );
    let home = root.path().join("home").display().to_string();
    let userconfig = root.path().join("elsewhere.npmrc").display().to_string();
    let config = NpmrcConfig::load_with(
        root.path(),
        &env(&[("HOME", &home), ("NPM_CONFIG_USERCONFIG", &userconfig)]),
    )
    .expect("load");
    assert_eq!(config.registry().as_str(), "https://elsewhere.example/");
}

#[test]
fn project_npmrc_in_home_is_read_once() {
    let home = tempfile::tempdir().expect("temp dir");
    write(&home.path().join(".npmrc"), "registry=https://once.example/\n");
    let home_text = home.path().display().to_string();
    let config = NpmrcConfig::load_with(home.path(), &env(&[("HOME", &home_text)])).expect("load");
    assert_eq!(config.files().len(), 1);
}

#[test]
fn ini_syntax_and_expansion() {
    let text = "; comment\n# comment\n[section]\n  registry = \"https://${HOST}/${PATH_PART?}\"  \n\
                @scope:registry='https://scoped.example/r/'\nstrict-ssl=false\n";
    let config = NpmrcConfig::parse(text, &env(&[("HOST", "mirror.example")])).expect("parse");
    assert_eq!(config.registry().as_str(), "https://mirror.example/");
    let scoped: Vec<_> = config
        .scoped_registries()
        .map(|(scope, url)| (scope.to_owned(), url.to_string()))
        .collect();
    assert_eq!(scoped, [("@scope".to_owned(), "https://scoped.example/r/".to_owned())]);
    // An unset variable stays as written, which makes this an invalid URL:
    // the error names the setting's source, not a token.
    let error = NpmrcConfig::parse("registry=${NOPE}\n", &env(&[])).expect_err("invalid");
    assert!(error.to_string().contains("${NOPE}"), "{error}");
    assert!(NpmrcConfig::parse("registry=file:///etc/\n", &env(&[])).is_err());
}

#[test]
fn auth_by_longest_nerf_dart_prefix() {
    let text = "\
registry=https://registry.example.com/npm/
//registry.example.com/:_authToken=host-token
//registry.example.com/npm/:_authToken=${NPM_TOKEN}
//registry.example.com/npm/private:_auth=dXNlcjpwYXNz
//other.example:8443/:username=alice
//other.example:8443/:_password=czNjcmV0
//other.example:8443/:always-auth=true
";
    let config = NpmrcConfig::parse(text, &env(&[("NPM_TOKEN", "npm-token")])).expect("parse");
    let bearer = |token: &str| Some(Auth::Bearer(Secret::new(token)));

    assert_eq!(
        config.auth_for(&url("https://registry.example.com/npm/lodash")),
        bearer("npm-token")
    );
    assert_eq!(
        config.auth_for(&url("https://registry.example.com/other/lodash")),
        bearer("host-token")
    );
    assert_eq!(
        config.auth_for(&url("https://registry.example.com/npm/private/x.tgz")),
        Some(Auth::Basic(Secret::new("dXNlcjpwYXNz")))
    );
    // `/npm/privateer` is not under `/npm/private/`.
    assert_eq!(
        config.auth_for(&url("https://registry.example.com/npm/privateer")),
        bearer("npm-token")
    );
    // username + base64 _password → basic auth of "alice:s3cret".
    let basic = config
        .auth_for(&url("https://other.example:8443/pkg"))
        .expect("basic auth");
    assert_eq!(basic.header_value(), "Basic YWxpY2U6czNjcmV0");
    assert!(config.always_auth(&url("https://other.example:8443/pkg")));
    assert!(!config.always_auth(&url("https://registry.example.com/npm/")));
    // Another port, another host, another scheme's default port: nothing.
    assert_eq!(config.auth_for(&url("https://other.example/pkg")), None);
    assert_eq!(
        config.auth_for(&url("https://evil.example/registry.example.com/npm/")),
        None
    );
    assert_eq!(
        config.auth_for(&url("https://registry.example.com.evil.example/npm/")),
        None
    );
}

#[test]
fn legacy_unscoped_credentials_apply_to_the_default_registry_only() {
    let text = "registry=https://corp.example/\n_authToken=legacy\n";
    let config = NpmrcConfig::parse(text, &env(&[])).expect("parse");
    assert_eq!(
        config.auth_for(&url("https://corp.example/x")),
        Some(Auth::Bearer(Secret::new("legacy")))
    );
    assert_eq!(config.auth_for(&url("https://registry.npmjs.org/x")), None);
}

#[test]
fn debug_output_is_redacted() {
    let text = "//registry.example.com/:_authToken=npm_SUPERSECRET\n//x.example/:_password=SUPERSECRETPW\n";
    let config = NpmrcConfig::parse(text, &env(&[])).expect("parse");
    let shown = format!("{config:?}");
    assert!(!shown.contains("SUPERSECRET"), "{shown}");
    assert!(shown.contains("//registry.example.com/"), "{shown}");
    let auth = config.auth_for(&url("https://registry.example.com/")).expect("auth");
    assert!(!format!("{auth:?}").contains("SUPERSECRET"));
    assert_eq!(Secret::new("x").to_string(), "<redacted>");
}

#[test]
fn extra_certificate_authorities() {
    let root = tempfile::tempdir().expect("temp dir");
    let project = root.path().join("app");
    write(&project.join("package.json"), "{}");
    write(&project.join(".npmrc"), "cafile=certs/corp.pem\n");
    let home = root.path().join("home").display().to_string();
    let config = NpmrcConfig::load_with(
        &project,
        &env(&[("HOME", &home), ("NODE_EXTRA_CA_CERTS", "/nonexistent.pem")]),
    )
    .expect("load");
    let files: Vec<_> = config
        .ca_files()
        .iter()
        .map(|ca| (ca.path.clone(), ca.required))
        .collect();
    // Relative to the .npmrc; the env one is optional.
    assert_eq!(
        files,
        [
            (project.join("certs/corp.pem"), true),
            ("/nonexistent.pem".into(), false)
        ]
    );

    // A missing cafile is an error at build time (npm fails too); a missing
    // env-named bundle is skipped.
    let error = palisade_registry::RegistryClient::builder()
        .npmrc(config)
        .build()
        .expect_err("missing cafile");
    assert!(error.to_string().contains("corp.pem"), "{error}");
    let config = NpmrcConfig::load_with(
        root.path(),
        &env(&[("HOME", &home), ("SSL_CERT_FILE", "/nonexistent.pem")]),
    )
    .expect("load");
    assert!(palisade_registry::RegistryClient::builder()
        .npmrc(config)
        .build()
        .is_ok());
    // Garbage is refused with the file named.
    write(&root.path().join("bad.pem"), "not a certificate");
    let mut config = NpmrcConfig::default();
    config.add_ca_file(root.path().join("bad.pem"));
    let result = palisade_registry::RegistryClient::builder().npmrc(config).build();
    if let Err(error) = result {
        assert!(error.to_string().contains("bad.pem"), "{error}");
    }
}

#[test]
fn credentials_are_not_sent_in_clear_to_an_https_registry_host() {
    let text = "registry=https://registry.example.com/\n//registry.example.com/:_authToken=tok\n\
                @local:registry=http://127.0.0.1:4873/\n//127.0.0.1:4873/:_authToken=local\n";
    let config = NpmrcConfig::parse(text, &env(&[])).expect("parse");
    assert!(config
        .auth_for(&url("https://registry.example.com/x/-/x-1.0.0.tgz"))
        .is_some());
    // A packument could name an http tarball URL on the same host.
    assert_eq!(
        config.auth_for(&url("http://registry.example.com/x/-/x-1.0.0.tgz")),
        None
    );
    // A registry configured as http (a local firewall) gets its token.
    assert_eq!(
        config.auth_for(&url("http://127.0.0.1:4873/@local%2fx")),
        Some(Auth::Bearer(Secret::new("local")))
    );
}
