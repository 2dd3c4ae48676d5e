//! Pixels in the one layout every stage reads: interleaved RGB, `f32` in 0..=255, row-major.
//!
//! The pipeline works in float from the first step, like the Python reference, so that no
//! rounding to `u8` happens between stages.

use crate::error::{Error, Result};

/// Largest side accepted from callers: bigger frames are a bug or an attack on memory.
pub const MAX_SIDE: u32 = 8192;

/// An RGB image, `data.len() == width * height * 3`.
#[derive(Clone, PartialEq)]
pub struct RgbImage {
    pub width: u32,
    pub height: u32,
    pub data: Vec<f32>,
}

/// Anything the pipeline can sample pixels from: a float [`RgbImage`], or a camera frame's
/// 8-bit RGBA bytes read in place ([`RgbaFrame`]).
pub trait Pixels {
    fn width(&self) -> u32;
    fn height(&self) -> u32;
    /// Pixel (x, y) as RGB in 0..=255, or black outside the image (the reference's border rule).
    fn get(&self, x: i64, y: i64) -> [f32; 3];
    /// The bilinear sample at (x + fx, y + fy), fx and fy in [0, 1): pixel (x, y) and its
    /// right, lower and lower-right neighbours blended (the warps' inner step).
    #[inline]
    fn bilinear(&self, x: i64, y: i64, fx: f32, fy: f32) -> [f32; 3] {
        blend(taps_one_by_one(self, x, y), fx, fy)
    }
}

/// The taps of a bilinear sample by four calls to [`Pixels::get`] (the default, and a frame's
/// border case).
#[inline]
fn taps_one_by_one<P: Pixels + ?Sized>(img: &P, x: i64, y: i64) -> [[f32; 3]; 4] {
    [img.get(x, y), img.get(x + 1, y), img.get(x, y + 1), img.get(x + 1, y + 1)]
}

/// Blend the four taps (x, y), (x+1, y), (x, y+1), (x+1, y+1): rows first, in float32, as
/// the reference does.
#[inline]
fn blend([p00, p01, p10, p11]: [[f32; 3]; 4], fx: f32, fy: f32) -> [f32; 3] {
    std::array::from_fn(|c| {
        let top = p00[c] * (1.0 - fx) + p01[c] * fx;
        let bot = p10[c] * (1.0 - fx) + p11[c] * fx;
        top * (1.0 - fy) + bot * fy
    })
}

impl<P: Pixels + ?Sized> Pixels for &P {
    fn width(&self) -> u32 {
        (**self).width()
    }
    fn height(&self) -> u32 {
        (**self).height()
    }
    #[inline]
    fn get(&self, x: i64, y: i64) -> [f32; 3] {
        (**self).get(x, y)
    }
    #[inline]
    fn bilinear(&self, x: i64, y: i64, fx: f32, fy: f32) -> [f32; 3] {
        (**self).bilinear(x, y, fx, fy)
    }
}

impl Pixels for RgbImage {
    fn width(&self) -> u32 {
        self.width
    }
    fn height(&self) -> u32 {
        self.height
    }
    #[inline]
    fn get(&self, x: i64, y: i64) -> [f32; 3] {
        RgbImage::get(self, x, y)
    }
}

/// A frame's bytes as the page handed them in (the wasm API takes them by value), wiped when
/// dropped. 16 bytes per volatile store with wasm SIMD, 8 elsewhere (`wipe_slice`): a 1-Mpixel RGBA
/// frame is 4 MB, which `Zeroizing<Vec<u8>>` wipes one byte store at a time.
pub struct WipedFrame(Vec<u8>);

impl WipedFrame {
    pub fn new(bytes: Vec<u8>) -> Self {
        WipedFrame(bytes)
    }
}

