//! Float convolutions without rten's GEMM, in WebAssembly SIMD (faceproof patch 9, PATCHES.md).
//!
//! rten runs every non-depthwise convolution as a GEMM: it packs the kernel (A) and the input
//! or its im2col matrix (B) into panels on every run, calls its 3x12 tile kernel once per tile
//! (a `dyn` call, set-up, a final store), then adds the bias in a second pass and the fused
//! PRelu in a third. With the few input channels of the detector and FaceMesh (16 to 128) every
//! tile has little work, so those overheads were a third of the GEMMs' time in the browser.
//! Here the same 3x12 tile runs on a strip of 12 output pixels whose inputs are copied into a
//! small buffer (`[depth][12]`: rows of a 1x1 convolution's input, or gathered im2col values),
//! reads the kernel rows in place, walks every output channel of the strip in one call, and
//! adds bias and PRelu before its one store. A convolution to a single output pixel is a
//! matrix-vector product instead ([`conv_2d_one_pixel_f32`]).
//!
//! Each output is summed exactly as rten-gemm does it: from zero, inputs in order, one
//! multiply-add each (`f32x4.relaxed_madd` in relaxed-SIMD builds, multiply then add in plain
//! ones, as rten-gemm's wasm kernel), then `+ bias` after the first depth block of
//! [`DEPTH_BLOCK`] (later blocks summed from zero and added), then PRelu. The outputs are
//! bit-identical to rten's path, which the tests check in both browser builds.

use std::arch::wasm32::*;

use rten_tensor::prelude::*;
use rten_tensor::{NdTensor, NdTensorView};

use crate::buffer_pool::BufferPool;

/// Output channels per tile (rten-gemm's wasm f32 tile: 3 x 12, see its PATCHES.md).
const MR: usize = 3;
/// Pixels per tile: three vectors of four.
const NR: usize = 12;

/// rten-gemm's f32 depth block (`depth_block_size`: 1024 bytes of f32): a longer sum is
/// computed there block by block, each from zero, the bias added to the first block's sum and
/// each later block's sum added to the total; the strips and the matrix-vector product here
/// do the same.
pub const DEPTH_BLOCK: usize = 256;

/// The deepest strip (`[depth][NR]` floats: 48 KiB at most; MobileFaceNet's 512-channel
/// projection, 24 KiB, is the deepest float 1x1 layer of our models).
pub const MAX_STRIP_DEPTH: usize = 1024;

/// Whether [`conv_2d_pointwise_f32`] takes a 1x1 convolution of `in_c` -> `out_c` channels over
/// `pixels` pixels: a full tile in each direction (the last tile of each overlaps the one before
/// it, recomputing the same values).
pub fn pointwise_f32_applies(in_c: usize, out_c: usize, pixels: usize) -> bool {
    (1..=MAX_STRIP_DEPTH).contains(&in_c) && out_c >= MR && pixels >= NR
}

/// A 1x1 convolution (stride 1, no padding, one group) of `input` (`[batch, in_c, h, w]`) with
/// `kernel` (`[out_c, in_c]`, row-major), plus `bias`, followed by `PRelu` with one slope per
/// output channel if `slopes` is given. The caller checks [`pointwise_f32_applies`] and that
/// `bias` and `slopes` have `out_c` values.
pub fn conv_2d_pointwise_f32(
    pool: &BufferPool,
    input: &NdTensorView<f32, 4>,
    kernel: &[f32],
    out_c: usize,
    bias: Option<&[f32]>,
    slopes: Option<&[f32]>,
) -> NdTensor<f32, 4> {
    let [_, in_c, h, w] = input.shape();
    let pixels = h * w;
    assert!(pointwise_f32_applies(in_c, out_c, pixels));
    // Strips at 0, 12, 24, ..., the last one ending at the last pixel.
    let starts = (0..pixels).step_by(NR).map(|p| p.min(pixels - NR));
    let fill = |x: &[f32], p: usize, buf: &mut [f32]| pack_strip(&x[p..], pixels, in_c, buf);
    conv_by_strips(pool, input, kernel, out_c, in_c, [h, w], bias, slopes, starts, fill)
}

