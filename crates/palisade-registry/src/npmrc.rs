//! `.npmrc` configuration: which registry serves a package, and which
//! credentials go with a URL.
//!
//! Follows <https://docs.npmjs.com/cli/v10/configuring-npm/npmrc> and the
//! behaviour of npm 10 (`@npmcli/config`, `npm-registry-fetch`):
//!
//! - **Files and precedence** (highest first): the `--registry` override
//!   given to the client builder, the environment (`NPM_CONFIG_REGISTRY`,
//!   `npm_config_registry`), the project `.npmrc`, the user `.npmrc`
//!   (`$NPM_CONFIG_USERCONFIG`, default `~/.npmrc`). The global
//!   `$PREFIX/etc/npmrc` and npm's builtin config are not read.
//! - **Project file**: npm reads `.npmrc` in the project root, the nearest
//!   ancestor of the working directory that holds a `package.json` or a
//!   `node_modules` directory. [`NpmrcConfig::load`] walks up the same way
//!   and falls back to the start directory.
//! - **Format**: ini; `key=value` lines, `;` and `#` comments, optional
//!   quotes around values, `[section]` headers ignored (npm does not use
//!   them for registry settings).
//! - **Environment expansion** in keys and values: `${VAR}` is replaced by
//!   the variable; an unset variable stays as written (`${VAR}`);
//!   `${VAR?}` becomes empty when unset; `\${VAR}` is a literal `${VAR}`.
//!   (Checked against npm 10 on this machine.)
//! - **Scoped registries**: `@scope:registry=URL` serves every `@scope/…`
//!   package.
//! - **Credentials** are keyed by a "nerf-darted" URL, the URL without
//!   scheme, credentials, query and fragment, ending in `/`:
//!   `//registry.example.com/npm/:_authToken=…`. The credential sent with a
//!   request is the one whose key is the **longest prefix** of the request
//!   URL's nerf dart (npm walks up the URL's path one segment at a time).
//!   So a token for `//registry.example.com/` is never sent to another host,
//!   including a tarball URL that points elsewhere.
//!   Keys: `_authToken` (bearer), `_auth` (base64 `user:password`, basic),
//!   `username` + `_password` (password base64-encoded, basic).
//!   Unscoped `_authToken`/`_auth`/`username`/`_password` (npm < 9 style) are
//!   applied to the default registry, which is what `npm config fix`
//!   migrates them to.
//! - `always-auth` is parsed and exposed. npm ≥ 7 sends matching credentials
//!   on every request, so it changes nothing here.
//! - **Trust**: `cafile=PATH` (npm: "a path to a file containing one or
//!   multiple Certificate Authority signing certificates") and `ca=PEM` /
//!   `ca[]=PEM` add roots; so do `NODE_EXTRA_CA_CERTS` (honoured by node, hence
//!   npm) and `SSL_CERT_FILE` (the system bundle on most Linux setups, and how
//!   TLS-intercepting networks and mirrors are trusted). The built-in web PKI
//!   roots stay trusted. A missing `cafile` is an error, as in npm; a missing
//!   file named by an environment variable is skipped.
//!
//! - **Proxies**: `https-proxy` for https requests (falling back to
//!   `proxy`), `proxy` for http requests, `noproxy` (comma-separated hosts or
//!   domains that bypass them). Without these, reqwest's usual
//!   `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` environment variables apply.
//!
//! Secrets are held in [`Secret`], whose `Debug` and `Display` are redacted.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use url::Url;

use crate::error::RegistryError;

/// The public npm registry, npm's default.
pub const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org/";

/// Internal key for CA files named by environment variables (cannot appear
/// in a file: `.npmrc` keys never contain a NUL).
const ENV_CA_KEY: &str = "\0env-cafile";

/// Largest `.npmrc` we read. Real ones are a few hundred bytes.
const MAX_NPMRC_SIZE: u64 = 1024 * 1024;

