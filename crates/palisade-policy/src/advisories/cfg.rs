//! `[advisories]`: `fail-on` and expiring `ignore` entries.

use palisade_core::Severity;
use time::macros::format_description;
use time::Date;

use crate::config::{Location, RawAdvisories, Validator};

#[derive(Debug, Clone)]
pub struct Ignore {
    /// An advisory id or alias (GHSA-…, CVE-…, MAL-…).
    pub id: String,
    /// Why it is acceptable; mandatory, so the decision is reviewable.
    pub reason: String,
    /// Last day the ignore applies (inclusive, UTC); none means until removed.
    pub until: Option<Date>,
    pub location: Location,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Vulnerabilities at or above this severity fail; malicious always fails.
    pub fail_on: Severity,
    pub ignore: Vec<Ignore>,
}

impl Default for Config {
    fn default() -> Self {
        // Safe default: any known vulnerability fails until the project decides otherwise.
        Config {
            fail_on: Severity::Low,
            ignore: Vec::new(),
        }
    }
}

pub(crate) fn validate(raw: &RawAdvisories, validator: &mut Validator<'_>) -> Config {
    let mut config = Config::default();
    if let Some(fail_on) = &raw.fail_on {
        match fail_on.get_ref().parse::<Severity>() {
            Ok(severity) if severity != Severity::Unknown => config.fail_on = severity,
            _ => validator.error(
                &fail_on.span(),
                format!("`fail-on = \"{}\"` is not a severity", fail_on.get_ref()),
                Some("expected \"low\", \"moderate\", \"high\" or \"critical\""),
            ),
        }
    }
    for entry in &raw.ignore {
        let ignore = entry.get_ref();
        let id = ignore.id.get_ref().trim();
        if id.is_empty() {
            validator.error(&ignore.id.span(), "an ignore with an empty `id`", None);
            continue;
        }
        let reason = match &ignore.reason {
            Some(reason) if !reason.get_ref().trim().is_empty() => reason.get_ref().trim().to_string(),
            Some(reason) => {
                validator.error(
                    &reason.span(),
                    format!("the ignore of `{id}` has an empty `reason`"),
                    None,
                );
                continue;
            }
            None => {
                validator.error(
                    &entry.span(),
                    format!("the ignore of `{id}` has no `reason`"),
                    Some("say why the advisory does not apply, e.g. reason = \"not reachable: server-side only\""),
                );
                continue;
            }
        };
        let until = match &ignore.until {
            None => None,
            Some(value) => match parse_date(value.get_ref()) {
                Ok(date) => Some(date),
                Err(message) => {
                    validator.error(
                        &value.span(),
                        format!("`until` of the ignore of `{id}`: {message}"),
                        Some("write a date as YYYY-MM-DD, e.g. until = \"2026-12-31\""),
                    );
                    continue;
                }
            },
        };
        config.ignore.push(Ignore {
            id: id.to_string(),
            reason,
            until,
            location: validator.location(&entry.span()),
        });
    }
    config
}

/// A TOML local date, or a string holding `YYYY-MM-DD`.
fn parse_date(value: &toml::Value) -> Result<Date, String> {
    let text = match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Datetime(datetime) if datetime.time.is_none() && datetime.offset.is_none() => datetime.to_string(),
        toml::Value::Datetime(datetime) => return Err(format!("`{datetime}` is not a plain date")),
        other => return Err(format!("expected a date, found {}", other.type_str())),
    };
    Date::parse(text.trim(), format_description!("[year]-[month]-[day]"))
        .map_err(|_| format!("`{text}` is not a valid date"))
}
