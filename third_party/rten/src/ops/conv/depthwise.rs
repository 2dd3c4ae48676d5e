use std::mem::MaybeUninit;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use rten_base::unroll::unroll_loop;
use rten_tensor::prelude::*;
use rten_tensor::{AssumeInit, NdTensor, NdTensorView, NdTensorViewMut};
use smallvec::SmallVec;

use super::ChannelEpilogue;
use crate::buffer_pool::{AutoReturn, BufferPool};

/// Calculate the output coordinate range for which all input / output
/// coordinates are valid when updating a row of output using:
///
/// ```text
/// for out_x in min_out_x..max_out_x {
///   out_row[out_x] += in_row[out_x * stride + k_x * dilation - pad_left] * kernel_row[k_x]
/// }
/// ```
///
/// Where `in_row` is the un-padded input row of width `in_w` and `out_row` is
/// an output row of width `out_w`.
///
/// In other words, we want to find the minimum and maximum values of `out_x`
/// such that:
///
/// - out_x * stride + k_x * dilation - pad_left >= 0
/// - out_x * stride + k_x * dilation - pad_left <= in_w
/// - out_x >= 0
/// - out_x <= out_w
fn min_max_out_x_coords(
    k_x: usize,
    in_w: usize,
    pad_left: usize,
    stride: usize,
    dilation: usize,
    out_w: usize,
) -> (usize, usize) {
    let min_out_x = pad_left
        .saturating_sub(k_x * dilation)
        .div_ceil(stride)
        .min(out_w);
    let max_out_x = (in_w + pad_left)
        .saturating_sub(k_x * dilation)
        .div_ceil(stride)
        .min(out_w);
    (min_out_x, max_out_x)
}

/// Convolution parameters passed to the kernel which are constant across
/// all calls within a single depthwise conv operation.
struct ConvParams<'a> {
    kernel_h: usize,
    stride_h: usize,
    stride_w: usize,
    dilation_y: usize,
    pad_top: usize,
    in_h: usize,
    in_row_len: usize,
    in_row_stride: usize,

    /// Precomputed map of kernel X coordinate to input and output row
    /// range.
    col_range_for_kernel_x: &'a [(Range<usize>, Range<usize>)],
}

/// Trait for architecture and data-type specific kernels for depthwise
/// convolution.
trait DepthwiseConvKernel<X, W, Y> {
    /// Compute one output row of the depthwise convolution.
    ///
    /// `image_chan` and `kernel_chan` contain the input data and weights for
    /// the channel that corresponds to the output row.
    fn compute_row(
        &self,
        params: &ConvParams,
        out_row: &mut [MaybeUninit<Y>],
        out_y: usize,
        out_init: Y,
        image_chan: &[X],
        kernel_chan: NdTensorView<W, 2>,
        input_zero: X,
        kernel_zero: W,
    );

    /// Compute a whole output channel at once, if this kernel has a fast path for the
    /// convolution's shape. Returns `false` (writing nothing) otherwise, and the caller
    /// falls back to [`compute_row`](DepthwiseConvKernel::compute_row).
    ///
    /// faceproof patch: see PATCHES.md.
    fn compute_channel(
        &self,
        _params: &ChannelParams,
        _out_chan: &mut [MaybeUninit<Y>],
        _image_chan: &[X],
        _kernel_chan: NdTensorView<W, 2>,
        _out_init: Y,
    ) -> bool {
        false
    }

    /// Compute the channels `chans` of one image at once, if this kernel has a fast path for
    /// the convolution's shape: `out` holds those channels' outputs (contiguous planes of
    /// `out_h * out_w`), `image` every input channel (contiguous planes of `in_h * in_w`),
    /// `kernel` every channel's taps (`[channels][k_h * k_w]`), `bias` one value per channel;
    /// `epilogue` is applied to each channel once computed. Returns `false` (writing nothing)
    /// otherwise, and the caller goes channel by channel.
    ///
    /// faceproof patch: see PATCHES.md.
    #[allow(clippy::too_many_arguments)]
    fn compute_block(
        &self,
        _params: &ChannelParams,
        _out: &mut [MaybeUninit<Y>],
        _image: &[X],
        _chans: Range<usize>,
        _kernel: &[W],
        _bias: Option<&[Y]>,
        _epilogue: Option<ChannelEpilogue<Y>>,
    ) -> bool {
        false
    }
}

/// Shape of one channel of a depthwise convolution, for
/// [`DepthwiseConvKernel::compute_channel`].
struct ChannelParams {
    in_h: usize,
    in_w: usize,
    in_row_stride: usize,
    out_h: usize,
    out_w: usize,
    out_row_stride: usize,
    kernel: [usize; 2],
    strides: [usize; 2],
    dilations: [usize; 2],
    /// Top and left padding.
    pad: [usize; 2],
}

