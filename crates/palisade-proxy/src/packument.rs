//! Packuments parsed once, filtered per request without copying them.
//!
//! The upstream document (the full packument: the abbreviated one has no
//! `time`, which the cooldown needs) is kept as one [`Bytes`] buffer.
//! [`Packument::parse`] reads it once, borrowing every value as a
//! [`RawValue`] slice, and records for each version where its JSON lies in
//! the buffer, where its `dist.tarball` string lies inside that, and the few
//! facts policy needs (publish time, integrity, lifecycle scripts). The
//! abbreviated form of each version (the fields of
//! <https://github.com/npm/registry/blob/main/docs/responses/package-metadata.md>)
//! is assembled at the same time. [`Packument::render`] then writes the kept
//! versions' slices one after the other, splicing in the firewall's tarball
//! URL: no second parse, no `serde_json::Value` tree, one output buffer.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::ops::Range;

use bytes::Bytes;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;

/// Which document a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    /// `Accept: application/json` (or anything else).
    Full,
    /// `Accept: application/vnd.npm.install-v1+json`.
    Abbreviated,
}

/// Version fields kept in the abbreviated form (npm's list, plus the platform
/// fields installers read).
const ABBREVIATED_FIELDS: &[&str] = &[
    "name",
    "version",
    "deprecated",
    "dependencies",
    "optionalDependencies",
    "devDependencies",
    "bundleDependencies",
    "bundledDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "bin",
    "directories",
    "dist",
    "engines",
    "_hasShrinkwrap",
    "hasInstallScript",
    "cpu",
    "os",
    "libc",
    "funding",
    "license",
];

/// npm's lifecycle scripts that run on install.
pub const INSTALL_SCRIPTS: &[&str] = &["preinstall", "install", "postinstall"];

#[derive(Debug, thiserror::Error)]
pub enum PackumentError {
    #[error("the packument is not a JSON object: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the packument has no `versions` object")]
    NoVersions,
}

/// Where a version's JSON is: a slice of the upstream buffer, or (rarely,
/// when its tarball URL is written with escapes) a re-serialized copy.
#[derive(Debug, Clone)]
enum Segment {
    Borrowed(Range<usize>),
    Owned(Bytes),
}

/// One version, as policy and rendering need it.
#[derive(Debug, Clone)]
pub struct VersionEntry {
    pub version: String,
    pub semver: Option<nodejs_semver::Version>,
    /// The tarball file name (`name-1.0.0.tgz`), checked to be a safe path segment.
    pub tarball_file: Option<String>,
    /// The tarball URL upstream gave.
    pub upstream_tarball: String,
    /// `dist.integrity`, or `sha1-…` built from `dist.shasum` for old versions.
    pub integrity: Option<String>,
    pub published: Option<OffsetDateTime>,
    /// Lifecycle scripts that run on install (`hasInstallScript` counts as `install`).
    pub install_scripts: Vec<String>,
    full: Segment,
    /// The `dist.tarball` string (with quotes) inside `full`.
    full_url: Range<usize>,
    abbreviated: Bytes,
    abbreviated_url: Range<usize>,
}

/// A parsed packument.
#[derive(Debug, Clone)]
pub struct Packument {
    pub name: String,
    body: Bytes,
    /// Top-level fields other than `versions`, `dist-tags` and `time`, in order.
    top: Vec<(String, Range<usize>)>,
    pub versions: Vec<VersionEntry>,
    pub dist_tags: Vec<(String, String)>,
    /// `time` entries that are not versions (`created`, `modified`).
    time_other: Vec<(String, String)>,
    /// `time` entries of versions, kept as written.
    time_versions: BTreeMap<String, String>,
    pub modified: Option<String>,
}

/// A string that borrows from the input when it has no escapes.
struct Str<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(StrVisitor)
    }
}