/// A secret string (token, password). Never shown by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself. Call only to put it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Credentials for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <token>` (from `_authToken`).
    Bearer(Secret),
    /// `Authorization: Basic <base64(user:password)>` (from `_auth`, or
    /// `username` + `_password`). Holds the already-encoded credentials.
    Basic(Secret),
}

impl Auth {
    /// The `Authorization` header value.
    pub fn header_value(&self) -> String {
        match self {
            Auth::Bearer(token) => format!("Bearer {}", token.expose()),
            Auth::Basic(encoded) => format!("Basic {}", encoded.expose()),
        }
    }
}

/// Credentials found for one nerf-darted prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Credentials {
    auth_token: Option<Secret>,
    auth: Option<Secret>,
    username: Option<String>,
    password_base64: Option<Secret>,
    always_auth: Option<bool>,
}

impl Credentials {
    fn is_empty(&self) -> bool {
        self.auth_token.is_none() && self.auth.is_none() && self.username.is_none() && self.password_base64.is_none()
    }

    /// npm-registry-fetch prefers a token, then `_auth`, then
    /// username/password.
    fn to_auth(&self) -> Option<Auth> {
        if let Some(token) = &self.auth_token {
            return Some(Auth::Bearer(token.clone()));
        }
        if let Some(auth) = &self.auth {
            return Some(Auth::Basic(auth.clone()));
        }
        if let (Some(username), Some(password)) = (&self.username, &self.password_base64) {
            // `_password` is stored base64-encoded in .npmrc.
            let password = STANDARD.decode(password.expose().trim()).ok()?;
            let password = String::from_utf8(password).ok()?;
            return Some(Auth::Basic(Secret::new(
                STANDARD.encode(format!("{username}:{password}")),
            )));
        }
        None
    }
}

/// Where a setting came from, for diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An `.npmrc` file.
    File(PathBuf),
    /// An environment variable.
    Environment(String),
    /// Set by the program (`--registry`, tests).
    Explicit,
}

/// The registry settings of the `.npmrc` files and environment that apply
/// to a project.
#[derive(Clone, PartialEq, Eq)]
pub struct NpmrcConfig {
    registry: Url,
    registry_source: Source,
    scoped: BTreeMap<String, Url>,
    /// Keyed by nerf dart (`//host[:port]/path/`).
    credentials: BTreeMap<String, Credentials>,
    always_auth: bool,
    files: Vec<PathBuf>,
    ca_files: Vec<CaFile>,
    ca_pems: Vec<String>,
    /// Proxy URLs may carry credentials: kept as secrets.
    proxy: Option<Secret>,
    https_proxy: Option<Secret>,
    noproxy: Option<String>,
}

/// A file of PEM certificates to trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaFile {
    /// The path.
    pub path: PathBuf,
    /// Whether a missing file is an error (`cafile` in `.npmrc`) or skipped
    /// (an environment variable).
    pub required: bool,
}

impl fmt::Debug for NpmrcConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Credentials are listed by prefix only: never their values.
        f.debug_struct("NpmrcConfig")
            .field("registry", &self.registry.as_str())
            .field("registry_source", &self.registry_source)
            .field(
                "scoped",
                &self
                    .scoped
                    .iter()
                    .map(|(k, v)| (k, v.as_str()))
                    .collect::<BTreeMap<_, _>>(),
            )
            .field("credentials_for", &self.credentials.keys().collect::<Vec<_>>())
            .field("always_auth", &self.always_auth)
            .field("files", &self.files)
            .field("ca_files", &self.ca_files)
            .field("ca_pems", &self.ca_pems.len())
            .field(
                "proxy",
                &self
                    .proxy
                    .as_ref()
                    .map(|proxy| crate::error::redact_url_str(proxy.expose())),
            )
            .field(
                "https_proxy",
                &self
                    .https_proxy
                    .as_ref()
                    .map(|proxy| crate::error::redact_url_str(proxy.expose())),
            )
            .field("noproxy", &self.noproxy)
            .finish()
    }
}

