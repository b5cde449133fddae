//! Run directories on disk that a crash cannot corrupt.
//!
//! - **Checkpoints are written whole or not at all.** A checkpoint is a directory: its files are
//!   written into a temporary sibling (`checkpoint.tmp-PID`), synced, then listed with their
//!   sizes and CRC32s in `manifest.json` (written last). Only then does the temporary copy take
//!   the checkpoint's name: the current checkpoint moves aside to `checkpoint.old` (the last good
//!   one, kept), the new one moves in. A crash at any point leaves at least one complete copy,
//!   and [`locate_checkpoint`] finds it: the checkpoint if it verifies, else the newest complete
//!   temporary copy, else `checkpoint.old`.
//! - **Every load is verified** against the manifest ([`verify_checkpoint`]): a flipped byte or an
//!   edited value is an error naming the file, never a silently different run. Checkpoints written
//!   before manifests existed (no `manifest.json`) still load, unverified.
//! - **One writer per run directory**: [`RunLock`] holds an OS file lock on `DIR/.lock` (with the
//!   PID inside, for the message) for as long as a run writes there; the OS drops it when the
//!   process dies, so a crashed run never leaves a lock behind.
//!
//! `tests/crash.rs` kills training runs at random points, inside checkpoint writes too, and checks
//! that every run resumes and ends with the parameters of an uninterrupted run.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, ShoalError};

/// The manifest file inside a checkpoint directory.
pub const MANIFEST: &str = "manifest.json";
/// Where the previous complete checkpoint is kept.
const OLD_SUFFIX: &str = "old";

/// What a checkpoint directory holds: every file's size and CRC32.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Manifest {
    /// Layout version.
    format: u32,
    /// File name → digest.
    files: BTreeMap<String, FileDigest>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct FileDigest {
    bytes: u64,
    crc32: u32,
}

fn digest(path: &Path) -> Result<FileDigest> {
    let mut file = std::fs::File::open(path).map_err(|e| ShoalError::io(path, e))?;
    let mut hasher = crc32fast::Hasher::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(|e| ShoalError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
    Ok(FileDigest { bytes, crc32: hasher.finalize() })
}

fn corrupt(path: &Path, what: String) -> ShoalError {
    ShoalError::io(path, std::io::Error::other(format!("corrupt checkpoint: {what}; resume from another checkpoint (the run directory's checkpoint.old keeps the previous one)")))
}

/// Checks every file of the checkpoint in `dir` against its manifest. A checkpoint without a
/// manifest (written by shoal before manifests) passes unverified.
pub fn verify_checkpoint(dir: &Path) -> Result<()> {
    let manifest_path = dir.join(MANIFEST);
    if !manifest_path.exists() {
        if !dir.is_dir() {
            return Err(ShoalError::io(dir, std::io::Error::new(std::io::ErrorKind::NotFound, "no checkpoint directory here")));
        }
        return Ok(());
    }
    let manifest: Manifest = crate::io::read_json(&manifest_path, "a checkpoint manifest").map_err(|_| corrupt(&manifest_path, "the manifest does not parse".into()))?;
    for (name, expected) in &manifest.files {
        let path = dir.join(name);
        if !path.is_file() {
            return Err(corrupt(&path, "a file the manifest lists is missing".into()));
        }
        let got = digest(&path)?;
        if got != *expected {
            return Err(corrupt(&path, format!("{} bytes with CRC32 {:08x}, the manifest says {} bytes with CRC32 {:08x}", got.bytes, got.crc32, expected.bytes, expected.crc32)));
        }
    }
    Ok(())
}

/// Syncs every file of `dir` and writes its manifest (last, atomically).
fn seal(dir: &Path) -> Result<()> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(|e| ShoalError::io(dir, e))? {
        let path = entry.map_err(|e| ShoalError::io(dir, e))?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name == MANIFEST || !path.is_file() {
            continue;
        }
        std::fs::File::open(&path).and_then(|f| f.sync_all()).map_err(|e| ShoalError::io(&path, e))?;
        files.insert(name, digest(&path)?);
    }
    crate::io::write_json(&dir.join(MANIFEST), &Manifest { format: 1, files })
}

