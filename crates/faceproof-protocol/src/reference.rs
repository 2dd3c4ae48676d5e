//! The encrypted reference: a small versioned binary format, sealed with ChaCha20-Poly1305.
//!
//! ```text
//! offset    size  field (integers little-endian)      -- header, authenticated as AAD
//! 0         4     magic "FPRF"
//! 4         1     version = 2
//! 5         1     r = rp id length (1..=255)
//! 6         r     rp id (printable ASCII)
//! 6+r       4     epoch (u32)
//! 10+r      32    public key (compressed Ristretto255, not the identity)
//! 42+r      1     t = model length (1..=64)
//! 43+r      t     model: which embedder made the templates (printable ASCII)
//! 43+r+t    12    AEAD nonce (random)
//! 55+r+t    4     c = ciphertext length (u32), = plaintext length + 16
//! 59+r+t    c     ciphertext + Poly1305 tag               -- sealed body
//!
//! plaintext:
//! 0       2     n  code bits (multiple of 64, 64..=4096)
//! 2       2     m  reliable bits
//! 4       1     k  bits per lock
//! 5       2     L  locks
//! 7       1     transform id = 1 (Gaussian rows, orthonormal in blocks of d)
//! 8       2     d  embedding dimension (16..=1024, even)
//! 10      n/8   bitmap of the m reliable positions
//! 10+n/8  32    lock seed
//! 42+n/8  48*L  locks (masked scalar 32 + tag 16)
//! ```
//! The key is the AEAD key derived from (device secret, rp id, epoch). Any flipped, missing or
//! extra byte is an error: [`Error::MalformedReference`] when the structure is wrong,
//! [`Error::ReferenceDecrypt`] when authentication fails, [`Error::UnsupportedVersion`] for a
//! reference of an earlier format (version 1 had no relying-party share in its locks).

use crate::error::{Error, Result};
use crate::face_key::{FaceLocks, LockParams, LOCK_BYTES};
use crate::keys::{check_rp_id, random_bytes, Keys};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::ChaCha20Poly1305;
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroize;

pub const MAGIC: &[u8; 4] = b"FPRF";
pub const VERSION: u8 = 2;
pub const TRANSFORM_ID: u8 = 1;
/// Longest model name.
pub const MAX_MODEL: usize = 64;
const TAG: usize = 16;
const PLAIN_HEAD: usize = 10;
/// Largest sealed body the parser accepts (8192 locks of 4096-bit codes).
const MAX_BODY: usize = PLAIN_HEAD + 512 + 32 + 8192 * LOCK_BYTES + TAG;
/// Largest reference the parser accepts, in bytes.
pub const MAX_REFERENCE_BYTES: usize = 59 + 255 + MAX_MODEL + MAX_BODY;

/// The public part of a reference, readable by the server without any key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceHeader {
    pub rp_id: String,
    pub epoch: u32,
    pub public_key: [u8; 32],
    /// The embedder whose templates it was made from: templates of another one cannot open it.
    pub model: String,
    pub nonce: [u8; 12],
}

/// The reference's parameters, readable once it is unsealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sealed {
    pub dim: u16,
}

fn malformed(m: &str) -> Error {
    Error::MalformedReference(m.into())
}

/// A model name: 1..=64 printable ASCII characters.
pub(crate) fn check_model(model: &str) -> Result<()> {
    if model.is_empty() || model.len() > MAX_MODEL || !model.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err(Error::InvalidArgument("model name must be 1-64 printable ASCII characters".into()));
    }
    Ok(())
}

fn field<const N: usize>(b: &[u8], at: usize) -> Result<[u8; N]> {
    b.get(at..at + N).and_then(|s| s.try_into().ok()).ok_or_else(|| malformed("truncated header"))
}

