//! The relying party's share of every lock: an oblivious PRF (RFC 9497, OPRF mode,
//! ristretto255-SHA512, through the `voprf` crate).
//!
//! The device blinds each lock input (a 32-byte hash of secret-keyed lock data and face bits):
//! the relying party sees uniformly random group elements, evaluates them under its per-user key,
//! and learns nothing about the inputs; the device unblinds and gets `F(key, input)`. Without
//! the relying party's key, no lock can be opened or tested, not even with the enrolled face.

use crate::error::{Error, Result};
use rand_core::{CryptoRng, RngCore};
use voprf::{BlindedElement, EvaluationElement, OprfClient, OprfServer, Ristretto255};
use zeroize::Zeroize;

/// Bytes of a serialized group element (blinded or evaluated).
pub const ELEMENT_BYTES: usize = 32;
/// Bytes of an OPRF output.
pub const OUTPUT_BYTES: usize = 64;

/// A relying party's OPRF key for one user and epoch. Secret: keep it in the server's
/// database; a new epoch draws a new key.
pub struct OprfKey(OprfServer<Ristretto255>);

impl std::fmt::Debug for OprfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OprfKey(redacted)")
    }
}

impl OprfKey {
    /// A fresh key.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Result<OprfKey> {
        let mut seed: [u8; 32] = crate::keys::random_bytes(rng)?;
        let key =
            OprfServer::new_from_seed(&seed, b"faceproof/oprf-key/v1").map_err(|_| Error::Randomness("key".into()));
        seed.zeroize();
        Ok(OprfKey(key?))
    }

    /// The key from its stored bytes (a canonical non-zero scalar).
    pub fn from_bytes(bytes: &[u8]) -> Result<OprfKey> {
        OprfServer::new_with_key(bytes)
            .map(OprfKey)
            .map_err(|_| Error::InvalidArgument("OPRF key must be a canonical non-zero scalar (32 bytes)".into()))
    }

    /// The bytes to store.
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(&self.0.serialize());
        out
    }

    /// Evaluate a batch of blinded elements. Any element that is not a canonical encoding of a
    /// non-identity point makes the whole batch an error (nothing is evaluated).
    pub fn evaluate(&self, blinded: &[[u8; ELEMENT_BYTES]]) -> Result<Vec<[u8; ELEMENT_BYTES]>> {
        let elements = blinded
            .iter()
            .map(|b| BlindedElement::<Ristretto255>::deserialize(b))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|_| Error::MalformedEvaluation("a blinded element is not a valid point".into()))?;
        Ok(elements.iter().map(|e| element_bytes(&self.0.blind_evaluate(e).serialize())).collect())
    }
}

fn element_bytes(s: &[u8]) -> [u8; ELEMENT_BYTES] {
    let mut out = [0u8; ELEMENT_BYTES];
    out.copy_from_slice(s);
    out
}

/// The device's side of one batch: the inputs' blinding states, kept until the evaluation
/// comes back. Secret (the inputs derive from face bits): wiped on drop.
pub(crate) struct Blinded {
    inputs: Vec<[u8; 32]>,
    states: Vec<OprfClient<Ristretto255>>,
    elements: Vec<[u8; ELEMENT_BYTES]>,
}

impl Drop for Blinded {
    fn drop(&mut self) {
        self.inputs.zeroize();
    }
}

impl Blinded {
    /// Blind `inputs` (each with a fresh blinding scalar from `rng`).
    pub(crate) fn new(rng: &mut (impl RngCore + CryptoRng), inputs: Vec<[u8; 32]>) -> Result<Blinded> {
        let mut states = Vec::with_capacity(inputs.len());
        let mut elements = Vec::with_capacity(inputs.len());
        for x in &inputs {
            let r = OprfClient::<Ristretto255>::blind(x, &mut RngChecked(rng))
                .map_err(|_| Error::InvalidArgument("OPRF input".into()))?;
            elements.push(element_bytes(&r.message.serialize()));
            states.push(r.state);
        }
        Ok(Blinded { inputs, states, elements })
    }

    /// What goes to the relying party.
    pub(crate) fn elements(&self) -> &[[u8; ELEMENT_BYTES]] {
        &self.elements
    }

    /// Unblind the relying party's answer: `F(key, input)` for every input, in order.
    pub(crate) fn finalize(&self, evaluated: &[[u8; ELEMENT_BYTES]]) -> Result<Vec<[u8; OUTPUT_BYTES]>> {
        if evaluated.len() != self.inputs.len() {
            return Err(Error::MalformedEvaluation(format!(
                "{} evaluated elements for {} blinded ones",
                evaluated.len(),
                self.inputs.len()
            )));
        }
        let mut out = Vec::with_capacity(evaluated.len());
        for ((state, x), e) in self.states.iter().zip(&self.inputs).zip(evaluated) {
            let e = EvaluationElement::<Ristretto255>::deserialize(e)
                .map_err(|_| Error::MalformedEvaluation("an evaluated element is not a valid point".into()))?;
            let y = state.finalize(x, &e).map_err(|_| Error::MalformedEvaluation("finalize".into()))?;
            let mut o = [0u8; OUTPUT_BYTES];
            o.copy_from_slice(&y);
            out.push(o);
        }
        Ok(out)
    }
}

