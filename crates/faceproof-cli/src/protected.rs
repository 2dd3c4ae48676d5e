//! Evaluation of the protected scheme on a pairs protocol: does the face-bound key open for
//! genuine pairs and stay shut for impostors, how does it trade off against its parameters,
//! how unlinkable are codes across keys, and what is an attacker's work.
//!
//! Decisions come from the real construction (`faceproof_protocol`); the parameter sweep uses
//! [`simulate_open`], which takes the same reliable bits and lock layouts and replaces each
//! lock's hash by the equivalent bit comparison (tested equal to the real thing).

use faceproof_protocol::eval::{hamming, lock_positions, select_reliable, transform_for, Projection, Transform};
use faceproof_protocol::{Embedding, LockParams};

/// Dimension of the embeddings under evaluation.
pub const DIM: usize = faceproof::embed::DIM;

/// One image's embeddings: the views used when it enrolls, and the live probes used when it
/// verifies.
pub struct ImageViews {
    pub enroll: Vec<Embedding>,
    pub probe: Vec<Embedding>,
}

/// The lock layout as bit masks, for fast simulation.
pub struct SimulatedLocks {
    enrolled: Vec<u64>,
    masks: Vec<Vec<u64>>,
}

pub fn pack(bits: impl Iterator<Item = (usize, bool)>, n: usize) -> Vec<u64> {
    let mut w = vec![0u64; n.div_ceil(64)];
    for (i, b) in bits {
        if b {
            w[i / 64] |= 1 << (i % 64);
        }
    }
    w
}

/// Build the locks' bit masks exactly as the face-bound key chooses them.
pub fn simulate_lock(views: &[Projection], params: LockParams, seed: &[u8; 32]) -> SimulatedLocks {
    let n = params.n_bits as usize;
    let (reliable, values) = select_reliable(views, params.reliable as usize).expect("valid views"); // ok: evaluation harness, constant valid inputs
    let enrolled = pack(reliable.iter().zip(&values).map(|(&p, &v)| (p as usize, v)), n);
    let masks = (0..params.locks)
        .map(|j| pack(lock_positions(seed, j, &reliable, params.k as usize).into_iter().map(|p| (p as usize, true)), n))
        .collect();
    SimulatedLocks { enrolled, masks }
}

/// Does any probe agree with the enrollment on every bit of some lock?
pub fn simulate_open(locks: &SimulatedLocks, probes: &[Projection]) -> bool {
    probes.iter().any(|p| {
        let code = p.code();
        let diff: Vec<u64> = code.iter().zip(&locks.enrolled).map(|(a, b)| a ^ b).collect();
        locks.masks.iter().any(|m| m.iter().zip(&diff).all(|(m, d)| m & d == 0))
    })
}

/// Project embeddings with a transform.
pub fn project(t: &Transform, e: &[Embedding]) -> Vec<Projection> {
    e.iter().map(|x| t.project(x).expect("embeddings of the transform's dimension")).collect()
    // ok: evaluation harness, one embedder
}

/// The transform of pair `i`'s device secret (salted by purpose).
pub fn pair_transform(i: usize, salt: &str, n_bits: usize) -> Transform {
    transform_for(&pair_secret(i, salt), "lfw.eval", 1, n_bits, DIM).expect("valid rp id")
    // ok: evaluation harness, constant valid inputs
}