/// Run `kernel` (`[out_c][depth]`) over strips of `NR` output pixels of each image of `input`:
/// `fill(image, p, buf)` writes the `[depth][NR]` inputs of the strip starting at output pixel
/// `p` (each `p` of `starts`, which must cover every output pixel of an `out_hw` image, with
/// `p + NR` at most its pixel count), then [`strip`] computes it with `bias` and `slopes`.
#[allow(clippy::too_many_arguments)]
fn conv_by_strips(
    pool: &BufferPool,
    input: &NdTensorView<f32, 4>,
    kernel: &[f32],
    out_c: usize,
    depth: usize,
    [out_h, out_w]: [usize; 2],
    bias: Option<&[f32]>,
    slopes: Option<&[f32]>,
    starts: impl Iterator<Item = usize> + Clone,
    fill: impl Fn(&[f32], usize, &mut [f32]),
) -> NdTensor<f32, 4> {
    let [batch, in_c, h, w] = input.shape();
    let pixels = out_h * out_w;
    assert!(depth >= 1 && out_c >= MR && pixels >= NR);
    assert_eq!(kernel.len(), out_c * depth);
    assert!(bias.is_none_or(|b| b.len() == out_c) && slopes.is_none_or(|s| s.len() == out_c));
    let input = input.to_contiguous_in(pool);
    let mut output = NdTensor::<f32, 3>::uninit_in(pool, [batch, out_c, pixels]);
    let epilogue = Epilogue {
        bias: bias.map_or(std::ptr::null(), |b| b.as_ptr()),
        slopes: slopes.map_or(std::ptr::null(), |s| s.as_ptr()),
    };
    let mut strip_buf = vec![0f32; depth * NR];
    for n in 0..batch {
        let x = input.slice([n]);
        let x = x.data().unwrap();
        let mut out = output.slice_mut([n]);
        let out = out.data_mut().unwrap();
        assert!(x.len() == in_c * h * w && out.len() == out_c * pixels);
        for p in starts.clone() {
            assert!(p + NR <= pixels);
            fill(x, p, &mut strip_buf);
            // Safety: p + NR <= pixels, so the output rows' NR floats at p are inside `out`
            // (asserted above); `kernel` and `strip_buf` hold what `strip` reads; `epilogue`'s
            // arrays, when not null, hold out_c values (asserted above).
            unsafe {
                let dst = out.as_mut_ptr().add(p) as *mut f32;
                if depth <= DEPTH_BLOCK {
                    strip::<false>(&strip_buf, kernel, depth, dst, pixels, out_c, &epilogue)
                } else {
                    strip::<true>(&strip_buf, kernel, depth, dst, pixels, out_c, &epilogue)
                }
            }
        }
    }
    // Safety: the strips covered every pixel of every output channel of every image.
    unsafe { output.assume_init() }.into_shape([batch, out_c, out_h, out_w])
}

/// Copy `NR` pixels of each of `in_c` input rows (`x`, rows `stride` apart) into `buf`
/// (`[in_c][NR]`): the tile loop then reads one contiguous block that stays in L1, instead of
/// `in_c` rows a whole image apart (which, for power-of-two-ish image sizes, fall in the same
/// cache sets and evict each other).
fn pack_strip(x: &[f32], stride: usize, in_c: usize, buf: &mut [f32]) {
    assert!(in_c >= 1 && x.len() >= (in_c - 1) * stride + NR && buf.len() >= in_c * NR);
    for (k, dst) in buf.chunks_exact_mut(NR).take(in_c).enumerate() {
        dst.copy_from_slice(&x[k * stride..k * stride + NR]);
    }
}

