//! 1x1 convolutions in 8-bit integers (faceproof patch 5, PATCHES.md).
//!
//! With the `int8-pointwise` feature and [`ModelOptions::prepack_weights`](crate::ModelOptions),
//! each 1x1 `Conv` whose kernel the model stores in int8 (symmetric, one scale per output
//! channel, values in [-127, 127]) keeps it in int8 at load. Each run quantizes its input
//! **per pixel** (asymmetric over that pixel's channels, 7 bits: [0, 127]) and multiplies in i32. Per pixel because one scale
//! for a whole tensor loses the small activations (onnxruntime's per-tensor scheme wrecks
//! MobileFaceNet); 7 bits because WebAssembly's `i32x4.relaxed_dot_i8x16_i7x16_add_s` (16
//! multiply-adds per instruction, 4x f32) is deterministic only when its second operand's top bit
//! is clear, and then no pair of products overflows i16 on CPUs that sum pairs first.
//!
//! The integer sums are exact and the float epilogue does the same operations in every build, so
//! native, wasm SIMD, wasm relaxed SIMD and any thread count give bit-identical outputs.

use std::mem::MaybeUninit;

use rayon::prelude::*;
use rten_tensor::prelude::*;
use rten_tensor::{NdTensor, NdTensorView};

use crate::buffer_pool::BufferPool;

/// Output channels per tile.
const MR: usize = 3;
/// Pixels per tile: `NR / 4` vectors of four pixels.
const NR: usize = 12;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
const NRV: usize = NR / 4;

/// Images with fewer pixels run in float (see `Conv::run_int8`).
pub const MIN_PIXELS: usize = NR;

/// Input channels of the largest int8 kernel: with at most 1024, every dot product and every
/// zero-point correction is an integer below 2^24 in magnitude (127 * 127 * 1024 < 2^24), so
/// the SIMD epilogue subtracts the correction in float exactly (`simd::store_tile`).
const MAX_IN_CHANNELS: usize = 1024;

/// The largest quantized activation (7 bits).
const Q_MAX: f32 = 127.;

/// 2^23: adding it to a float in [0, 2^22) rounds to the nearest integer (ties to even), which
/// its low mantissa bits then hold: the float -> int step of the quantizer without a conversion
/// instruction (wasm's saturating `i32x4.trunc_sat_f32x4` is a long sequence on x86).
const ROUND_MAGIC: f32 = 8_388_608.;
const ROUND_MAGIC_BITS: i32 = 0x4B00_0000;

/// A 1x1 convolution kernel quantized to int8 per output channel, laid out for the tile loop.
pub struct PointwiseInt8Kernel {
    out_c: usize,
    in_c: usize,
    /// Input channels rounded up to a multiple of 4 (one dot product step).
    depth: usize,
    /// `[out_c / MR][depth / 4][MR][4]`: the `MR` rows' four weights of one step are adjacent.
    weights: Vec<i8>,
    /// Per output channel (padded to a multiple of `MR`): the dequantization scale and the sum
    /// of its quantized weights (to remove the activations' zero point).
    scales: Vec<f32>,
    sums: Vec<i32>,
}

impl PointwiseInt8Kernel {
    /// The int8 form of a `[out_c, in_c, 1, 1]` kernel whose values are already int8 per output
    /// channel (symmetric, `scale = max|w| / 127`: what a model's `DequantizeLinear` of int8
    /// weights folds to at load). `None` for other shapes and for float kernels: the model
    /// file decides which layers run in int8, as its quantized weights say.
    pub fn new(kernel: NdTensorView<f32, 4>) -> Option<Self> {
        let [out_c, in_c, kh, kw] = kernel.shape();
        if kh != 1 || kw != 1 || out_c == 0 || in_c == 0 || in_c > MAX_IN_CHANNELS {
            return None;
        }
        let kernel = kernel.to_contiguous();
        let kernel = kernel.data();
        let depth = in_c.next_multiple_of(4);
        let rows = out_c.next_multiple_of(MR);
        let mut weights = vec![0i8; rows * depth];
        let mut scales = vec![0f32; rows];
        let mut sums = vec![0i32; rows];
        for (o, row) in kernel.chunks_exact(in_c).enumerate() {
            // Row `o` of block `o / MR`: its four weights of step `s` at `s * MR * 4 + i * 4`.
            let (block, i) = (o / MR, o % MR);
            let dst = &mut weights[block * depth * MR + i * 4..];
            (scales[o], sums[o]) = quantize_row(row, dst)?;
        }
        Some(PointwiseInt8Kernel {
            out_c,
            in_c,
            depth,
            weights,
            scales,
            sums,
        })
    }

