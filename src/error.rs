//! One error type for the face pipeline (protocol errors wrapped), with a stable machine-readable `code()`.
//!
//! The codes cross the wasm boundary as `Error.code` in JavaScript and the HTTP API of the
//! relying-party server: renaming one is a breaking change.

use faceproof_protocol::Error as ProtocolError;
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
    /// An argument outside its documented range (e.g. an unknown detector name).
    InvalidArgument(String),
    /// An error of the protection protocol (reference, proof, key): its own stable code.
    Protocol(ProtocolError),
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Error {
        match e {
            ProtocolError::InvalidArgument(m) => Error::InvalidArgument(m),
            e => Error::Protocol(e),
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
            Error::Protocol(e) => e.code(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadImageSize { width, height, len, channels } => {
                let max = crate::image::MAX_SIDE;
                if *width == 0 || *height == 0 {
                    write!(f, "the frame is empty ({width}x{height} pixels)")
                } else if *width > max || *height > max {
                    write!(f, "the frame is {width}x{height} pixels, larger than {max} a side")
                } else {
                    let expected = *width as u64 * *height as u64 * *channels as u64;
                    write!(
                        f,
                        "pixel buffer of {len} bytes does not match {width}x{height} pixels of {channels} bytes \
                         ({expected} bytes)"
                    )
                }
            }
            Error::ImageDecode(m) => write!(f, "could not decode image: {m}"),
            Error::ModelLoad(m) => write!(f, "could not load model: {m}"),
            Error::Inference(m) => write!(f, "inference failed: {m}"),
            Error::ModelNotLoaded(m) => write!(f, "model not loaded: {m}"),
            Error::NoFace => write!(f, "no face found"),
            Error::MultipleFaces { count } => write!(f, "{count} faces found where one is required"),
            Error::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            Error::Protocol(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
