//! faceproof demo relying party: serves the demo app (`www/`) and the npm package (`pkg/`),
//! and the JSON API below, with a real SQLite file. Verification is the protocol crate's
//! (`faceproof_protocol::Verifier`), with the challenges table as its nonce store.
//!
//! ```text
//! POST /api/onboard    {username}  -> {enrollmentToken, username, expiresAt}
//! POST /api/enroll/evaluate {username, enrollmentToken, blinded (base64)} -> {evaluated (base64)}
//! POST /api/enroll     {username, enrollmentToken, publicKey (hex), reference (base64)} -> 201 {ok, user}
//! POST /api/challenge  {username}  -> {challenge: {rpId, nonce, expiresAt}, reference, livenessRequired}
//! POST /api/evaluate   {username, nonce (hex), blinded (base64)} -> {evaluated (base64)}
//! POST /api/login      {username, proof (base64)}  -> {ok, user} + session cookie
//! GET  /api/me         -> {user}                   POST /api/logout
//! ```
//! Errors are `{error: CODE, message}` with 400 (malformed), 401 (rejected), 403 (token of
//! another user), 409 (name taken), 413 (too large), 429 (rate limited, with `Retry-After`),
//! 500 (database). A name nobody enrolled gets a challenge and a decoy reference like an
//! enrolled one (`decoy.rs`), its evaluations a decoy key, and its logins fail like wrong proofs.
//!
//! The evaluations are this relying party's share of every lock (an oblivious PRF under a key
//! per user): without them no face opens a reference, so each face guess is one evaluation,
//! and each evaluation of a login counts as a failed login until that login succeeds.

mod db;
mod decoy;
mod limits;
mod names;
#[cfg(test)]
mod tests;

use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, State};
use axum::http::{header, request::Parts, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use clap::Parser;
use db::Db;
use decoy::Decoys;
use faceproof_protocol::{
    check_public_key, evaluate_batch, hex32, max_login_elements, random_bytes, reference_header, Challenge, Enrolled,
    LivenessPolicy, LockParams, NonceStore, OprfKey, OsRng, Verifier, ELEMENT_BYTES,
};
use limits::*;
use names::Username;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tower_http::services::ServeDir;

const SESSION_MS: u64 = 3_600_000;
const CHALLENGE_TTL_MS: u64 = 120_000;
const ENROLLMENT_TOKEN_TTL_MS: u64 = 15 * 60_000;
/// Room above a default-parameter reference's size for the largest reference accepted.
const REFERENCE_MARGIN: usize = 8 * 1024;
/// Request bodies other than enrollment's (a username, a proof of at most 461 bytes).
const SMALL_BODY: usize = 4 * 1024;
/// The embedder whose references this relying party accepts (the one its app ships).
const DEFAULT_MODEL: &str = "mobilefacenet-192";

struct App {
    /// One connection per process; other processes may share the file.
    db: Mutex<Db>,
    rp_id: String,
    model: String,
    liveness: LivenessPolicy,
    /// Take the client's address from `X-Forwarded-For` (behind a proxy that sets it).
    trust_proxy: bool,
    decoys: Decoys,
}

type Shared = Arc<App>;

impl App {
    fn new(db: Db, rp_id: &str, model: &str, liveness: LivenessPolicy, trust_proxy: bool) -> Result<App, String> {
        faceproof_protocol::check_rp_id(rp_id).map_err(|e| e.to_string())?;
        let fresh: [u8; 32] = random_bytes(&mut OsRng).map_err(|e| e.to_string())?;
        let key = zeroize::Zeroizing::new(db.server_key("decoy", &fresh).map_err(|e| e.to_string())?);
        let decoys = Decoys::new(&key, rp_id, model);
        Ok(App { db: Mutex::new(db), rp_id: rp_id.into(), model: model.into(), liveness, trust_proxy, decoys })
    }

    /// The database, or a 500 if a handler panicked while holding it.
    fn db(&self) -> Result<std::sync::MutexGuard<'_, Db>, ApiError> {
        self.db.lock().map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "DATABASE", "lock poisoned"))
    }

    /// The largest reference accepted: a default-parameter one with some room.
    fn max_reference(&self) -> usize {
        decoy::header_len(self.rp_id.len(), self.model.len())
            + decoy::sealed_len(LockParams::DEFAULT)
            + REFERENCE_MARGIN
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// An API error: HTTP status + stable code + message (+ seconds to wait, for 429).
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after_s: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), retry_after_s: None }
    }

    fn rate_limited(retry_after_ms: u64) -> ApiError {
        let s = retry_after_ms.div_ceil(1000).max(1);
        ApiError {
            retry_after_s: Some(s),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED", format!("too many requests: retry in {s} s"))
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({"error": self.code, "message": self.message}));
        match self.retry_after_s {
            Some(s) => (self.status, [(header::RETRY_AFTER, s.to_string())], body).into_response(),
            None => (self.status, body).into_response(),
        }
    }
}