/// Unlinkability D<->sys (Gomez-Barrero et al., IEEE TIFS 2018): from scores of mated
/// (same subject, two keys) and non-mated comparisons; 0 = fully unlinkable, 1 = fully
/// linkable. Densities by Gaussian kernels (Silverman bandwidth) on a 512-point grid; equal
/// priors (omega = 1).
pub fn dsys(mated: &[f64], nonmated: &[f64]) -> f64 {
    if mated.is_empty() || nonmated.is_empty() {
        return f64::NAN;
    }
    let lo = mated.iter().chain(nonmated).cloned().fold(f64::INFINITY, f64::min);
    let hi = mated.iter().chain(nonmated).cloned().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = (lo - 0.05 * (hi - lo + 1e-9), hi + 0.05 * (hi - lo + 1e-9));
    let kde = |xs: &[f64], s: f64| {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt().max(1e-9);
        let h = 1.06 * sd * n.powf(-0.2);
        xs.iter().map(|x| (-0.5 * ((s - x) / h).powi(2)).exp()).sum::<f64>()
            / (n * h * (2.0 * std::f64::consts::PI).sqrt())
    };
    let steps = 512;
    let ds = (hi - lo) / steps as f64;
    let mut total = 0.0;
    for i in 0..steps {
        let s = lo + (i as f64 + 0.5) * ds;
        let pm = kde(mated, s);
        let pn = kde(nonmated, s);
        let d = if pn <= 0.0 {
            if pm > 0.0 {
                1.0
            } else {
                0.0
            }
        } else {
            let lr = pm / pn;
            if lr > 1.0 {
                2.0 * lr / (1.0 + lr) - 1.0
            } else {
                0.0
            }
        };
        total += pm * d * ds;
    }
    total
}

/// Daugman's degrees of freedom of binary codes: `p(1-p)/sigma^2` over the normalised
/// Hamming distances between codes of different people (independent bits would give n).
pub fn degrees_of_freedom(impostor_fractions: &[f64]) -> f64 {
    let n = impostor_fractions.len() as f64;
    let p = impostor_fractions.iter().sum::<f64>() / n;
    let var = impostor_fractions.iter().map(|x| (x - p).powi(2)).sum::<f64>() / n;
    p * (1.0 - p) / var.max(1e-12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsys_is_zero_for_equal_and_one_for_separate_distributions() {
        let a: Vec<f64> = (0..2000).map(|i| ((i * 7919) % 1000) as f64 / 1000.0).collect();
        let b: Vec<f64> = (0..2000).map(|i| ((i * 104729) % 1000) as f64 / 1000.0).collect();
        assert!(dsys(&a, &b) < 0.05, "{}", dsys(&a, &b));
        let far: Vec<f64> = a.iter().map(|x| x + 10.0).collect();
        assert!(dsys(&far, &b) > 0.95);
    }

    #[test]
    fn independent_bits_have_full_degrees_of_freedom() {
        // binomial(n=256, 0.5)/256 has variance 0.25/256 -> 256 degrees of freedom
        let mut s = 1u64;
        let fr: Vec<f64> = (0..4000)
            .map(|_| {
                (0..256)
                    .filter(|_| {
                        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        (s >> 33) & 1 == 1
                    })
                    .count() as f64
                    / 256.0
            })
            .collect();
        let dof = degrees_of_freedom(&fr);
        assert!((200.0..320.0).contains(&dof), "{dof}");
    }
}

// ---------------------------------------------------------------------------------------------
// The protocol run.

use crate::metrics::{tar_at_far, ScoredPair};
use faceproof_protocol::testing::seeded_rng;
use faceproof_protocol::{DeviceSecret, EnrollmentRequest, Error, LoginRequest, OprfKey, MAX_PROBE_VIEWS};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A pair to evaluate: indices into the image list.
#[derive(Debug, Clone, Copy)]
pub struct PairIdx {
    pub fold: u32,
    pub same: bool,
    pub a: usize,
    pub b: usize,
}

/// How many live views a login sends: the flip-fused template of the live frame, then its
/// jittered views (which stand in for several live frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProbeMode(pub usize);

/// One point of the trade-off curve.
#[derive(Debug, Clone, Serialize)]
pub struct CurvePoint {
    pub n_bits: u16,
    pub reliable: u16,
    pub k: u8,
    pub locks: u16,
    pub probes: ProbeMode,
    pub tar: f64,
    pub far: f64,
    /// Mean over draws.
    pub false_accepts: f64,
    /// Blinded elements a login sends (distinct lock inputs of its views; draw 0, a sample
    /// of pairs).
    pub login_elements: f64,
}

/// The device secret of pair `i` (deterministic, so runs are repeatable).
pub fn pair_secret(i: usize, salt: &str) -> DeviceSecret {
    let h: [u8; 32] =
        Sha256::new().chain_update(salt.as_bytes()).chain_update((i as u64).to_le_bytes()).finalize().into();
    DeviceSecret::from_bytes(&h).expect("32 bytes") // ok: evaluation harness, constant valid inputs
}

pub fn probes_of(v: &ImageViews, mode: ProbeMode) -> &[Embedding] {
    &v.probe[..mode.0.min(v.probe.len())]
}

/// The seed of pair `i`'s lock layout in draw `r` (draw 0 is what [`real_run`] uses).
pub fn lock_seed(i: usize, r: usize) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"lfw-lock-seed")
        .chain_update((i as u64).to_le_bytes())
        .chain_update((r as u64).to_le_bytes())
        .finalize()
        .into()
}

