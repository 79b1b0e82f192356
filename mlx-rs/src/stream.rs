//! Streams: ordered queues of work on a device, and the scoped choice of
//! the stream that operations run on.
//!
//! Every operation of this crate runs on a stream. Without an explicit one
//! (the `*_on` variants take `&Stream`), it runs on the stream
//! [`Stream::current`] returns: the one installed by the innermost
//! [`with_stream`] on this thread, or else MLX's default stream of the
//! default device for this thread.

use std::cell::RefCell;
use std::fmt;

use crate::device::{self, Device, RawDevice};
use crate::error::{self, check, check_handle, Result};

/// An MLX stream.
///
/// `Clone` makes a second handle to the same MLX stream (cheap).
///
/// # Threads
/// `Stream` is neither `Send` nor `Sync`. In MLX 0.32 streams are thread
/// affine: each thread has its own default stream (`default_stream` is
/// thread-local since MLX 0.31.2), and a stream made by `new_stream` has its
/// command encoder registered on the creating thread only, so evaluating on
/// it from another thread fails (mlx-c's `mlx_stream_new_thread_unsafe`
/// documents this; on the CPU, MLX 0.32.2 answers "There is no
/// Stream(cpu, N) in current thread"). Keeping `Stream` on its thread turns
/// that run-time failure into a compile-time one; each thread gets its own
/// streams with [`Stream::current`] or [`Stream::new`].
///
/// ```compile_fail
/// fn needs_send<T: Send>(_: T) {}
/// needs_send(mlx_rs::Stream::current().unwrap());
/// ```
pub struct Stream {
    raw: mlx_sys::mlx_stream,
}

thread_local! {
    /// The stream installed by the innermost `with_stream` on this thread.
    static SCOPED: RefCell<Option<Stream>> = const { RefCell::new(None) };
}

impl Stream {
    /// Wraps a raw handle, taking ownership of it.
    ///
    /// # Safety
    /// `raw` must be a live, non-empty `mlx_stream` that nothing else frees;
    /// the returned `Stream` frees it on drop. It must belong to this thread
    /// (see the type's docs).
    pub unsafe fn from_raw(raw: mlx_sys::mlx_stream) -> Self {
        error::init();
        Stream { raw }
    }

    /// The raw handle, still owned by `self`.
    pub fn as_raw(&self) -> mlx_sys::mlx_stream {
        self.raw
    }

    /// Gives up ownership of the raw handle; the caller must free it with
    /// `mlx_stream_free`.
    pub fn into_raw(self) -> mlx_sys::mlx_stream {
        let raw = self.raw;
        std::mem::forget(self);
        raw
    }

    /// Takes ownership of a handle that an mlx-c constructor returned,
    /// failing if the constructor reported an error or returned no stream.
    fn from_constructor(op: &'static str, raw: mlx_sys::mlx_stream) -> Result<Self> {
        let empty = raw.ctx.is_null();
        // SAFETY: `raw` came from an mlx-c stream constructor; we own it.
        let stream = unsafe { Stream::from_raw(raw) };
        check_handle(op, empty)?;
        Ok(stream)
    }

    /// A new stream on `device`.
    ///
    /// # Errors
    /// [`Error::DeviceUnavailable`](crate::Error::DeviceUnavailable) for a
    /// device that is not available; [`Error::Mlx`](crate::Error::Mlx) if
    /// MLX fails to make the stream.
    #[doc(alias = "mlx_stream_new_device")]
    pub fn new(device: Device) -> Result<Self> {
        let dev = device.to_raw();
        if !device.is_available()? {
            return Err(crate::Error::DeviceUnavailable(device));
        }
        // SAFETY: `dev` is a live device handle; the result is a fresh
        // handle that `from_constructor` takes ownership of.
        let raw = unsafe { mlx_sys::mlx_stream_new_device(dev.0) };
        Stream::from_constructor("mlx_stream_new_device", raw)
    }

    /// This thread's default stream on `device` (MLX's, ignoring
    /// [`with_stream`]).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX has none (e.g. the device
    /// is not available).
    #[doc(alias = "mlx_get_default_stream")]
    pub fn default_for(device: Device) -> Result<Self> {
        Stream::default_for_raw(&device.to_raw())
    }

    /// [`default_for`](Self::default_for) on a device handle.
    fn default_for_raw(dev: &RawDevice) -> Result<Self> {
        // SAFETY: mlx_stream_new returns an empty handle that mlx-c fills in
        // place; `Stream` then owns whatever it holds. `dev` is live.
        let (status, stream) = unsafe {
            let mut raw = mlx_sys::mlx_stream_new();
            let status = mlx_sys::mlx_get_default_stream(&mut raw, dev.0);
            (status, Stream::from_raw(raw))
        };
        check("mlx_get_default_stream", status)?;
        Ok(stream)
    }

