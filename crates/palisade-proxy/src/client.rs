//! A blocking client of the admin API, for `palisade admin`.

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::admin::{DecisionRequest, DecisionView, ListResponse, StatsResponse, PREFIX};
use crate::store::{AuditEntry, HeldBack};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("could not reach the firewall at {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("the firewall answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("unexpected answer from the firewall: {0}")]
    Decode(String),
}

pub struct AdminClient {
    base: String,
    token: String,
    http: reqwest::blocking::Client,
}

impl AdminClient {
    pub fn new(base: &str, token: &str) -> Result<AdminClient, ClientError> {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ClientError::Unreachable {
                url: base.to_string(),
                message: e.to_string(),
            })?;
        Ok(AdminClient {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{PREFIX}/{path}", self.base)
    }

    fn read<T: DeserializeOwned>(
        &self,
        response: reqwest::Result<reqwest::blocking::Response>,
    ) -> Result<T, ClientError> {
        let response = response.map_err(|e| ClientError::Unreachable {
            url: self.base.clone(),
            message: e.without_url().to_string(),
        })?;
        let status = response.status();
        let text = response.text().map_err(|e| ClientError::Decode(e.to_string()))?;
        if !status.is_success() {
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
                .unwrap_or(if status.as_u16() == 404 {
                    "no admin API (is an admin token configured on the firewall?)".to_string()
                } else {
                    text.chars().take(300).collect()
                });
            return Err(ClientError::Status {
                status: status.as_u16(),
                message,
            });
        }
        serde_json::from_str(&text).map_err(|e| ClientError::Decode(e.to_string()))
    }

    fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.read(self.http.get(self.url(path)).bearer_auth(&self.token).send())
    }

    pub fn list(&self) -> Result<ListResponse, ClientError> {
        self.get("list")
    }

    pub fn decide(&self, approve: bool, request: &DecisionRequest) -> Result<DecisionView, ClientError> {
        let path = if approve { "approve" } else { "deny" };
        self.read(
            self.http
                .post(self.url(path))
                .bearer_auth(&self.token)
                .json(request)
                .send(),
        )
    }

    pub fn log(&self, limit: usize, package: Option<&str>) -> Result<Vec<AuditEntry>, ClientError> {
        #[derive(serde::Deserialize)]
        struct Log {
            entries: Vec<AuditEntry>,
        }
        let mut url = format!("log?limit={limit}");
        if let Some(package) = package {
            url.push_str("&package=");
            url.push_str(&url::form_urlencoded::byte_serialize(package.as_bytes()).collect::<String>());
        }
        Ok(self.get::<Log>(&url)?.entries)
    }

    pub fn stats(&self) -> Result<StatsResponse, ClientError> {
        self.get("stats")
    }

    pub fn held_back(&self, limit: usize) -> Result<Vec<HeldBack>, ClientError> {
        #[derive(serde::Deserialize)]
        struct Held {
            held_back: Vec<HeldBack>,
        }
        Ok(self.get::<Held>(&format!("held-back?limit={limit}"))?.held_back)
    }
}
