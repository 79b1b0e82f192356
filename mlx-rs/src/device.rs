//! Devices: where MLX runs computations.

use std::fmt;

use crate::error::{self, check, Result};

/// The kind of a [`Device`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceType {
    /// The CPU.
    Cpu,
    /// The GPU (Metal on macOS, CUDA on Linux with the `cuda` feature).
    Gpu,
}

impl DeviceType {
    fn as_raw(self) -> mlx_sys::mlx_device_type {
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

/// An owned `mlx_device` handle, freed on drop.
pub(crate) struct RawDevice(pub(crate) mlx_sys::mlx_device);

impl Drop for RawDevice {
    fn drop(&mut self) {
        // SAFETY: the handle was created by mlx_device_new* and is freed
        // exactly once, here.
        unsafe { mlx_sys::mlx_device_free(self.0) };
    }
}

/// MLX's default device as an owned handle, without reading it out into a
/// [`Device`]: what [`Stream::current`](crate::Stream::current) needs on
/// every op.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails to report it.
#[doc(alias = "mlx_get_default_device")]
pub(crate) fn default_raw() -> Result<RawDevice> {
    error::init();
    // SAFETY: mlx_device_new returns an empty handle; mlx-c fills it in
    // place, and RawDevice then frees whatever it ends up holding.
    let (status, raw) = unsafe {
        let mut handle = mlx_sys::mlx_device_new();
        let status = mlx_sys::mlx_get_default_device(&mut handle);
        (status, RawDevice(handle))
    };
    check("mlx_get_default_device", status)?;
    Ok(raw)
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

    pub(crate) fn to_raw(self) -> RawDevice {
        error::init();
        // SAFETY: plain constructor taking two scalars; it returns a fresh
        // handle that RawDevice frees.
        RawDevice(unsafe { mlx_sys::mlx_device_new_type(self.kind.as_raw(), self.index) })
    }

    /// Reads a device out of an mlx-c handle (which stays owned by the caller).
    pub(crate) fn from_raw_handle(dev: mlx_sys::mlx_device) -> Result<Self> {
        let mut kind = mlx_sys::MLX_CPU;
        let mut index = 0;
        // SAFETY: `dev` is a live handle; both out-params are valid locals.
        check("mlx_device_get_type", unsafe {
            mlx_sys::mlx_device_get_type(&mut kind, dev)
        })?;
        // SAFETY: as above.
        check("mlx_device_get_index", unsafe {
            mlx_sys::mlx_device_get_index(&mut index, dev)
        })?;
        let kind = if kind == mlx_sys::MLX_GPU {
            DeviceType::Gpu
        } else {
            DeviceType::Cpu
        };
        Ok(Device { kind, index })
    }

    /// The default device of MLX (the GPU where there is one, else the CPU).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails to report it.
    #[doc(alias = "mlx_get_default_device")]
    pub fn default_device() -> Result<Self> {
        Device::from_raw_handle(default_raw()?.0)
    }

    /// Makes `self` MLX's default device, for every thread (MLX's default
    /// device is process-wide): from then on
    /// [`Stream::current`](crate::Stream::current) outside a
    /// [`with_stream`](crate::with_stream) scope is a stream of `self` on
    /// every thread.
    ///
    /// # Errors
    /// [`Error::DeviceUnavailable`](crate::Error::DeviceUnavailable) if the
    /// device is not available.
    #[doc(alias = "mlx_set_default_device")]
    pub fn set_as_default(self) -> Result<()> {
        let raw = self.to_raw();
        if !self.is_available()? {
            return Err(crate::Error::DeviceUnavailable(self));
        }
        // SAFETY: `raw` is a live device handle.
        let status = unsafe { mlx_sys::mlx_set_default_device(raw.0) };
        // Every thread's cached default stream may now be of the old device.
        crate::stream::defaults_changed();
        check("mlx_set_default_device", status)
    }

    /// Whether this device exists in this build and machine.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails to answer.
    #[doc(alias = "mlx_device_is_available")]
    pub fn is_available(self) -> Result<bool> {
        let raw = self.to_raw();
        let mut avail = false;
        // SAFETY: `raw` is a live handle and `avail` a valid out-param.
        check("mlx_device_is_available", unsafe {
            mlx_sys::mlx_device_is_available(&mut avail, raw.0)
        })?;
        Ok(avail)
    }

    /// Number of devices of a type.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails to answer.
    #[doc(alias = "mlx_device_count")]
    pub fn count(kind: DeviceType) -> Result<usize> {
        error::init();
        let mut n = 0;
        // SAFETY: `n` is a valid out-param; the type is a valid enum value.
        check("mlx_device_count", unsafe {
            mlx_sys::mlx_device_count(&mut n, kind.as_raw())
        })?;
        Ok(usize::try_from(n).unwrap_or(0))
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

/// The environment variable read once, at the first use of mlx-rs, to set
/// MLX's default device: `gpu` or `cpu`.
///
/// This is how one test suite runs per device (`MLX_RS_DEFAULT_DEVICE=gpu
/// cargo test`), and lets a program move to the GPU without code changes.
/// An unknown value, or `gpu` where there is none, leaves MLX's own default
/// in place and says so on stderr (initialisation cannot return an error).
pub const DEFAULT_DEVICE_ENV: &str = "MLX_RS_DEFAULT_DEVICE";

/// Applies [`DEFAULT_DEVICE_ENV`]. Called once from the crate's
/// initialisation, so it uses mlx-c directly (the safe wrappers would
/// re-enter that initialisation).
pub(crate) fn apply_env_default() {
    let Ok(value) = std::env::var(DEFAULT_DEVICE_ENV) else {
        return;
    };
    let kind = match value.as_str() {
        "gpu" => mlx_sys::MLX_GPU,
        "cpu" => mlx_sys::MLX_CPU,
        other => {
            eprintln!(
                "mlx-rs: ignoring {DEFAULT_DEVICE_ENV}={other:?} (expected \"cpu\" or \"gpu\")"
            );
            return;
        }
    };
    // SAFETY: a fresh device handle, freed once below; `available` is a
    // valid out-param. The error handler is already installed, so a failure
    // is a status (its message is dropped: there is no caller to give it to).
    unsafe {
        let dev = mlx_sys::mlx_device_new_type(kind, 0);
        let mut available = false;
        let ok = mlx_sys::mlx_device_is_available(&mut available, dev) == 0
            && available
            && mlx_sys::mlx_set_default_device(dev) == 0;
        mlx_sys::mlx_device_free(dev);
        let _ = error::take_message();
        crate::stream::defaults_changed();
        if !ok {
            eprintln!("mlx-rs: {DEFAULT_DEVICE_ENV}={value} but that device is not available; keeping MLX's default");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_available_and_round_trips() {
        assert!(Device::cpu().is_available().unwrap());
        let raw = Device::cpu().to_raw();
        assert_eq!(Device::from_raw_handle(raw.0).unwrap(), Device::cpu());
        assert!(Device::count(DeviceType::Cpu).unwrap() >= 1);
        assert_eq!(Device::cpu().to_string(), "Device(cpu, 0)");
    }

    #[test]
    fn unavailable_device_cannot_become_default() {
        let bogus = Device::new(DeviceType::Cpu, 1000);
        let before = Device::default_device().unwrap();
        let err = bogus.set_as_default().unwrap_err();
        assert_eq!(err, crate::Error::DeviceUnavailable(bogus));
        assert_eq!(Device::default_device().unwrap(), before);
    }
}
