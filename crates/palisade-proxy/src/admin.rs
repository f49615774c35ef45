//! The admin API under `/-/palisade/admin/`: token-protected (compared in
//! constant time, on SHA-256 digests so the length does not leak either);
//! without a configured token the routes do not exist.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use subtle::ConstantTimeEq as _;

use crate::server::{now_text, Failure, Firewall};
use crate::store::{Decision, DecisionState, StoreStats};

pub const PREFIX: &str = "/-/palisade/admin";

/// Admin routes; `None` when no token is configured.
pub(crate) fn routes(firewall: &Arc<Firewall>) -> Option<Router<Arc<Firewall>>> {
    firewall.settings.admin_token.as_ref()?;
    Some(
        Router::new()
            .route(&format!("{PREFIX}/list"), get(list))
            .route(&format!("{PREFIX}/approve"), post(approve))
            .route(&format!("{PREFIX}/deny"), post(deny))
            .route(&format!("{PREFIX}/log"), get(log))
            .route(&format!("{PREFIX}/stats"), get(stats))
            .route(&format!("{PREFIX}/held-back"), get(held_back))
            .layer(axum::extract::DefaultBodyLimit::max(64 * 1024)),
    )
}

fn authorize(firewall: &Firewall, headers: &HeaderMap) -> Result<(), Failure> {
    let Some(expected) = &firewall.settings.admin_token else {
        return Err(Failure::new(StatusCode::NOT_FOUND, "palisade: not found"));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    let given_digest = sha2::Sha256::digest(given.as_bytes());
    let expected_digest = sha2::Sha256::digest(expected.as_bytes());
    if bool::from(given_digest.ct_eq(&expected_digest)) && !given.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            "palisade: the admin API needs `Authorization: Bearer <token>` with the configured admin token",
        ))
    }
}

/// What `palisade admin list` shows.
#[derive(Debug, Serialize, Deserialize)]
pub struct ListResponse {
    pub decisions: Vec<DecisionView>,
    pub refused_verdicts: Vec<VerdictView>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DecisionView {
    pub package: String,
    pub version: String,
    pub state: String,
    pub reason: String,
    pub actor: String,
    pub at: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct VerdictView {
    pub package: String,
    pub version: String,
    pub verdict: String,
    pub score: f64,
    pub summary: String,
    pub integrity: String,
    pub scanned_at: String,
}

async fn list(State(firewall): State<Arc<Firewall>>, headers: HeaderMap) -> Result<Json<ListResponse>, Failure> {
    authorize(&firewall, &headers)?;
    let store = firewall.store.clone();
    let (decisions, verdicts) = tokio::task::spawn_blocking(move || {
        Ok::<_, crate::store::StoreError>((store.decisions()?, store.all_verdicts(true)?))
    })
    .await
    .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(ListResponse {
        decisions: decisions
            .into_iter()
            .map(|d| DecisionView {
                package: d.package,
                version: d.version,
                state: d.state.as_str().to_string(),
                reason: d.reason,
                actor: d.actor,
                at: d.at,
            })
            .collect(),
        refused_verdicts: verdicts
            .into_iter()
            .map(|v| VerdictView {
                package: v.package,
                version: v.version,
                verdict: v.verdict.as_str().to_string(),
                score: v.score,
                summary: v.summary,
                integrity: v.integrity,
                scanned_at: v.scanned_at,
            })
            .collect(),
    }))
}

/// Body of approve and deny.
#[derive(Debug, Serialize, Deserialize)]
pub struct DecisionRequest {
    pub package: String,
    pub version: String,
    pub reason: String,
    /// Who decided (recorded in the audit log); defaults to `admin`.
    #[serde(default)]
    pub by: Option<String>,
}

fn decision(firewall: &Firewall, request: DecisionRequest, state: DecisionState) -> Result<Response, Failure> {
    palisade_registry::escape_package_name(&request.package)
        .map_err(|_| Failure::new(StatusCode::BAD_REQUEST, "palisade: not a valid package name"))?;
    let version_ok = !request.version.is_empty()
        && request.version.len() <= 256
        && request
            .version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-+_".contains(&b));
    if !version_ok {
        return Err(Failure::new(StatusCode::BAD_REQUEST, "palisade: not a valid version"));
    }
    if request.reason.trim().is_empty() {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            "palisade: a reason is required (it is recorded in the audit log)",
        ));
    }
    let actor = request
        .by
        .as_deref()
        .map(|by| format!("admin:{}", by.chars().take(100).collect::<String>()))
        .unwrap_or_else(|| "admin".to_string());
    let recorded = Decision {
        package: request.package,
        version: request.version,
        state,
        reason: request.reason.chars().take(2000).collect(),
        actor,
        at: now_text(),
    };
    firewall.decide(recorded.clone())?;
    Ok(Json(DecisionView {
        package: recorded.package,
        version: recorded.version,
        state: recorded.state.as_str().to_string(),
        reason: recorded.reason,
        actor: recorded.actor,
        at: recorded.at,
    })
    .into_response())
}