/// Square kernels and strides with a vectorizable path: MobileNet-style networks
/// (MobileFaceNet, BlazeFace, FaceMesh) use 3x3 and 5x5 kernels with stride 1 or 2.
fn fast_depthwise_f32(
    p: &ChannelParams,
    out_chan: &mut [MaybeUninit<f32>],
    image_chan: &[f32],
    kernel: NdTensorView<f32, 2>,
    bias: f32,
) -> bool {
    if p.dilations != [1, 1] || p.out_h == 0 || p.out_w == 0 {
        return false;
    }
    let [k_h, k_w] = p.kernel;
    if p.out_h == 1 && p.out_w == 1 && p.pad == [0, 0] {
        // One output per channel (a global depthwise convolution such as MobileFaceNet's
        // GDConv, 7x7 on 7x7): a dot product, taps in the generic kernel's order.
        let mut acc = bias;
        for ky in 0..k_h.min(p.in_h) {
            let row = &image_chan[ky * p.in_row_stride..][..k_w.min(p.in_w)];
            for (kx, &x) in row.iter().enumerate() {
                acc += x * kernel[[ky, kx]];
            }
        }
        out_chan[0].write(acc);
        return true;
    }
    let mut weights = [0f32; 25];
    if k_h != k_w || !(k_h == 3 || k_h == 5) {
        return false;
    }
    for ky in 0..k_h {
        for kx in 0..k_w {
            weights[ky * k_w + kx] = kernel[[ky, kx]];
        }
    }
    match (k_h, p.strides) {
        (3, [1, 1]) => depthwise_padded::<3, 1>(p, out_chan, image_chan, &weights, bias),
        (3, [2, 2]) => depthwise_padded::<3, 2>(p, out_chan, image_chan, &weights, bias),
        (5, [1, 1]) => depthwise_padded::<5, 1>(p, out_chan, image_chan, &weights, bias),
        (5, [2, 2]) => depthwise_padded::<5, 2>(p, out_chan, image_chan, &weights, bias),
        _ => return false,
    }
    true
}

/// The zero-padded copy of one input channel that a `K`x`K` kernel with stride `S` reads:
/// every kernel tap then reads a contiguous run of a scratch row, and the loop over output
/// columns has no bounds or padding tests (for `S = 2`, each row is stored de-interleaved:
/// even columns, then odd columns). `fill` writes the same positions for every channel of a
/// layer, so the padding stays zero from one channel to the next.
struct Scratch<const K: usize, const S: usize> {
    data: Vec<f32>,
    /// Row length (the input columns the outputs read, padding included).
    sw: usize,
    /// Even columns per de-interleaved row.
    half: usize,
}

impl<const K: usize, const S: usize> Scratch<K, S> {
    fn new(p: &ChannelParams) -> Self {
        // The input rows and columns the outputs read, padding included.
        let sh = (p.out_h - 1) * S + K;
        let sw = (p.out_w - 1) * S + K;
        Scratch { data: vec![0f32; sh * sw], sw, half: sw.div_ceil(S) }
    }

    /// Copy the channel `image_chan` in.
    fn fill(&mut self, p: &ChannelParams, image_chan: &[f32]) {
        let sw = self.sw;
        for (y, row) in self.data.chunks_exact_mut(sw).enumerate() {
            let Some(in_y) = y.checked_sub(p.pad[0]).filter(|&iy| iy < p.in_h) else {
                continue;
            };
            // Input columns that land inside the scratch row (the rest stays zero padding).
            let n = p.in_w.min(sw.saturating_sub(p.pad[1]));
            let in_row = &image_chan[in_y * p.in_row_stride..][..n];
            if S == 1 {
                row[p.pad[1]..p.pad[1] + n].copy_from_slice(in_row);
            } else {
                deinterleave(in_row, p.pad[1], row, self.half);
            }
        }
    }
}

