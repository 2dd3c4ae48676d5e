//! Verification metrics under the LFW protocol: k-fold accuracy with the threshold chosen on
//! the other folds, EER, and TAR at fixed FAR. Pure functions of (fold, same, score).

use serde::Serialize;

/// One scored pair.
#[derive(Debug, Clone, Copy)]
pub struct ScoredPair {
    pub fold: u32,
    pub same: bool,
    pub score: f64,
}

/// Accuracy-maximising threshold over `pairs` (midpoint between neighbouring scores).
pub fn best_threshold(pairs: &[&ScoredPair]) -> f64 {
    let mut s: Vec<(f64, bool)> = pairs.iter().map(|p| (p.score, p.same)).collect();
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Accept when score > t. Start with t below everything: all accepted.
    let mut correct = s.iter().filter(|p| p.1).count() as i64;
    let (mut best, mut best_t) = (correct, s.first().map_or(0.0, |p| p.0 - 1e-6));
    for i in 0..s.len() {
        // move threshold just above s[i]: pair i becomes rejected
        correct += if s[i].1 { -1 } else { 1 };
        let t = if i + 1 < s.len() { (s[i].0 + s[i + 1].0) / 2.0 } else { s[i].0 + 1e-6 };
        if i + 1 < s.len() && s[i + 1].0 == s[i].0 {
            continue; // ties: only cut between distinct scores
        }
        if correct > best {
            best = correct;
            best_t = t;
        }
    }
    best_t
}

fn accuracy(pairs: &[&ScoredPair], t: f64) -> f64 {
    let ok = pairs.iter().filter(|p| (p.score > t) == p.same).count();
    ok as f64 / pairs.len().max(1) as f64
}

/// Lowest threshold whose false-accept rate over the impostor pairs is at most `far`
/// (accept = score > threshold), and the genuine accept rate there.
pub fn tar_at_far(pairs: &[ScoredPair], far: f64) -> (f64, f64) {
    let mut impostor: Vec<f64> = pairs.iter().filter(|p| !p.same).map(|p| p.score).collect();
    impostor.sort_by(|a, b| b.total_cmp(a)); // descending
    let allowed = (far * impostor.len() as f64).floor() as usize;
    let t = impostor.get(allowed).copied().unwrap_or(f64::NEG_INFINITY);
    let genuine: Vec<f64> = pairs.iter().filter(|p| p.same).map(|p| p.score).collect();
    let tar = genuine.iter().filter(|&&s| s > t).count() as f64 / genuine.len().max(1) as f64;
    (tar, t)
}

/// Equal error rate: where false accepts and false rejects balance (linear search).
pub fn eer(pairs: &[ScoredPair]) -> f64 {
    let mut scores: Vec<f64> = pairs.iter().map(|p| p.score).collect();
    scores.sort_by(|a, b| a.total_cmp(b));
    let g = pairs.iter().filter(|p| p.same).count().max(1) as f64;
    let i = pairs.iter().filter(|p| !p.same).count().max(1) as f64;
    let mut best = (f64::INFINITY, 1.0);
    for &t in &scores {
        let frr = pairs.iter().filter(|p| p.same && p.score < t).count() as f64 / g;
        let far = pairs.iter().filter(|p| !p.same && p.score >= t).count() as f64 / i;
        let gap = (frr - far).abs();
        if gap < best.0 {
            best = (gap, (frr + far) / 2.0);
        }
    }
    best.1
}

/// The LFW-protocol summary.
#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    pub pairs: usize,
    /// Mean over folds of the accuracy at the threshold chosen on the other folds.
    pub accuracy: f64,
    pub accuracy_std: f64,
    pub eer: f64,
    #[serde(rename = "tar_at_far_1e-2")]
    pub tar_at_far_1e_2: f64,
    #[serde(rename = "tar_at_far_1e-3")]
    pub tar_at_far_1e_3: f64,
    /// Mean of the per-fold accuracy thresholds.
    pub threshold: f64,
    /// Score threshold at FAR 0.1 % over all pairs.
    #[serde(rename = "threshold_at_far_1e-3")]
    pub threshold_at_far_1e_3: f64,
    pub fold_accuracy: Vec<f64>,
}

pub fn metrics(pairs: &[ScoredPair]) -> Metrics {
    let mut folds: Vec<u32> = pairs.iter().map(|p| p.fold).collect();
    folds.sort();
    folds.dedup();
    let mut accs = Vec::new();
    let mut ths = Vec::new();
    for &f in &folds {
        let train: Vec<&ScoredPair> = pairs.iter().filter(|p| p.fold != f).collect();
        let test: Vec<&ScoredPair> = pairs.iter().filter(|p| p.fold == f).collect();
        let t = best_threshold(if folds.len() > 1 { &train } else { &test });
        ths.push(t);
        accs.push(accuracy(&test, t));
    }
    let n = accs.len().max(1) as f64;
    let mean = accs.iter().sum::<f64>() / n;
    let std = (accs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / n).sqrt();
    let (tar2, _) = tar_at_far(pairs, 1e-2);
    let (tar3, t3) = tar_at_far(pairs, 1e-3);
    Metrics {
        pairs: pairs.len(),
        accuracy: mean,
        accuracy_std: std,
        eer: eer(pairs),
        tar_at_far_1e_2: tar2,
        tar_at_far_1e_3: tar3,
        threshold: ths.iter().sum::<f64>() / ths.len().max(1) as f64,
        threshold_at_far_1e_3: t3,
        fold_accuracy: accs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(fold: u32, same: bool, score: f64) -> ScoredPair {
        ScoredPair { fold, same, score }
    }

    #[test]
    fn separable_scores_are_perfect() {
        let mut p = vec![];
        for f in 1..=3 {
            for i in 0..10 {
                p.push(pair(f, true, 0.6 + i as f64 * 0.01));
                p.push(pair(f, false, 0.1 + i as f64 * 0.01));
            }
        }
        let m = metrics(&p);
        assert_eq!(m.accuracy, 1.0);
        assert_eq!(m.eer, 0.0);
        assert_eq!(m.tar_at_far_1e_3, 1.0);
        assert!(m.threshold > 0.19 && m.threshold < 0.6);
    }

    #[test]
    fn one_overlap_costs_what_it_should() {
        // 4 genuine, 4 impostor; one impostor scores above every genuine pair
        let p = vec![
            pair(1, true, 0.9),
            pair(1, true, 0.8),
            pair(1, true, 0.7),
            pair(1, true, 0.6),
            pair(1, false, 0.1),
            pair(1, false, 0.2),
            pair(1, false, 0.3),
            pair(1, false, 0.95),
        ];
        let (tar, t) = tar_at_far(&p, 0.0);
        assert_eq!(t, 0.95);
        assert_eq!(tar, 0.0);
        let (tar, _) = tar_at_far(&p, 0.25);
        assert_eq!(tar, 1.0);
        assert!((eer(&p) - 0.25).abs() < 1e-9);
        let refs: Vec<&ScoredPair> = p.iter().collect();
        assert!((accuracy(&refs, best_threshold(&refs)) - 7.0 / 8.0).abs() < 1e-9);
    }
}
