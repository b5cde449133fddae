//! The one GPU context shared by shoal's kernels and burn.
//!
//! burn's wgpu runtime is process-global: it owns the wgpu device, queue and memory pools, and it
//! can be initialised only once. Our environment kernels therefore do not create a device of their
//! own. They are launched through burn's compute client, on burn's stream, on buffers that *are*
//! burn tensors. Observations written by an env kernel are read by the policy network without a
//! copy and without a host round trip, and the ordering between simulator and learner is simply
//! the stream order.
//!
//! (The other option, binding burn's buffers into our own wgpu pipeline, works but makes burn
//! flush its pending work at every hand-over: ~54 ms a step against ~0.25 ms on lavapipe.)
//!
//! [`GpuContext::shared`] initialises the runtime on first use and hands out the same context
//! afterwards. It reports which adapter and graphics API were picked, and the device limits that
//! decide how large a batch can be.

use std::sync::{Arc, OnceLock};

use burn::backend::wgpu::{CubeTensor, WgpuSetup};
use burn::cubecl::client::Client;
use burn::tensor::{DType, Device, Shape, Tensor};

use super::counter::TransferCounter;
use crate::error::{Result, ShoalError};

/// The device that burn and shoal's kernels share, with what we know about it.
pub struct GpuContext {
    device: Device,
    client: Client,
    cube_device: burn::cubecl::Device,
    adapter: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    transfers: TransferCounter,
}

static SHARED: OnceLock<std::result::Result<Arc<GpuContext>, String>> = OnceLock::new();

impl GpuContext {
    /// The process-wide context, initialised on first call.
    ///
    /// Fails with [`ShoalError::NoAdapter`] (which says how to install a driver) when wgpu finds no
    /// adapter. The failure is remembered: later calls fail the same way without probing again.
    pub fn shared() -> Result<Arc<GpuContext>> {
        SHARED
            .get_or_init(|| {
                Self::init().map(Arc::new).map_err(|e| match e {
                    ShoalError::NoAdapter { detail } => detail,
                    other => other.to_string(),
                })
            })
            .clone()
            .map_err(|detail| ShoalError::NoAdapter { detail })
    }

    fn init() -> Result<GpuContext> {
        // Mesa complains on stderr when XDG_RUNTIME_DIR is unset (containers, CI); give it one.
        if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
            let dir = std::env::temp_dir().join("shoal-xdg-runtime");
            let _ = std::fs::create_dir_all(&dir);
            // SAFETY: called once, before the runtime spawns its threads.
            unsafe { std::env::set_var("XDG_RUNTIME_DIR", dir) };
        }
        let (device, setup): (Device, WgpuSetup) = Device::wgpu_options()
            .init_with_setup()
            .map_err(|e| ShoalError::NoAdapter {
                detail: e.to_string(),
            })?;
        let adapter = setup.adapter.get_info();
        let limits = setup.device.limits();
        // The compute client is reached through any tensor's primitive.
        let probe = Tensor::<1>::zeros([1], &device)
            .try_into_primitive::<burn::backend::Wgpu>()
            .map_err(|e| ShoalError::Gpu(format!("burn's wgpu tensor primitive: {e:?}")))?;
        Ok(GpuContext {
            client: probe.client.clone(),
            cube_device: probe.device.clone(),
            device,
            adapter,
            limits,
            transfers: TransferCounter::default(),
        })
    }

    /// The burn device: create tensors and models on it.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// burn's compute client; kernels are launched through it.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Adapter name, driver and graphics API, for logs and benchmark tables.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.adapter
    }

    /// A one-line description with the driver's version, which decides speed on a CPU adapter:
    /// `llvmpipe (LLVM 15.0.6, 256 bits) [Cpu, Vulkan, Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6)]`.
    pub fn adapter_name(&self) -> String {
        let driver = match self.adapter.driver_info.trim() {
            "" => String::new(),
            info => format!(", {info}"),
        };
        format!("{} [{:?}, {:?}{driver}]", self.adapter.name, self.adapter.device_type, self.adapter.backend)
    }

    /// The Mesa release `(major, minor)` of a Mesa driver (lavapipe included), from the
    /// driver info it reports (`Mesa 22.3.6 (LLVM 15.0.6)`); `None` for other drivers.
    pub fn mesa_version(&self) -> Option<(u32, u32)> {
        mesa_release(&self.adapter.driver_info)
    }

    /// True when the adapter is a CPU implementation (lavapipe, WARP, SwiftShader).
    pub fn is_software(&self) -> bool {
        self.adapter.device_type == wgpu::DeviceType::Cpu
    }

    /// The device limits burn requested.
    pub fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    /// Largest size in bytes one storage buffer may have on this device.
    pub fn max_storage_bytes(&self) -> u64 {
        (self.limits.max_storage_buffer_binding_size as u64).min(self.limits.max_buffer_size)
    }

    /// Host↔device transfer counters.
    pub fn transfers(&self) -> &TransferCounter {
        &self.transfers
    }

    /// A new, uninitialised f32/u32/i32 buffer of `shape`, as a tensor primitive.
    pub(crate) fn empty(&self, shape: &[usize], dtype: DType) -> CubeTensor {
        let elems: usize = shape.iter().product();
        let handle = self.client.empty(elems.max(1) * dtype.size());
        CubeTensor::new_contiguous(
            self.client.clone(),
            self.cube_device.clone(),
            Shape::from(shape.to_vec()),
            handle,
            dtype,
        )
    }
}

