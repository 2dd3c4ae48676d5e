//! The face-template pipeline: detect -> choose a face -> landmarks -> align -> embed.
//!
//! Two alignments are kept side by side: [`Alignment::Reference`] reproduces
//! `reference_pipeline.py` (strongest BlazeFace anchor, 4 keypoints) and is what the
//! equality test checks; [`Alignment::FaceMesh`] is the production path (FaceMesh 5 points).

use crate::align::{align, align_jittered, arcface_4, Jitter, ARCFACE_5};
use crate::antispoof::{self, AntiSpoof};
use crate::clock::now_ms;
use crate::detect::{Detection, Detector, DetectorKind, MIN_SCORE};
use crate::embed::{Embedder, Embedding};
use crate::error::{Error, Result};
use crate::image::{Pixels, RgbImage};
use crate::landmarks::{Landmarker, Mesh};
use crate::liveness::{LivenessSession, Observation, Progress, Prompt};
use crate::model::Model;
use crate::quality::{self, Limits, LiveScore, Quality};

/// How the anti-spoofing networks compute: float32, also for the int8-weight files of
/// `models/web` (dequantized at load). In int8 they score the same but run about 8x slower
/// (docs/anti-spoofing.md, "Cost").
const ANTISPOOF_PRECISION: Precision = Precision::Float32;

pub use crate::model::Precision;

/// Model file names, as shipped in `models/` and next to the npm module.
pub mod files {
    pub const DETECTOR_FRONT: &str = "blazeface_front_128.onnx";
    pub const DETECTOR_BACK: &str = "blazeface_back_256.onnx";
    pub const LANDMARKS: &str = "facemesh_468.onnx";
    pub const EMBEDDER: &str = "mobilefacenet_192.onnx";
    /// The passive anti-spoofing networks ([`crate::antispoof`]): the check runs once both
    /// are loaded.
    pub const ANTISPOOF_2_7: &str = crate::antispoof::files::SCALE_2_7;
    pub const ANTISPOOF_4_0: &str = crate::antispoof::files::SCALE_4_0;
}

/// How the face is placed on the 112x112 template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alignment {
    /// `reference_pipeline.py`: strongest anchor, 4 BlazeFace keypoints.
    Reference,
    /// FaceMesh eye centres, nose tip and mouth corners (5 points).
    FaceMesh,
}

/// Which face to use when the detector sees several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Exactly one face, or [`Error::MultipleFaces`]: login and enrollment.
    Single,
    /// The face nearest the image centre (relative to its size): datasets such as LFW whose
    /// protocol says the subject is the central face.
    Central,
    /// The largest face: the portrait on an ID document (not its small "ghost" copy).
    Largest,
    /// The highest-scoring face.
    Strongest,
}

/// Options for [`FacePipeline::template`].
#[derive(Debug, Clone, Copy)]
pub struct TemplateOptions {
    pub detector: DetectorKind,
    pub alignment: Alignment,
    pub selection: Selection,
    /// Also embed the mirrored face and average the two embeddings.
    pub flip: bool,
    pub min_score: f32,
}

impl Default for TemplateOptions {
    fn default() -> Self {
        TemplateOptions {
            detector: DetectorKind::Front128,
            alignment: Alignment::FaceMesh,
            selection: Selection::Single,
            flip: true,
            min_score: MIN_SCORE,
        }
    }
}

impl TemplateOptions {
    /// A photo of an ID document: the full-range detector (small face), the largest face.
    pub fn id_document() -> TemplateOptions {
        TemplateOptions { detector: DetectorKind::Back256, selection: Selection::Largest, ..TemplateOptions::default() }
    }

    /// Exactly `reference_pipeline.py`.
    pub fn reference() -> TemplateOptions {
        TemplateOptions {
            detector: DetectorKind::Front128,
            alignment: Alignment::Reference,
            selection: Selection::Strongest,
            flip: false,
            min_score: 0.0,
        }
    }
}

/// Milliseconds spent in each stage of one [`FacePipeline::template`] call.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct StageTimes {
    pub detect: f64,
    pub landmarks: f64,
    pub align: f64,
    pub embed: f64,
}

/// The result of the pipeline on one image.
#[derive(Debug)]
pub struct Template {
    pub embedding: Embedding,
    pub detection: Detection,
    pub mesh: Option<Mesh>,
    /// Number of faces the detector saw (before selection).
    pub faces_seen: usize,
    /// Raw embedding length before normalisation (see [`Embedder::embed_with_norms`]).
    pub norm: f32,
    pub times: StageTimes,
}