/// The entries of a JSON object, values left unparsed.
struct Entries<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some((key, value)) = map.next_entry::<Str<'de>, &'de RawValue>()? {
                    entries.push((key.0, value));
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

fn entries(raw: &str) -> Result<Vec<(Cow<'_, str>, &RawValue)>, serde_json::Error> {
    Ok(serde_json::from_str::<Entries<'_>>(raw)?.0)
}

/// Byte offset of `inner` in `outer`; `inner` is a sub-slice (serde_json's
/// borrowed `RawValue`s are).
fn offset_in(outer: &str, inner: &str) -> usize {
    (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize)
}

fn string_value(raw: &RawValue) -> Option<String> {
    serde_json::from_str::<String>(raw.get()).ok()
}

/// A tarball file name is used as a URL path segment and a lookup key: only
/// the characters of npm names and SemVer versions.
fn safe_file_name(file: &str) -> bool {
    !file.is_empty()
        && file.len() <= 300
        && file != "."
        && file != ".."
        && file
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-._~+".contains(&byte))
}

impl Packument {
    /// Parse an upstream full packument. Versions that cannot be read are
    /// left out (never served), not fatal.
    pub fn parse(body: Bytes) -> Result<Packument, PackumentError> {
        let text = std::str::from_utf8(&body)
            .map_err(|_| PackumentError::Json(serde::de::Error::custom("the packument is not UTF-8")))?;
        let top_entries = entries(text)?;
        let mut name = String::new();
        let mut top = Vec::new();
        let mut versions_raw = None;
        let mut tags_raw = None;
        let mut time_raw = None;
        let mut modified = None;
        for (key, value) in &top_entries {
            match key.as_ref() {
                "versions" => versions_raw = Some(*value),
                "dist-tags" => tags_raw = Some(*value),
                "time" => time_raw = Some(*value),
                // Never relayed: attachments are a publishing artefact.
                "_attachments" => {}
                other => {
                    if other == "name" {
                        name = string_value(value).unwrap_or_default();
                    }
                    if other == "modified" {
                        modified = string_value(value);
                    }
                    let start = offset_in(text, value.get());
                    top.push((other.to_string(), start..start + value.get().len()));
                }
            }
        }
        let versions_raw = versions_raw.ok_or(PackumentError::NoVersions)?;

        let mut time_other = Vec::new();
        let mut time_versions = BTreeMap::new();
        if let Some(raw) = time_raw {
            if let Ok(time_entries) = entries(raw.get()) {
                for (key, value) in time_entries {
                    let Some(text) = string_value(value) else { continue };
                    if key == "created" || key == "modified" {
                        if key == "modified" && modified.is_none() {
                            modified = Some(text.clone());
                        }
                        time_other.push((key.into_owned(), text));
                    } else {
                        time_versions.insert(key.into_owned(), text);
                    }
                }
            }
        }
        let mut dist_tags = Vec::new();
        if let Some(raw) = tags_raw {
            if let Ok(tag_entries) = entries(raw.get()) {
                for (key, value) in tag_entries {
                    if let Some(version) = string_value(value) {
                        dist_tags.push((key.into_owned(), version));
                    }
                }
            }
        }

        let mut versions: Vec<VersionEntry> = Vec::new();
        let mut seen = HashSet::new();
        for (key, value) in entries(versions_raw.get())?.into_iter().rev() {
            // A duplicated key: JSON parsers keep the last one, so do we.
            if !seen.insert(key.to_string()) {
                continue;
            }
            let start = offset_in(text, value.get());
            if let Some(entry) = parse_version(&key, value.get(), start, &time_versions) {
                versions.push(entry);
            } else {
                tracing::debug!(package = %name, version = %key, "unreadable version left out");
            }
        }
        versions.reverse();
        Ok(Packument {
            name,
            body,
            top,
            versions,
            dist_tags,
            time_other,
            time_versions,
            modified,
        })
    }

    /// Size of the upstream document.
    pub fn body_len(&self) -> usize {
        self.body.len()
    }

    pub fn version(&self, version: &str) -> Option<(usize, &VersionEntry)> {
        self.versions.iter().enumerate().find(|(_, v)| v.version == version)
    }

    pub fn by_tarball_file(&self, file: &str) -> Option<(usize, &VersionEntry)> {
        self.versions
            .iter()
            .enumerate()
            .find(|(_, v)| v.tarball_file.as_deref() == Some(file))
    }

    pub fn tag(&self, tag: &str) -> Option<&str> {
        self.dist_tags.iter().find(|(t, _)| t == tag).map(|(_, v)| v.as_str())
    }

    /// One version's JSON with the tarball URL pointing at `tarball_base`
    /// (`http://host:port`, no trailing slash).
    pub fn render_version(&self, index: usize, form: Form, tarball_base: &str) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(entry) = self.versions.get(index) {
            self.write_version(&mut out, entry, form, tarball_base);
        }
        out
    }

    fn write_version(&self, out: &mut Vec<u8>, entry: &VersionEntry, form: Form, tarball_base: &str) {
        let (bytes, url): (&[u8], &Range<usize>) = match form {
            Form::Full => match &entry.full {
                Segment::Borrowed(range) => (self.body.get(range.clone()).unwrap_or_default(), &entry.full_url),
                Segment::Owned(bytes) => (bytes, &entry.full_url),
            },
            Form::Abbreviated => (&entry.abbreviated, &entry.abbreviated_url),
        };
        let (Some(before), Some(after)) = (bytes.get(..url.start), bytes.get(url.end..)) else {
            return;
        };
        out.extend_from_slice(before);
        out.push(b'"');
        out.extend_from_slice(tarball_base.as_bytes());
        out.push(b'/');
        out.extend_from_slice(self.name.as_bytes());
        out.extend_from_slice(b"/-/");
        out.extend_from_slice(entry.tarball_file.as_deref().unwrap_or_default().as_bytes());
        out.push(b'"');
        out.extend_from_slice(after);
    }

    /// The document with only the versions where `keep[i]` is true and the
    /// given dist-tags. `tarball_base` must be JSON-safe (the caller builds
    /// it from a validated host).
    pub fn render(&self, form: Form, keep: &[bool], dist_tags: &[(String, String)], tarball_base: &str) -> Vec<u8> {
        let kept_bytes: usize = self
            .versions
            .iter()
            .zip(keep)
            .filter(|(_, keep)| **keep)
            .map(|(v, _)| match form {
                Form::Full => match &v.full {
                    Segment::Borrowed(range) => range.len(),
                    Segment::Owned(bytes) => bytes.len(),
                },
                Form::Abbreviated => v.abbreviated.len(),
            })
            .sum();
        let mut out = Vec::with_capacity(kept_bytes + 4096);
        out.push(b'{');
        let mut first = true;
        let mut field = |out: &mut Vec<u8>, key: &str| {
            if !first {
                out.push(b',');
            }
            first = false;
            write_json_string(out, key);
            out.push(b':');
        };
        match form {
            Form::Full => {
                for (key, range) in &self.top {
                    field(&mut out, key);
                    out.extend_from_slice(self.body.get(range.clone()).unwrap_or(b"null"));
                }
            }
            Form::Abbreviated => {
                field(&mut out, "name");
                write_json_string(&mut out, &self.name);
                if let Some(modified) = &self.modified {
                    field(&mut out, "modified");
                    write_json_string(&mut out, modified);
                }
            }
        }
        field(&mut out, "dist-tags");
        out.push(b'{');
        for (i, (tag, version)) in dist_tags.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_json_string(&mut out, tag);
            out.push(b':');
            write_json_string(&mut out, version);
        }
        out.push(b'}');
        field(&mut out, "versions");
        out.push(b'{');
        let mut first_version = true;
        for (entry, _) in self.versions.iter().zip(keep).filter(|(_, keep)| **keep) {
            if !first_version {
                out.push(b',');
            }
            first_version = false;
            write_json_string(&mut out, &entry.version);
            out.push(b':');
            self.write_version(&mut out, entry, form, tarball_base);
        }
        out.push(b'}');
        if form == Form::Full {
            field(&mut out, "time");
            out.push(b'{');
            let mut first_time = true;
            let mut put = |out: &mut Vec<u8>, key: &str, value: &str| {
                if !first_time {
                    out.push(b',');
                }
                first_time = false;
                write_json_string(out, key);
                out.push(b':');
                write_json_string(out, value);
            };
            for (key, value) in &self.time_other {
                put(&mut out, key, value);
            }
            for (entry, _) in self.versions.iter().zip(keep).filter(|(_, keep)| **keep) {
                if let Some(time) = self.time_versions.get(&entry.version) {
                    put(&mut out, &entry.version, time);
                }
            }
            out.push(b'}');
        }
        out.push(b'}');
        out
    }
}