impl std::ops::Deref for WipedFrame {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for WipedFrame {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// Zero every byte of `bytes`, its spare capacity included (extended to it first).
fn wipe(bytes: &mut Vec<u8>) {
    bytes.resize(bytes.capacity(), 0);
    wipe_slice(bytes);
}

/// Volatile zeroing, 8 bytes per store where aligned (`zeroize` on the `u64` middle part); 16
/// bytes per store with wasm SIMD.
pub fn wipe_slice(bytes: &mut [u8]) {
    use zeroize::Zeroize;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::{u8x16_splat, v128};
        // Safety: every bit pattern is a valid v128, and align_to_mut aligns the middle part.
        let (head, vectors, tail) = unsafe { bytes.align_to_mut::<v128>() };
        head.zeroize();
        for v in vectors {
            // Safety: a valid, aligned v128 we hold exclusively.
            unsafe { core::ptr::write_volatile(v, u8x16_splat(0)) };
        }
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
        tail.zeroize();
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let (head, words, tail) = bytemuck::pod_align_to_mut::<u8, u64>(bytes);
        head.zeroize();
        words.zeroize();
        tail.zeroize();
    }
}

/// A frame as the browser hands it over (canvas `ImageData`: RGBA, 4 bytes per pixel, alpha
/// ignored), sampled in place. The stages only read a few hundred thousand pixels of it, so
/// converting a whole 1-Mpixel frame to floats first (~9 ms in Chromium) was wasted work.
/// Values read are exactly those of [`RgbImage::from_rgba`].
pub struct RgbaFrame<'a> {
    width: u32,
    height: u32,
    rgba: &'a [u8],
}

impl<'a> RgbaFrame<'a> {
    pub fn new(rgba: &'a [u8], width: u32, height: u32) -> Result<RgbaFrame<'a>> {
        check_size(width, height, rgba.len(), 4)?;
        Ok(RgbaFrame { width, height, rgba })
    }
}

impl Pixels for RgbaFrame<'_> {
    fn width(&self) -> u32 {
        self.width
    }
    fn height(&self) -> u32 {
        self.height
    }
    #[inline]
    fn get(&self, x: i64, y: i64) -> [f32; 3] {
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return [0.0; 3];
        }
        let i = (y as usize * self.width as usize + x as usize) * 4;
        match self.rgba.get(i..i + 3) {
            Some(p) => [p[0] as f32, p[1] as f32, p[2] as f32],
            None => [0.0; 3],
        }
    }
    /// One bounds check for the four taps when they are all inside (the warps' common case);
    /// in wasm, the four taps' RGBA lanes blended at once (the same float operations, so the
    /// same values).
    #[inline]
    fn bilinear(&self, x: i64, y: i64, fx: f32, fy: f32) -> [f32; 3] {
        let (w, h) = (self.width as i64, self.height as i64);
        if x < 0 || y < 0 || x + 1 >= w || y + 1 >= h {
            return blend(taps_one_by_one(self, x, y), fx, fy);
        }
        let stride = self.width as usize * 4;
        let i = y as usize * stride + x as usize * 4;
        // (x, y) to (x + 1, y + 1), alpha included: inside, as (x + 1, y + 1) is.
        let Some(p) = self.rgba.get(i..i + stride + 8) else {
            return [0.0; 3];
        };
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            simd_bilinear(p, stride, fx, fy)
        }
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        {
            let px = |o: usize| [p[o] as f32, p[o + 1] as f32, p[o + 2] as f32];
            blend([px(0), px(4), px(stride), px(stride + 4)], fx, fy)
        }
    }
}

/// [`blend`] on the four RGBA pixels at `p[0..8]` and `p[stride..stride + 8]`, one vector
/// per tap (plain mul and add, not fused: bit-identical to the scalar code).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline]
fn simd_bilinear(p: &[u8], stride: usize, fx: f32, fy: f32) -> [f32; 3] {
    use core::arch::wasm32::*;
    // Two RGBA pixels (8 bytes) of a row, as two vectors of four floats.
    let pair = |o: usize| {
        let bytes = p.get(o..o + 8).and_then(|b| b.try_into().ok()).map_or(0, u64::from_le_bytes);
        let v = u16x8_extend_low_u8x16(u64x2(bytes, 0));
        (f32x4_convert_u32x4(u32x4_extend_low_u16x8(v)), f32x4_convert_u32x4(u32x4_extend_high_u16x8(v)))
    };
    let ((p00, p01), (p10, p11)) = (pair(0), pair(stride));
    let (gx, fxv) = (f32x4_splat(1.0 - fx), f32x4_splat(fx));
    let top = f32x4_add(f32x4_mul(p00, gx), f32x4_mul(p01, fxv));
    let bot = f32x4_add(f32x4_mul(p10, gx), f32x4_mul(p11, fxv));
    let v = f32x4_add(f32x4_mul(top, f32x4_splat(1.0 - fy)), f32x4_mul(bot, f32x4_splat(fy)));
    [f32x4_extract_lane::<0>(v), f32x4_extract_lane::<1>(v), f32x4_extract_lane::<2>(v)]
}

