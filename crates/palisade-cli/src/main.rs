//! The `palisade` binary: parses arguments, runs a command from the library
//! crates, renders the result. All logic lives in the libraries.

mod args;
mod commands;
mod exit;
mod home;
mod input;
mod render;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command, DbCommand};
use crate::exit::{CliError, Outcome};

// The analyzer allocates many small facts per file; mimalloc makes that measurably cheaper than
// glibc malloc (docs/scan.md, "Throughput").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { exit::USAGE } else { exit::CLEAN });
        }
    };
    init_logging(cli.verbose);
    match run(cli) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(error) => {
            error.report();
            ExitCode::from(error.code)
        }
    }
}

fn run(cli: Cli) -> Result<Outcome, CliError> {
    // Only commands that use the database need a home directory.
    let home = || home::resolve(cli.home.as_deref());
    match &cli.command {
        Command::Deps(args) => commands::deps::run(args),
        Command::Audit(args) => commands::audit::run(args, &home()?),
        Command::Check(args) => commands::check::run(args, &home()?),
        Command::Verify(args) => commands::verify::run(args, &home()?),
        Command::Hunt(args) => commands::hunt::run(args, &home()?),
        Command::Sandbox(args) => commands::sandbox::run(args, &home),
        Command::Init(args) => commands::init::run(args),
        Command::Serve(args) => commands::serve::run(args, &home()?),
        Command::Admin(args) => commands::admin::run(args),
        Command::Sbom(args) => commands::sbom::run(args),
        Command::Scan(args) => commands::scan::run(args, cli.home.as_deref()),
        Command::Diff(args) => commands::diff::run(args, cli.home.as_deref()),
        Command::Explain(args) => commands::explain::run(args),
        Command::Db { command } => match command {
            DbCommand::Import(args) => commands::db::import(args, &home()?),
            DbCommand::Sync(args) => commands::db::sync(args, &home()?),
            DbCommand::Status(args) => commands::db::status(args, &home()?),
        },
    }
}

/// Logs go to stderr; the level comes from `-v` or `PALISADE_LOG`.
fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("PALISADE_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .without_time()
        .try_init();
}
