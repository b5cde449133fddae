//! The GPU layer: one device shared with burn, WGSL kernel templates and their launch,
//! host-transfer accounting, device limits.

mod context;
mod counter;
pub mod kernel;
pub mod reduce;
mod seed;
mod transfer;

pub use context::GpuContext;
pub(crate) use context::{float_buffer, float_tensor, int_buffer};
pub use kernel::WgslKernel;
pub use seed::SeededInit;
pub use counter::{TransferCounter, TransferSnapshot};