/// The sweep's grid: every combination of these.
pub struct Grid {
    /// (n, m) pairs.
    pub codes: Vec<(u16, u16)>,
    pub ks: Vec<u8>,
    pub locks: Vec<u16>,
    pub modes: Vec<ProbeMode>,
}

impl Grid {
    pub fn points(&self) -> Vec<(LockParams, ProbeMode)> {
        let mut out = vec![];
        for &(n, m) in &self.codes {
            for &k in &self.ks {
                for &l in &self.locks {
                    for &mode in &self.modes {
                        out.push((LockParams { n_bits: n, reliable: m, k, locks: l }, mode));
                    }
                }
            }
        }
        out
    }
}

/// Simulated decisions: `[grid point][draw][pair]`, for `draws` independent lock layouts per
/// pair (the layout is random, so rates are averaged over draws). Parallel over 2 threads.
///
/// A lock opens for a probe when the probe agrees with the enrollment on the lock's first k
/// positions; with `f` = the index of the first disagreeing position, it opens for every
/// k <= f. So one pass with the largest k and L decides every grid point (a partial
/// Fisher-Yates shuffle's first k draws do not depend on k).
pub fn sweep(images: &[ImageViews], pairs: &[PairIdx], grid: &Grid, draws: usize) -> Vec<Vec<Vec<bool>>> {
    let points = grid.points();
    let k_max = *grid.ks.iter().max().unwrap_or(&0) as usize;
    let l_max = *grid.locks.iter().max().unwrap_or(&0);
    let work = |range: std::ops::Range<usize>| -> Vec<Vec<Vec<bool>>> {
        range
            .map(|i| {
                let p = pairs[i];
                let mut out = vec![vec![false; draws]; points.len()];
                let mut current_n = 0;
                let mut projections = (vec![], vec![]);
                for &(n, m) in &grid.codes {
                    if n != current_n {
                        let t = pair_transform(i, "lfw-protected", n as usize);
                        projections = (project(&t, &images[p.a].enroll), project(&t, &images[p.b].probe));
                        current_n = n;
                    }
                    let (enroll, probes) = (&projections.0, &projections.1);
                    let (reliable, values) = select_reliable(enroll, m as usize).expect("views"); // ok: evaluation harness, constant valid inputs
                    let mut enrolled = vec![false; n as usize];
                    for (&q, &v) in reliable.iter().zip(&values) {
                        enrolled[q as usize] = v;
                    }
                    let disagree: Vec<Vec<bool>> =
                        probes.iter().map(|pr| (0..n as usize).map(|q| pr.bit(q) != enrolled[q]).collect()).collect();
                    #[allow(clippy::needless_range_loop)] // r is also the lock seed's draw number
                    for r in 0..draws {
                        let seed = lock_seed(i, r);
                        // best[mode][locks idx] = largest first-disagreement index over locks < L
                        let mut first: Vec<Vec<usize>> = vec![vec![0; l_max as usize]; probes.len()];
                        for j in 0..l_max {
                            let pos = lock_positions(&seed, j, &reliable, k_max);
                            for (v, d) in disagree.iter().enumerate() {
                                first[v][j as usize] = pos.iter().position(|&q| d[q as usize]).unwrap_or(k_max);
                            }
                        }
                        for (g, (params, mode)) in points.iter().enumerate() {
                            if (params.n_bits, params.reliable) != (n, m) {
                                continue;
                            }
                            let views = &first[..mode.0.min(first.len())];
                            out[g][r] = views
                                .iter()
                                .any(|f| f[..params.locks as usize].iter().any(|&x| x >= params.k as usize));
                        }
                    }
                }
                out
            })
            .collect()
    };
    let mid = pairs.len() / 2;
    let (first, second) = std::thread::scope(|s| {
        let h = s.spawn(|| work(mid..pairs.len()));
        let first = work(0..mid);
        (first, h.join().expect("worker thread")) // ok: evaluation harness, constant valid inputs
    });
    let rows: Vec<Vec<Vec<bool>>> = first.into_iter().chain(second).collect();
    (0..points.len()).map(|g| (0..draws).map(|r| rows.iter().map(|row| row[g][r]).collect()).collect()).collect()
}