/// `voprf` draws blinding scalars with `fill_bytes`, which cannot report a failing source;
/// this adapter routes them through `try_fill_bytes` and stops on failure rather than blind
/// with predictable bytes.
struct RngChecked<'a, R>(&'a mut R);

impl<R: RngCore + CryptoRng> RngCore for RngChecked<'_, R> {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        if self.0.try_fill_bytes(dest).is_err() {
            panic!("random source failed while blinding"); // ok: a broken CSPRNG must not blind
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> std::result::Result<(), rand_core::Error> {
        self.0.try_fill_bytes(dest)
    }
}

impl<R: RngCore + CryptoRng> CryptoRng for RngChecked<'_, R> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::OsRng;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
    }

    /// RFC 9497, appendix A.1.1 (ristretto255-SHA512, OPRF mode), test vectors 1 and 2.
    #[test]
    fn rfc_9497_test_vectors() {
        let seed = hex("a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3");
        let server = OprfServer::<Ristretto255>::new_from_seed(&seed, &hex("74657374206b6579")).unwrap();
        assert_eq!(
            server.serialize().to_vec(),
            hex("5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e")
        );
        let key = OprfKey::from_bytes(&server.serialize()).unwrap();
        let blind = hex("64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706");
        let blind = curve25519_dalek::Scalar::from_canonical_bytes(blind.try_into().unwrap()).unwrap();
        for (input, blinded, evaluated, output) in [
            (
                "00",
                "609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c",
                "7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e",
                "527759c3d9366f277d8c6020418d96bb393ba2afb20ff90df23fb7708264e2f3ab9135e3bd69955851de4b1f9fe8a0973396719b7912ba9ee8aa7d0b5e24bcf6",
            ),
            (
                "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
                "da27ef466870f5f15296299850aa088629945a17d1f5b7f5ff043f76b3c06418",
                "b4cbf5a4f1eeda5a63ce7b77c7d23f461db3fcab0dd28e4e17cecb5c90d02c25",
                "f4a74c9c592497375e796aa837e907b1a045d34306a749db9f34221f7e750cb4f2a6413a6bf6fa5e19ba6348eb673934a722a7ede2e7621306d18951e7cf2c73",
            ),
        ] {
            let r = OprfClient::<Ristretto255>::deterministic_blind_unchecked(&hex(input), blind).unwrap();
            assert_eq!(r.message.serialize().to_vec(), hex(blinded));
            let e = key.evaluate(&[element_bytes(&r.message.serialize())]).unwrap();
            assert_eq!(e[0].to_vec(), hex(evaluated));
            let y = r.state.finalize(&hex(input), &EvaluationElement::deserialize(&e[0]).unwrap()).unwrap();
            assert_eq!(y.to_vec(), hex(output));
        }
    }

    #[test]
    fn blinded_round_trip_equals_the_direct_prf_and_keys_differ() {
        let key = OprfKey::generate(&mut OsRng).unwrap();
        let other = OprfKey::generate(&mut OsRng).unwrap();
        let inputs = vec![[1u8; 32], [2u8; 32]];
        let b = Blinded::new(&mut OsRng, inputs.clone()).unwrap();
        let y = b.finalize(&key.evaluate(b.elements()).unwrap()).unwrap();
        for (x, y) in inputs.iter().zip(&y) {
            assert_eq!(key.0.evaluate(x).unwrap().to_vec(), y.to_vec());
        }
        assert_ne!(y, b.finalize(&other.evaluate(b.elements()).unwrap()).unwrap());
        // blinding hides the input: the same input blinds to unrelated elements
        let again = Blinded::new(&mut OsRng, inputs).unwrap();
        assert_ne!(again.elements()[0], b.elements()[0]);
        assert_eq!(OprfKey::from_bytes(&key.to_bytes()).unwrap().to_bytes(), key.to_bytes());
    }

    #[test]
    fn bad_elements_and_keys_are_errors() {
        let key = OprfKey::generate(&mut OsRng).unwrap();
        for bad in [[0u8; 32], [0xff; 32]] {
            assert_eq!(key.evaluate(&[bad]).unwrap_err().code(), "MALFORMED_EVALUATION");
        }
        let b = Blinded::new(&mut OsRng, vec![[3u8; 32]]).unwrap();
        assert_eq!(b.finalize(&[]).unwrap_err().code(), "MALFORMED_EVALUATION");
        assert_eq!(b.finalize(&[[0u8; 32]]).unwrap_err().code(), "MALFORMED_EVALUATION");
        assert!(OprfKey::from_bytes(&[0u8; 32]).is_err());
        assert!(OprfKey::from_bytes(&[1u8; 31]).is_err());
    }
}