/// Depthwise convolution of one channel with a `K`x`K` kernel and stride `S`, through a
/// [`Scratch`] copy of the channel. The taps are summed in the same order as
/// [`GenericDepthwiseConvKernel`], so the results are the same.
fn depthwise_padded<const K: usize, const S: usize>(
    p: &ChannelParams,
    out_chan: &mut [MaybeUninit<f32>],
    image_chan: &[f32],
    weights: &[f32; 25],
    bias: f32,
) {
    let (out_h, out_w) = (p.out_h, p.out_w);
    let mut scratch = Scratch::<K, S>::new(p);
    scratch.fill(p, image_chan);
    let Scratch { data: scratch, sw, half } = scratch;

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if out_w >= 4 {
        simd::depthwise_rows::<K, S>(&scratch, sw, half, out_chan, p.out_row_stride, out_h, out_w, weights, bias);
        return;
    }

    for oy in 0..out_h {
        // One slice of `out_w` values per kernel tap.
        let taps: [[&[f32]; K]; K] = std::array::from_fn(|ky| {
            let row = &scratch[(oy * S + ky) * sw..][..sw];
            std::array::from_fn(|kx| {
                let start = if S == 1 { kx } else { kx / 2 + (kx % 2) * half };
                &row[start..start + out_w]
            })
        });
        let out_row = &mut out_chan[oy * p.out_row_stride..][..out_w];
        for (ox, out) in out_row.iter_mut().enumerate() {
            let mut acc = bias;
            for ky in 0..K {
                for kx in 0..K {
                    // Safety: every tap slice has `out_w` elements and `ox < out_w`.
                    acc += unsafe { *taps[ky][kx].get_unchecked(ox) } * weights[ky * K + kx];
                }
            }
            out.write(acc);
        }
    }
}

/// The channels `chans` of a layer whose shape [`depthwise_block`] takes (3x3 or 5x5, stride 1
/// or 2, output rows of 4 or more, contiguous rows): per channel, its rows in wasm SIMD, read in
/// place for the 3x3 shapes of [`simd_in_place`], else through one [`Scratch`] the layer's
/// channels share, then its epilogue, without the per-channel views, allocation and zeroing of
/// the channel-by-channel path (MobileFaceNet's 7x7 and 14x14 channels spent as long there as
/// in their arithmetic). `false` for other shapes.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[allow(clippy::too_many_arguments)]
fn fast_depthwise_block_f32(
    p: &ChannelParams,
    out: &mut [MaybeUninit<f32>],
    image: &[f32],
    chans: Range<usize>,
    kernel: &[f32],
    bias: Option<&[f32]>,
    epilogue: Option<ChannelEpilogue<f32>>,
) -> bool {
    if p.dilations != [1, 1] || p.kernel[0] != p.kernel[1] {
        return false;
    }
    match (p.kernel[0], p.strides) {
        (3, [1, 1]) => depthwise_block::<3, 1>(p, out, image, chans, kernel, bias, epilogue),
        (3, [2, 2]) => depthwise_block::<3, 2>(p, out, image, chans, kernel, bias, epilogue),
        (5, [1, 1]) => depthwise_block::<5, 1>(p, out, image, chans, kernel, bias, epilogue),
        (5, [2, 2]) => depthwise_block::<5, 2>(p, out, image, chans, kernel, bias, epilogue),
        _ => false,
    }
}

/// [`fast_depthwise_block_f32`] for one kernel size and stride.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[allow(clippy::too_many_arguments)]
fn depthwise_block<const K: usize, const S: usize>(
    p: &ChannelParams,
    out: &mut [MaybeUninit<f32>],
    image: &[f32],
    chans: Range<usize>,
    kernel: &[f32],
    bias: Option<&[f32]>,
    epilogue: Option<ChannelEpilogue<f32>>,
) -> bool {
    let (in_plane, out_plane, taps) = (p.in_h * p.in_w, p.out_h * p.out_w, K * K);
    if p.out_w < 4
        || p.out_h == 0
        || p.in_row_stride != p.in_w
        || p.out_row_stride != p.out_w
        || image.len() < chans.end * in_plane
        || out.len() != chans.len() * out_plane
        || kernel.len() < chans.end * taps
        || bias.is_some_and(|b| b.len() < chans.end)
    {
        return false;
    }
    // 3x3 with stride 1 and one row and column of zeros on each side, or stride 2 on an even
    // plane with zeros after it only: read in place, no copy.
    let in_place = K == 3
        && ((S == 1 && p.pad == [1, 1] && [p.out_h, p.out_w] == [p.in_h, p.in_w])
            || (S == 2 && p.pad == [0, 0] && [p.out_h * 2, p.out_w * 2] == [p.in_h, p.in_w]));
    let zero_row = if in_place { vec![0f32; p.in_w] } else { Vec::new() };
    let mut scratch = if in_place { None } else { Some(Scratch::<K, S>::new(p)) };
    let mut weights = [0f32; 25];
    for (c, out_chan) in chans.zip(out.chunks_exact_mut(out_plane)) {
        let image_chan = &image[c * in_plane..][..in_plane];
        weights[..taps].copy_from_slice(&kernel[c * taps..][..taps]);
        let bias = bias.map_or(0., |b| b[c]);
        if let Some(scratch) = scratch.as_mut() {
            scratch.fill(p, image_chan);
            simd::depthwise_rows::<K, S>(&scratch.data, scratch.sw, scratch.half, out_chan, p.out_w, p.out_h, p.out_w, &weights, bias);
        } else {
            simd_in_place::depthwise_3x3::<S>(image_chan, &zero_row, p.in_h, p.in_w, out_chan, &weights, bias);
        }
        if let Some(epilogue) = epilogue {
            // Safety: the kernel wrote every output of the channel.
            epilogue(c, unsafe { out_chan.assume_init() });
        }
    }
    true
}