/// Mean blinded elements per login for every grid point (draw 0's layouts, every
/// `stride`-th pair): a lock sends one element per distinct bit pattern its views show. Two
/// views give the same pattern for the lock's first `k` positions when they first differ at
/// or after `k` (the partial shuffle's first `k` draws do not depend on `k`).
pub fn login_elements(images: &[ImageViews], pairs: &[PairIdx], grid: &Grid, stride: usize) -> Vec<f64> {
    let points = grid.points();
    let k_max = *grid.ks.iter().max().unwrap_or(&0) as usize;
    let l_max = *grid.locks.iter().max().unwrap_or(&0);
    let mut sums = vec![0.0; points.len()];
    let mut n = 0.0f64;
    for (i, p) in pairs.iter().enumerate().step_by(stride.max(1)) {
        n += 1.0;
        for &(nb, m) in &grid.codes {
            let t = pair_transform(i, "lfw-protected", nb as usize);
            let probes = project(&t, &images[p.b].probe);
            // the reliable positions come from the enrollment side
            let (reliable, _) = select_reliable(&project(&t, &images[p.a].enroll), m as usize).expect("views"); // ok: evaluation harness
            count_into(&mut sums, &points, (nb, m), &reliable, &probes, &lock_seed(i, 0), k_max, l_max);
        }
    }
    sums.iter().map(|s| s / n.max(1.0)).collect()
}

#[allow(clippy::too_many_arguments)]
fn count_into(
    sums: &mut [f64],
    points: &[(LockParams, ProbeMode)],
    code: (u16, u16),
    reliable: &[u16],
    probes: &[Projection],
    seed: &[u8; 32],
    k_max: usize,
    l_max: u16,
) {
    // first[j][(v, w)] = first lock position where views v and w differ (k_max if none)
    let v_max = probes.len();
    let mut first = vec![vec![k_max; v_max * v_max]; l_max as usize];
    for j in 0..l_max {
        let pos = lock_positions(seed, j, reliable, k_max);
        for v in 0..v_max {
            for w in 0..v {
                first[j as usize][v * v_max + w] =
                    pos.iter().position(|&q| probes[v].bit(q as usize) != probes[w].bit(q as usize)).unwrap_or(k_max);
            }
        }
    }
    for (g, (params, mode)) in points.iter().enumerate() {
        if (params.n_bits, params.reliable) != code {
            continue;
        }
        let views = mode.0.min(v_max);
        let k = params.k as usize;
        let mut total = 0usize;
        for f in first.iter().take(params.locks as usize) {
            total += (0..views).filter(|&v| (0..v).all(|w| f[v * v_max + w] < k)).count();
        }
        sums[g] += total as f64;
    }
}

