//! A replay buffer that lives on the device: the memory of the off-policy learners (IQL, VDN,
//! MADDPG, DDPG, neural MF-Q).
//!
//! A buffer is a ring of `capacity` rows, one row per (env, step) transition with every agent in
//! it — joint transitions, because centralised critics (VDN's sum, MADDPG's `Q_i(x, a_1…a_N)`)
//! need every agent's observation and action of the same step. Its fields are named by the
//! learner (`obs`, `action`, `reward`, `next_obs`, `done`, a mean action `ā` where the env has
//! one), each a float tensor `[capacity, width]`; discrete actions are stored as floats, exact
//! below 2²⁴ like every index in the buffer.
//!
//! - **Writing** ([`ReplayBuffer::push`]) copies the rollout's tensors into the ring with one or
//!   two `slice_assign`s per field (two where the write wraps around): no host copy, and no copy
//!   of the ring either — it is moved out of the buffer for the write, so burn writes it in place.
//! - **Sampling** ([`ReplayBuffer::sample`]) draws uniform indices on the device (the same
//!   counter-keyed streams as [`RandomActions`], so a run's samples depend on its seed and how
//!   many batches it drew, never on timing) and gathers every field with `select`. The host
//!   knows only the buffer's fill level, a count it keeps itself.
//! - **Memory** is checked when the buffer is made: each field must fit one storage buffer of
//!   the adapter, and the error names the field and the capacity that would fit.
//! - **Checkpoints** hold the whole buffer ([`ReplayBuffer::save`] / [`ReplayBuffer::load`]), so
//!   a resumed run samples exactly what the uninterrupted run would have. Its files go in the
//!   checkpoint directory and are covered by its manifest like every other file.

use std::path::Path;
use std::sync::Arc;

use burn::tensor::{Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::env::{ActionSpace, Actions, AgentGroup, RandomActions};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;

/// Most rows a buffer holds: indices are drawn as `floor(u · len)` in float32, exact to 2²⁴.
pub const MAX_CAPACITY: usize = 1 << 24;

/// What a checkpoint records of a buffer besides its fields' contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ReplayState {
    capacity: usize,
    fields: Vec<(String, usize)>,
    /// Next row to write.
    cursor: usize,
    /// Rows written so far, at most `capacity`.
    len: usize,
    /// Batches sampled so far (the index streams' call counter).
    draws: u32,
}

/// One field: its name, row width and the ring.
struct Field {
    name: String,
    width: usize,
    rows: Tensor<2>,
}

impl Field {
    /// The ring, moved out (`placeholder` left in its place). burn writes a `slice_assign` in
    /// place only into a tensor nobody else holds; assigning into `rows.clone()` copied the
    /// whole ring on every push — 39 floats × 10⁶ rows per env step for MADDPG on
    /// simple_speaker_listener, ≈80% of its run time on lavapipe.
    fn take_rows(&mut self, placeholder: &Tensor<2>) -> Tensor<2> {
        std::mem::replace(&mut self.rows, placeholder.clone())
    }
}

/// A ring of transitions on the device.
pub struct ReplayBuffer {
    ctx: Arc<GpuContext>,
    capacity: usize,
    fields: Vec<Field>,
    cursor: usize,
    len: usize,
    seed: u64,
    draws: u32,
    /// The index stream of the current batch size (rebuilt when the batch size changes).
    sampler: Option<(usize, RandomActions)>,
    /// A `[1, 1]` tensor that stands in for a ring while a push writes it in place.
    placeholder: Tensor<2>,
}

