//! The evaluation interface (feature `eval`): the construction's parts, for the accuracy
//! harness's fast simulation of lock decisions over many parameter choices. Not a stable API
//! and not for products: a product enrolls and proves through the crate root.

pub use crate::face_key::{lock_positions, select_reliable};
pub use crate::transform::{hamming, Projection, Transform};

use crate::error::Result;
use crate::keys::{DeviceSecret, Keys};

/// The cancelable transform a device secret gives for (rp id, epoch).
pub fn transform_for(secret: &DeviceSecret, rp_id: &str, epoch: u32, n_bits: usize, dim: usize) -> Result<Transform> {
    let keys = Keys::derive(secret, rp_id, epoch)?;
    Ok(Transform::new(&keys.transform, n_bits, dim))
}

/// The lock key a device secret gives for (rp id, epoch).
pub fn lock_key_for(secret: &DeviceSecret, rp_id: &str, epoch: u32) -> Result<[u8; 32]> {
    Ok(Keys::derive(secret, rp_id, epoch)?.lock)
}
