//! Where to sweep when no root is given: the home directory (projects, nvm,
//! npm/yarn/pnpm/bun caches and global installs under it, persistence and
//! credential files) and the global package locations outside it, found
//! without running npm (which would execute the machine's possibly
//! compromised tooling).

use std::path::{Path, PathBuf};

/// The default roots that exist, with none inside another.
pub fn default_roots() -> Vec<PathBuf> {
    let home = dirs::home_dir();
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(home) = &home {
        candidates.push(home.clone());
    }
    for fixed in [
        "/usr/lib/node_modules",
        "/usr/local/lib/node_modules",
        "/opt/homebrew/lib/node_modules",
        "/usr/local/share/.cache/yarn",
        "/etc/cron.d",
        "/etc/crontab",
        "/var/spool/cron",
        "/etc/systemd/system",
        "/Library/LaunchAgents",
        "/Library/LaunchDaemons",
    ] {
        candidates.push(PathBuf::from(fixed));
    }
    // npm's global prefix: npm_config_prefix, then `prefix=` in the user and
    // global npmrc, then the prefix of the `node` on PATH (`<prefix>/bin/node`).
    let mut prefixes: Vec<PathBuf> = Vec::new();
    for variable in ["npm_config_prefix", "NPM_CONFIG_PREFIX", "PREFIX"] {
        if let Some(value) = std::env::var_os(variable) {
            prefixes.push(PathBuf::from(value));
        }
    }
    let npmrcs = [
        home.as_ref().map(|h| h.join(".npmrc")),
        Some(PathBuf::from("/etc/npmrc")),
    ];
    for npmrc in npmrcs.into_iter().flatten() {
        if let Some(prefix) = npmrc_prefix(&npmrc, home.as_deref()) {
            prefixes.push(prefix);
        }
    }
    if let Some(node_prefix) = node_on_path().and_then(|node| node.parent()?.parent().map(Path::to_path_buf)) {
        prefixes.push(node_prefix);
    }
    for prefix in prefixes {
        candidates.push(prefix.join("lib/node_modules"));
    }
    for variable in [
        "PNPM_HOME",
        "BUN_INSTALL",
        "npm_config_cache",
        "YARN_CACHE_FOLDER",
        "VOLTA_HOME",
    ] {
        if let Some(value) = std::env::var_os(variable) {
            candidates.push(PathBuf::from(value));
        }
    }
    if let Some(data) = dirs::data_local_dir() {
        candidates.push(data.join("pnpm"));
    }
    if let Some(cache) = dirs::cache_dir() {
        candidates.push(cache.join("yarn"));
        candidates.push(cache.join("pnpm"));
    }
    minimal_roots(candidates)
}

/// Existing paths, canonical, deduplicated, without those inside another.
fn minimal_roots(candidates: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut existing: Vec<PathBuf> = candidates
        .into_iter()
        .filter_map(|path| std::fs::canonicalize(path).ok())
        .collect();
    existing.sort();
    existing.dedup();
    let mut roots: Vec<PathBuf> = Vec::new();
    for path in existing {
        if !roots.iter().any(|root| path.starts_with(root)) {
            roots.push(path);
        }
    }
    roots
}

fn npmrc_prefix(path: &Path, home: Option<&Path>) -> Option<PathBuf> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        if key.trim() != "prefix" {
            return None;
        }
        let value = value.trim().trim_matches('"');
        match (value.strip_prefix("~/"), home) {
            (Some(rest), Some(home)) => Some(home.join(rest)),
            _ => Some(PathBuf::from(value.replace("${HOME}", &home?.display().to_string()))),
        }
    })
}

fn node_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("node"))
        .find(|candidate| candidate.is_file())
        .and_then(|node| std::fs::canonicalize(node).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_roots_collapse() {
        let dir = tempfile::tempdir().expect("tempdir");
        let inner = dir.path().join("a/b");
        std::fs::create_dir_all(&inner).expect("mkdir");
        let roots = minimal_roots(vec![inner, dir.path().to_path_buf(), dir.path().join("missing")]);
        assert_eq!(roots, vec![std::fs::canonicalize(dir.path()).expect("canonical")]);
    }

    #[test]
    fn npmrc_prefix_with_home() {
        let dir = tempfile::tempdir().expect("tempdir");
        let npmrc = dir.path().join(".npmrc");
        std::fs::write(&npmrc, "registry=https://r/\nprefix=~/.npm-global\n").expect("write");
        assert_eq!(
            npmrc_prefix(&npmrc, Some(Path::new("/home/u"))),
            Some(PathBuf::from("/home/u/.npm-global"))
        );
    }
}
