//! Devices: where MLX runs computations.
//!
//! [`Device`] and [`DeviceType`] are plain values (this file calls no
//! mlx-c function, so the error type can name them); the queries that ask
//! MLX (availability, the default device, [`DEFAULT_DEVICE_ENV`]) are in
//! `device/query.rs`.

use std::fmt;

mod info;
pub(crate) mod query;

pub use info::{DeviceInfo, DeviceInfoValue};

/// The kind of a [`Device`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceType {
    /// The CPU.
    Cpu,
    /// The GPU (Metal on macOS, CUDA on Linux with the `cuda` feature).
    Gpu,
}

impl DeviceType {
    pub(crate) fn as_raw(self) -> mlx_sys::mlx_device_type {
        match self {
            DeviceType::Cpu => mlx_sys::MLX_CPU,
            DeviceType::Gpu => mlx_sys::MLX_GPU,
        }
    }
}

/// A device: a [`DeviceType`] and an index.
///
/// A plain value (`Copy`, `Send`, `Sync`): it names a device and owns no
/// MLX handle; a handle is made for each call that needs one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Device {
    kind: DeviceType,
    index: i32,
}

impl Device {
    /// A device of the given type and index.
    pub fn new(kind: DeviceType, index: i32) -> Self {
        Device { kind, index }
    }

    /// The first CPU.
    pub fn cpu() -> Self {
        Device::new(DeviceType::Cpu, 0)
    }

    /// The first GPU (check [`Device::is_available`] before relying on it).
    pub fn gpu() -> Self {
        Device::new(DeviceType::Gpu, 0)
    }

    /// The device type.
    pub fn kind(&self) -> DeviceType {
        self.kind
    }

    /// The device index.
    pub fn index(&self) -> i32 {
        self.index
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // MLX's own spelling: Device(cpu, 0).
        let kind = match self.kind {
            DeviceType::Cpu => "cpu",
            DeviceType::Gpu => "gpu",
        };
        write!(f, "Device({kind}, {})", self.index)
    }
}

/// The environment variable that sets MLX's default device, `gpu` or
/// `cpu`, for the whole process.
///
/// It is read once, the first time this crate looks up MLX's default
/// device: at the first op run without an explicit stream
/// ([`Stream::current`](crate::Stream::current)), or at
/// [`Device::default_device`] or [`Device::set_as_default`], whichever comes
/// first (so an explicit `set_as_default` wins over it). This is how one
/// test suite runs per device (`MLX_RS_DEFAULT_DEVICE=gpu cargo test`), and
/// lets a program move to the GPU without code changes. An unknown value,
/// or `gpu` where there is none, leaves MLX's own default in place and says
/// so on stderr (a lookup that merely applies a setting has no caller to
/// return that to).
pub const DEFAULT_DEVICE_ENV: &str = "MLX_RS_DEFAULT_DEVICE";
