//! A lenient serde model of `package-lock.json` / `npm-shrinkwrap.json`.
//!
//! Lockfiles are attacker-controlled and occasionally hand-edited, so every
//! field is read with a visitor that accepts any JSON type: a value of the
//! wrong type is recorded as a problem on its entry (later a warning) instead
//! of failing the whole file, and an entry that is not an object is kept as
//! malformed. Only invalid JSON is an error.
//!
//! Strings borrow from the input when they contain no escapes, which keeps a
//! 30 MB lockfile parse to one pass without a copy per field.
//!
//! One [`Entry`] type serves the top-level object, `packages` entries (v2/v3)
//! and the nested `dependencies` entries of v1: their keys overlap, and where
//! the shapes differ (`dependencies` is name → range in v2/v3 but name → entry
//! in v1; `requires` is a bool at the top and a map in v1 entries) the field
//! visitors accept both.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The `lockfileVersion` value: a number when it is one.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Scalar {
    Integer(u64),
    Other(String),
}

/// Key → entry pairs in document order.
pub(super) type Entries<'a> = Vec<(Cow<'a, str>, Entry<'a>)>;

/// One lockfile object: the top level, a `packages` entry or a v1 `dependencies` entry.
#[derive(Default)]
pub(super) struct Entry<'a> {
    pub(super) name: Option<Cow<'a, str>>,
    pub(super) version: Option<Cow<'a, str>>,
    pub(super) resolved: Option<Cow<'a, str>>,
    pub(super) integrity: Option<Cow<'a, str>>,
    /// v1 only: the spec the package was installed from.
    pub(super) from: Option<Cow<'a, str>>,
    pub(super) link: bool,
    pub(super) dev: bool,
    pub(super) optional: bool,
    pub(super) dev_optional: bool,
    pub(super) peer: bool,
    /// v2/v3 `hasInstallScript`: the package has preinstall/install/postinstall scripts.
    pub(super) has_install_script: bool,
    /// `inBundle` (v2/v3) or `bundled` (v1).
    pub(super) in_bundle: bool,
    /// Names of v2/v3 `dependencies` (name → range), or of v1 `requires`.
    pub(super) dependencies: Vec<Cow<'a, str>>,
    pub(super) optional_dependencies: Vec<Cow<'a, str>>,
    pub(super) peer_dependencies: Vec<Cow<'a, str>>,
    pub(super) dev_dependencies: Vec<Cow<'a, str>>,
    /// v1 nested entries (and the legacy section at a v2 top level), in document order.
    pub(super) children: Entries<'a>,
    /// `dependencies` held entries (v1 shape) rather than ranges.
    pub(super) has_children: bool,
    /// The root entry's `workspaces` globs.
    pub(super) workspaces: Vec<Cow<'a, str>>,
    /// Top level only.
    pub(super) lockfile_version: Option<Scalar>,
    /// Top level only: the v2/v3 `packages` map, in document order.
    pub(super) packages: Option<Entries<'a>>,
    /// Top level only: `packages` was present but not an object (names the type).
    pub(super) packages_not_object: Option<&'static str>,
    /// This value was not a JSON object at all (names the type found).
    pub(super) malformed: Option<&'static str>,
    /// Fields of the wrong type, reported as warnings.
    pub(super) problems: Vec<String>,
}

/// What a lenient field makes of whatever JSON value it meets.
trait Kind<'de>: Sized {
    type Out;
    fn string(text: Cow<'de, str>) -> Self::Out;
    fn boolean(value: bool) -> Self::Out;
    fn integer(value: u64) -> Self::Out;
    /// Anything else: `found` names the type (`"null"`, `"a number"`, …).
    fn other(found: &'static str) -> Self::Out;
    fn map<A: MapAccess<'de>>(map: A) -> Result<Self::Out, A::Error>;
    fn seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self::Out, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Self::other("an array"))
    }
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Reads any JSON value and hands it to `K`.
struct Lenient<K>(PhantomData<K>);

fn lenient<K>() -> Lenient<K> {
    Lenient(PhantomData)
}

impl<'de, K: Kind<'de>> DeserializeSeed<'de> for Lenient<K> {
    type Value = K::Out;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, K: Kind<'de>> Visitor<'de> for Lenient<K> {
    type Value = K::Out;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
        Ok(K::boolean(value))
    }
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(K::integer(value))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(K::other("a negative number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(K::other("a fractional number"))
    }
    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(K::string(Cow::Borrowed(value)))
    }
    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(K::string(Cow::Owned(value.to_owned())))
    }
    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(K::string(Cow::Owned(value)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(K::other("null"))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(K::other("null"))
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        K::seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        K::map(map)
    }
}

