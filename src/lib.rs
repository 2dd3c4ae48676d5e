//! faceproof: face verification for e-KYC login inside the browser.
//!
//! The crate is a pure-Rust core that builds and tests natively; `wasm_api` is a thin
//! `wasm-bindgen` layer over it. Stages, one module each:
//!
//! | module | what |
//! |---|---|
//! | [`image`] | RGB float pixels, RGBA input, JPEG/PNG decode |
//! | [`geometry`] | affine maps, least-squares similarity, bilinear warp |
//! | [`model`] | the inference engine (rten) behind one small type |
//! | [`detect`] | BlazeFace detection, anchors, weighted NMS |
//! | [`landmarks`] | FaceMesh 468 landmarks |
//! | [`align`] | 112x112 ArcFace alignment |
//! | [`embed`] | MobileFaceNet embedding |
//! | [`pipeline`] | the stages put together, face selection |
//! | [`quality`] | capture-quality measures and reason codes |
//! | [`liveness`] | the challenge's prompts checked across frames |
//! | [`antispoof`] | passive presentation-attack detection (printed photos), MiniFASNet |
//!
//! The protection protocol (keys, cancelable transform, face-bound key, sealed reference,
//! proof, verifier) is the `faceproof-protocol` crate, re-exported as [`protocol`].

pub mod align;
#[cfg(feature = "inference")]
pub mod antispoof;
pub mod clock;
pub mod embed;
pub mod error;
pub mod geometry;
pub mod image;

#[cfg(feature = "inference")]
pub mod detect;
#[cfg(feature = "inference")]
pub mod landmarks;
#[cfg(feature = "inference")]
pub mod model;
#[cfg(feature = "inference")]
pub mod pipeline;

pub mod liveness;
#[cfg(feature = "inference")]
pub mod quality;

pub use error::{Error, Result};
pub use faceproof_protocol as protocol;

/// Cosine score above which two faces are the same person. Chosen on lfw-dev at a false
/// accept rate of 0.1 % (docs/accuracy.md).
pub const DEFAULT_COSINE_THRESHOLD: f32 = 0.40;

#[cfg(target_arch = "wasm32")]
pub mod wasm_api;
/// The relying party's OPRF evaluation for JavaScript servers.
#[cfg(target_arch = "wasm32")]
pub mod wasm_oprf;
