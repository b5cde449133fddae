//! Every byte that crosses between host and device goes through here, and is counted.
//!
//! shoal's promise is that per-step data (observations, rewards, dones, actions) never leaves the
//! device. The counter makes that promise testable: a test snapshots it, runs `step` a few hundred
//! times and asserts that nothing moved. A lint test (`tests/transfers.rs`) checks that no other
//! module reads or uploads tensors behind the counter's back.
//!
//! Counting is two relaxed atomic adds per transfer, so it stays on in release builds too.

use burn::backend::wgpu::CubeTensor;
use burn::tensor::{DType, Int, Tensor, TensorData};

use super::context::GpuContext;
use crate::error::{Result, ShoalError};

impl GpuContext {
    /// Uploads plain-old-data as a raw buffer of `dtype` (for kernel-owned state).
    pub(crate) fn upload_raw<T: bytemuck::Pod>(
        &self,
        values: &[T],
        shape: &[usize],
        dtype: DType,
    ) -> Result<CubeTensor> {
        ShoalError::ensure_len("upload", values.len(), shape)?;
        let bytes: &[u8] = bytemuck::cast_slice(values);
        self.transfers().upload(bytes.len());
        let handle = self.client().create_from_slice(bytes);
        let template = self.empty(&[0], dtype);
        Ok(CubeTensor::new_contiguous(
            template.client,
            template.device,
            burn::tensor::Shape::from(shape.to_vec()),
            handle,
            dtype,
        ))
    }

    /// Uploads `values` as a float tensor of `shape`.
    pub fn upload_f32<const D: usize>(&self, values: &[f32], shape: [usize; D]) -> Result<Tensor<D>> {
        ShoalError::ensure_len("upload", values.len(), &shape)?;
        self.transfers().upload(std::mem::size_of_val(values));
        Ok(Tensor::from_data(
            TensorData::new(values.to_vec(), shape),
            self.device(),
        ))
    }

    /// Uploads `values` as an int tensor of `shape`.
    pub fn upload_i32<const D: usize>(
        &self,
        values: &[i32],
        shape: [usize; D],
    ) -> Result<Tensor<D, Int>> {
        ShoalError::ensure_len("upload", values.len(), &shape)?;
        self.transfers().upload(std::mem::size_of_val(values));
        Ok(Tensor::from_data(
            TensorData::new(values.to_vec(), shape),
            self.device(),
        ))
    }

    /// Reads a float tensor back to the host (blocking). Kernel errors surface here.
    pub fn read_f32<const D: usize>(&self, tensor: Tensor<D>) -> Result<Vec<f32>> {
        let values = tensor
            .try_into_vec_as::<f32>()
            .map_err(|e| ShoalError::Gpu(format!("{e:?}")))?;
        self.transfers().download(std::mem::size_of_val(values.as_slice()));
        Ok(values)
    }

    /// Reads an int tensor back to the host (blocking).
    pub fn read_i32<const D: usize>(&self, tensor: Tensor<D, Int>) -> Result<Vec<i32>> {
        let values = tensor
            .try_into_vec_as::<i32>()
            .map_err(|e| ShoalError::Gpu(format!("{e:?}")))?;
        self.transfers().download(std::mem::size_of_val(values.as_slice()));
        Ok(values)
    }

    /// Reads a raw kernel buffer of u32 back to the host (blocking).
    pub(crate) fn read_raw_u32(&self, tensor: &CubeTensor) -> Result<Vec<u32>> {
        let elems = tensor.meta.shape().num_elements();
        let bytes = self
            .client()
            .read_one(tensor.handle.clone())
            .map_err(|e| ShoalError::Gpu(format!("{e:?}")))?;
        self.transfers().download(bytes.len());
        let words: &[u32] = bytemuck::try_cast_slice(&bytes[..elems * 4])
            .map_err(|e| ShoalError::Gpu(format!("misaligned read-back: {e}")))?;
        Ok(words.to_vec())
    }

    /// Waits until every queued kernel has finished (for timing). Moves no data.
    pub fn sync(&self) -> Result<()> {
        burn::cubecl::future::block_on(self.client().sync())
            .map_err(|e| ShoalError::Gpu(format!("{e:?}")))
    }
}
