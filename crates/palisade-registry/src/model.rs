//! Typed views of registry documents.
//!
//! Shapes follow the npm registry API
//! (<https://github.com/npm/registry/blob/main/docs/REGISTRY-API.md>) and the
//! abbreviated ("corgi") format
//! (<https://github.com/npm/registry/blob/main/docs/responses/package-metadata.md>).
//! One [`Packument`] type serves both: the abbreviated document is a subset,
//! so its missing fields are `None`/empty.
//!
//! Registry documents are attacker-controlled and old packuments are
//! irregular, so deserialisation is lenient where the real registry is:
//! unknown fields are ignored, a dependency map entry that is not a string
//! is dropped, a `maintainers` entry may be `"name <email>"` or an object,
//! a `time` entry that is not a timestamp (`time.unpublished` is an object)
//! is dropped. It is strict only where a value is needed to work at all
//! (`versions` must be an object of objects, `version` a string).

use std::collections::BTreeMap;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A package document (packument): every version of a package.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Packument {
    /// The package name.
    pub name: String,
    /// `dist-tags`: tag → version (`latest`, `next`, …).
    #[serde(rename = "dist-tags", deserialize_with = "lenient_string_map")]
    pub dist_tags: BTreeMap<String, String>,
    /// Every published (and not unpublished) version.
    pub versions: BTreeMap<String, VersionManifest>,
    /// Publish times: version → time, plus `created` and `modified`.
    /// Both `2021-06-09T14:25:33.385Z` (npmjs) and
    /// `2021-06-09T14:25:33.385000+00:00` (the mirror) are accepted.
    #[serde(deserialize_with = "lenient_time_map", serialize_with = "serialize_time_map")]
    pub time: BTreeMap<String, OffsetDateTime>,
    /// Abbreviated documents carry only this, at the top level.
    #[serde(deserialize_with = "lenient_time", serialize_with = "serialize_time")]
    pub modified: Option<OffsetDateTime>,
    /// Package maintainers (full documents only).
    #[serde(deserialize_with = "lenient_people")]
    pub maintainers: Vec<Person>,
    /// `repository` as published (string or object).
    pub repository: Option<serde_json::Value>,
    /// `license` as published (string or legacy object).
    pub license: Option<serde_json::Value>,
    /// Package description.
    #[serde(deserialize_with = "lenient_string")]
    pub description: Option<String>,
}

impl Packument {
    /// The version `latest` points at.
    pub fn latest(&self) -> Option<&VersionManifest> {
        self.dist_tags
            .get("latest")
            .and_then(|version| self.versions.get(version))
    }

    /// When `version` was published, if the document says.
    pub fn published_at(&self, version: &str) -> Option<OffsetDateTime> {
        self.time.get(version).copied()
    }

    /// A version by exact version or by dist-tag (`latest`, `next`): what
    /// `palisade scan name@x` asks for. Ranges are the caller's business.
    pub fn version_or_tag(&self, version_or_tag: &str) -> Option<&VersionManifest> {
        self.versions.get(version_or_tag).or_else(|| {
            self.dist_tags
                .get(version_or_tag)
                .and_then(|version| self.versions.get(version))
        })
    }

    /// The version published most recently before `version` (by `time`),
    /// for comparing a release with its predecessor. `None` when `time` is
    /// missing (abbreviated documents) or nothing came before.
    pub fn previous_published(&self, version: &str) -> Option<&VersionManifest> {
        let published = self.published_at(version)?;
        self.versions
            .keys()
            .filter(|other| other.as_str() != version)
            .filter_map(|other| self.published_at(other).map(|time| (time, other)))
            .filter(|(time, _)| *time < published)
            .max()
            .and_then(|(_, other)| self.versions.get(other))
    }
}