impl Default for NpmrcConfig {
    fn default() -> Self {
        NpmrcConfig {
            registry: default_registry(),
            registry_source: Source::Explicit,
            scoped: BTreeMap::new(),
            credentials: BTreeMap::new(),
            always_auth: false,
            files: Vec::new(),
            ca_files: Vec::new(),
            ca_pems: Vec::new(),
            proxy: None,
            https_proxy: None,
            noproxy: None,
        }
    }
}

fn default_registry() -> Url {
    // Invariant: a constant, valid URL.
    Url::parse(DEFAULT_REGISTRY).unwrap_or_else(|_| unreachable!("DEFAULT_REGISTRY is a valid URL"))
}

/// The environment lookups `.npmrc` loading needs; a trait so tests do not
/// touch the process environment.
pub trait Environment {
    /// The value of a variable, if set.
    fn var(&self, name: &str) -> Option<String>;
    /// The home directory.
    fn home_dir(&self) -> Option<PathBuf>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
    fn home_dir(&self) -> Option<PathBuf> {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|path| !path.as_os_str().is_empty())
    }
}

impl<F> Environment for F
where
    F: Fn(&str) -> Option<String>,
{
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
    fn home_dir(&self) -> Option<PathBuf> {
        self("HOME").map(PathBuf::from)
    }
}

/// One parsed `.npmrc` (before precedence is applied).
#[derive(Debug, Clone, Default)]
struct ParsedFile {
    entries: Vec<(String, String)>,
}

impl NpmrcConfig {
    /// Load the configuration for a project directory from the real
    /// environment: project `.npmrc`, user `.npmrc`, `NPM_CONFIG_REGISTRY`.
    pub fn load(project_dir: &Path) -> Result<Self, RegistryError> {
        Self::load_with(project_dir, &ProcessEnvironment)
    }

    /// [`NpmrcConfig::load`] with an explicit environment.
    pub fn load_with(project_dir: &Path, env: &dyn Environment) -> Result<Self, RegistryError> {
        let user_file = env
            .var("NPM_CONFIG_USERCONFIG")
            .or_else(|| env.var("npm_config_userconfig"))
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
            .or_else(|| env.home_dir().map(|home| home.join(".npmrc")));
        let project_file = project_root(project_dir).join(".npmrc");

        let mut layers: Vec<(Source, ParsedFile)> = Vec::new();
        // Lowest precedence first.
        if let Some(user_file) = &user_file {
            if let Some(parsed) = read_file(user_file, env)? {
                layers.push((Source::File(user_file.clone()), parsed));
            }
        }
        // When the project is the home directory both are the same file:
        // read it once.
        if user_file.as_deref() != Some(project_file.as_path()) {
            if let Some(parsed) = read_file(&project_file, env)? {
                layers.push((Source::File(project_file), parsed));
            }
        }
        for name in ["NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE"] {
            if let Some(value) = env.var(name).filter(|value| !value.is_empty()) {
                layers.push((
                    Source::Environment(name.to_owned()),
                    ParsedFile {
                        entries: vec![(ENV_CA_KEY.to_owned(), value)],
                    },
                ));
            }
        }
        for name in ["npm_config_registry", "NPM_CONFIG_REGISTRY"] {
            if let Some(value) = env.var(name).filter(|value| !value.is_empty()) {
                layers.push((
                    Source::Environment(name.to_owned()),
                    ParsedFile {
                        entries: vec![("registry".to_owned(), value)],
                    },
                ));
                // npm treats the two spellings as one key; upper case wins
                // here only because it is checked last.
            }
        }
        Self::from_layers(layers)
    }

