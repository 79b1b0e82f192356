//! What MLX says about devices: availability, counts, the process-wide
//! default device, and [`DEFAULT_DEVICE_ENV`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

use super::{Device, DeviceType, DEFAULT_DEVICE_ENV};
use crate::error::{Error, Result};
use crate::raw::{self, Owned};

/// Bumped by every change of MLX's default device made through this crate;
/// the streams module caches each thread's default stream only for the
/// generation it was looked up in.
static DEFAULTS_GENERATION: AtomicU64 = AtomicU64::new(0);

/// The current generation of MLX's default device (see
/// [`DEFAULTS_GENERATION`]). Acquire: a reader that sees a new generation
/// and asks MLX again also sees the new default device.
pub(crate) fn defaults_generation() -> u64 {
    DEFAULTS_GENERATION.load(Ordering::Acquire)
}

/// Records that MLX's default device changed. Release pairs with the
/// Acquire of [`defaults_generation`].
fn defaults_changed() {
    DEFAULTS_GENERATION.fetch_add(1, Ordering::Release);
}

/// MLX's default device as an owned handle, without reading it out into a
/// [`Device`]: what [`Stream::current`](crate::Stream::current) needs.
/// Applies [`DEFAULT_DEVICE_ENV`] first, once per process.
///
/// # Errors
/// [`Error::Mlx`] if MLX fails to report it.
#[doc(alias = "mlx_get_default_device")]
pub(crate) fn default_raw() -> Result<Owned<mlx_sys::mlx_device>> {
    apply_env_once();
    // SAFETY: `res` is a fresh device handle that mlx-c fills in place.
    raw::out("mlx_get_default_device", |res| unsafe {
        mlx_sys::mlx_get_default_device(res)
    })
}

/// Applies [`DEFAULT_DEVICE_ENV`], once per process.
fn apply_env_once() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Ok(value) = std::env::var(DEFAULT_DEVICE_ENV) else {
            return;
        };
        let device = match value.as_str() {
            "gpu" => Device::gpu(),
            "cpu" => Device::cpu(),
            other => {
                eprintln!(
                    "mlx-rs: ignoring {DEFAULT_DEVICE_ENV}={other:?} (expected \"cpu\" or \"gpu\")"
                );
                return;
            }
        };
        if let Err(e) = device.set_default_now() {
            eprintln!("mlx-rs: {DEFAULT_DEVICE_ENV}={value}: {e}; keeping MLX's default");
        }
    });
}

impl Device {
    /// A fresh mlx-c handle naming this device.
    pub(crate) fn to_raw(self) -> Result<Owned<mlx_sys::mlx_device>> {
        // SAFETY: a constructor of two scalars returning a fresh handle,
        // owned at once by the guard.
        raw::returned("mlx_device_new_type", || unsafe {
            mlx_sys::mlx_device_new_type(self.kind.as_raw(), self.index)
        })
    }

    /// Reads a device out of an mlx-c handle (which stays owned by the caller).
    pub(crate) fn from_raw_handle(dev: &Owned<mlx_sys::mlx_device>) -> Result<Self> {
        let mut kind = mlx_sys::MLX_CPU;
        let mut index = 0;
        // SAFETY: `dev` is a live handle; the out-param is a valid local.
        raw::call("mlx_device_get_type", || unsafe {
            mlx_sys::mlx_device_get_type(&mut kind, dev.get())
        })?;
        // SAFETY: as above.
        raw::call("mlx_device_get_index", || unsafe {
            mlx_sys::mlx_device_get_index(&mut index, dev.get())
        })?;
        let kind = match kind {
            mlx_sys::MLX_GPU => DeviceType::Gpu,
            mlx_sys::MLX_CPU => DeviceType::Cpu,
            other => {
                return Err(Error::Mlx {
                    op: "mlx_device_get_type",
                    message: format!("unknown device type code {other}"),
                    location: None,
                })
            }
        };
        Ok(Device { kind, index })
    }

    /// The default device of MLX (the GPU where there is one, else the CPU).
    ///
    /// # Errors
    /// [`Error::Mlx`] if MLX fails to report it.
    #[doc(alias = "mlx_get_default_device")]
    pub fn default_device() -> Result<Self> {
        Device::from_raw_handle(&default_raw()?)
    }

    /// Makes `self` MLX's default device, for every thread (MLX's default
    /// device is process-wide): from then on
    /// [`Stream::current`](crate::Stream::current) outside a
    /// [`with_stream`](crate::with_stream) scope is a stream of `self` on
    /// every thread.
    ///
    /// # Errors
    /// [`Error::DeviceUnavailable`] if the device is not available.
    #[doc(alias = "mlx_set_default_device")]
    pub fn set_as_default(self) -> Result<()> {
        // The variable is for a process that sets nothing itself; applied
        // first, it cannot undo this call later.
        apply_env_once();
        self.set_default_now()
    }

    /// [`Device::set_as_default`] without the environment step.
    fn set_default_now(self) -> Result<()> {
        let raw = self.to_raw()?;
        if !self.is_available()? {
            return Err(Error::DeviceUnavailable(self));
        }
        // SAFETY: `raw` is a live device handle.
        let status = raw::call("mlx_set_default_device", || unsafe {
            mlx_sys::mlx_set_default_device(raw.get())
        });
        // Every thread's cached default stream may now be of the old device.
        defaults_changed();
        status
    }

    /// Whether this device exists in this build and machine.
    ///
    /// # Errors
    /// [`Error::Mlx`] if MLX fails to answer.
    #[doc(alias = "mlx_device_is_available")]
    pub fn is_available(self) -> Result<bool> {
        let raw = self.to_raw()?;
        let mut avail = false;
        // SAFETY: `raw` is a live handle and `avail` a valid out-param.
        raw::call("mlx_device_is_available", || unsafe {
            mlx_sys::mlx_device_is_available(&mut avail, raw.get())
        })?;
        Ok(avail)
    }

    /// Number of devices of a type.
    ///
    /// # Errors
    /// [`Error::Mlx`] if MLX fails to answer.
    #[doc(alias = "mlx_device_count")]
    pub fn count(kind: DeviceType) -> Result<usize> {
        let mut n = 0;
        // SAFETY: `n` is a valid out-param; the type is a valid enum value.
        raw::call("mlx_device_count", || unsafe {
            mlx_sys::mlx_device_count(&mut n, kind.as_raw())
        })?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_available_and_round_trips() {
        assert!(Device::cpu().is_available().unwrap());
        let raw = Device::cpu().to_raw().unwrap();
        assert_eq!(Device::from_raw_handle(&raw).unwrap(), Device::cpu());
        assert!(Device::count(DeviceType::Cpu).unwrap() >= 1);
        assert_eq!(Device::cpu().to_string(), "Device(cpu, 0)");
    }

    #[test]
    fn unavailable_device_cannot_become_default() {
        let bogus = Device::new(DeviceType::Cpu, 1000);
        let before = Device::default_device().unwrap();
        let err = bogus.set_as_default().unwrap_err();
        assert_eq!(err, Error::DeviceUnavailable(bogus));
        assert_eq!(Device::default_device().unwrap(), before);
    }
}