/// One version of a package: its `package.json` as the registry serves it,
/// plus `dist`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct VersionManifest {
    /// The package name.
    pub name: String,
    /// The version.
    pub version: String,
    /// Where the tarball is and how to check it.
    pub dist: Dist,
    /// Lifecycle and other scripts.
    #[serde(deserialize_with = "lenient_string_map")]
    pub scripts: BTreeMap<String, String>,
    /// `dependencies`.
    #[serde(deserialize_with = "lenient_string_map")]
    pub dependencies: BTreeMap<String, String>,
    /// `devDependencies` (full documents only).
    #[serde(rename = "devDependencies", deserialize_with = "lenient_string_map")]
    pub dev_dependencies: BTreeMap<String, String>,
    /// `optionalDependencies`.
    #[serde(rename = "optionalDependencies", deserialize_with = "lenient_string_map")]
    pub optional_dependencies: BTreeMap<String, String>,
    /// `peerDependencies`.
    #[serde(rename = "peerDependencies", deserialize_with = "lenient_string_map")]
    pub peer_dependencies: BTreeMap<String, String>,
    /// `bundleDependencies` / `bundledDependencies` (list, or `true` = all).
    #[serde(rename = "bundleDependencies", alias = "bundledDependencies")]
    pub bundle_dependencies: Option<serde_json::Value>,
    /// Who published this version (`_npmUser`; absent on the mirror).
    #[serde(rename = "_npmUser", deserialize_with = "lenient_person")]
    pub npm_user: Option<Person>,
    /// Maintainers at publish time.
    #[serde(deserialize_with = "lenient_people")]
    pub maintainers: Vec<Person>,
    /// The deprecation message, when deprecated. npm writes `""` or omits
    /// the field to un-deprecate; `false` also appears in old documents.
    #[serde(deserialize_with = "lenient_string")]
    pub deprecated: Option<String>,
    /// Set by the registry when a lifecycle install script exists
    /// (abbreviated documents carry this instead of `scripts`).
    #[serde(rename = "hasInstallScript", deserialize_with = "lenient_bool")]
    pub has_install_script: bool,
    /// `license` as published (string or legacy object).
    pub license: Option<serde_json::Value>,
    /// `repository` as published.
    pub repository: Option<serde_json::Value>,
    /// `engines`.
    pub engines: Option<serde_json::Value>,
    /// `bin`.
    pub bin: Option<serde_json::Value>,
    /// `os`.
    pub os: Option<serde_json::Value>,
    /// `cpu`.
    pub cpu: Option<serde_json::Value>,
    /// Package description.
    #[serde(deserialize_with = "lenient_string")]
    pub description: Option<String>,
    /// `gitHead`: the commit it was published from, when npm recorded it.
    #[serde(rename = "gitHead", deserialize_with = "lenient_string")]
    pub git_head: Option<String>,
}

impl VersionManifest {
    /// Whether this version runs code at install: `hasInstallScript`, or a
    /// `preinstall`/`install`/`postinstall` script. (`prepare` runs only for
    /// git dependencies and local installs, as npm documents in
    /// <https://docs.npmjs.com/cli/v10/using-npm/scripts#life-cycle-operation-order>.)
    pub fn runs_install_scripts(&self) -> bool {
        self.has_install_script
            || ["preinstall", "install", "postinstall"]
                .iter()
                .any(|s| self.scripts.contains_key(*s))
    }
}

/// `dist`: the tarball and its checks.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Dist {
    /// The tarball URL.
    #[serde(deserialize_with = "lenient_string_default")]
    pub tarball: String,
    /// SRI integrity (`sha512-…`), absent for very old versions.
    #[serde(deserialize_with = "lenient_string")]
    pub integrity: Option<String>,
    /// Legacy hex sha1.
    #[serde(deserialize_with = "lenient_string")]
    pub shasum: Option<String>,
    /// Registry ECDSA signatures over `${name}@${version}:${integrity}`.
    pub signatures: Vec<DistSignature>,
    /// Where the Sigstore attestations are.
    pub attestations: Option<DistAttestations>,
    /// Number of files in the tarball.
    #[serde(rename = "fileCount")]
    pub file_count: Option<u64>,
    /// Unpacked size in bytes.
    #[serde(rename = "unpackedSize")]
    pub unpacked_size: Option<u64>,
}

/// One `dist.signatures` entry.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct DistSignature {
    /// `SHA256:…` key id, matching a key of `/-/npm/v1/keys`.
    pub keyid: String,
    /// Base64 DER ECDSA signature.
    pub sig: String,
}

/// `dist.attestations`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct DistAttestations {
    /// The attestations URL (`/-/npm/v1/attestations/name@version`).
    pub url: String,
    /// The provenance summary, when there is provenance.
    pub provenance: Option<ProvenanceSummary>,
}

/// `dist.attestations.provenance`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct ProvenanceSummary {
    /// e.g. `https://slsa.dev/provenance/v1`.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
}

/// A person (`_npmUser`, `maintainers`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct Person {
    /// npm user name.
    #[serde(deserialize_with = "lenient_string_default")]
    pub name: String,
    /// E-mail, when given.
    #[serde(deserialize_with = "lenient_string")]
    pub email: Option<String>,
}

impl Person {
    /// Parse the `"name <email> (url)"` string form.
    fn from_string(text: &str) -> Self {
        let (name, rest) = match text.find('<') {
            Some(index) => (text[..index].trim(), Some(&text[index + 1..])),
            None => (text.split('(').next().unwrap_or(text).trim(), None),
        };
        let email = rest
            .and_then(|rest| rest.split('>').next())
            .map(|email| email.trim().to_owned());
        Person {
            name: name.to_owned(),
            email,
        }
    }
}

