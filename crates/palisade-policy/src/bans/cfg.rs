//! `[packages]`: denied packages, and the allowlist mode.

use crate::config::{Location, RawPackages, Validator};
use crate::PackageSpec;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Everything passes except `deny` entries.
    #[default]
    Denylist,
    /// Only `allow` entries pass (and `deny` still wins).
    Allowlist,
}

#[derive(Debug, Clone)]
pub struct Deny {
    pub spec: PackageSpec,
    pub reason: Option<String>,
    pub location: Location,
}

#[derive(Debug, Clone, Default)]
pub struct Config {
    pub mode: Mode,
    pub allow: Vec<PackageSpec>,
    pub deny: Vec<Deny>,
}

pub(crate) fn validate(raw: &RawPackages, validator: &mut Validator<'_>) -> Config {
    let mut config = Config {
        allow: validator.specs("packages.allow", &raw.allow),
        ..Config::default()
    };
    if let Some(mode) = &raw.mode {
        match mode.get_ref().as_str() {
            "denylist" => config.mode = Mode::Denylist,
            "allowlist" => config.mode = Mode::Allowlist,
            other => validator.error(
                &mode.span(),
                format!("`mode = \"{other}\"` is not a mode"),
                Some("expected \"denylist\" or \"allowlist\""),
            ),
        }
    }
    for entry in &raw.deny {
        let span = entry.span();
        let (spec_text, reason) = match entry.get_ref() {
            toml::Value::String(spec) => (spec.clone(), None),
            toml::Value::Table(table) => {
                if let Some(unknown) = table.keys().find(|key| *key != "spec" && *key != "reason") {
                    validator.error(
                        &span,
                        format!("unknown key `{unknown}` in a `deny` entry"),
                        Some("a deny entry has `spec` and `reason`"),
                    );
                    continue;
                }
                let Some(spec) = table.get("spec").and_then(toml::Value::as_str) else {
                    validator.error(&span, "a `deny` entry without a `spec` string", None);
                    continue;
                };
                let reason = match table.get("reason") {
                    None => None,
                    Some(toml::Value::String(reason)) => Some(reason.clone()),
                    Some(_) => {
                        validator.error(&span, "`reason` of a `deny` entry must be a string", None);
                        continue;
                    }
                };
                (spec.to_string(), reason)
            }
            other => {
                validator.error(
                    &span,
                    format!(
                        "a `deny` entry must be a spec string or {{ spec, reason }}, found {}",
                        other.type_str()
                    ),
                    None,
                );
                continue;
            }
        };
        match PackageSpec::parse(&spec_text) {
            Ok(spec) => config.deny.push(Deny {
                spec,
                reason,
                location: validator.location(&span),
            }),
            Err(message) => validator.error(
                &span,
                format!("bad package spec in `packages.deny`: {message}"),
                Some("write `name`, `name@range` (npm semver), `@scope/*` or `*`"),
            ),
        }
    }
    config
}