    /// The stream operations run on when none is given: the one installed by
    /// the innermost [`with_stream`] on this thread, else this thread's
    /// default stream of MLX's default device.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails to report its defaults.
    #[doc(alias = "mlx_get_default_stream")]
    #[doc(alias = "mlx_get_default_device")]
    pub fn current() -> Result<Self> {
        error::init();
        if let Some(s) = SCOPED.with(|s| s.borrow().clone()) {
            return Ok(s);
        }
        // Straight from MLX's default device handle: this runs for every op
        // given no stream, so no round trip through `Device` (kind, index,
        // a new handle); see the graph_building rows of docs/benchmarks.
        Stream::default_for_raw(&device::default_raw()?)
    }

    /// The device this stream runs on.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails to report it.
    #[doc(alias = "mlx_stream_get_device")]
    pub fn device(&self) -> Result<Device> {
        // SAFETY: an empty handle that mlx-c fills in; RawDevice frees it.
        let (status, dev) = unsafe {
            let mut dev = mlx_sys::mlx_device_new();
            let status = mlx_sys::mlx_stream_get_device(&mut dev, self.raw);
            (status, crate::device::RawDevice(dev))
        };
        check("mlx_stream_get_device", status)?;
        Device::from_raw_handle(dev.0)
    }

    /// The stream's index among MLX's streams.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails to report it.
    #[doc(alias = "mlx_stream_get_index")]
    pub fn index(&self) -> Result<i32> {
        let mut index = 0;
        // SAFETY: `self.raw` is live and `index` is a valid out-param.
        check("mlx_stream_get_index", unsafe {
            mlx_sys::mlx_stream_get_index(&mut index, self.raw)
        })?;
        Ok(index)
    }

    /// Blocks until all work queued on this stream has finished.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if queued work failed.
    #[doc(alias = "mlx_synchronize")]
    pub fn synchronize(&self) -> Result<()> {
        // SAFETY: `self.raw` is a live stream handle.
        check("mlx_synchronize", unsafe {
            mlx_sys::mlx_synchronize(self.raw)
        })
    }
}

impl Clone for Stream {
    /// A second handle to the same MLX stream (cheap).
    #[doc(alias = "mlx_stream_set")]
    fn clone(&self) -> Self {
        // SAFETY: mlx_stream_set copies the small `Stream` value (an index
        // and a device) into a fresh handle; `self.raw` is live. It cannot
        // fail for a non-empty source, which a `Stream` always is.
        unsafe {
            let mut raw = mlx_sys::mlx_stream_new();
            mlx_sys::mlx_stream_set(&mut raw, self.raw);
            Stream::from_raw(raw)
        }
    }
}

impl Drop for Stream {
    #[doc(alias = "mlx_stream_free")]
    fn drop(&mut self) {
        // SAFETY: `self` owns the handle, which is freed exactly once here.
        unsafe { mlx_sys::mlx_stream_free(self.raw) };
    }
}

impl PartialEq for Stream {
    #[doc(alias = "mlx_stream_equal")]
    fn eq(&self, other: &Self) -> bool {
        // SAFETY: both handles are live and non-empty.
        unsafe { mlx_sys::mlx_stream_equal(self.raw, other.raw) }
    }
}

impl Eq for Stream {}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Stream {
    /// MLX's description, e.g. `Stream(Device(cpu, 0), 0)`.
    #[doc(alias = "mlx_stream_tostring")]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: `self.raw` is live; `s` is a fresh string handle filled in
        // by mlx-c, read while alive and freed right after.
        let text = unsafe {
            let mut s = mlx_sys::mlx_string_new();
            let status = mlx_sys::mlx_stream_tostring(&mut s, self.raw);
            let text = crate::array::string_from_raw(s);
            mlx_sys::mlx_string_free(s);
            check("mlx_stream_tostring", status).map(|()| text)
        };
        match text {
            Ok(t) => f.write_str(&t),
            Err(e) => write!(f, "<stream: {e}>"),
        }
    }
}

/// Runs `f` with `stream` as the stream of every operation on this thread
/// that is not given one explicitly; restores the previous choice when `f`
/// returns or unwinds.
///
/// Only this thread is affected, and nothing global in MLX is changed.
///
/// ```
/// use mlx_rs::{with_stream, Array, Device, Dtype, Stream};
/// let s = Stream::new(Device::cpu())?;
/// let y = with_stream(&s, || Array::zeros(&[2, 2], Dtype::Float32))?;
/// assert_eq!(Stream::current()?, Stream::default_for(Device::default_device()?)?);
/// # let _ = y;
/// # Ok::<(), mlx_rs::Error>(())
/// ```
pub fn with_stream<R>(stream: &Stream, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Stream>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0.take();
            let _ = SCOPED.try_with(|s| *s.borrow_mut() = prev);
        }
    }
    error::init();
    let prev = SCOPED.with(|s| s.borrow_mut().replace(stream.clone()));
    let _restore = Restore(prev);
    f()
}

/// Blocks until all work queued on [`Stream::current`] has finished.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if queued work failed.
#[doc(alias = "mlx_synchronize")]
pub fn synchronize() -> Result<()> {
    Stream::current()?.synchronize()
}
