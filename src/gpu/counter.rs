//! Counts of host↔device copies: the evidence behind "per-step data never leaves the device".
//! Every upload and read-back of [`super::GpuContext`] goes through one counter, which tests
//! snapshot around a training loop (`tests/transfers.rs`).

use std::sync::atomic::{AtomicU64, Ordering};

/// Host↔device transfer counters of one [`super::GpuContext`].
#[derive(Debug, Default)]
pub struct TransferCounter {
    uploads: AtomicU64,
    upload_bytes: AtomicU64,
    downloads: AtomicU64,
    download_bytes: AtomicU64,
}

/// A copy of the counters at one moment; subtract two to see what happened in between.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransferSnapshot {
    /// Host→device copies.
    pub uploads: u64,
    /// Bytes copied host→device.
    pub upload_bytes: u64,
    /// Device→host reads.
    pub downloads: u64,
    /// Bytes read device→host.
    pub download_bytes: u64,
}

impl TransferSnapshot {
    /// Transfers of either direction.
    pub fn total(&self) -> u64 {
        self.uploads + self.downloads
    }
}

impl std::ops::Sub for TransferSnapshot {
    type Output = TransferSnapshot;
    fn sub(self, rhs: Self) -> Self {
        TransferSnapshot {
            uploads: self.uploads - rhs.uploads,
            upload_bytes: self.upload_bytes - rhs.upload_bytes,
            downloads: self.downloads - rhs.downloads,
            download_bytes: self.download_bytes - rhs.download_bytes,
        }
    }
}

impl TransferCounter {
    /// Current totals.
    pub fn snapshot(&self) -> TransferSnapshot {
        TransferSnapshot {
            uploads: self.uploads.load(Ordering::Relaxed),
            upload_bytes: self.upload_bytes.load(Ordering::Relaxed),
            downloads: self.downloads.load(Ordering::Relaxed),
            download_bytes: self.download_bytes.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn upload(&self, bytes: usize) {
        self.uploads.fetch_add(1, Ordering::Relaxed);
        self.upload_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn download(&self, bytes: usize) {
        self.downloads.fetch_add(1, Ordering::Relaxed);
        self.download_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

