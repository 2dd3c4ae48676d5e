//! The API end to end, in process: each attack on enrollment, enumeration and request rates as
//! a test, with real protocol runs (synthetic face views, default lock parameters).

use super::*;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::Request;
use faceproof_protocol::testing::{enroll_with_key, prove_with_key, synthetic_views, TEST_MODEL};
use faceproof_protocol::{liveness_digest, DeviceSecret, Embedding, Enrollment, OprfKey, PassiveCheck, Proof};
use serde_json::Value;
use tower::ServiceExt;

fn views(seed: u32) -> Vec<Embedding> {
    synthetic_views(seed, 6, 192)
}

struct Harness {
    router: Router,
    app: Shared,
    dir: PathBuf,
    /// Remove `dir` when dropped.
    owns_dir: bool,
}

impl Drop for Harness {
    fn drop(&mut self) {
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn test_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("faceproof-server-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A server on a fresh database that takes clients from `X-Forwarded-For` (the peer is
/// 127.0.0.1 when a request names none).
fn harness(name: &str) -> Harness {
    let mut h = harness_on(&test_dir(name));
    h.owns_dir = true;
    h
}

/// Another server process on the database in `dir` (removes nothing when dropped).
fn harness_on(dir: &std::path::Path) -> Harness {
    let db = Db::open(&dir.join("t.sqlite")).unwrap();
    let app = Arc::new(App::new(db, "localhost", TEST_MODEL, LivenessPolicy::Required, true).unwrap());
    let router = router(app.clone(), dir.to_path_buf(), dir.to_path_buf())
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    Harness { router, app, dir: dir.to_path_buf(), owns_dir: false }
}

struct Res {
    status: StatusCode,
    json: Value,
    headers: HeaderMap,
}

impl Res {
    fn code(&self) -> Option<&str> {
        self.json["error"].as_str()
    }
}

async fn call_from(h: &Harness, client: Option<&str>, path: &str, body: &str) -> Res {
    let mut req = Request::builder().method("POST").uri(path).header("content-type", "application/json");
    if let Some(ip) = client {
        req = req.header("x-forwarded-for", format!("{ip}, 10.0.0.1"));
    }
    let res = h.router.clone().oneshot(req.body(Body::from(body.to_string())).unwrap()).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
    Res { status, json: serde_json::from_slice(&bytes).unwrap_or(Value::Null), headers }
}

async fn call(h: &Harness, path: &str, body: &str) -> Res {
    call_from(h, None, path, body).await
}

fn enroll_body(name: &str, token: Option<&str>, public_key: &[u8; 32], reference: &[u8]) -> String {
    let mut body =
        json!({"username": name, "publicKey": hex32::encode(public_key), "reference": B64.encode(reference)});
    if let Some(t) = token {
        body["enrollmentToken"] = json!(t);
    }
    body.to_string()
}

async fn onboard_token(h: &Harness, name: &str) -> String {
    let r = call(h, "/api/onboard", &json!({ "username": name }).to_string()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    r.json["enrollmentToken"].as_str().unwrap().to_string()
}

/// Onboard and enroll `name`: the enrollment's status.
async fn onboard_and_enroll(h: &Harness, name: &str, e: &Enrollment) -> Res {
    let token = onboard_token(h, name).await;
    call(h, "/api/enroll", &enroll_body(name, Some(&token), &e.public_key, &e.reference)).await
}

struct Person {
    key: OprfKey,
    secret: DeviceSecret,
    views: Vec<Embedding>,
    enrollment: Enrollment,
}

fn person(seed: u32) -> Person {
    let key = OprfKey::generate(&mut OsRng).unwrap();
    let secret = DeviceSecret::generate(&mut OsRng).unwrap();
    let views = views(seed);
    let enrollment = enroll_with_key(&mut OsRng, &key, &secret, "localhost", 1, &views, LockParams::DEFAULT).unwrap();
    Person { key, secret, views, enrollment }
}

async fn get_challenge(h: &Harness, client: Option<&str>, name: &str) -> (Challenge, Vec<u8>) {
    let r = call_from(h, client, "/api/challenge", &json!({ "username": name }).to_string()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    (
        serde_json::from_value(r.json["challenge"].clone()).unwrap(),
        B64.decode(r.json["reference"].as_str().unwrap()).unwrap(),
    )
}

fn prove(p: &Person, reference: &[u8], ch: &Challenge, live: bool) -> String {
    let proof = prove_with_key(
        &mut OsRng,
        &p.key,
        &p.secret,
        reference,
        ch,
        &p.views[..1],
        liveness_digest(ch, live, if live { PassiveCheck::Passed } else { PassiveCheck::NotRun }),
    )
    .unwrap();
    B64.encode(proof.to_bytes())
}

/// The reference a challenge for `name` carries: the enrolled one or the name's decoy.
fn reference_of(h: &Harness, name: &str) -> Vec<u8> {
    let id = names::normalize(name).unwrap().id;
    let db = h.app.db().unwrap();
    enrolled_or_decoy(&h.app, &db, &id).unwrap().2
}

fn login_body(name: &str, proof: &str) -> String {
    json!({"username": name, "proof": proof}).to_string()
}

/// What an attacker can build from a challenge answer alone: a proof carrying the reference's
/// public key and digest and a made-up signature.
fn forged_proof(ch: &Challenge, reference: &[u8]) -> String {
    let proof = Proof {
        challenge: ch.clone(),
        public_key: reference_header(reference).unwrap().public_key,
        reference_digest: faceproof_protocol::reference_digest(reference),
        liveness_digest: liveness_digest(ch, true, PassiveCheck::Passed),
        commitment: curve25519_dalek::constants::RISTRETTO_BASEPOINT_COMPRESSED.0,
        response: [1; 32],
    };
    B64.encode(proof.to_bytes())
}

#[tokio::test]
async fn onboard_enroll_login_replay_and_bad_requests() {
    let h = harness("flow");
    let ada = person(3);
    let e = &ada.enrollment;
    let r = onboard_and_enroll(&h, "Ada", e).await;
    assert_eq!((r.status, r.json["user"].as_str()), (StatusCode::CREATED, Some("ada")), "{}", r.json);
    let r = call(&h, "/api/onboard", r#"{"username":"ADA"}"#).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, Some("USERNAME_TAKEN")));

    // malformed requests: clear JSON errors, nothing stored, the token not used up
    let token = onboard_token(&h, "bob").await;
    let t = Some(token.as_str());
    for (path, body, code) in [
        ("/api/enroll", "{not json".to_string(), "BAD_REQUEST"),
        (
            "/api/enroll",
            r#"{"username":"bob","enrollmentToken":"00","publicKey":"zz","reference":""}"#.into(),
            "ENROLLMENT_TOKEN_INVALID",
        ),
        ("/api/enroll", enroll_body("bob", t, &[1; 32], &e.reference), "INVALID_PUBLIC_KEY"),
        ("/api/enroll", enroll_body("bob", t, &RISTRETTO_G, &e.reference), "WRONG_PUBLIC_KEY"),
        ("/api/enroll", enroll_body("bob", t, &e.public_key, &e.reference[..100]), "MALFORMED_REFERENCE"),
        ("/api/enroll", enroll_body("bad name!", t, &e.public_key, &e.reference), "BAD_USERNAME"),
        ("/api/onboard", r#"{"username":"bob","extra":1}"#.into(), "BAD_REQUEST"),
        ("/api/login", r#"{"username":"ada","proof":"!!"}"#.into(), "MALFORMED_PROOF"),
        ("/api/login", r#"{"username":"ada","proof":"AAAA"}"#.into(), "MALFORMED_PROOF"),
    ] {
        let r = call(&h, path, &body).await;
        assert!(r.status.is_client_error(), "{path} {body}: {}", r.status);
        assert_eq!(r.code(), Some(code), "{path} {body}: {}", r.json);
    }
    let other_model = {
        let mut r = e.reference.clone();
        let at = 6 + "localhost".len() + 4 + 32 + 1;
        r[at] ^= 0x20; // "test-model" -> "Test-model"
        r
    };
    let r = call(&h, "/api/enroll", &enroll_body("bob", t, &e.public_key, &other_model)).await;
    assert_eq!(r.code(), Some("WRONG_MODEL"));
    assert_eq!(h.app.db().unwrap().users().unwrap(), 1);

    // login: challenge -> proof -> session
    let (ch, reference) = get_challenge(&h, None, "ada").await;
    assert_eq!(reference, e.reference);
    let login = login_body("ada", &prove(&ada, &reference, &ch, true));
    let r = call(&h, "/api/login", &login).await;
    assert_eq!((r.status, r.json["user"].as_str()), (StatusCode::OK, Some("ada")), "{}", r.json);
    let cookie = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly"));
    let req = Request::builder().uri("/api/me").header("cookie", cookie.split(';').next().unwrap()).body(Body::empty());
    let res = h.router.clone().oneshot(req.unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // the same proof again: single-use nonce
    let r = call(&h, "/api/login", &login).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, Some("NONCE_REUSED_OR_UNKNOWN")));
    // failed liveness is refused by this server
    let (ch, reference) = get_challenge(&h, None, "A-da").await; // the same account
    let r = call(&h, "/api/login", &login_body("a_da", &prove(&ada, &reference, &ch, false))).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, Some("LIVENESS_FAILED")));
}

const RISTRETTO_G: [u8; 32] = curve25519_dalek::constants::RISTRETTO_BASEPOINT_COMPRESSED.0;

/// `Obama`, `OBAMA`, `obama.`, `obama-`, `obama_` were five accounts.
#[tokio::test]
async fn one_name_in_five_spellings_is_one_account() {
    let h = harness("names");
    let (a, b) = (person(1), person(2));
    assert_eq!(onboard_and_enroll(&h, "Obama", &a.enrollment).await.status, StatusCode::CREATED);
    for name in ["OBAMA", "obama.", "obama-", "obama_", "o.bama", "Ob-Ama"] {
        let r = call(&h, "/api/onboard", &json!({ "username": name }).to_string()).await;
        let expected = if name.ends_with(['.', '-', '_']) { "BAD_USERNAME" } else { "USERNAME_TAKEN" };
        assert_eq!(r.code(), Some(expected), "{name}: {}", r.json);
    }
    // names that differ only in separators collide, at onboarding and while reserved
    assert_eq!(onboard_and_enroll(&h, "ada.l", &b.enrollment).await.status, StatusCode::CREATED);
    let r = call(&h, "/api/onboard", r#"{"username":"ad-al"}"#).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, Some("USERNAME_TAKEN")));
    onboard_token(&h, "grace").await;
    let r = call(&h, "/api/onboard", r#"{"username":"gra.ce"}"#).await;
    assert_eq!(r.code(), Some("USERNAME_TAKEN"));
    assert_eq!(h.app.db().unwrap().users().unwrap(), 2);
}

/// Anyone could claim any free name with any key: enrollment now takes a live token issued for
/// that name, once.
#[tokio::test]
async fn enrollment_takes_a_live_one_time_token_for_its_own_name() {
    let h = harness("tokens");
    let p = person(4);
    let (pk, reference) = (&p.enrollment.public_key, &p.enrollment.reference);
    let enroll = |name: &str, token: Option<&str>| enroll_body(name, token, pk, reference);

    let r = call(&h, "/api/enroll", &enroll("ada", None)).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, Some("ENROLLMENT_TOKEN_REQUIRED")));
    let r = call(&h, "/api/enroll", &enroll("ada", Some(&hex32::encode(&[7; 32])))).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, Some("ENROLLMENT_TOKEN_INVALID")));

    // bob's token presented for ada: refused, and used up
    let bob = onboard_token(&h, "bob").await;
    let r = call(&h, "/api/enroll", &enroll("ada", Some(&bob))).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, Some("ENROLLMENT_TOKEN_WRONG_USER")));
    let r = call(&h, "/api/enroll", &enroll("bob", Some(&bob))).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, Some("ENROLLMENT_TOKEN_INVALID")));