/// JSON string escaping (serde_json's, without an allocation per call).
fn write_json_string(out: &mut Vec<u8>, text: &str) {
    // serde_json writes into any io::Write; a Vec never fails.
    let _ = serde_json::to_writer(&mut *out, text);
}

#[derive(Deserialize)]
struct DistFacts {
    #[serde(default)]
    tarball: Option<String>,
    #[serde(default)]
    integrity: Option<String>,
    #[serde(default)]
    shasum: Option<String>,
}

fn parse_version(key: &str, raw: &str, start: usize, times: &BTreeMap<String, String>) -> Option<VersionEntry> {
    let fields = entries(raw).ok()?;
    let mut dist: Option<(&RawValue, DistFacts)> = None;
    let mut install_scripts = Vec::new();
    let mut has_install_script = false;
    for (field, value) in &fields {
        match field.as_ref() {
            "dist" => dist = Some((*value, serde_json::from_str::<DistFacts>(value.get()).ok()?)),
            "scripts" => {
                if let Ok(scripts) = entries(value.get()) {
                    for (script, _) in scripts {
                        if INSTALL_SCRIPTS.contains(&script.as_ref()) {
                            install_scripts.push(script.into_owned());
                        }
                    }
                }
            }
            "hasInstallScript" => has_install_script = value.get().trim() == "true",
            _ => {}
        }
    }
    if has_install_script && install_scripts.is_empty() {
        install_scripts.push("install".to_string());
    }
    let (dist_raw, facts) = dist?;
    let upstream_tarball = facts.tarball?;
    let tarball_file = url::Url::parse(&upstream_tarball)
        .ok()
        .and_then(|url| url.path_segments().and_then(|mut s| s.next_back().map(str::to_string)))
        .filter(|file| safe_file_name(file));
    let integrity = facts.integrity.filter(|i| !i.trim().is_empty()).or_else(|| {
        facts
            .shasum
            .as_deref()
            .and_then(|sha| palisade_registry::Integrity::from_hex_sha1(sha).ok())
            .map(|integrity| integrity.to_string())
    });

    // The tarball string inside this version's JSON.
    let encoded = serde_json::to_string(&upstream_tarball).ok()?;
    let dist_offset = offset_in(raw, dist_raw.get());
    let (full, full_url) = match dist_raw.get().find(&encoded) {
        Some(at) => {
            let url_start = dist_offset + at;
            (
                Segment::Borrowed(start..start + raw.len()),
                url_start..url_start + encoded.len(),
            )
        }
        None => {
            let (bytes, range) = reserialize_with_marker(raw)?;
            (Segment::Owned(bytes), range)
        }
    };

    // The abbreviated form: the listed fields, dist as published.
    let mut abbreviated = Vec::with_capacity(256);
    let mut abbreviated_url = 0..0;
    abbreviated.push(b'{');
    let mut first = true;
    let mut wrote_install_flag = false;
    for (field, value) in &fields {
        if !ABBREVIATED_FIELDS.contains(&field.as_ref()) {
            continue;
        }
        if !first {
            abbreviated.push(b',');
        }
        first = false;
        write_json_string(&mut abbreviated, field);
        abbreviated.push(b':');
        if field == "dist" {
            let here = abbreviated.len();
            match &full {
                Segment::Borrowed(_) => {
                    abbreviated.extend_from_slice(value.get().as_bytes());
                    let at = full_url.start - dist_offset;
                    abbreviated_url = here + at..here + at + encoded.len();
                }
                Segment::Owned(_) => {
                    // Escaped URL: write a dist object we control.
                    let mut dist_value: serde_json::Value = serde_json::from_str(value.get()).ok()?;
                    dist_value.as_object_mut()?.insert("tarball".into(), MARKER.into());
                    let text = serde_json::to_string(&dist_value).ok()?;
                    let marker = serde_json::to_string(MARKER).ok()?;
                    let at = text.find(&marker)?;
                    abbreviated.extend_from_slice(text.as_bytes());
                    abbreviated_url = here + at..here + at + marker.len();
                }
            }
        } else {
            if field == "hasInstallScript" {
                wrote_install_flag = true;
            }
            abbreviated.extend_from_slice(value.get().as_bytes());
        }
    }
    // The registry computes `hasInstallScript`; add it when only `scripts` says so.
    if !install_scripts.is_empty() && !wrote_install_flag {
        if !first {
            abbreviated.push(b',');
        }
        abbreviated.extend_from_slice(b"\"hasInstallScript\":true");
    }
    abbreviated.push(b'}');
    if abbreviated_url.is_empty() {
        return None;
    }
    Some(VersionEntry {
        version: key.to_string(),
        semver: nodejs_semver::Version::parse(key).ok(),
        tarball_file,
        upstream_tarball,
        integrity,
        published: times.get(key).and_then(|t| palisade_registry::model::parse_time(t)),
        install_scripts,
        full,
        full_url,
        abbreviated: Bytes::from(abbreviated),
        abbreviated_url,
    })
}

