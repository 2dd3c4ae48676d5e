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

/// Outcome of the passive presentation-attack check (one frame at a time: is the face live or a
/// printed photo?) over a liveness session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[repr(u8)]
pub enum PassiveCheck {
    /// The check did not run on every frame the session checks (its models were not loaded).
    NotRun = 0,
    /// A checked frame was judged a presentation attack.
    Failed = 1,
    /// It ran on every checked frame and judged each one live.
    Passed = 2,
}

/// The liveness digest bound into the proof: the challenge's nonce, the prompt sequence it
/// selects, whether the prompts were performed, and the outcome of the passive check. The
/// verifier that requires liveness accepts only `(true, PassiveCheck::Passed)`: every prompt
/// performed, and the passive check ran and passed.
pub fn liveness_digest(challenge: &Challenge, prompts_passed: bool, passive: PassiveCheck) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"faceproof/liveness/v2");
    h.update([challenge.rp_id.len() as u8]);
    h.update(challenge.rp_id.as_bytes());
    h.update(challenge.nonce);
    for p in prompts_for(&challenge.nonce) {
        h.update([p as u8]);
    }
    h.update([prompts_passed as u8, passive as u8]);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_has_its_own_digest() {
        let ch = Challenge { rp_id: "bank.example".into(), nonce: [3; 32], expires_at: 9 };
        let mut seen = std::collections::HashSet::new();
        for prompts in [false, true] {
            for passive in [PassiveCheck::NotRun, PassiveCheck::Failed, PassiveCheck::Passed] {
                assert!(seen.insert(liveness_digest(&ch, prompts, passive)), "{prompts} {passive:?}");
            }
        }
    }
}
