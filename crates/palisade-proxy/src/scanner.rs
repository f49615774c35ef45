//! The analyzer behind a trait: the server ships [`AnalyzerScanner`]
//! (palisade-tarball + palisade-analyze); tests inject verdicts.

use palisade_core::Verdict;

/// The outcome of analysing one tarball.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanOutcome {
    pub verdict: Verdict,
    pub score: f64,
    pub summary: String,
}

/// Analyses a verified tarball. An `Err` means it could not be analysed:
/// the firewall then refuses it (fail closed) and does not cache anything.
pub trait Scanner: Send + Sync {
    fn scan(
        &self,
        name: &str,
        version: &str,
        tarball: &[u8],
        manifest: Option<&serde_json::Value>,
    ) -> Result<ScanOutcome, String>;
}

/// The real analyzer.
#[derive(Debug, Default)]
pub struct AnalyzerScanner {
    pub limits: palisade_tarball::Limits,
}

impl Scanner for AnalyzerScanner {
    fn scan(
        &self,
        name: &str,
        version: &str,
        tarball: &[u8],
        manifest: Option<&serde_json::Value>,
    ) -> Result<ScanOutcome, String> {
        let origin = format!("{name}@{version}");
        let contents = palisade_tarball::read_tgz(tarball, &origin, &self.limits).map_err(|e| e.to_string())?;
        let options = palisade_analyze::ScanOptions {
            registry_manifest: manifest.cloned(),
        };
        let result = palisade_analyze::scan_package(&contents, &options);
        Ok(ScanOutcome {
            verdict: result.verdict,
            score: result.score,
            summary: result.summary,
        })
    }
}
