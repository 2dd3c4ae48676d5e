//! Active liveness bound to the server's challenge.
//!
//! The challenge nonce picks a short prompt sequence (so the server knows what was asked);
//! [`LivenessSession`] checks each prompt from per-frame pose measurements, within time
//! limits, and checks that the same face is present throughout (one face per frame, no jump
//! of position, embedding similarity at every completed prompt). The frames it embeds (the
//! first one and each one that completes a prompt, the final "look straight" frame among them)
//! also carry the passive anti-spoofing verdict: one judged a presentation attack fails the
//! session, and a session in which the passive check did not run says so ([`PassiveCheck`]).
//! Both outcomes become the liveness digest signed into the proof
//! (`faceproof_protocol::liveness_digest`).
//!
//! What it can and cannot stop is in the README ("Security" and "Limits").

use crate::embed::Embedding;
use serde::Serialize;

pub use faceproof_protocol::{prompts_for, PassiveCheck, Prompt, PROMPTS};

/// Limits of a session.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LivenessLimits {
    /// Yaw (degrees) a turn must reach.
    pub turn_deg: f32,
    /// Yaw within which the face counts as straight.
    pub straight_deg: f32,
    /// Growth of the eye distance for "come closer".
    pub closer_ratio: f32,
    /// Time allowed for each prompt, and for the whole session (ms).
    pub prompt_ms: f64,
    pub session_ms: f64,
    /// Largest jump of the face centre between consecutive frames, in eye distances.
    pub max_jump: f32,
    /// Lowest cosine between the embedding at each completed prompt and the first one.
    pub min_same_face: f32,
}

impl LivenessLimits {
    pub const DEFAULT: LivenessLimits = LivenessLimits {
        turn_deg: 12.0,
        straight_deg: 8.0,
        closer_ratio: 1.25,
        prompt_ms: 6000.0,
        session_ms: 20000.0,
        max_jump: 1.5,
        min_same_face: 0.4,
    };
}

/// What one frame showed (from [`crate::pipeline::FacePipeline::analyze`]).
#[derive(Debug, Clone)]
pub struct Observation {
    pub time_ms: f64,
    pub faces: usize,
    pub yaw_deg: f32,
    pub eye_distance_px: f32,
    pub center: [f32; 2],
    /// Present on frames where a prompt may complete (the caller embeds those).
    pub embedding: Option<Embedding>,
    /// With the embedding: the passive anti-spoofing verdict on the frame (`Some(true)`: live),
    /// `None` when the check did not run.
    pub live: Option<bool>,
}

/// Why a session failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Failure {
    NoFace,
    MultipleFaces,
    /// The face jumped or changed identity between frames.
    FaceChanged,
    PromptTimeout,
    SessionTimeout,
    /// The opposite movement was made (e.g. right when asked left).
    WrongMovement,
    /// Frames must arrive in time order.
    BadTimestamps,
    /// The passive anti-spoofing check judged a checked frame a presentation attack (a
    /// printed photo).
    PresentationAttack,
}

/// The state after a frame.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub prompts: Vec<Prompt>,
    /// Index of the current prompt (== prompts.len() when done).
    pub step: usize,
    pub current: Option<Prompt>,
    pub done: bool,
    pub passed: bool,
    pub failure: Option<Failure>,
    /// The passive anti-spoofing check over the frames checked so far: `notRun` until it has
    /// run on every one of them (and for good when its models are not loaded), `failed` on a
    /// presentation attack. A proof signs this with the prompts' outcome.
    pub passive: PassiveCheck,
    /// True when the caller should embed this frame and call `observe` again with it (the
    /// first frame, and frames where a prompt's condition is met: same-face checks).
    pub needs_embedding: bool,
}