/// Store input row `in_row` at column `pad` of a stride-2 scratch row, de-interleaved: the
/// scratch's even columns in `row[..half]`, its odd columns in `row[half..]`.
fn deinterleave(in_row: &[f32], pad: usize, row: &mut [f32], half: usize) {
    let (even, odd) = row.split_at_mut(half);
    #[allow(unused_mut)]
    let mut done = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        // Input columns in_x + 2i (i < 4) land at scratch column in_x + 2i + pad, and
        // in_x + 2i + 1 at the next one: four values in each half at once (the first four
        // in the even half for an even pad, in the odd half for an odd one).
        let odd_pad = pad % 2 == 1;
        while done + 8 <= in_row.len() {
            let x = done + pad;
            let (e, o) = (x / 2 + odd_pad as usize, x / 2);
            if e + 4 > even.len() || o + 4 > odd.len() {
                break;
            }
            // Safety: 8 values at `done` in `in_row`, 4 at `e` in `even` and at `o` in `odd`
            // (checked above).
            unsafe {
                let a = v128_load(in_row.as_ptr().add(done) as *const v128);
                let b = v128_load(in_row.as_ptr().add(done + 4) as *const v128);
                let (first, second) = (i32x4_shuffle::<0, 2, 4, 6>(a, b), i32x4_shuffle::<1, 3, 5, 7>(a, b));
                let (to_e, to_o) = if odd_pad { (second, first) } else { (first, second) };
                v128_store(even.as_mut_ptr().add(e) as *mut v128, to_e);
                v128_store(odd.as_mut_ptr().add(o) as *mut v128, to_o);
            }
            done += 8;
        }
    }
    for (in_x, &v) in in_row.iter().enumerate().skip(done) {
        let x = in_x + pad;
        if x % 2 == 0 {
            even[x / 2] = v;
        } else {
            odd[x / 2] = v;
        }
    }
}

/// Depthwise rows with explicit wasm SIMD: four output columns per vector (the last vector of
/// a row overlaps the one before when the width is not a multiple of four), no scalar tail.
/// Same taps, same order, no fused multiply-add: the same values as the portable loop.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;
    use std::mem::MaybeUninit;

    #[allow(clippy::too_many_arguments)]
    pub fn depthwise_rows<const K: usize, const S: usize>(
        scratch: &[f32],
        sw: usize,
        half: usize,
        out_chan: &mut [MaybeUninit<f32>],
        out_row_stride: usize,
        out_h: usize,
        out_w: usize,
        weights: &[f32; 25],
        bias: f32,
    ) {
        assert!(out_w >= 4);
        // Where tap column `kx` starts in a scratch row (de-interleaved for stride 2).
        let start = |kx: usize| if S == 1 { kx } else { kx / 2 + (kx % 2) * half };
        // Every tap of every output row reads `out_w` values inside `scratch`, and every
        // output row lies inside `out_chan`.
        assert!((0..K).all(|kx| start(kx) + out_w <= sw));
        assert!(((out_h - 1) * S + K) * sw <= scratch.len());
        assert!((out_h - 1) * out_row_stride + out_w <= out_chan.len());
        let w: [v128; 25] = std::array::from_fn(|i| f32x4_splat(weights[i]));
        let b = f32x4_splat(bias);
        let last = out_w - 4;
        for oy in 0..out_h {
            let rows = scratch.as_ptr().wrapping_add(oy * S * sw);
            let out = out_chan.as_mut_ptr().wrapping_add(oy * out_row_stride) as *mut f32;
            let mut ox = 0;
            loop {
                let mut acc = b;
                for ky in 0..K {
                    for kx in 0..K {
                        // Safety: ky * sw + start(kx) + ox + 4 <= the row's taps' end, inside
                        // `scratch` (asserted above; ox <= out_w - 4).
                        let x = unsafe { v128_load(rows.add(ky * sw + start(kx) + ox) as *const v128) };
                        acc = f32x4_add(acc, f32x4_mul(x, w[ky * K + kx]));
                    }
                }
                // Safety: ox + 4 <= out_w, inside the output row (asserted above).
                unsafe { v128_store(out.add(ox) as *mut v128, acc) };
                if ox == last {
                    break;
                }
                ox = (ox + 4).min(last);
            }
        }
    }
}