/// Bias and PRelu slopes, one per output channel, or null without them.
struct Epilogue {
    bias: *const f32,
    slopes: *const f32,
}

/// `a * b + c`, as rten-gemm's wasm kernel computes it in this build.
#[inline(always)]
fn mul_add(a: v128, b: v128, c: v128) -> v128 {
    #[cfg(target_feature = "relaxed-simd")]
    {
        f32x4_relaxed_madd(a, b, c)
    }
    #[cfg(not(target_feature = "relaxed-simd"))]
    {
        f32x4_add(f32x4_mul(a, b), c)
    }
}

/// Every output channel of one strip of `NR` pixels (`b`: `[in_c][NR]`) into `out` (output
/// row `o` at `out + o * stride`), with the kernel `a` (`[out_c][in_c]`) read in place. Not
/// inlined: V8 gives wasm 15 vector registers, and this loop alone keeps its 9 accumulators,
/// 3 input vectors and a weight in them. `BLOCKS`: more than [`DEPTH_BLOCK`] input channels,
/// summed in blocks as rten-gemm sums them (a later block's sum added to the output stored
/// after the block before); a separate copy, as the extra branches slow the common case.
///
/// # Safety
/// `out` must be valid for reading and writing `out_c` rows of `NR` floats at stride `stride`;
/// `epilogue`'s non-null pointers for reading `out_c` floats.
#[inline(never)]
unsafe fn strip<const BLOCKS: bool>(b: &[f32], a: &[f32], in_c: usize, out: *mut f32, stride: usize, out_c: usize, epilogue: &Epilogue) {
    assert!(out_c >= MR && b.len() >= in_c * NR && a.len() >= out_c * in_c);
    assert!(BLOCKS || in_c <= DEPTH_BLOCK);
    for o in (0..out_c).step_by(MR) {
        // The last rows' tile overlaps the one before it when out_c is not a multiple of MR.
        let o0 = o.min(out_c - MR);
        for k0 in (0..in_c).step_by(if BLOCKS { DEPTH_BLOCK } else { usize::MAX }) {
            let k1 = if BLOCKS { (k0 + DEPTH_BLOCK).min(in_c) } else { in_c };
            let mut acc = [[f32x4_splat(0.); 3]; MR];
            // Safety: k0 < in_c: inside `b`.
            let mut bk = unsafe { b.as_ptr().add(k0 * NR) };
            // Safety: rows o0..o0 + MR < out_c of `a` (asserted), from column k0 < in_c.
            let mut ak = unsafe { [0, 1, 2].map(|i| a.as_ptr().add((o0 + i) * in_c + k0)) };
            for _ in k0..k1 {
                // Safety: k1 - k0 steps of each weight row and of NR inputs, inside `a` and `b`.
                unsafe {
                    let b = [
                        v128_load(bk as *const v128),
                        v128_load(bk.add(4) as *const v128),
                        v128_load(bk.add(8) as *const v128),
                    ];
                    for (i, acc) in acc.iter_mut().enumerate() {
                        let a = v128_load32_splat(ak[i] as *const u32);
                        for j in 0..3 {
                            acc[j] = mul_add(a, b[j], acc[j]);
                        }
                        ak[i] = ak[i].add(1);
                    }
                    bk = bk.add(NR);
                }
            }
            let (first, last) = (k0 == 0, k1 == in_c);
            for (i, acc) in acc.iter().enumerate() {
                let row = o0 + i;
                // Safety: row < out_c: inside the epilogue's arrays and the output.
                unsafe {
                    let bias = (first && !epilogue.bias.is_null()).then(|| f32x4_splat(*epilogue.bias.add(row)));
                    let slope = (last && !epilogue.slopes.is_null()).then(|| f32x4_splat(*epilogue.slopes.add(row)));
                    let dst = out.add(row * stride);
                    for (j, &v) in acc.iter().enumerate() {
                        let dst = dst.add(4 * j) as *mut v128;
                        let mut y = v;
                        if let Some(bias) = bias {
                            y = f32x4_add(y, bias);
                        }
                        if BLOCKS && !first {
                            // This block's sum added to the blocks' before it, stored below.
                            y = f32x4_add(v128_load(dst), y);
                        }
                        if let Some(slope) = slope {
                            // `if y < 0 { y * slope } else { y }`, as rten's PRelu.
                            y = v128_bitselect(f32x4_mul(y, slope), y, f32x4_lt(y, f32x4_splat(0.)));
                        }
                        v128_store(dst, y);
                    }
                }
            }
        }
    }
}

