//! faceproof demo relying party: serves the demo app (`www/`) and the npm package (`pkg/`),
//! and the JSON API below, with a real SQLite file. Verification is the library's
//! (`faceproof::protect::verifier`), with the challenges table as its nonce store.
//!
//! ```text
//! POST /api/enroll     {username, publicKey (hex), reference (base64)}   -> 201 {ok}
//! POST /api/challenge  {username}            -> {challenge: {rpId, nonce, expiresAt}, reference}
//! POST /api/login      {username, proof (base64)}  -> {ok, user} + session cookie | 401 {error}
//! GET  /api/me         -> {user} | 401          POST /api/logout
//! ```
//! Errors are `{error: CODE, message}` with 400 (malformed), 401 (rejected), 404 (unknown
//! user), 409 (name taken), 500 (database).

mod db;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use db::Db;
use faceproof_protocol::{hex32, reference_header, Enrolled, LivenessPolicy, OsRng, Verifier};
use serde::Deserialize;
use serde_json::json;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tower_http::services::ServeDir;

/// Largest reference accepted (the default parameters give about 50 KB).
const MAX_REFERENCE: usize = 512 * 1024;
const SESSION_MS: u64 = 3_600_000;

struct App {
    db: Mutex<Db>,
    rp_id: String,
    liveness: LivenessPolicy,
}

type Shared = Arc<App>;

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// An API error: HTTP status + stable code + message.
struct ApiError(StatusCode, &'static str, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1, "message": self.2}))).into_response()
    }
}

fn bad(code: &'static str, msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, code, msg.into())
}

fn db_error(e: rusqlite::Error) -> ApiError {
    ApiError(StatusCode::INTERNAL_SERVER_ERROR, "DATABASE", e.to_string())
}

impl App {
    /// The database, or a 500 if a handler panicked while holding it.
    fn db(&self) -> Result<std::sync::MutexGuard<'_, Db>, ApiError> {
        self.db.lock().map_err(|_| ApiError(StatusCode::INTERNAL_SERVER_ERROR, "DATABASE", "lock poisoned".into()))
    }
}

/// An enrolled user, or a 404.
fn enrolled_user(db: &Db, username: &str) -> Result<db::User, ApiError> {
    db.user(username)
        .map_err(db_error)?
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, "UNKNOWN_USER", "no such user".into()))
}

