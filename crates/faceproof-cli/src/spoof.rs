//! `faceproof spoof`: the passive anti-spoofing score of images, and its evaluation on a
//! labelled set of live and attack frames (ISO/IEC 30107-3 style: APCER, BPCER, ROC, and the
//! threshold chosen by leave-one-subject-out cross-validation).

use faceproof::antispoof::{AntiSpoof, SpoofScore, DEFAULT_THRESHOLD};
use faceproof::clock::now_ms;
use faceproof::detect::{Detection, Detector, DetectorKind, MIN_SCORE};
use faceproof::image::RgbImage;
use faceproof::pipeline::{files, Precision};
use faceproof::Error;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub(crate) struct SpoofArgs {
    /// Images to score (the largest face of each, as the capture does)
    images: Vec<PathBuf>,
    /// Labels file: tab-separated `label file` (label `live` or an attack name such as `print`;
    /// a header line is skipped). The subject is the file's second path component
    /// (`live/0001/...`). Prints APCER, BPCER, ROC and the cross-validated threshold.
    #[arg(long, requires = "root", conflicts_with = "bona_fide_dir")]
    labels: Option<PathBuf>,
    /// Directory of bona fide images only (every .jpg/.png under it): BPCER at the threshold
    #[arg(long)]
    bona_fide_dir: Option<PathBuf>,
    /// Directory the labels file's paths are relative to
    #[arg(long)]
    root: Option<PathBuf>,
    /// Live score below which a face is a presentation attack
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    threshold: f32,
    /// Cross-validation rule: the lowest threshold whose training APCER is at most this
    #[arg(long, default_value_t = 0.01)]
    max_apcer: f64,
    /// Write one JSON line per image: file, label, subject, box, probabilities, live score
    #[arg(long)]
    scores: Option<PathBuf>,
    /// One JSON object instead of text
    #[arg(long)]
    json: bool,
    /// Directory of the ONNX models (the detector and the two anti-spoofing models)
    /// [default: the repository's models/]
    #[arg(long, env = "FACEPROOF_MODELS")]
    models: Option<PathBuf>,
    /// Run the int8-weight 1x1 convolutions in int8 (the models/web files)
    #[arg(long)]
    int8: bool,
}

struct Row {
    file: String,
    label: String,
    subject: String,
}

/// One image's outcome: its score, or why there is none.
struct Scored {
    row: Row,
    face: Option<(Detection, SpoofScore)>,
    detect_ms: f64,
    spoof_ms: f64,
}

fn read_labels(path: &Path) -> Result<Vec<Row>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::InvalidArgument(format!("{}: {e}", path.display())))?;
    let mut rows = vec![];
    for (n, line) in text.lines().enumerate() {
        let cols: Vec<&str> = line.split('\t').collect();
        if (n == 0 && cols.first() == Some(&"label")) || line.trim().is_empty() {
            continue;
        }
        let bad = || Error::InvalidArgument(format!("{}:{}: expected label, file", path.display(), n + 1));
        let (label, file) = match cols[..] {
            [l, f, ..] => (l, f),
            _ => return Err(bad()),
        };
        let subject = file.split('/').nth(1).ok_or_else(bad)?.to_string();
        rows.push(Row { file: file.into(), label: label.into(), subject });
    }
    Ok(rows)
}

fn walk(dir: &Path, root: &Path, out: &mut Vec<Row>) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::InvalidArgument(format!("{}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, root, out)?;
        } else if p.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "jpg" | "jpeg" | "png")) {
            let rel = p.strip_prefix(root).unwrap_or(&p).display().to_string();
            let subject = rel.split('/').next().unwrap_or("-").to_string();
            out.push(Row { file: rel, label: "live".into(), subject });
        }
    }
    Ok(())
}