/// Split a reference into its header (and the header's bytes, the AAD) and sealed body.
pub fn parse(bytes: &[u8]) -> Result<(ReferenceHeader, &[u8], &[u8])> {
    if bytes.len() < 6 {
        return Err(malformed("too short"));
    }
    if &bytes[..4] != MAGIC {
        return Err(malformed("bad magic"));
    }
    match bytes[4] {
        VERSION => {}
        1 => return Err(Error::UnsupportedVersion(1)),
        _ => return Err(malformed("unknown version")),
    }
    let r = bytes[5] as usize;
    let rp_bytes = bytes.get(6..6 + r).ok_or_else(|| malformed("truncated header"))?;
    let rp_id = std::str::from_utf8(rp_bytes).map_err(|_| malformed("rp id is not UTF-8"))?;
    check_rp_id(rp_id).map_err(|_| malformed("bad rp id"))?;
    let epoch = u32::from_le_bytes(field(bytes, 6 + r)?);
    let public_key: [u8; 32] = field(bytes, 10 + r)?;
    crate::proof::check_public_key(&public_key).map_err(|_| malformed("public key is not a valid point"))?;
    let t = *bytes.get(42 + r).ok_or_else(|| malformed("truncated header"))? as usize;
    let model_bytes = bytes.get(43 + r..43 + r + t).ok_or_else(|| malformed("truncated header"))?;
    let model = std::str::from_utf8(model_bytes).map_err(|_| malformed("model is not UTF-8"))?;
    check_model(model).map_err(|_| malformed("bad model name"))?;
    let nonce: [u8; 12] = field(bytes, 43 + r + t)?;
    let c = u32::from_le_bytes(field(bytes, 55 + r + t)?) as usize;
    let head_len = 59 + r + t;
    if !(TAG + PLAIN_HEAD..=MAX_BODY).contains(&c) {
        return Err(malformed("body length out of range"));
    }
    if bytes.len() != head_len + c {
        return Err(malformed(if bytes.len() < head_len + c { "truncated body" } else { "trailing bytes" }));
    }
    let header = ReferenceHeader { rp_id: rp_id.to_string(), epoch, public_key, model: model.to_string(), nonce };
    Ok((header, &bytes[..head_len], &bytes[head_len..]))
}

fn encode_locks(locks: &FaceLocks, dim: u16) -> Vec<u8> {
    let p = locks.params;
    let mut out = Vec::with_capacity(PLAIN_HEAD + p.n_bits as usize / 8 + 32 + locks.locks.len() * LOCK_BYTES);
    out.extend_from_slice(&p.n_bits.to_le_bytes());
    out.extend_from_slice(&p.reliable.to_le_bytes());
    out.push(p.k);
    out.extend_from_slice(&p.locks.to_le_bytes());
    out.push(TRANSFORM_ID);
    out.extend_from_slice(&dim.to_le_bytes());
    let mut bitmap = vec![0u8; p.n_bits as usize / 8];
    for &i in &locks.reliable {
        bitmap[i as usize / 8] |= 1 << (i % 8);
    }
    out.extend_from_slice(&bitmap);
    out.extend_from_slice(&locks.seed);
    for l in &locks.locks {
        out.extend_from_slice(l);
    }
    out
}

/// Embedding dimensions a reference may declare.
pub(crate) fn check_dim(dim: usize) -> Result<()> {
    if (16..=1024).contains(&dim) && dim % 2 == 0 {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!("embedding dimension {dim} out of range (16..=1024, even)")))
    }
}

fn decode_locks(plain: &[u8]) -> Result<(FaceLocks, Sealed)> {
    if plain.len() < PLAIN_HEAD {
        return Err(malformed("sealed body too short"));
    }
    let params = LockParams {
        n_bits: u16::from_le_bytes([plain[0], plain[1]]),
        reliable: u16::from_le_bytes([plain[2], plain[3]]),
        k: plain[4],
        locks: u16::from_le_bytes([plain[5], plain[6]]),
    };
    params.validate().map_err(|_| malformed("parameters out of range"))?;
    if plain[7] != TRANSFORM_ID {
        return Err(malformed("unknown transform"));
    }
    let dim = u16::from_le_bytes([plain[8], plain[9]]);
    check_dim(dim as usize).map_err(|_| malformed("embedding dimension out of range"))?;
    let nb = params.n_bits as usize / 8;
    let expected = PLAIN_HEAD + nb + 32 + params.locks as usize * LOCK_BYTES;
    if plain.len() != expected {
        return Err(malformed("sealed body has the wrong length"));
    }
    let bitmap = &plain[PLAIN_HEAD..PLAIN_HEAD + nb];
    let reliable: Vec<u16> = (0..params.n_bits).filter(|&i| bitmap[i as usize / 8] >> (i % 8) & 1 == 1).collect();
    if reliable.len() != params.reliable as usize {
        return Err(malformed("reliable bitmap does not match m"));
    }
    let at = PLAIN_HEAD + nb;
    let seed: [u8; 32] = plain[at..at + 32].try_into().map_err(|_| malformed("seed"))?;
    let locks = plain[at + 32..]
        .chunks_exact(LOCK_BYTES)
        .map(|c| c.try_into().map_err(|_| malformed("lock")))
        .collect::<Result<Vec<[u8; LOCK_BYTES]>>>()?;
    Ok((FaceLocks { params, reliable, seed, locks }, Sealed { dim }))
}