/// Whether [`conv_2d_one_pixel_f32`] takes a convolution whose kernel (`kh x kw`, no padding, no
/// dilation, one group) covers its `h x w` input exactly: one output pixel, a matrix-vector
/// product (FaceMesh's last layer, MobileFaceNet's after global pooling). rten runs it as a GEMM
/// with one column in a 12-column tile: 12 times the work, after packing the whole kernel.
pub fn one_pixel_f32_applies(kernel_hw: [usize; 2], input_hw: [usize; 2], out_c: usize, in_c: usize) -> bool {
    kernel_hw == input_hw && out_c >= 1 && in_c >= 1 && input_hw[0] * input_hw[1] >= 1
}

/// The convolution of [`one_pixel_f32_applies`]: `input` `[batch, in_c, h, w]`, `kernel`
/// `[out_c, in_c * h * w]` row-major, output `[batch, out_c, 1, 1]`, plus `bias`, then `PRelu`
/// if `slopes` is given. Each output sums as rten-gemm does: from zero, in depth blocks of
/// [`DEPTH_BLOCK`] (`(block 0 + bias) + block 1 + ...`).
pub fn conv_2d_one_pixel_f32(
    pool: &BufferPool,
    input: &NdTensorView<f32, 4>,
    kernel: &[f32],
    out_c: usize,
    bias: Option<&[f32]>,
    slopes: Option<&[f32]>,
) -> NdTensor<f32, 4> {
    let [batch, in_c, h, w] = input.shape();
    let depth = in_c * h * w;
    assert!(depth >= 1 && out_c >= 1 && kernel.len() == out_c * depth);
    assert!(bias.is_none_or(|b| b.len() == out_c) && slopes.is_none_or(|s| s.len() == out_c));
    let input = input.to_contiguous_in(pool);
    let mut output = NdTensor::<f32, 2>::uninit_in(pool, [batch, out_c]);
    for n in 0..batch {
        let x = input.slice([n]);
        let x = x.data().unwrap();
        let mut out = output.slice_mut([n]);
        let out = out.data_mut().unwrap();
        // Rows in groups of 4, the last group overlapping the one before it (or, with fewer
        // than 4 rows, repeating the last row in its spare lanes).
        for r in (0..out_c).step_by(4) {
            let r0 = if out_c >= 4 { r.min(out_c - 4) } else { 0 };
            let rows: [usize; 4] = core::array::from_fn(|i| (r0 + i).min(out_c - 1));
            let y = matvec_rows(kernel, depth, rows, x, bias, slopes);
            let mut lanes = [0f32; 4];
            // Safety: lanes holds 4 floats.
            unsafe { v128_store(lanes.as_mut_ptr() as *mut v128, y) };
            for (i, &row) in rows.iter().enumerate() {
                out[row].write(lanes[i]);
            }
        }
    }
    // Safety: every row of every image was written.
    unsafe { output.assume_init() }.into_shape([batch, out_c, 1, 1])
}