    pub fn out_channels(&self) -> usize {
        self.out_c
    }

    pub fn in_channels(&self) -> usize {
        self.in_c
    }

    /// The `[MR]` block of rows starting at `block * MR`.
    fn block(&self, block: usize) -> &[i8] {
        let len = self.depth * MR;
        &self.weights[block * len..(block + 1) * len]
    }
}

/// One output channel of [`PointwiseInt8Kernel::new`]: its weights as int8 at
/// `dst[(c / 4) * MR * 4 + c % 4]`, and its scale and sum of quantized weights; `None` if they
/// are not int8 values times a scale. Its own function (a model's rows at load: V8 optimises it
/// after the first rows, where the one loop over all rows ran in its baseline tier).
#[inline(never)]
fn quantize_row(row: &[f32], dst: &mut [i8]) -> Option<(f32, i32)> {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if row.len() % 4 == 0 {
        return simd::quantize_row(row, dst);
    }
    let max = row.iter().fold(0f32, |m, w| m.max(w.abs()));
    let scale = if max > 0. { max / 127. } else { 1. };
    let mut sum = 0;
    for (c, &w) in row.iter().enumerate() {
        let v = w / scale;
        // (Ties to even: one wasm instruction where `round` is a libm call; the same integer
        // for every value that passes the test below.)
        let q = v.round_ties_even();
        // int8 * scale, up to float rounding (~1e-5 here); a float kernel is far off.
        if !((q - v).abs() <= 1e-3) {
            return None;
        }
        let q = q.clamp(-127., 127.) as i8;
        dst[(c / 4) * MR * 4 + c % 4] = q;
        sum += q as i32;
    }
    Some((scale, sum))
}

/// One image's input quantized per pixel and packed in panels of `NR` pixels:
/// `[pixels / NR][depth / 4][NR][4]` (a pixel's four channels of one step are adjacent).
struct QuantizedInput {
    packed: Vec<u8>,
    /// Per pixel (padded to a multiple of `NR`): dequantization scale and zero point.
    scales: Vec<f32>,
    zeros: Vec<i32>,
}

/// Pixels quantized together: their channels' range, then their values, while these columns
/// of the input are still in cache (one pass over the input instead of two).
const GROUP: usize = 16;

/// Quantize `x`, `[in_c, pixels]` row-major, for a kernel of `depth` (padded) input channels.
#[inline(never)]
fn quantize_input(x: &[f32], in_c: usize, pixels: usize, depth: usize) -> QuantizedInput {
    assert!(x.len() >= in_c * pixels);
    let padded = pixels.next_multiple_of(NR);
    let mut scales = vec![1f32; padded];
    let mut zeros = vec![0i32; padded];
    let mut packed = vec![0u8; padded * depth];
    for p0 in (0..pixels).step_by(GROUP) {
        let n = GROUP.min(pixels - p0);
        // The range of each pixel's channels, widened to hold 0 so that 0 is exact.
        let mut lo = [0f32; GROUP];
        let mut hi = [0f32; GROUP];
        simd::min_max(x, in_c, pixels, p0, n, &mut lo, &mut hi);
        // Per pixel: 1 / scale, and the zero point + ROUND_MAGIC.
        let mut inv = [0f32; GROUP];
        let mut zero_magic = [ROUND_MAGIC; GROUP];
        for i in 0..n {
            let range = hi[i] - lo[i];
            if range > 0. {
                let p = p0 + i;
                scales[p] = range / Q_MAX;
                inv[i] = Q_MAX / range;
                zeros[p] = (((-lo[i] * inv[i]) + 0.5) as i32).clamp(0, Q_MAX as i32);
                zero_magic[i] = zeros[p] as f32 + ROUND_MAGIC;
            }
        }
        simd::pack(x, in_c, pixels, depth, p0, n, &inv, &zero_magic, &mut packed);
    }
    QuantizedInput {
        packed,
        scales,
        zeros,
    }
}