/// TAR, FAR and false accepts averaged over draws.
pub fn mean_rates(pairs: &[PairIdx], draws: &[Vec<bool>], keep: impl Fn(&PairIdx) -> bool + Copy) -> (f64, f64, f64) {
    let n = draws.len().max(1) as f64;
    draws
        .iter()
        .map(|d| rates(pairs, d, keep))
        .fold((0.0, 0.0, 0.0), |a, r| (a.0 + r.0 / n, a.1 + r.1 / n, a.2 + r.2 as f64 / n))
}

/// TAR, FAR and the number of false accepts of decisions over `pairs` (optionally one fold).
pub fn rates(pairs: &[PairIdx], accept: &[bool], keep: impl Fn(&PairIdx) -> bool) -> (f64, f64, usize) {
    let (mut g, mut ga, mut i, mut ia) = (0, 0, 0, 0);
    for (p, &a) in pairs.iter().zip(accept) {
        if !keep(p) {
            continue;
        }
        if p.same {
            g += 1;
            ga += a as usize;
        } else {
            i += 1;
            ia += a as usize;
        }
    }
    (ga as f64 / g.max(1) as f64, ia as f64 / i.max(1) as f64, ia)
}

/// Cross-validated choice: for each fold, the grid point with the highest mean TAR on the
/// other folds among those whose mean FAR there is at most `max_far`; returns the held-out
/// TAR and FAR (pooled over folds, mean over draws) and the chosen grid index per fold.
pub fn cross_validate(pairs: &[PairIdx], decisions: &[Vec<Vec<bool>>], max_far: f64) -> (f64, f64, Vec<usize>) {
    let mut folds: Vec<u32> = pairs.iter().map(|p| p.fold).collect();
    folds.sort();
    folds.dedup();
    let draws = decisions.first().map_or(0, |d| d.len());
    let mut pooled = vec![vec![false; pairs.len()]; draws];
    let mut chosen = vec![];
    for &f in &folds {
        let train = |g: usize| mean_rates(pairs, &decisions[g], |p| p.fold != f);
        let best = (0..decisions.len())
            .filter(|&g| train(g).1 <= max_far)
            .max_by(|&a, &b| train(a).0.total_cmp(&train(b).0))
            .unwrap_or(0);
        chosen.push(best);
        for (i, p) in pairs.iter().enumerate() {
            if p.fold == f {
                for r in 0..draws {
                    pooled[r][i] = decisions[best][r][i];
                }
            }
        }
    }
    let (tar, far, _) = mean_rates(pairs, &pooled, |_| true);
    (tar, far, chosen)
}

/// Results of the real construction (with the real OPRF) on some of the pairs.
#[derive(Debug, Clone, Serialize)]
pub struct RealRun {
    /// (pair index, accepted)
    pub accept: Vec<(usize, bool)>,
    pub enroll_ms: f64,
    pub verify_ms: f64,
    /// The relying party's part of `verify_ms`: evaluating the login's blinded elements.
    pub server_evaluate_ms: f64,
    /// Blinded elements a login sent (distinct lock inputs of its probes): mean and largest.
    pub login_elements_mean: f64,
    pub login_elements_max: usize,
}

