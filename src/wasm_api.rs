//! The JavaScript API: a thin `wasm-bindgen` layer over the Rust core.
//!
//! State (models, captured face views) stays in wasm memory; calls pass pixels in and small
//! results out. Every error reaches JS as an `Error` with a stable `code`
//! (see [`crate::Error::code`]); no input makes the module panic.
//!
//! Built with the `inference` feature for browsers ([`FaceEngine`]); without it (the Node
//! verifier) only the relying-party functions remain.

use crate::error::Error;
use faceproof_protocol::{
    hex32, reference_header, verify_proof, Challenge, DeviceSecret, Enrolled, LivenessPolicy, MemoryNonceStore, OsRng,
    Verifier, MAX_PROOF_BYTES, MAX_REFERENCE_BYTES, MAX_RP_ID,
};
use js_sys::{JsString, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

/// `initThreadPool(n)`: start rayon's pool on `n` Web Workers sharing this module's memory
/// (the threads build only; the page must be cross-origin isolated). rten's convolutions and
/// GEMMs then split their work across them.
#[cfg(feature = "threads")]
pub use wasm_bindgen_rayon::init_thread_pool;

/// A JS `Error` with `message`, `code` and `name = "FaceproofError"`.
fn coded_error(message: &str, code: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    err.set_name("FaceproofError");
    let _ = js_sys::Reflect::set(&err, &"code".into(), &code.into());
    err.into()
}

/// Turn a crate error into a JS `Error` with `code` and `name = "FaceproofError"`.
pub(crate) fn js_error(e: impl Into<Error>) -> JsValue {
    let e: Error = e.into();
    coded_error(&e.to_string(), e.code())
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| js_error(Error::InvalidArgument(e.to_string())))
}

// Arguments: every value from JS is checked for its type and size before anything is copied
// into wasm memory or converted (JS wrappers check the same; this is the second line).

/// The largest integer a JS number holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

pub(crate) fn invalid(message: String) -> JsValue {
    js_error(Error::InvalidArgument(message))
}

/// What a JS value is, for error messages (its type; numbers with their value, never bytes).
pub(crate) fn describe(v: &JsValue) -> String {
    if v.is_undefined() {
        "undefined".into()
    } else if v.is_null() {
        "null".into()
    } else if let Some(n) = v.as_f64() {
        format!("the number {n}")
    } else if let Some(a) = v.dyn_ref::<Uint8Array>() {
        format!("a Uint8Array of {} bytes", a.length())
    } else if js_sys::Array::is_array(v) {
        "an array".into()
    } else {
        format!("a value of type {}", v.js_typeof().as_string().unwrap_or_default())
    }
}

/// The bytes of a typed array, copied into wasm memory. An empty array is not read: a detached
/// buffer (its bytes transferred elsewhere) reads as empty, and copying from it would throw
/// through the module.
pub(crate) fn copy_in(a: &Uint8Array) -> Vec<u8> {
    if a.length() == 0 {
        Vec::new()
    } else {
        a.to_vec()
    }
}

/// A byte-array argument: a `Uint8Array` (Node's `Buffer` is one) of at most `max` bytes,
/// copied into wasm memory only once its size is known to be acceptable.
fn bytes_arg(v: &JsValue, what: &str, max: usize) -> Result<Vec<u8>, JsValue> {
    let Some(a) = v.dyn_ref::<Uint8Array>() else {
        return Err(invalid(format!("{what} must be a Uint8Array, not {}", describe(v))));
    };
    let len = a.length() as usize;
    if len > max {
        return Err(invalid(format!("{what} of {len} bytes is longer than the largest valid one ({max} bytes)")));
    }
    Ok(copy_in(a))
}

/// Exactly 32 bytes (public keys, device secrets, OPRF keys): wiped when dropped, as they may be
/// secret.
pub(crate) fn bytes32_arg(v: &JsValue, what: &str) -> Result<Zeroizing<[u8; 32]>, JsValue> {
    let b = Zeroizing::new(bytes_arg(v, what, 32)?);
    let arr: [u8; 32] =
        b.as_slice().try_into().map_err(|_| invalid(format!("{what} must be 32 bytes, not {}", b.len())))?;
    Ok(Zeroizing::new(arr))
}

/// A time in milliseconds: a finite, non-negative integer JS number (no coercion: `undefined`,
/// `null`, `NaN`, strings are errors, never time 0).
pub(crate) fn time_arg(v: &JsValue, what: &str) -> Result<u64, JsValue> {
    match v.as_f64() {
        Some(t) if t.is_finite() && t >= 0.0 && t.fract() == 0.0 && t <= MAX_SAFE_INTEGER => Ok(t as u64),
        _ => Err(invalid(format!("{what} must be a non-negative integer number of milliseconds, not {}", describe(v)))),
    }
}

/// `requireLiveness`: a boolean; left out (`undefined`) it means required. Anything else is an
/// error, so that no value can turn the check off by accident.
fn liveness_arg(v: &JsValue) -> Result<LivenessPolicy, JsValue> {
    match v.as_bool() {
        Some(true) => Ok(LivenessPolicy::Required),
        Some(false) => Ok(LivenessPolicy::NotRequired),
        None if v.is_undefined() => Ok(LivenessPolicy::Required),
        None => {
            Err(invalid(format!("requireLiveness must be true or false (left out: required), not {}", describe(v))))
        }
    }
}

