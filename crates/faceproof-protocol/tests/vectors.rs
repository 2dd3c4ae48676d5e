//! Known-answer vectors for the reference and proof formats: fixed inputs (device secret,
//! relying-party key, face views, the random generator's seed, the challenge) and the exact
//! bytes they give. Any change to a format, a key schedule, the transform, the lock layout,
//! the OPRF or the transcript changes these bytes: a format change must come with a new
//! version and new vectors (docs/formats.md).

use faceproof_protocol::testing::{seeded_rng, synthetic_views};
use faceproof_protocol::{
    hex32, liveness_digest, reference_digest, reference_header, verify_proof, Challenge, DeviceSecret, Enrolled,
    EnrollmentRequest, LivenessPolicy, LockParams, LoginRequest, OprfKey, PassiveCheck, MAX_PROBE_VIEWS,
};

const RP: &str = "bank.example";
const MODEL: &str = "mobilefacenet-192";

struct Vector {
    reference_sha256: &'static str,
    reference_header: &'static str,
    public_key: &'static str,
    login_elements: usize,
    proof: &'static str,
}

const EXPECTED: Vector = Vector {
    reference_sha256: "f7d1babbe0bd2c0e906af502835dffe5697ab96ecc14d0c29518bc56f2553847",
    reference_header: concat!(
        "46505246020c62616e6b2e6578616d706c6501000000e8acab0a442e544682b0733b7963c7859f83c337ce41d6802f9b18bb563d2e",
        "01116d6f62696c65666163656e65742d31393247ab16a521dcf65eb0e47264bac00000"
    ),
    public_key: "e8acab0a442e544682b0733b7963c7859f83c337ce41d6802f9b18bb563d2e01",
    login_elements: 1024,
    proof: concat!(
        "46505046010c62616e6b2e6578616d706c65424242424242424242424242424242424242424242424242424242424242424200505c",
        "18a3010000e8acab0a442e544682b0733b7963c7859f83c337ce41d6802f9b18bb563d2e01f7d1babbe0bd2c0e906af502835dffe5",
        "697ab96ecc14d0c29518bc56f2553847d61303a0721f57dd424088f78f0013d7d262cdb02637acfaab864f6a49cf7c947a0eb4c0fb",
        "9d83a618d8dedc76871ee132663fadbf76a638385e9bd217ab1207d2c878e5f95b19e1c3ddf8eee6490779e01fb9c91f05b6797bdb",
        "90aba20d8500"
    ),
};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn reference_and_proof_known_answers() {
    // inputs
    let secret = DeviceSecret::from_bytes(&[0x5a; 32]).unwrap();
    let mut key_bytes = [0x11; 32];
    key_bytes[31] = 0x01; // a canonical scalar
    let key = OprfKey::from_bytes(&key_bytes).unwrap();
    let views = synthetic_views(2024, 8, 192);
    let mut rng = seeded_rng(0x6661_6365_7072_6f6f);
    let challenge = Challenge { rp_id: RP.into(), nonce: [0x42; 32], expires_at: 1_800_000_000_000 };

    let request = EnrollmentRequest::new(&mut rng, &secret, RP, 1, MODEL, &views, LockParams::DEFAULT).unwrap();
    let evaluated = key.evaluate(request.blinded()).unwrap();
    let e = request.finish(&mut rng, &evaluated).unwrap();
    let h = reference_header(&e.reference).unwrap();
    let header_len = 59 + RP.len() + MODEL.len();
    let login =
        LoginRequest::new(&mut rng, &secret, &e.reference, &challenge, MODEL, &views[..MAX_PROBE_VIEWS]).unwrap();
    let elements = login.blinded().len();
    let evaluated = key.evaluate(login.blinded()).unwrap();
    let proof =
        login.finish(&mut rng, &evaluated, liveness_digest(&challenge, true, PassiveCheck::Passed)).unwrap().to_bytes();
    let got = (
        hex(&reference_digest(&e.reference)),
        hex(&e.reference[..header_len]),
        hex32::encode(&e.public_key),
        elements,
        hex(&proof),
    );
    println!(
        "reference_sha256: {}\nreference_header: {}\npublic_key: {}\nlogin_elements: {}\nproof: {}",
        got.0, got.1, got.2, got.3, got.4
    );
    assert_eq!(h.public_key, e.public_key);
    let enrolled = Enrolled { public_key: e.public_key, reference: &e.reference };
    assert!(verify_proof(&proof, &challenge, &enrolled, LivenessPolicy::Required, 1_700_000_000_000).is_ok());
    assert_eq!(got.0, EXPECTED.reference_sha256);
    assert_eq!(got.1, EXPECTED.reference_header);
    assert_eq!(got.2, EXPECTED.public_key);
    assert_eq!(got.3, EXPECTED.login_elements);
    assert_eq!(got.4, EXPECTED.proof);
}
