//! Property tests of the image parsers: random bytes and sizes never panic.
#![cfg(not(target_arch = "wasm32"))]

use faceproof::image::RgbImage;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn image_parsers_take_random_bytes_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..300), w in 0u32..64, h in 0u32..64) {
        let _ = RgbImage::from_rgba(&bytes, w, h);
        let _ = RgbImage::decode(&bytes);
    }
}