/// The response of `/-/npm/v1/keys`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct SigningKeys {
    /// The keys.
    pub keys: Vec<SigningKey>,
}

/// One registry signing key.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct SigningKey {
    /// When it stopped being valid (`null`: still valid). A signature is
    /// valid only for versions published before this.
    #[serde(deserialize_with = "lenient_time", serialize_with = "serialize_time")]
    pub expires: Option<OffsetDateTime>,
    /// `SHA256:…`
    pub keyid: String,
    /// `ecdsa-sha2-nistp256`
    pub keytype: String,
    /// `ecdsa-sha2-nistp256`
    pub scheme: String,
    /// Base64 DER SubjectPublicKeyInfo.
    pub key: String,
}

/// The response of `/-/npm/v1/attestations/name@version`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Attestations {
    /// The attestations (publish attestation, SLSA provenance).
    pub attestations: Vec<Attestation>,
}

/// One attestation: a Sigstore bundle, left as JSON for palisade-verify.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Attestation {
    /// e.g. `https://slsa.dev/provenance/v1`, `https://github.com/npm/attestation/tree/main/specs/publish/v0.1`.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The Sigstore bundle.
    pub bundle: serde_json::Value,
}

/// One advisory of the bulk advisory endpoint's answer
/// (`POST /-/npm/v1/security/advisories/bulk`, as `npm audit` uses it).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct BulkAdvisory {
    /// Numeric advisory id.
    pub id: u64,
    /// Advisory URL (GHSA link).
    #[serde(deserialize_with = "lenient_string_default")]
    pub url: String,
    /// Title.
    #[serde(deserialize_with = "lenient_string_default")]
    pub title: String,
    /// `low` | `moderate` | `high` | `critical`.
    #[serde(deserialize_with = "lenient_string_default")]
    pub severity: String,
    /// Affected range (npm semver range).
    #[serde(deserialize_with = "lenient_string_default")]
    pub vulnerable_versions: String,
    /// CWE ids.
    pub cwe: Vec<String>,
    /// CVSS, when present.
    pub cvss: Option<serde_json::Value>,
}

/// The bulk advisory answer: package name → advisories.
pub type BulkAdvisories = BTreeMap<String, Vec<BulkAdvisory>>;

/// Parse a registry timestamp: RFC 3339 as npmjs writes it
/// (`2021-06-09T14:25:33.385Z`) or as the mirror does
/// (`2021-06-09T14:25:33.385000+00:00`).
pub fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text.trim(), &Rfc3339).ok()
}

fn format_time(time: &OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_default()
}

fn serialize_time_map<S: serde::Serializer>(
    map: &BTreeMap<String, OffsetDateTime>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(map.iter().map(|(key, time)| (key, format_time(time))))
}

fn serialize_time<S: serde::Serializer>(time: &Option<OffsetDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => serializer.serialize_some(&format_time(time)),
        None => serializer.serialize_none(),
    }
}

/// Any JSON value, kept only if it is a string.
fn lenient_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(text) => Some(text),
        _ => None,
    })
}

fn lenient_string_default<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(lenient_string(deserializer)?.unwrap_or_default())
}

fn lenient_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(matches!(
        serde_json::Value::deserialize(deserializer)?,
        serde_json::Value::Bool(true)
    ))
}

fn lenient_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<OffsetDateTime>, D::Error> {
    Ok(lenient_string(deserializer)?.as_deref().and_then(parse_time))
}

/// A map whose non-string values are skipped (without buffering them).
fn lenient_string_map<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error> {
    struct MapVisitor;
    impl<'de> Visitor<'de> for MapVisitor {
        type Value = BTreeMap<String, String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map of strings")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
            let mut map = BTreeMap::new();
            while let Some(key) = access.next_key::<String>()? {
                if let StringOrOther::String(value) = access.next_value::<StringOrOther>()? {
                    map.insert(key, value);
                }
            }
            Ok(map)
        }
        // `null`, arrays, …: treated as empty.
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(BTreeMap::new())
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
    }
    deserializer.deserialize_any(MapVisitor)
}

fn lenient_time_map<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, OffsetDateTime>, D::Error> {
    Ok(lenient_string_map(deserializer)?
        .into_iter()
        .filter_map(|(key, value)| parse_time(&value).map(|time| (key, time)))
        .collect())
}

/// A string, or anything else (skipped without allocation).
enum StringOrOther {
    String(String),
    Other,
}

