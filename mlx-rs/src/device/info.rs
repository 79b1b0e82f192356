//! What MLX reports about a device ([`Device::info`]): its name,
//! architecture and memory, as `mlx_device_info_*` give them.

use std::collections::BTreeMap;
use std::ffi::c_char;

use super::Device;
use crate::error::{Error, Result};
use crate::raw::{self, cstring, string_from_c, strings_out, Owned};

/// One entry of a [`DeviceInfo`]: MLX stores text or a size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceInfoValue {
    /// A text value (`"device_name"`, `"architecture"`).
    Text(String),
    /// A number (`"memory_size"`, `"total_memory"`, … in bytes).
    Size(usize),
}

/// The description MLX gives of a device, key by key.
///
/// Which keys there are depends on the backend: MLX 0.32.2's CPU reports
/// `"device_name"` (the CPU's model name) and `"architecture"` (e.g.
/// `"x86_64"`); CUDA adds `"total_memory"` and `"free_memory"` (bytes);
/// Metal `"memory_size"`, `"max_buffer_length"`,
/// `"max_recommended_working_set_size"` and more. The accessors
/// [`name`](DeviceInfo::name), [`architecture`](DeviceInfo::architecture)
/// and [`memory_size`](DeviceInfo::memory_size) read the common ones.
///
/// ```
/// let info = mlx_rs::Device::cpu().info()?;
/// assert!(info.architecture().is_some());
/// assert!(info.keys().any(|k| k == "device_name"));
/// # Ok::<(), mlx_rs::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceInfo(BTreeMap<String, DeviceInfoValue>);

impl DeviceInfo {
    /// The value stored under `key`.
    pub fn get(&self, key: &str) -> Option<&DeviceInfoValue> {
        self.0.get(key)
    }

    /// The text stored under `key` (`None` when absent or a number).
    pub fn text(&self, key: &str) -> Option<&str> {
        match self.0.get(key) {
            Some(DeviceInfoValue::Text(s)) => Some(s),
            _ => None,
        }
    }

    /// The number stored under `key` (`None` when absent or text).
    pub fn size(&self, key: &str) -> Option<usize> {
        match self.0.get(key) {
            Some(DeviceInfoValue::Size(n)) => Some(*n),
            _ => None,
        }
    }

    /// The device's name (`"device_name"`).
    pub fn name(&self) -> Option<&str> {
        self.text("device_name")
    }

    /// The device's architecture (`"architecture"`: e.g. `"x86_64"`, a
    /// GPU's compute capability or Metal architecture).
    pub fn architecture(&self) -> Option<&str> {
        self.text("architecture")
    }

    /// The device's memory in bytes: `"memory_size"` (Metal) or
    /// `"total_memory"` (CUDA); MLX's CPU backend reports none.
    pub fn memory_size(&self) -> Option<usize> {
        self.size("memory_size")
            .or_else(|| self.size("total_memory"))
    }

    /// The keys, in sorted order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The entries, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &DeviceInfoValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl Device {
    /// What MLX reports about this device (see [`DeviceInfo`]).
    ///
    /// # Errors
    /// [`Error::DeviceUnavailable`] for a device that is not available;
    /// [`Error::Mlx`] if MLX fails to describe it.
    #[doc(alias = "mlx_device_info_get")]
    #[doc(alias = "mlx_device_info_get_keys")]
    #[doc(alias = "mlx_device_info_is_string")]
    #[doc(alias = "mlx_device_info_get_string")]
    #[doc(alias = "mlx_device_info_get_size")]
    pub fn info(self) -> Result<DeviceInfo> {
        if !self.is_available()? {
            return Err(Error::DeviceUnavailable(self));
        }
        let dev = self.to_raw()?;
        // SAFETY: `res` is a fresh info handle that mlx-c fills; `dev` is
        // live.
        let info = raw::out("mlx_device_info_get", |res| unsafe {
            mlx_sys::mlx_device_info_get(res, dev.get())
        })?;
        let keys = raw::out("mlx_device_info_get_keys", |res| {
            // SAFETY: `res` is a fresh vector out-param; `info` is live.
            unsafe { mlx_sys::mlx_device_info_get_keys(res, info.get()) }
        })?;
        let mut entries = BTreeMap::new();
        for key in strings_out(&keys)? {
            let value = read_value(&info, &key)?;
            entries.insert(key, value);
        }
        Ok(DeviceInfo(entries))
    }
}

/// The value of one key that the info handle lists.
fn read_value(info: &Owned<mlx_sys::mlx_device_info>, key: &str) -> Result<DeviceInfoValue> {
    let c = cstring(key)?;
    let mut is_string = false;
    // SAFETY: `info` is live, `c` a NUL-terminated key, `is_string` a
    // valid out-param.
    raw::call("mlx_device_info_is_string", || unsafe {
        mlx_sys::mlx_device_info_is_string(&mut is_string, info.get(), c.as_ptr())
    })?;
    if is_string {
        let mut p: *const c_char = std::ptr::null();
        // SAFETY: as above; `p` receives a pointer into the info's map.
        raw::call("mlx_device_info_get_string", || unsafe {
            mlx_sys::mlx_device_info_get_string(&mut p, info.get(), c.as_ptr())
        })?;
        // SAFETY: `p` points at the value, owned by `info`, alive here.
        let s = unsafe { string_from_c(p, "a device info value is not UTF-8") }?;
        Ok(DeviceInfoValue::Text(s))
    } else {
        let mut n = 0usize;
        // SAFETY: as above; `n` is a valid out-param.
        raw::call("mlx_device_info_get_size", || unsafe {
            mlx_sys::mlx_device_info_get_size(&mut n, info.get(), c.as_ptr())
        })?;
        Ok(DeviceInfoValue::Size(n))
    }
}