/// The 3x3 depthwise layers of our models, read from the input plane in place rather than
/// through a [`Scratch`] copy (copying, and for stride 2 de-interleaving, each row of each
/// channel took a third of the depthwise time): stride 1 with padding 1 on every side, and
/// stride 2 on an even plane padded after it only (TensorFlow's "same"). The taps in the
/// padding are zeros multiplied as the scratch's are (rows outside read `zero_row`; columns
/// outside come from a shuffle with a zero vector), so each output is the same operations on
/// the same values in the same order: bit-identical to the scratch path.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd_in_place {
    use core::arch::wasm32::*;
    use std::mem::MaybeUninit;

    /// The three taps of each output of the vector at output column `ox` of one input row:
    /// columns `ox * S - P + kx` for `kx` in 0..3 (`P`: 1 for stride 1, 0 for stride 2).
    /// `LEFT`: the first vector of a row (stride 1: column -1 is padding); `RIGHT`: the last one
    /// (its last tap's last column is the padding after the row).
    ///
    /// # Safety
    /// `row` must be valid for reading `w` floats; `ox + 4 <= out_w` (`out_w`: `w` for stride 1,
    /// `w / 2` for stride 2); unless `LEFT`, `ox >= 1`; unless `RIGHT`, `ox + 4 < out_w`.
    #[inline(always)]
    unsafe fn taps<const S: usize, const LEFT: bool, const RIGHT: bool>(row: *const f32, ox: usize) -> [v128; 3] {
        let zero = f32x4_splat(0.);
        let load = |i: usize| unsafe { v128_load(row.add(i) as *const v128) };
        if S == 1 {
            let mid = load(ox);
            let left = if LEFT { i32x4_shuffle::<4, 0, 1, 2>(mid, zero) } else { load(ox - 1) };
            let right = if RIGHT { i32x4_shuffle::<1, 2, 3, 4>(mid, zero) } else { load(ox + 1) };
            [left, mid, right]
        } else {
            let (a, b) = (load(2 * ox), load(2 * ox + 4));
            let even = i32x4_shuffle::<0, 2, 4, 6>(a, b);
            let odd = i32x4_shuffle::<1, 3, 5, 7>(a, b);
            // Column 2 * ox + 8: the next vector's first, or the padding.
            let next = if RIGHT { zero } else { unsafe { v128_load32_zero(row.add(2 * ox + 8) as *const u32) } };
            [even, odd, i32x4_shuffle::<1, 2, 3, 4>(even, next)]
        }
    }

    /// One output vector at column `ox` from the input rows `rows` (kernel rows 0, 1, 2).
    ///
    /// # Safety
    /// As [`taps`] for each row.
    #[inline(always)]
    unsafe fn vector<const S: usize, const LEFT: bool, const RIGHT: bool>(
        rows: &[*const f32; 3],
        ox: usize,
        w: &[v128; 9],
        bias: v128,
    ) -> v128 {
        let mut acc = bias;
        for (ky, &row) in rows.iter().enumerate() {
            // Safety: see the function's contract.
            let t = unsafe { taps::<S, LEFT, RIGHT>(row, ox) };
            for kx in 0..3 {
                acc = f32x4_add(acc, f32x4_mul(t[kx], w[ky * 3 + kx]));
            }
        }
        acc
    }

    /// The channel `x` (`h` rows of `w`) into `out` (`h / S` rows of `w / S`), as the module
    /// says; `zero_row` holds `w` zeros.
    pub fn depthwise_3x3<const S: usize>(
        x: &[f32],
        zero_row: &[f32],
        h: usize,
        w: usize,
        out: &mut [MaybeUninit<f32>],
        weights: &[f32; 25],
        bias: f32,
    ) {
        assert!(S == 1 || S == 2);
        let (out_h, out_w) = (h / S, w / S);
        assert!(out_w >= 4 && h % S == 0 && w % S == 0);
        assert!(x.len() >= h * w && out.len() >= out_h * out_w && zero_row.len() >= w);
        let wv: [v128; 9] = std::array::from_fn(|i| f32x4_splat(weights[i]));
        let b = f32x4_splat(bias);
        let last = out_w - 4;
        for oy in 0..out_h {
            // Input rows oy * S - P + ky, or the zero row in the padding.
            let rows: [*const f32; 3] = std::array::from_fn(|ky| {
                match (oy * S + ky).checked_sub(2 - S).filter(|&iy| iy < h) {
                    Some(iy) => x[iy * w..][..w].as_ptr(),
                    None => zero_row.as_ptr(),
                }
            });
            let out = out[oy * out_w..][..out_w].as_mut_ptr() as *mut f32;
            // Safety: ox + 4 <= out_w: inside the output row.
            let store = |ox: usize, y: v128| unsafe { v128_store(out.add(ox) as *mut v128, y) };
            // Safety: every row holds w floats (asserted above); the first vector at 0, the
            // inner ones at 4, 8, ... below `last` (so ox + 4 < out_w), the last at `last`.
            unsafe {
                if last == 0 {
                    store(0, vector::<S, true, true>(&rows, 0, &wv, b));
                    continue;
                }
                store(0, vector::<S, true, false>(&rows, 0, &wv, b));
                let mut ox = 4;
                while ox < last {
                    store(ox, vector::<S, false, false>(&rows, ox, &wv, b));
                    ox += 4;
                }
                store(last, vector::<S, false, true>(&rows, last, &wv, b));
            }
        }
    }
}

