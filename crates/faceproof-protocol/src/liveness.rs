//! The liveness part of the protocol: which prompts a challenge asks for, and the digest of the
//! outcome that the proof signs. The checks themselves run on the device (the face pipeline's
//! liveness session).

use crate::proof::Challenge;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// One thing the user is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[repr(u8)]
pub enum Prompt {
    /// Turn the head to the user's left (the face turns towards image-right in an unmirrored frame).
    TurnLeft = 1,
    TurnRight = 2,
    ComeCloser = 3,
    LookStraight = 4,
}

/// Number of prompts per session.
pub const PROMPTS: usize = 3;

/// The prompt sequence for a nonce: deterministic, so the server knows what was asked.
/// Two different movements, then looking straight at the camera (the frame for the template).
pub fn prompts_for(nonce: &[u8; 32]) -> Vec<Prompt> {
    let h: [u8; 32] = Sha256::new().chain_update(b"faceproof/prompts/v1").chain_update(nonce).finalize().into();
    let moves = [Prompt::TurnLeft, Prompt::TurnRight, Prompt::ComeCloser];
    let first = moves[h[0] as usize % 3];
    let rest: Vec<Prompt> = moves.iter().copied().filter(|&m| m != first).collect();
    let second = rest[h[1] as usize % 2];
    vec![first, second, Prompt::LookStraight]
}

/// The liveness digest bound into the proof: the challenge's nonce, the prompt sequence it
/// selects, and the outcome. The verifier recomputes it for "passed".
pub fn liveness_digest(challenge: &Challenge, passed: bool) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"faceproof/liveness/v1");
    h.update([challenge.rp_id.len() as u8]);
    h.update(challenge.rp_id.as_bytes());
    h.update(challenge.nonce);
    for p in prompts_for(&challenge.nonce) {
        h.update([p as u8]);
    }
    h.update([passed as u8]);
    h.finalize().into()
}