static REFERENCE_TEMPLATE: std::sync::OnceLock<[[f64; 2]; 4]> = std::sync::OnceLock::new();

/// Where the chosen face is and which template its points map to.
struct Located {
    detection: Detection,
    mesh: Option<Mesh>,
    faces_seen: usize,
    points: Vec<[f64; 2]>,
    template: &'static [[f64; 2]],
    detect_ms: f64,
}

impl Located {
    /// The template of this face, with its stage times from the clock readings taken before
    /// locating, after locating, after aligning and after embedding.
    fn into_template(self, embedding: Embedding, norm: f32, [t0, t2, t3, t4]: [f64; 4]) -> Template {
        let times =
            StageTimes { detect: self.detect_ms, landmarks: t2 - t0 - self.detect_ms, align: t3 - t2, embed: t4 - t3 };
        Template { embedding, detection: self.detection, mesh: self.mesh, faces_seen: self.faces_seen, norm, times }
    }
}

/// The result of [`FacePipeline::analyze`].
#[derive(Debug)]
pub struct Analysis {
    /// Every face, best first.
    pub faces: Vec<Detection>,
    /// Verdict on the largest face.
    pub quality: Quality,
    /// Landmarks of the largest face.
    pub mesh: Option<Mesh>,
    pub ms: f64,
}

/// State of [`FacePipeline::analyze_tracked`] across preview frames.
#[derive(Debug, Clone)]
pub struct Tracker {
    /// Run the detector on one frame in this many (1 = every frame).
    pub detect_every: usize,
    since_detect: usize,
    /// The detection to use next, with the eye centres it corresponds to.
    last: Option<(Detection, [[f64; 2]; 2])>,
}

impl Tracker {
    pub fn new(detect_every: usize) -> Tracker {
        Tracker { detect_every: detect_every.max(1), since_detect: 0, last: None }
    }
}

/// Move a detection by the similarity that takes the eye centres `from` to `to`.
fn move_detection(d: &Detection, from: [[f64; 2]; 2], to: [[f64; 2]; 2]) -> Option<Detection> {
    let m = crate::geometry::similarity(&from, &to)?;
    let map = |p: [f32; 2]| {
        let q = m.apply([p[0] as f64, p[1] as f64]);
        [q[0] as f32, q[1] as f32]
    };
    let (c, s) = (map(d.center()), m.scale() as f32);
    let (hw, hh) = (d.width() * s / 2.0, d.height() * s / 2.0);
    let mut keypoints = d.keypoints;
    keypoints.iter_mut().for_each(|k| *k = map(*k));
    Some(Detection { score: d.score, bbox: [c[0] - hw, c[1] - hh, c[0] + hw, c[1] + hh], keypoints })
}

/// The networks. Each is optional so that a page can load only what it needs (the
/// back-range detector is only for ID photos). Without the two anti-spoofing networks, frames
/// are not checked for presentation attacks, and results say so (`live_score: None`,
/// [`crate::liveness::PassiveCheck::NotRun`]).
#[derive(Default)]
pub struct FacePipeline {
    pub front: Option<Detector>,
    pub back: Option<Detector>,
    pub landmarker: Option<Landmarker>,
    pub embedder: Option<Embedder>,
    pub antispoof: Option<AntiSpoof>,
    /// An anti-spoofing network loaded while the other one is not yet (order of
    /// [`antispoof::files`]).
    antispoof_half: [Option<Model>; 2],
    /// How the embedder loaded by [`FacePipeline::load_model`] computes.
    pub precision: Precision,
}

impl FacePipeline {
    /// Load the four models from `dir` (native; the browser passes bytes), the embedder as the
    /// SDK runs it ([`Precision::default`]).
    pub fn from_dir(dir: impl AsRef<std::path::Path>) -> Result<FacePipeline> {
        Self::from_dir_with(dir, Precision::default())
    }