/// `kernel[rows] . x` for four rows (`depth` weights each), one lane per row, summed as
/// [`conv_2d_one_pixel_f32`] says, then bias and PRelu. Four weights of each row are loaded at
/// once and transposed, so that each lane accumulates its own row in order.
#[inline(never)]
fn matvec_rows(kernel: &[f32], depth: usize, rows: [usize; 4], x: &[f32], bias: Option<&[f32]>, slopes: Option<&[f32]>) -> v128 {
    assert!(x.len() >= depth && rows.iter().all(|&r| (r + 1) * depth <= kernel.len()));
    let wr = rows.map(|r| &kernel[r * depth..(r + 1) * depth]);
    let mut y = f32x4_splat(0.);
    for (block, k0) in (0..depth).step_by(DEPTH_BLOCK).enumerate() {
        let k1 = (k0 + DEPTH_BLOCK).min(depth);
        let mut acc = f32x4_splat(0.);
        let mut k = k0;
        while k + 4 <= k1 {
            // Safety: k + 4 <= depth: inside each row and x (asserted above).
            let (w, xv) = unsafe {
                (wr.map(|r| v128_load(r.as_ptr().add(k) as *const v128)), v128_load(x.as_ptr().add(k) as *const v128))
            };
            // Transpose: t[j] holds weight k + j of the four rows.
            let (lo01, hi01) = (i32x4_shuffle::<0, 4, 1, 5>(w[0], w[1]), i32x4_shuffle::<2, 6, 3, 7>(w[0], w[1]));
            let (lo23, hi23) = (i32x4_shuffle::<0, 4, 1, 5>(w[2], w[3]), i32x4_shuffle::<2, 6, 3, 7>(w[2], w[3]));
            let t = [
                i64x2_shuffle::<0, 2>(lo01, lo23),
                i64x2_shuffle::<1, 3>(lo01, lo23),
                i64x2_shuffle::<0, 2>(hi01, hi23),
                i64x2_shuffle::<1, 3>(hi01, hi23),
            ];
            acc = mul_add(t[0], i32x4_shuffle::<0, 0, 0, 0>(xv, xv), acc);
            acc = mul_add(t[1], i32x4_shuffle::<1, 1, 1, 1>(xv, xv), acc);
            acc = mul_add(t[2], i32x4_shuffle::<2, 2, 2, 2>(xv, xv), acc);
            acc = mul_add(t[3], i32x4_shuffle::<3, 3, 3, 3>(xv, xv), acc);
            k += 4;
        }
        for k in k..k1 {
            acc = mul_add(f32x4(wr[0][k], wr[1][k], wr[2][k], wr[3][k]), f32x4_splat(x[k]), acc);
        }
        y = if block == 0 {
            match bias {
                Some(b) => f32x4_add(acc, f32x4(b[rows[0]], b[rows[1]], b[rows[2]], b[rows[3]])),
                None => acc,
            }
        } else {
            f32x4_add(y, acc)
        };
    }
    match slopes {
        Some(s) => {
            let slope = f32x4(s[rows[0]], s[rows[1]], s[rows[2]], s[rows[3]]);
            v128_bitselect(f32x4_mul(y, slope), y, f32x4_lt(y, f32x4_splat(0.)))
        }
        None => y,
    }
}

/// A convolution's geometry, for [`conv_2d_im2col_f32`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvGeometry {
    pub kernel: [usize; 2],
    pub strides: [usize; 2],
    /// Top and left padding (bottom and right padding only add zeros, which the bounds give).
    pub pad: [usize; 2],
    pub out: [usize; 2],
}

/// Whether [`conv_2d_im2col_f32`] takes a convolution (one group, no dilation) of `in_c` ->
/// `out_c` channels with `g`: a full tile of rows, a full strip of pixels in each output row
/// (the last strip of a row overlaps the one before it) and one depth block (the first layers
/// of our models are 27 and 75 deep; deeper ones gather more than they compute).
pub fn im2col_f32_applies(in_c: usize, out_c: usize, g: &ConvGeometry) -> bool {
    let depth = in_c * g.kernel[0] * g.kernel[1];
    (1..=DEPTH_BLOCK).contains(&depth) && out_c >= MR && g.out[1] >= NR && g.out[0] >= 1
        && g.strides.iter().all(|&s| s >= 1)
}