    /// Parse the text of one `.npmrc` (for tests and for callers that found
    /// the file themselves).
    pub fn parse(text: &str, env: &dyn Environment) -> Result<Self, RegistryError> {
        Self::from_layers(vec![(Source::Explicit, parse_text(text, env))])
    }

    fn from_layers(layers: Vec<(Source, ParsedFile)>) -> Result<Self, RegistryError> {
        let mut config = NpmrcConfig::default();
        // Unscoped credentials apply to the final default registry, which is
        // only known once every layer is read.
        let mut legacy = Credentials::default();
        for (source, parsed) in layers {
            if let Source::File(path) = &source {
                config.files.push(path.clone());
            }
            for (key, value) in parsed.entries {
                config.apply(&source, &key, value, &mut legacy)?;
            }
        }
        if !legacy.is_empty() {
            let key = nerf_dart(&config.registry);
            let entry = config.credentials.entry(key).or_default();
            // A credential scoped to the registry URL wins over a legacy one.
            if entry.is_empty() {
                let always_auth = entry.always_auth;
                *entry = legacy;
                entry.always_auth = entry.always_auth.or(always_auth);
            }
        }
        Ok(config)
    }

    fn apply(
        &mut self,
        source: &Source,
        key: &str,
        value: String,
        legacy: &mut Credentials,
    ) -> Result<(), RegistryError> {
        if key == "registry" {
            self.registry = parse_registry_url(&value, source)?;
            self.registry_source = source.clone();
            return Ok(());
        }
        if let Some(scope) = key.strip_suffix(":registry").filter(|scope| scope.starts_with('@')) {
            self.scoped
                .insert(scope.to_owned(), parse_registry_url(&value, source)?);
            return Ok(());
        }
        if key.starts_with("//") {
            // `//host/path/:_authToken`: the prefix is everything up to the
            // last `:` (a port is before the path, so it is not the last).
            let Some((prefix, setting)) = key.rsplit_once(':') else {
                return Ok(());
            };
            let prefix = normalise_prefix(prefix);
            let entry = self.credentials.entry(prefix).or_default();
            set_credential(entry, setting, value);
            return Ok(());
        }
        if key == "cafile" || key == ENV_CA_KEY {
            let path = PathBuf::from(value.trim());
            // A relative cafile is relative to the .npmrc that names it.
            let path = match source {
                Source::File(file) if path.is_relative() => file.parent().map_or(path.clone(), |dir| dir.join(&path)),
                _ => path,
            };
            self.ca_files.push(CaFile {
                path,
                required: key == "cafile",
            });
            return Ok(());
        }
        match key {
            "proxy" | "https-proxy" => {
                // `proxy=false` / empty turns a lower-precedence setting off.
                let value = value.trim();
                let setting = (!value.is_empty() && value != "false" && value != "null").then(|| Secret::new(value));
                if key == "proxy" {
                    self.proxy = setting;
                } else {
                    self.https_proxy = setting;
                }
                return Ok(());
            }
            "noproxy" | "no-proxy" => {
                self.noproxy = Some(value.trim().to_owned()).filter(|value| !value.is_empty());
                return Ok(());
            }
            _ => {}
        }
        if key == "ca" || key == "ca[]" {
            // npm writes newlines in `ca` values as `\n`.
            if value.contains("BEGIN CERTIFICATE") {
                self.ca_pems.push(value.replace("\\n", "\n"));
            }
            return Ok(());
        }
        if key == "always-auth" {
            self.always_auth = parse_bool(&value);
            return Ok(());
        }
        set_credential(legacy, key, value);
        Ok(())
    }

    /// Set the default registry (what `--registry` does). Must be http(s).
    pub fn set_registry(&mut self, registry: &str) -> Result<(), RegistryError> {
        self.registry = parse_registry_url(registry, &Source::Explicit)?;
        self.registry_source = Source::Explicit;
        Ok(())
    }

