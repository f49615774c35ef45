//! An `.npmrc` through palisade-registry's `NpmrcConfig::parse` (ini lines,
//! `${VAR}` expansion, nerf-darted credentials, scoped registries), then the
//! lookups the client makes: no input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_registry::NpmrcConfig;

fn environment(name: &str) -> Option<String> {
    match name {
        "HOME" => Some("/home/fuzz".into()),
        "NPM_TOKEN" => Some("secret-token".into()),
        "REGISTRY" => Some("https://npm.example.test/".into()),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(config) = NpmrcConfig::parse(text, &environment) else {
        return;
    };
    let registry = config.registry().clone();
    let _ = config.auth_for(&registry);
    let _ = config.always_auth(&registry);
    for name in ["left-pad", "@scope/pkg", "@", "@/"] {
        let url = config.registry_for(name).clone();
        let _ = config.auth_for(&url);
    }
    let _ = config.scoped_registries().count();
    let _ = config.proxy_for_scheme("https");
    let _ = config.noproxy();
});