    // a token works once
    let ada = onboard_token(&h, "ada").await;
    assert_eq!(call(&h, "/api/enroll", &enroll("ada", Some(&ada))).await.status, StatusCode::CREATED);
    let r = call(&h, "/api/enroll", &enroll("ada", Some(&ada))).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, Some("ENROLLMENT_TOKEN_INVALID")));

    // an expired token
    let token = [9u8; 32];
    let carol = names::normalize("carol").unwrap();
    let hash: [u8; 32] = Sha256::digest(token).into();
    let now = now_ms();
    assert!(h.app.db().unwrap().reserve(&carol, &hash, &[1; 32], now - 1, now - ENROLLMENT_TOKEN_TTL_MS).unwrap());
    let r = call(&h, "/api/enroll", &enroll("carol", Some(&hex32::encode(&token)))).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, Some("ENROLLMENT_TOKEN_EXPIRED")));
    // and its name is free again
    onboard_token(&h, "carol").await;
    assert_eq!(h.app.db().unwrap().users().unwrap(), 1);
}

/// With a stored public key of 32 zero bytes (the identity), one constant proof verifies for
/// every challenge: such a key is never enrolled, submitted or carried by the reference.
#[tokio::test]
async fn the_identity_as_public_key_is_not_enrolled() {
    let h = harness("identity");
    let p = person(5);
    let mut zero_header = p.enrollment.reference.clone();
    let at = 6 + "localhost".len() + 4;
    zero_header[at..at + 32].fill(0);
    let token = onboard_token(&h, "mallory").await;
    let r = call(&h, "/api/enroll", &enroll_body("mallory", Some(&token), &[0; 32], &zero_header)).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, Some("INVALID_PUBLIC_KEY")), "{}", r.json);
    let r =
        call(&h, "/api/enroll", &enroll_body("mallory", Some(&token), &p.enrollment.public_key, &zero_header)).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, Some("MALFORMED_REFERENCE")), "{}", r.json);
    assert_eq!(h.app.db().unwrap().users().unwrap(), 0);
    // refused input does not use the token up
    let r = call(
        &h,
        "/api/enroll",
        &enroll_body("mallory", Some(&token), &p.enrollment.public_key, &p.enrollment.reference),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

/// `/challenge` answered 404 for unknown names and 200 for known ones.
#[tokio::test]
async fn unknown_names_answer_like_known_ones() {
    let h = harness("enumeration");
    let ada = person(6);
    onboard_and_enroll(&h, "ada", &ada.enrollment).await;
    let known = call(&h, "/api/challenge", r#"{"username":"ada"}"#).await;
    let unknown = call(&h, "/api/challenge", r#"{"username":"nobody"}"#).await;
    assert_eq!((known.status, unknown.status), (StatusCode::OK, StatusCode::OK));
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.extend(v["challenge"].as_object().unwrap().keys().map(|c| format!("challenge.{c}")));
        k.sort();
        k
    };
    assert_eq!(keys(&known.json), keys(&unknown.json));
    assert_eq!(known.json["livenessRequired"], unknown.json["livenessRequired"]);
    let reference = |r: &Res| B64.decode(r.json["reference"].as_str().unwrap()).unwrap();
    let (real, decoy) = (reference(&known), reference(&unknown));
    assert_eq!(real.len(), decoy.len());
    let (hr, hd) = (reference_header(&real).unwrap(), reference_header(&decoy).unwrap());
    assert_eq!((&hd.rp_id, hd.epoch, &hd.model), (&hr.rp_id, hr.epoch, &hr.model));
    check_public_key(&hd.public_key).unwrap();
    // the same decoy every time, also from another process on the database and after a restart
    assert_eq!(reference(&call(&h, "/api/challenge", r#"{"username":"No.Body"}"#).await), decoy);
    let other = harness_on(&h.dir);
    assert_eq!(reference(&call(&other, "/api/challenge", r#"{"username":"nobody"}"#).await), decoy);

    // a proof built from the answer: the same refusal for both names
    for (name, res) in [("ada", &known), ("nobody", &unknown)] {
        let ch: Challenge = serde_json::from_value(res.json["challenge"].clone()).unwrap();
        let r = call(&h, "/api/login", &login_body(name, &forged_proof(&ch, &reference(res)))).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, Some("BAD_SIGNATURE")), "{name}");
        // another person's valid proof for this challenge: refused alike
        let (ch, _) = get_challenge(&h, None, name).await;
        let r = call(&h, "/api/login", &login_body(name, &prove(&ada, &real, &ch, true))).await;
        let expected = if name == "ada" { "OK" } else { "WRONG_PUBLIC_KEY" };
        assert_eq!(r.code().unwrap_or("OK"), expected, "{name}: {}", r.json);
        let r = call(&h, "/api/login", &login_body(name, &forged_proof(&ch, &reference(res)))).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, Some("NONCE_REUSED_OR_UNKNOWN")), "{name}");
    }
}

/// 300 `/challenge` calls went through in 0.44 s and left 302 live challenges.
#[tokio::test]
async fn challenges_are_limited_per_client_and_per_name() {
    let h = harness("challenge-limits");
    let ada = person(7);
    onboard_and_enroll(&h, "ada", &ada.enrollment).await;
    let body = r#"{"username":"ada"}"#;
    let mut ok = 0;
    let mut limited = None;
    for _ in 0..30 {
        let r = call_from(&h, Some("203.0.113.9"), "/api/challenge", body).await;
        match r.status {
            StatusCode::OK => ok += 1,
            _ => limited = limited.or(Some(r)),
        }
    }
    assert_eq!(ok, CHALLENGE_PER_CLIENT.max);
    let r = limited.unwrap();
    assert_eq!((r.status, r.code()), (StatusCode::TOO_MANY_REQUESTS, Some("RATE_LIMITED")));
    let retry: u64 = r.headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // that client kept 3 live challenges for ada; a second client still gets one
    assert_eq!(h.app.db().unwrap().stats(now_ms()).unwrap().live_challenges, 3);
    let (ch, reference) = get_challenge(&h, Some("198.51.100.7"), "ada").await;
    // ... and logs in while the first one is refused
    assert_eq!(call_from(&h, Some("203.0.113.9"), "/api/challenge", body).await.status, StatusCode::TOO_MANY_REQUESTS);
    let r = call_from(&h, Some("198.51.100.7"), "/api/login", &login_body("ada", &prove(&ada, &reference, &ch, true)))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);

    // live challenges for one name: 3 per client (a fourth replaces the client's oldest), 10 in
    // all (then new clients are refused until one is used or expires)
    let h = &h;
    let zed = |i: u32| async move {
        call_from(h, Some(&format!("192.0.2.{i}")), "/api/challenge", r#"{"username":"zed"}"#).await
    };
    let mut first = vec![];
    for i in 0..3 {
        for _ in 0..3 {
            let r = zed(i).await;
            assert_eq!(r.status, StatusCode::OK);
            first.push(r.json["challenge"].clone());
        }
    }
    assert_eq!(zed(3).await.status, StatusCode::OK);
    let r = zed(4).await;
    assert_eq!((r.status, r.code()), (StatusCode::TOO_MANY_REQUESTS, Some("RATE_LIMITED")));
    assert!(r.headers[header::RETRY_AFTER].to_str().unwrap().parse::<u64>().unwrap() <= 120);
    let stats = h.app.db().unwrap().stats(now_ms()).unwrap();
    assert_eq!(stats.most_live_challenges_for_one_user, LIVE_CHALLENGES_PER_USER as i64);
    // client 0 gets a new one in place of its oldest, which is gone
    assert_eq!(zed(0).await.status, StatusCode::OK);
    let oldest: Challenge = serde_json::from_value(first[0].clone()).unwrap();
    let r = call_from(
        h,
        Some("192.0.2.0"),
        "/api/login",
        &login_body("zed", &forged_proof(&oldest, &reference_of(h, "zed"))),
    )
    .await;
    assert_eq!(r.code(), Some("NONCE_REUSED_OR_UNKNOWN"));
    let second: Challenge = serde_json::from_value(first[1].clone()).unwrap();
    let r = call_from(
        h,
        Some("192.0.2.0"),
        "/api/login",
        &login_body("zed", &forged_proof(&second, &reference_of(h, "zed"))),
    )
    .await;
    assert_eq!(r.code(), Some("BAD_SIGNATURE"));
}

/// Every failed login counts against the name: a client gets 5 guesses an hour at one account,
/// all clients together 10, and the owner still logs in while one client is refused.
#[tokio::test]
async fn failed_logins_are_bounded_per_name_and_client() {
    let h = harness("login-limits");
    let ada = person(8);
    onboard_and_enroll(&h, "ada", &ada.enrollment).await;
    let mut statuses = vec![];
    for _ in 0..8 {
        let (ch, reference) = get_challenge(&h, Some("203.0.113.5"), "ada").await;
        let r =
            call_from(&h, Some("203.0.113.5"), "/api/login", &login_body("ada", &forged_proof(&ch, &reference))).await;
        statuses.push(r.status.as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
    // the owner, from elsewhere: logs in, and a success gives its count back
    for _ in 0..3 {
        let (ch, reference) = get_challenge(&h, Some("198.51.100.1"), "ada").await;
        let r =
            call_from(&h, Some("198.51.100.1"), "/api/login", &login_body("ada", &prove(&ada, &reference, &ch, true)))
                .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    }
    // the per-name bound: 5 more failures from a second client reach 10, then everyone waits
    for i in 0..6 {
        let (ch, reference) = get_challenge(&h, Some("192.0.2.77"), "ada").await;
        let r =
            call_from(&h, Some("192.0.2.77"), "/api/login", &login_body("ada", &forged_proof(&ch, &reference))).await;
        assert_eq!(r.status, if i < 5 { StatusCode::UNAUTHORIZED } else { StatusCode::TOO_MANY_REQUESTS });
    }
    let (ch, reference) = get_challenge(&h, Some("198.51.100.1"), "ada").await;
    let r = call_from(&h, Some("198.51.100.1"), "/api/login", &login_body("ada", &prove(&ada, &reference, &ch, true)))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::TOO_MANY_REQUESTS, Some("RATE_LIMITED")));
    // the same for a name nobody enrolled (no difference to see)
    for i in 0..6 {
        let (ch, reference) = get_challenge(&h, Some("203.0.113.6"), "nobody").await;
        let r = call_from(&h, Some("203.0.113.6"), "/api/login", &login_body("nobody", &forged_proof(&ch, &reference)))
            .await;
        assert_eq!(r.status, if i < 5 { StatusCode::UNAUTHORIZED } else { StatusCode::TOO_MANY_REQUESTS });
    }
}

#[tokio::test]
async fn onboarding_and_enrollment_are_limited() {
    let h = harness("enroll-limits");
    let mut statuses = vec![];
    for i in 0..12 {
        statuses.push(
            call_from(&h, Some("203.0.113.1"), "/api/onboard", &json!({"username": format!("user{i}")}).to_string())
                .await
                .status
                .as_u16(),
        );
    }
    assert_eq!(statuses, [[200; 10].as_slice(), &[429, 429]].concat());
    let p = person(9);
    let body = enroll_body("user0", Some(&hex32::encode(&[1; 32])), &p.enrollment.public_key, &p.enrollment.reference);
    let mut statuses = vec![];
    for i in 0..7 {
        let r = call_from(&h, Some(&format!("198.51.100.{i}")), "/api/enroll", &body).await;
        statuses.push(r.status.as_u16());
    }
    // wrong tokens for one name: 5 tries an hour, from any number of clients
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429]);
}

/// The limits live in the database: they hold after a restart and across processes.
#[test]
fn limits_persist_across_reopening_and_are_shared_by_connections() {
    let dir = test_dir("shared-limits");
    let path = dir.join("t.sqlite");
    let limit = Limit { scope: "test", max: 7, window_ms: 60_000 };
    let (a, b) = (Db::open(&path).unwrap(), Db::open(&path).unwrap());
    let now = now_ms();
    let mut allowed = 0;
    for i in 0..20 {
        let db = if i % 2 == 0 { &a } else { &b };
        allowed += db.hit(&[(limit, "k")], now).unwrap().is_ok() as u32;
    }
    assert_eq!(allowed, 7);
    drop((a, b));
    let c = Db::open(&path).unwrap();
    let retry = c.hit(&[(limit, "k")], now + 1_000).unwrap().unwrap_err();
    assert_eq!(retry, 59_000);
    assert!(c.hit(&[(limit, "other")], now).unwrap().is_ok());
    // refused by one limit: counted by none
    let wide = Limit { scope: "wide", max: 100, window_ms: 60_000 };
    assert!(c.hit(&[(wide, "k"), (limit, "k")], now).unwrap().is_err());
    assert_eq!(c.stats(now).unwrap().rate_limit_rows, 2);
    // the window ends, the rows are purged
    assert!(c.hit(&[(limit, "k")], now + 60_000).unwrap().is_ok());
    c.purge_expired(now + 200_000).unwrap();
    assert_eq!(c.stats(now).unwrap().rate_limit_rows, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Concurrent connections from several threads: the count is exact.
#[test]
fn concurrent_hits_from_several_connections_never_exceed_the_limit() {
    let dir = test_dir("concurrent-limits");
    let path = dir.join("t.sqlite");
    Db::open(&path).unwrap();
    let limit = Limit { scope: "test", max: 25, window_ms: 60_000 };
    let now = now_ms();
    let allowed: u32 = std::thread::scope(|s| {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let db = Db::open(&path).unwrap();
                    (0..20).map(|_| db.hit(&[(limit, "k")], now).unwrap().is_ok() as u32).sum::<u32>()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).sum()
    });
    assert_eq!(allowed, 25);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two server processes on one database: one client's challenges counted once.
#[tokio::test]
async fn two_servers_on_one_database_share_the_limits() {
    let a = harness("two-servers");
    let b = harness_on(&a.dir);
    let mut ok = 0;
    for i in 0..40 {
        let h = if i % 2 == 0 { &a } else { &b };
        ok += (call_from(h, Some("203.0.113.50"), "/api/challenge", r#"{"username":"ada"}"#).await.status
            == StatusCode::OK) as u32;
    }
    assert_eq!(ok, CHALLENGE_PER_CLIENT.max);
}

/// 20 unauthenticated enrollments of the largest reference (512 KB) grew the database by 12 MB.
#[tokio::test]
async fn references_larger_than_a_default_one_with_margin_are_refused() {
    let h = harness("sizes");
    let p = person(10);
    let max = h.app.max_reference();
    assert!(p.enrollment.reference.len() < max && max < p.enrollment.reference.len() + 10_000, "{max}");
    let token = onboard_token(&h, "ada").await;
    // a reference whose header declares a body of 4096 locks
    let mut big = p.enrollment.reference.clone();
    let at = 6 + "localhost".len() + 4 + 32 + 1 + TEST_MODEL.len() + 12;
    let body = 10 + 128 + 32 + 48 * 4096 + 16;
    big[at..at + 4].copy_from_slice(&(body as u32).to_le_bytes());
    big.resize(at + 4 + body, 7);
    let r = call(&h, "/api/enroll", &enroll_body("ada", Some(&token), &p.enrollment.public_key, &big)).await;
    assert_eq!((r.status, r.code()), (StatusCode::PAYLOAD_TOO_LARGE, Some("TOO_LARGE")), "{}", r.json);
    big.truncate(max + 1);
    let r = call(&h, "/api/enroll", &enroll_body("ada", Some(&token), &p.enrollment.public_key, &big)).await;
    assert_eq!((r.status, r.code()), (StatusCode::PAYLOAD_TOO_LARGE, Some("REFERENCE_TOO_LARGE")), "{}", r.json);
    let r = call(&h, "/api/challenge", &json!({"username": "x".repeat(5000)}).to_string()).await;
    assert_eq!((r.status, r.code()), (StatusCode::PAYLOAD_TOO_LARGE, Some("TOO_LARGE")));
    assert_eq!(h.app.db().unwrap().users().unwrap(), 0);
    let r =
        call(&h, "/api/enroll", &enroll_body("ada", Some(&token), &p.enrollment.public_key, &p.enrollment.reference))
            .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

#[tokio::test]
async fn client_addresses() {
    assert_eq!(client_key("2001:db8:1:2:3:4:5:6".parse().unwrap()), "2001:db8:1:2::/64");
    assert_eq!(client_key("::ffff:192.0.2.1".parse().unwrap()), "192.0.2.1");
    let h = harness("clients");
    let r = call_from(&h, Some("not-an-ip"), "/api/challenge", r#"{"username":"ada"}"#).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, Some("BAD_FORWARDED_FOR")));
    // without --trust-proxy the header is ignored: every request is the peer's
    let dir = test_dir("no-proxy");
    let app = Arc::new(
        App::new(Db::open(&dir.join("t.sqlite")).unwrap(), "localhost", TEST_MODEL, LivenessPolicy::Required, false)
            .unwrap(),
    );
    let router = router(app, dir.clone(), dir.clone()).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 1))));
    let direct = Harness { router, app: h.app.clone(), dir, owns_dir: true };
    let mut ok = 0;
    for i in 0..25 {
        let r = call_from(&direct, Some(&format!("192.0.2.{i}")), "/api/challenge", r#"{"username":"ada"}"#).await;
        ok += (r.status == StatusCode::OK) as u32;
    }
    assert_eq!(ok, CHALLENGE_PER_CLIENT.max);
}

#[test]
fn an_earlier_schema_is_not_opened() {
    let dir = test_dir("old-schema");
    let path = dir.join("t.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE users (name TEXT PRIMARY KEY); INSERT INTO users VALUES ('Obama');").unwrap();
    drop(conn);
    assert!(Db::open(&path).err().unwrap().contains("schema version 0"));
    let n: i64 =
        rusqlite::Connection::open(&path).unwrap().query_row("SELECT count(*) FROM users", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The relying party's share of the locks through its HTTP API: enrollment evaluates once per
/// token holder, a login evaluates once per challenge, and every evaluation counts as a failed
/// login until its login succeeds, so face guesses at an account are bounded.
#[tokio::test]
async fn the_locks_open_only_through_the_servers_evaluation_and_guesses_are_counted() {
    use faceproof_protocol::{EnrollmentRequest, LoginRequest};
    let h = harness("oprf");
    let secret = DeviceSecret::generate(&mut OsRng).unwrap();
    let views = views(21);
    let token = onboard_token(&h, "dora").await;
    let request =
        EnrollmentRequest::new(&mut OsRng, &secret, "localhost", 1, TEST_MODEL, &views, LockParams::DEFAULT).unwrap();
    let blinded = B64.encode(request.blinded().concat());
    let body = json!({"username": "dora", "enrollmentToken": token, "blinded": blinded}).to_string();
    let r = call(&h, "/api/enroll/evaluate", &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let evaluated: Vec<[u8; 32]> =
        B64.decode(r.json["evaluated"].as_str().unwrap()).unwrap().chunks(32).map(|c| c.try_into().unwrap()).collect();
    // without a live token for the name, nothing is evaluated
    let wrong = json!({"username": "dora", "enrollmentToken": "00".repeat(32), "blinded": blinded}).to_string();
    assert_eq!(call(&h, "/api/enroll/evaluate", &wrong).await.code(), Some("ENROLLMENT_TOKEN_INVALID"));
    let e = request.finish(&mut OsRng, &evaluated).unwrap();
    let r = call(&h, "/api/enroll", &enroll_body("dora", Some(&token), &e.public_key, &e.reference)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    // the token is used up: no more enrollment evaluations
    assert_eq!(call(&h, "/api/enroll/evaluate", &body).await.code(), Some("ENROLLMENT_TOKEN_INVALID"));

    let login_once = |client: Option<&'static str>, ch: Challenge, reference: Vec<u8>, probe: Vec<Embedding>| {
        let h = &h;
        let secret = &secret;
        async move {
            let login = LoginRequest::new(&mut OsRng, secret, &reference, &ch, TEST_MODEL, &probe).unwrap();
            let body = json!({"username": "dora", "nonce": hex32::encode(&ch.nonce), "blinded": B64.encode(login.blinded().concat())})
                .to_string();
            let r = call_from(h, client, "/api/evaluate", &body).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.json);
            // one evaluation per challenge (or none at all once the client's failures are spent)
            let again = call_from(h, client, "/api/evaluate", &body).await;
            assert!(matches!(again.code(), Some("NONCE_REUSED_OR_UNKNOWN" | "RATE_LIMITED")), "{}", again.json);
            let evaluated: Vec<[u8; 32]> = B64
                .decode(r.json["evaluated"].as_str().unwrap())
                .unwrap()
                .chunks(32)
                .map(|c| c.try_into().unwrap())
                .collect();
            login.finish(&mut OsRng, &evaluated, liveness_digest(&ch, true, PassiveCheck::Passed))
        }
    };
    // the enrolled face logs in, and its evaluations are given back
    let owner = Some("198.51.100.7");
    for _ in 0..6 {
        let (ch, reference) = get_challenge(&h, owner, "dora").await;
        let proof = login_once(owner, ch, reference, views[..2].to_vec()).await.unwrap();
        let r = call_from(&h, owner, "/api/login", &login_body("dora", &B64.encode(proof.to_bytes()))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    }
    // another face: no lock opens; each try costs a failed login, and the fifth from one client
    // is the last
    let stranger = synthetic_views(99, 2, 192);
    let client = Some("192.0.2.44");
    for attempt in 0..5 {
        let (ch, reference) = get_challenge(&h, client, "dora").await;
        let r = login_once(client, ch, reference, stranger.clone()).await;
        assert_eq!(r.unwrap_err().code(), "FACE_MISMATCH", "attempt {attempt}");
    }
    let (ch, reference) = get_challenge(&h, client, "dora").await;
    let login = LoginRequest::new(&mut OsRng, &secret, &reference, &ch, TEST_MODEL, &stranger).unwrap();
    let body =
        json!({"username": "dora", "nonce": hex32::encode(&ch.nonce), "blinded": B64.encode(login.blinded().concat())})
            .to_string();
    let r = call_from(&h, client, "/api/evaluate", &body).await;
    assert_eq!((r.status, r.code()), (StatusCode::TOO_MANY_REQUESTS, Some("RATE_LIMITED")));
    // unknown names evaluate too (a decoy key), so evaluation does not tell who is enrolled
    let (ch, _) = get_challenge(&h, Some("203.0.113.9"), "nobody1").await;
    let body = json!({"username": "nobody1", "nonce": hex32::encode(&ch.nonce), "blinded": B64.encode(login.blinded().concat())})
        .to_string();
    let r = call_from(&h, Some("203.0.113.9"), "/api/evaluate", &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(B64.decode(r.json["evaluated"].as_str().unwrap()).unwrap().len(), login.blinded().len() * 32);
}