    /// Add a bearer token for a URL prefix (`https://host/path/`), as a
    /// `//host/path/:_authToken` line would.
    pub fn set_token(&mut self, registry: &Url, token: Secret) {
        self.credentials.entry(nerf_dart(registry)).or_default().auth_token = Some(token);
    }

    /// The default registry, always ending in `/`.
    pub fn registry(&self) -> &Url {
        &self.registry
    }

    /// Where the default registry setting came from.
    pub fn registry_source(&self) -> &Source {
        &self.registry_source
    }

    /// The registry that serves `package_name`: its scope's registry when
    /// `@scope:registry` is set, the default registry otherwise.
    pub fn registry_for(&self, package_name: &str) -> &Url {
        package_scope(package_name)
            .and_then(|scope| self.scoped.get(scope))
            .unwrap_or(&self.registry)
    }

    /// Every `@scope:registry` setting.
    pub fn scoped_registries(&self) -> impl Iterator<Item = (&str, &Url)> {
        self.scoped.iter().map(|(scope, url)| (scope.as_str(), url))
    }

    /// The credentials to send with a request to `url`: those of the
    /// longest nerf-darted prefix of `url` that has any.
    ///
    /// Nerf darts ignore the scheme, so npm would also send a token for
    /// `//host/` to `http://host/…` (a tarball URL in a packument is
    /// outside data). We send credentials over plain http only when a
    /// configured registry on that host and port is itself http.
    pub fn auth_for(&self, url: &Url) -> Option<Auth> {
        let target = nerf_dart_of_request(url)?;
        if url.scheme() != "https" && !self.plain_http_registry(url) {
            return None;
        }
        self.credentials
            .iter()
            .filter(|(prefix, credentials)| target.starts_with(prefix.as_str()) && !credentials.is_empty())
            .max_by_key(|(prefix, _)| prefix.len())
            .and_then(|(_, credentials)| credentials.to_auth())
    }

    fn plain_http_registry(&self, url: &Url) -> bool {
        std::iter::once(&self.registry)
            .chain(self.scoped.values())
            .any(|registry| {
                registry.scheme() == "http"
                    && registry.host_str() == url.host_str()
                    && registry.port_or_known_default() == url.port_or_known_default()
            })
    }

    /// Whether `always-auth` is set (globally or for the prefix of `url`).
    pub fn always_auth(&self, url: &Url) -> bool {
        let scoped = nerf_dart_of_request(url).and_then(|target| {
            self.credentials
                .iter()
                .filter(|(prefix, credentials)| {
                    target.starts_with(prefix.as_str()) && credentials.always_auth.is_some()
                })
                .max_by_key(|(prefix, _)| prefix.len())
                .and_then(|(_, credentials)| credentials.always_auth)
        });
        scoped.unwrap_or(self.always_auth)
    }

    /// Extra CA certificate files to trust (see module docs).
    pub fn ca_files(&self) -> &[CaFile] {
        &self.ca_files
    }

    /// Extra CA certificates given inline (`ca=`), PEM.
    pub fn ca_pems(&self) -> &[String] {
        &self.ca_pems
    }

    /// The proxy for requests to `url` (`https-proxy` or `proxy`), if set.
    /// It may contain credentials: do not show it (use
    /// [`crate::error::redact_url_str`]).
    pub fn proxy_for_scheme(&self, scheme: &str) -> Option<&Secret> {
        match scheme {
            "https" => self.https_proxy.as_ref().or(self.proxy.as_ref()),
            _ => self.proxy.as_ref(),
        }
    }

    /// The `noproxy` list, as written.
    pub fn noproxy(&self) -> Option<&str> {
        self.noproxy.as_deref()
    }

    /// Trust the PEM certificates in `path` too.
    pub fn add_ca_file(&mut self, path: impl Into<PathBuf>) {
        self.ca_files.push(CaFile {
            path: path.into(),
            required: true,
        });
    }

    /// The `.npmrc` files that were read, lowest precedence first.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }
}

