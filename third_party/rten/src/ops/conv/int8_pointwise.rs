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
const MR: usize = 4;
/// Pixels per tile: `NR / 4` vectors of four pixels.
const NR: usize = 8;
const NRV: usize = NR / 4;

/// Images with fewer pixels run in float (see `Conv::run_int8`).
pub const MIN_PIXELS: usize = NR;

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
        if kh != 1 || kw != 1 || out_c == 0 || in_c == 0 {
            return None;
        }
        let depth = in_c.next_multiple_of(4);
        let rows = out_c.next_multiple_of(MR);
        let mut weights = vec![0i8; rows * depth];
        let mut scales = vec![0f32; rows];
        let mut sums = vec![0i32; rows];
        for o in 0..out_c {
            let max = (0..in_c).fold(0f32, |m, c| m.max(kernel[[o, c, 0, 0]].abs()));
            let scale = if max > 0. { max / 127. } else { 1. };
            scales[o] = scale;
            for c in 0..in_c {
                let v = kernel[[o, c, 0, 0]] / scale;
                let q = v.round();
                // int8 * scale, up to float rounding (~1e-5 here); a float kernel is far off.
                if !((q - v).abs() <= 1e-3) {
                    return None;
                }
                let q = q.clamp(-127., 127.) as i8;
                let (block, i, step, lane) = (o / MR, o % MR, c / 4, c % 4);
                weights[((block * (depth / 4) + step) * MR + i) * 4 + lane] = q;
                sums[o] += q as i32;
            }
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

/// One image's input quantized per pixel and packed in panels of `NR` pixels:
/// `[pixels / NR][depth / 4][NR][4]` (a pixel's four channels of one step are adjacent).
struct QuantizedInput {
    packed: Vec<u8>,
    /// Per pixel (padded to a multiple of `NR`): dequantization scale and zero point.
    scales: Vec<f32>,
    zeros: Vec<i32>,
}

/// Quantize `x`, `[in_c, pixels]` row-major, for a kernel of `depth` (padded) input channels.
fn quantize_input(x: &[f32], in_c: usize, pixels: usize, depth: usize) -> QuantizedInput {
    let padded = pixels.next_multiple_of(NR);
    // The range of each pixel's channels, widened to hold 0 so that 0 is exact.
    let mut lo = vec![0f32; pixels];
    let mut hi = vec![0f32; pixels];
    for row in x.chunks_exact(pixels) {
        simd::min_max(row, &mut lo, &mut hi);
    }
    let mut scales = vec![1f32; padded];
    let mut zeros = vec![0i32; padded];
    // Per pixel: 1 / scale, and the zero point + ROUND_MAGIC.
    let mut inv = vec![0f32; pixels];
    let mut zero_magic = vec![ROUND_MAGIC; pixels];
    for p in 0..pixels {
        let range = hi[p] - lo[p];
        if range > 0. {
            scales[p] = range / Q_MAX;
            inv[p] = Q_MAX / range;
            zeros[p] = (((-lo[p] * inv[p]) + 0.5) as i32).clamp(0, Q_MAX as i32);
            zero_magic[p] = zeros[p] as f32 + ROUND_MAGIC;
        }
    }
    let mut packed = vec![0u8; padded * depth];
    simd::pack(x, in_c, pixels, depth, &inv, &zero_magic, &mut packed);
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
    for (panel, x) in quant.packed.chunks_exact(panel_len).enumerate() {
        let p0 = panel * NR;
        let valid = NR.min(pixels - p0);
        let scales = &quant.scales[p0..p0 + NR];
        let zeros = &quant.zeros[p0..p0 + NR];
        for block in (first / MR)..(first + count).div_ceil(MR) {
            let acc = simd::tile(kernel.block(block), x, steps);
            for (i, acc) in acc.iter().enumerate() {
                let o = block * MR + i;
                if o >= first + count {
                    break;
                }
                let row = &mut out[(o - first) * pixels + p0..][..valid];
                simd::store_row(acc, zeros, scales, rows[o], row);
            }
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::{MR, NR, NRV, ROUND_MAGIC_BITS, Row, dequantize, packed_index, quantize};
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
    #[inline(always)]
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

    /// Dequantize one row of a tile into `out` (the panel's valid pixels).
    #[inline(always)]
    pub fn store_row(
        acc: &[v128; NRV],
        zeros: &[i32],
        scales: &[f32],
        row: Row,
        out: &mut [MaybeUninit<f32>],
    ) {
        assert!(zeros.len() >= NR && scales.len() >= NR);
        if out.len() < NR {
            let mut lanes = [0i32; NR];
            for j in 0..NRV {
                // Safety: lanes holds NR = 4 * NRV i32s.
                unsafe { v128_store(lanes.as_mut_ptr().add(4 * j) as *mut v128, acc[j]) };
            }
            for (p, out) in out.iter_mut().enumerate() {
                out.write(dequantize(lanes[p], zeros[p], scales[p], row));
            }
            return;
        }
        for j in 0..NRV {
            // Safety: zeros and scales hold NR values (checked), out at least NR.
            unsafe {
                let z = v128_load(zeros.as_ptr().add(4 * j) as *const v128);
                let s = v128_load(scales.as_ptr().add(4 * j) as *const v128);
                let v = i32x4_sub(acc[j], i32x4_mul(z, i32x4_splat(row.sum)));
                let scale = f32x4_mul(f32x4_splat(row.scale), s);
                let mut y = f32x4_add(
                    f32x4_mul(f32x4_convert_i32x4(v), scale),
                    f32x4_splat(row.bias),
                );
                if row.slope != 1. {
                    // (y * 1 == y: skipping it changes nothing.)
                    y = v128_bitselect(
                        f32x4_mul(y, f32x4_splat(row.slope)),
                        y,
                        f32x4_lt(y, f32x4_splat(0.)),
                    );
                }
                v128_store(out.as_mut_ptr().add(4 * j) as *mut v128, y);
            }
        }
    }

    /// Widen `lo`/`hi` to hold each value of `row`.
    pub fn min_max(row: &[f32], lo: &mut [f32], hi: &mut [f32]) {
        assert!(lo.len() >= row.len() && hi.len() >= row.len());
        let n = row.len() / 4 * 4;
        for p in (0..n).step_by(4) {
            // Safety: p + 4 <= n <= the three slices' length.
            unsafe {
                let v = v128_load(row.as_ptr().add(p) as *const v128);
                let l = lo.as_mut_ptr().add(p) as *mut v128;
                let h = hi.as_mut_ptr().add(p) as *mut v128;
                v128_store(l, f32x4_pmin(v128_load(l), v));
                v128_store(h, f32x4_pmax(v128_load(h), v));
            }
        }
        for p in n..row.len() {
            lo[p] = if row[p] < lo[p] { row[p] } else { lo[p] };
            hi[p] = if hi[p] < row[p] { row[p] } else { hi[p] };
        }
    }

    /// Quantize `x` (`[in_c, pixels]`) into the packed layout, four channels x four pixels at a time.
    pub fn pack(
        x: &[f32],
        in_c: usize,
        pixels: usize,
        depth: usize,
        inv: &[f32],
        zero_magic: &[f32],
        packed: &mut [u8],
    ) {
        assert!(x.len() >= in_c * pixels && inv.len() >= pixels && zero_magic.len() >= pixels);
        assert!(packed.len() >= pixels.next_multiple_of(NR) * depth);
        let full_c = in_c / 4 * 4;
        let full_p = pixels / 4 * 4;
        for c in (0..full_c).step_by(4) {
            for p in (0..full_p).step_by(4) {
                // Safety: c + 3 < in_c and p + 3 < pixels index x, inv and zero_magic; the four
                // pixels' four channels are the 16 bytes at packed_index(c, p) (p % 4 == 0,
                // NR % 4 == 0), inside `packed` (checked above).
                unsafe {
                    let i = v128_load(inv.as_ptr().add(p) as *const v128);
                    let z = v128_load(zero_magic.as_ptr().add(p) as *const v128);
                    let q: [v128; 4] = core::array::from_fn(|r| {
                        let v = v128_load(x.as_ptr().add((c + r) * pixels + p) as *const v128);
                        i32x4_sub(f32x4_add(f32x4_mul(v, i), z), i32x4_splat(ROUND_MAGIC_BITS))
                    });
                    let q16 = [
                        i16x8_narrow_i32x4(q[0], q[1]),
                        i16x8_narrow_i32x4(q[2], q[3]),
                    ];
                    let q8 = u8x16_min(u8x16_narrow_i16x8(q16[0], q16[1]), u8x16_splat(127));
                    // Channel-major [c][p] -> pixel-major [p][c].
                    let t = i8x16_shuffle::<0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15>(
                        q8, q8,
                    );
                    v128_store(
                        packed.as_mut_ptr().add(packed_index(c, p, depth)) as *mut v128,
                        t,
                    );
                }
            }
            for p in full_p..pixels {
                for r in c..c + 4 {
                    packed[packed_index(r, p, depth)] =
                        quantize(x[r * pixels + p], inv[p], zero_magic[p]);
                }
            }
        }
        for c in full_c..in_c {
            for p in 0..pixels {
                packed[packed_index(c, p, depth)] =
                    quantize(x[c * pixels + p], inv[p], zero_magic[p]);
            }
        }
    }
}

/// Portable versions (native builds): the same arithmetic, left to the compiler to vectorize.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod simd {
    use super::{MR, NR, Row, dequantize, packed_index, quantize};
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
    pub fn store_row(
        acc: &[i32; NR],
        zeros: &[i32],
        scales: &[f32],
        row: Row,
        out: &mut [MaybeUninit<f32>],
    ) {
        for (p, out) in out.iter_mut().enumerate() {
            out.write(dequantize(acc[p], zeros[p], scales[p], row));
        }
    }

    pub fn min_max(row: &[f32], lo: &mut [f32], hi: &mut [f32]) {
        for ((l, h), &v) in lo.iter_mut().zip(hi.iter_mut()).zip(row) {
            *l = if v < *l { v } else { *l };
            *h = if *h < v { v } else { *h };
        }
    }

    pub fn pack(
        x: &[f32],
        in_c: usize,
        pixels: usize,
        depth: usize,
        inv: &[f32],
        zero_magic: &[f32],
        packed: &mut [u8],
    ) {
        for c in 0..in_c {
            let row = &x[c * pixels..(c + 1) * pixels];
            for p in 0..pixels {
                packed[packed_index(c, p, depth)] = quantize(row[p], inv[p], zero_magic[p]);
            }
        }
    }
}
