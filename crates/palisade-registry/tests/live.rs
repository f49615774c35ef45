//! Against the real registry (the one `.npmrc` and the environment name;
//! on the build machines, the mirror). Ignored by `cargo test`; run by
//! `scripts/test-live-registry.sh`.

use palisade_registry::{Integrity, NpmrcConfig, RegistryClient};

#[test]
#[ignore = "needs the network: run scripts/test-live-registry.sh"]
fn live_is_number() {
    let npmrc = NpmrcConfig::load(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).expect("load .npmrc");
    let cache = tempfile::tempdir().expect("temp dir");
    let client = RegistryClient::builder()
        .npmrc(npmrc.clone())
        .cache_dir(cache.path())
        .build()
        .expect("client");

    let packument = client.packument("is-number").expect("full packument");
    let abbreviated = client
        .abbreviated_packument("is-number")
        .expect("abbreviated packument");
    assert_eq!(packument.name, "is-number");
    assert_eq!(abbreviated.name, "is-number");
    let version = packument.versions.get("7.0.0").expect("7.0.0 exists");
    assert!(packument.published_at("7.0.0").is_some(), "time parses");
    let integrity = Integrity::parse(version.dist.integrity.as_deref().expect("integrity")).expect("SRI");
    let bytes = client
        .tarball(&version.dist.tarball, Some(&integrity))
        .expect("tarball verifies");
    assert!(!bytes.is_empty());
    let error = client
        .packument("palisade-no-such-package-7f3a9c")
        .expect_err("missing");
    assert!(error.is_not_found(), "{error}");

    // What was fetched is now served offline.
    let offline = RegistryClient::builder()
        .npmrc(npmrc)
        .cache_dir(cache.path())
        .offline(true)
        .build()
        .expect("client");
    assert_eq!(
        offline.packument("is-number").expect("cached packument").name,
        "is-number"
    );
    assert!(offline.tarball(&version.dist.tarball, Some(&integrity)).is_ok());
}
