//! `palisade serve`: the registry firewall (crates/palisade-proxy).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use palisade_policy::{config, Config};
use palisade_proxy::{AnalyzerScanner, Firewall, Settings};

use crate::args::ServeArgs;
use crate::exit::{CliError, Outcome};

/// palisade.toml from `--config`, else the nearest one from the working directory, else defaults.
pub fn load_config(explicit: Option<&Path>, quiet: bool) -> Result<Config, CliError> {
    let path = match explicit {
        Some(path) => Some(path.to_path_buf()),
        None => std::env::current_dir().ok().and_then(|dir| config::find(&dir)),
    };
    match path {
        Some(path) => {
            let config = Config::load(&path).map_err(|error| {
                CliError::input(error)
                    .with_hint("see docs/serve.md for the [serve] keys and docs/check.md for the policy")
            })?;
            tracing::info!("policy from {}", path.display());
            Ok(config)
        }
        None => {
            if !quiet {
                eprintln!("note: no palisade.toml here or above; serving with the default policy (`palisade init` writes one)");
            }
            Ok(Config::default())
        }
    }
}

/// The value of an environment variable named in config, if set and non-empty.
fn secret_from_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

pub fn run(args: &ServeArgs, home: &Path) -> Result<Outcome, CliError> {
    let config = load_config(args.config.as_deref(), false)?;
    let listen = args.listen.unwrap_or(config.serve.listen);
    let data_dir: PathBuf = args
        .data_dir
        .clone()
        .or_else(|| config.serve.data_dir.clone())
        .unwrap_or_else(|| palisade_proxy::default_data_dir(home));
    let mut settings = Settings::new(config);
    if let Some(upstream) = &args.upstream {
        settings.upstream = upstream.clone();
    }
    settings.admin_token = secret_from_env(&settings.config.serve.admin_token_env);
    if let Some(name) = settings.config.serve.upstream_token_env.clone() {
        settings.upstream_token = secret_from_env(&name);
        if settings.upstream_token.is_none() {
            return Err(CliError::input(anyhow::anyhow!(
                "`[serve] upstream-token-env` names `{name}`, which is not set"
            ))
            .with_hint(format!(
                "export {name}=<token>, or remove upstream-token-env from palisade.toml"
            )));
        }
    }
    let database = palisade_advisory::Database::open(home)
        .map_err(|error| CliError::input(error).with_hint("run `palisade db sync` to rebuild the advisory database"))?;
    if database.is_baseline() {
        eprintln!(
            "note: no advisory database in {}; using the embedded baseline (`palisade db sync` for the full one)",
            home.display()
        );
    }
    let (store, blobs) = palisade_proxy::open_storage(&data_dir)
        .with_context(|| format!("failed to open the firewall's data in `{}`", data_dir.display()))
        .map_err(CliError::internal)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")
        .map_err(CliError::internal)?;
    runtime.block_on(async move {
        let admin = if settings.admin_token.is_some() {
            format!("on ({}/-/palisade/admin)", listen)
        } else {
            format!("off (set ${} to enable it)", settings.config.serve.admin_token_env)
        };
        let upstream = palisade_registry::error::redact_url_str(&settings.upstream);
        let firewall = Firewall::new(settings, store, blobs, Arc::new(AnalyzerScanner::default()), database)
            .map_err(CliError::input)?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("failed to listen on {listen}"))
            .map_err(CliError::input)?;
        eprintln!(
            "palisade serve: listening on http://{listen}/ (upstream {upstream}, data {}, admin API {admin})",
            data_dir.display()
        );
        eprintln!("  npm config set registry http://{listen}/");
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("palisade serve: shutting down");
        };
        palisade_proxy::serve(listener, firewall, shutdown)
            .await
            .map_err(CliError::internal)
    })?;
    Ok(Outcome::Clean)
}