/// Unwraps a float tensor to the buffer a kernel binds (dropping autodiff, making it contiguous).
pub(crate) fn float_buffer<const D: usize>(tensor: Tensor<D>) -> Result<CubeTensor> {
    let primitive = tensor
        .without_autodiff()
        .try_into_primitive::<burn::backend::Wgpu>()
        .map_err(|e| ShoalError::Gpu(format!("tensor is not on burn's wgpu backend: {e:?}")))?;
    Ok(burn::backend::wgpu::into_contiguous(primitive))
}

/// `(major, minor)` of `Mesa 22.3.6 (LLVM 15.0.6)`, `Mesa 25.0.7-2~bpo12+1`, ...
fn mesa_release(driver_info: &str) -> Option<(u32, u32)> {
    let version = driver_info.split_whitespace().skip_while(|w| *w != "Mesa").nth(1)?;
    let mut parts = version.split(['.', '-']);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Unwraps an int tensor to the buffer a kernel binds.
pub(crate) fn int_buffer<const D: usize>(tensor: Tensor<D, burn::tensor::Int>) -> Result<CubeTensor> {
    let primitive = tensor
        .without_autodiff()
        .try_into_primitive::<burn::backend::Wgpu>()
        .map_err(|e| ShoalError::Gpu(format!("tensor is not on burn's wgpu backend: {e:?}")))?;
    Ok(burn::backend::wgpu::into_contiguous(primitive))
}

/// Wraps a kernel-written f32 buffer as a float tensor.
pub(crate) fn float_tensor<const D: usize>(buffer: CubeTensor) -> Tensor<D> {
    Tensor::from_primitive::<burn::backend::Wgpu>(buffer)
}

#[cfg(test)]
mod tests {
    use super::mesa_release;

    #[test]
    fn mesa_release_reads_the_driver_info_of_each_packaging() {
        assert_eq!(mesa_release("Mesa 22.3.6 (LLVM 15.0.6)"), Some((22, 3)));
        assert_eq!(mesa_release("Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6)"), Some((25, 0)));
        assert_eq!(mesa_release("Mesa 24.1.0-devel"), Some((24, 1)));
        assert_eq!(mesa_release("NVIDIA 550.54"), None);
        assert_eq!(mesa_release(""), None);
        assert_eq!(mesa_release("Mesa"), None);
    }
}
