//! Enroll -> prove -> verify on real faces: the enrolled person's other photos open the
//! face-bound key and their proofs verify; another person's do not.
#![cfg(not(target_arch = "wasm32"))]

use faceproof::align::Jitter;
use faceproof::embed::Embedding;
use faceproof::image::RgbImage;
use faceproof::pipeline::{FacePipeline, TemplateOptions};
use faceproof_protocol::{
    liveness_digest, Challenge, DeviceSecret, Enrolled, Enrollment, EnrollmentRequest, Error, LivenessPolicy,
    LockParams, LoginRequest, MemoryNonceStore, OprfKey, OsRng, PassiveCheck, Proof, RejectReason, Verifier,
    MAX_PROBE_VIEWS,
};
use std::sync::OnceLock;

const MODEL: &str = faceproof::embed::MODEL_NAME;

/// The relying party's OPRF key for the user of these tests.
fn server_key() -> &'static OprfKey {
    static K: OnceLock<OprfKey> = OnceLock::new();
    K.get_or_init(|| OprfKey::generate(&mut OsRng).unwrap())
}

fn enroll(
    secret: &DeviceSecret,
    rp: &str,
    epoch: u32,
    views: &[Embedding],
    p: LockParams,
) -> Result<Enrollment, Error> {
    let request = EnrollmentRequest::new(&mut OsRng, secret, rp, epoch, MODEL, views, p)?;
    let evaluated = server_key().evaluate(request.blinded())?;
    request.finish(&mut OsRng, &evaluated)
}

fn prove_with(
    key: &OprfKey,
    secret: &DeviceSecret,
    reference: &[u8],
    ch: &Challenge,
    probes: &[Embedding],
    live: [u8; 32],
) -> Result<Proof, Error> {
    let probes = &probes[..probes.len().min(MAX_PROBE_VIEWS)];
    let request = LoginRequest::new(&mut OsRng, secret, reference, ch, MODEL, probes)?;
    let evaluated = key.evaluate(request.blinded())?;
    request.finish(&mut OsRng, &evaluated, live)
}

fn prove(
    secret: &DeviceSecret,
    reference: &[u8],
    ch: &Challenge,
    probes: &[Embedding],
    live: [u8; 32],
) -> Result<Proof, Error> {
    prove_with(server_key(), secret, reference, ch, probes, live)
}

fn open_key(secret: &DeviceSecret, rp: &str, reference: &[u8], probes: &[Embedding]) -> Result<Proof, Error> {
    let ch = Challenge { rp_id: rp.into(), nonce: [1; 32], expires_at: u64::MAX };
    prove(secret, reference, &ch, probes, [0; 32])
}