/// What goes into the header besides the keys' (rp id, epoch).
pub(crate) struct HeaderFields<'a> {
    pub public_key: &'a [u8; 32],
    pub model: &'a str,
    pub dim: u16,
}

/// Seal the face locks into a reference for (rp id, epoch) under `keys`.
pub(crate) fn seal(
    rng: &mut (impl RngCore + CryptoRng),
    keys: &Keys,
    rp_id: &str,
    epoch: u32,
    fields: &HeaderFields,
    locks: &FaceLocks,
) -> Result<Vec<u8>> {
    check_rp_id(rp_id)?;
    check_model(fields.model)?;
    let nonce: [u8; 12] = random_bytes(rng)?;
    let mut plain = encode_locks(locks, fields.dim);
    let mut out = Vec::with_capacity(59 + rp_id.len() + fields.model.len() + plain.len() + TAG);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(rp_id.len() as u8);
    out.extend_from_slice(rp_id.as_bytes());
    out.extend_from_slice(&epoch.to_le_bytes());
    out.extend_from_slice(fields.public_key);
    out.push(fields.model.len() as u8);
    out.extend_from_slice(fields.model.as_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&((plain.len() + TAG) as u32).to_le_bytes());
    let cipher = ChaCha20Poly1305::new((&keys.aead).into());
    let sealed = cipher
        .encrypt((&nonce).into(), Payload { msg: &plain, aad: &out })
        .map_err(|_| Error::InvalidArgument("reference too large to seal".into()));
    plain.zeroize();
    out.extend_from_slice(&sealed?);
    Ok(out)
}

/// Check and decrypt a reference for (rp id, epoch) with `keys`.
pub(crate) fn unseal(
    keys: &Keys,
    rp_id: &str,
    epoch: u32,
    bytes: &[u8],
) -> Result<(ReferenceHeader, FaceLocks, Sealed)> {
    let (header, aad, body) = parse(bytes)?;
    if header.rp_id != rp_id || header.epoch != epoch {
        // the key derived for the caller's (rp id, epoch) cannot open it either
        return Err(Error::ReferenceDecrypt);
    }
    let cipher = ChaCha20Poly1305::new((&keys.aead).into());
    let mut plain =
        cipher.decrypt((&header.nonce).into(), Payload { msg: body, aad }).map_err(|_| Error::ReferenceDecrypt)?;
    let decoded = decode_locks(&plain);
    plain.zeroize();
    let (locks, sealed) = decoded?;
    Ok((header, locks, sealed))
}

/// The public header of a reference (rp id, epoch, public key, model), readable without any
/// key: a relying party checks at enrollment that it carries the public key submitted with it.
pub fn reference_header(bytes: &[u8]) -> Result<ReferenceHeader> {
    Ok(parse(bytes)?.0)
}

