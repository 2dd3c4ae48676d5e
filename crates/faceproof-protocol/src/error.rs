//! The protocol's errors, each with a stable machine-readable `code()`.
//!
//! The codes cross the wasm boundary as `Error.code` in JavaScript and the HTTP API of a
//! relying party: renaming one is a breaking change.

use std::fmt;

/// Everything the protocol can refuse, as a value. No public function panics on bad input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// An argument outside its documented range (e.g. an empty rp id).
    InvalidArgument(String),
    /// An encrypted reference that is not in the documented format (wrong magic, version,
    /// length, truncated or extended bytes).
    MalformedReference(String),
    /// The reference did not decrypt: wrong device secret, rp id or epoch, or tampered bytes.
    ReferenceDecrypt,
    /// The live face did not open the face-bound key: not the enrolled person (or a bad capture).
    FaceMismatch,
    /// A proof or challenge that is not in the documented format.
    MalformedProof(String),
    /// Templates of one embedder presented to a reference made by another.
    ModelMismatch { reference: String, probe: String },
    /// An OPRF evaluation that does not fit its request (count, invalid points).
    MalformedEvaluation(String),
    /// A reference of a format version this build does not open (made before the current
    /// protocol): the user re-enrolls.
    UnsupportedVersion(u8),
    /// A public key that is not a valid Ristretto255 point other than the identity (the
    /// identity would let one constant proof verify for every challenge).
    InvalidPublicKey,
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
            Error::InvalidArgument(_) => "INVALID_ARGUMENT",
            Error::MalformedReference(_) => "MALFORMED_REFERENCE",
            Error::ReferenceDecrypt => "REFERENCE_DECRYPT",
            Error::FaceMismatch => "FACE_MISMATCH",
            Error::MalformedProof(_) => "MALFORMED_PROOF",
            Error::InvalidPublicKey => "INVALID_PUBLIC_KEY",
            Error::MalformedEvaluation(_) => "MALFORMED_EVALUATION",
            Error::ModelMismatch { .. } => "MODEL_MISMATCH",
            Error::UnsupportedVersion(_) => "UNSUPPORTED_VERSION",
            Error::ProofRejected(r) => r.code(),
            Error::Randomness(_) => "RANDOMNESS",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            Error::MalformedReference(m) => write!(f, "malformed reference: {m}"),
            Error::ReferenceDecrypt => {
                write!(f, "reference did not decrypt (wrong device secret, rp id or epoch, or tampered)")
            }
            Error::FaceMismatch => write!(f, "the live face did not open the enrolled key"),
            Error::MalformedProof(m) => write!(f, "malformed proof or challenge: {m}"),
            Error::MalformedEvaluation(m) => write!(f, "malformed OPRF evaluation: {m}"),
            Error::ModelMismatch { reference, probe } => {
                write!(f, "the reference was made with the {reference} model, the live face with {probe}")
            }
            Error::UnsupportedVersion(v) => {
                write!(f, "reference format version {v} is no longer supported: enroll again")
            }
            Error::InvalidPublicKey => write!(f, "the public key is not a valid point (or is the identity)"),
            Error::ProofRejected(r) => write!(f, "proof rejected: {}", r.code()),
            Error::Randomness(m) => write!(f, "random source failed: {m}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