    /// [`FacePipeline::from_dir`] with the embedder in `precision`.
    pub fn from_dir_with(dir: impl AsRef<std::path::Path>, precision: Precision) -> Result<FacePipeline> {
        let dir = dir.as_ref();
        let read = |name: &str| {
            std::fs::read(dir.join(name)).map_err(|e| Error::ModelLoad(format!("{}: {e}", dir.join(name).display())))
        };
        Ok(FacePipeline {
            front: Some(Detector::load(DetectorKind::Front128, read(files::DETECTOR_FRONT)?)?),
            back: Some(Detector::load(DetectorKind::Back256, read(files::DETECTOR_BACK)?)?),
            landmarker: Some(Landmarker::load(read(files::LANDMARKS)?)?),
            embedder: Some(Embedder::load(read(files::EMBEDDER)?, precision)?),
            antispoof: None,
            antispoof_half: [None, None],
            precision,
        })
    }

    /// Also load the two anti-spoofing networks from `dir` (`models/` or `models/web/`), as
    /// [`FacePipeline::load_model`] loads them.
    pub fn with_antispoof_from(mut self, dir: impl AsRef<std::path::Path>) -> Result<FacePipeline> {
        self.antispoof = Some(AntiSpoof::from_dir(dir, ANTISPOOF_PRECISION)?);
        Ok(self)
    }

    /// Load one model from its bytes; `name` is one of [`files`].
    pub fn load_model(&mut self, name: &str, onnx: Vec<u8>) -> Result<()> {
        match name {
            files::DETECTOR_FRONT => self.front = Some(Detector::load(DetectorKind::Front128, onnx)?),
            files::DETECTOR_BACK => self.back = Some(Detector::load(DetectorKind::Back256, onnx)?),
            files::LANDMARKS => self.landmarker = Some(Landmarker::load(onnx)?),
            files::EMBEDDER => self.embedder = Some(Embedder::load(onnx, self.precision)?),
            files::ANTISPOOF_2_7 | files::ANTISPOOF_4_0 => {
                let i = usize::from(name == files::ANTISPOOF_4_0);
                let network = antispoof::load_network(i, onnx, ANTISPOOF_PRECISION)?;
                // a reload replaces its network in a complete pair, or waits for the other one
                let mut half = std::mem::take(&mut self.antispoof_half);
                if let Some(pair) = self.antispoof.take() {
                    half = pair.into_networks().map(Some);
                }
                half[i] = Some(network);
                match half {
                    [Some(a), Some(b)] => self.antispoof = Some(AntiSpoof::from_networks([a, b])),
                    half => self.antispoof_half = half,
                }
            }
            other => return Err(Error::InvalidArgument(format!("unknown model {other:?}"))),
        }
        Ok(())
    }

    pub fn detector(&self, kind: DetectorKind) -> Result<&Detector> {
        match kind {
            DetectorKind::Front128 => self.front.as_ref().ok_or(Error::ModelNotLoaded(files::DETECTOR_FRONT)),
            DetectorKind::Back256 => self.back.as_ref().ok_or(Error::ModelNotLoaded(files::DETECTOR_BACK)),
        }
    }
    pub fn landmarker(&self) -> Result<&Landmarker> {
        self.landmarker.as_ref().ok_or(Error::ModelNotLoaded(files::LANDMARKS))
    }
    pub fn embedder(&self) -> Result<&Embedder> {
        self.embedder.as_ref().ok_or(Error::ModelNotLoaded(files::EMBEDDER))
    }

    /// The passive anti-spoofing live score of `face` under `limits`, `None` when its models
    /// are not loaded.
    pub fn live_score(&self, img: &impl Pixels, face: &Detection, limits: &Limits) -> Result<Option<LiveScore>> {
        let Some(a) = &self.antispoof else { return Ok(None) };
        Ok(Some(LiveScore { score: a.score(img, face)?.live, threshold: limits.min_live_score }))
    }

    /// Every face above `min_score`, best first.
    pub fn detect(&self, img: &impl Pixels, kind: DetectorKind, min_score: f32) -> Result<Vec<Detection>> {
        self.detector(kind)?.detect(img, min_score)
    }

    /// Quality check of a live frame without embedding it (cheap enough for every preview
    /// frame): all faces, the largest one's landmarks and the quality verdict, with the
    /// passive anti-spoofing check when its models are loaded.
    pub fn analyze(&self, img: &impl Pixels, detector: DetectorKind, limits: &Limits) -> Result<Analysis> {
        self.analyze_with(img, detector, limits, true)
    }

