//! `palisade admin`: talks to a running firewall's admin API.

use std::io::Write as _;

use palisade_proxy::admin::DecisionRequest;
use palisade_proxy::client::{AdminClient, ClientError};

use crate::args::{AdminArgs, AdminCommand, AdminDecisionArgs, AdminFormat};
use crate::exit::{CliError, Outcome};

fn client_error(error: ClientError) -> CliError {
    match &error {
        ClientError::Status { status: 401, .. } => {
            CliError::input(error).with_hint("the token does not match the firewall's admin token")
        }
        ClientError::Status { status: 400..=499, .. } => CliError::input(error),
        ClientError::Unreachable { .. } => {
            CliError::input(error).with_hint("is `palisade serve` running there? pass --url")
        }
        _ => CliError::internal(error),
    }
}

/// `name@version`, the version after the last `@` that is not the first character.
fn split_spec(spec: &str) -> Option<(&str, &str)> {
    let at = spec.get(1..)?.rfind('@')? + 1;
    let (name, version) = (&spec[..at], &spec[at + 1..]);
    (!name.is_empty() && !version.is_empty()).then_some((name, version))
}

fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(CliError::internal)?;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
    Ok(())
}

pub fn run(args: &AdminArgs) -> Result<Outcome, CliError> {
    let config = super::serve::load_config(args.config.as_deref(), true)?;
    let url = args
        .url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.serve.listen));
    let token_env = args
        .token_env
        .clone()
        .unwrap_or_else(|| config.serve.admin_token_env.clone());
    let token = std::env::var(&token_env)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            CliError::input(anyhow::anyhow!("no admin token: ${token_env} is not set"))
                .with_hint(format!("export {token_env}=<the token the firewall was started with>"))
        })?;
    let client = AdminClient::new(&url, &token).map_err(client_error)?;
    let json = args.format == AdminFormat::Json;
    let mut out = std::io::stdout().lock();
    match &args.command {
        AdminCommand::List => {
            let list = client.list().map_err(client_error)?;
            if json {
                return print_json(&list).map(|_| Outcome::Clean);
            }
            if list.decisions.is_empty() && list.refused_verdicts.is_empty() {
                let _ = writeln!(out, "nothing quarantined, approved, denied or refused by the analyzer");
            }
            for d in &list.decisions {
                let _ = writeln!(
                    out,
                    "{:<12} {}@{}  {}  ({} at {})",
                    d.state, d.package, d.version, d.reason, d.actor, d.at
                );
            }
            for v in &list.refused_verdicts {
                let _ = writeln!(
                    out,
                    "{:<12} {}@{}  score {:.2}: {}",
                    v.verdict, v.package, v.version, v.score, v.summary
                );
            }
        }
        AdminCommand::Approve(decision) | AdminCommand::Deny(decision) => {
            let approve = matches!(args.command, AdminCommand::Approve(_));
            let recorded = decide(&client, decision, approve)?;
            if json {
                return print_json(&recorded).map(|_| Outcome::Clean);
            }
            let _ = writeln!(
                out,
                "{} {}@{} ({})",
                recorded.state, recorded.package, recorded.version, recorded.reason
            );
        }
        AdminCommand::Log(log) => {
            let entries = client.log(log.limit, log.package.as_deref()).map_err(client_error)?;
            if json {
                return print_json(&entries).map(|_| Outcome::Clean);
            }
            for e in &entries {
                let package = if e.version.is_empty() {
                    e.package.clone()
                } else {
                    format!("{}@{}", e.package, e.version)
                };
                let _ = writeln!(
                    out,
                    "{:>6} {} {:<10} {:<28} {:<16} {}",
                    e.id, e.at, e.action, package, e.actor, e.detail
                );
            }
        }
        AdminCommand::Stats => {
            let stats = client.stats().map_err(client_error)?;
            if json {
                return print_json(&stats).map(|_| Outcome::Clean);
            }
            let value = serde_json::to_value(&stats).map_err(CliError::internal)?;
            print_flat(&mut out, "", &value);
        }
        AdminCommand::HeldBack(limit) => {
            let held = client.held_back(limit.limit).map_err(client_error)?;
            if json {
                return print_json(&held).map(|_| Outcome::Clean);
            }
            for h in &held {
                let _ = writeln!(
                    out,
                    "{}@{}  {}: {}  (last seen {})",
                    h.package, h.version, h.rule, h.reason, h.last_seen
                );
            }
        }
    }
    Ok(Outcome::Clean)
}

fn decide(
    client: &AdminClient,
    args: &AdminDecisionArgs,
    approve: bool,
) -> Result<palisade_proxy::admin::DecisionView, CliError> {
    let (package, version) = split_spec(&args.package).ok_or_else(|| {
        CliError::input(anyhow::anyhow!("`{}` is not name@version", args.package))
            .with_hint("e.g. left-pad@1.3.0 or @scope/name@2.0.0")
    })?;
    let request = DecisionRequest {
        package: package.to_string(),
        version: version.to_string(),
        reason: args.reason.clone(),
        by: args.by.clone().or_else(|| std::env::var("USER").ok()),
    };
    client.decide(approve, &request).map_err(client_error)
}

fn print_flat(out: &mut impl std::io::Write, prefix: &str, value: &serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                let name = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                print_flat(out, &name, value);
            }
        }
        other => {
            let _ = writeln!(out, "{prefix:<28} {other}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_spec;

    #[test]
    fn specs() {
        assert_eq!(split_spec("left-pad@1.3.0"), Some(("left-pad", "1.3.0")));
        assert_eq!(split_spec("@scope/name@2.0.0"), Some(("@scope/name", "2.0.0")));
        assert_eq!(split_spec("@scope/name"), None);
        assert_eq!(split_spec("left-pad"), None);
        assert_eq!(split_spec("left-pad@"), None);
    }
}