impl std::fmt::Debug for RgbaFrame<'_> {
    // Pixels of a face are biometric data: never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RgbaFrame({}x{})", self.width, self.height)
    }
}

impl std::fmt::Debug for RgbImage {
    // Pixels of a face are biometric data: never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RgbImage({}x{})", self.width, self.height)
    }
}

pub(crate) fn check_size(width: u32, height: u32, len: usize, channels: usize) -> Result<()> {
    let expected = (width as usize).checked_mul(height as usize).and_then(|n| n.checked_mul(channels));
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE || expected != Some(len) {
        return Err(Error::BadImageSize { width, height, len, channels });
    }
    Ok(())
}

impl RgbImage {
    /// A black image.
    pub fn new(width: u32, height: u32) -> RgbImage {
        RgbImage { width, height, data: vec![0.0; width as usize * height as usize * 3] }
    }

    /// From canvas `ImageData` bytes (RGBA, 4 bytes per pixel). Alpha is ignored.
    pub fn from_rgba(rgba: &[u8], width: u32, height: u32) -> Result<RgbImage> {
        check_size(width, height, rgba.len(), 4)?;
        let data = rgba.chunks_exact(4).flat_map(|p| [p[0] as f32, p[1] as f32, p[2] as f32]).collect();
        Ok(RgbImage { width, height, data })
    }

    /// From packed RGB bytes (3 bytes per pixel).
    pub fn from_rgb(rgb: &[u8], width: u32, height: u32) -> Result<RgbImage> {
        check_size(width, height, rgb.len(), 3)?;
        Ok(RgbImage { width, height, data: rgb.iter().map(|&v| v as f32).collect() })
    }

    /// Decode a JPEG or PNG file's bytes, applying its EXIF orientation (phone photos).
    #[cfg(feature = "decode")]
    pub fn decode(bytes: &[u8]) -> Result<RgbImage> {
        use image::ImageDecoder;
        let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| Error::ImageDecode(e.to_string()))?;
        let mut decoder = reader.into_decoder().map_err(|e| Error::ImageDecode(e.to_string()))?;
        let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
        let (w, h) = decoder.dimensions();
        if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
            return Err(Error::ImageDecode(format!("unsupported dimensions {w}x{h}")));
        }
        let mut img = image::DynamicImage::from_decoder(decoder).map_err(|e| Error::ImageDecode(e.to_string()))?;
        img.apply_orientation(orientation);
        let rgb = img.to_rgb8();
        RgbImage::from_rgb(rgb.as_raw(), rgb.width(), rgb.height())
    }

    /// Read and decode an image file.
    #[cfg(feature = "decode")]
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<RgbImage> {
        let bytes = std::fs::read(path.as_ref())
            .map_err(|e| Error::ImageDecode(format!("{}: {e}", path.as_ref().display())))?;
        RgbImage::decode(&bytes)
    }

    /// Pixel (x, y) as RGB, or black outside the image (the reference's border rule).
    #[inline]
    pub fn get(&self, x: i64, y: i64) -> [f32; 3] {
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return [0.0; 3];
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    /// Mirror left-right (for flip fusion and augmentation).
    pub fn flip_horizontal(&self) -> RgbImage {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut data = Vec::with_capacity(self.data.len());
        for y in 0..h {
            for x in (0..w).rev() {
                let i = (y * w + x) * 3;
                data.extend_from_slice(&self.data[i..i + 3]);
            }
        }
        RgbImage { width: self.width, height: self.height, data }
    }

    /// Luma (BT.601) of every pixel, for the quality measures.
    pub fn luma(&self) -> Vec<f32> {
        self.data.chunks_exact(3).map(|p| 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]).collect()
    }

    /// Back to 8-bit RGBA (for writing debug crops and test fixtures).
    pub fn to_rgba8(&self) -> Vec<u8> {
        self.data
            .chunks_exact(3)
            .flat_map(|p| {
                let c = |v: f32| v.round().clamp(0.0, 255.0) as u8;
                [c(p[0]), c(p[1]), c(p[2]), 255]
            })
            .collect()
    }
}