    fn analyze_with(
        &self,
        img: &impl Pixels,
        detector: DetectorKind,
        limits: &Limits,
        passive: bool,
    ) -> Result<Analysis> {
        let t0 = now_ms();
        let faces = self.detect(img, detector, MIN_SCORE)?;
        let Some(main) =
            faces.iter().max_by(|a, b| (a.width() * a.height()).total_cmp(&(b.width() * b.height()))).cloned()
        else {
            return Ok(Analysis {
                quality: quality::assess(img, 0, None, limits),
                faces,
                mesh: None,
                ms: now_ms() - t0,
            });
        };
        let (quality, mesh) = self.assess_with(img, main, faces.len(), limits, passive)?;
        Ok(Analysis { quality, faces, mesh, ms: now_ms() - t0 })
    }

    /// [`FacePipeline::analyze`] for a stream of preview frames: while exactly one face is
    /// tracked, the detector runs only every `tracker.detect_every` frames; in between, the
    /// last detection is moved with the face (the similarity between the eye positions then
    /// and now, from FaceMesh) and FaceMesh runs on that (as MediaPipe's face mesh does).
    /// Tracked frames count one face: a second face is seen at the next detection.
    pub fn analyze_tracked(&self, img: &impl Pixels, tracker: &mut Tracker, limits: &Limits) -> Result<Analysis> {
        let t0 = now_ms();
        if let Some((det, eyes)) = tracker.last.take() {
            if tracker.since_detect + 1 < tracker.detect_every {
                let (quality, mesh) = self.assess(img, det.clone(), 1, limits)?;
                if let Some(m) = mesh.as_ref().filter(|m| m.presence >= 0.5) {
                    let p = m.five_points();
                    if let Some(moved) = move_detection(&det, eyes, [p[0], p[1]]) {
                        tracker.last = Some((moved.clone(), [p[0], p[1]]));
                        tracker.since_detect += 1;
                        return Ok(Analysis { quality, faces: vec![moved], mesh, ms: now_ms() - t0 });
                    }
                }
            }
        }
        let a = self.analyze(img, DetectorKind::Front128, limits)?;
        tracker.since_detect = 0;
        tracker.last = match (&a.faces[..], &a.mesh) {
            ([one], Some(m)) => {
                let p = m.five_points();
                Some((one.clone(), [p[0], p[1]]))
            }
            _ => None,
        };
        Ok(a)
    }

    /// Quality of one detected face (`faces`: how many the frame has), with the passive
    /// anti-spoofing check when its models are loaded.
    pub fn assess(
        &self,
        img: &impl Pixels,
        face: Detection,
        faces: usize,
        limits: &Limits,
    ) -> Result<(Quality, Option<Mesh>)> {
        self.assess_with(img, face, faces, limits, true)
    }

    fn assess_with(
        &self,
        img: &impl Pixels,
        face: Detection,
        faces: usize,
        limits: &Limits,
        passive: bool,
    ) -> Result<(Quality, Option<Mesh>)> {
        let located = self.place(img, face.clone(), faces, Alignment::FaceMesh, 0.0)?;
        let aligned = align(img, &located.points, located.template)?;
        let p = &located.points;
        let mut q = quality::assess(img, faces, Some((&face, [p[0], p[1], p[2]], &aligned)), limits);
        if passive {
            if let Some(s) = self.live_score(img, &face, limits)? {
                q = q.with_live_score(s.score, limits);
            }
        }
        Ok((q, located.mesh))
    }

    /// Feed one camera frame to a liveness session: measure the frame, and embed it and run
    /// the passive anti-spoofing check on it when the session asks (first frame, and frames
    /// that meet a prompt). Returns the progress and, when the final "look straight" prompt
    /// passes on this frame, its views for the proof.
    pub fn liveness_frame(
        &self,
        session: &mut LivenessSession,
        img: &impl Pixels,
        time_ms: f64,
    ) -> Result<(Progress, Option<Vec<Embedding>>)> {
        let a = self.analyze_with(img, DetectorKind::Front128, &Limits::DEFAULT, false)?;
        let main = a.faces.iter().max_by(|x, y| (x.width() * x.height()).total_cmp(&(y.width() * y.height())));
        let mut obs = Observation {
            time_ms,
            faces: a.faces.len(),
            yaw_deg: a.quality.measures.yaw_deg,
            eye_distance_px: a.quality.measures.eye_distance_px,
            center: main.map(|d| d.center()).unwrap_or_default(),
            embedding: None,
            live: None,
        };
        let p = session.observe(&obs);
        if !p.needs_embedding {
            return Ok((p, None));
        }
        // the session asks for an embedding only on frames with exactly one face
        if let Some(face) = main {
            obs.live = self.live_score(img, face, &Limits::DEFAULT)?.map(|s| s.is_live());
        }
        let opts = TemplateOptions::default();
        if p.current == Some(Prompt::LookStraight) {
            let (t, mut views) = self.views(img, &opts, &Jitter::ENROLL)?;
            obs.embedding = Some(t.embedding.clone());
            views.insert(0, t.embedding);
            let p = session.observe(&obs);
            let done = p.passed;
            Ok((p, done.then_some(views)))
        } else {
            obs.embedding = Some(self.template(img, &opts)?.embedding);
            Ok((session.observe(&obs), None))
        }
    }