/// A liveness run for one challenge nonce.
pub struct LivenessSession {
    prompts: Vec<Prompt>,
    limits: LivenessLimits,
    step: usize,
    started: Option<f64>,
    step_started: f64,
    step_baseline_eyes: f32,
    /// The face has looked straight since the current prompt began: only then does a turn
    /// the wrong way count (right after "turn left" is met, the head is still turned left
    /// for a few frames while the next prompt says "turn right").
    centered_in_step: bool,
    last: Option<(f64, [f32; 2], f32)>,
    anchor: Option<Embedding>,
    failure: Option<Failure>,
    /// Embedded frames the passive check judged live, and embedded frames it did not run on.
    passive_live: usize,
    passive_missing: usize,
}

impl LivenessSession {
    pub fn new(nonce: &[u8; 32], limits: LivenessLimits) -> LivenessSession {
        LivenessSession {
            prompts: prompts_for(nonce),
            limits,
            step: 0,
            started: None,
            step_started: 0.0,
            step_baseline_eyes: 0.0,
            centered_in_step: false,
            last: None,
            anchor: None,
            failure: None,
            passive_live: 0,
            passive_missing: 0,
        }
    }

    pub fn passed(&self) -> bool {
        self.failure.is_none() && self.step == self.prompts.len()
    }

    /// The passive check's outcome so far: `Passed` only when it ran on every embedded frame
    /// (at least one) and judged each live.
    pub fn passive(&self) -> PassiveCheck {
        if self.failure == Some(Failure::PresentationAttack) {
            PassiveCheck::Failed
        } else if self.passive_missing > 0 || self.passive_live == 0 {
            PassiveCheck::NotRun
        } else {
            PassiveCheck::Passed
        }
    }

    pub fn progress(&self, needs_embedding: bool) -> Progress {
        let done = self.failure.is_some() || self.step == self.prompts.len();
        Progress {
            prompts: self.prompts.clone(),
            step: self.step,
            current: self.prompts.get(self.step).copied().filter(|_| !done),
            done,
            passed: self.passed(),
            failure: self.failure,
            passive: self.passive(),
            needs_embedding,
        }
    }

    fn fail(&mut self, f: Failure) -> Progress {
        self.failure = Some(f);
        self.progress(false)
    }

    /// Take the passive verdict of an embedded frame: `false` when it is an attack.
    fn passive_ok(&mut self, o: &Observation) -> bool {
        match o.live {
            Some(true) => self.passive_live += 1,
            Some(false) => return false,
            None => self.passive_missing += 1,
        }
        true
    }