fn set_credential(entry: &mut Credentials, setting: &str, value: String) {
    match setting {
        "_authToken" => entry.auth_token = Some(Secret::new(value)),
        "_auth" => entry.auth = Some(Secret::new(value)),
        "username" => entry.username = Some(value),
        "_password" => entry.password_base64 = Some(Secret::new(value)),
        "always-auth" => entry.always_auth = Some(parse_bool(&value)),
        // certfile, keyfile, email, …: not used by this client.
        _ => {}
    }
}

fn parse_bool(value: &str) -> bool {
    matches!(value.trim(), "true" | "1")
}

fn parse_registry_url(value: &str, source: &Source) -> Result<Url, RegistryError> {
    let mut url = Url::parse(value.trim()).map_err(|error| RegistryError::Config {
        message: format!(
            "registry URL `{}` is not a valid URL ({error})",
            crate::error::redact_url_str(value)
        ),
        source_name: describe_source(source),
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(RegistryError::Config {
            message: format!(
                "registry URL `{}` must be http or https",
                crate::error::redact_url(&url)
            ),
            source_name: describe_source(source),
        });
    }
    // npm treats the registry as a directory: `https://r/npm` and
    // `https://r/npm/` are the same registry, and relative joins need the
    // trailing slash.
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

fn describe_source(source: &Source) -> String {
    match source {
        Source::File(path) => path.display().to_string(),
        Source::Environment(name) => format!("environment variable {name}"),
        Source::Explicit => "--registry".to_owned(),
    }
}

/// The scope of `@scope/name`, with its `@`.
pub fn package_scope(package_name: &str) -> Option<&str> {
    if !package_name.starts_with('@') {
        return None;
    }
    package_name.split_once('/').map(|(scope, _)| scope)
}

/// npm's "nerf dart" of a registry URL: `//host[:port]/path/`, no scheme,
/// credentials, query or fragment, ending in `/` (the `nerf-dart` package).
pub fn nerf_dart(url: &Url) -> String {
    let mut out = String::from("//");
    out.push_str(url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        out.push(':');
        out.push_str(&port.to_string());
    }
    let path = url.path();
    // The directory part: up to and including the last `/`.
    match path.rfind('/') {
        Some(index) => out.push_str(&path[..=index]),
        None => out.push('/'),
    }
    out
}

/// The nerf dart of a request URL, keeping its full path, so prefixes can
/// be matched against it.
fn nerf_dart_of_request(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    let mut out = format!("//{host}");
    if let Some(port) = url.port() {
        out.push(':');
        out.push_str(&port.to_string());
    }
    out.push_str(url.path());
    Some(out)
}

/// Keys in `.npmrc` are written by hand; normalise the forms npm treats as
/// equal: a missing trailing `/` (`//host/npm` is the directory `npm/`),
/// default ports, upper-case hosts.
fn normalise_prefix(prefix: &str) -> String {
    match Url::parse(&format!("https:{prefix}")) {
        Ok(url) => {
            let mut out = String::from("//");
            out.push_str(url.host_str().unwrap_or_default());
            if let Some(port) = url.port() {
                out.push(':');
                out.push_str(&port.to_string());
            }
            out.push_str(url.path());
            if !out.ends_with('/') {
                out.push('/');
            }
            out
        }
        Err(_) => prefix.to_owned(),
    }
}

/// The project root as npm finds it: the nearest ancestor (or the directory
/// itself) with a `package.json` or a `node_modules` directory.
fn project_root(start: &Path) -> PathBuf {
    for ancestor in start.ancestors() {
        if ancestor.join("package.json").is_file() || ancestor.join("node_modules").is_dir() {
            return ancestor.to_path_buf();
        }
    }
    start.to_path_buf()
}

fn read_file(path: &Path, env: &dyn Environment) -> Result<Option<ParsedFile>, RegistryError> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(RegistryError::Io {
                action: format!("read `{}`", path.display()),
                source: error,
            })
        }
    };
    if !metadata.is_file() {
        return Ok(None);
    }
    if metadata.len() > MAX_NPMRC_SIZE {
        return Err(RegistryError::Config {
            message: format!("file is larger than {MAX_NPMRC_SIZE} bytes"),
            source_name: path.display().to_string(),
        });
    }
    let bytes = std::fs::read(path).map_err(|error| RegistryError::Io {
        action: format!("read `{}`", path.display()),
        source: error,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(Some(parse_text(&text, env)))
}

fn parse_text(text: &str, env: &dyn Environment) -> ParsedFile {
    let mut entries = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') || line.starts_with('[') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            // ini: a bare key is `true`.
            entries.push((expand_env(line, env), "true".to_owned()));
            continue;
        };
        let key = expand_env(key.trim(), env);
        let value = expand_env(&unquote(value.trim()), env);
        entries.push((key, value));
    }
    ParsedFile { entries }
}