    /// Detect, choose a face, align and embed.
    pub fn template(&self, img: &impl Pixels, opts: &TemplateOptions) -> Result<Template> {
        let t0 = now_ms();
        let located = self.locate(img, opts)?;
        let t2 = now_ms();
        let face = align(img, &located.points, located.template)?;
        let t3 = now_ms();
        let (embedding, norm) = self.embed_face_norm(&face, opts.flip)?;
        Ok(located.into_template(embedding, norm, [t0, t2, t3, now_ms()]))
    }

    /// Detect and align once, then embed the face under each [`Jitter`] in one batched run:
    /// several views of one photo, for enrollment.
    pub fn views(
        &self,
        img: &impl Pixels,
        opts: &TemplateOptions,
        jitters: &[Jitter],
    ) -> Result<(Template, Vec<Embedding>)> {
        let t0 = now_ms();
        let located = self.locate(img, opts)?;
        self.views_of(img, located, opts.flip, jitters, t0)
    }

    /// [`FacePipeline::views`] of an already detected face.
    pub fn views_for(
        &self,
        img: &impl Pixels,
        detection: Detection,
        opts: &TemplateOptions,
        jitters: &[Jitter],
    ) -> Result<(Template, Vec<Embedding>)> {
        let t0 = now_ms();
        let located = self.place(img, detection, 1, opts.alignment, 0.0)?;
        self.views_of(img, located, opts.flip, jitters, t0)
    }

    fn views_of(
        &self,
        img: &impl Pixels,
        located: Located,
        flip: bool,
        jitters: &[Jitter],
        t0: f64,
    ) -> Result<(Template, Vec<Embedding>)> {
        let t2 = now_ms();
        let mut faces = Vec::with_capacity(jitters.len() + 1);
        for j in jitters {
            faces.push(align_jittered(img, &located.points, located.template, j)?);
        }
        let plain = align(img, &located.points, located.template)?;
        let t3 = now_ms();
        let embedder = self.embedder()?;
        let mirrored = plain.flip_horizontal();
        let mut refs: Vec<&RgbImage> = faces.iter().collect();
        refs.push(&plain);
        refs.push(&mirrored);
        let (mut embs, norms) = embedder.embed_with_norms(&refs)?;
        let norm = norms.iter().rev().take(2).sum::<f32>() / 2.0;
        let (m, p) = (embs.pop(), embs.pop());
        let embedding = match (p, m) {
            (Some(p), Some(m)) if flip => Embedding::mean(&[&p, &m]),
            (Some(p), _) => p,
            _ => return Err(Error::Inference("empty batch".into())),
        };
        Ok((located.into_template(embedding, norm, [t0, t2, t3, now_ms()]), embs))
    }

    /// Detection, face choice and alignment points.
    fn locate(&self, img: &impl Pixels, opts: &TemplateOptions) -> Result<Located> {
        let t0 = now_ms();
        let detector = self.detector(opts.detector)?;
        let (detection, faces_seen) = if opts.selection == Selection::Strongest && opts.min_score <= 0.0 {
            (detector.strongest(img)?, 1)
        } else {
            let dets = detector.detect(img, opts.min_score)?;
            let n = dets.len();
            (select(dets, opts.selection, img)?, n)
        };
        let detect_ms = now_ms() - t0;
        self.place(img, detection, faces_seen, opts.alignment, detect_ms)
    }

