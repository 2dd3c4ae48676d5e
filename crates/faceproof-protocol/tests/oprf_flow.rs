//! The relying party's share of the locks, end to end on synthetic faces: enrollment and login
//! each go through one evaluation, every evaluation costs an issued challenge (once), batches are
//! bounded, and without the relying party's key nothing opens.

use faceproof_protocol::testing::{enroll_with_key, prove_with_key, seeded_rng, synthetic_views, TEST_MODEL};
use faceproof_protocol::{
    liveness_digest, Challenge, DeviceSecret, Enrolled, Error, LivenessPolicy, LockParams, LoginRequest,
    MemoryNonceStore, OprfKey, PassiveCheck, RejectReason, Verifier, ELEMENT_BYTES, MAX_PROBE_VIEWS,
};

const RP: &str = "bank.example";

#[test]
fn a_login_needs_one_evaluation_per_challenge_and_verifies() {
    let mut rng = seeded_rng(7);
    let key = OprfKey::generate(&mut rng).unwrap();
    let secret = DeviceSecret::generate(&mut rng).unwrap();
    let views = synthetic_views(3, 8, 192);
    let e = enroll_with_key(&mut rng, &key, &secret, RP, 1, &views, LockParams::DEFAULT).unwrap();
    let mut v = Verifier::new(RP, MemoryNonceStore::default()).unwrap();
    let ch = v.issue_challenge(&mut rng, 1_000).unwrap();
    let login = LoginRequest::new(&mut rng, &secret, &e.reference, &ch, TEST_MODEL, &views[..MAX_PROBE_VIEWS]).unwrap();
    // views that agree on a lock's bits are sent once: fewer elements than views x locks
    assert!(login.blinded().len() < MAX_PROBE_VIEWS * LockParams::DEFAULT.locks as usize);
    let evaluated = v.evaluate(&ch.nonce, &key, login.blinded(), 1_000).unwrap();
    // a second evaluation for the same challenge is refused: one face guess per challenge
    assert_eq!(
        v.evaluate(&ch.nonce, &key, login.blinded(), 1_000).unwrap_err(),
        Error::ProofRejected(RejectReason::UnknownOrReusedNonce)
    );
    // and so is one for a challenge never issued, or expired
    assert!(v.evaluate(&[9; 32], &key, login.blinded(), 1_000).is_err());
    let late = v.issue_challenge(&mut rng, 1_000).unwrap();
    assert!(v.evaluate(&late.nonce, &key, login.blinded(), late.expires_at + 1).is_err());
    let proof =
        login.finish(&mut rng, &evaluated, liveness_digest(&ch, true, PassiveCheck::Passed)).unwrap().to_bytes();
    let enrolled = Enrolled { public_key: e.public_key, reference: &e.reference };
    assert!(v.verify(&proof, &enrolled, LivenessPolicy::Required, 1_500).is_ok());
}

#[test]
fn batches_are_bounded_and_bad_points_are_refused_whole() {
    let mut rng = seeded_rng(8);
    let key = OprfKey::generate(&mut rng).unwrap();
    let mut v = Verifier::new(RP, MemoryNonceStore::default()).unwrap();
    let ch = v.issue_challenge(&mut rng, 0).unwrap();
    let too_many = vec![[0u8; ELEMENT_BYTES]; LockParams::DEFAULT.locks as usize * MAX_PROBE_VIEWS + 1];
    assert_eq!(v.evaluate(&ch.nonce, &key, &too_many, 0).unwrap_err().code(), "MALFORMED_EVALUATION");
    assert_eq!(v.evaluate(&ch.nonce, &key, &[], 0).unwrap_err().code(), "MALFORMED_EVALUATION");
    // refusals by size do not use up the challenge; an invalid point does, and evaluates nothing
    let secret = DeviceSecret::generate(&mut rng).unwrap();
    let views = synthetic_views(4, 8, 192);
    let e = enroll_with_key(&mut rng, &key, &secret, RP, 1, &views, LockParams::DEFAULT).unwrap();
    let login = LoginRequest::new(&mut rng, &secret, &e.reference, &ch, TEST_MODEL, &views[..1]).unwrap();
    let mut bad = login.blinded().to_vec();
    bad[0] = [0u8; ELEMENT_BYTES];
    assert_eq!(v.evaluate(&ch.nonce, &key, &bad, 0).unwrap_err().code(), "MALFORMED_EVALUATION");
    // a wrong number of evaluated elements, or invalid ones, is an error, not a mismatch
    let evaluated = key.evaluate(login.blinded()).unwrap();
    assert_eq!(
        LoginRequest::new(&mut rng, &secret, &e.reference, &ch, TEST_MODEL, &views[..1])
            .unwrap()
            .finish(&mut rng, &evaluated[1..], [0; 32])
            .unwrap_err()
            .code(),
        "MALFORMED_EVALUATION"
    );
}

