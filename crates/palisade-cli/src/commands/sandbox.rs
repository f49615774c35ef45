//! `palisade sandbox`: install a package in the behavioural sandbox and report what it did.
//! All the work is palisade-sandbox's; this file resolves the target and renders.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use palisade_sandbox::{EventKind, Limits, Options, SandboxError, SandboxReport, Target};

use crate::args::{ReportFormat, SandboxArgs};
use crate::exit::{CliError, Outcome};
use crate::render::{sarif, stdout, Table};

pub fn run(args: &SandboxArgs, home: &dyn Fn() -> Result<std::path::PathBuf, CliError>) -> Result<Outcome, CliError> {
    palisade_sandbox::check_support().map_err(sandbox_error)?;
    let target = resolve_target(args, home)?;
    let options = Options {
        node: args.node.clone(),
        limits: Limits {
            wall_time: Duration::from_secs(args.timeout.max(1)),
            cpu_seconds: args.cpu.max(1),
            memory_bytes: args.memory.max(256) << 20,
            max_processes: args.max_processes.max(4),
            ..Limits::default()
        },
        run_scripts: !args.no_scripts,
        load_entry: !args.no_load,
        ..Options::default()
    };
    let report = palisade_sandbox::run(&target, &options).map_err(sandbox_error)?;
    let mut out = stdout();
    let written = match args.format {
        ReportFormat::Json => serde_json::to_writer_pretty(&mut out, &report)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
        ReportFormat::Sarif => serde_json::to_writer_pretty(&mut out, &to_sarif(&report))
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
        ReportFormat::Table => render_table(&mut out, &report, args.show_output),
    };
    written
        .and_then(|()| out.flush())
        .map_err(|error| CliError::internal(anyhow::anyhow!("failed to write the report: {error}")))?;
    if report.findings.iter().any(|finding| finding.severity >= args.fail_on) {
        Ok(Outcome::Findings)
    } else {
        Ok(Outcome::Clean)
    }
}

fn sandbox_error(error: SandboxError) -> CliError {
    let hint = error.hint().map(str::to_string);
    let mut cli = if error.is_input_error() {
        CliError::input(anyhow::Error::new(error))
    } else {
        CliError::internal(anyhow::Error::new(error))
    };
    if let Some(hint) = hint {
        cli = cli.with_hint(hint);
    }
    cli
}

/// A directory, a `.tgz`, or `name[@version|@tag|@range]` from the registry.
fn resolve_target(
    args: &SandboxArgs,
    home: &dyn Fn() -> Result<std::path::PathBuf, CliError>,
) -> Result<Target, CliError> {
    let path = Path::new(&args.target);
    if path.is_dir() {
        return Ok(Target::Directory(path.to_path_buf()));
    }
    if path.is_file() {
        return Ok(Target::Tarball(path.to_path_buf()));
    }
    if args.target.ends_with(".tgz")
        || args.target.ends_with(".tar.gz")
        || args.target.contains('/') && !args.target.starts_with('@')
    {
        return Err(CliError::input(anyhow::anyhow!("`{}` does not exist", args.target)));
    }
    // `@scope/name@1.2.3`: the version separator is an `@` after the first character.
    let separator = args
        .target
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '@')
        .map(|(at, _)| at);
    let (name, wanted) = match separator {
        Some(at) => (&args.target[..at], &args.target[at + 1..]),
        None => (args.target.as_str(), "latest"),
    };
    if name.is_empty() || wanted.is_empty() {
        return Err(CliError::input(anyhow::anyhow!(
            "`{}` is not a directory, a .tgz or name@version",
            args.target
        )));
    }
    let home = home()?;
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let client = palisade_registry::client_for_project(&cwd, &home, args.registry.as_deref())
        .map_err(|error| CliError::input(anyhow::anyhow!("registry client: {error}")))?;
    let packument = client
        .packument(name)
        .map_err(|error| CliError::input(anyhow::anyhow!("failed to fetch `{name}` from the registry: {error}")))?;
    let manifest = packument
        .version_or_tag(wanted)
        .or_else(|| {
            let range = nodejs_semver::Range::parse(wanted).ok()?;
            packument
                .versions
                .iter()
                .filter_map(|(version, manifest)| Some((nodejs_semver::Version::parse(version).ok()?, manifest)))
                .filter(|(version, _)| range.satisfies(version))
                .max_by(|a, b| a.0.cmp(&b.0))
                .map(|(_, manifest)| manifest)
        })
        .ok_or_else(|| CliError::input(anyhow::anyhow!("`{name}` has no version matching `{wanted}`")))?;
    let integrity = manifest
        .dist
        .integrity
        .as_deref()
        .and_then(|value| palisade_registry::Integrity::parse(value).ok());
    let bytes = client
        .tarball(&manifest.dist.tarball, integrity.as_ref())
        .map_err(|error| CliError::input(anyhow::anyhow!("failed to download {}: {error}", manifest.dist.tarball)))?;
    let origin = format!("{name}@{}", manifest.version);
    let contents = palisade_tarball::read_tgz(&bytes, &origin, &palisade_tarball::Limits::default())
        .map_err(|error| CliError::input(anyhow::anyhow!("failed to read {origin}: {error}")))?;
    Ok(Target::Contents(contents))
}

fn kind_name(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Exec => "exec",
        EventKind::FileRead => "file_read",
        EventKind::FileWrite => "file_write",
        EventKind::Dns => "dns",
        EventKind::Connect => "connect",
        EventKind::Honeytoken => "honeytoken",
        EventKind::Limit => "limit",
    }
}

