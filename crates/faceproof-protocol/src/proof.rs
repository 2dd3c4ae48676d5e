//! The proof of presence: a Schnorr signature on Ristretto255 over a domain-separated SHA-512
//! transcript of the server's challenge, the reference, the public key and the liveness result.
//!
//! Proof bytes (integers little-endian):
//! ```text
//! 0    4   magic "FPPF"        4    1   version = 1        5   1   r = rp id length
//! 6    r   rp id               +32  nonce                  +8  expires at (u64, unix ms)
//! +32  public key              +32  reference digest (SHA-256 of the reference bytes)
//! +32  liveness digest         +32  R (commitment)         +32 z (response scalar)
//! ```
//! Transcript: `SHA-512("faceproof/proof/v1" || version || r || rp id || nonce || expires at ||
//! public key || reference digest || liveness digest || R)` reduced mod the group order.

use crate::error::{Error, Result};
use crate::keys::{check_rp_id, random_bytes};
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};
use zeroize::Zeroize;

pub const MAGIC: &[u8; 4] = b"FPPF";
pub const VERSION: u8 = 1;
/// Largest proof in bytes (a 255-byte rp id).
pub const MAX_PROOF_BYTES: usize = 6 + 255 + 200;

/// What the relying party sends to start a login. Fresh `nonce` per login, single use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Challenge {
    pub rp_id: String,
    #[serde(with = "hex32")]
    pub nonce: [u8; 32],
    /// Unix time in milliseconds after which the verifier refuses the proof.
    pub expires_at: u64,
}

/// The signed statement, as sent to the relying party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    pub challenge: Challenge,
    pub public_key: [u8; 32],
    pub reference_digest: [u8; 32],
    pub liveness_digest: [u8; 32],
    pub commitment: [u8; 32],
    pub response: [u8; 32],
}

fn transcript(
    ch: &Challenge,
    pk: &[u8; 32],
    reference: &[u8; 32],
    liveness: &[u8; 32],
    commitment: &[u8; 32],
) -> Scalar {
    let mut h = Sha512::new();
    h.update(b"faceproof/proof/v1");
    h.update([VERSION, ch.rp_id.len() as u8]);
    h.update(ch.rp_id.as_bytes());
    h.update(ch.nonce);
    h.update(ch.expires_at.to_le_bytes());
    h.update(pk);
    h.update(reference);
    h.update(liveness);
    h.update(commitment);
    Scalar::from_hash(h)
}

/// Sign the challenge with the face-bound secret scalar.
pub fn sign(
    rng: &mut (impl RngCore + CryptoRng),
    secret: &Scalar,
    challenge: &Challenge,
    reference_digest: [u8; 32],
    liveness_digest: [u8; 32],
) -> Result<Proof> {
    check_rp_id(&challenge.rp_id)?;
    let public_key = (secret * RISTRETTO_BASEPOINT_TABLE).compress().to_bytes();
    // Hedged nonce: deterministic in the secret and message, plus fresh randomness, so that
    // neither a weak RNG nor a fault alone can leak the key.
    let mut extra: [u8; 32] = random_bytes(rng)?;
    let mut h = Sha512::new();
    h.update(b"faceproof/nonce/v1");
    h.update(secret.as_bytes());
    h.update(challenge.nonce);
    h.update(reference_digest);
    h.update(liveness_digest);
    h.update(extra);
    extra.zeroize();
    let mut r = Scalar::from_hash(h);
    let commitment = (&r * RISTRETTO_BASEPOINT_TABLE).compress().to_bytes();
    let c = transcript(challenge, &public_key, &reference_digest, &liveness_digest, &commitment);
    let response = (r + c * secret).to_bytes();
    r.zeroize();
    Ok(Proof { challenge: challenge.clone(), public_key, reference_digest, liveness_digest, commitment, response })
}

impl Proof {
    /// Check the signature alone (the verifier adds freshness, nonce and key checks).
    pub fn signature_is_valid(&self) -> bool {
        let Ok(pk) = public_point(&self.public_key) else { return false };
        let Some(z) = Option::<Scalar>::from(Scalar::from_canonical_bytes(self.response)) else { return false };
        // An identity commitment never comes from an honest signer (its nonce is uniform)
        match CompressedRistretto(self.commitment).decompress() {
            Some(r) if !r.is_identity() => {}
            _ => return false,
        }
        let c = transcript(
            &self.challenge,
            &self.public_key,
            &self.reference_digest,
            &self.liveness_digest,
            &self.commitment,
        );
        // z*G - c*P must equal R
        let r = RistrettoPoint::vartime_double_scalar_mul_basepoint(&c, &(-pk), &z);
        r.compress().to_bytes() == self.commitment
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let ch = &self.challenge;
        let mut out = Vec::with_capacity(6 + ch.rp_id.len() + 200);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(ch.rp_id.len() as u8);
        out.extend_from_slice(ch.rp_id.as_bytes());
        out.extend_from_slice(&ch.nonce);
        out.extend_from_slice(&ch.expires_at.to_le_bytes());
        for part in [&self.public_key, &self.reference_digest, &self.liveness_digest, &self.commitment, &self.response]
        {
            out.extend_from_slice(part);
        }
        out
    }

    /// Strict parse: exact length, known magic and version, valid rp id.
    pub fn from_bytes(b: &[u8]) -> Result<Proof> {
        let bad = |m: &str| Error::MalformedProof(m.into());
        if b.len() < 6 || &b[..4] != MAGIC {
            return Err(bad("bad magic"));
        }
        if b[4] != VERSION {
            return Err(bad("unsupported version"));
        }
        let r = b[5] as usize;
        if b.len() != 6 + r + 200 {
            return Err(bad("wrong length"));
        }
        let rp_id = std::str::from_utf8(&b[6..6 + r]).map_err(|_| bad("rp id is not UTF-8"))?;
        check_rp_id(rp_id).map_err(|_| bad("bad rp id"))?;
        let at = |i: usize| -> [u8; 32] {
            let mut a = [0u8; 32];
            a.copy_from_slice(&b[6 + r + i..6 + r + i + 32]);
            a
        };
        let mut exp = [0u8; 8];
        exp.copy_from_slice(&b[6 + r + 32..6 + r + 40]);
        Ok(Proof {
            challenge: Challenge { rp_id: rp_id.to_string(), nonce: at(0), expires_at: u64::from_le_bytes(exp) },
            public_key: at(40),
            reference_digest: at(72),
            liveness_digest: at(104),
            commitment: at(136),
            response: at(168),
        })
    }
}

/// Decode a public key: a canonical Ristretto255 encoding of a point other than the identity.
/// (With the identity as public key, `R = identity, z = 0` would verify for every challenge.)
pub(crate) fn public_point(bytes: &[u8; 32]) -> Result<RistrettoPoint> {
    match CompressedRistretto(*bytes).decompress() {
        Some(p) if !p.is_identity() => Ok(p),
        _ => Err(Error::InvalidPublicKey),
    }
}

/// Check a public key as a relying party stores it at enrollment: a canonical encoding of a
/// Ristretto255 point other than the identity. `Err(InvalidPublicKey)` otherwise.
pub fn check_public_key(bytes: &[u8; 32]) -> Result<()> {
    public_point(bytes).map(|_| ())
}

/// Hex (lowercase) for 32-byte fields in JSON.
pub mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        decode(&s).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
    pub fn encode(v: &[u8]) -> String {
        v.iter().map(|b| format!("{b:02x}")).collect()
    }
    pub fn decode(s: &str) -> Option<[u8; 32]> {
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(out)
    }
}
