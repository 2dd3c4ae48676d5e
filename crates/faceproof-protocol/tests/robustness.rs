//! Property tests: 100,000 mutated references and proofs (flipped bits, overwritten, inserted,
//! removed bytes, truncations, extensions) and random bytes for every parser. Never a panic,
//! never an accepted tamper.
#![cfg(not(target_arch = "wasm32"))]

use faceproof_protocol::testing::{enroll_with_key, prove_with_key, seeded_rng, synthetic_views};
use faceproof_protocol::{
    check_reference, liveness_digest, reference_header, Challenge, DeviceSecret, Embedding, Enrolled, LivenessPolicy,
    LockParams, MemoryNonceStore, NonceStore, OprfKey, PassiveCheck, Proof, Verifier,
};
use proptest::prelude::*;
use std::sync::OnceLock;

const RP: &str = "bank.example";
const CASES: u32 = 50_000;

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(usize, u8),
    SetByte(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
    Append(Vec<u8>),
    Swap(usize, usize),
}

fn mutation() -> impl Strategy<Value = Vec<Mutation>> {
    let one = prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(p, b)| Mutation::FlipBit(p, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(p, v)| Mutation::SetByte(p, v)),
        (any::<usize>(), any::<u8>()).prop_map(|(p, v)| Mutation::Insert(p, v)),
        any::<usize>().prop_map(Mutation::Remove),
        any::<usize>().prop_map(Mutation::Truncate),
        proptest::collection::vec(any::<u8>(), 1..40).prop_map(Mutation::Append),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
    ];
    proptest::collection::vec(one, 1..4)
}

fn apply(bytes: &[u8], muts: &[Mutation]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for m in muts {
        let n = b.len().max(1);
        match m {
            Mutation::FlipBit(p, bit) => {
                if !b.is_empty() {
                    b[p % n] ^= 1 << bit
                }
            }
            Mutation::SetByte(p, v) => {
                if !b.is_empty() {
                    b[p % n] = *v
                }
            }
            Mutation::Insert(p, v) => b.insert(p % (b.len() + 1), *v),
            Mutation::Remove(p) => {
                if !b.is_empty() {
                    b.remove(p % n);
                }
            }
            Mutation::Truncate(l) => b.truncate(l % n),
            Mutation::Append(x) => b.extend_from_slice(x),
            Mutation::Swap(x, y) => {
                if !b.is_empty() {
                    b.swap(x % n, y % n)
                }
            }
        }
    }
    b
}

/// Synthetic enrollment views: one random unit vector and small perturbations of it.
fn views(seed: u32) -> Vec<Embedding> {
    synthetic_views(seed, 8, 192)
}

struct Fixture {
    secret: DeviceSecret,
    reference: Vec<u8>,
    public_key: [u8; 32],
    proof: Vec<u8>,
    challenge: Challenge,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let secret = DeviceSecret::from_bytes(&[42; 32]).unwrap();
        let v = views(1);
        let mut rng = seeded_rng(1);
        let key = OprfKey::generate(&mut rng).unwrap();
        let e = enroll_with_key(&mut rng, &key, &secret, RP, 3, &v, LockParams::DEFAULT).unwrap();
        let challenge = Challenge { rp_id: RP.into(), nonce: [9; 32], expires_at: u64::MAX };
        let live = liveness_digest(&challenge, true, PassiveCheck::Passed);
        let proof =
            prove_with_key(&mut rng, &key, &secret, &e.reference, &challenge, &v[..1], live).unwrap().to_bytes();
        Fixture { secret, reference: e.reference, public_key: e.public_key, proof, challenge }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_references_are_typed_errors(muts in mutation()) {
        let f = fixture();
        let bad = apply(&f.reference, &muts);
        let r = check_reference(&f.secret, RP, &bad);
        if bad == f.reference {
            prop_assert!(r.is_ok());
        } else {
            let code = r.unwrap_err().code();
            prop_assert!(code == "MALFORMED_REFERENCE" || code == "REFERENCE_DECRYPT", "{}", code);
        }
    }

    #[test]
    fn mutated_proofs_are_never_accepted(muts in mutation()) {
        let f = fixture();
        let bad = apply(&f.proof, &muts);
        let mut v = Verifier::new(RP, MemoryNonceStore::default()).unwrap();
        v.store().insert(f.challenge.nonce, f.challenge.expires_at).unwrap();
        // the mutated proof may carry another nonce: make that one "issued" too, so that the
        // signature check (not the nonce store) has to catch it
        if let Ok(p) = Proof::from_bytes(&bad) {
            v.store().insert(p.challenge.nonce, f.challenge.expires_at).unwrap();
        }
        let enrolled = Enrolled { public_key: f.public_key, reference: &f.reference };
        let r = v.verify(&bad, &enrolled, LivenessPolicy::Required, 0);
        if bad == f.proof {
            prop_assert!(r.is_ok());
        } else {
            prop_assert!(r.is_err());
        }
    }

    #[test]
    fn parsers_take_random_bytes_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = reference_header(&bytes);
        let _ = check_reference(&fixture().secret, RP, &bytes);
        let _ = Proof::from_bytes(&bytes);
        let _ = serde_json::from_slice::<Challenge>(&bytes);
        let _ = DeviceSecret::from_bytes(&bytes);
    }
}

#[test]
fn the_unmutated_fixture_is_valid() {
    let f = fixture();
    assert!(check_reference(&f.secret, RP, &f.reference).is_ok());
    let p = Proof::from_bytes(&f.proof).unwrap();
    assert!(p.signature_is_valid());
    assert_eq!(Proof::from_bytes(&p.to_bytes()).unwrap(), p);
}