/// A convolution (one group, no dilation) of `input` (`[batch, in_c, h, w]`) with `kernel`
/// (`[out_c, in_c * kh * kw]`, row-major) as `g` says, plus `bias`, then `PRelu` if `slopes`
/// is given: the networks' first layers (3 input channels, 3x3 or 5x5, stride 2). rten builds
/// an im2col matrix for its GEMM; here each 12-pixel strip of an output row gathers its
/// `in_c * kh * kw` input values into a small buffer (rten's im2col row order: channel, kernel
/// row, kernel column; zeros outside the image) and the same tile loop as the 1x1 case runs on
/// it. Same sums as rten's path, bit for bit.
pub fn conv_2d_im2col_f32(
    pool: &BufferPool,
    input: &NdTensorView<f32, 4>,
    kernel: &[f32],
    out_c: usize,
    g: &ConvGeometry,
    bias: Option<&[f32]>,
    slopes: Option<&[f32]>,
) -> NdTensor<f32, 4> {
    let [_, in_c, h, w] = input.shape();
    assert!(im2col_f32_applies(in_c, out_c, g));
    let [out_h, out_w] = g.out;
    // Strips at 0, 12, ... of each output row, the last one ending at the row's end.
    let starts = (0..out_h).flat_map(move |oy| (0..out_w).step_by(NR).map(move |ox| oy * out_w + ox.min(out_w - NR)));
    let fill = |x: &[f32], p: usize, buf: &mut [f32]| gather_strip(x, [in_c, h, w], g, [p / out_w, p % out_w], buf);
    conv_by_strips(pool, input, kernel, out_c, in_c * g.kernel[0] * g.kernel[1], g.out, bias, slopes, starts, fill)
}

/// The im2col values of output pixels `(oy, ox..ox + NR)` into `buf` (`[in_c * kh * kw][NR]`).
fn gather_strip(x: &[f32], [in_c, h, w]: [usize; 3], g: &ConvGeometry, [oy, ox]: [usize; 2], buf: &mut [f32]) {
    let [kh, kw] = g.kernel;
    let [sy, sx] = g.strides;
    let mut rows = buf.chunks_exact_mut(NR);
    for c in 0..in_c {
        for ky in 0..kh {
            // The input row, or None in the padding.
            let iy = (oy * sy + ky).checked_sub(g.pad[0]).filter(|&iy| iy < h);
            for kx in 0..kw {
                let dst = rows.next().unwrap();
                let Some(iy) = iy else {
                    dst.fill(0.);
                    continue;
                };
                let row = &x[(c * h + iy) * w..][..w];
                // Input column of the strip's first pixel, and of its last.
                let first = (ox * sx + kx) as isize - g.pad[1] as isize;
                let last = first + (sx * (NR - 1)) as isize;
                if first >= 0 && (last as usize) < w {
                    let src = &row[first as usize..];
                    if sx == 2 && src.len() >= 2 * NR {
                        // The even values of 2 * NR: four from each pair of vectors.
                        for (q, d) in dst.chunks_exact_mut(4).enumerate() {
                            // Safety: 8 * q + 8 <= 2 * NR <= src.len(); d holds 4 floats.
                            unsafe {
                                let a = v128_load(src.as_ptr().add(8 * q) as *const v128);
                                let b = v128_load(src.as_ptr().add(8 * q + 4) as *const v128);
                                v128_store(d.as_mut_ptr() as *mut v128, i32x4_shuffle::<0, 2, 4, 6>(a, b));
                            }
                        }
                    } else {
                        for (j, d) in dst.iter_mut().enumerate() {
                            *d = src[sx * j];
                        }
                    }
                } else {
                    for (j, d) in dst.iter_mut().enumerate() {
                        let ix = first + (sx * j) as isize;
                        *d = if ix >= 0 && (ix as usize) < w { row[ix as usize] } else { 0. };
                    }
                }
            }
        }
    }
}

