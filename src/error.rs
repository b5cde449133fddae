//! One error type for the whole crate.
//!
//! Every message names what was wrong and what to do about it: a user who sees one of these
//! should not need to read our source to recover. Nothing in shoal panics on bad input.

use thiserror::Error;

/// Result alias used throughout shoal.
pub type Result<T, E = ShoalError> = std::result::Result<T, E>;

/// Everything that can go wrong in shoal, by cause.
#[derive(Debug, Error)]
pub enum ShoalError {
    /// No wgpu adapter could be created (no GPU driver, no software driver).
    #[error(
        "no GPU adapter found ({detail}).\n\
         shoal needs a Vulkan, Metal or DX12 driver. On a machine without a GPU install Mesa's \
         software Vulkan driver (Debian/Ubuntu: `apt-get install mesa-vulkan-drivers libvulkan1`), \
         or run `make test` / `make bench`, which installs it when missing."
    )]
    NoAdapter {
        /// What wgpu said.
        detail: String,
    },

    /// A configuration value is out of its valid range.
    #[error("invalid configuration: `{field}` = {value}: {reason}")]
    InvalidConfig {
        /// The field name as the user spells it (CLI flag or TOML key).
        field: &'static str,
        /// The rejected value, as text.
        value: String,
        /// What the valid values are.
        reason: String,
    },

    /// The requested batch does not fit the device's buffer limits.
    #[error(
        "batch too large for this device: {what} needs {needed_bytes} bytes but the adapter allows \
         at most {limit_bytes} bytes per storage buffer; {}",
        batch_advice(.max_envs)
    )]
    BatchTooLarge {
        /// Which buffer overflows.
        what: String,
        /// Bytes that buffer would need.
        needed_bytes: u64,
        /// The adapter's limit.
        limit_bytes: u64,
        /// The largest env count that fits.
        max_envs: usize,
    },

    /// An action given through the host API is out of its space.
    #[error("action out of range: env {env}, agent {agent}: {value} (valid: {valid})")]
    InvalidAction {
        /// Env index in the batch.
        env: usize,
        /// Agent index in the env.
        agent: usize,
        /// The rejected value, as text.
        value: String,
        /// The valid range.
        valid: String,
    },

    /// Tensors or slices of the wrong shape were passed.
    #[error("shape mismatch for {what}: expected {expected}, got {got}")]
    Shape {
        /// Which argument.
        what: &'static str,
        /// Expected shape.
        expected: String,
        /// Given shape.
        got: String,
    },

    /// A line of an input file could not be used.
    #[error("{path}:{line}: {message}")]
    BadInput {
        /// File the line came from.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },

    /// The GPU reported an error (shader compilation, device loss, out of memory).
    #[error("GPU error: {0}")]
    Gpu(String),

    /// A linear program (PSRO's meta-game solver) failed or was interrupted.
    #[error("meta-game solver: {0}")]
    Solver(String),

    /// Drawing or encoding a picture failed (GIF frames, filmstrips, plots).
    #[error("drawing failed: {0}")]
    Drawing(String),

    /// An env or learner broke one of its own invariants (a shoal bug: please report it with the
    /// command that caused it).
    #[error("internal error (a bug in shoal; please report it): {0}")]
    Internal(String),

    /// Filesystem error with the path involved. The OS error is part of the message, not a
    /// separate cause, so that `{:#}` chains print it once.
    #[error("{path}: {error}")]
    Io {
        /// The file involved.
        path: String,
        /// The OS error.
        error: std::io::Error,
    },
}

/// What to change when a batch does not fit: fewer envs, or — when not even one env fits — a
/// smaller env.
fn batch_advice(max_envs: &usize) -> String {
    match max_envs {
        0 => "not even one env of this size fits: lower the agents per env (or the map or lattice size)".into(),
        n => format!("use at most {n} envs with this configuration"),
    }
}

impl ShoalError {
    /// Shorthand for [`ShoalError::InvalidConfig`].
    pub fn config(field: &'static str, value: impl ToString, reason: impl Into<String>) -> Self {
        Self::InvalidConfig {
            field,
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    /// Checks that `len` values fill `shape` exactly.
    pub(crate) fn ensure_len(what: &'static str, len: usize, shape: &[usize]) -> Result<()> {
        let expected: usize = shape.iter().product();
        if len != expected {
            return Err(Self::Shape {
                what,
                expected: format!("{shape:?} ({expected} values)"),
                got: format!("{len} values"),
            });
        }
        Ok(())
    }

    /// Checks that a tensor's dimensions are `expected`.
    pub(crate) fn ensure_dims(what: &'static str, got: &[usize], expected: &[usize]) -> Result<()> {
        if got != expected {
            return Err(Self::Shape {
                what,
                expected: format!("{expected:?}"),
                got: format!("{got:?}"),
            });
        }
        Ok(())
    }

    /// Shorthand for [`ShoalError::Io`].
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.as_ref().display().to_string(),
            error: source,
        }
    }
}