/// Index of channel `c` of pixel `p` in the packed input.
#[inline]
fn packed_index(c: usize, p: usize, depth: usize) -> usize {
    ((p / NR) * (depth / 4) + c / 4) * NR * 4 + (p % NR) * 4 + c % 4
}

/// The quantized value of `v`: `v * inv + zero` rounded to the nearest integer, in [0, 127]
/// (shared by every build so that all agree bit for bit).
#[inline]
fn quantize(v: f32, inv: f32, zero_magic: f32) -> u8 {
    ((v * inv + zero_magic).to_bits() as i32 - ROUND_MAGIC_BITS).clamp(0, Q_MAX as i32) as u8
}

/// What the epilogue needs of a panel's `NR` pixels.
struct Panel<'a> {
    scales: &'a [f32; NR],
    zeros: &'a [i32; NR],
    /// Pixels of the panel inside the image (the last panel's may be fewer than `NR`).
    valid: usize,
}

/// What one output channel needs to turn integer dot products into outputs.
#[derive(Clone, Copy)]
struct Row {
    /// Sum of the row's quantized weights (removes the activations' zero point).
    sum: i32,
    scale: f32,
    bias: f32,
    /// PRelu slope of the fused activation (1 without one: the identity).
    slope: f32,
}

/// Dequantize one output: `acc` is the integer dot product of a row and a pixel whose scale
/// and zero point are `scale`, `zero`.
#[inline]
fn dequantize(acc: i32, zero: i32, scale: f32, row: Row) -> f32 {
    let y = (acc - zero * row.sum) as f32 * (row.scale * scale) + row.bias;
    if y < 0. { y * row.slope } else { y }
}

/// Run the convolution on `input` (`[batch, in_c, h, w]`), followed by `PRelu` with one slope per
/// output channel if `slopes` is given. The caller checks that the convolution is pointwise
/// (stride 1, no padding) and that `bias` and `slopes` have one value per output channel.
pub fn conv_2d_pointwise_int8(
    pool: &BufferPool,
    input: &NdTensorView<f32, 4>,
    kernel: &PointwiseInt8Kernel,
    bias: Option<&[f32]>,
    slopes: Option<&[f32]>,
) -> NdTensor<f32, 4> {
    let [batch, in_c, h, w] = input.shape();
    assert_eq!(in_c, kernel.in_c);
    let pixels = h * w;
    let out_c = kernel.out_c;
    let rows: Vec<Row> = (0..out_c)
        .map(|o| Row {
            sum: kernel.sums[o],
            scale: kernel.scales[o],
            bias: bias.map_or(0., |b| b[o]),
            slope: slopes.map_or(1., |s| s[o]),
        })
        .collect();
    let mut output = NdTensor::<f32, 3>::uninit_in(pool, [batch, out_c, pixels]);
    let input = input.to_contiguous_in(pool);

    for n in 0..batch {
        if pixels == 0 {
            break;
        }
        let quant = quantize_input(input.slice([n]).data().unwrap(), in_c, pixels, kernel.depth);
        let mut out = output.slice_mut([n]);
        let out = out.data_mut().unwrap();
        crate::threading::thread_pool().run(|| {
            // Rows per task: a few tasks per thread, whole MR blocks.
            let tasks = 2 * rten_gemm::operator_threads();
            let chunk = out_c.div_ceil(tasks).next_multiple_of(MR);
            out.par_chunks_mut(chunk * pixels)
                .with_min_len(rten_gemm::operator_min_len())
                .enumerate()
                .for_each(|(task, out)| run_rows(kernel, &quant, &rows, task * chunk, out, pixels));
        });
    }
    // Safety: run_rows wrote every pixel of every row of every image.
    unsafe { output.assume_init() }.into_shape([batch, out_c, h, w])
}