pub(crate) fn run(a: &SpoofArgs) -> Result<(), Error> {
    let dir = a.models.clone().unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"));
    let read =
        |n: &str| std::fs::read(dir.join(n)).map_err(|e| Error::ModelLoad(format!("{}: {e}", dir.join(n).display())));
    let detector = Detector::load(DetectorKind::Front128, read(files::DETECTOR_FRONT)?)?;
    let precision = if a.int8 { Precision::Int8Pointwise } else { Precision::Float32 };
    let spoof = AntiSpoof::from_dir(&dir, precision)?;

    let (rows, root) = if let (Some(labels), Some(root)) = (&a.labels, &a.root) {
        (read_labels(labels)?, root.clone())
    } else if let Some(d) = &a.bona_fide_dir {
        let mut rows = vec![];
        walk(d, d, &mut rows)?;
        (rows, d.clone())
    } else {
        let rows = a
            .images
            .iter()
            .map(|p| Row { file: p.display().to_string(), label: "-".into(), subject: "-".into() })
            .collect();
        (rows, PathBuf::new())
    };
    if rows.is_empty() {
        return Err(Error::InvalidArgument(
            "no images: give IMAGE..., --labels with --root, or --bona-fide-dir".into(),
        ));
    }

    let mut out =
        a.scores.as_ref().map(std::fs::File::create).transpose().map_err(|e| Error::InvalidArgument(e.to_string()))?;
    let mut scored = Vec::with_capacity(rows.len());
    for (i, row) in rows.into_iter().enumerate() {
        let img = RgbImage::open(root.join(&row.file))?;
        let t0 = now_ms();
        let faces = detector.detect(&img, MIN_SCORE)?;
        let largest = faces.into_iter().max_by(|x, y| (x.width() * x.height()).total_cmp(&(y.width() * y.height())));
        let t1 = now_ms();
        let face = match largest {
            Some(d) => Some((spoof.score(&img, &d)?, d)),
            None => None,
        };
        let t2 = now_ms();
        if let Some(f) = out.as_mut() {
            use std::io::Write;
            let mut j = serde_json::json!({"file": row.file, "label": row.label, "subject": row.subject});
            match &face {
                Some((s, d)) => {
                    j["box"] = serde_json::json!(d.bbox);
                    j["p"] = serde_json::json!(s.probabilities);
                    j["score"] = serde_json::json!(s.live);
                }
                None => j["error"] = "NO_FACE".into(),
            }
            writeln!(f, "{j}").map_err(|e| Error::InvalidArgument(e.to_string()))?;
        }
        if a.labels.is_none() && a.bona_fide_dir.is_none() && !a.json {
            match &face {
                Some((s, _)) => println!(
                    "{}: live {:.4} ({})",
                    row.file,
                    s.live,
                    if s.is_live(a.threshold) { "LIVE" } else { "PRESENTATION ATTACK" }
                ),
                None => println!("{}: no face", row.file),
            }
        }
        if !a.json && (i + 1) % 500 == 0 {
            eprintln!("  {} images", i + 1);
        }
        scored.push(Scored { row, face: face.map(|(s, d)| (d, s)), detect_ms: t1 - t0, spoof_ms: t2 - t1 });
    }
    let report = report(&scored, a.threshold as f64, a.max_apcer);
    if a.json {
        println!("{report}");
    } else if a.labels.is_some() || a.bona_fide_dir.is_some() {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    }
    Ok(())
}

/// APCER (attacks accepted: score >= t) and BPCER (bona fide rejected: score < t).
fn rates(live: &[f64], attack: &[f64], t: f64) -> (f64, f64) {
    let frac = |v: &[f64], f: &dyn Fn(f64) -> bool| v.iter().filter(|&&s| f(s)).count() as f64 / v.len().max(1) as f64;
    (frac(attack, &|s| s >= t), frac(live, &|s| s < t))
}

/// The lowest threshold (among the scores, and 1) whose APCER is at most `max_apcer`.
fn threshold_at_apcer(attack: &[f64], max_apcer: f64) -> f64 {
    let mut s: Vec<f64> = attack.to_vec();
    s.sort_by(|a, b| b.total_cmp(a)); // descending
    let allowed = (max_apcer * s.len() as f64).floor() as usize;
    // accepting exactly the `allowed` highest: the threshold just above the next one
    match s.get(allowed) {
        Some(&next) => next_up(next),
        None => 0.0,
    }
}

fn next_up(x: f64) -> f64 {
    // the smallest f32 above x: scores are f32, so nothing lies between
    let f = x as f32;
    f32::from_bits(if f >= 0.0 { f.to_bits() + 1 } else { f.to_bits() - 1 }) as f64
}

/// Area under the ROC curve: P(live score > attack score), ties half.
fn auc(live: &[f64], attack: &[f64]) -> f64 {
    let mut a = attack.to_vec();
    a.sort_by(|x, y| x.total_cmp(y));
    let mut sum = 0.0;
    for &l in live {
        let below = a.partition_point(|&x| x < l);
        let ties = a.partition_point(|&x| x <= l) - below;
        sum += below as f64 + ties as f64 / 2.0;
    }
    sum / (live.len().max(1) * a.len().max(1)) as f64
}