const MARKER: &str = "\u{1}palisade-tarball\u{1}";

/// A version whose tarball URL is written with escapes: re-serialize it with a
/// marker in place of the URL so the splice point is known.
fn reserialize_with_marker(raw: &str) -> Option<(Bytes, Range<usize>)> {
    let mut value: serde_json::Value = serde_json::from_str(raw).ok()?;
    let dist = value.get_mut("dist")?.as_object_mut()?;
    dist.insert("tarball".into(), MARKER.into());
    let text = serde_json::to_string(&value).ok()?;
    let marker = serde_json::to_string(MARKER).ok()?;
    let at = text.find(&marker)?;
    Some((Bytes::from(text), at..at + marker.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"_id": "demo", "name": "demo", "description": "d",
      "dist-tags": {"latest": "1.1.0", "next": "2.0.0-rc.1"},
      "versions": {
        "1.0.0": {"name": "demo", "version": "1.0.0", "readme": "long", "dependencies": {"a": "^1"},
                  "dist": {"tarball": "https://registry.npmjs.org/demo/-/demo-1.0.0.tgz", "shasum": "da39a3ee5e6b4b0d3255bfef95601890afd80709"}},
        "1.1.0": {"name": "demo", "version": "1.1.0", "scripts": {"postinstall": "node x.js", "test": "t"},
                  "dist": {"tarball": "https:\/\/registry.npmjs.org\/demo\/-\/demo-1.1.0.tgz", "integrity": "sha512-AAAA"}},
        "2.0.0-rc.1": {"name": "demo", "version": "2.0.0-rc.1", "dist": {"tarball": "https://x.test/../../etc/passwd"}},
        "3.0.0": {"name": "demo", "version": "3.0.0"}
      },
      "time": {"created": "2020-01-01T00:00:00.000Z", "1.0.0": "2020-01-01T00:00:00.000Z", "1.1.0": "2021-06-09T14:25:33.385000+00:00"},
      "_attachments": {}}"#;

    #[test]
    fn parses_and_renders_both_forms() {
        let doc = Packument::parse(Bytes::from_static(DOC.as_bytes())).expect("parses");
        assert_eq!(doc.name, "demo");
        // 3.0.0 has no dist: left out.
        let versions: Vec<_> = doc.versions.iter().map(|v| v.version.as_str()).collect();
        assert_eq!(versions, ["1.0.0", "1.1.0", "2.0.0-rc.1"]);
        assert_eq!(
            doc.versions[0].integrity.as_deref(),
            Some("sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=")
        );
        assert_eq!(doc.versions[1].install_scripts, ["postinstall"]);
        assert!(doc.versions[1].published.is_some());
        assert_eq!(doc.versions[2].tarball_file.as_deref(), Some("passwd"));

        let keep = [true, true, false];
        let tags = vec![("latest".to_string(), "1.1.0".to_string())];
        let full = doc.render(Form::Full, &keep, &tags, "http://127.0.0.1:4873");
        let value: serde_json::Value = serde_json::from_slice(&full).expect("valid JSON");
        assert_eq!(value["versions"]["1.0.0"]["readme"], "long");
        assert_eq!(
            value["versions"]["1.0.0"]["dist"]["tarball"],
            "http://127.0.0.1:4873/demo/-/demo-1.0.0.tgz"
        );
        assert_eq!(
            value["versions"]["1.1.0"]["dist"]["tarball"],
            "http://127.0.0.1:4873/demo/-/demo-1.1.0.tgz"
        );
        assert!(value["versions"].get("2.0.0-rc.1").is_none());
        assert!(value["time"].get("2.0.0-rc.1").is_none());
        assert_eq!(value["time"]["created"], "2020-01-01T00:00:00.000Z");
        assert_eq!(value["dist-tags"], serde_json::json!({"latest": "1.1.0"}));
        assert!(value.get("_attachments").is_none());

        let abbreviated = doc.render(Form::Abbreviated, &keep, &tags, "http://h:1");
        let value: serde_json::Value = serde_json::from_slice(&abbreviated).expect("valid JSON");
        assert!(value["versions"]["1.0.0"].get("readme").is_none());
        assert_eq!(value["versions"]["1.0.0"]["dependencies"]["a"], "^1");
        assert_eq!(value["versions"]["1.1.0"]["hasInstallScript"], true);
        assert_eq!(
            value["versions"]["1.1.0"]["dist"]["tarball"],
            "http://h:1/demo/-/demo-1.1.0.tgz"
        );
        assert_eq!(value["versions"]["1.1.0"]["dist"]["integrity"], "sha512-AAAA");
        assert!(value.get("time").is_none());
    }

    #[test]
    fn hostile_documents_are_errors_not_panics() {
        for doc in ["", "[]", "{", "{\"versions\": 3}", "{\"name\": \"x\"}", "\u{0}"] {
            let parsed = Packument::parse(Bytes::from(doc.as_bytes().to_vec()));
            if let Ok(parsed) = parsed {
                assert!(parsed.versions.is_empty());
            }
        }
        // Duplicate version keys: the last wins.
        let doc = r#"{"name":"x","versions":{"1.0.0":{"dist":{"tarball":"https://r/x/-/x-1.0.0.tgz","integrity":"sha512-A"}},
            "1.0.0":{"dist":{"tarball":"https://r/x/-/x-1.0.0.tgz","integrity":"sha512-B"}}}}"#;
        let parsed = Packument::parse(Bytes::from(doc.as_bytes().to_vec())).expect("parses");
        assert_eq!(parsed.versions.len(), 1);
        assert_eq!(parsed.versions[0].integrity.as_deref(), Some("sha512-B"));
    }

    proptest::proptest! {
        /// Hostile documents: any bytes, and the sample document cut or with a byte
        /// changed, never panic; whatever parses renders to valid JSON with every
        /// tarball pointing at the firewall.
        #[test]
        fn never_panics_and_renders_valid_json(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
                                               cut in 0usize..2000, flip in 0usize..2000, byte in proptest::prelude::any::<u8>()) {
            let _ = Packument::parse(Bytes::from(bytes));
            let mut doc = DOC.as_bytes().to_vec();
            if let Some(b) = doc.get_mut(flip) {
                *b = byte;
            }
            doc.truncate(cut.max(1));
            let mut candidates = vec![doc, DOC.as_bytes().to_vec()];
            let mut flipped = DOC.as_bytes().to_vec();
            if let Some(b) = flipped.get_mut(flip) {
                *b = byte;
            }
            candidates.push(flipped);
            for candidate in candidates {
                if let Ok(parsed) = Packument::parse(Bytes::from(candidate)) {
                    let keep = vec![true; parsed.versions.len()];
                    for form in [Form::Full, Form::Abbreviated] {
                        let out = parsed.render(form, &keep, &parsed.dist_tags, "http://h:1");
                        let value: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
                        for (_, version) in value["versions"].as_object().expect("versions").iter() {
                            let tarball = version["dist"]["tarball"].as_str().expect("tarball");
                            proptest::prop_assert!(tarball.starts_with("http://h:1/"), "{}", tarball);
                        }
                    }
                }
            }
        }
    }
}