/// A string field; `Err` names the type found instead.
struct TextKind;
impl<'de> Kind<'de> for TextKind {
    type Out = Result<Cow<'de, str>, &'static str>;
    fn string(text: Cow<'de, str>) -> Self::Out {
        Ok(text)
    }
    fn boolean(_: bool) -> Self::Out {
        Err("a boolean")
    }
    fn integer(_: u64) -> Self::Out {
        Err("a number")
    }
    fn other(found: &'static str) -> Self::Out {
        Err(found)
    }
    fn map<A: MapAccess<'de>>(map: A) -> Result<Self::Out, A::Error> {
        drain_map(map)?;
        Ok(Err("an object"))
    }
}

/// A boolean flag; `Err` names the type found instead.
struct FlagKind;
impl<'de> Kind<'de> for FlagKind {
    type Out = Result<bool, &'static str>;
    fn string(_: Cow<'de, str>) -> Self::Out {
        Err("a string")
    }
    fn boolean(value: bool) -> Self::Out {
        Ok(value)
    }
    fn integer(_: u64) -> Self::Out {
        Err("a number")
    }
    fn other(found: &'static str) -> Self::Out {
        // `null` is how some tools write "not set".
        if found == "null" {
            Ok(false)
        } else {
            Err(found)
        }
    }
    fn map<A: MapAccess<'de>>(map: A) -> Result<Self::Out, A::Error> {
        drain_map(map)?;
        Ok(Err("an object"))
    }
}

/// `lockfileVersion`.
struct ScalarKind;
impl<'de> Kind<'de> for ScalarKind {
    type Out = Scalar;
    fn string(text: Cow<'de, str>) -> Self::Out {
        Scalar::Other(format!("{text:?}"))
    }
    fn boolean(value: bool) -> Self::Out {
        Scalar::Other(value.to_string())
    }
    fn integer(value: u64) -> Self::Out {
        Scalar::Integer(value)
    }
    fn other(found: &'static str) -> Self::Out {
        Scalar::Other(found.to_string())
    }
    fn map<A: MapAccess<'de>>(map: A) -> Result<Self::Out, A::Error> {
        drain_map(map)?;
        Ok(Scalar::Other("an object".to_string()))
    }
}

/// The keys of an object of name → spec (`dependencies`, `requires`, …);
/// `Err` names the type found instead of an object.
struct NamesKind;
impl<'de> Kind<'de> for NamesKind {
    type Out = Result<Vec<Cow<'de, str>>, &'static str>;
    fn string(_: Cow<'de, str>) -> Self::Out {
        Err("a string")
    }
    fn boolean(_: bool) -> Self::Out {
        // `requires: true` at the top of a v1 lockfile: no names.
        Ok(Vec::new())
    }
    fn integer(_: u64) -> Self::Out {
        Err("a number")
    }
    fn other(found: &'static str) -> Self::Out {
        if found == "null" {
            Ok(Vec::new())
        } else {
            Err(found)
        }
    }
    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Self::Out, A::Error> {
        let mut names = Vec::with_capacity(map.size_hint().unwrap_or(4));
        while let Some(key) = map.next_key::<Key<'de>>()? {
            map.next_value::<IgnoredAny>()?;
            names.push(key.0);
        }
        Ok(Ok(names))
    }
}

/// `workspaces`: an array of globs, or yarn's `{ "packages": [...] }`.
struct GlobsKind;
impl<'de> Kind<'de> for GlobsKind {
    type Out = Vec<Cow<'de, str>>;
    fn string(_: Cow<'de, str>) -> Self::Out {
        Vec::new()
    }
    fn boolean(_: bool) -> Self::Out {
        Vec::new()
    }
    fn integer(_: u64) -> Self::Out {
        Vec::new()
    }
    fn other(_: &'static str) -> Self::Out {
        Vec::new()
    }
    fn seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self::Out, A::Error> {
        let mut globs = Vec::new();
        while let Some(item) = seq.next_element_seed(lenient::<TextKind>())? {
            if let Ok(glob) = item {
                globs.push(glob);
            }
        }
        Ok(globs)
    }
    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Self::Out, A::Error> {
        let mut globs = Vec::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if key.0 == "packages" {
                globs = map.next_value_seed(lenient::<GlobsKind>())?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(globs)
    }
}

/// An object of key → [`Entry`] in document order (`packages`);
/// `Err` names the type found instead of an object.
struct EntriesKind;
impl<'de> Kind<'de> for EntriesKind {
    type Out = Result<Entries<'de>, &'static str>;
    fn string(_: Cow<'de, str>) -> Self::Out {
        Err("a string")
    }
    fn boolean(_: bool) -> Self::Out {
        Err("a boolean")
    }
    fn integer(_: u64) -> Self::Out {
        Err("a number")
    }
    fn other(found: &'static str) -> Self::Out {
        Err(found)
    }
    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Self::Out, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(16));
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let entry = map.next_value_seed(lenient::<EntryKind>())?;
            entries.push((key.0, entry));
        }
        Ok(Ok(entries))
    }
}