impl ReplayBuffer {
    /// An empty buffer of `capacity` rows with `fields` (name, width), sampling with `seed`.
    pub fn new(ctx: Arc<GpuContext>, capacity: usize, fields: &[(&str, usize)], seed: u64) -> Result<ReplayBuffer> {
        if capacity == 0 || capacity > MAX_CAPACITY {
            return Err(ShoalError::config("buffer_size", capacity, format!("must be in 1..={MAX_CAPACITY} transitions")));
        }
        if fields.is_empty() || fields.iter().any(|&(_, width)| width == 0) {
            return Err(ShoalError::config("buffer fields", format!("{fields:?}"), "need at least one field, each at least 1 wide"));
        }
        let limit = ctx.max_storage_bytes();
        for &(name, width) in fields {
            let bytes = capacity as u64 * width as u64 * 4;
            if bytes > limit {
                return Err(ShoalError::config(
                    "buffer_size",
                    capacity,
                    format!(
                        "the replay field `{name}` ({width} floats a transition) would take {bytes} bytes, over the adapter's {limit} per storage buffer: at most {} transitions fit",
                        limit / (width as u64 * 4)
                    ),
                ));
            }
        }
        let device = ctx.device().clone();
        let fields = fields.iter().map(|&(name, width)| Field { name: name.to_string(), width, rows: Tensor::<2>::zeros([capacity, width], &device) }).collect();
        let placeholder = Tensor::<2>::zeros([1, 1], &device);
        Ok(ReplayBuffer { ctx, capacity, fields, cursor: 0, len: 0, seed, draws: 0, sampler: None, placeholder })
    }

    /// Rows the ring holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Rows written so far (at most the capacity).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The fields' names, in the order `push` takes and `sample` returns them.
    pub fn field_names(&self) -> Vec<&str> {
        self.fields.iter().map(|f| f.name.as_str()).collect()
    }

    /// The ring of field `name` (`[capacity, width]`, rows where they were written), if it exists.
    pub fn field(&self, name: &str) -> Option<Tensor<2>> {
        self.fields.iter().find(|f| f.name == name).map(|f| f.rows.clone())
    }

    /// Where the next push starts.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Appends `rows[k]` (`[n, width_k]`, the same `n` for every field, in field order) after the
    /// last rows written, overwriting the oldest once the ring is full.
    pub fn push(&mut self, rows: &[Tensor<2>]) -> Result<()> {
        if rows.len() != self.fields.len() {
            return Err(ShoalError::config("replay push", rows.len(), format!("expected one tensor per field: {:?}", self.field_names())));
        }
        let n = rows[0].dims()[0];
        for (field, tensor) in self.fields.iter().zip(rows) {
            ShoalError::ensure_dims("replay rows", &tensor.dims(), &[n, field.width])?;
        }
        if n > self.capacity {
            return Err(ShoalError::config("buffer_size", self.capacity, format!("a push of {n} transitions does not fit: make the buffer at least that large")));
        }
        let first = (self.capacity - self.cursor).min(n);
        for (field, tensor) in self.fields.iter_mut().zip(rows) {
            let w = field.width;
            let head = if first == n { tensor.clone() } else { tensor.clone().slice([0..first, 0..w]) };
            let mut ring = field.take_rows(&self.placeholder);
            ring = ring.slice_assign([self.cursor..self.cursor + first, 0..w], head);
            if first < n {
                ring = ring.slice_assign([0..n - first, 0..w], tensor.clone().slice([first..n, 0..w]));
            }
            field.rows = ring;
        }
        self.cursor = (self.cursor + n) % self.capacity;
        self.len = (self.len + n).min(self.capacity);
        Ok(())
    }

    /// `batch` rows drawn uniformly (with replacement) from those written: one `[batch, width]`
    /// tensor per field, in field order.
    pub fn sample(&mut self, batch: usize) -> Result<Vec<Tensor<2>>> {
        let indices = self.sample_indices(batch)?;
        Ok(self.fields.iter().map(|f| f.rows.clone().select(0, indices.clone())).collect())
    }

