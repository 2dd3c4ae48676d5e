//! The face-bound key: a fuzzy extractor of the "sample-then-lock" kind (Canetti et al.),
//! over the binary code of the cancelable transform.
//!
//! Enrollment keeps the `m` most *reliable* bits of the code (all enrollment views agree on
//! the sign and the projection is far from zero), then makes `L` locks. Lock `j` reads the
//! enrolled values of `k` reliable bits chosen at random (from a per-reference seed); its
//! input (a keyed hash of them) goes through the relying party's oblivious PRF, and the PRF's
//! output masks the secret scalar, with a tag that makes opening checkable. A live probe whose
//! bits agree with the enrollment on all `k` bits of any one lock recovers the scalar, and only
//! through the relying party: without its key no guess can be tested. The match decision *is*
//! "a lock opened and the scalar's public key is the enrolled one".

use crate::error::{Error, Result};
use crate::oprf::OUTPUT_BYTES;
use crate::transform::Projection;
use chacha20::cipher::{KeyIvInit, StreamCipher};
use chacha20::ChaCha20;
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::CompressedRistretto;
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};
use zeroize::Zeroize;

/// Sizes of the construction (stored, sealed, in the reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockParams {
    /// Code length `n` (bits of the cancelable transform).
    pub n_bits: u16,
    /// Reliable bits kept, `m`.
    pub reliable: u16,
    /// Bits per lock, `k`.
    pub k: u8,
    /// Number of locks, `L`.
    pub locks: u16,
}

impl LockParams {
    /// Chosen on lfw-dev against a dictionary of real faces (`docs/protection.md`): the
    /// highest true-accept rate whose false-accept rate per login attempt stays at or under
    /// 0.1 %, with the fewest elements per login among its neighbours: the most reliable 256
    /// of 1024 bits, 1024 locks of 36 bits, two live views per login
    /// ([`crate::MAX_PROBE_VIEWS`]).
    pub const DEFAULT: LockParams = LockParams { n_bits: 1024, reliable: 256, k: 36, locks: 1024 };

    /// Ranges the parser accepts: anything else is a malformed reference.
    pub fn validate(&self) -> Result<()> {
        let ok = (64..=4096).contains(&self.n_bits)
            && self.n_bits.is_multiple_of(64)
            && (16..=self.n_bits).contains(&self.reliable)
            && (8..=128).contains(&self.k)
            && (self.k as u16) <= self.reliable
            && (1..=8192).contains(&self.locks);
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidArgument(format!("lock parameters out of range: {self:?}")))
        }
    }
}

/// Bytes per lock: masked scalar (32) + check tag (16).
pub const LOCK_BYTES: usize = 48;

/// The helper data of the face-bound key. Useless without the lock key (device secret) and a
/// matching face; still kept sealed inside the reference.
#[derive(Clone, PartialEq, Eq)]
pub struct FaceLocks {
    pub params: LockParams,
    /// Positions (in the n-bit code) of the reliable bits, ascending.
    pub reliable: Vec<u16>,
    /// Seeds the random choice of bits for each lock.
    pub seed: [u8; 32],
    /// `L` locks of [`LOCK_BYTES`].
    pub locks: Vec<[u8; LOCK_BYTES]>,
}

impl std::fmt::Debug for FaceLocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FaceLocks({:?}, redacted)", self.params)
    }
}

/// Rank the code positions by reliability over several enrollment views: positions where
/// every view has the same sign come first, by the smallest |projection| across views
/// (the margin). Returns the top `m` positions (ascending) and the enrolled bit values.
pub fn select_reliable(views: &[Projection], m: usize) -> Result<(Vec<u16>, Vec<bool>)> {
    let n = views.first().map_or(0, |v| v.0.len());
    if views.is_empty() || views.iter().any(|v| v.0.len() != n) || m > n {
        return Err(Error::InvalidArgument("enrollment views must be non-empty and of one length".into()));
    }
    let mut score: Vec<(f32, usize)> = (0..n)
        .map(|i| {
            let mean = views.iter().map(|v| v.0[i]).sum::<f32>() / views.len() as f32;
            let stable = views.iter().all(|v| (v.0[i] > 0.0) == (mean > 0.0));
            let margin = views.iter().map(|v| v.0[i].abs()).fold(f32::INFINITY, f32::min);
            // unstable bits rank below every stable one, then by |mean|
            (if stable { 1.0 + margin } else { mean.abs() / 1e3 }, i)
        })
        .collect();
    score.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut chosen: Vec<usize> = score[..m].iter().map(|s| s.1).collect();
    chosen.sort_unstable();
    let bits = chosen.iter().map(|&i| views.iter().map(|v| v.0[i]).sum::<f32>() > 0.0).collect();
    Ok((chosen.into_iter().map(|i| i as u16).collect(), bits))
}