fn bad(code: &'static str, msg: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, msg)
}

fn db_error(e: rusqlite::Error) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "DATABASE", e.to_string())
}

fn internal(e: faceproof_protocol::Error) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.code(), e.to_string())
}

fn username(input: &str) -> Result<Username, ApiError> {
    names::normalize(input).map_err(|m| bad("BAD_USERNAME", m))
}

/// Count the request against every limit, or refuse it with 429.
fn limit(db: &Db, checks: &[(Limit, &str)], now: u64) -> Result<(), ApiError> {
    db.hit(checks, now).map_err(db_error)?.map_err(ApiError::rate_limited)
}

/// A login attempt or a login's evaluation: counted against the login request limits and,
/// up front, against the failed-login budgets (per name, per name and client), which are given
/// back once it turns out not to be a failure.
struct FailedLoginCharge {
    user: String,
    user_client: String,
}

impl FailedLoginCharge {
    fn take(db: &Db, client: &str, user: &str, now: u64) -> Result<Self, ApiError> {
        let charge = FailedLoginCharge { user: user.to_string(), user_client: format!("{user} {client}") };
        let checks = [
            (LOGIN_PER_CLIENT, client),
            (LOGIN_PER_USER, user),
            (FAILED_LOGIN_PER_USER, charge.user.as_str()),
            (FAILED_LOGIN_PER_USER_CLIENT, charge.user_client.as_str()),
        ];
        limit(db, &checks, now)?;
        Ok(charge)
    }

    /// Give back `times` charges of both failed-login budgets.
    fn refund(&self, db: &Db, times: usize, now: u64) -> Result<(), ApiError> {
        for _ in 0..times {
            db.refund(FAILED_LOGIN_PER_USER, &self.user, now).map_err(db_error)?;
            db.refund(FAILED_LOGIN_PER_USER_CLIENT, &self.user_client, now).map_err(db_error)?;
        }
        Ok(())
    }
}

/// Who is asking, for the per-client limits: the peer's IP address (an IPv6 address by its /64,
/// what one subscriber usually holds), or with `--trust-proxy` the first address of
/// `X-Forwarded-For`.
struct Client(String);

fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

impl FromRequestParts<Shared> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Client, ApiError> {
        if app.trust_proxy {
            if let Some(v) = parts.headers.get("x-forwarded-for") {
                let first = v.to_str().ok().and_then(|s| s.split(',').next()).map(str::trim).unwrap_or("");
                let ip: IpAddr = first
                    .parse()
                    .map_err(|_| bad("BAD_FORWARDED_FOR", "X-Forwarded-For must start with an IP address"))?;
                return Ok(Client(client_key(ip)));
            }
        }
        let peer = ConnectInfo::<SocketAddr>::from_request_parts(parts, app).await.map_err(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "NO_CLIENT_ADDRESS", "the client's address is unknown")
        })?;
        Ok(Client(client_key(peer.0.ip())))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OnboardRequest {
    username: String,
}