fn report(scored: &[Scored], threshold: f64, max_apcer: f64) -> serde_json::Value {
    let with: Vec<(&Row, f64)> =
        scored.iter().filter_map(|s| s.face.as_ref().map(|(_, sc)| (&s.row, sc.live as f64))).collect();
    let is_live = |r: &Row| r.label == "live";
    let live: Vec<f64> = with.iter().filter(|(r, _)| is_live(r)).map(|x| x.1).collect();
    let attack: Vec<f64> = with.iter().filter(|(r, _)| !is_live(r)).map(|x| x.1).collect();
    let no_face =
        |live_label: bool| scored.iter().filter(|s| s.face.is_none() && is_live(&s.row) == live_label).count();
    let mut ms: Vec<(f64, f64)> =
        scored.iter().filter(|s| s.face.is_some()).map(|s| (s.detect_ms, s.spoof_ms)).collect();
    let n = ms.len().max(1) as f64;
    let mean = (ms.iter().map(|m| m.0).sum::<f64>() / n, ms.iter().map(|m| m.1).sum::<f64>() / n);
    ms.sort_by(|a, b| a.1.total_cmp(&b.1));
    let median_spoof = ms.get(ms.len() / 2).map_or(0.0, |m| m.1);
    let (apcer, bpcer) = rates(&live, &attack, threshold);
    let mut j = serde_json::json!({
        "threshold": threshold,
        "bona_fide": live.len(), "attack": attack.len(),
        "no_face": {"bona_fide": no_face(true), "attack": no_face(false)},
        "bpcer": bpcer, "bona_fide_rejected": live.iter().filter(|&&s| s < threshold).count(),
        "ms_per_frame": {"detect_mean": mean.0, "antispoof_mean": mean.1, "antispoof_median": median_spoof},
    });
    if attack.is_empty() {
        return j;
    }
    j["apcer"] = apcer.into();
    j["attack_accepted"] = attack.iter().filter(|&&s| s >= threshold).count().into();
    j["auc"] = auc(&live, &attack).into();
    let roc: Vec<serde_json::Value> = [0.001, 0.003, 0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9]
        .iter()
        .map(|&t| {
            let (a, b) = rates(&live, &attack, t);
            serde_json::json!({"threshold": t, "apcer": a, "bpcer": b})
        })
        .collect();
    j["roc"] = roc.into();
    // leave one subject out: the threshold from the other subjects, applied to the held-out one
    let mut subjects: Vec<&str> = with.iter().map(|(r, _)| r.subject.as_str()).collect();
    subjects.sort();
    subjects.dedup();
    let (mut acc, mut att, mut rej, mut bf) = (0usize, 0usize, 0usize, 0usize);
    let mut per = serde_json::Map::new();
    for s in &subjects {
        let train_attack: Vec<f64> = with.iter().filter(|(r, _)| r.subject != *s && !is_live(r)).map(|x| x.1).collect();
        let t = threshold_at_apcer(&train_attack, max_apcer);
        let test: Vec<&(&Row, f64)> = with.iter().filter(|(r, _)| r.subject == *s).collect();
        type Frames<'a> = Vec<&'a (&'a Row, f64)>;
        let (l, a): (Frames, Frames) = test.iter().partition(|(r, _)| is_live(r));
        let (aa, lr) = (a.iter().filter(|x| x.1 >= t).count(), l.iter().filter(|x| x.1 < t).count());
        acc += aa;
        att += a.len();
        rej += lr;
        bf += l.len();
        per.insert(
            s.to_string(),
            serde_json::json!({"threshold": t, "attack_accepted": aa, "attack": a.len(), "bona_fide_rejected": lr, "bona_fide": l.len()}),
        );
    }
    j["cross_validation"] = serde_json::json!({
        "rule": format!("lowest threshold with training APCER <= {max_apcer}"),
        "held_out_apcer": acc as f64 / att.max(1) as f64, "held_out_bpcer": rej as f64 / bf.max(1) as f64,
        "attack_accepted": acc, "bona_fide_rejected": rej,
        "threshold_all_subjects": threshold_at_apcer(&attack, max_apcer),
        "per_subject": per,
    });
    j
}
