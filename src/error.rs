//! One error type for the whole crate, with a stable machine-readable `code()`.
//!
//! The codes cross the wasm boundary as `Error.code` in JavaScript and the HTTP API of the
//! relying-party server: renaming one is a breaking change.

use std::fmt;

/// Everything that can go wrong, as a value. No public entry point panics on bad input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A pixel buffer whose length does not match `width * height * channels`, or a zero or
    /// absurd dimension.
    BadImageSize { width: u32, height: u32, len: usize, channels: usize },
    /// The image bytes could not be decoded (not a JPEG/PNG, truncated, ...).
    ImageDecode(String),
    /// A model file could not be parsed or lacks the expected inputs/outputs.
    ModelLoad(String),
    /// The inference engine failed while running a model.
    Inference(String),
    /// A pipeline stage was called before its model was loaded.
    ModelNotLoaded(&'static str),
    /// No face above the detector threshold.
    NoFace,
    /// More than one face where exactly one is required (login, enrollment).
    MultipleFaces { count: usize },
    /// An argument outside its documented range (e.g. an empty rp id).
    InvalidArgument(String),
    /// An encrypted reference or proof that is not in the documented format (wrong magic,
    /// version, length, truncated or extended bytes).
    MalformedReference(String),
    /// The reference did not decrypt: wrong device secret, rp id or epoch, or tampered bytes.
    ReferenceDecrypt,
    /// The live face did not open the face-bound key: not the enrolled person (or a bad capture).
    FaceMismatch,
    /// A proof or challenge that is not in the documented format.
    MalformedProof(String),
    /// The verifier rejected a proof. The reason is a stable code such as `BAD_SIGNATURE`.
    ProofRejected(RejectReason),
    /// The operating system / browser random source failed.
    Randomness(String),
}

/// Why a relying-party verifier rejected a proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    BadSignature,
    WrongPublicKey,
    WrongRpId,
    Expired,
    UnknownOrReusedNonce,
    WrongReference,
    LivenessFailed,
}

impl RejectReason {
    pub fn code(self) -> &'static str {
        match self {
            RejectReason::BadSignature => "BAD_SIGNATURE",
            RejectReason::WrongPublicKey => "WRONG_PUBLIC_KEY",
            RejectReason::WrongRpId => "WRONG_RP_ID",
            RejectReason::Expired => "CHALLENGE_EXPIRED",
            RejectReason::UnknownOrReusedNonce => "NONCE_REUSED_OR_UNKNOWN",
            RejectReason::WrongReference => "WRONG_REFERENCE",
            RejectReason::LivenessFailed => "LIVENESS_FAILED",
        }
    }
}

impl Error {
    /// Stable code for programs (JS `err.code`, HTTP error bodies).
    pub fn code(&self) -> &'static str {
        match self {
            Error::BadImageSize { .. } => "BAD_IMAGE_SIZE",
            Error::ImageDecode(_) => "IMAGE_DECODE",
            Error::ModelLoad(_) => "MODEL_LOAD",
            Error::Inference(_) => "INFERENCE",
            Error::ModelNotLoaded(_) => "MODEL_NOT_LOADED",
            Error::NoFace => "NO_FACE",
            Error::MultipleFaces { .. } => "MULTIPLE_FACES",
            Error::InvalidArgument(_) => "INVALID_ARGUMENT",
            Error::MalformedReference(_) => "MALFORMED_REFERENCE",
            Error::ReferenceDecrypt => "REFERENCE_DECRYPT",
            Error::FaceMismatch => "FACE_MISMATCH",
            Error::MalformedProof(_) => "MALFORMED_PROOF",
            Error::ProofRejected(r) => r.code(),
            Error::Randomness(_) => "RANDOMNESS",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadImageSize { width, height, len, channels } => {
                write!(f, "pixel buffer of {len} bytes does not match {width}x{height}x{channels}")
            }
            Error::ImageDecode(m) => write!(f, "could not decode image: {m}"),
            Error::ModelLoad(m) => write!(f, "could not load model: {m}"),
            Error::Inference(m) => write!(f, "inference failed: {m}"),
            Error::ModelNotLoaded(m) => write!(f, "model not loaded: {m}"),
            Error::NoFace => write!(f, "no face found"),
            Error::MultipleFaces { count } => write!(f, "{count} faces found where one is required"),
            Error::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            Error::MalformedReference(m) => write!(f, "malformed reference: {m}"),
            Error::ReferenceDecrypt => {
                write!(f, "reference did not decrypt (wrong device secret, rp id or epoch, or tampered)")
            }
            Error::FaceMismatch => write!(f, "the live face did not open the enrolled key"),
            Error::MalformedProof(m) => write!(f, "malformed proof or challenge: {m}"),
            Error::ProofRejected(r) => write!(f, "proof rejected: {}", r.code()),
            Error::Randomness(m) => write!(f, "random source failed: {m}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
