//! `[packages] allow-unpinned`: dependencies whose package.json spec may be
//! `*`, `latest`, a dist-tag, a URL or a git branch.

use crate::config::{RawPackages, Validator};
use crate::PackageSpec;

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Matched by name only: the spec of such a dependency is not a version.
    pub allow_unpinned: Vec<PackageSpec>,
}

pub(crate) fn validate(raw: &RawPackages, validator: &mut Validator<'_>) -> Config {
    let allow_unpinned = validator.specs("packages.allow-unpinned", &raw.allow_unpinned);
    for (spec, entry) in allow_unpinned.iter().zip(&raw.allow_unpinned) {
        if spec.range.is_some() {
            validator.error(
                &entry.span(),
                format!("`{spec}` in `allow-unpinned` has a version range, but unpinned specs have no version"),
                Some("write the package name (or `@scope/*`) only"),
            );
        }
    }
    Config { allow_unpinned }
}
