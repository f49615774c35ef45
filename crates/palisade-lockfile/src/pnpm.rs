//! Placeholder replaced by the pnpm extractor.
use palisade_core::Inventory;

use crate::LockfileError;

pub(crate) fn extract(display_path: &str, _contents: &str) -> Result<Inventory, LockfileError> {
    Err(LockfileError::Unrecognised { path: display_path.to_string() })
}
