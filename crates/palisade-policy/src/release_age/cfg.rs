//! `[release-age]`: a cooldown before new versions are accepted. Most
//! malicious versions are found and unpublished within days; waiting them
//! out is cheap protection.

use time::Duration;

use crate::config::{RawReleaseAge, Validator};
use crate::duration::{self, UNIT_HELP};
use crate::PackageSpec;

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `None`: no cooldown configured (the check does nothing).
    pub minimum: Option<Duration>,
    pub exclude: Vec<PackageSpec>,
}

pub(crate) fn validate(raw: &RawReleaseAge, validator: &mut Validator<'_>) -> Config {
    let mut config = Config {
        minimum: None,
        exclude: validator.specs("release-age.exclude", &raw.exclude),
    };
    if let Some(minimum) = &raw.minimum {
        match minimum.get_ref() {
            toml::Value::String(text) => match duration::parse(text) {
                Ok(duration) => config.minimum = Some(duration),
                Err(message) => validator.error(&minimum.span(), format!("`minimum`: {message}"), None),
            },
            toml::Value::Integer(number) => validator.error(
                &minimum.span(),
                format!("`minimum = {number}` has no unit: {UNIT_HELP}"),
                Some(&format!("write minimum = \"{number}h\" for {number} hours")),
            ),
            other => validator.error(
                &minimum.span(),
                format!(
                    "`minimum` must be a duration string, found {}: {UNIT_HELP}",
                    other.type_str()
                ),
                None,
            ),
        }
    }
    config
}