async fn approve(
    State(firewall): State<Arc<Firewall>>,
    headers: HeaderMap,
    Json(request): Json<DecisionRequest>,
) -> Result<Response, Failure> {
    authorize(&firewall, &headers)?;
    tokio::task::spawn_blocking(move || decision(&firewall, request, DecisionState::Approved))
        .await
        .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

async fn deny(
    State(firewall): State<Arc<Firewall>>,
    headers: HeaderMap,
    Json(request): Json<DecisionRequest>,
) -> Result<Response, Failure> {
    authorize(&firewall, &headers)?;
    tokio::task::spawn_blocking(move || decision(&firewall, request, DecisionState::Denied))
        .await
        .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

#[derive(Debug, Deserialize)]
struct LogQuery {
    limit: Option<usize>,
    package: Option<String>,
}

async fn log(
    State(firewall): State<Arc<Firewall>>,
    headers: HeaderMap,
    Query(query): Query<LogQuery>,
) -> Result<Response, Failure> {
    authorize(&firewall, &headers)?;
    let store = firewall.store.clone();
    let limit = query.limit.unwrap_or(100).min(10_000);
    let entries = tokio::task::spawn_blocking(move || store.audit(limit, query.package.as_deref()))
        .await
        .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(serde_json::json!({ "entries": entries })).into_response())
}

#[derive(Debug, Serialize, Deserialize)]
pub struct StatsResponse {
    pub store: StoreStats,
    pub requests: u64,
    pub packuments_served: u64,
    pub tarballs_served: u64,
    pub refused: u64,
    pub upstream_fetches: u64,
    pub upstream_errors: u64,
    pub scans: u64,
    pub stale_served: u64,
    pub not_modified: u64,
    pub audit_dropped: u64,
}

async fn stats(State(firewall): State<Arc<Firewall>>, headers: HeaderMap) -> Result<Json<StatsResponse>, Failure> {
    authorize(&firewall, &headers)?;
    let store = firewall.store.clone();
    let stored = tokio::task::spawn_blocking(move || store.stats())
        .await
        .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let c = &firewall.counters;
    let load = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
    Ok(Json(StatsResponse {
        store: stored,
        requests: load(&c.requests),
        packuments_served: load(&c.packuments_served),
        tarballs_served: load(&c.tarballs_served),
        refused: load(&c.refused),
        upstream_fetches: load(&c.upstream_fetches),
        upstream_errors: load(&c.upstream_errors),
        scans: load(&c.scans),
        stale_served: load(&c.stale_served),
        not_modified: load(&c.not_modified),
        audit_dropped: load(&c.audit_dropped),
    }))
}

#[derive(Debug, Deserialize)]
struct LimitQuery {
    limit: Option<usize>,
}

async fn held_back(
    State(firewall): State<Arc<Firewall>>,
    headers: HeaderMap,
    Query(query): Query<LimitQuery>,
) -> Result<Response, Failure> {
    authorize(&firewall, &headers)?;
    let store = firewall.store.clone();
    let limit = query.limit.unwrap_or(100).min(10_000);
    let entries = tokio::task::spawn_blocking(move || store.held_back(limit))
        .await
        .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(serde_json::json!({ "held_back": entries })).into_response())
}