/// Enroll A, verify B, with the real construction (transform, OPRF under a per-pair key, locks,
/// AEAD, key check) on every `stride`-th pair.
pub fn real_run(
    images: &[ImageViews],
    pairs: &[PairIdx],
    params: LockParams,
    mode: ProbeMode,
    stride: usize,
) -> RealRun {
    let mut accept = vec![];
    let (mut enroll_ms, mut verify_ms, mut server_ms) = (0.0, 0.0, 0.0);
    let mut elements = vec![];
    for (i, p) in pairs.iter().enumerate().step_by(stride.max(1)) {
        let secret = pair_secret(i, "lfw-protected");
        let mut rng = seeded_rng(i as u64);
        let key = OprfKey::generate(&mut rng).expect("seeded"); // ok: evaluation harness, constant valid inputs
        let ch = faceproof_protocol::Challenge { rp_id: "lfw.eval".into(), nonce: [7; 32], expires_at: u64::MAX };
        let t0 = faceproof::clock::now_ms();
        let request = EnrollmentRequest::with_lock_seed(
            &mut rng,
            &secret,
            "lfw.eval",
            1,
            MODEL,
            &images[p.a].enroll,
            params,
            lock_seed(i, 0),
        )
        .expect("enroll"); // ok: evaluation harness, constant valid inputs
        let evaluated = key.evaluate(request.blinded()).expect("valid points"); // ok: evaluation harness
        let e = request.finish(&mut rng, &evaluated).expect("enroll"); // ok: evaluation harness
        let t1 = faceproof::clock::now_ms();
        let probes = probes_of(&images[p.b], mode);
        let login = LoginRequest::new(
            &mut rng,
            &secret,
            &e.reference,
            &ch,
            MODEL,
            &probes[..probes.len().min(MAX_PROBE_VIEWS)],
        )
        .expect("login"); // ok: evaluation harness
        elements.push(login.blinded().len());
        let ts = faceproof::clock::now_ms();
        let evaluated = key.evaluate(login.blinded()).expect("valid points"); // ok: evaluation harness
        server_ms += faceproof::clock::now_ms() - ts;
        let opened = match login.finish(&mut rng, &evaluated, [0; 32]) {
            Ok(_) => true,
            Err(Error::FaceMismatch) => false,
            Err(e) => panic!("login failed otherwise: {e}"), // ok: evaluation harness
        };
        let t2 = faceproof::clock::now_ms();
        enroll_ms += t1 - t0;
        verify_ms += t2 - t1;
        accept.push((i, opened));
    }
    let n = accept.len().max(1) as f64;
    RealRun {
        accept,
        enroll_ms: enroll_ms / n,
        verify_ms: verify_ms / n,
        server_evaluate_ms: server_ms / n,
        login_elements_mean: elements.iter().sum::<usize>() as f64 / n,
        login_elements_max: elements.iter().copied().max().unwrap_or(0),
    }
}

/// The embedder name the evaluation enrolls under.
pub const MODEL: &str = faceproof::embed::MODEL_NAME;

/// Cosine TAR at (at most) the given FAR, from the unprotected scores.
pub fn unprotected_tar_at(scored: &[ScoredPair], far: f64) -> f64 {
    tar_at_far(scored, far).0
}

/// Similarity of two full codes: 1 - normalised Hamming distance.
pub fn code_similarity(a: &Projection, b: &Projection) -> f64 {
    let (ca, cb) = (a.code(), b.code());
    1.0 - hamming(&ca, &cb) as f64 / a.0.len() as f64
}