fn render_table(out: &mut impl Write, report: &SandboxReport, show_output: bool) -> std::io::Result<()> {
    writeln!(
        out,
        "{}: {} ({} ms, {} events)",
        report.package,
        report.verdict.as_str().to_uppercase(),
        report.duration_ms,
        report.events.len()
    )?;
    let summary = &report.summary;
    writeln!(
        out,
        "{} processes, {} files read, {} written, {} DNS queries, {} connections, {} honeytokens touched, {} limits hit\n",
        summary.processes,
        summary.files_read,
        summary.files_written,
        summary.dns_queries,
        summary.connections,
        summary.honeytokens,
        summary.limits_hit
    )?;
    let mut steps = Table::new(["STEP", "OUTCOME", "MS", "COMMAND"]);
    for stage in &report.stages {
        let exit = stage.outcome.clone();
        steps.row([
            stage.name.clone(),
            exit,
            stage.duration_ms.to_string(),
            palisade_core::bounded_excerpt(&stage.command, 80),
        ]);
    }
    steps.write(out)?;
    writeln!(out)?;
    let mut timeline = Table::new(["TIME", "PID", "KIND", "STEP", "DETAIL"]);
    for event in &report.events {
        timeline.row([
            format!("{} ms", event.time_ms),
            event.pid.to_string(),
            kind_name(event.kind).to_string(),
            event.stage.clone().unwrap_or_default(),
            palisade_core::bounded_excerpt(&event.detail, 120),
        ]);
    }
    timeline.write(out)?;
    if report.events_dropped > 0 {
        writeln!(out, "({} more events not kept)", report.events_dropped)?;
    }
    writeln!(out)?;
    if report.findings.is_empty() {
        writeln!(out, "no findings")?;
    } else {
        let mut findings = Table::new(["SEVERITY", "RULE", "FINDING"]);
        for finding in &report.findings {
            let mut text = finding.message.clone();
            if let Some(evidence) = &finding.evidence {
                text.push_str(": ");
                text.push_str(evidence);
            }
            findings.row([finding.severity.to_string(), finding.rule.clone(), text]);
        }
        findings.write(out)?;
    }
    if !report.dropped_files.is_empty() {
        writeln!(out)?;
        let mut files = Table::new(["FILE LEFT BEHIND", "SIZE", "MODE", "SHA256"]);
        for file in &report.dropped_files {
            files.row([
                file.path.clone(),
                file.size.to_string(),
                file.mode.clone(),
                file.sha256.clone(),
            ]);
        }
        files.write(out)?;
    }
    if show_output && !report.output.is_empty() {
        writeln!(out, "\noutput of the steps:\n{}", report.output.trim_end())?;
    }
    Ok(())
}

fn to_sarif(report: &SandboxReport) -> serde_json::Value {
    let descriptions: BTreeMap<&str, &str> = palisade_sandbox::rule_ids().iter().copied().collect();
    let mut rules: BTreeMap<&str, sarif::Rule> = BTreeMap::new();
    let mut results = Vec::new();
    for finding in &report.findings {
        let description = descriptions
            .get(finding.rule.as_str())
            .copied()
            .unwrap_or(finding.message.as_str());
        rules.entry(&finding.rule).or_insert_with(|| sarif::Rule {
            id: finding.rule.clone(),
            short_description: description.to_string(),
            full_description: format!("{description} (observed in the palisade sandbox)"),
            help_uri: None,
            severity: finding.severity,
        });
        let evidence = finding
            .evidence
            .as_deref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        results.push(sarif::Finding {
            rule_id: finding.rule.clone(),
            severity: finding.severity,
            message: format!("{}: {}{evidence}", report.package, finding.message),
            uri: "package.json".into(),
            line: None,
            fingerprint: format!("{}:{}", finding.rule, report.package),
        });
    }
    let rules: Vec<sarif::Rule> = rules.into_values().collect();
    sarif::document(&rules, &results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::{Confidence, Finding, PackageId, Severity, Verdict};

    #[test]
    fn table_lists_steps_events_and_findings() {
        let report = SandboxReport {
            package: PackageId::new("demo", "1.0.0"),
            events: vec![palisade_sandbox::Event {
                kind: EventKind::Exec,
                time_ms: 12,
                pid: 3,
                detail: "curl http://x".into(),
                stage: Some("postinstall".into()),
                parent: Some("sh".into()),
                ppid: Some(2),
            }],
            findings: vec![Finding::new(
                "sandbox-suspicious-exec",
                Severity::Moderate,
                Confidence::Medium,
                "ran curl",
            )],
            verdict: Verdict::Suspicious,
            stages: Vec::new(),
            network: Vec::new(),
            output: String::new(),
            duration_ms: 100,
            events_dropped: 0,
            summary: Default::default(),
            dropped_files: Vec::new(),
        };
        let mut out = Vec::new();
        render_table(&mut out, &report, false).expect("writing to a Vec cannot fail");
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("demo@1.0.0: SUSPICIOUS"), "{text}");
        assert!(text.contains("12 ms  3    exec  postinstall  curl http://x"), "{text}");
        assert!(text.contains("moderate  sandbox-suspicious-exec  ran curl"), "{text}");
        let sarif = to_sarif(&report);
        assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "sandbox-suspicious-exec");
    }
}