/// Reserve a username and issue its one-time enrollment token.
async fn onboard(
    State(app): State<Shared>,
    Client(client): Client,
    Json(req): Json<OnboardRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let user = username(&req.username)?;
    let now = now_ms();
    let db = app.db()?;
    limit(&db, &[(ONBOARD_PER_CLIENT, &client), (ONBOARD_PER_USER, &user.id)], now)?;
    // ---- Where a real deployment decides. This demo has no identity check: it issues a token
    // to anyone who asks for a free name. A relying party issues the enrollment token only
    // after its own identity check (KYC: ID document, bank account, in-person visit...) has
    // passed for this person, and binds the username to that verified identity. The face
    // comparison with an ID photo that the demo page runs in the browser is advice to the
    // user, not evidence for the server: nothing the browser says about a face is proof.
    let token: [u8; 32] = random_bytes(&mut OsRng).map_err(internal)?;
    let hash: [u8; 32] = Sha256::digest(token).into();
    let expires_at = now + ENROLLMENT_TOKEN_TTL_MS;
    // this user's OPRF key: drawn now, kept with the token until enrollment moves it to the user
    let oprf_key = zeroize::Zeroizing::new(OprfKey::generate(&mut OsRng).map_err(internal)?.to_bytes());
    if !db.reserve(&user, &hash, &oprf_key, expires_at, now).map_err(db_error)? {
        return Err(ApiError::new(StatusCode::CONFLICT, "USERNAME_TAKEN", format!("{} is taken", user.name)));
    }
    Ok(Json(json!({"enrollmentToken": hex32::encode(&token), "username": user.name, "expiresAt": expires_at})))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EnrollRequest {
    username: String,
    enrollment_token: Option<String>,
    public_key: String,
    reference: String,
}

async fn enroll(
    State(app): State<Shared>,
    Client(client): Client,
    Json(req): Json<EnrollRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let user = username(&req.username)?;
    let now = now_ms();
    let db = app.db()?;
    limit(&db, &[(ENROLL_PER_CLIENT, &client), (ENROLL_PER_USER, &user.id)], now)?;
    let unauthorized = |code, msg: &str| ApiError::new(StatusCode::UNAUTHORIZED, code, msg);
    let token = req
        .enrollment_token
        .as_deref()
        .ok_or_else(|| unauthorized("ENROLLMENT_TOKEN_REQUIRED", "enrollment needs the token issued at onboarding"))?;
    let token = hex32::decode(token).ok_or_else(|| unauthorized("ENROLLMENT_TOKEN_INVALID", "no such token"))?;
    let public_key =
        hex32::decode(&req.public_key).ok_or_else(|| bad("BAD_PUBLIC_KEY", "publicKey must be 64 hex digits"))?;
    check_public_key(&public_key).map_err(|e| bad(e.code(), e.to_string()))?;
    let reference =
        B64.decode(req.reference.as_bytes()).map_err(|_| bad("BAD_REFERENCE", "reference must be base64"))?;
    if reference.len() > app.max_reference() {
        let msg = format!("{} bytes; at most {} are accepted", reference.len(), app.max_reference());
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "REFERENCE_TOO_LARGE", msg));
    }
    let header = reference_header(&reference).map_err(|e| bad(e.code(), e.to_string()))?;
    if header.rp_id != app.rp_id {
        return Err(bad("WRONG_RP_ID", format!("reference is for {:?}, this is {:?}", header.rp_id, app.rp_id)));
    }
    if header.model != app.model {
        return Err(bad(
            "WRONG_MODEL",
            format!("reference made by {:?}, this service uses {:?}", header.model, app.model),
        ));
    }
    if header.public_key != public_key {
        return Err(bad("WRONG_PUBLIC_KEY", "the reference carries another public key"));
    }
    let hash: [u8; 32] = Sha256::digest(token).into();
    match db.enroll(&hash, &user, &public_key, &reference, now).map_err(db_error)? {
        db::Enrolled::Ok => Ok((StatusCode::CREATED, Json(json!({"ok": true, "user": user.name})))),
        db::Enrolled::TokenUnknown => Err(unauthorized("ENROLLMENT_TOKEN_INVALID", "no such token, or already used")),
        db::Enrolled::TokenExpired => Err(unauthorized("ENROLLMENT_TOKEN_EXPIRED", "the token expired: onboard again")),
        db::Enrolled::TokenForAnotherUser => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "ENROLLMENT_TOKEN_WRONG_USER",
            "the token was issued for another username (it is used up)",
        )),
        db::Enrolled::NameTaken => {
            Err(ApiError::new(StatusCode::CONFLICT, "USERNAME_TAKEN", format!("{} is already enrolled", user.name)))
        }
    }
}