fn check_username(name: &str) -> Result<(), ApiError> {
    let ok = (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(bad("BAD_USERNAME", "1-64 characters: letters, digits, _ . -"))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EnrollRequest {
    username: String,
    public_key: String,
    reference: String,
}

async fn enroll(State(app): State<Shared>, Json(req): Json<EnrollRequest>) -> Result<impl IntoResponse, ApiError> {
    check_username(&req.username)?;
    let public_key =
        hex32::decode(&req.public_key).ok_or_else(|| bad("BAD_PUBLIC_KEY", "publicKey must be 64 hex digits"))?;
    let reference =
        B64.decode(req.reference.as_bytes()).map_err(|_| bad("BAD_REFERENCE", "reference must be base64"))?;
    if reference.len() > MAX_REFERENCE {
        return Err(bad("BAD_REFERENCE", "reference too large"));
    }
    let header = reference_header(&reference).map_err(|e| bad(e.code(), e.to_string()))?;
    if header.rp_id != app.rp_id {
        return Err(bad("WRONG_RP_ID", format!("reference is for {:?}, this is {:?}", header.rp_id, app.rp_id)));
    }
    if header.public_key != public_key {
        return Err(bad("WRONG_PUBLIC_KEY", "the reference carries another public key"));
    }
    let db = app.db()?;
    if !db.add_user(&req.username, &public_key, &reference, now_ms()).map_err(db_error)? {
        return Err(ApiError(StatusCode::CONFLICT, "USERNAME_TAKEN", format!("{} is already enrolled", req.username)));
    }
    Ok((StatusCode::CREATED, Json(json!({"ok": true, "user": req.username}))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChallengeRequest {
    username: String,
}

async fn challenge(
    State(app): State<Shared>,
    Json(req): Json<ChallengeRequest>,
) -> Result<impl IntoResponse, ApiError> {
    check_username(&req.username)?;
    let db = app.db()?;
    let user = enrolled_user(&db, &req.username)?;
    let mut verifier = Verifier::new(&app.rp_id, db.nonces(&req.username)).map_err(|e| bad(e.code(), e.to_string()))?;
    let ch = verifier
        .issue_challenge(&mut OsRng, now_ms())
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.code(), e.to_string()))?;
    Ok(Json(
        json!({"challenge": ch, "reference": B64.encode(&user.reference), "livenessRequired": app.liveness == LivenessPolicy::Required}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    username: String,
    proof: String,
}

async fn login(State(app): State<Shared>, Json(req): Json<LoginRequest>) -> Result<impl IntoResponse, ApiError> {
    check_username(&req.username)?;
    let proof = B64.decode(req.proof.as_bytes()).map_err(|_| bad("MALFORMED_PROOF", "proof must be base64"))?;
    let db = app.db()?;
    let user = enrolled_user(&db, &req.username)?;
    let mut verifier = Verifier::new(&app.rp_id, db.nonces(&req.username)).map_err(|e| bad(e.code(), e.to_string()))?;
    let enrolled = Enrolled { public_key: user.public_key, reference: &user.reference };
    let now = now_ms();
    verifier.verify(&proof, &enrolled, app.liveness, now).map_err(|e| {
        let status = if e.code() == "MALFORMED_PROOF" { StatusCode::BAD_REQUEST } else { StatusCode::UNAUTHORIZED };
        ApiError(status, e.code(), e.to_string())
    })?;
    let token = hex32::encode(
        &faceproof_protocol::random_bytes::<32>(&mut OsRng)
            .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.code(), e.to_string()))?,
    );
    db.add_session(&token, &req.username, now + SESSION_MS).map_err(db_error)?;
    let cookie = format!("session={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}", SESSION_MS / 1000);
    Ok(([(header::SET_COOKIE, cookie)], Json(json!({"ok": true, "user": req.username}))))
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    cookies.split(';').find_map(|c| c.trim().strip_prefix("session=").map(str::to_string))
}

async fn me(State(app): State<Shared>, headers: HeaderMap) -> Result<impl IntoResponse, ApiError> {
    let unauthorized = || ApiError(StatusCode::UNAUTHORIZED, "NOT_LOGGED_IN", "no valid session".into());
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
    let api = Router::new()
        .route("/enroll", post(enroll))
        .route("/challenge", post(challenge))
        .route("/login", post(login))
        .route("/me", get(me))
        .route("/logout", post(logout))
        .route("/health", get(health))
        .layer(axum::middleware::from_fn(json_errors))
        .layer(DefaultBodyLimit::max(1024 * 1024))
        .with_state(app);
    Router::new().nest("/api", api).nest_service("/pkg", ServeDir::new(pkg)).fallback_service(ServeDir::new(www))
}

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned().unwrap_or_else(|| default.to_string())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("faceproof-server [--port 8080] [--db server/data/faceproof.sqlite] [--www www] [--pkg pkg] [--rp-id localhost] [--liveness required|off]");
        return;
    }
    let port: u16 = arg(&args, "--port", "8080").parse().unwrap_or(8080);
    let db_path = PathBuf::from(arg(&args, "--db", "server/data/faceproof.sqlite"));
    if let Some(dir) = db_path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let db = match Db::open(&db_path) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("cannot open database {}: {e}", db_path.display());
            std::process::exit(1);
        }
    };
    let liveness = if arg(&args, "--liveness", "required") == "off" {
        LivenessPolicy::NotRequired
    } else {
        LivenessPolicy::Required
    };
    let app = Arc::new(App { db: Mutex::new(db), rp_id: arg(&args, "--rp-id", "localhost"), liveness });
    let router = router(app, arg(&args, "--www", "www").into(), arg(&args, "--pkg", "pkg").into());
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    println!("faceproof demo on http://localhost:{port}/  (database {})", db_path.display());
    let _ = axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use faceproof_protocol::testing::{enroll_with_key, prove_with_key, synthetic_views};
    use faceproof_protocol::{liveness_digest, Challenge, DeviceSecret, Embedding, LockParams, OprfKey};
    use tower::ServiceExt;

    fn views(seed: u32) -> Vec<Embedding> {
        synthetic_views(seed, 6, 192)
    }

    struct Harness {
        router: Router,
        app: Shared,
        _dir: PathBuf,
    }

    fn harness(name: &str) -> Harness {
        let dir = std::env::temp_dir().join(format!("faceproof-server-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::open(&dir.join("t.sqlite")).unwrap();
        let app = Arc::new(App { db: Mutex::new(db), rp_id: "localhost".into(), liveness: LivenessPolicy::Required });
        Harness { router: router(app.clone(), dir.clone(), dir.clone()), app, _dir: dir }
    }

    async fn call(
        h: &Harness,
        method: &str,
        path: &str,
        body: &str,
    ) -> (StatusCode, serde_json::Value, Option<String>) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let res = h.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let cookie = res.headers().get(header::SET_COOKIE).map(|v| v.to_str().unwrap().to_string());
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null), cookie)
    }

    #[tokio::test]
    async fn enroll_login_replay_and_bad_requests() {
        let h = harness("flow");
        let secret = DeviceSecret::generate(&mut OsRng).unwrap();
        let v = views(3);
        let key = OprfKey::generate(&mut OsRng).unwrap();
        let e = enroll_with_key(&mut OsRng, &key, &secret, "localhost", 1, &v, LockParams::DEFAULT).unwrap();
        let body = json!({"username": "ada", "publicKey": hex32::encode(&e.public_key), "reference": B64.encode(&e.reference)}).to_string();
        assert_eq!(call(&h, "POST", "/api/enroll", &body).await.0, StatusCode::CREATED);
        let (s, j, _) = call(&h, "POST", "/api/enroll", &body).await;
        assert_eq!((s, j["error"].as_str()), (StatusCode::CONFLICT, Some("USERNAME_TAKEN")));

        // malformed requests: clear JSON errors, nothing stored
        for (path, body, code) in [
            ("/api/enroll", "{not json", "BAD_REQUEST"),
            ("/api/enroll", r#"{"username":"bob","publicKey":"zz","reference":""}"#, "BAD_PUBLIC_KEY"),
            ("/api/enroll", &json!({"username": "bob", "publicKey": hex32::encode(&[1; 32]), "reference": B64.encode(&e.reference)}).to_string(), "WRONG_PUBLIC_KEY"),
            ("/api/enroll", &json!({"username": "bob", "publicKey": hex32::encode(&e.public_key), "reference": B64.encode(&e.reference[..100])}).to_string(), "MALFORMED_REFERENCE"),
            ("/api/enroll", &json!({"username": "bad name!", "publicKey": hex32::encode(&e.public_key), "reference": ""}).to_string(), "BAD_USERNAME"),
            ("/api/login", r#"{"username":"ada","proof":"!!"}"#, "MALFORMED_PROOF"),
            ("/api/login", r#"{"username":"ada","proof":"AAAA"}"#, "MALFORMED_PROOF"),
        ] {
            let (s, j, _) = call(&h, "POST", path, body).await;
            assert!(s.is_client_error(), "{path} {body}: {s}");
            assert_eq!(j["error"].as_str(), Some(code), "{path} {body}: {j}");
        }
        assert_eq!(call(&h, "POST", "/api/challenge", r#"{"username":"nobody"}"#).await.0, StatusCode::NOT_FOUND);
        assert_eq!(h.app.db.lock().unwrap().users().unwrap(), 1);

        // login: challenge -> proof -> session
        let (_, j, _) = call(&h, "POST", "/api/challenge", r#"{"username":"ada"}"#).await;
        let ch: Challenge = serde_json::from_value(j["challenge"].clone()).unwrap();
        let reference = B64.decode(j["reference"].as_str().unwrap()).unwrap();
        assert_eq!(reference, e.reference);
        let proof = prove_with_key(&mut OsRng, &key, &secret, &reference, &ch, &v[..1], liveness_digest(&ch, true))
            .unwrap()
            .to_bytes();
        let login = json!({"username": "ada", "proof": B64.encode(&proof)}).to_string();
        let (s, j, cookie) = call(&h, "POST", "/api/login", &login).await;
        assert_eq!(s, StatusCode::OK, "{j}");
        let cookie = cookie.unwrap();
        assert!(cookie.contains("HttpOnly"));
        let token = cookie.split(';').next().unwrap();
        let req = Request::builder().uri("/api/me").header("cookie", token).body(Body::empty()).unwrap();
        assert_eq!(h.router.clone().oneshot(req).await.unwrap().status(), StatusCode::OK);
        // the same proof again: single-use nonce
        let (s, j, _) = call(&h, "POST", "/api/login", &login).await;
        assert_eq!((s, j["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("NONCE_REUSED_OR_UNKNOWN")));
        // failed liveness is refused by this server
        let (_, j, _) = call(&h, "POST", "/api/challenge", r#"{"username":"ada"}"#).await;
        let ch: Challenge = serde_json::from_value(j["challenge"].clone()).unwrap();
        let proof = prove_with_key(&mut OsRng, &key, &secret, &reference, &ch, &v[..1], liveness_digest(&ch, false))
            .unwrap()
            .to_bytes();
        let (s, j, _) =
            call(&h, "POST", "/api/login", &json!({"username": "ada", "proof": B64.encode(&proof)}).to_string()).await;
        assert_eq!((s, j["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("LIVENESS_FAILED")));
    }
}