fn unquote(value: &str) -> String {
    for quote in ['"', '\''] {
        if value.len() >= 2 && value.starts_with(quote) && value.ends_with(quote) {
            return value[1..value.len() - 1].to_owned();
        }
    }
    value.to_owned()
}

/// `${VAR}` expansion as `@npmcli/config` does it (see module docs).
pub fn expand_env(value: &str, env: &dyn Environment) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let before = &rest[..start];
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let inner = &rest[start + 2..start + end];
        let original = &rest[start..=start + end];
        // Count the backslashes just before `${`: an odd number escapes it.
        let backslashes = before.chars().rev().take_while(|&c| c == '\\').count();
        if backslashes % 2 == 1 {
            out.push_str(&before[..before.len() - 1]);
            out.push_str(original);
        } else if inner.is_empty() || inner.contains('$') || inner.contains('{') {
            out.push_str(before);
            out.push_str(original);
        } else {
            out.push_str(before);
            let (name, optional) = match inner.strip_suffix('?') {
                Some(name) => (name, true),
                None => (inner, false),
            };
            match env.var(name) {
                Some(found) => out.push_str(&found),
                None if optional => {}
                None => out.push_str(original),
            }
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn nerf_darts() {
        let url = Url::parse("https://user:pw@Registry.Example.com:8443/npm/pkg?x=1#y").expect("valid");
        assert_eq!(nerf_dart(&url), "//registry.example.com:8443/npm/");
        let url = Url::parse("https://registry.npmjs.org/").expect("valid");
        assert_eq!(nerf_dart(&url), "//registry.npmjs.org/");
        assert_eq!(
            normalise_prefix("//registry.example.com/npm"),
            "//registry.example.com/npm/"
        );
        assert_eq!(
            normalise_prefix("//registry.example.com:443/npm/"),
            "//registry.example.com/npm/"
        );
        assert_eq!(normalise_prefix("//registry.example.com"), "//registry.example.com/");
    }

    #[test]
    fn env_expansion_matches_npm() {
        let env = env(&[("PAL_X", "hello")]);
        assert_eq!(expand_env("a/${PAL_X}/b", &env), "a/hello/b");
        assert_eq!(expand_env("${PAL_UNSET}", &env), "${PAL_UNSET}");
        assert_eq!(expand_env("${PAL_UNSET?}", &env), "");
        assert_eq!(expand_env("\\${PAL_X}", &env), "${PAL_X}");
        assert_eq!(expand_env("\\\\${PAL_X}", &env), "\\\\hello");
        assert_eq!(expand_env("${PAL_X}${PAL_X}", &env), "hellohello");
        assert_eq!(expand_env("${unterminated", &env), "${unterminated");
    }

    #[test]
    fn package_scopes() {
        assert_eq!(package_scope("@types/node"), Some("@types"));
        assert_eq!(package_scope("lodash"), None);
        assert_eq!(package_scope("@broken"), None);
    }
}