fn blinded_elements(b64: &str) -> Result<Vec<[u8; ELEMENT_BYTES]>, ApiError> {
    let bytes = B64.decode(b64.as_bytes()).map_err(|_| bad("MALFORMED_EVALUATION", "blinded must be base64"))?;
    if bytes.is_empty() || bytes.len() % ELEMENT_BYTES != 0 {
        return Err(bad("MALFORMED_EVALUATION", format!("blinded must be whole {ELEMENT_BYTES}-byte elements")));
    }
    Ok(bytes.chunks_exact(ELEMENT_BYTES).map(|c| c.try_into().unwrap_or([0; ELEMENT_BYTES])).collect())
}

fn evaluated(key: &[u8; 32], blinded: &[[u8; ELEMENT_BYTES]], max: usize) -> Result<Json<serde_json::Value>, ApiError> {
    let key = OprfKey::from_bytes(key).map_err(internal)?;
    let out = evaluate_batch(&key, blinded, max).map_err(|e| bad(e.code(), e.to_string()))?;
    Ok(Json(json!({"evaluated": B64.encode(out.concat())})))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EnrollEvaluateRequest {
    username: String,
    enrollment_token: String,
    blinded: String,
}

/// Enrollment's evaluation: the locks' blinded inputs under the OPRF key drawn at onboarding,
/// for the holder of a live enrollment token (it stays usable for the enrollment itself).
async fn enroll_evaluate(
    State(app): State<Shared>,
    Client(client): Client,
    Json(req): Json<EnrollEvaluateRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let user = username(&req.username)?;
    let now = now_ms();
    let db = app.db()?;
    limit(&db, &[(ENROLL_PER_CLIENT, &client), (ENROLL_PER_USER, &user.id)], now)?;
    let unauthorized = || ApiError::new(StatusCode::UNAUTHORIZED, "ENROLLMENT_TOKEN_INVALID", "no such live token");
    let token = hex32::decode(&req.enrollment_token).ok_or_else(unauthorized)?;
    let hash: [u8; 32] = Sha256::digest(token).into();
    let key = db.token_oprf_key(&hash, &user.id, now).map_err(db_error)?.ok_or_else(unauthorized)?;
    evaluated(&key, &blinded_elements(&req.blinded)?, LockParams::DEFAULT.locks as usize)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvaluateRequest {
    username: String,
    nonce: String,
    blinded: String,
}

/// A login's evaluation: once per issued challenge (its nonce), under the user's OPRF key (a
/// decoy key for names nobody enrolled). It counts as a failed login until that challenge's
/// login succeeds: each face guess at an account costs one of its failed logins.
async fn evaluate(
    State(app): State<Shared>,
    Client(client): Client,
    Json(req): Json<EvaluateRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let user = username(&req.username)?;
    let now = now_ms();
    let db = app.db()?;
    let charge = FailedLoginCharge::take(&db, &client, &user.id, now)?;
    let nonce = hex32::decode(&req.nonce).ok_or_else(|| bad("MALFORMED_PROOF", "nonce must be 64 hex digits"))?;
    let blinded = blinded_elements(&req.blinded)?;
    let key = match db.user(&user.id).map_err(db_error)? {
        Some(u) => zeroize::Zeroizing::new(u.oprf_key),
        None => zeroize::Zeroizing::new(app.decoys.oprf_key(&user.id)),
    };
    let max = max_login_elements(LockParams::DEFAULT);
    if blinded.len() > max {
        return Err(bad("MALFORMED_EVALUATION", format!("at most {max} elements")));
    }
    if !db.nonces(&user.id).claim_evaluation(&nonce, now) {
        // nothing was evaluated: this request guessed nothing
        charge.refund(&db, 1, now)?;
        let e = faceproof_protocol::Error::ProofRejected(faceproof_protocol::RejectReason::UnknownOrReusedNonce);
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, e.code(), e.to_string()));
    }
    evaluated(&key, &blinded, max)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChallengeRequest {
    username: String,
}

/// The public key and reference a proof for account `id` is checked against: the enrolled
/// ones, or the account's decoy. The decoy is made either way, so that both answers take the
/// same work.
fn enrolled_or_decoy(app: &App, db: &Db, id: &str) -> Result<(String, [u8; 32], Vec<u8>), ApiError> {
    let (decoy, decoy_key) = app.decoys.for_id(id);
    Ok(match db.user(id).map_err(db_error)? {
        Some(u) => (u.name, u.public_key, u.reference),
        None => (String::new(), decoy_key, decoy),
    })
}

async fn challenge(
    State(app): State<Shared>,
    Client(client): Client,
    Json(req): Json<ChallengeRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let user = username(&req.username)?;
    let now = now_ms();
    let db = app.db()?;
    limit(&db, &[(CHALLENGE_PER_CLIENT, &client), (CHALLENGE_PER_USER, &user.id)], now)?;
    let (_, _, reference) = enrolled_or_decoy(&app, &db, &user.id)?;
    let ch = Challenge {
        rp_id: app.rp_id.clone(),
        nonce: random_bytes(&mut OsRng).map_err(internal)?,
        expires_at: now + CHALLENGE_TTL_MS,
    };
    let (per_client, per_user) = (LIVE_CHALLENGES_PER_USER_CLIENT, LIVE_CHALLENGES_PER_USER);
    db.add_challenge(&user.id, &client, &ch.nonce, ch.expires_at, now, per_client, per_user)
        .map_err(db_error)?
        .map_err(ApiError::rate_limited)?;
    let liveness_required = app.liveness == LivenessPolicy::Required;
    Ok(Json(json!({"challenge": ch, "reference": B64.encode(&reference), "livenessRequired": liveness_required})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    username: String,
    proof: String,
}

async fn login(
    State(app): State<Shared>,
    Client(client): Client,
    Json(req): Json<LoginRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let user = username(&req.username)?;
    let now = now_ms();
    let db = app.db()?;
    // every attempt counts as failed until it succeeds: concurrent guesses cannot overtake the count
    let charge = FailedLoginCharge::take(&db, &client, &user.id, now)?;
    let proof = B64.decode(req.proof.as_bytes()).map_err(|_| bad("MALFORMED_PROOF", "proof must be base64"))?;
    let (name, public_key, reference) = enrolled_or_decoy(&app, &db, &user.id)?;
    // was this challenge evaluated (a face guess, counted as a failed login)?
    let nonce = faceproof_protocol::Proof::from_bytes(&proof).map(|p| p.challenge.nonce).ok();
    let evaluated = match nonce {
        Some(n) => db.challenge_evaluated(&user.id, &n).map_err(db_error)?,
        None => false,
    };
    let mut verifier = Verifier::new(&app.rp_id, db.nonces(&user.id)).map_err(internal)?;
    let enrolled = Enrolled { public_key, reference: &reference };
    verifier.verify(&proof, &enrolled, app.liveness, now).map_err(|e| {
        let status = if e.code() == "MALFORMED_PROOF" { StatusCode::BAD_REQUEST } else { StatusCode::UNAUTHORIZED };
        ApiError::new(status, e.code(), e.to_string())
    })?;
    // this attempt, and the evaluation that made it possible, were not failures
    charge.refund(&db, if evaluated { 2 } else { 1 }, now)?;
    let token = hex32::encode(&random_bytes::<32>(&mut OsRng).map_err(internal)?);
    db.add_session(&token, &user.id, now + SESSION_MS).map_err(db_error)?;
    let cookie = format!("session={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}", SESSION_MS / 1000);
    Ok(([(header::SET_COOKIE, cookie)], Json(json!({"ok": true, "user": name}))))
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    cookies.split(';').find_map(|c| c.trim().strip_prefix("session=").map(str::to_string))
}

async fn me(State(app): State<Shared>, headers: HeaderMap) -> Result<impl IntoResponse, ApiError> {
    let unauthorized = || ApiError::new(StatusCode::UNAUTHORIZED, "NOT_LOGGED_IN", "no valid session");
    let token = session_token(&headers).ok_or_else(unauthorized)?;
    let db = app.db()?;
    let user = db.session_user(&token, now_ms()).map_err(db_error)?.ok_or_else(unauthorized)?;
    Ok(Json(json!({"user": user})))
}

async fn logout(State(app): State<Shared>, headers: HeaderMap) -> Result<impl IntoResponse, ApiError> {
    if let Some(token) = session_token(&headers) {
        let db = app.db()?;
        db.end_session(&token).map_err(db_error)?;
    }
    Ok(([(header::SET_COOKIE, "session=; Max-Age=0; Path=/")], Json(json!({"ok": true}))))
}

async fn health(State(app): State<Shared>) -> Result<impl IntoResponse, ApiError> {
    let db = app.db()?;
    Ok(Json(json!({"ok": true, "rpId": app.rp_id, "users": db.users().map_err(db_error)?})))
}

/// JSON errors for malformed bodies too (axum's default is plain text).
async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    let is_json =
        res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        let body = axum::body::to_bytes(res.into_body(), 4096).await.unwrap_or_default();
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "TOO_LARGE",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "NOT_JSON",
            StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
            StatusCode::NOT_FOUND => "NOT_FOUND",
            _ => "BAD_REQUEST",
        };
        return (status, Json(json!({"error": code, "message": String::from_utf8_lossy(&body)}))).into_response();
    }
    res
}