/// `SHOAL_CHECKPOINT_DELAY_MS`: a pause between the steps of a checkpoint write, so that the
/// kill test (`tests/crash.rs`) can land kills inside writes; unset (the default) means none.
fn fault_injection_pause() {
    static DELAY: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let ms = *DELAY.get_or_init(|| std::env::var("SHOAL_CHECKPOINT_DELAY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(0));
    if ms > 0 {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

fn sync_dir(dir: &Path) {
    // Makes the renames durable where the platform allows opening a directory (not Windows).
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "checkpoint".into());
    dir.with_file_name(format!("{name}.{suffix}"))
}

/// Writes a checkpoint directory so that a crash at any point leaves a complete one (see the
/// module's documentation): `fill` writes the files into a temporary sibling.
pub(crate) fn write_checkpoint(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| ShoalError::io(parent, e))?;
    let tmp = sibling(dir, &format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| ShoalError::io(&tmp, e))?;
    fill(&tmp)?;
    seal(&tmp)?;
    fault_injection_pause();
    let old = sibling(dir, OLD_SUFFIX);
    if dir.exists() {
        if verify_checkpoint(dir).is_ok() {
            // The current checkpoint becomes the kept previous one.
            if old.exists() {
                std::fs::remove_dir_all(&old).map_err(|e| ShoalError::io(&old, e))?;
            }
            std::fs::rename(dir, &old).map_err(|e| ShoalError::io(dir, e))?;
            fault_injection_pause();
        } else {
            // A damaged current copy is worth less than the kept previous one: drop it.
            std::fs::remove_dir_all(dir).map_err(|e| ShoalError::io(dir, e))?;
        }
    }
    std::fs::rename(&tmp, dir).map_err(|e| ShoalError::io(dir, e))?;
    sync_dir(parent);
    // Temporary copies that crashed writes left are older than this checkpoint: drop them.
    let prefix = format!("{}.tmp-", dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    if let Ok(entries) = std::fs::read_dir(parent) {
        for entry in entries.flatten().filter(|e| e.file_name().to_string_lossy().starts_with(&prefix)) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    Ok(())
}

/// The complete checkpoint for `path` — a run directory (its `checkpoint/`) or a checkpoint
/// directory — recovering from an interrupted write: the checkpoint if it verifies, else the
/// newest complete temporary copy a crashed write left, else the kept previous one
/// (`checkpoint.old`). Says on stderr when it does not use the checkpoint itself.
pub fn locate_checkpoint(path: &Path) -> Result<PathBuf> {
    let dir = if path.join("state.json").is_file() || path.join(MANIFEST).is_file() {
        path.to_path_buf()
    } else {
        path.join("checkpoint")
    };
    recover_checkpoint(&dir, "state.json")
}

/// The complete checkpoint meant to be at `dir`, whose main file is `marker` (`state.json`,
/// `psro_state.json`, ...): `dir` itself if it verifies, else the newest complete temporary copy
/// a crashed write left beside it, else the kept previous one.
pub fn recover_checkpoint(dir: &Path, marker: &str) -> Result<PathBuf> {
    let dir = dir.to_path_buf();
    let missing = || ShoalError::io(dir.join(marker), std::io::Error::new(std::io::ErrorKind::NotFound, "no checkpoint here (pass a run directory or its checkpoint/)"));
    let first_error = match verify_checkpoint(&dir) {
        Ok(()) if dir.join(marker).is_file() => return Ok(dir),
        Ok(()) => missing(),
        Err(_) if !dir.exists() => missing(),
        Err(e) => e,
    };
    let mut candidates: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    let prefix = format!("{}.tmp-", dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    if let Ok(entries) = std::fs::read_dir(dir.parent().unwrap_or(Path::new("."))) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(&prefix) && entry.path().join(MANIFEST).is_file() {
                let modified = entry.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH);
                candidates.push((modified, entry.path()));
            }
        }
    }
    candidates.sort();
    let old = sibling(&dir, OLD_SUFFIX);
    let fallbacks = candidates.into_iter().rev().map(|(_, p)| p).chain(old.join(MANIFEST).is_file().then_some(old));
    for candidate in fallbacks {
        if verify_checkpoint(&candidate).is_ok() && candidate.join(marker).is_file() {
            eprintln!("warning: {} is missing or damaged ({first_error}); using the complete copy {}", dir.display(), candidate.display());
            return Ok(candidate);
        }
    }
    Err(first_error)
}

/// An exclusive claim on a run directory for as long as it lives (see the module's documentation).
#[derive(Debug)]
pub struct RunLock {
    _file: std::fs::File,
}

impl RunLock {
    /// Claims `dir` (creating it), or says which process is writing there.
    pub fn acquire(dir: &Path) -> Result<RunLock> {
        std::fs::create_dir_all(dir).map_err(|e| ShoalError::io(dir, e))?;
        let path = dir.join(".lock");
        let mut file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(|e| ShoalError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let who = if holder.is_empty() { "another process".to_string() } else { format!("process {holder}") };
                return Err(ShoalError::config("out", dir.display(), format!("{who} is writing this run directory; wait for it, or write to another directory")));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(ShoalError::io(&path, e)),
        }
        file.set_len(0).and_then(|_| file.write_all(std::process::id().to_string().as_bytes())).map_err(|e| ShoalError::io(&path, e))?;
        Ok(RunLock { _file: file })
    }
}

fn record_error(path: &Path, what: &str, e: impl std::fmt::Debug) -> ShoalError {
    ShoalError::io(path, std::io::Error::other(format!("not {what}: {e:?}")))
}

/// Loads a module's parameters from a burnpack file, reading the whole file first. (burn's own
/// file loader reads tensor bytes lazily, on the device thread: a file replaced or cut short in
/// between becomes a panic there instead of an error here.)
pub(crate) fn load_module<M: burn::module::Module>(module: M, path: &Path) -> Result<M> {
    let bytes = std::fs::read(path).map_err(|e| ShoalError::io(path, e))?;
    let record = burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes)).map_err(|e| record_error(path, "a model record", e))?;
    module.try_load_record(record).map_err(|e| record_error(path, "this model's record", e))
}

/// Reads an optimizer record whole (see [`load_module`]).
pub(crate) fn load_optimizer_record(path: &Path) -> Result<burn::optim::OptimizerRecord> {
    let bytes = std::fs::read(path).map_err(|e| ShoalError::io(path, e))?;
    burn::optim::OptimizerRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes)).map_err(|e| record_error(path, "an optimizer record", e))
}
