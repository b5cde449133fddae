//! Files that must never be half-written: write to a temporary sibling, then rename.

use std::io::Write;
use std::path::Path;

use crate::error::{Result, ShoalError};

/// Writes `bytes` to `path` atomically: readers see the old file or the new one, never a torn
/// one, even if the process dies mid-write. Creates the parent directory if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| ShoalError::io(parent, e))?;
    }
    let file_name = path
        .file_name()
        .ok_or_else(|| ShoalError::config("output", path.display(), "is a directory, not a file"))?;
    let tmp = path.with_file_name(format!(".{}.tmp-{}", file_name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ShoalError::io(path, e)
    })
}