/// Compute output rows `first..` (as many as `out` holds) for every pixel.
fn run_rows(
    kernel: &PointwiseInt8Kernel,
    quant: &QuantizedInput,
    rows: &[Row],
    first: usize,
    out: &mut [MaybeUninit<f32>],
    pixels: usize,
) {
    let count = out.len() / pixels;
    let steps = kernel.depth / 4;
    let panel_len = kernel.depth * NR;
    debug_assert!(first % MR == 0);
    for (panel, x) in quant.packed.chunks_exact(panel_len).enumerate() {
        let p0 = panel * NR;
        let valid = NR.min(pixels - p0);
        let pix = Panel {
            scales: quant.scales[p0..p0 + NR].try_into().unwrap(),
            zeros: quant.zeros[p0..p0 + NR].try_into().unwrap(),
            valid,
        };
        for block in (first / MR)..(first + count).div_ceil(MR) {
            let acc = simd::tile(kernel.block(block), x, steps);
            let o = block * MR;
            let rows = &rows[o..(o + MR).min(first + count)];
            simd::store_tile(&acc, &pix, rows, &mut out[(o - first) * pixels + p0..], pixels);
        }
    }
}

/// Widen `lo`/`hi` to hold the values of pixels `p0..p0 + n` over the `in_c` rows of `x`, one
/// value at a time (native builds, and a wasm group of fewer than `GROUP` pixels).
fn min_max_scalar(
    x: &[f32],
    in_c: usize,
    pixels: usize,
    p0: usize,
    n: usize,
    lo: &mut [f32; GROUP],
    hi: &mut [f32; GROUP],
) {
    for c in 0..in_c {
        for (i, &v) in x[c * pixels + p0..][..n].iter().enumerate() {
            lo[i] = if v < lo[i] { v } else { lo[i] };
            hi[i] = if hi[i] < v { v } else { hi[i] };
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::{GROUP, MR, NR, NRV, Panel, ROUND_MAGIC_BITS, Row, dequantize, packed_index, quantize};
    use core::arch::wasm32::*;
    use std::mem::MaybeUninit;

    /// `acc + dot(a, b)` for each group of four bytes; `b` holds values in [0, 127].
    #[inline(always)]
    fn dot(a: v128, b: v128, acc: v128) -> v128 {
        #[cfg(target_feature = "relaxed-simd")]
        {
            i32x4_relaxed_dot_i8x16_i7x16_add(a, b, acc)
        }
        #[cfg(not(target_feature = "relaxed-simd"))]
        {
            // The same sum with plain SIMD: products fit i16 (|a| <= 127, b <= 127).
            let lo = i32x4_extadd_pairwise_i16x8(i16x8_extmul_low_i8x16(a, b));
            let hi = i32x4_extadd_pairwise_i16x8(i16x8_extmul_high_i8x16(a, b));
            let quads = i32x4_add(
                i32x4_shuffle::<0, 2, 4, 6>(lo, hi),
                i32x4_shuffle::<1, 3, 5, 7>(lo, hi),
            );
            i32x4_add(quads, acc)
        }
    }

    /// The `MR x NR` integer dot products of a block of weight rows and a panel of pixels.
    /// Not inlined: V8 allocates registers better in this small loop alone (embed 17.1 ->
    /// 16.4 ms, `node bench/ab.mjs`).
    #[inline(never)]
    pub fn tile(w: &[i8], x: &[u8], steps: usize) -> [[v128; NRV]; MR] {
        assert!(w.len() >= steps * MR * 4 && x.len() >= steps * NR * 4);
        let mut acc = [[i32x4_splat(0); NRV]; MR];
        let (w, x) = (w.as_ptr(), x.as_ptr());
        for k in 0..steps {
            // Safety: k < steps and the lengths were checked above; loads are unaligned.
            unsafe {
                let b: [v128; NRV] =
                    core::array::from_fn(|j| v128_load(x.add((k * NRV + j) * 16) as *const v128));
                for (i, acc) in acc.iter_mut().enumerate() {
                    let a = v128_load32_splat(w.add((k * MR + i) * 4) as *const u32);
                    for j in 0..NRV {
                        acc[j] = dot(a, b[j], acc[j]);
                    }
                }
            }
        }
        acc
    }

    /// Dequantize a tile into `out`: row `i` of the tile at `out[i * stride..]`, the panel's
    /// valid pixels. The zero-point correction is subtracted in float: `acc` and `zero * sum`
    /// are integers below 2^24 in magnitude (`MAX_IN_CHANNELS`), so the float difference is
    /// exact and equals [`dequantize`]'s integer one, with or without a fused multiply-add.
    #[inline(never)]
    pub fn store_tile(
        acc: &[[v128; NRV]; MR],
        pix: &Panel,
        rows: &[Row],
        out: &mut [MaybeUninit<f32>],
        stride: usize,
    ) {
        assert!(rows.len() <= MR && !rows.is_empty());
        assert!(out.len() >= (rows.len() - 1) * stride + pix.valid);
        if pix.valid < NR {
            for (i, (acc, row)) in acc.iter().zip(rows).enumerate() {
                let mut lanes = [0i32; NR];
                for j in 0..NRV {
                    // Safety: lanes holds NR = 4 * NRV i32s.
                    unsafe { v128_store(lanes.as_mut_ptr().add(4 * j) as *mut v128, acc[j]) };
                }
                for (p, out) in out[i * stride..][..pix.valid].iter_mut().enumerate() {
                    out.write(dequantize(lanes[p], pix.zeros[p], pix.scales[p], *row));
                }
            }
            return;
        }
        // Safety (loads): the panel's arrays hold NR = 4 * NRV values.
        // (zero points are at most 127: exact as floats)
        let z: [v128; NRV] = core::array::from_fn(|j| {
            f32x4_convert_i32x4(unsafe { v128_load(pix.zeros.as_ptr().add(4 * j) as *const v128) })
        });
        let s: [v128; NRV] = core::array::from_fn(|j| unsafe { v128_load(pix.scales.as_ptr().add(4 * j) as *const v128) });
        for (i, (acc, row)) in acc.iter().zip(rows).enumerate() {
            let out = out[i * stride..][..NR].as_mut_ptr() as *mut v128;
            for j in 0..NRV {
                let v = sub_mul(f32x4_convert_i32x4(acc[j]), z[j], f32x4_splat(row.sum as f32));
                let scale = f32x4_mul(f32x4_splat(row.scale), s[j]);
                let mut y = f32x4_add(f32x4_mul(v, scale), f32x4_splat(row.bias));
                if row.slope != 1. {
                    // (y * 1 == y: skipping it changes nothing.)
                    y = select(f32x4_mul(y, f32x4_splat(row.slope)), y, f32x4_lt(y, f32x4_splat(0.)));
                }
                // Safety: out[i * stride..][..NR] is in bounds (sliced above).
                unsafe { v128_store(out.add(j), y) };
            }
        }
    }

    /// [`super::quantize_row`] four weights at a time (a row of a multiple of 4): the same
    /// scale, division, rounding and test per weight, so the same result. At load in the
    /// browser this runs mostly in V8's baseline tier, where each instruction counts.
    pub fn quantize_row(row: &[f32], dst: &mut [i8]) -> Option<(f32, i32)> {
        assert!(row.len() % 4 == 0 && dst.len() >= (row.len() / 4).saturating_sub(1) * MR * 4 + 4);
        let mut m = f32x4_splat(0.);
        for w in row.chunks_exact(4) {
            // Safety: 4 values.
            m = f32x4_pmax(m, f32x4_abs(unsafe { v128_load(w.as_ptr() as *const v128) }));
        }
        let lanes = [f32x4_extract_lane::<0>(m), f32x4_extract_lane::<1>(m), f32x4_extract_lane::<2>(m), f32x4_extract_lane::<3>(m)];
        // (A NaN weight fails the test below whatever the scale, as in the scalar loop.)
        let max = lanes.iter().fold(0f32, |m, &w| m.max(w));
        let scale = if max > 0. { max / 127. } else { 1. };
        let (s, tol, lo, hi) = (f32x4_splat(scale), f32x4_splat(1e-3), f32x4_splat(-127.), f32x4_splat(127.));
        let mut sum = i32x4_splat(0);
        for (step, w) in row.chunks_exact(4).enumerate() {
            // Safety: 4 values.
            let v = f32x4_div(unsafe { v128_load(w.as_ptr() as *const v128) }, s);
            let q = f32x4_nearest(v);
            if !i32x4_all_true(f32x4_le(f32x4_abs(f32x4_sub(q, v)), tol)) {
                return None;
            }
            let q = i32x4_trunc_sat_f32x4(f32x4_pmin(f32x4_pmax(q, lo), hi));
            sum = i32x4_add(sum, q);
            let q8 = i8x16_narrow_i16x8(i16x8_narrow_i32x4(q, q), i16x8_narrow_i32x4(q, q));
            // Safety: step * MR * 4 + 4 <= dst.len() (asserted above).
            unsafe { v128_store32_lane::<0>(q8, dst.as_mut_ptr().add(step * MR * 4) as *mut u32) };
        }
        let sum = i32x4_extract_lane::<0>(sum) + i32x4_extract_lane::<1>(sum) + i32x4_extract_lane::<2>(sum) + i32x4_extract_lane::<3>(sum);
        Some((scale, sum))
    }

    /// `a - b * c` for exact integers below 2^24: fused or not, the same value.
    #[inline(always)]
    fn sub_mul(a: v128, b: v128, c: v128) -> v128 {
        #[cfg(target_feature = "relaxed-simd")]
        {
            f32x4_relaxed_nmadd(b, c, a)
        }
        #[cfg(not(target_feature = "relaxed-simd"))]
        {
            f32x4_sub(a, f32x4_mul(b, c))
        }
    }

    /// `mask ? a : b` per lane, `mask` all ones or all zeros in each lane (a comparison's).
    #[inline(always)]
    fn select(a: v128, b: v128, mask: v128) -> v128 {
        #[cfg(target_feature = "relaxed-simd")]
        {
            i32x4_relaxed_laneselect(a, b, mask)
        }
        #[cfg(not(target_feature = "relaxed-simd"))]
        {
            v128_bitselect(a, b, mask)
        }
    }

    /// Widen `lo`/`hi` to hold the values of pixels `p0..p0 + n` over the `in_c` rows of `x`.
    pub fn min_max(
        x: &[f32],
        in_c: usize,
        pixels: usize,
        p0: usize,
        n: usize,
        lo: &mut [f32; GROUP],
        hi: &mut [f32; GROUP],
    ) {
        assert!(n <= GROUP && p0 + n <= pixels && x.len() >= in_c * pixels);
        if n < GROUP {
            return super::min_max_scalar(x, in_c, pixels, p0, n, lo, hi);
        }
        const V: usize = GROUP / 4;
        let mut l = [f32x4_splat(0.); V];
        let mut h = [f32x4_splat(0.); V];
        for c in 0..in_c {
            for j in 0..V {
                // Safety: c < in_c and p0 + GROUP <= pixels: inside x (asserted above).
                let v = unsafe { v128_load(x.as_ptr().add(c * pixels + p0 + 4 * j) as *const v128) };
                l[j] = f32x4_pmin(l[j], v);
                h[j] = f32x4_pmax(h[j], v);
            }
        }
        for j in 0..V {
            // Safety: lo and hi hold GROUP = 4 * V values.
            unsafe {
                v128_store(lo.as_mut_ptr().add(4 * j) as *mut v128, l[j]);
                v128_store(hi.as_mut_ptr().add(4 * j) as *mut v128, h[j]);
            }
        }
    }

    /// Quantize pixels `p0..p0 + n` of `x` (`[in_c, pixels]`) into the packed layout, four
    /// channels x four pixels at a time; `inv` and `zero_magic` are those pixels'.
    #[allow(clippy::too_many_arguments)]
    pub fn pack(
        x: &[f32],
        in_c: usize,
        pixels: usize,
        depth: usize,
        p0: usize,
        n: usize,
        inv: &[f32; GROUP],
        zero_magic: &[f32; GROUP],
        packed: &mut [u8],
    ) {
        assert!(n <= GROUP && p0 + n <= pixels && x.len() >= in_c * pixels);
        assert!(packed.len() >= pixels.next_multiple_of(NR) * depth && p0 % 4 == 0);
        let full_c = in_c / 4 * 4;
        let full_p = n / 4 * 4;
        // Four pixels at a time, all their channels: the pixels' scale and zero point, and
        // where their channels go, computed once (`packed_index(c, p)` is `packed_index(0, p) +
        // c * NR` for `c % 4 == 0`).
        for i in (0..full_p).step_by(4) {
            let p = p0 + i;
            // Safety: i + 3 < GROUP.
            let (iv, z) = unsafe {
                (v128_load(inv.as_ptr().add(i) as *const v128), v128_load(zero_magic.as_ptr().add(i) as *const v128))
            };
            let base = packed_index(0, p, depth);
            for c in (0..full_c).step_by(4) {
                // Safety: c + 3 < in_c and p + 3 < pixels index x; the four pixels' four
                // channels are the 16 bytes at packed_index(c, p) = base + c * NR (p % 4 == 0,
                // NR % 4 == 0), inside `packed` (checked above).
                unsafe {
                    let q: [v128; 4] = core::array::from_fn(|r| {
                        let v = v128_load(x.as_ptr().add((c + r) * pixels + p) as *const v128);
                        i32x4_sub(f32x4_add(f32x4_mul(v, iv), z), i32x4_splat(ROUND_MAGIC_BITS))
                    });
                    let q16 = [i16x8_narrow_i32x4(q[0], q[1]), i16x8_narrow_i32x4(q[2], q[3])];
                    let q8 = u8x16_min(u8x16_narrow_i16x8(q16[0], q16[1]), u8x16_splat(127));
                    // Channel-major [c][p] -> pixel-major [p][c].
                    let t = i8x16_shuffle::<0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15>(q8, q8);
                    v128_store(packed.as_mut_ptr().add(base + c * NR) as *mut v128, t);
                }
            }
        }
        for c in (0..full_c).step_by(4) {
            for i in full_p..n {
                for r in c..c + 4 {
                    packed[packed_index(r, p0 + i, depth)] =
                        quantize(x[r * pixels + p0 + i], inv[i], zero_magic[i]);
                }
            }
        }
        for c in full_c..in_c {
            for i in 0..n {
                packed[packed_index(c, p0 + i, depth)] =
                    quantize(x[c * pixels + p0 + i], inv[i], zero_magic[i]);
            }
        }
    }
}

/// Portable versions (native builds): the same arithmetic, left to the compiler to vectorize.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod simd {
    use super::{GROUP, MR, NR, Panel, Row, dequantize, packed_index, quantize};
    use std::mem::MaybeUninit;

    #[inline]
    pub fn tile(w: &[i8], x: &[u8], steps: usize) -> [[i32; NR]; MR] {
        let mut acc = [[0i32; NR]; MR];
        for (w, x) in w
            .chunks_exact(MR * 4)
            .zip(x.chunks_exact(NR * 4))
            .take(steps)
        {
            for i in 0..MR {
                let w = &w[i * 4..i * 4 + 4];
                for j in 0..NR {
                    let x = &x[j * 4..j * 4 + 4];
                    acc[i][j] += (0..4).map(|b| w[b] as i32 * x[b] as i32).sum::<i32>();
                }
            }
        }
        acc
    }

    #[inline]
    pub fn store_tile(
        acc: &[[i32; NR]; MR],
        pix: &Panel,
        rows: &[Row],
        out: &mut [MaybeUninit<f32>],
        stride: usize,
    ) {
        for (i, (acc, row)) in acc.iter().zip(rows).enumerate() {
            for (p, out) in out[i * stride..][..pix.valid].iter_mut().enumerate() {
                out.write(dequantize(acc[p], pix.zeros[p], pix.scales[p], *row));
            }
        }
    }

    pub(super) use super::min_max_scalar as min_max;

    #[allow(clippy::too_many_arguments)]
    pub fn pack(
        x: &[f32],
        in_c: usize,
        pixels: usize,
        depth: usize,
        p0: usize,
        n: usize,
        inv: &[f32; GROUP],
        zero_magic: &[f32; GROUP],
        packed: &mut [u8],
    ) {
        for c in 0..in_c {
            for i in 0..n {
                packed[packed_index(c, p0 + i, depth)] = quantize(x[c * pixels + p0 + i], inv[i], zero_magic[i]);
            }
        }
    }
}
