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
    Verifier,
};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

/// `initThreadPool(n)`: start rayon's pool on `n` Web Workers sharing this module's memory
/// (the threads build only; the page must be cross-origin isolated). rten's convolutions and
/// GEMMs then split their work across them.
#[cfg(feature = "threads")]
pub use wasm_bindgen_rayon::init_thread_pool;

/// Turn a crate error into a JS `Error` with `code` and `name = "FaceproofError"`.
pub(crate) fn js_error(e: impl Into<Error>) -> JsValue {
    let e: Error = e.into();
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("FaceproofError");
    let _ = js_sys::Reflect::set(&err, &"code".into(), &e.code().into());
    err.into()
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| js_error(Error::InvalidArgument(e.to_string())))
}

fn from_js<T: for<'de> Deserialize<'de>>(v: JsValue, what: &str) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(v).map_err(|e| js_error(Error::InvalidArgument(format!("{what}: {e}"))))
}

fn bytes32(b: &[u8], what: &str) -> Result<[u8; 32], JsValue> {
    b.try_into().map_err(|_| js_error(Error::InvalidArgument(format!("{what} must be 32 bytes"))))
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
    bytes: usize,
}

/// The public header of a reference: `{rpId, epoch, publicKey (hex), bytes}`. Servers use it
/// to check that a submitted reference matches the public key submitted with it.
#[wasm_bindgen(js_name = referenceInfo)]
pub fn reference_info(reference_bytes: &[u8]) -> Result<JsValue, JsValue> {
    let h = reference_header(reference_bytes).map_err(js_error)?;
    to_js(&ReferenceInfo { rp_id: h.rp_id, epoch: h.epoch, public_key: h.public_key, bytes: reference_bytes.len() })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Verified {
    ok: bool,
    rp_id: String,
    #[serde(with = "hex32")]
    nonce: [u8; 32],
}

fn liveness_policy(required: bool) -> LivenessPolicy {
    if required {
        LivenessPolicy::Required
    } else {
        LivenessPolicy::NotRequired
    }
}

/// Stateless verification for servers that keep issued nonces in their own database: pass the
/// challenge you issued (and just removed from your store), the user's stored public key and
/// reference. Returns `{ok: true, rpId, nonce}` or throws an error whose `code` says why.
#[wasm_bindgen(js_name = verifyProof)]
pub fn verify_proof_js(
    proof: &[u8],
    issued_challenge: JsValue,
    public_key: &[u8],
    reference_bytes: &[u8],
    now_ms: f64,
    require_liveness: bool,
) -> Result<JsValue, JsValue> {
    let issued: Challenge = from_js(issued_challenge, "challenge")?;
    let enrolled = Enrolled { public_key: bytes32(public_key, "public key")?, reference: reference_bytes };
    let p = verify_proof(proof, &issued, &enrolled, liveness_policy(require_liveness), now_ms.max(0.0) as u64)
        .map_err(js_error)?;
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
    #[wasm_bindgen(constructor)]
    pub fn new(rp_id: &str, ttl_ms: Option<f64>) -> Result<RelyingParty, JsValue> {
        let mut verifier = Verifier::new(rp_id, MemoryNonceStore::default()).map_err(js_error)?;
        if let Some(t) = ttl_ms {
            verifier.ttl_ms = t.max(0.0) as u64;
        }
        Ok(RelyingParty { verifier })
    }

    /// `{rpId, nonce (hex), expiresAt (ms)}`.
    #[wasm_bindgen(js_name = issueChallenge)]
    pub fn issue_challenge(&mut self, now_ms: f64) -> Result<JsValue, JsValue> {
        let c = self.verifier.issue_challenge(&mut OsRng, now_ms.max(0.0) as u64).map_err(js_error)?;
        to_js(&c)
    }

    pub fn verify(
        &mut self,
        proof: &[u8],
        public_key: &[u8],
        reference_bytes: &[u8],
        now_ms: f64,
        require_liveness: bool,
    ) -> Result<JsValue, JsValue> {
        let enrolled = Enrolled { public_key: bytes32(public_key, "public key")?, reference: reference_bytes };
        let p = self
            .verifier
            .verify(proof, &enrolled, liveness_policy(require_liveness), now_ms.max(0.0) as u64)
            .map_err(js_error)?;
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
    use crate::image::{RgbaFrame, WipedFrame};
    use crate::liveness::{LivenessLimits, LivenessSession};
    use crate::pipeline::{Alignment, FacePipeline, Selection, StageTimes, TemplateOptions, Tracker};
    use crate::quality::{Limits, Quality};
    use faceproof_protocol::{
        check_reference, liveness_digest, EnrollmentRequest, LockParams, LoginRequest, ELEMENT_BYTES, MAX_PROBE_VIEWS,
    };

    /// Options accepted by `embed`, `template` and `capture` (all optional).
    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase", default)]
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

        fn read(v: JsValue) -> Result<EmbedOptions, JsValue> {
            if v.is_undefined() || v.is_null() {
                Ok(EmbedOptions::default())
            } else {
                from_js(v, "options")
            }
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
    struct EnrollmentJs {
        #[serde(with = "serde_bytes_js")]
        reference: Vec<u8>,
        #[serde(with = "serde_bytes_js")]
        public_key: Vec<u8>,
    }

    /// Vec<u8> as a Uint8Array through serde-wasm-bindgen.
    mod serde_bytes_js {
        pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(v)
        }
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Comparison {
        score: f32,
        threshold: f32,
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

    fn split_elements(bytes: &[u8]) -> Result<Vec<[u8; ELEMENT_BYTES]>, JsValue> {
        if bytes.is_empty() || bytes.len() % ELEMENT_BYTES != 0 {
            return Err(js_error(faceproof_protocol::Error::MalformedEvaluation(format!(
                "{} bytes is not a whole number of {ELEMENT_BYTES}-byte elements",
                bytes.len()
            ))));
        }
        Ok(bytes.chunks_exact(ELEMENT_BYTES).map(|c| c.try_into().unwrap_or([0; ELEMENT_BYTES])).collect())
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
            // well only hand small pieces to a busy neighbour (README "Threads").
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
        pub fn load_model(&mut self, name: &str, bytes: Vec<u8>) -> Result<(), JsValue> {
            self.pipeline.load_model(name, bytes).map_err(js_error)
        }

        /// Every face in an RGBA frame: `[{score, box: [x0,y0,x1,y1], keypoints: [[x,y] x6]}]`.
        pub fn detect(
            &self,
            rgba: Vec<u8>,
            width: u32,
            height: u32,
            detector: Option<String>,
        ) -> Result<JsValue, JsValue> {
            let rgba = WipedFrame::new(rgba);
            let img = RgbaFrame::new(&rgba, width, height).map_err(js_error)?;
            let kind = parse_detector(detector.as_deref()).map_err(js_error)?;
            let faces = on_pool(|| self.pipeline.detect(&img, kind, crate::detect::MIN_SCORE)).map_err(js_error)?;
            to_js(&faces.iter().map(FaceJs::from).collect::<Vec<_>>())
        }

        /// Quality of a live frame, cheap enough for every preview frame (no embedding):
        /// `{faces, quality: {usable, reasons: ["TOO_DARK", ...], measures}, ms}`. With
        /// `{track: true}` (consecutive frames of one video) the detector runs on one frame in
        /// four while a single face is tracked.
        pub fn analyze(
            &mut self,
            rgba: Vec<u8>,
            width: u32,
            height: u32,
            options: JsValue,
        ) -> Result<JsValue, JsValue> {
            let raw = EmbedOptions::read(options)?;
            let track = raw.track;
            let o = raw.template_options().map_err(js_error)?;
            let rgba = WipedFrame::new(rgba);
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
            let challenge: Challenge = from_js(challenge, "challenge")?;
            let session = LivenessSession::new(&challenge.nonce, LivenessLimits::DEFAULT);
            let p = session.progress(false);
            self.captured.clear();
            self.liveness = Some(Liveness { challenge, session });
            to_js(&p)
        }

        /// Feed one camera frame (with its timestamp in ms) to the liveness run. The frame
        /// that completes "look straight" is captured for `prove`.
        #[wasm_bindgen(js_name = livenessFrame)]
        pub fn liveness_frame(
            &mut self,
            rgba: Vec<u8>,
            width: u32,
            height: u32,
            time_ms: f64,
        ) -> Result<JsValue, JsValue> {
            let rgba = WipedFrame::new(rgba);
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

        pub fn embed(&self, rgba: Vec<u8>, width: u32, height: u32, options: JsValue) -> Result<Vec<f32>, JsValue> {
            let o = EmbedOptions::parse(options)?;
            let rgba = WipedFrame::new(rgba);
            let img = RgbaFrame::new(&rgba, width, height).map_err(js_error)?;
            let t = on_pool(|| self.pipeline.template(&img, &o)).map_err(js_error)?;
            Ok(t.embedding.0.clone())
        }

        /// Run the pipeline and report the face and per-stage milliseconds (no embedding out).
        pub fn template(&self, rgba: Vec<u8>, width: u32, height: u32, options: JsValue) -> Result<JsValue, JsValue> {
            let o = EmbedOptions::parse(options)?;
            let rgba = WipedFrame::new(rgba);
            let img = RgbaFrame::new(&rgba, width, height).map_err(js_error)?;
            let t = on_pool(|| self.pipeline.template(&img, &o)).map_err(js_error)?;
            to_js(&TemplateJs { face: FaceJs::from(&t.detection), faces_seen: t.faces_seen, times: t.times })
        }

        /// Cosine score and decision between the faces of two images (ID photo vs selfie: pass
        /// `{detector: "back"}` as `optionsA` for a document photo).
        pub fn compare(
            &self,
            rgba_a: Vec<u8>,
            width_a: u32,
            height_a: u32,
            options_a: JsValue,
            rgba_b: Vec<u8>,
            width_b: u32,
            height_b: u32,
            options_b: JsValue,
        ) -> Result<JsValue, JsValue> {
            let (oa, ob) = (EmbedOptions::parse(options_a)?, EmbedOptions::parse(options_b)?);
            let rgba_a = WipedFrame::new(rgba_a);
            let a = RgbaFrame::new(&rgba_a, width_a, height_a).map_err(js_error)?;
            let rgba_b = WipedFrame::new(rgba_b);
            let b = RgbaFrame::new(&rgba_b, width_b, height_b).map_err(js_error)?;
            let score = on_pool(|| self.pipeline.compare(&a, &oa, &b, &ob)).map_err(js_error)?;
            let threshold = crate::DEFAULT_COSINE_THRESHOLD;
            to_js(&Comparison { score, threshold, same_person: score > threshold })
        }

        /// Keep the face of this frame for `enroll` / `prove` if its quality is usable:
        /// `{captured, quality, face, times}` (exactly one face, else an error).
        pub fn capture(
            &mut self,
            rgba: Vec<u8>,
            width: u32,
            height: u32,
            options: JsValue,
        ) -> Result<JsValue, JsValue> {
            let o = EmbedOptions::parse(options)?;
            let rgba = WipedFrame::new(rgba);
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
        pub fn enroll_start(&mut self, device_secret: &[u8], rp_id: &str, epoch: u32) -> Result<Vec<u8>, JsValue> {
            let secret = DeviceSecret::from_bytes(device_secret).map_err(js_error)?;
            let views = self.captured_views()?;
            let model = crate::embed::MODEL_NAME;
            let request = EnrollmentRequest::new(&mut OsRng, &secret, rp_id, epoch, model, &views, LockParams::DEFAULT)
                .map_err(js_error)?;
            let blinded = join_elements(request.blinded());
            self.pending = Some(Pending::Enroll(request));
            Ok(blinded)
        }

        /// Finish the enrollment with the relying party's evaluation:
        /// `{reference: Uint8Array, publicKey: Uint8Array}` for the server. Clears the captures.
        #[wasm_bindgen(js_name = enrollFinish)]
        pub fn enroll_finish(&mut self, evaluated: &[u8]) -> Result<JsValue, JsValue> {
            let Some(Pending::Enroll(request)) = self.pending.take() else {
                return Err(js_error(Error::InvalidArgument("call enrollStart first".into())));
            };
            let e = request.finish(&mut OsRng, &split_elements(evaluated)?).map_err(js_error)?;
            self.captured.clear();
            to_js(&EnrollmentJs { reference: e.reference, public_key: e.public_key.to_vec() })
        }

        /// Start answering the server's challenge with the captured live faces: the reference
        /// and the challenge are checked first (this device's key, this relying party, not
        /// expired at `now_ms`), then the liveness run for this challenge (when required), then
        /// the captures; returns the blinded lock inputs for the relying party (`n x 32`
        /// bytes). The captures stay until `proveFinish` succeeds.
        #[wasm_bindgen(js_name = proveStart)]
        pub fn prove_start(
            &mut self,
            device_secret: &[u8],
            reference_bytes: &[u8],
            challenge: JsValue,
            now_ms: f64,
            require_liveness: bool,
        ) -> Result<Vec<u8>, JsValue> {
            let secret = DeviceSecret::from_bytes(device_secret).map_err(js_error)?;
            let ch: Challenge = from_js(challenge, "challenge")?;
            check_reference(&secret, &ch.rp_id, reference_bytes).map_err(js_error)?;
            if now_ms.is_finite() && now_ms > ch.expires_at as f64 {
                return Err(js_error(faceproof_protocol::Error::ProofRejected(
                    faceproof_protocol::RejectReason::Expired,
                )));
            }
            let passed = matches!(&self.liveness, Some(l) if l.challenge == ch && l.session.passed());
            if require_liveness && !passed {
                return Err(js_error(faceproof_protocol::Error::ProofRejected(
                    faceproof_protocol::RejectReason::LivenessFailed,
                )));
            }
            let mut views = self.captured_views()?;
            views.truncate(MAX_PROBE_VIEWS);
            let request =
                LoginRequest::new(&mut OsRng, &secret, reference_bytes, &ch, crate::embed::MODEL_NAME, &views)
                    .map_err(js_error)?;
            let blinded = join_elements(request.blinded());
            self.pending = Some(Pending::Login(request, liveness_digest(&ch, passed)));
            Ok(blinded)
        }

        /// Finish with the relying party's evaluation: the proof bytes (the liveness outcome for
        /// this challenge signed in). `FACE_MISMATCH` when the face opens no lock. Clears the
        /// captures and the liveness run on success.
        #[wasm_bindgen(js_name = proveFinish)]
        pub fn prove_finish(&mut self, evaluated: &[u8]) -> Result<Vec<u8>, JsValue> {
            let Some(Pending::Login(request, live)) = self.pending.take() else {
                return Err(js_error(Error::InvalidArgument("call proveStart first".into())));
            };
            let proof = request.finish(&mut OsRng, &split_elements(evaluated)?, live).map_err(js_error)?;
            self.captured.clear();
            self.liveness = None;
            Ok(proof.to_bytes())
        }
    }
}