struct GenericDepthwiseConvKernel {}

impl DepthwiseConvKernel<f32, f32, f32> for GenericDepthwiseConvKernel {
    fn compute_channel(
        &self,
        params: &ChannelParams,
        out_chan: &mut [MaybeUninit<f32>],
        image_chan: &[f32],
        kernel_chan: NdTensorView<f32, 2>,
        out_init: f32,
    ) -> bool {
        fast_depthwise_f32(params, out_chan, image_chan, kernel_chan, out_init)
    }

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    fn compute_block(
        &self,
        params: &ChannelParams,
        out: &mut [MaybeUninit<f32>],
        image: &[f32],
        chans: Range<usize>,
        kernel: &[f32],
        bias: Option<&[f32]>,
        epilogue: Option<ChannelEpilogue<f32>>,
    ) -> bool {
        fast_depthwise_block_f32(params, out, image, chans, kernel, bias, epilogue)
    }

    fn compute_row(
        &self,
        params: &ConvParams,
        out_row: &mut [MaybeUninit<f32>],
        out_y: usize,
        out_init: f32,
        image_chan: &[f32],
        kernel_chan: NdTensorView<f32, 2>,
        _input_zero: f32,
        _kernel_zero: f32,
    ) {
        let kernel_view = kernel_chan.weakly_checked_view();

        // Initialize output row.
        for x in out_row.iter_mut() {
            x.write(out_init);
        }
        let out_row: &mut [f32] = unsafe { out_row.assume_init() };

        for k_y in 0..params.kernel_h {
            let in_y = out_y * params.stride_h + k_y * params.dilation_y;
            if in_y < params.pad_top || in_y >= params.in_h + params.pad_top {
                continue;
            }

            let in_row_y = in_y - params.pad_top;
            let in_row = &image_chan[in_row_y * params.in_row_stride..][..params.in_row_len];

            for (k_x, (in_range, out_range)) in params.col_range_for_kernel_x.iter().enumerate() {
                let dest = &mut out_row[out_range.clone()];
                let src = &in_row[in_range.clone()];
                let scale = kernel_view[[k_y, k_x]];

                let src_els = src.len().div_ceil(params.stride_w);
                debug_assert!(src_els == dest.len());

                unroll_loop!(0..src_els, i, 4, {
                    unsafe {
                        *dest.get_unchecked_mut(i) +=
                            *src.get_unchecked(i * params.stride_w) * scale;
                    }
                });
            }
        }
    }
}

impl DepthwiseConvKernel<i8, u8, i32> for GenericDepthwiseConvKernel {
    fn compute_row(
        &self,
        params: &ConvParams,
        out_row: &mut [MaybeUninit<i32>],
        out_y: usize,
        out_init: i32,
        image_chan: &[i8],
        kernel_chan: NdTensorView<u8, 2>,
        input_zero: i8,
        kernel_zero: u8,
    ) {
        let kernel_view = kernel_chan.weakly_checked_view();
        let input_zero = input_zero as i32;
        let kernel_zero = kernel_zero as i32;

        // Initialize output row.
        for x in out_row.iter_mut() {
            x.write(out_init);
        }
        let out_row: &mut [i32] = unsafe { out_row.assume_init() };

        for k_y in 0..params.kernel_h {
            let in_y = out_y * params.stride_h + k_y * params.dilation_y;
            if in_y < params.pad_top || in_y >= params.in_h + params.pad_top {
                continue;
            }

            let in_row_y = in_y - params.pad_top;
            let in_row = &image_chan[in_row_y * params.in_row_stride..][..params.in_row_len];

            for (k_x, (in_range, out_range)) in params.col_range_for_kernel_x.iter().enumerate() {
                let dest = &mut out_row[out_range.clone()];
                let src = &in_row[in_range.clone()];
                let scale = kernel_view[[k_y, k_x]] as i32 - kernel_zero;

                let src_els = src.len().div_ceil(params.stride_w);
                debug_assert!(src_els == dest.len());

                unroll_loop!(0..src_els, i, 4, {
                    unsafe {
                        *dest.get_unchecked_mut(i) +=
                            (*src.get_unchecked(i * params.stride_w) as i32 - input_zero) * scale;
                    }
                });
            }
        }
    }
}