/// Which code positions lock `j` reads: `k` distinct reliable positions, drawn by a partial
/// Fisher-Yates shuffle from a ChaCha20 stream keyed by the seed, nonce `j`.
pub fn lock_positions(seed: &[u8; 32], j: u16, reliable: &[u16], k: usize) -> Vec<u16> {
    let mut nonce = [0u8; 12];
    nonce[..2].copy_from_slice(&j.to_le_bytes());
    let mut stream = ChaCha20::new(seed.into(), &nonce.into());
    let mut pool: Vec<u16> = reliable.to_vec();
    let k = k.min(pool.len());
    for i in 0..k {
        let mut r = [0u8; 8];
        stream.apply_keystream(&mut r);
        let pick = i + (u64::from_le_bytes(r) % (pool.len() - i) as u64) as usize;
        pool.swap(i, pick);
    }
    pool.truncate(k);
    pool
}

/// The lock's OPRF input: `SHA-512("faceproof/lock-input/v2" || lock key || seed || j || bits)`,
/// first 32 bytes. Keyed by the device secret, so the relying party (which evaluates it blinded)
/// could not test guesses of the bits even if it saw it.
fn lock_input(lock_key: &[u8; 32], seed: &[u8; 32], j: u16, bits: &[u8]) -> [u8; 32] {
    let mut h = Sha512::new();
    h.update(b"faceproof/lock-input/v2");
    h.update(lock_key);
    h.update(seed);
    h.update(j.to_le_bytes());
    h.update(bits);
    let mut d: [u8; 64] = h.finalize().into();
    let mut out = [0u8; 32];
    out.copy_from_slice(&d[..32]);
    d.zeroize();
    out
}

/// `SHA-512("faceproof/lock/v2" || lock key || seed || j || OPRF output)`: the first 32 bytes
/// mask the scalar, the next 16 are the check tag.
fn lock_hash(lock_key: &[u8; 32], seed: &[u8; 32], j: u16, prf: &[u8; OUTPUT_BYTES]) -> [u8; 64] {
    let mut h = Sha512::new();
    h.update(b"faceproof/lock/v2");
    h.update(lock_key);
    h.update(seed);
    h.update(j.to_le_bytes());
    h.update(prf);
    h.finalize().into()
}

/// Pack the bits of `code` at `positions` (in order) into bytes, least significant bit first.
fn gather_bits(positions: &[u16], bit: impl Fn(usize) -> bool) -> Vec<u8> {
    let mut out = vec![0u8; positions.len().div_ceil(8)];
    for (i, &p) in positions.iter().enumerate() {
        if bit(p as usize) {
            out[i / 8] |= 1 << (i % 8);
        }
    }
    out
}

/// Enrollment's half-way point: the reliable positions and one OPRF input per lock.
pub(crate) struct LockInputs {
    pub reliable: Vec<u16>,
    pub inputs: Vec<[u8; 32]>,
}

impl Drop for LockInputs {
    fn drop(&mut self) {
        self.inputs.zeroize();
    }
}

/// The OPRF inputs of the `L` locks for the enrollment views.
pub(crate) fn lock_inputs(
    views: &[Projection],
    params: LockParams,
    lock_key: &[u8; 32],
    seed: &[u8; 32],
) -> Result<LockInputs> {
    params.validate()?;
    if views.iter().any(|v| v.0.len() != params.n_bits as usize) {
        return Err(Error::InvalidArgument("views do not match the code length".into()));
    }
    let (reliable, values) = select_reliable(views, params.reliable as usize)?;
    let mut enrolled = vec![false; params.n_bits as usize];
    for (&p, &v) in reliable.iter().zip(&values) {
        enrolled[p as usize] = v;
    }
    let inputs = (0..params.locks)
        .map(|j| {
            let pos = lock_positions(seed, j, &reliable, params.k as usize);
            let mut bits = gather_bits(&pos, |i| enrolled[i]);
            let x = lock_input(lock_key, seed, j, &bits);
            bits.zeroize();
            x
        })
        .collect();
    enrolled.zeroize();
    Ok(LockInputs { reliable, inputs })
}

