//! The `--device cpu|gpu` flag of the examples.

use clap::ValueEnum;
use mlx_rs::Device;

/// Which device an example runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceArg {
    /// MLX's CPU backend.
    Cpu,
    /// The GPU (CUDA or Metal, whichever this MLX build has).
    Gpu,
}

impl DeviceArg {
    /// Makes this device MLX's default (`mlx_set_default_device`) and
    /// returns it.
    ///
    /// # Errors
    /// When this MLX build has no such device, or MLX fails.
    pub fn make_default(self) -> Result<Device, Box<dyn std::error::Error>> {
        let device = match self {
            DeviceArg::Cpu => Device::cpu(),
            DeviceArg::Gpu => Device::gpu(),
        };
        if !device.is_available()? {
            return Err(format!("device {self:?} is not available in this MLX build").into());
        }
        device.set_as_default()?;
        Ok(device)
    }
}