fn router(app: Shared, www: PathBuf, pkg: PathBuf) -> Router {
    // base64 of the largest reference, and room for the other fields
    let enroll_body = app.max_reference().div_ceil(3) * 4 + 1024;
    // base64 of the largest login batch, and room for the other fields
    let evaluate_body = (max_login_elements(LockParams::DEFAULT) * ELEMENT_BYTES).div_ceil(3) * 4 + 1024;
    let small = DefaultBodyLimit::max(SMALL_BODY);
    let api = Router::new()
        .route("/onboard", post(onboard).layer(small))
        .route("/enroll", post(enroll).layer(DefaultBodyLimit::max(enroll_body)))
        .route("/enroll/evaluate", post(enroll_evaluate).layer(DefaultBodyLimit::max(evaluate_body)))
        .route("/evaluate", post(evaluate).layer(DefaultBodyLimit::max(evaluate_body)))
        .route("/challenge", post(challenge).layer(small))
        .route("/login", post(login).layer(small))
        .route("/me", get(me))
        .route("/logout", post(logout))
        .route("/health", get(health))
        .layer(axum::middleware::from_fn(json_errors))
        .with_state(app);
    Router::new().nest("/api", api).nest_service("/pkg", ServeDir::new(pkg)).fallback_service(ServeDir::new(www))
}