impl Drop for RgbImage {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wipe_zeroes_every_byte_and_the_spare_capacity() {
        for (len, cap) in [(0, 0), (3, 3), (30, 37), (4096 + 5, 4096 + 13)] {
            let mut v = Vec::with_capacity(cap);
            v.extend(std::iter::repeat_n(0xAB_u8, len));
            wipe(&mut v);
            assert_eq!(v.len(), v.capacity());
            assert!(v.len() >= cap && v.iter().all(|&b| b == 0), "{len}/{cap}");
        }
        // unaligned start and end: head, words and tail parts all wiped (a Vec, not an array: the
        // allocator's alignment makes 3..61 a head, whole words and a tail)
        #[allow(clippy::useless_vec)]
        let mut v = vec![0xCD_u8; 64];
        wipe_slice(&mut v[3..61]);
        assert!(v[..3].iter().chain(&v[61..]).all(|&b| b == 0xCD) && v[3..61].iter().all(|&b| b == 0));
        let frame = WipedFrame::new(vec![1, 2, 3, 4]);
        assert_eq!(&*frame, &[1, 2, 3, 4]);
    }

    #[test]
    fn rgba_size_is_checked() {
        assert!(RgbImage::from_rgba(&[0; 16], 2, 2).is_ok());
        let err = RgbImage::from_rgba(&[0; 15], 2, 2).unwrap_err();
        assert_eq!(err.code(), "BAD_IMAGE_SIZE");
        assert!(RgbImage::from_rgba(&[], 0, 0).is_err());
        assert!(RgbImage::from_rgba(&[0; 4], 1, u32::MAX).is_err());
        // the message says what is wrong: an empty frame, a frame too large, or a buffer of
        // another size than its dimensions need
        assert_eq!(RgbaFrame::new(&[], 0, 0).unwrap_err().to_string(), "the frame is empty (0x0 pixels)");
        assert_eq!(RgbaFrame::new(&[0; 8], 2, 0).unwrap_err().to_string(), "the frame is empty (2x0 pixels)");
        assert_eq!(
            RgbaFrame::new(&[0; 4], 1, MAX_SIDE + 1).unwrap_err().to_string(),
            format!("the frame is 1x{} pixels, larger than {MAX_SIDE} a side", MAX_SIDE + 1)
        );
        assert_eq!(err.to_string(), "pixel buffer of 15 bytes does not match 2x2 pixels of 4 bytes (16 bytes)");
    }

    #[test]
    fn rgba_drops_alpha_and_flip_mirrors() {
        let Ok(img) = RgbImage::from_rgba(&[1, 2, 3, 255, 4, 5, 6, 0], 2, 1) else { panic!("2x1 pixels") };
        assert_eq!(img.data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(img.flip_horizontal().data, vec![4.0, 5.0, 6.0, 1.0, 2.0, 3.0]);
        assert_eq!(img.get(-1, 0), [0.0; 3]);
    }

    #[test]
    fn rgba_frame_reads_what_from_rgba_converts() {
        let bytes: Vec<u8> = (0..5 * 3 * 4).map(|i| (i * 37 % 256) as u8).collect();
        let (Ok(img), Ok(frame)) = (RgbImage::from_rgba(&bytes, 5, 3), RgbaFrame::new(&bytes, 5, 3)) else {
            panic!("5x3 pixels")
        };
        assert_eq!((Pixels::width(&frame), Pixels::height(&frame)), (5, 3));
        for y in -1..4 {
            for x in -1..6 {
                assert_eq!(Pixels::get(&frame, x, y), img.get(x, y), "({x}, {y})");
                // bilinear samples, read at once inside and tap by tap across the borders
                for (fx, fy) in [(0.0, 0.0), (0.25, 0.5), (0.999, 0.125)] {
                    let s = frame.bilinear(x, y, fx, fy);
                    assert_eq!(s, img.bilinear(x, y, fx, fy), "({x}, {y}, {fx}, {fy})");
                    let taps = [img.get(x, y), img.get(x + 1, y), img.get(x, y + 1), img.get(x + 1, y + 1)];
                    assert_eq!(s, blend(taps, fx, fy), "({x}, {y}, {fx}, {fy})");
                }
            }
        }
        assert_eq!(RgbaFrame::new(&bytes, 5, 4).unwrap_err().code(), "BAD_IMAGE_SIZE");
        assert!(RgbaFrame::new(&[], 0, 0).is_err());
    }

    #[cfg(feature = "decode")]
    #[test]
    fn garbage_bytes_are_a_decode_error() {
        assert_eq!(RgbImage::decode(b"not an image").unwrap_err().code(), "IMAGE_DECODE");
        assert_eq!(RgbImage::decode(&[0xFF, 0xD8, 0xFF]).unwrap_err().code(), "IMAGE_DECODE");
    }
}
