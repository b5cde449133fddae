//! Files that must never be half-written: write to a temporary sibling, then rename; JSON files
//! read and written through one place, with errors that name the file.

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

/// Writes `value` as JSON to `path` atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec(value).map_err(|e| ShoalError::io(path, std::io::Error::other(e)))?;
    write_atomic(path, &bytes)
}

/// Reads JSON from `path`; a file that does not parse is reported with its line and with `what`
/// the file should have been ("a PSRO checkpoint", ...).
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| ShoalError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| ShoalError::BadInput {
        path: path.display().to_string(),
        line: e.line(),
        message: format!("not {what}: {e}"),
    })
}