struct Faces {
    /// enrollment views of obama.jpg
    enroll: Vec<Embedding>,
    /// live views per portrait: obama2, obama3, biden
    live: Vec<(&'static str, Vec<Embedding>)>,
}

fn faces() -> &'static Faces {
    static F: OnceLock<Faces> = OnceLock::new();
    F.get_or_init(|| {
        let p = FacePipeline::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/models")).unwrap();
        let views = |name: &str| {
            let img = RgbImage::open(format!("{}/tests/data/portraits/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
            let (t, mut v) = p.views(&img, &TemplateOptions::default(), &Jitter::ENROLL).unwrap();
            v.insert(0, t.embedding);
            v
        };
        Faces {
            enroll: views("obama.jpg"),
            live: vec![
                ("obama2.jpg", views("obama2.jpg")),
                ("obama3.jpg", views("obama3.jpg")),
                ("biden.jpg", views("biden.jpg")),
            ],
        }
    })
}

const RP: &str = "bank.example";
const NOW: u64 = 1_800_000_000_000;

#[test]
fn the_enrolled_face_opens_the_key_and_another_does_not() {
    let f = faces();
    let secret = DeviceSecret::generate(&mut OsRng).unwrap();
    let e = enroll(&secret, RP, 1, &f.enroll, LockParams::DEFAULT).unwrap();
    for (name, live) in &f.live {
        let r = open_key(&secret, RP, &e.reference, live);
        if name.starts_with("obama") {
            assert!(r.is_ok(), "{name} should open obama's key: {r:?}");
        } else {
            assert_eq!(r.unwrap_err(), Error::FaceMismatch, "{name} must not open obama's key");
        }
    }
}

#[test]
fn proofs_verify_once_and_only_for_their_challenge() {
    let f = faces();
    let secret = DeviceSecret::generate(&mut OsRng).unwrap();
    let e = enroll(&secret, RP, 1, &f.enroll, LockParams::DEFAULT).unwrap();
    let enrolled = Enrolled { public_key: e.public_key, reference: &e.reference };
    let mut v = Verifier::new(RP, MemoryNonceStore::default()).unwrap();
    let obama2 = &f.live[0].1;

    // accepted, then replay refused
    let ch = v.issue_challenge(&mut OsRng, NOW).unwrap();
    let proof = prove(&secret, &e.reference, &ch, obama2, liveness_digest(&ch, true, PassiveCheck::Passed)).unwrap();
    let bytes = proof.to_bytes();
    assert!(v.verify(&bytes, &enrolled, LivenessPolicy::Required, NOW + 1000).is_ok());
    assert_eq!(
        v.verify(&bytes, &enrolled, LivenessPolicy::Required, NOW + 2000).unwrap_err(),
        Error::ProofRejected(RejectReason::UnknownOrReusedNonce)
    );

    // expired
    let ch = v.issue_challenge(&mut OsRng, NOW).unwrap();
    let late =
        prove(&secret, &e.reference, &ch, obama2, liveness_digest(&ch, true, PassiveCheck::Passed)).unwrap().to_bytes();
    assert_eq!(
        v.verify(&late, &enrolled, LivenessPolicy::Required, NOW + v.ttl_ms + 1).unwrap_err(),
        Error::ProofRejected(RejectReason::Expired)
    );

    // failed liveness
    let ch = v.issue_challenge(&mut OsRng, NOW).unwrap();
    let unlive = prove(&secret, &e.reference, &ch, obama2, liveness_digest(&ch, false, PassiveCheck::Passed))
        .unwrap()
        .to_bytes();
    assert_eq!(
        v.verify(&unlive, &enrolled, LivenessPolicy::Required, NOW).unwrap_err(),
        Error::ProofRejected(RejectReason::LivenessFailed)
    );

    // another user's public key
    let other = enroll(&DeviceSecret::generate(&mut OsRng).unwrap(), RP, 1, &f.enroll, LockParams::DEFAULT).unwrap();
    let ch = v.issue_challenge(&mut OsRng, NOW).unwrap();
    let p =
        prove(&secret, &e.reference, &ch, obama2, liveness_digest(&ch, true, PassiveCheck::Passed)).unwrap().to_bytes();
    let wrong = Enrolled { public_key: other.public_key, reference: &e.reference };
    assert_eq!(
        v.verify(&p, &wrong, LivenessPolicy::Required, NOW).unwrap_err(),
        Error::ProofRejected(RejectReason::WrongPublicKey)
    );

    // a challenge of another relying party
    let mut shop = Verifier::new("shop.example", MemoryNonceStore::default()).unwrap();
    let ch = shop.issue_challenge(&mut OsRng, NOW).unwrap();
    let e_shop = enroll(&secret, "shop.example", 1, &f.enroll, LockParams::DEFAULT).unwrap();
    let p = prove(&secret, &e_shop.reference, &ch, obama2, liveness_digest(&ch, true, PassiveCheck::Passed))
        .unwrap()
        .to_bytes();
    assert_eq!(
        v.verify(&p, &enrolled, LivenessPolicy::Required, NOW).unwrap_err(),
        Error::ProofRejected(RejectReason::WrongRpId)
    );
    // and the bank's reference does not open under the shop's challenge
    assert_eq!(prove(&secret, &e.reference, &ch, obama2, [0; 32]).unwrap_err(), Error::ReferenceDecrypt);

    // tampered signature
    let ch = v.issue_challenge(&mut OsRng, NOW).unwrap();
    let mut p =
        prove(&secret, &e.reference, &ch, obama2, liveness_digest(&ch, true, PassiveCheck::Passed)).unwrap().to_bytes();
    let last = p.len() - 1;
    p[last - 5] ^= 0x01;
    assert_eq!(
        v.verify(&p, &enrolled, LivenessPolicy::Required, NOW).unwrap_err(),
        Error::ProofRejected(RejectReason::BadSignature)
    );

    // biden cannot produce a proof at all
    let ch = v.issue_challenge(&mut OsRng, NOW).unwrap();
    assert_eq!(prove(&secret, &e.reference, &ch, &f.live[2].1, [0; 32]).unwrap_err(), Error::FaceMismatch);
}

#[test]
fn wrong_secret_or_epoch_is_a_decrypt_error_and_renewal_changes_everything() {
    let f = faces();
    let secret = DeviceSecret::generate(&mut OsRng).unwrap();
    let e1 = enroll(&secret, RP, 1, &f.enroll, LockParams::DEFAULT).unwrap();
    let e2 = enroll(&secret, RP, 2, &f.enroll, LockParams::DEFAULT).unwrap();
    let live = &f.live[0].1;
    assert_eq!(
        open_key(&DeviceSecret::generate(&mut OsRng).unwrap(), RP, &e1.reference, live).unwrap_err(),
        Error::ReferenceDecrypt
    );
    // epoch 2 re-enrollment: new public key, new reference, both open with the face
    assert_ne!(e1.public_key, e2.public_key);
    assert!(open_key(&secret, RP, &e2.reference, live).is_ok());
    assert!(open_key(&secret, RP, &e1.reference, live).is_ok());
    // changing the epoch byte in the header makes the old reference unopenable
    let mut moved = e1.reference.clone();
    let epoch_at = 6 + RP.len();
    moved[epoch_at] = 2;
    assert_eq!(open_key(&secret, RP, &moved, live).unwrap_err(), Error::ReferenceDecrypt);
}

/// The offline attack of a design without the relying party's share: holding the device secret
/// and the reference, even the enrolled face itself opens nothing without the relying party's
/// key (an attacker's own key, or a guessed one, gives other masks).
#[test]
fn without_the_relying_partys_key_not_even_the_enrolled_face_opens_a_lock() {
    let f = faces();
    let secret = DeviceSecret::generate(&mut OsRng).unwrap();
    let e = enroll(&secret, RP, 1, &f.enroll, LockParams::DEFAULT).unwrap();
    let ch = Challenge { rp_id: RP.into(), nonce: [2; 32], expires_at: u64::MAX };
    for views in [&f.enroll, &f.live[0].1, &f.live[1].1] {
        let attacker_key = OprfKey::generate(&mut OsRng).unwrap();
        assert_eq!(
            prove_with(&attacker_key, &secret, &e.reference, &ch, views, [0; 32]).unwrap_err(),
            Error::FaceMismatch
        );
        assert!(prove(&secret, &e.reference, &ch, views, [0; 32]).is_ok(), "with the relying party it opens");
    }
}
