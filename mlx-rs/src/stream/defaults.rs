//! The default CPU and GPU streams, making a stream this thread's default,
//! and [`ThreadLocalStream`]: one value that names a separate stream on
//! each thread (mlx-c's `stream.h`).

use super::{Stream, CURRENT};
use crate::device::Device;
use crate::error::{Error, Result};
use crate::raw::{self, Owned};

impl Stream {
    /// This thread's default stream of the CPU (MLX's
    /// `default_stream(Device::cpu)`).
    ///
    /// # Errors
    /// [`Error::Mlx`] if MLX fails to make it.
    #[doc(alias = "mlx_default_cpu_stream_new")]
    pub fn default_cpu() -> Result<Stream> {
        // SAFETY: a constructor without inputs; the handle is owned at once.
        raw::returned("mlx_default_cpu_stream_new", || unsafe {
            mlx_sys::mlx_default_cpu_stream_new()
        })
        .map(Stream::from_owned)
    }

    /// This thread's default stream of the GPU.
    ///
    /// # Errors
    /// [`Error::DeviceUnavailable`] without a GPU; [`Error::Mlx`] if MLX
    /// fails to make it.
    #[doc(alias = "mlx_default_gpu_stream_new")]
    pub fn default_gpu() -> Result<Stream> {
        if !Device::gpu().is_available()? {
            return Err(Error::DeviceUnavailable(Device::gpu()));
        }
        // SAFETY: a constructor without inputs; the handle is owned at once.
        raw::returned("mlx_default_gpu_stream_new", || unsafe {
            mlx_sys::mlx_default_gpu_stream_new()
        })
        .map(Stream::from_owned)
    }

    /// Makes `self` this thread's default stream of its device (MLX keeps
    /// one default stream per device and thread): ops given no stream
    /// outside a [`with_stream`](crate::with_stream) scope run on it when
    /// its device is the default device. Other threads are not affected.
    ///
    /// ```
    /// use mlx_rs::{Device, Stream};
    /// std::thread::spawn(|| {
    ///     let s = Stream::new(Device::cpu())?;
    ///     s.set_as_default()?;
    ///     assert_eq!(Stream::default_for(Device::cpu())?, s);
    ///     Ok::<(), mlx_rs::Error>(())
    /// }).join().unwrap()?;
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Mlx`] if MLX refuses (a GPU stream without a GPU).
    #[doc(alias = "mlx_set_default_stream")]
    pub fn set_as_default(&self) -> Result<()> {
        // SAFETY: `self` is a live stream handle.
        let status = raw::call("mlx_set_default_stream", || unsafe {
            mlx_sys::mlx_set_default_stream(self.as_raw())
        });
        // This thread's cached default stream may be the old one (the
        // default stream is per thread: no other thread's cache changes).
        let old = CURRENT.try_with(|c| c.try_borrow_mut().ok().and_then(|mut c| c.default.take()));
        drop(old);
        status
    }
}

/// A stream per thread under one name: each thread that asks
/// [`ThreadLocalStream::stream`] gets its own stream on the device (made
/// the first time it asks, the same one after that), so one value can be
/// handed to a pool of threads, each queueing work on a stream of its own.
///
/// ```
/// use std::sync::Arc;
/// use mlx_rs::{with_stream, Array, Device, Dtype, ThreadLocalStream};
/// let tls = Arc::new(ThreadLocalStream::new(Device::cpu())?);
/// let t = Arc::clone(&tls);
/// let other = std::thread::spawn(move || {
///     let s = t.stream()?;
///     let y = with_stream(&s, || Array::ones(&[2], Dtype::Float32))?;
///     Ok::<_, mlx_rs::Error>((y.to_vec::<f32>()?, s.to_string()))
/// }).join().unwrap()?;
/// assert_eq!(other.0, [1.0, 1.0]);
/// assert_ne!(other.1, tls.stream()?.to_string()); // another thread, another stream
/// # Ok::<(), mlx_rs::Error>(())
/// ```
#[derive(Debug)]
pub struct ThreadLocalStream(Owned<mlx_sys::mlx_stream_thread_local>);

// SAFETY: the handle points at an MLX `ThreadLocalStream`, an immutable
// value (an index and a device) that nothing mutates after
// `new_thread_local_stream` made it. The functions reached through `&self`
// only read it: `stream_from_thread_local_stream` looks it up in a
// `thread_local` map of the calling thread and, on a miss, calls
// `new_stream`, which takes MLX's stream-registry mutex; `synchronize`
// does the same lookup. The only write is the free in `Drop`, which has
// `self` exclusively. `tests/stream_thread_local.rs` stresses this from
// several threads.
unsafe impl Send for ThreadLocalStream {}
// SAFETY: as for `Send`: shared use is read-only on MLX's side.
unsafe impl Sync for ThreadLocalStream {}

impl ThreadLocalStream {
    /// A thread-local stream on `device`.
    ///
    /// # Errors
    /// [`Error::DeviceUnavailable`] for a device that is not available;
    /// [`Error::Mlx`] if MLX fails.
    #[doc(alias = "mlx_stream_thread_local_new")]
    pub fn new(device: Device) -> Result<ThreadLocalStream> {
        if !device.is_available()? {
            return Err(Error::DeviceUnavailable(device));
        }
        let dev = device.to_raw()?;
        // SAFETY: `dev` is a live device handle; the handle returned is
        // owned at once.
        raw::returned("mlx_stream_thread_local_new", || unsafe {
            mlx_sys::mlx_stream_thread_local_new(dev.get())
        })
        .map(ThreadLocalStream)
    }

    /// The calling thread's stream (made on its first call on this thread).
    ///
    /// # Errors
    /// [`Error::Mlx`] if MLX fails to make it.
    #[doc(alias = "mlx_stream_from_thread_local")]
    pub fn stream(&self) -> Result<Stream> {
        // SAFETY: `res` is a fresh stream out-param; `self` is live.
        raw::out("mlx_stream_from_thread_local", |res| unsafe {
            mlx_sys::mlx_stream_from_thread_local(res, self.0.get())
        })
        .map(Stream::from_owned)
    }

    /// Blocks until the work queued on the calling thread's stream has
    /// finished.
    ///
    /// # Errors
    /// [`Error::Mlx`] if queued work failed.
    #[doc(alias = "mlx_synchronize_thread_local")]
    pub fn synchronize(&self) -> Result<()> {
        // SAFETY: `self` is a live handle.
        raw::call("mlx_synchronize_thread_local", || unsafe {
            mlx_sys::mlx_synchronize_thread_local(self.0.get())
        })
    }
}