/// A relying-party id: a string of 1-255 printable ASCII characters (length checked before
/// the string is copied).
fn rp_id_arg(v: &JsValue, what: &str) -> Result<String, JsValue> {
    let Some(s) = v.dyn_ref::<JsString>() else {
        return Err(invalid(format!("{what} must be a string, not {}", describe(v))));
    };
    if s.length() as usize > MAX_RP_ID {
        return Err(invalid(format!("{what} is longer than {MAX_RP_ID} characters")));
    }
    let s = String::from(s);
    faceproof_protocol::check_rp_id(&s)
        .map_err(|_| invalid(format!("{what} must be 1-{MAX_RP_ID} printable ASCII characters")))?;
    Ok(s)
}

/// A challenge nonce: a string of 64 hex digits (length checked before the string is copied).
pub(crate) fn nonce_arg(v: &JsValue, what: &str) -> Result<[u8; 32], JsValue> {
    match v.dyn_ref::<JsString>() {
        Some(s) if s.length() == 64 => {
            let s = String::from(s);
            if s.bytes().all(|b| b.is_ascii_hexdigit()) {
                hex32::decode(&s)
            } else {
                None
            }
        }
        _ => None,
    }
    .ok_or_else(|| invalid(format!("{what} must be 64 hex digits, not {}", describe(v))))
}

