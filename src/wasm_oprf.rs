//! The relying party's OPRF evaluation for JavaScript (the Node verifier and browsers alike):
//! a key per user and epoch, and the evaluation of a login's or an enrollment's blinded lock
//! inputs (concatenated 32-byte elements).

use crate::wasm_api::{js_error, RelyingParty};
use faceproof_protocol::{evaluate_batch, hex32, max_login_elements, LockParams, OprfKey, OsRng, ELEMENT_BYTES};
use wasm_bindgen::prelude::*;

fn key(bytes: &[u8]) -> Result<OprfKey, JsValue> {
    OprfKey::from_bytes(bytes).map_err(js_error)
}

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
/// store first). At most `maxElements` (default: the largest login batch) are evaluated.
#[wasm_bindgen(js_name = evaluateBatch)]
pub fn evaluate_batch_js(oprf_key: &[u8], blinded: &[u8], max_elements: Option<u32>) -> Result<Vec<u8>, JsValue> {
    let max = max_elements.map_or(max_login_elements(LockParams::DEFAULT), |m| m as usize);
    let out = evaluate_batch(&key(oprf_key)?, &elements(blinded)?, max).map_err(js_error)?;
    Ok(out.concat())
}

#[wasm_bindgen]
impl RelyingParty {
    /// Evaluate a login's blinded elements for the challenge with this nonce (hex): once per
    /// issued, unexpired challenge; a second call answers `NONCE_REUSED_OR_UNKNOWN`.
    pub fn evaluate(&mut self, nonce: &str, oprf_key: &[u8], blinded: &[u8], now_ms: f64) -> Result<Vec<u8>, JsValue> {
        let nonce = hex32::decode(nonce)
            .ok_or_else(|| js_error(crate::Error::InvalidArgument("nonce must be 64 hex digits".into())))?;
        let now = if now_ms.is_finite() && now_ms >= 0.0 { now_ms as u64 } else { u64::MAX };
        let out = self.verifier_mut().evaluate(&nonce, &key(oprf_key)?, &elements(blinded)?, now).map_err(js_error)?;
        Ok(out.concat())
    }
}
