//! The relying party's OPRF evaluation for JavaScript (the Node verifier and browsers alike):
//! a key per user and epoch, and the evaluation of a login's or an enrollment's blinded lock
//! inputs (concatenated 32-byte elements). Arguments are checked for type and size before
//! anything is copied into wasm memory (as in [`crate::wasm_api`]).

use crate::wasm_api::{bytes32_arg, copy_in, describe, invalid, js_error, nonce_arg, time_arg, RelyingParty};
use faceproof_protocol::{evaluate_batch, max_login_elements, LockParams, OprfKey, OsRng, ELEMENT_BYTES};
use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

fn key(bytes: &[u8; 32]) -> Result<OprfKey, JsValue> {
    OprfKey::from_bytes(bytes).map_err(js_error)
}

/// Blinded elements as an argument: a Uint8Array of at most `max` elements (longer is
/// INVALID_ARGUMENT), checked before it is copied in.
fn blinded_arg(v: &JsValue, max: usize) -> Result<Vec<u8>, JsValue> {
    let Some(a) = v.dyn_ref::<Uint8Array>() else {
        return Err(invalid(format!("blinded must be a Uint8Array, not {}", describe(v))));
    };
    let len = a.length() as usize;
    if len > max.saturating_mul(ELEMENT_BYTES) {
        return Err(invalid(format!(
            "blinded of {len} bytes is longer than the largest batch ({max} elements of {ELEMENT_BYTES} bytes)"
        )));
    }
    Ok(copy_in(a))
}

/// The elements of a batch: whole 32-byte elements, at least one (MALFORMED_EVALUATION otherwise).
fn elements(bytes: &[u8]) -> Result<Vec<[u8; ELEMENT_BYTES]>, JsValue> {
    if bytes.is_empty() || bytes.len() % ELEMENT_BYTES != 0 {
        return Err(js_error(faceproof_protocol::Error::MalformedEvaluation(format!(
            "{} bytes is not a whole number of {ELEMENT_BYTES}-byte elements",
            bytes.len()
        ))));
    }
    Ok(bytes.chunks_exact(ELEMENT_BYTES).map(|c| c.try_into().unwrap_or([0; ELEMENT_BYTES])).collect())
}

/// A fresh OPRF key for one user and epoch (32 bytes): keep it in the relying party's database.
#[wasm_bindgen(js_name = newOprfKey)]
pub fn new_oprf_key() -> Result<Vec<u8>, JsValue> {
    Ok(OprfKey::generate(&mut OsRng).map_err(js_error)?.to_bytes().to_vec())
}

/// Evaluate blinded elements under `oprfKey` (enrollment: one batch of the lock count, for a
/// caller you vetted; a login: use `RelyingParty.evaluate` or claim the challenge in your own
/// store first). At most `maxElements` (an integer from 1 to 2^32-1; left out: the largest
/// login batch) are evaluated.
#[wasm_bindgen(js_name = evaluateBatch)]
pub fn evaluate_batch_js(oprf_key: JsValue, blinded: JsValue, max_elements: JsValue) -> Result<Vec<u8>, JsValue> {
    let max = if max_elements.is_undefined() {
        max_login_elements(LockParams::DEFAULT)
    } else {
        match max_elements.as_f64() {
            Some(m) if m.fract() == 0.0 && (1.0..=u32::MAX as f64).contains(&m) => m as usize,
            _ => {
                return Err(invalid(format!(
                    "maxElements must be an integer from 1 to 2^32-1 (left out: the largest login), not {}",
                    describe(&max_elements)
                )))
            }
        }
    };
    let key_bytes = bytes32_arg(&oprf_key, "oprfKey")?;
    let blinded = blinded_arg(&blinded, max)?;
    let out = evaluate_batch(&key(&key_bytes)?, &elements(&blinded)?, max).map_err(js_error)?;
    Ok(out.concat())
}

#[wasm_bindgen]
impl RelyingParty {
    /// Evaluate a login's blinded elements for the challenge with this nonce (hex): once per
    /// issued, unexpired challenge at `nowMs`; a second call answers `NONCE_REUSED_OR_UNKNOWN`.
    pub fn evaluate(
        &mut self,
        nonce: JsValue,
        oprf_key: JsValue,
        blinded: JsValue,
        now_ms: JsValue,
    ) -> Result<Vec<u8>, JsValue> {
        let nonce = nonce_arg(&nonce, "nonce")?;
        let key_bytes = bytes32_arg(&oprf_key, "oprfKey")?;
        let blinded = blinded_arg(&blinded, self.verifier_mut().max_elements)?;
        let now = time_arg(&now_ms, "nowMs")?;
        let (key, blinded) = (key(&key_bytes)?, elements(&blinded)?);
        let out = self.verifier_mut().evaluate(&nonce, &key, &blinded, now).map_err(js_error)?;
        Ok(out.concat())
    }
}