    /// The row indices of the next batch (`[batch]`, on the device).
    pub fn sample_indices(&mut self, batch: usize) -> Result<Tensor<1, Int>> {
        if self.len == 0 {
            return Err(ShoalError::config("replay sample", batch, "the buffer is empty: push transitions first"));
        }
        if batch == 0 {
            return Err(ShoalError::config("batch_size", 0, "sample at least one transition"));
        }
        if self.sampler.as_ref().is_none_or(|(size, _)| *size != batch) {
            // One "env" of `batch` agents, each drawing one number in [0, 1).
            let stream = AgentGroup { name: "replay".into(), agents: batch, obs_dim: 1, action: ActionSpace::Continuous { dim: 1, low: 0.0, high: 1.0 } };
            let mut sampler = RandomActions::new(self.ctx.clone(), &stream, 1, self.seed)?;
            sampler.set_calls(self.draws)?;
            self.sampler = Some((batch, sampler));
        }
        let (_, sampler) = self.sampler.as_mut().expect("made above");
        let Actions::Continuous(u) = sampler.sample() else { unreachable!("a continuous stream") };
        self.draws += 1;
        let len = self.len as f32;
        Ok(u.reshape([batch]).mul_scalar(len).floor().clamp(0.0, len - 1.0).int())
    }

    /// Writes the buffer into checkpoint directory `dir`: `replay.json` and one little-endian
    /// float32 file per field (`replay.<name>.f32`, only the rows written).
    pub fn save(&self, dir: &Path) -> Result<()> {
        for field in &self.fields {
            let rows = if self.len == self.capacity { field.rows.clone() } else { field.rows.clone().slice([0..self.len.max(1), 0..field.width]) };
            let values = if self.len == 0 { Vec::new() } else { self.ctx.read_f32(rows)? };
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            crate::io::write_atomic(&dir.join(format!("replay.{}.f32", field.name)), &bytes)?;
        }
        crate::io::write_json(&dir.join("replay.json"), &self.state())
    }

    /// The buffer `save` wrote into `dir`, with the same fields, capacity, fill, cursor and
    /// sampling position; errors name the file that does not fit.
    pub fn load(ctx: Arc<GpuContext>, dir: &Path, seed: u64) -> Result<ReplayBuffer> {
        let path = dir.join("replay.json");
        let text = std::fs::read(&path).map_err(|e| ShoalError::io(&path, e))?;
        let state: ReplayState = serde_json::from_slice(&text).map_err(|e| ShoalError::BadInput { path: path.display().to_string(), line: 0, message: e.to_string() })?;
        let bad = |path: &Path, message: String| ShoalError::BadInput { path: path.display().to_string(), line: 0, message };
        if state.len > state.capacity || (state.cursor >= state.capacity && state.capacity > 0) {
            return Err(bad(&path, format!("len {} / cursor {} do not fit capacity {}", state.len, state.cursor, state.capacity)));
        }
        let fields: Vec<(&str, usize)> = state.fields.iter().map(|(n, w)| (n.as_str(), *w)).collect();
        let mut buffer = ReplayBuffer::new(ctx, state.capacity, &fields, seed)?;
        for field in &mut buffer.fields {
            let file = dir.join(format!("replay.{}.f32", field.name));
            let bytes = std::fs::read(&file).map_err(|e| ShoalError::io(&file, e))?;
            if bytes.len() != state.len * field.width * 4 {
                return Err(bad(&file, format!("{} bytes, expected {} rows × {} floats", bytes.len(), state.len, field.width)));
            }
            if state.len > 0 {
                let values: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
                let rows = buffer.ctx.upload_f32(&values, [state.len, field.width])?;
                field.rows = field.take_rows(&buffer.placeholder).slice_assign([0..state.len, 0..field.width], rows);
            }
        }
        buffer.cursor = state.cursor;
        buffer.len = state.len;
        buffer.draws = state.draws;
        Ok(buffer)
    }

    fn state(&self) -> ReplayState {
        ReplayState {
            capacity: self.capacity,
            fields: self.fields.iter().map(|f| (f.name.clone(), f.width)).collect(),
            cursor: self.cursor,
            len: self.len,
            draws: self.draws,
        }
    }
}