#[derive(Parser, Debug)]
#[command(name = "faceproof-server", about = "faceproof demo relying party (binds 127.0.0.1)")]
struct Args {
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// SQLite database file (several processes may share one)
    #[arg(long, default_value = "server/data/faceproof.sqlite")]
    db: PathBuf,
    #[arg(long, default_value = "www")]
    www: PathBuf,
    #[arg(long, default_value = "pkg")]
    pkg: PathBuf,
    #[arg(long, default_value = "localhost")]
    rp_id: String,
    /// The embedder whose references are accepted (the one the app ships)
    #[arg(long, default_value = DEFAULT_MODEL)]
    model: String,
    #[arg(long, value_parser = ["required", "off"], default_value = "required")]
    liveness: String,
    /// Take each client's address from the first X-Forwarded-For hop: only behind a proxy that
    /// sets that header itself
    #[arg(long)]
    trust_proxy: bool,
    /// Print the database's counts (users, live challenges, tokens, sessions, counters) as JSON
    /// and exit
    #[arg(long)]
    stats: bool,
}

fn fail(msg: String) -> ! {
    eprintln!("{msg}");
    std::process::exit(1);
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Some(dir) = args.db.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let db = Db::open(&args.db).unwrap_or_else(|e| fail(format!("cannot open database {}: {e}", args.db.display())));
    if args.stats {
        let stats = db.stats(now_ms()).unwrap_or_else(|e| fail(format!("database: {e}")));
        println!("{}", json!(stats));
        return;
    }
    let _ = db.purge_expired(now_ms());
    let liveness = if args.liveness == "off" { LivenessPolicy::NotRequired } else { LivenessPolicy::Required };
    let app = Arc::new(
        App::new(db, &args.rp_id, &args.model, liveness, args.trust_proxy).unwrap_or_else(|e| fail(e.to_string())),
    );
    let housekeeping = app.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            if let Ok(db) = housekeeping.db() {
                if let Err(e) = db.purge_expired(now_ms()) {
                    eprintln!("purging expired rows: {e}");
                }
            }
        }
    });
    let router = router(app, args.www, args.pkg);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .unwrap_or_else(|e| fail(format!("cannot listen on 127.0.0.1:{}: {e}", args.port)));
    println!("faceproof demo on http://localhost:{}/  (database {})", args.port, args.db.display());
    let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
}