/// The dictionary attack over a whole grid (an attacker holding the device secret, the
/// reference and, here, every OPRF output: each attempt is one login). Each of `refs` (pair
/// index for its keys, enrolled image) enrolls; every image of another person (`person[j]`
/// differs) is one attempt with its probe views. Returns `[grid point][reference]` = locks
/// opened (attempts that opened the key) and the attempts per reference. Layouts as in
/// [`sweep`] (draw 0); references run on 2 threads.
///
/// Also returns `[grid point][reference]` = the chance that one batch of crafted lock inputs
/// opens the key when each of its `locks x views` elements is the pattern another person's
/// face shows at that lock (a different face for every element: the attacker holding the
/// device secret and the reference can mix faces lock by lock, which a face of one person
/// cannot): 1 - prod over locks of (1 - q_lock)^views, with q_lock the share of the other
/// people's faces (first view) that agree with the enrollment on the lock's k positions.
pub fn dictionary_sweep(
    images: &[ImageViews],
    refs: &[(usize, usize)],
    person: &[u32],
    grid: &Grid,
) -> (Vec<Vec<usize>>, Vec<usize>, Vec<Vec<f64>>) {
    let points = grid.points();
    let k_max = *grid.ks.iter().max().unwrap_or(&0) as usize;
    let l_max = *grid.locks.iter().max().unwrap_or(&0);
    let v_max = grid.modes.iter().map(|m| m.0).max().unwrap_or(1);
    let work = |refs: &[(usize, usize)]| -> Vec<(Vec<usize>, usize, Vec<f64>)> {
        refs.iter()
            .map(|&(i, a)| {
                let mut opened = vec![0usize; points.len()];
                let mut tried = 0usize;
                // agree[code][lock][k index]: faces agreeing with the enrollment on that lock
                let mut agree = vec![vec![vec![0u32; grid.ks.len()]; l_max as usize]; grid.codes.len()];
                // per code: the transform, the enrolled bits, every lock's positions
                let layouts: Vec<_> = grid
                    .codes
                    .iter()
                    .map(|&(n, m)| {
                        let t = pair_transform(i, "dictionary", n as usize);
                        let (reliable, values) =
                            select_reliable(&project(&t, &images[a].enroll), m as usize).expect("views"); // ok: evaluation harness
                        let mut enrolled = vec![false; n as usize];
                        for (&q, &v) in reliable.iter().zip(&values) {
                            enrolled[q as usize] = v;
                        }
                        let seed = lock_seed(i, 0);
                        let pos: Vec<Vec<u16>> =
                            (0..l_max).map(|j| lock_positions(&seed, j, &reliable, k_max)).collect();
                        (t, enrolled, pos)
                    })
                    .collect();
                for (j, img) in images.iter().enumerate() {
                    if person[j] == person[a] {
                        continue;
                    }
                    tried += 1;
                    for (c, &(n, m)) in grid.codes.iter().enumerate() {
                        let (t, enrolled, pos) = &layouts[c];
                        let probes = project(t, &img.probe[..v_max.min(img.probe.len())]);
                        let first: Vec<Vec<usize>> = probes
                            .iter()
                            .map(|pr| {
                                pos.iter()
                                    .map(|p| {
                                        p.iter()
                                            .position(|&q| pr.bit(q as usize) != enrolled[q as usize])
                                            .unwrap_or(k_max)
                                    })
                                    .collect()
                            })
                            .collect();
                        for (l, &f) in first[0].iter().enumerate() {
                            for (ki, &k) in grid.ks.iter().enumerate() {
                                agree[c][l][ki] += (f >= k as usize) as u32;
                            }
                        }
                        for (g, (params, mode)) in points.iter().enumerate() {
                            if (params.n_bits, params.reliable) != (n, m) {
                                continue;
                            }
                            let views = &first[..mode.0.min(first.len())];
                            if views.iter().any(|f| f[..params.locks as usize].iter().any(|&x| x >= params.k as usize))
                            {
                                opened[g] += 1;
                            }
                        }
                    }
                }
                let crafted = points
                    .iter()
                    .map(|(params, mode)| {
                        let c = grid.codes.iter().position(|&x| x == (params.n_bits, params.reliable)).unwrap_or(0);
                        let ki = grid.ks.iter().position(|&k| k == params.k).unwrap_or(0);
                        let log_miss: f64 = agree[c][..params.locks as usize]
                            .iter()
                            .map(|a| (1.0 - a[ki] as f64 / tried.max(1) as f64).ln() * mode.0 as f64)
                            .sum();
                        1.0 - log_miss.exp()
                    })
                    .collect();
                (opened, tried, crafted)
            })
            .collect()
    };
    let mid = refs.len() / 2;
    let (first, second) = std::thread::scope(|s| {
        let h = s.spawn(|| work(&refs[mid..]));
        let first = work(&refs[..mid]);
        (first, h.join().expect("worker thread")) // ok: evaluation harness
    });
    let rows: Vec<(Vec<usize>, usize, Vec<f64>)> = first.into_iter().chain(second).collect();
    let opened = (0..points.len()).map(|g| rows.iter().map(|r| r.0[g]).collect()).collect();
    let crafted = (0..points.len()).map(|g| rows.iter().map(|r| r.2[g]).collect()).collect();
    (opened, rows.iter().map(|r| r.1).collect(), crafted)
}