/// Lock `secret` with the OPRF outputs of the locks' inputs (in lock order).
pub(crate) fn lock(
    secret: &Scalar,
    params: LockParams,
    reliable: Vec<u16>,
    lock_key: &[u8; 32],
    seed: [u8; 32],
    prf: &[[u8; OUTPUT_BYTES]],
) -> Result<FaceLocks> {
    if prf.len() != params.locks as usize {
        return Err(Error::MalformedEvaluation("one OPRF output per lock is needed".into()));
    }
    let s = secret.to_bytes();
    let locks = prf
        .iter()
        .enumerate()
        .map(|(j, y)| {
            let mut h = lock_hash(lock_key, &seed, j as u16, y);
            let mut l = [0u8; LOCK_BYTES];
            for i in 0..32 {
                l[i] = s[i] ^ h[i];
            }
            l[32..].copy_from_slice(&h[32..48]);
            h.zeroize();
            l
        })
        .collect();
    Ok(FaceLocks { params, reliable, seed, locks })
}

/// A login's OPRF inputs: for every lock, the distinct inputs its probes give (live views
/// often agree on a lock's bits: each distinct input is evaluated once).
pub(crate) struct ProbeInputs {
    /// Distinct inputs, in the order they are sent.
    pub inputs: Vec<[u8; 32]>,
    /// For each lock, the indices (into `inputs`) of its candidates.
    pub per_lock: Vec<Vec<u32>>,
}

impl Drop for ProbeInputs {
    fn drop(&mut self) {
        self.inputs.zeroize();
    }
}

/// The OPRF inputs of every probe at every lock, deduplicated per lock.
pub(crate) fn probe_inputs(locks: &FaceLocks, probes: &[Projection], lock_key: &[u8; 32]) -> ProbeInputs {
    let k = locks.params.k as usize;
    let n = locks.params.n_bits as usize;
    let mut inputs = vec![];
    let mut per_lock = Vec::with_capacity(locks.locks.len());
    for j in 0..locks.params.locks {
        let pos = lock_positions(&locks.seed, j, &locks.reliable, k);
        let mut mine: Vec<u32> = vec![];
        for probe in probes.iter().filter(|p| p.0.len() == n) {
            let mut bits = gather_bits(&pos, |i| probe.bit(i));
            let x = lock_input(lock_key, &locks.seed, j, &bits);
            bits.zeroize();
            if !mine.iter().any(|&i| inputs[i as usize] == x) {
                mine.push(inputs.len() as u32);
                inputs.push(x);
            }
        }
        per_lock.push(mine);
    }
    ProbeInputs { inputs, per_lock }
}

/// Try every candidate of every lock with its OPRF output. Returns the scalar when a lock
/// opens *and* the scalar matches `public_key` (a false tag match is then harmless).
pub(crate) fn open(
    locks: &FaceLocks,
    candidates: &ProbeInputs,
    prf: &[[u8; OUTPUT_BYTES]],
    lock_key: &[u8; 32],
    public_key: &CompressedRistretto,
) -> Option<Scalar> {
    for (j, mine) in candidates.per_lock.iter().enumerate() {
        let lock = &locks.locks[j];
        for &i in mine {
            let mut h = lock_hash(lock_key, &locks.seed, j as u16, prf.get(i as usize)?);
            if h[32..48] == lock[32..] {
                let mut s = [0u8; 32];
                for b in 0..32 {
                    s[b] = lock[b] ^ h[b];
                }
                h.zeroize();
                let scalar: Option<Scalar> = Scalar::from_canonical_bytes(s).into();
                s.zeroize();
                if let Some(scalar) = scalar {
                    if (&scalar * RISTRETTO_BASEPOINT_TABLE).compress() == *public_key {
                        return Some(scalar);
                    }
                }
            } else {
                h.zeroize();
            }
        }
    }
    None
}