/// SHA-256 of the reference bytes: what the proof transcript binds.
pub fn reference_digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face_key::FaceLocks;
    use crate::keys::{DeviceSecret, OsRng};
    use curve25519_dalek::constants::RISTRETTO_BASEPOINT_COMPRESSED;

    const PK: [u8; 32] = RISTRETTO_BASEPOINT_COMPRESSED.0;

    fn fields() -> HeaderFields<'static> {
        HeaderFields { public_key: &PK, model: "test-model", dim: 192 }
    }

    fn locks() -> FaceLocks {
        let params = LockParams { n_bits: 128, reliable: 32, k: 8, locks: 3 };
        FaceLocks { params, reliable: (0..32).map(|i| i * 4).collect(), seed: [5; 32], locks: vec![[7; LOCK_BYTES]; 3] }
    }

    #[test]
    fn layout_matches_the_documentation_and_round_trips() {
        let keys = Keys::derive(&DeviceSecret::from_bytes(&[1; 32]).unwrap(), "rp.example", 9).unwrap();
        let r = seal(&mut OsRng, &keys, "rp.example", 9, &fields(), &locks()).unwrap();
        assert_eq!(&r[..4], b"FPRF");
        assert_eq!(r[4], 2);
        assert_eq!(r[5] as usize, "rp.example".len());
        assert_eq!(&r[6..16], b"rp.example");
        assert_eq!(u32::from_le_bytes(r[16..20].try_into().unwrap()), 9);
        assert_eq!(&r[20..52], &PK);
        assert_eq!(r[52] as usize, "test-model".len());
        assert_eq!(&r[53..63], b"test-model");
        let plain_len = 10 + 128 / 8 + 32 + 3 * LOCK_BYTES;
        assert_eq!(u32::from_le_bytes(r[75..79].try_into().unwrap()) as usize, plain_len + 16);
        assert_eq!(r.len(), 79 + plain_len + 16);
        let (h, l, sealed) = unseal(&keys, "rp.example", 9, &r).unwrap();
        assert_eq!((h.public_key, h.model.as_str(), sealed.dim), (PK, "test-model", 192));
        assert_eq!(l, locks());
    }

    #[test]
    fn wrong_key_rp_or_epoch_and_every_truncation_fail() {
        let keys = Keys::derive(&DeviceSecret::from_bytes(&[1; 32]).unwrap(), "rp.example", 9).unwrap();
        let r = seal(&mut OsRng, &keys, "rp.example", 9, &fields(), &locks()).unwrap();
        let other = Keys::derive(&DeviceSecret::from_bytes(&[2; 32]).unwrap(), "rp.example", 9).unwrap();
        assert_eq!(unseal(&other, "rp.example", 9, &r).unwrap_err(), Error::ReferenceDecrypt);
        assert_eq!(unseal(&keys, "other.example", 9, &r).unwrap_err(), Error::ReferenceDecrypt);
        assert_eq!(unseal(&keys, "rp.example", 8, &r).unwrap_err(), Error::ReferenceDecrypt);
        for len in 0..r.len() {
            assert!(unseal(&keys, "rp.example", 9, &r[..len]).is_err(), "truncated to {len}");
        }
        let mut longer = r.clone();
        longer.push(0);
        assert_eq!(unseal(&keys, "rp.example", 9, &longer).unwrap_err().code(), "MALFORMED_REFERENCE");
    }

    #[test]
    fn a_header_whose_public_key_is_not_a_point_or_is_the_identity_is_malformed() {
        let keys = Keys::derive(&DeviceSecret::from_bytes(&[1; 32]).unwrap(), "rp.example", 9).unwrap();
        for bad in [[0u8; 32], [0xff; 32]] {
            let f = HeaderFields { public_key: &bad, ..fields() };
            let r = seal(&mut OsRng, &keys, "rp.example", 9, &f, &locks()).unwrap();
            assert_eq!(reference_header(&r).unwrap_err().code(), "MALFORMED_REFERENCE");
            assert_eq!(unseal(&keys, "rp.example", 9, &r).unwrap_err().code(), "MALFORMED_REFERENCE");
        }
    }

    #[test]
    fn a_version_1_reference_is_refused_with_its_own_code() {
        let keys = Keys::derive(&DeviceSecret::from_bytes(&[1; 32]).unwrap(), "rp.example", 9).unwrap();
        let mut r = seal(&mut OsRng, &keys, "rp.example", 9, &fields(), &locks()).unwrap();
        r[4] = 1;
        assert_eq!(reference_header(&r).unwrap_err(), Error::UnsupportedVersion(1));
        assert_eq!(reference_header(&r).unwrap_err().code(), "UNSUPPORTED_VERSION");
        r[4] = 3;
        assert_eq!(reference_header(&r).unwrap_err().code(), "MALFORMED_REFERENCE");
    }
}