#[test]
fn without_the_key_nothing_opens_and_another_model_is_refused() {
    let mut rng = seeded_rng(9);
    let key = OprfKey::generate(&mut rng).unwrap();
    let secret = DeviceSecret::generate(&mut rng).unwrap();
    let views = synthetic_views(5, 8, 192);
    let e = enroll_with_key(&mut rng, &key, &secret, RP, 1, &views, LockParams::DEFAULT).unwrap();
    let ch = Challenge { rp_id: RP.into(), nonce: [3; 32], expires_at: u64::MAX };
    // the enrolled views themselves, evaluated under any other key: no lock opens
    for _ in 0..3 {
        let other = OprfKey::generate(&mut rng).unwrap();
        let r = prove_with_key(&mut rng, &other, &secret, &e.reference, &ch, &views[..MAX_PROBE_VIEWS.min(8)], [0; 32]);
        assert_eq!(r.unwrap_err(), Error::FaceMismatch);
    }
    assert!(prove_with_key(&mut rng, &key, &secret, &e.reference, &ch, &views[..1], [0; 32]).is_ok());
    // templates of another embedder
    let r = LoginRequest::new(&mut rng, &secret, &e.reference, &ch, "another-model", &views[..1]);
    assert_eq!(r.unwrap_err().code(), "MODEL_MISMATCH");
    let r = LoginRequest::new(&mut rng, &secret, &e.reference, &ch, TEST_MODEL, &synthetic_views(5, 1, 128));
    assert_eq!(r.unwrap_err().code(), "MODEL_MISMATCH");
    // too many live views
    let many = synthetic_views(5, MAX_PROBE_VIEWS + 1, 192);
    let r = LoginRequest::new(&mut rng, &secret, &e.reference, &ch, TEST_MODEL, &many);
    assert_eq!(r.unwrap_err().code(), "INVALID_ARGUMENT");
}

/// A proof signed by the right face and key, but whose liveness digest says the passive
/// presentation-attack check did not run (its models were not loaded) or caught an attack, or
/// that the prompts were not performed: a relying party that requires liveness refuses it,
/// one that does not accepts it.
#[test]
fn required_liveness_needs_the_prompts_and_the_passive_check() {
    let mut rng = seeded_rng(9);
    let key = OprfKey::generate(&mut rng).unwrap();
    let secret = DeviceSecret::generate(&mut rng).unwrap();
    let views = synthetic_views(5, 8, 192);
    let e = enroll_with_key(&mut rng, &key, &secret, RP, 1, &views, LockParams::DEFAULT).unwrap();
    let enrolled = Enrolled { public_key: e.public_key, reference: &e.reference };
    let mut v = Verifier::new(RP, MemoryNonceStore::default()).unwrap();
    let outcomes = [
        (true, PassiveCheck::NotRun),
        (true, PassiveCheck::Failed),
        (false, PassiveCheck::Passed),
        (false, PassiveCheck::NotRun),
        (true, PassiveCheck::Passed),
    ];
    for (prompts, passive) in outcomes {
        let accepted = prompts && passive == PassiveCheck::Passed;
        for policy in [LivenessPolicy::Required, LivenessPolicy::NotRequired] {
            let ch = v.issue_challenge(&mut rng, 1_000).unwrap();
            let live = liveness_digest(&ch, prompts, passive);
            let proof = prove_with_key(&mut rng, &key, &secret, &e.reference, &ch, &views[..1], live).unwrap();
            let r = v.verify(&proof.to_bytes(), &enrolled, policy, 1_000);
            if accepted || policy == LivenessPolicy::NotRequired {
                assert!(r.is_ok(), "{prompts} {passive:?} {policy:?}: {r:?}");
            } else {
                assert_eq!(r.unwrap_err(), Error::ProofRejected(RejectReason::LivenessFailed), "{prompts} {passive:?}");
            }
        }
    }
}