impl<'de> Deserialize<'de> for StringOrOther {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StringOrOther;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(StringOrOther::String(value.to_owned()))
            }
            fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
                Ok(StringOrOther::String(value))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(StringOrOther::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(StringOrOther::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(StringOrOther::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(StringOrOther::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(StringOrOther::Other)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(StringOrOther::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(StringOrOther::Other)
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum PersonForm {
    Text(String),
    Object(Person),
    Other(IgnoredAny),
}

impl PersonForm {
    fn into_person(self) -> Option<Person> {
        match self {
            PersonForm::Text(text) => Some(Person::from_string(&text)),
            PersonForm::Object(person) => Some(person),
            PersonForm::Other(_) => None,
        }
    }
}

fn lenient_person<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Person>, D::Error> {
    Ok(PersonForm::deserialize(deserializer)?.into_person())
}

fn lenient_people<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Person>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum People {
        List(Vec<PersonForm>),
        One(PersonForm),
    }
    Ok(match People::deserialize(deserializer)? {
        People::List(list) => list.into_iter().filter_map(PersonForm::into_person).collect(),
        People::One(one) => one.into_person().into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_time_formats() {
        let npmjs = parse_time("2021-06-09T14:25:33.385Z").expect("npmjs form");
        let mirror = parse_time("2021-06-09T14:25:33.385000+00:00").expect("mirror form");
        assert_eq!(npmjs, mirror);
        assert_eq!(npmjs.unix_timestamp(), 1_623_248_733);
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn abbreviated_document_shape() {
        // The corgi shape npmjs serves for `application/vnd.npm.install-v1+json`:
        // top-level `modified`, no `time`, `hasInstallScript` instead of `scripts`.
        let json = r#"{"name":"esbuild","modified":"2024-05-01T10:00:00.123Z","dist-tags":{"latest":"0.21.0"},
            "versions":{"0.21.0":{"name":"esbuild","version":"0.21.0","hasInstallScript":true,
            "bin":{"esbuild":"bin/esbuild"},"optionalDependencies":{"@esbuild/linux-x64":"0.21.0"},
            "dist":{"integrity":"sha512-AA==","shasum":"00","tarball":"https://r/esbuild/-/esbuild-0.21.0.tgz",
                    "fileCount":9,"unpackedSize":12345}}}}"#;
        let packument: Packument = serde_json::from_str(json).expect("corgi parses");
        assert!(packument.modified.is_some());
        assert!(packument.time.is_empty());
        let version = packument.latest().expect("latest");
        assert!(version.runs_install_scripts());
        assert_eq!(version.optional_dependencies.len(), 1);
        assert_eq!(version.dist.file_count, Some(9));
    }

    #[test]
    fn lenient_fields() {
        let json = r#"{
            "name": "x", "dist-tags": {"latest": "1.0.0", "bad": 3},
            "time": {"created": "2020-01-01T00:00:00.000Z", "1.0.0": "2021-06-09T14:25:33.385000+00:00",
                     "unpublished": {"time": "2022-01-01T00:00:00Z"}},
            "maintainers": ["Jane <jane@example.com>", {"name": "bob"}, 7],
            "versions": {"1.0.0": {"name": "x", "version": "1.0.0",
                "dependencies": {"a": "^1", "b": ["weird"]},
                "deprecated": false, "hasInstallScript": true,
                "_npmUser": "Jane <jane@example.com>",
                "dist": {"tarball": "https://r/x/-/x-1.0.0.tgz", "integrity": "sha512-AA==",
                         "signatures": [{"keyid": "SHA256:k", "sig": "MEU="}],
                         "attestations": {"url": "https://r/-/npm/v1/attestations/x@1.0.0",
                                          "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}}},
                "unknown": {"deep": [1, 2, 3]}}}
        }"#;
        let packument: Packument = serde_json::from_str(json).expect("lenient parse");
        assert_eq!(packument.dist_tags.len(), 1);
        assert_eq!(packument.time.len(), 2);
        assert_eq!(packument.maintainers.len(), 2);
        assert_eq!(packument.maintainers[0].email.as_deref(), Some("jane@example.com"));
        let version = packument.latest().expect("latest");
        assert_eq!(version.dependencies.len(), 1);
        assert_eq!(version.deprecated, None);
        assert!(version.runs_install_scripts());
        assert_eq!(version.npm_user.as_ref().map(|p| p.name.as_str()), Some("Jane"));
        assert_eq!(version.dist.signatures[0].keyid, "SHA256:k");
        let provenance = version.dist.attestations.as_ref().and_then(|a| a.provenance.as_ref());
        assert_eq!(
            provenance.map(|p| p.predicate_type.as_str()),
            Some("https://slsa.dev/provenance/v1")
        );
        assert!(packument.published_at("1.0.0").is_some());
    }
}