/// Compute depthwise convolution for the block of channels from `input`
/// specified by `chan_range` into `output`.
///
/// Convolutions where the group count is equal to the input and output
/// channel count are referred to as _depthwise_. These use a different
/// implementation than general convolutions for efficiency.
///
/// `X`, `W` and `Y` are the input, weight and output data types respectively.
pub struct DepthwiseConvExecutor<X: Copy, W, Y: Copy + Default> {
    kernel: Box<dyn DepthwiseConvKernel<X, W, Y> + Sync>,
}

impl<X: Copy + Default + Sync, W: Copy + Default + Sync, Y: Copy + Default>
    DepthwiseConvExecutor<X, W, Y>
{
    /// Compute depthwise convolution for the block of channels from `input`
    /// specified by `chan_range` into `output`.
    ///
    /// `col_range_for_kernel_x` is a precomputed map of kernel X coordinate to
    /// `(in_range, out_range)` of column ranges that are valid for the input and
    /// output.
    ///
    /// When this function returns, all elements of `output` will have been
    /// initialized.
    fn depthwise_conv_2d_block(
        &self,
        mut output: NdTensorViewMut<MaybeUninit<Y>, 3>, // C, H, W
        chan_range: Range<usize>,
        input: NdTensorView<X, 3>,  // C, H, W
        kernel: NdTensorView<W, 4>, // C, _, Kh, Kw
        bias: Option<NdTensorView<Y, 1>>,
        padding: [usize; 4],
        strides: [usize; 2],
        dilations: [usize; 2],
        col_range_for_kernel_x: &[(Range<usize>, Range<usize>)],
        input_zero: Option<X>,
        kernel_zero: Option<&[W]>,
        epilogue: Option<ChannelEpilogue<Y>>,
    ) {
        debug_assert_eq!(input.stride(2), 1, "last dim of input is not contiguous");
        debug_assert_eq!(output.stride(2), 1, "last dim of output is not contiguous");

        let [_, out_h, _out_w] = output.shape();
        let [_, _, k_h, _k_w] = kernel.shape();
        let [_, in_h, _in_w] = input.shape();
        let [stride_h, stride_w] = strides;
        let [pad_top, _pad_left, _pad_bottom, _pad_right] = padding;
        let [dilation_y, _dilation_x] = dilations;

        let conv_params = ConvParams {
            stride_h,
            stride_w,
            kernel_h: k_h,
            pad_top,
            dilation_y,
            in_h,
            in_row_stride: input.stride(1),
            in_row_len: input.size(2),
            col_range_for_kernel_x,
        };

        // The same for every channel (an output channel's rows are the block's last two dims).
        let channel_params = ChannelParams {
            in_h,
            in_w: input.size(2),
            in_row_stride: input.stride(1),
            out_h,
            out_w: output.size(2),
            out_row_stride: output.stride(1),
            kernel: [k_h, kernel.size(3)],
            strides,
            dilations,
            pad: [pad_top, padding[1]],
        };

        // faceproof patch: the whole block at once where the kernel has a fast path for it.
        if input_zero.is_none() && kernel_zero.is_none() {
            let bias_data = match bias.as_ref().map(|b| b.data()) {
                Some(None) => None,
                b => Some(b.flatten()),
            };
            if let (Some(image), Some(weights), Some(bias_data)) = (input.data(), kernel.data(), bias_data) {
                if let Some(out) = output.data_mut() {
                    if self.kernel.compute_block(&channel_params, out, image, chan_range.clone(), weights, bias_data, epilogue) {
                        return;
                    }
                }
            }
        }

        let input_zero = input_zero.unwrap_or_default();
        for c in chan_range.clone() {
            let kernel_view = kernel.slice([c, 0]);

            let mut out_chan = output.slice_mut([c - chan_range.start]);
            let out_row_stride = out_chan.stride(0);
            let out_row_len = out_chan.size(1);
            let out_chan_data = out_chan.data_mut().unwrap();

            let in_chan = input.slice([c]);
            let in_chan_data = in_chan.data().unwrap();

            let init_value = if let Some(bias) = bias {
                bias[c]
            } else {
                Y::default()
            };

            let kernel_zero = kernel_zero.map(|kz| kz[c]).unwrap_or_default();

            let done = self.kernel.compute_channel(
                &channel_params,
                out_chan_data,
                in_chan_data,
                kernel_view,
                init_value,
            );

            // rten's row kernel, unless the fast path wrote the channel (filter keeps the
            // upstream loop unchanged)
            for out_y in (0..out_h).filter(|_| !done) {
                // Here and in the `compute_row` implementation we use manual
                // slicing of the input data rather than tensor `slice` methods
                // for efficiency.
                let out_row = &mut out_chan_data[out_y * out_row_stride..][..out_row_len];
                self.kernel.compute_row(
                    &conv_params,
                    out_row,
                    out_y,
                    init_value,
                    in_chan_data,
                    kernel_view,
                    input_zero,
                    kernel_zero,
                );
            }

            if let Some(epilogue) = epilogue {
                // Safety: every row of the channel was written above.
                let out_chan_data = unsafe { out_chan_data.assume_init() };
                epilogue(c, out_chan_data);
            }
        }
    }

    /// Compute a depthwise convolution of a 2D image.
    pub fn depthwise_conv_2d(
        &self,
        pool: &BufferPool,
        input: &NdTensorView<X, 4>,
        kernel: &NdTensorView<W, 4>,
        bias: Option<NdTensorView<Y, 1>>,
        padding: [usize; 4],
        strides: [usize; 2],
        dilations: [usize; 2],
        out_hw: [usize; 2],
        input_zero: Option<X>,
        kernel_zero: Option<&[W]>,
        epilogue: Option<ChannelEpilogue<Y>>,
    ) -> NdTensor<Y, 4> {
        let [batch, _in_c, _in_h, in_w]: [usize; 4] = input.shape();
        let [out_c, _, _k_h, k_w]: [usize; 4] = kernel.shape();
        let [_pad_top, pad_left, _pad_bottom, _pad_right] = padding;
        let [_stride_h, stride_w] = strides;
        let [_dilation_y, dilation_x] = dilations;
        let [out_h, out_w] = out_hw;

        let mut output = NdTensor::uninit_in(pool, [batch, out_c, out_h, out_w]);

        // `conv_2d_depthwise_block` assumes contiguous last dimension.
        let input = input.to_contiguous_in(pool).auto_return(pool);

        // Map of kernel X position to `(in_range, out_range)` of column ranges that
        // are used in the inner loop.
        let col_range_for_kernel_x: SmallVec<[_; 7]> = (0..k_w)
            .map(|k_x| {
                let (min_out_x, max_out_x) =
                    min_max_out_x_coords(k_x, in_w, pad_left, stride_w, dilation_x, out_w);

                // If the output range is empty, the input range must be too. Exit
                // early in case `max_out_x` is zero.
                //
                // This can happen if all the input coordinates which this kernel
                // column would be multiplied with are part of the padding region.
                if min_out_x == max_out_x {
                    return (0..0, 0..0);
                }

                let min_in_x = min_out_x * stride_w + k_x * dilation_x - pad_left;
                let max_in_x = (max_out_x - 1) * stride_w + k_x * dilation_x - pad_left + 1;

                (min_in_x..max_in_x, min_out_x..max_out_x)
            })
            .collect();

        let n_init = AtomicUsize::new(0);
        // faceproof patch: blocks of channels, not one channel, per parallel task. MobileNet-style
        // layers have hundreds of channels of 7x7 to 28x28: per-task overhead (splitting,
        // views, an atomic add) was a large part of their time. 4 blocks per thread keep the
        // load balanced.
        let chans_per_task = out_c.div_ceil(4 * rten_gemm::operator_threads()).max(1);
        for n in 0..batch {
            let mut out_chans = output.slice_mut(n);
            let input = input.slice(n);

            out_chans
                .axis_chunks_mut(0, chans_per_task)
                .into_par_iter()
                .with_min_len(rten_gemm::operator_min_len())
                .enumerate()
                .for_each(|(block, mut out_chans)| {
                    let first_chan = block * chans_per_task;
                    let n_chans = out_chans.size(0);
                    self.depthwise_conv_2d_block(
                        out_chans.view_mut(),
                        first_chan..first_chan + n_chans,
                        input,
                        kernel.view(),
                        bias,
                        padding,
                        strides,
                        dilations,
                        &col_range_for_kernel_x,
                        input_zero,
                        kernel_zero,
                        epilogue,
                    );

                    n_init.fetch_add(out_chans.len(), Ordering::SeqCst);
                });
        }

        // Safety: We initialized all output rows
        assert!(n_init.load(Ordering::SeqCst) == output.len());
        unsafe { output.assume_init() }
    }
}

impl Default for DepthwiseConvExecutor<f32, f32, f32> {
    fn default() -> Self {
        DepthwiseConvExecutor {
            kernel: Box::new(GenericDepthwiseConvKernel {}),
        }
    }
}

impl Default for DepthwiseConvExecutor<i8, u8, i32> {
    fn default() -> Self {
        DepthwiseConvExecutor {
            kernel: Box::new(GenericDepthwiseConvKernel {}),
        }
    }
}

// nb. Tests for depthwise conv are implemented in the main `conv.rs` module.