    /// Alignment points for a chosen face.
    fn place(
        &self,
        img: &impl Pixels,
        detection: Detection,
        faces_seen: usize,
        alignment: Alignment,
        detect_ms: f64,
    ) -> Result<Located> {
        Ok(match alignment {
            Alignment::Reference => Located {
                points: detection.keypoints[..4].iter().map(|p| [p[0] as f64, p[1] as f64]).collect(),
                template: REFERENCE_TEMPLATE.get_or_init(arcface_4),
                detection,
                mesh: None,
                faces_seen,
                detect_ms,
            },
            Alignment::FaceMesh => {
                let mesh = self.landmarker()?.landmarks(img, &detection)?;
                Located {
                    points: mesh.five_points().to_vec(),
                    template: &ARCFACE_5,
                    detection,
                    mesh: Some(mesh),
                    faces_seen,
                    detect_ms,
                }
            }
        })
    }

    /// Reframe an image so that its strongest face is centred in a `width x height` frame
    /// with `eye_distance` pixels between the eyes (test fixtures, fake camera videos).
    pub fn reframe(&self, img: &impl Pixels, eye_distance: f64, width: u32, height: u32) -> Result<RgbImage> {
        let d = self.detect(img, DetectorKind::Front128, MIN_SCORE)?.into_iter().next().ok_or(Error::NoFace)?;
        let (l, r) = (d.keypoints[crate::detect::keypoint::EYE_LEFT], d.keypoints[crate::detect::keypoint::EYE_RIGHT]);
        let s = ((r[0] - l[0]) as f64).hypot((r[1] - l[1]) as f64) / eye_distance; // source px per frame px
        let c = d.center();
        let (cx, cy) = (width as f64 / 2.0, height as f64 / 2.0);
        let inv = crate::geometry::Affine([s, 0.0, c[0] as f64 - s * cx, 0.0, s, c[1] as f64 - s * cy]);
        Ok(crate::geometry::warp(img, &inv, width, height))
    }

    /// Cosine score between the faces of two images (e.g. ID photo vs selfie).
    pub fn compare(
        &self,
        a: &impl Pixels,
        opts_a: &TemplateOptions,
        b: &impl Pixels,
        opts_b: &TemplateOptions,
    ) -> Result<f32> {
        let ta = self.template(a, opts_a)?;
        let tb = self.template(b, opts_b)?;
        Ok(ta.embedding.cosine(&tb.embedding))
    }

    /// Embed an aligned 112x112 face, optionally fused with its mirror image.
    pub fn embed_face(&self, face: &RgbImage, flip: bool) -> Result<Embedding> {
        Ok(self.embed_face_norm(face, flip)?.0)
    }

    fn embed_face_norm(&self, face: &RgbImage, flip: bool) -> Result<(Embedding, f32)> {
        let embedder = self.embedder()?;
        let mirrored;
        let batch: Vec<&RgbImage> = if flip {
            mirrored = face.flip_horizontal();
            vec![face, &mirrored]
        } else {
            vec![face]
        };
        let (mut e, norms) = embedder.embed_with_norms(&batch)?;
        let norm = norms.iter().sum::<f32>() / norms.len().max(1) as f32;
        let embedding = match (e.pop(), e.pop()) {
            (Some(m), Some(p)) => Embedding::mean(&[&p, &m]),
            (Some(p), None) => p,
            _ => return Err(Error::Inference("empty batch".into())),
        };
        Ok((embedding, norm))
    }
}

/// Apply a [`Selection`] policy to the detector's faces.
pub fn select(mut dets: Vec<Detection>, policy: Selection, img: &impl Pixels) -> Result<Detection> {
    match (dets.len(), policy) {
        (0, _) => Err(Error::NoFace),
        (1, _) => Ok(dets.remove(0)),
        (count, Selection::Single) => Err(Error::MultipleFaces { count }),
        (_, Selection::Strongest) => Ok(dets.remove(0)),
        (_, Selection::Largest) => {
            let area = |d: &Detection| d.width() * d.height();
            let best = (0..dets.len()).max_by(|&a, &b| area(&dets[a]).total_cmp(&area(&dets[b]))).unwrap_or(0);
            Ok(dets.swap_remove(best))
        }
        (_, Selection::Central) => {
            let c = [img.width() as f32 / 2.0, img.height() as f32 / 2.0];
            let dist = |d: &Detection| {
                let m = d.center();
                // distance from the centre in units of the face's own size, so a big face
                // slightly off-centre beats a small one closer to it
                (m[0] - c[0]).hypot(m[1] - c[1]) / d.width().max(d.height()).max(1.0)
            };
            let best = (0..dets.len()).min_by(|&a, &b| dist(&dets[a]).total_cmp(&dist(&dets[b]))).unwrap_or(0);
            Ok(dets.swap_remove(best))
        }
    }
}