/// `dependencies`: name → range in v2/v3 entries, name → entry in v1.
/// Decided per value, so a v2 top level (whose legacy `dependencies` are v1
/// entries) and a v3 entry both read.
enum Dependencies<'de> {
    Names(Vec<Cow<'de, str>>),
    Entries(Entries<'de>),
    Wrong(&'static str),
}
struct DependenciesKind;
impl<'de> Kind<'de> for DependenciesKind {
    type Out = Dependencies<'de>;
    fn string(_: Cow<'de, str>) -> Self::Out {
        Dependencies::Wrong("a string")
    }
    fn boolean(_: bool) -> Self::Out {
        Dependencies::Wrong("a boolean")
    }
    fn integer(_: u64) -> Self::Out {
        Dependencies::Wrong("a number")
    }
    fn other(found: &'static str) -> Self::Out {
        if found == "null" {
            Dependencies::Names(Vec::new())
        } else {
            Dependencies::Wrong(found)
        }
    }
    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Self::Out, A::Error> {
        let mut names = Vec::new();
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match map.next_value_seed(lenient::<SpecOrEntryKind>())? {
                SpecOrEntry::Spec => names.push(key.0),
                SpecOrEntry::Entry(entry) => entries.push((key.0, *entry)),
            }
        }
        if entries.is_empty() {
            Ok(Dependencies::Names(names))
        } else {
            // A v1 entry whose value is not an object is malformed; keep it
            // so it is reported rather than lost.
            for name in names {
                entries.push((name, Entry::malformed("not an object")));
            }
            Ok(Dependencies::Entries(entries))
        }
    }
}

enum SpecOrEntry<'de> {
    Spec,
    Entry(Box<Entry<'de>>),
}
struct SpecOrEntryKind;
impl<'de> Kind<'de> for SpecOrEntryKind {
    type Out = SpecOrEntry<'de>;
    fn string(_: Cow<'de, str>) -> Self::Out {
        SpecOrEntry::Spec
    }
    fn boolean(_: bool) -> Self::Out {
        SpecOrEntry::Spec
    }
    fn integer(_: u64) -> Self::Out {
        SpecOrEntry::Spec
    }
    fn other(_: &'static str) -> Self::Out {
        SpecOrEntry::Spec
    }
    fn map<A: MapAccess<'de>>(map: A) -> Result<Self::Out, A::Error> {
        EntryKind::map(map).map(|entry| SpecOrEntry::Entry(Box::new(entry)))
    }
}

