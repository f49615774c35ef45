//! `[install-scripts]`: which packages may run lifecycle scripts on install
//! (the allowlist idea of pnpm's `onlyBuiltDependencies` and LavaMoat's allow-scripts).

use crate::config::{RawInstallScripts, Validator};
use crate::PackageSpec;

#[derive(Debug, Clone, Default)]
pub struct Config {
    pub allow: Vec<PackageSpec>,
}

pub(crate) fn validate(raw: &RawInstallScripts, validator: &mut Validator<'_>) -> Config {
    Config {
        allow: validator.specs("install-scripts.allow", &raw.allow),
    }
}