/// A challenge as the relying party issued it: `{rpId, nonce (64 hex digits), expiresAt (ms)}`.
fn challenge_arg(v: &JsValue) -> Result<Challenge, JsValue> {
    if !v.is_object() {
        return Err(invalid(format!("challenge must be an object {{rpId, nonce, expiresAt}}, not {}", describe(v))));
    }
    let field = |name: &str| {
        js_sys::Reflect::get(v, &JsValue::from_str(name)).map_err(|_| invalid(format!("challenge.{name} unreadable")))
    };
    let rp_id = rp_id_arg(&field("rpId")?, "challenge.rpId")?;
    let nonce = nonce_arg(&field("nonce")?, "challenge.nonce")?;
    let expires_at = time_arg(&field("expiresAt")?, "challenge.expiresAt")?;
    Ok(Challenge { rp_id, nonce, expires_at })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Limits {
    max_proof_bytes: usize,
    max_reference_bytes: usize,
    public_key_bytes: usize,
    device_secret_bytes: usize,
    oprf_key_bytes: usize,
    element_bytes: usize,
    max_login_elements: usize,
    max_rp_id_length: usize,
    max_image_side: u32,
}

/// The sizes arguments must keep to: `{maxProofBytes, maxReferenceBytes, publicKeyBytes,
/// deviceSecretBytes, oprfKeyBytes, elementBytes, maxLoginElements, maxRpIdLength, maxImageSide}`
/// (the JS layers check them before calling in).
#[wasm_bindgen]
pub fn limits() -> Result<JsValue, JsValue> {
    to_js(&Limits {
        max_proof_bytes: MAX_PROOF_BYTES,
        max_reference_bytes: MAX_REFERENCE_BYTES,
        public_key_bytes: 32,
        device_secret_bytes: 32,
        oprf_key_bytes: 32,
        element_bytes: faceproof_protocol::ELEMENT_BYTES,
        max_login_elements: faceproof_protocol::max_login_elements(faceproof_protocol::LockParams::DEFAULT),
        max_rp_id_length: MAX_RP_ID,
        max_image_side: crate::image::MAX_SIDE,
    })
}

/// A fresh 32-byte device secret from the browser's CSPRNG (`crypto.getRandomValues`).
#[wasm_bindgen(js_name = newDeviceSecret)]
pub fn new_device_secret() -> Result<Vec<u8>, JsValue> {
    let s = DeviceSecret::generate(&mut OsRng).map_err(js_error)?;
    Ok(s.expose_bytes().to_vec())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReferenceInfo {
    rp_id: String,
    epoch: u32,
    #[serde(with = "hex32")]
    public_key: [u8; 32],
    model: String,
    bytes: usize,
}

/// The public header of a reference: `{rpId, epoch, publicKey (hex), model, bytes}`. Servers use it
/// to check that a submitted reference matches the public key submitted with it.
#[wasm_bindgen(js_name = referenceInfo)]
pub fn reference_info(reference: JsValue) -> Result<JsValue, JsValue> {
    let reference_bytes = bytes_arg(&reference, "reference", MAX_REFERENCE_BYTES)?;
    let h = reference_header(&reference_bytes).map_err(js_error)?;
    to_js(&ReferenceInfo {
        rp_id: h.rp_id,
        epoch: h.epoch,
        public_key: h.public_key,
        model: h.model,
        bytes: reference_bytes.len(),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Verified {
    ok: bool,
    rp_id: String,
    #[serde(with = "hex32")]
    nonce: [u8; 32],
}

/// Stateless verification for servers that keep issued nonces in their own database: pass the
/// challenge you issued (and just removed from your store), the user's stored public key and
/// reference, the time (Unix ms) and whether liveness is required (left out: required).
/// Returns `{ok: true, rpId, nonce}` or throws an error whose `code` says why.
#[wasm_bindgen(js_name = verifyProof)]
pub fn verify_proof_js(
    proof: JsValue,
    issued_challenge: JsValue,
    public_key: JsValue,
    reference: JsValue,
    now_ms: JsValue,
    require_liveness: JsValue,
) -> Result<JsValue, JsValue> {
    let proof = bytes_arg(&proof, "proof", MAX_PROOF_BYTES)?;
    let issued = challenge_arg(&issued_challenge)?;
    let public_key = bytes32_arg(&public_key, "publicKey")?;
    let reference = bytes_arg(&reference, "reference", MAX_REFERENCE_BYTES)?;
    let now = time_arg(&now_ms, "nowMs")?;
    let liveness = liveness_arg(&require_liveness)?;
    let enrolled = Enrolled { public_key: *public_key, reference: &reference };
    let p = verify_proof(&proof, &issued, &enrolled, liveness, now).map_err(js_error)?;
    to_js(&Verified { ok: true, rp_id: p.challenge.rp_id, nonce: p.challenge.nonce })
}

/// A relying-party verifier with an in-memory single-use nonce store (one process).
#[wasm_bindgen]
pub struct RelyingParty {
    verifier: Verifier<MemoryNonceStore>,
}

impl RelyingParty {
    pub(crate) fn verifier_mut(&mut self) -> &mut Verifier<MemoryNonceStore> {
        &mut self.verifier
    }
}

#[wasm_bindgen]
impl RelyingParty {
    /// `new RelyingParty(rpId, ttlMs?)`: `ttlMs` a positive integer (default 120000).
    #[wasm_bindgen(constructor)]
    pub fn new(rp_id: JsValue, ttl_ms: JsValue) -> Result<RelyingParty, JsValue> {
        let rp_id = rp_id_arg(&rp_id, "rpId")?;
        let ttl = if ttl_ms.is_undefined() {
            None
        } else {
            match time_arg(&ttl_ms, "ttlMs")? {
                0 => return Err(invalid("ttlMs must be positive".into())),
                t => Some(t),
            }
        };
        let mut verifier = Verifier::new(&rp_id, MemoryNonceStore::default()).map_err(js_error)?;
        if let Some(t) = ttl {
            verifier.ttl_ms = t;
        }
        Ok(RelyingParty { verifier })
    }

    /// `{rpId, nonce (hex), expiresAt (ms)}`.
    #[wasm_bindgen(js_name = issueChallenge)]
    pub fn issue_challenge(&mut self, now_ms: JsValue) -> Result<JsValue, JsValue> {
        let now = time_arg(&now_ms, "nowMs")?;
        if now.saturating_add(self.verifier.ttl_ms) as f64 > MAX_SAFE_INTEGER {
            return Err(invalid("nowMs + ttlMs is beyond the largest exact JS integer".into()));
        }
        let c = self.verifier.issue_challenge(&mut OsRng, now).map_err(js_error)?;
        to_js(&c)
    }

    /// Verify a proof against this party's issued challenges (the nonce is used up whatever the
    /// outcome): the same arguments as `verifyProof` without the challenge.
    pub fn verify(
        &mut self,
        proof: JsValue,
        public_key: JsValue,
        reference: JsValue,
        now_ms: JsValue,
        require_liveness: JsValue,
    ) -> Result<JsValue, JsValue> {
        let proof = bytes_arg(&proof, "proof", MAX_PROOF_BYTES)?;
        let public_key = bytes32_arg(&public_key, "publicKey")?;
        let reference = bytes_arg(&reference, "reference", MAX_REFERENCE_BYTES)?;
        let now = time_arg(&now_ms, "nowMs")?;
        let liveness = liveness_arg(&require_liveness)?;
        let enrolled = Enrolled { public_key: *public_key, reference: &reference };
        let p = self.verifier.verify(&proof, &enrolled, liveness, now).map_err(js_error)?;
        to_js(&Verified { ok: true, rp_id: p.challenge.rp_id, nonce: p.challenge.nonce })
    }
}

#[cfg(feature = "inference")]
pub use engine::FaceEngine;

#[cfg(feature = "inference")]
mod engine {
    use super::*;
    use crate::align::Jitter;
    use crate::detect::{Detection, DetectorKind};
    use crate::embed::Embedding;
    use crate::image::{check_size, RgbaFrame, WipedFrame};
    use crate::liveness::{LivenessLimits, LivenessSession};
    use crate::pipeline::{Alignment, FacePipeline, Selection, StageTimes, TemplateOptions, Tracker};
    use crate::quality::{Limits, Quality};
    use faceproof_protocol::{
        check_reference, liveness_digest, EnrollmentRequest, LockParams, LoginRequest, PassiveCheck, ELEMENT_BYTES,
        MAX_PROBE_VIEWS,
    };

    /// Options accepted by `embed`, `template` and `capture` (all optional).
    #[derive(Default)]
    struct EmbedOptions {
        /// "front" (selfie, default) or "back" (ID photo, small faces).
        detector: Option<String>,
        /// Mirror fusion (default true).
        flip: Option<bool>,
        /// Exactly reference_pipeline.py (strongest anchor, 4-point alignment).
        reference: bool,
        /// `analyze` only: track the face across consecutive frames.
        track: bool,
        /// "single" (default: error on several faces), "central", "largest", "strongest".
        selection: Option<String>,
    }

    impl EmbedOptions {
        fn parse(v: JsValue) -> Result<TemplateOptions, JsValue> {
            Self::read(v)?.template_options().map_err(js_error)
        }

        /// Options from JS: undefined, null or an object whose known fields have their types
        /// (each read once; other fields are ignored, arrays and typed arrays refused).
        fn read(v: JsValue) -> Result<EmbedOptions, JsValue> {
            if v.is_undefined() || v.is_null() {
                return Ok(EmbedOptions::default());
            }
            if !v.is_object() || js_sys::Array::is_array(&v) || js_sys::ArrayBuffer::is_view(&v) {
                return Err(invalid(format!("options must be an object, not {}", describe(&v))));
            }
            let field = |name: &str| {
                js_sys::Reflect::get(&v, &JsValue::from_str(name))
                    .map_err(|_| invalid(format!("options.{name} unreadable")))
            };
            let string = |name: &str| -> Result<Option<String>, JsValue> {
                let f = field(name)?;
                match f.as_string() {
                    Some(s) => Ok(Some(s)),
                    None if f.is_undefined() || f.is_null() => Ok(None),
                    None => Err(invalid(format!("options.{name} must be a string, not {}", describe(&f)))),
                }
            };
            let boolean = |name: &str| -> Result<Option<bool>, JsValue> {
                let f = field(name)?;
                match f.as_bool() {
                    Some(b) => Ok(Some(b)),
                    None if f.is_undefined() || f.is_null() => Ok(None),
                    None => Err(invalid(format!("options.{name} must be a boolean, not {}", describe(&f)))),
                }
            };
            Ok(EmbedOptions {
                detector: string("detector")?,
                flip: boolean("flip")?,
                reference: boolean("reference")?.unwrap_or(false),
                track: boolean("track")?.unwrap_or(false),
                selection: string("selection")?,
            })
        }

        fn template_options(&self) -> Result<TemplateOptions, Error> {
            let mut o = if self.reference { TemplateOptions::reference() } else { TemplateOptions::default() };
            o.detector = parse_detector(self.detector.as_deref())?;
            if let Some(f) = self.flip {
                o.flip = f;
            }
            if let Some(s) = &self.selection {
                o.selection = match s.as_str() {
                    "single" => Selection::Single,
                    "central" => Selection::Central,
                    "strongest" => Selection::Strongest,
                    "largest" => Selection::Largest,
                    other => return Err(Error::InvalidArgument(format!("unknown selection {other:?}"))),
                };
            }
            if self.reference {
                o.alignment = Alignment::Reference;
            }
            Ok(o)
        }
    }

    fn parse_detector(d: Option<&str>) -> Result<DetectorKind, Error> {
        match d {
            None | Some("front") => Ok(DetectorKind::Front128),
            Some("back") => Ok(DetectorKind::Back256),
            Some(other) => Err(Error::InvalidArgument(format!("unknown detector {other:?}"))),
        }
    }

    /// A face as JS sees it.
    #[derive(Serialize)]
    struct FaceJs {
        score: f32,
        #[serde(rename = "box")]
        bbox: [f32; 4],
        keypoints: [[f32; 2]; 6],
    }

    impl From<&Detection> for FaceJs {
        fn from(d: &Detection) -> Self {
            FaceJs { score: d.score, bbox: d.bbox, keypoints: d.keypoints }
        }
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct TemplateJs {
        face: FaceJs,
        faces_seen: usize,
        times: StageTimes,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct CaptureJs {
        captured: bool,
        quality: Quality,
        face: FaceJs,
        times: StageTimes,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Comparison {
        score: f64,
        threshold: f64,
        same_person: bool,
    }

    /// One live frame kept for enrollment or proof: its template and jittered views.
    struct Captured {
        views: Vec<Embedding>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct AnalysisJs {
        faces: Vec<FaceJs>,
        quality: Quality,
        ms: f64,
    }

    /// A liveness run bound to one challenge.
    struct Liveness {
        challenge: Challenge,
        session: LivenessSession,
    }

    /// Run `f` on a thread of rayon's pool (threads build). Called from outside the pool, every
    /// parallel operator would hand its work to the pool and wait, one round trip per operator.
    #[cfg(feature = "threads")]
    fn on_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
        rayon::scope(|_| f())
    }
    #[cfg(not(feature = "threads"))]
    fn on_pool<R>(f: impl FnOnce() -> R) -> R {
        f()
    }

    /// The face engine: load models once, then analyse, capture, enroll and prove.
    /// Frames (`rgba`, canvas `ImageData` bytes) are read in place and wiped from wasm memory
    /// when the call returns.
    #[wasm_bindgen]
    pub struct FaceEngine {
        pipeline: FacePipeline,
        captured: Vec<Captured>,
        liveness: Option<Liveness>,
        tracker: Tracker,
        /// An enrollment or a login waiting for the relying party's evaluation.
        pending: Option<Pending>,
    }

    enum Pending {
        Enroll(EnrollmentRequest),
        Login(LoginRequest, [u8; 32]),
    }

    /// Concatenated 32-byte elements as one byte array (what crosses to JS).
    fn join_elements(elements: &[[u8; ELEMENT_BYTES]]) -> Vec<u8> {
        elements.concat()
    }

    /// The relying party's evaluation: a Uint8Array of exactly `count` 32-byte elements (one per
    /// blinded element sent), checked before it is copied in.
    fn elements_arg(v: &JsValue, count: usize) -> Result<Vec<[u8; ELEMENT_BYTES]>, JsValue> {
        let Some(a) = v.dyn_ref::<Uint8Array>() else {
            return Err(invalid(format!("the evaluation must be a Uint8Array, not {}", describe(v))));
        };
        let len = a.length() as usize;
        if len != count * ELEMENT_BYTES {
            return Err(js_error(faceproof_protocol::Error::MalformedEvaluation(format!(
                "{len} bytes where {count} elements of {ELEMENT_BYTES} bytes were expected"
            ))));
        }
        let bytes = copy_in(a);
        Ok(bytes.chunks_exact(ELEMENT_BYTES).map(|c| c.try_into().unwrap_or([0; ELEMENT_BYTES])).collect())
    }

    /// A frame: its RGBA bytes, a Uint8Array or Uint8ClampedArray (canvas `ImageData.data`),
    /// whose length matches `width x height x 4` (integers), checked before the bytes are copied in.
    fn frame_arg(rgba: &JsValue, width: &JsValue, height: &JsValue) -> Result<(WipedFrame, u32, u32), Error> {
        let side = |v: &JsValue, what: &str| match v.as_f64() {
            Some(x) if x.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&x) => Ok(x as u32),
            _ => {
                Err(Error::InvalidArgument(format!("{what} must be an integer number of pixels, not {}", describe(v))))
            }
        };
        let (width, height) = (side(width, "width")?, side(height, "height")?);
        let len = if let Some(a) = rgba.dyn_ref::<Uint8Array>() {
            a.length()
        } else if let Some(a) = rgba.dyn_ref::<js_sys::Uint8ClampedArray>() {
            a.length()
        } else {
            return Err(Error::InvalidArgument(format!(
                "pixels must be a Uint8Array or Uint8ClampedArray, not {}",
                describe(rgba)
            )));
        };
        check_size(width, height, len as usize, 4)?; // not empty: the buffer is not detached
        let bytes = match rgba.dyn_ref::<Uint8Array>() {
            Some(a) => a.to_vec(),
            None => rgba.unchecked_ref::<js_sys::Uint8ClampedArray>().to_vec(),
        };
        Ok((WipedFrame::new(bytes), width, height))
    }

    /// An error about one of two images, its code kept: "ID photo: no face found".
    fn about(image: &str, e: impl Into<Error>) -> JsValue {
        let e: Error = e.into();
        coded_error(&format!("{image}: {e}"), e.code())
    }

    /// An `f32` as the shortest decimal that reads back as it (0.4, not 0.4000000059604645).
    fn short(x: f32) -> f64 {
        format!("{x}").parse().unwrap_or(x as f64)
    }

    impl Default for FaceEngine {
        fn default() -> Self {
            Self::new()
        }
    }

    /// With `{track: true}`, `analyze` runs the detector on one preview frame in this many.
    const TRACK_DETECT_EVERY: usize = 4;

    /// Frames kept at most (older ones are dropped first).
    const MAX_CAPTURED: usize = 8;

    #[wasm_bindgen]
    impl FaceEngine {
        #[wasm_bindgen(constructor)]
        pub fn new() -> FaceEngine {
            // The threads build runs whole models on separate threads (a face and its mirror,
            // `Embedder::embed_with_norms`); operators splitting their work across the pool as
            // well only hand small pieces to a busy neighbour (docs/performance.md, "Threads").
            #[cfg(feature = "threads")]
            rten::set_parallel_operators(false);
            FaceEngine {
                pipeline: FacePipeline::default(),
                captured: vec![],
                liveness: None,
                pending: None,
                tracker: Tracker::new(TRACK_DETECT_EVERY),
            }
        }

        /// Load one model from its ONNX bytes. `name` is the file name, e.g.
        /// `"blazeface_front_128.onnx"`.
        #[wasm_bindgen(js_name = loadModel)]
        pub fn load_model(&mut self, name: JsValue, bytes: JsValue) -> Result<(), JsValue> {
            let Some(name) = name.as_string() else {
                return Err(invalid(format!("model name must be a string, not {}", describe(&name))));
            };
            let bytes = bytes_arg(&bytes, "model bytes", usize::MAX)?;
            self.pipeline.load_model(&name, bytes).map_err(js_error)
        }

        /// Every face in an RGBA frame: `[{score, box: [x0,y0,x1,y1], keypoints: [[x,y] x6]}]`.
        pub fn detect(
            &self,
            rgba: JsValue,
            width: JsValue,
            height: JsValue,
            detector: JsValue,
        ) -> Result<JsValue, JsValue> {
            let detector = match detector.as_string() {
                Some(d) => Some(d),
                None if detector.is_undefined() || detector.is_null() => None,
                None => return Err(invalid(format!("detector must be a string, not {}", describe(&detector)))),
            };
            let kind = parse_detector(detector.as_deref()).map_err(js_error)?;
            let (rgba, width, height) = frame_arg(&rgba, &width, &height).map_err(js_error)?;
            let img = RgbaFrame::new(&rgba, width, height).map_err(js_error)?;
            let faces = on_pool(|| self.pipeline.detect(&img, kind, crate::detect::MIN_SCORE)).map_err(js_error)?;
            to_js(&faces.iter().map(FaceJs::from).collect::<Vec<_>>())
        }

        /// Quality of a live frame, cheap enough for every preview frame (no embedding):
        /// `{faces, quality: {usable, reasons: ["TOO_DARK", ...], measures, liveScore}, ms}`;
        /// `liveScore` is `{score, threshold}` of the passive anti-spoofing check (reason
        /// `PRESENTATION_ATTACK` under the threshold), `null` when it did not run. With
        /// `{track: true}` (consecutive frames of one video) the detector runs on one frame in
        /// four while a single face is tracked.
        pub fn analyze(
            &mut self,
            rgba: JsValue,
            width: JsValue,
            height: JsValue,
            options: JsValue,
        ) -> Result<JsValue, JsValue> {
            let raw = EmbedOptions::read(options)?;
            let track = raw.track;
            let o = raw.template_options().map_err(js_error)?;
            let (rgba, width, height) = frame_arg(&rgba, &width, &height).map_err(js_error)?;
            let img = RgbaFrame::new(&rgba, width, height).map_err(js_error)?;
            let a = if track && o.detector == DetectorKind::Front128 {
                let (pipeline, tracker) = (&self.pipeline, &mut self.tracker);
                on_pool(|| pipeline.analyze_tracked(&img, tracker, &Limits::DEFAULT))
            } else {
                self.tracker = Tracker::new(TRACK_DETECT_EVERY);
                on_pool(|| self.pipeline.analyze(&img, o.detector, &Limits::DEFAULT))
            }
            .map_err(js_error)?;
            to_js(&AnalysisJs { faces: a.faces.iter().map(FaceJs::from).collect(), quality: a.quality, ms: a.ms })
        }

        /// Start an active liveness run for the server's challenge; returns the first progress
        /// (the prompts are chosen by the challenge nonce). Clears earlier captures.
        #[wasm_bindgen(js_name = startLiveness)]
        pub fn start_liveness(&mut self, challenge: JsValue) -> Result<JsValue, JsValue> {
            let challenge = challenge_arg(&challenge)?;
            let session = LivenessSession::new(&challenge.nonce, LivenessLimits::DEFAULT);
            let p = session.progress(false);
            self.captured.clear();
            self.liveness = Some(Liveness { challenge, session });
            to_js(&p)
        }

        /// Feed one camera frame (with its timestamp in ms) to the liveness run. The frame
        /// that completes "look straight" is captured for `prove`. The frames the run embeds
        /// are also checked by the passive anti-spoofing check (`passive` in the progress;
        /// failure `PRESENTATION_ATTACK`).
        #[wasm_bindgen(js_name = livenessFrame)]
        pub fn liveness_frame(
            &mut self,
            rgba: JsValue,
            width: JsValue,
            height: JsValue,
            time_ms: JsValue,
        ) -> Result<JsValue, JsValue> {
            let time_ms = match time_ms.as_f64() {
                Some(t) if t.is_finite() && t >= 0.0 => t,
                _ => {
                    return Err(invalid(format!(
                        "timeMs must be a finite non-negative number of milliseconds, not {}",
                        describe(&time_ms)
                    )))
                }
            };
            let (rgba, width, height) = frame_arg(&rgba, &width, &height).map_err(js_error)?;
            let img = RgbaFrame::new(&rgba, width, height).map_err(js_error)?;
            let Some(live) = self.liveness.as_mut() else {
                return Err(js_error(Error::InvalidArgument("call startLiveness first".into())));
            };
            let pipeline = &self.pipeline;
            let (p, views) = on_pool(|| pipeline.liveness_frame(&mut live.session, &img, time_ms)).map_err(js_error)?;
            if let Some(views) = views {
                self.captured.push(Captured { views });
            }
            to_js(&p)
        }

        pub fn embed(
            &self,
            rgba: JsValue,
            width: JsValue,
            height: JsValue,
            options: JsValue,
        ) -> Result<Vec<f32>, JsValue> {
            let o = EmbedOptions::parse(options)?;
            let (rgba, width, height) = frame_arg(&rgba, &width, &height).map_err(js_error)?;
            let img = RgbaFrame::new(&rgba, width, height).map_err(js_error)?;
            let t = on_pool(|| self.pipeline.template(&img, &o)).map_err(js_error)?;
            Ok(t.embedding.0.clone())
        }

        /// Run the pipeline and report the face and per-stage milliseconds (no embedding out).
        pub fn template(
            &self,
            rgba: JsValue,
            width: JsValue,
            height: JsValue,
            options: JsValue,
        ) -> Result<JsValue, JsValue> {
            let o = EmbedOptions::parse(options)?;
            let (rgba, width, height) = frame_arg(&rgba, &width, &height).map_err(js_error)?;
            let img = RgbaFrame::new(&rgba, width, height).map_err(js_error)?;
            let t = on_pool(|| self.pipeline.template(&img, &o)).map_err(js_error)?;
            to_js(&TemplateJs { face: FaceJs::from(&t.detection), faces_seen: t.faces_seen, times: t.times })
        }

        /// Cosine score and decision between the faces of two images (ID photo vs selfie: pass
        /// `{detector: "back"}` as `optionsA` for a document photo).
        pub fn compare(
            &self,
            rgba_a: JsValue,
            width_a: JsValue,
            height_a: JsValue,
            options_a: JsValue,
            rgba_b: JsValue,
            width_b: JsValue,
            height_b: JsValue,
            options_b: JsValue,
        ) -> Result<JsValue, JsValue> {
            const A: &str = "ID photo";
            const B: &str = "selfie";
            let oa = EmbedOptions::read(options_a)?.template_options().map_err(|e| about(A, e))?;
            let ob = EmbedOptions::read(options_b)?.template_options().map_err(|e| about(B, e))?;
            let (rgba_a, width_a, height_a) = frame_arg(&rgba_a, &width_a, &height_a).map_err(|e| about(A, e))?;
            let a = RgbaFrame::new(&rgba_a, width_a, height_a).map_err(|e| about(A, e))?;
            let (rgba_b, width_b, height_b) = frame_arg(&rgba_b, &width_b, &height_b).map_err(|e| about(B, e))?;
            let b = RgbaFrame::new(&rgba_b, width_b, height_b).map_err(|e| about(B, e))?;
            let ta = on_pool(|| self.pipeline.template(&a, &oa)).map_err(|e| about(A, e))?;
            let tb = on_pool(|| self.pipeline.template(&b, &ob)).map_err(|e| about(B, e))?;
            let score = ta.embedding.cosine(&tb.embedding);
            let threshold = crate::DEFAULT_COSINE_THRESHOLD;
            to_js(&Comparison { score: short(score), threshold: short(threshold), same_person: score > threshold })
        }

        /// Keep the face of this frame for `enroll` / `prove` if its quality is usable:
        /// `{captured, quality, face, times}` (exactly one face, else an error). With the
        /// anti-spoofing models loaded, a frame judged a presentation attack is not kept
        /// (`PRESENTATION_ATTACK`, `quality.liveScore`).
        pub fn capture(
            &mut self,
            rgba: JsValue,
            width: JsValue,
            height: JsValue,
            options: JsValue,
        ) -> Result<JsValue, JsValue> {
            let o = EmbedOptions::parse(options)?;
            let (rgba, width, height) = frame_arg(&rgba, &width, &height).map_err(js_error)?;
            let img = RgbaFrame::new(&rgba, width, height).map_err(js_error)?;
            let (t, mut views) = on_pool(|| self.pipeline.views(&img, &o, &Jitter::ENROLL)).map_err(js_error)?;
            let (q, _) = on_pool(|| self.pipeline.assess(&img, t.detection.clone(), t.faces_seen, &Limits::DEFAULT))
                .map_err(js_error)?;
            let quality = q.with_embedding_norm(t.norm, &Limits::DEFAULT);
            let captured = quality.usable;
            if captured {
                views.insert(0, t.embedding.clone());
                if self.captured.len() == MAX_CAPTURED {
                    self.captured.remove(0);
                }
                self.captured.push(Captured { views });
            }
            to_js(&CaptureJs { captured, quality, face: FaceJs::from(&t.detection), times: t.times })
        }

        /// Number of frames captured so far.
        #[wasm_bindgen(getter, js_name = capturedFrames)]
        pub fn captured_frames(&self) -> usize {
            self.captured.len()
        }

        /// Forget the captured faces (wipes them).
        #[wasm_bindgen(js_name = clearCaptures)]
        pub fn clear_captures(&mut self) {
            self.captured.clear();
        }

        fn captured_views(&self) -> Result<Vec<Embedding>, JsValue> {
            if self.captured.is_empty() {
                return Err(js_error(Error::InvalidArgument("capture at least one frame first".into())));
            }
            Ok(self.captured.iter().flat_map(|c| c.views.iter().cloned()).collect())
        }

        /// Start enrolling the captured faces under (rp id, epoch): the blinded lock inputs for
        /// the relying party to evaluate (`n x 32` bytes). The captures stay until
        /// `enrollFinish` succeeds.
        #[wasm_bindgen(js_name = enrollStart)]
        pub fn enroll_start(
            &mut self,
            device_secret: JsValue,
            rp_id: JsValue,
            epoch: JsValue,
        ) -> Result<Vec<u8>, JsValue> {
            let secret = DeviceSecret::from_bytes(&*bytes32_arg(&device_secret, "deviceSecret")?).map_err(js_error)?;
            let rp_id = rp_id_arg(&rp_id, "rpId")?;
            let epoch = match epoch.as_f64() {
                Some(e) if e.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&e) => e as u32,
                _ => {
                    return Err(invalid(format!("epoch must be an integer from 0 to 2^32-1, not {}", describe(&epoch))))
                }
            };
            let views = self.captured_views()?;
            let model = crate::embed::MODEL_NAME;
            let request =
                EnrollmentRequest::new(&mut OsRng, &secret, &rp_id, epoch, model, &views, LockParams::DEFAULT)
                    .map_err(js_error)?;
            let blinded = join_elements(request.blinded());
            self.pending = Some(Pending::Enroll(request));
            Ok(blinded)
        }

        /// Finish the enrollment with the relying party's evaluation:
        /// `{reference: Uint8Array, publicKey: Uint8Array}` for the server. Clears the captures.
        #[wasm_bindgen(js_name = enrollFinish)]
        pub fn enroll_finish(&mut self, evaluated: JsValue) -> Result<JsValue, JsValue> {
            let Some(Pending::Enroll(request)) = &self.pending else {
                return Err(js_error(Error::InvalidArgument("call enrollStart first".into())));
            };
            let evaluated = elements_arg(&evaluated, request.blinded().len())?;
            let Some(Pending::Enroll(request)) = self.pending.take() else {
                return Err(js_error(Error::InvalidArgument("call enrollStart first".into())));
            };
            let e = request.finish(&mut OsRng, &evaluated).map_err(js_error)?;
            self.captured.clear();
            // {reference, publicKey} as Uint8Arrays (serde's JSON-compatible output would make arrays)
            let out = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&out, &"reference".into(), &Uint8Array::from(&e.reference[..]));
            let _ = js_sys::Reflect::set(&out, &"publicKey".into(), &Uint8Array::from(&e.public_key[..]));
            Ok(out.into())
        }

        /// Start answering the server's challenge with the captured live faces: the reference
        /// and the challenge are checked first (this device's key, this relying party, not
        /// expired at `now_ms`), then the liveness run for this challenge (when required), then
        /// the captures; returns the blinded lock inputs for the relying party (`n x 32`
        /// bytes). The captures stay until `proveFinish` succeeds.
        #[wasm_bindgen(js_name = proveStart)]
        pub fn prove_start(
            &mut self,
            device_secret: JsValue,
            reference: JsValue,
            challenge: JsValue,
            now_ms: JsValue,
            require_liveness: JsValue,
        ) -> Result<Vec<u8>, JsValue> {
            let secret = DeviceSecret::from_bytes(&*bytes32_arg(&device_secret, "deviceSecret")?).map_err(js_error)?;
            let reference = bytes_arg(&reference, "reference", MAX_REFERENCE_BYTES)?;
            let reference_bytes = &reference[..];
            let ch = challenge_arg(&challenge)?;
            let now = time_arg(&now_ms, "nowMs")?;
            let require_liveness = liveness_arg(&require_liveness)? == LivenessPolicy::Required;
            check_reference(&secret, &ch.rp_id, reference_bytes).map_err(js_error)?;
            if now > ch.expires_at {
                return Err(js_error(faceproof_protocol::Error::ProofRejected(
                    faceproof_protocol::RejectReason::Expired,
                )));
            }
            // the prompts' outcome and the passive check's, both signed in: a relying party
            // that requires liveness accepts only (true, Passed)
            let (passed, passive) = match &self.liveness {
                Some(l) if l.challenge == ch => (l.session.passed(), l.session.passive()),
                _ => (false, PassiveCheck::NotRun),
            };
            if require_liveness && !(passed && passive == PassiveCheck::Passed) {
                let e = faceproof_protocol::Error::ProofRejected(faceproof_protocol::RejectReason::LivenessFailed);
                let why = match (passed, passive) {
                    (false, _) => "no passed liveness run for this challenge",
                    (true, PassiveCheck::NotRun) => {
                        "the passive anti-spoofing check did not run (load antispoof_2.7_80.onnx and antispoof_4.0_80.onnx)"
                    }
                    (true, _) => "the passive anti-spoofing check found a presentation attack",
                };
                return Err(coded_error(&format!("{e}: {why}"), e.code()));
            }
            let mut views = self.captured_views()?;
            views.truncate(MAX_PROBE_VIEWS);
            let request =
                LoginRequest::new(&mut OsRng, &secret, reference_bytes, &ch, crate::embed::MODEL_NAME, &views)
                    .map_err(js_error)?;
            let blinded = join_elements(request.blinded());
            self.pending = Some(Pending::Login(request, liveness_digest(&ch, passed, passive)));
            Ok(blinded)
        }

        /// Finish with the relying party's evaluation: the proof bytes (the liveness outcome for
        /// this challenge signed in). `FACE_MISMATCH` when the face opens no lock. Clears the
        /// captures and the liveness run on success.
        #[wasm_bindgen(js_name = proveFinish)]
        pub fn prove_finish(&mut self, evaluated: JsValue) -> Result<Vec<u8>, JsValue> {
            let Some(Pending::Login(request, _)) = &self.pending else {
                return Err(js_error(Error::InvalidArgument("call proveStart first".into())));
            };
            let evaluated = elements_arg(&evaluated, request.blinded().len())?;
            let Some(Pending::Login(request, live)) = self.pending.take() else {
                return Err(js_error(Error::InvalidArgument("call proveStart first".into())));
            };
            let proof = request.finish(&mut OsRng, &evaluated, live).map_err(js_error)?;
            self.captured.clear();
            self.liveness = None;
            Ok(proof.to_bytes())
        }
    }
}