/// An entry object.
struct EntryKind;
impl<'de> Kind<'de> for EntryKind {
    type Out = Entry<'de>;
    fn string(_: Cow<'de, str>) -> Self::Out {
        Entry::malformed("a string")
    }
    fn boolean(_: bool) -> Self::Out {
        Entry::malformed("a boolean")
    }
    fn integer(_: u64) -> Self::Out {
        Entry::malformed("a number")
    }
    fn other(found: &'static str) -> Self::Out {
        Entry::malformed(found)
    }
    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Self::Out, A::Error> {
        let mut entry = Entry::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let key = key.0;
            match key.as_ref() {
                "name" => entry.name = entry.text(&key, map.next_value_seed(lenient::<TextKind>())?),
                "version" => entry.version = entry.text(&key, map.next_value_seed(lenient::<TextKind>())?),
                "resolved" => {
                    // npm 5 wrote `"resolved": false` for bundled dependencies: no URL.
                    let value = map.next_value_seed(lenient::<TextKind>())?;
                    entry.resolved = if value == Err("a boolean") {
                        None
                    } else {
                        entry.text(&key, value)
                    };
                }
                "integrity" => entry.integrity = entry.text(&key, map.next_value_seed(lenient::<TextKind>())?),
                "from" => entry.from = entry.text(&key, map.next_value_seed(lenient::<TextKind>())?),
                // What npm before v7 recorded in installed package.json files
                // (read by the node_modules walker); never in lockfiles.
                "_resolved" => entry.resolved = entry.text(&key, map.next_value_seed(lenient::<TextKind>())?),
                "_integrity" => entry.integrity = entry.text(&key, map.next_value_seed(lenient::<TextKind>())?),
                "link" => entry.link = entry.flag(&key, map.next_value_seed(lenient::<FlagKind>())?),
                "dev" => entry.dev = entry.flag(&key, map.next_value_seed(lenient::<FlagKind>())?),
                "optional" => entry.optional = entry.flag(&key, map.next_value_seed(lenient::<FlagKind>())?),
                "devOptional" => entry.dev_optional = entry.flag(&key, map.next_value_seed(lenient::<FlagKind>())?),
                "peer" => entry.peer = entry.flag(&key, map.next_value_seed(lenient::<FlagKind>())?),
                "hasInstallScript" => {
                    entry.has_install_script = entry.flag(&key, map.next_value_seed(lenient::<FlagKind>())?);
                }
                "inBundle" | "bundled" => {
                    let flag = entry.flag(&key, map.next_value_seed(lenient::<FlagKind>())?);
                    entry.in_bundle |= flag;
                }
                "requires" => {
                    let names = entry.names(&key, map.next_value_seed(lenient::<NamesKind>())?);
                    entry.dependencies.extend(names);
                }
                "optionalDependencies" => {
                    entry.optional_dependencies = entry.names(&key, map.next_value_seed(lenient::<NamesKind>())?);
                }
                "peerDependencies" => {
                    entry.peer_dependencies = entry.names(&key, map.next_value_seed(lenient::<NamesKind>())?);
                }
                "devDependencies" => {
                    entry.dev_dependencies = entry.names(&key, map.next_value_seed(lenient::<NamesKind>())?);
                }
                "dependencies" => match map.next_value_seed(lenient::<DependenciesKind>())? {
                    Dependencies::Names(names) => entry.dependencies.extend(names),
                    Dependencies::Entries(children) => {
                        entry.has_children = true;
                        entry.children = children;
                    }
                    Dependencies::Wrong(found) => entry
                        .problems
                        .push(format!("`dependencies` is {found}, expected an object")),
                },
                "workspaces" => entry.workspaces = map.next_value_seed(lenient::<GlobsKind>())?,
                "lockfileVersion" => entry.lockfile_version = Some(map.next_value_seed(lenient::<ScalarKind>())?),
                "packages" => match map.next_value_seed(lenient::<EntriesKind>())? {
                    Ok(packages) => entry.packages = Some(packages),
                    Err(found) => entry.packages_not_object = Some(found),
                },
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(entry)
    }
}

impl<'a> Entry<'a> {
    pub(super) fn malformed(found: &'static str) -> Self {
        Entry {
            malformed: Some(found),
            ..Entry::default()
        }
    }

    fn text(&mut self, key: &str, value: Result<Cow<'a, str>, &'static str>) -> Option<Cow<'a, str>> {
        match value {
            Ok(text) => Some(text),
            Err("null") => None,
            Err(found) => {
                self.problems.push(format!("`{key}` is {found}, expected a string"));
                None
            }
        }
    }

    fn flag(&mut self, key: &str, value: Result<bool, &'static str>) -> bool {
        value.unwrap_or_else(|found| {
            self.problems.push(format!("`{key}` is {found}, expected a boolean"));
            false
        })
    }

    fn names(&mut self, key: &str, value: Result<Vec<Cow<'a, str>>, &'static str>) -> Vec<Cow<'a, str>> {
        value.unwrap_or_else(|found| {
            self.problems.push(format!("`{key}` is {found}, expected an object"));
            Vec::new()
        })
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(value)))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(value.to_owned())))
            }
            fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(value)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Parse the whole lockfile. Fails only on invalid JSON (or nesting deeper
/// than serde_json's recursion limit); anything else is in the returned entry.
pub(super) fn parse(contents: &str) -> Result<Entry<'_>, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(contents);
    let entry = lenient::<EntryKind>().deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(entry)
}
