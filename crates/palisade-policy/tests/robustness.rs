//! palisade.toml and package.json come from the repository under check, so a
//! pull request controls them: no input may panic the parsers.

use palisade_policy::{duration, Config, Manifest, PackageSpec};
use proptest::prelude::*;

/// Fragments of real palisade.toml syntax, so generated files get past the
/// TOML parser and reach validation.
fn toml_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[registry]\n".to_string()),
        Just("[packages]\n".to_string()),
        Just("[advisories]\n".to_string()),
        Just("[release-age]\n".to_string()),
        Just("[install-scripts]\n".to_string()),
        Just("[serve]\n".to_string()),
        "[a-z-]{1,12} = \"[^\"\\\\\n]{0,12}\"\n",
        "[a-z-]{1,12} = [0-9]{1,20}\n",
        "(allow|deny|exclude|allow-git) = \\[\"[^\"\\\\\n]{0,12}\"\\]\n",
        "minimum = \"[0-9a-z]{0,8}\"\n",
        "ignore = \\[\\{ id = \"[A-Z0-9-]{0,8}\", reason = \"[a-z ]{0,8}\", until = \"[0-9-]{0,12}\" \\}\\]\n",
        "deny = \\[\\{ spec = \"[^\"\\\\\n]{0,12}\", [a-z]{1,6} = \"x\" \\}\\]\n",
        any::<String>(),
    ]
}

proptest! {
    #[test]
    fn config_parse_never_panics(text in any::<String>()) {
        let _ = Config::parse("palisade.toml", &text);
    }

    #[test]
    fn config_parse_of_near_valid_files_never_panics(parts in proptest::collection::vec(toml_fragment(), 0..12)) {
        let text: String = parts.concat();
        if let Err(error) = Config::parse("palisade.toml", &text) {
            // Every error names a place in the file.
            prop_assert!(error.to_string().contains("palisade.toml:"));
        }
    }

    #[test]
    fn specs_durations_and_manifests_never_panic(text in any::<String>()) {
        let _ = PackageSpec::parse(&text);
        let _ = duration::parse(&text);
        let _ = Manifest::parse("package.json", "", &text);
        let json = format!("{{\"dependencies\": {{\"{}\": \"{}\"}}}}", text.replace(['"', '\\'], ""), text.replace(['"', '\\'], ""));
        let _ = Manifest::parse("package.json", "", &json);
    }
}
