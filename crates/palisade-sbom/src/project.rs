//! The SBOM's subject: the project whose dependencies it lists.

use std::path::Path;

use palisade_core::Inventory;
use serde::Deserialize;

/// A `package.json` bigger than this is not read (it is not a real manifest).
const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;

/// The root project of an SBOM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootComponent {
    pub name: String,
    pub version: Option<String>,
    pub description: Option<String>,
}

#[derive(Deserialize)]
struct Manifest {
    name: Option<String>,
    version: Option<String>,
    description: Option<String>,
}

impl RootComponent {
    /// The project in `dir` (the directory of the lockfile): name and version
    /// from its `package.json` when there is a readable one, else the name the
    /// inventory records for the root importer, else the directory's name.
    /// Without a directory (an SBOM as input) only the inventory is asked.
    pub fn discover(dir: Option<&Path>, inventory: &Inventory) -> Self {
        let manifest = dir.and_then(|dir| read_manifest(&dir.join("package.json")));
        let lockfile_name = inventory
            .importers
            .iter()
            .find(|importer| importer.path.is_empty() || importer.path == ".")
            .and_then(|importer| importer.name.clone());
        let directory_name = dir
            .and_then(|dir| std::fs::canonicalize(dir).ok())
            .and_then(|dir| dir.file_name().map(|name| name.to_string_lossy().into_owned()));
        let name = manifest
            .as_ref()
            .and_then(|manifest| manifest.name.clone())
            .or(lockfile_name)
            .or(directory_name)
            .unwrap_or_else(|| "project".to_owned());
        RootComponent {
            name,
            version: manifest.as_ref().and_then(|manifest| manifest.version.clone()),
            description: manifest.and_then(|manifest| manifest.description),
        }
    }
}

fn read_manifest(path: &Path) -> Option<Manifest> {
    let size = std::fs::metadata(path).ok()?.len();
    if size > MAX_MANIFEST_BYTES {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}