    /// Feed one frame. Frames where the current prompt's condition holds must carry an
    /// embedding (see [`Progress::needs_embedding`]); others need not.
    pub fn observe(&mut self, o: &Observation) -> Progress {
        if self.failure.is_some() || self.step == self.prompts.len() {
            return self.progress(false);
        }
        let l = self.limits;
        let start = *self.started.get_or_insert(o.time_ms);
        if self.last.is_none() {
            self.step_started = o.time_ms;
        }
        if let Some((t, _, _)) = self.last {
            if o.time_ms < t {
                return self.fail(Failure::BadTimestamps);
            }
        }
        if o.time_ms - start > l.session_ms {
            return self.fail(Failure::SessionTimeout);
        }
        if o.time_ms - self.step_started > l.prompt_ms {
            return self.fail(Failure::PromptTimeout);
        }
        match o.faces {
            0 => return self.fail(Failure::NoFace),
            1 => {}
            _ => return self.fail(Failure::MultipleFaces),
        }
        if let Some((_, c, eyes)) = self.last {
            let jump = (o.center[0] - c[0]).hypot(o.center[1] - c[1]) / eyes.max(1.0);
            if jump > l.max_jump {
                return self.fail(Failure::FaceChanged);
            }
        }
        // the first frame fixes whose face this session is about
        if self.anchor.is_none() {
            match &o.embedding {
                Some(e) => self.anchor = Some(e.clone()),
                None => return self.progress(true),
            }
            if !self.passive_ok(o) {
                return self.fail(Failure::PresentationAttack);
            }
        }
        if self.step_baseline_eyes == 0.0 {
            self.step_baseline_eyes = o.eye_distance_px;
        }
        self.last = Some((o.time_ms, o.center, o.eye_distance_px));
        let prompt = self.prompts[self.step];
        self.centered_in_step |= o.yaw_deg.abs() <= l.straight_deg;
        let met = match prompt {
            Prompt::TurnLeft => o.yaw_deg >= l.turn_deg,
            Prompt::TurnRight => o.yaw_deg <= -l.turn_deg,
            Prompt::ComeCloser => o.eye_distance_px >= l.closer_ratio * self.step_baseline_eyes,
            Prompt::LookStraight => o.yaw_deg.abs() <= l.straight_deg,
        };
        let opposite = match prompt {
            Prompt::TurnLeft => o.yaw_deg <= -l.turn_deg,
            Prompt::TurnRight => o.yaw_deg >= l.turn_deg,
            _ => false,
        };
        if opposite && self.centered_in_step {
            return self.fail(Failure::WrongMovement);
        }
        if !met {
            return self.progress(false);
        }
        let Some(e) = &o.embedding else { return self.progress(true) };
        if self.anchor.as_ref().is_some_and(|a| a.cosine(e) < l.min_same_face) {
            return self.fail(Failure::FaceChanged);
        }
        if !self.passive_ok(o) {
            return self.fail(Failure::PresentationAttack);
        }
        self.step += 1;
        self.centered_in_step = false;
        self.step_started = o.time_ms;
        self.step_baseline_eyes = o.eye_distance_px;
        self.progress(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_deterministic_varied_and_end_straight() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..64u8 {
            let p = prompts_for(&[i; 32]);
            assert_eq!(p, prompts_for(&[i; 32]));
            assert_eq!(p.len(), PROMPTS);
            assert_ne!(p[0], p[1]);
            assert_eq!(p[2], Prompt::LookStraight);
            seen.insert((p[0], p[1]));
        }
        assert_eq!(seen.len(), 6, "all six orders of two movements occur");
    }

    /// A session performed correctly, every frame embedded and carrying `live` as the passive
    /// verdict (`attack_at`: the frame judged a presentation attack instead).
    fn perform(live: Option<bool>, attack_at: Option<usize>) -> Progress {
        let nonce = [7u8; 32];
        let mut s = LivenessSession::new(&nonce, LivenessLimits::DEFAULT);
        let frame = |yaw: f32, eyes: f32| (yaw, eyes);
        let mut frames = vec![frame(0.0, 40.0)];
        for p in prompts_for(&nonce) {
            frames.push(match p {
                Prompt::TurnLeft => frame(20.0, 40.0),
                Prompt::TurnRight => frame(-20.0, 40.0),
                Prompt::ComeCloser => frame(0.0, 60.0),
                Prompt::LookStraight => frame(0.0, 40.0),
            });
            frames.push(frame(0.0, 40.0));
        }
        let mut last = s.progress(false);
        for (i, (yaw, eyes)) in frames.into_iter().enumerate() {
            let o = Observation {
                time_ms: i as f64 * 500.0,
                faces: 1,
                yaw_deg: yaw,
                eye_distance_px: eyes,
                center: [320.0, 240.0],
                embedding: Some(Embedding(vec![0.6, 0.8])),
                live: if attack_at == Some(i) { Some(false) } else { live },
            };
            last = s.observe(&o);
            assert!(!last.needs_embedding);
        }
        last
    }

    #[test]
    fn the_passive_check_must_run_and_pass_on_the_embedded_frames() {
        let p = perform(Some(true), None);
        assert!(p.passed && p.passive == PassiveCheck::Passed, "{p:?}");
        // without the anti-spoofing models the prompts pass, and the session says the check
        // did not run (a relying party that requires liveness refuses that proof)
        let p = perform(None, None);
        assert!(p.passed && p.passive == PassiveCheck::NotRun, "{p:?}");
        // an attack on the first frame, or on a frame that completes a prompt, fails the run
        for at in [0, 1, 4] {
            let p = perform(Some(true), Some(at));
            assert_eq!(p.failure, Some(Failure::PresentationAttack), "frame {at}: {p:?}");
            assert!(!p.passed && p.passive == PassiveCheck::Failed, "{p:?}");
        }
    }
}
