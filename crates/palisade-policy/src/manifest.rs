//! package.json files: the declared dependencies the pinning check compares
//! with the lockfile.

use std::path::Path;

use palisade_core::Inventory;
use serde_json::Value;

/// Largest package.json read (npm itself refuses far smaller ones in practice).
const MAX_BYTES: u64 = 8 * 1024 * 1024;

/// The dependency sections whose entries must be locked. Peer dependencies are
/// provided by someone else and are not installed for the project itself.
const SECTIONS: [&str; 3] = ["dependencies", "devDependencies", "optionalDependencies"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestDependency {
    /// The name the dependency is installed under (the alias for `npm:` specs).
    pub name: String,
    pub spec: String,
    /// `dependencies`, `devDependencies` or `optionalDependencies`.
    pub section: &'static str,
    pub line: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The file, as displayed.
    pub file: String,
    /// The importer it belongs to: its directory relative to the lockfile's (`""` for the root).
    pub importer_path: String,
    pub dependencies: Vec<ManifestDependency>,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("failed to read `{file}`")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{file}` is not valid JSON: {message}")]
    Json { file: String, message: String },
    #[error("`{file}` is larger than {MAX_BYTES} bytes")]
    TooLarge { file: String },
}

impl Manifest {
    pub fn parse(file: &str, importer_path: &str, text: &str) -> Result<Manifest, ManifestError> {
        let value: Value = serde_json::from_str(text).map_err(|error| ManifestError::Json {
            file: file.to_string(),
            message: error.to_string(),
        })?;
        let mut dependencies = Vec::new();
        for section in SECTIONS {
            let Some(map) = value.get(section).and_then(Value::as_object) else {
                continue;
            };
            let section_offset = text.find(&format!("\"{section}\""));
            for (name, spec) in map {
                // A non-string spec is something npm rejects too; show it as written.
                let spec = spec.as_str().map_or_else(|| spec.to_string(), str::to_string);
                let line = section_offset.and_then(|start| {
                    let key = serde_json::to_string(name).ok()?;
                    let offset = text.get(start..)?.find(&key)? + start;
                    Some(crate::config::line_column(text, offset).0)
                });
                dependencies.push(ManifestDependency {
                    name: name.clone(),
                    spec,
                    section,
                    line,
                });
            }
        }
        Ok(Manifest {
            file: file.to_string(),
            importer_path: importer_path.to_string(),
            dependencies,
        })
    }

    pub fn read(path: &Path, importer_path: &str) -> Result<Manifest, ManifestError> {
        let file = path.display().to_string();
        let metadata = std::fs::metadata(path).map_err(|source| ManifestError::Read {
            file: file.clone(),
            source,
        })?;
        if metadata.len() > MAX_BYTES {
            return Err(ManifestError::TooLarge { file });
        }
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            file: file.clone(),
            source,
        })?;
        Manifest::parse(&file, importer_path, &text)
    }
}

/// The package.json of the project root and of every workspace member the
/// lockfiles name (their importers), each read once. Members whose directory
/// holds no package.json are skipped; unreadable files are errors.
pub fn load_for(project_dir: &Path, inventories: &[Inventory]) -> Result<Vec<Manifest>, ManifestError> {
    let mut importer_paths: Vec<String> = vec![String::new()];
    for inventory in inventories {
        for importer in &inventory.importers {
            let path = normalize_importer_path(&importer.path);
            // Paths that leave the project (`../x`) are linked folders, not members.
            if !path.split('/').any(|part| part == "..") && !importer_paths.contains(&path) {
                importer_paths.push(path);
            }
        }
    }
    let mut manifests = Vec::new();
    for importer_path in importer_paths {
        let file = if importer_path.is_empty() {
            project_dir.join("package.json")
        } else {
            project_dir.join(&importer_path).join("package.json")
        };
        if file.is_file() {
            manifests.push(Manifest::read(&file, &importer_path)?);
        }
    }
    Ok(manifests)
}

/// `"."`, `""` and `"./"` all mean the root.
pub(crate) fn normalize_importer_path(path: &str) -> String {
    let trimmed = path.trim_start_matches("./").trim_end_matches('/');
    if trimmed == "." {
        String::new()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_dependencies() {
        let text = "{\n  \"name\": \"x\",\n  \"dependencies\": {\n    \"a\": \"^1\"\n  },\n  \"devDependencies\": {\n    \"a-b\": \"2\"\n  }\n}\n";
        let manifest = Manifest::parse("package.json", "", text).expect("valid");
        assert_eq!(manifest.dependencies[0].line, Some(4));
        assert_eq!(manifest.dependencies[1].name, "a-b");
        assert_eq!(manifest.dependencies[1].line, Some(7));
    }
}
