//! Streams: ordered queues of work on a device, and the scoped choice of
//! the stream that operations run on.
//!
//! Every operation of this crate runs on a stream. Without an explicit one
//! (the `*_on` variants take `&Stream`), it runs on the stream
//! [`Stream::current`] returns: the one installed by the innermost
//! [`with_stream`] on this thread, or else MLX's default stream of the
//! default device for this thread.
//!
//! # The default-stream cache
//! [`Stream::current`] runs for every op given no stream, so asking MLX each
//! time (a device handle and a stream handle allocated, filled and freed)
//! would cost more than recording a small op. Each thread keeps the stream
//! it last got from MLX, tagged with a process-wide generation counter that
//! every change of MLX's default device through this crate bumps
//! ([`Device::set_as_default`], [`DEFAULT_DEVICE_ENV`]). In MLX 0.32 the
//! default device is process-global and the default stream of a device is
//! per thread and changes only through `set_default_stream` (or
//! `clear_streams`, which this crate does not expose); so the cache is
//! thread-local, and a cached stream is the one MLX would return as long as
//! the generation is unchanged ([`Stream::set_as_default`] drops this
//! thread's cached stream). Changing MLX's defaults directly through
//! `mlx-sys` bypasses the counter and is not seen.
//!
//! [`DEFAULT_DEVICE_ENV`]: crate::DEFAULT_DEVICE_ENV

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

mod defaults;

pub use defaults::ThreadLocalStream;

use crate::device::{self, Device};
use crate::error::{Error, Result};
use crate::raw::{self, Owned};

/// An MLX stream.
///
/// `Clone` is cheap: clones share one mlx-c handle through a reference
/// count, and no MLX call is made.
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
/// streams with [`Stream::current`] or [`Stream::new`]. (The shared handle
/// is an `Rc`, which is neither `Send` nor `Sync` either.)
///
/// ```compile_fail
/// fn needs_send<T: Send>(_: T) {}
/// needs_send(mlx_rs::Stream::current().unwrap());
/// ```
#[derive(Clone)]
pub struct Stream {
    handle: Rc<Handle>,
}

/// The owned `mlx_stream` shared by the clones of a [`Stream`].
type Handle = Owned<mlx_sys::mlx_stream>;

/// What [`Stream::current`] reads, per thread.
struct Current {
    /// The stream installed by the innermost `with_stream`.
    scoped: Option<Stream>,
    /// This thread's default stream of MLX's default device, and the
    /// generation of the default device it was looked up in.
    default: Option<(u64, Stream)>,
}

thread_local! {
    static CURRENT: RefCell<Current> = const {
        RefCell::new(Current {
            scoped: None,
            default: None,
        })
    };
}

impl Stream {
    /// Wraps a raw handle, taking ownership of it.
    ///
    /// # Safety
    /// `raw` must be a live, non-empty `mlx_stream` that nothing else frees;
    /// the returned `Stream` frees it when it and its clones are dropped. It
    /// must belong to this thread (see the type's docs).
    pub unsafe fn from_raw(raw: mlx_sys::mlx_stream) -> Self {
        // SAFETY: the caller's contract is `Owned::from_raw`'s.
        Stream::from_owned(unsafe { Owned::from_raw(raw) })
    }

    /// A stream owning `handle`.
    fn from_owned(handle: Handle) -> Self {
        Stream {
            handle: Rc::new(handle),
        }
    }

    /// The owned handle, borrowed: what the raw layer's runners take.
    #[inline]
    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }

    /// The raw handle, still owned by `self` (and shared with its clones);
    /// valid while `self` lives.
    pub fn as_raw(&self) -> mlx_sys::mlx_stream {
        self.handle.get()
    }

    /// Gives up ownership of a raw handle; the caller must free it with
    /// `mlx_stream_free`. When clones of `self` are alive they keep theirs,
    /// and the caller gets a handle of its own to the same MLX stream.
    #[doc(alias = "mlx_stream_set")]
    pub fn into_raw(self) -> mlx_sys::mlx_stream {
        match Rc::try_unwrap(self.handle) {
            Ok(handle) => handle.into_raw(),
            Err(shared) => {
                // SAFETY: mlx_stream_set copies the small `Stream` value (an
                // index and a device) into the fresh out-param; `shared` is
                // live.
                let copy = raw::out("mlx_stream_set", |res| unsafe {
                    mlx_sys::mlx_stream_set(res, shared.get())
                });
                match copy {
                    Ok(h) => h.into_raw(),
                    // mlx_stream_set only fails if allocating the copy
                    // fails, which Rust's own allocations treat as fatal.
                    Err(_) => std::process::abort(),
                }
            }
        }
    }

    /// A new stream on `device`.
    ///
    /// # Errors
    /// [`Error::DeviceUnavailable`](crate::Error::DeviceUnavailable) for a
    /// device that is not available; [`Error::Mlx`](crate::Error::Mlx) if
    /// MLX fails to make the stream.
    #[doc(alias = "mlx_stream_new_device")]
    pub fn new(device: Device) -> Result<Self> {
        let dev = device.to_raw()?;
        if !device.is_available()? {
            return Err(Error::DeviceUnavailable(device));
        }
        // SAFETY: `dev` is a live device handle; the fresh stream it returns
        // is owned at once by the guard.
        raw::returned("mlx_stream_new_device", || unsafe {
            mlx_sys::mlx_stream_new_device(dev.get())
        })
        .map(Stream::from_owned)
    }

    /// This thread's default stream on `device` (MLX's, ignoring
    /// [`with_stream`]).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX has none (e.g. the device
    /// is not available).
    #[doc(alias = "mlx_get_default_stream")]
    pub fn default_for(device: Device) -> Result<Self> {
        Stream::default_for_raw(&device.to_raw()?)
    }

    /// [`default_for`](Self::default_for) on a device handle.
    fn default_for_raw(dev: &Owned<mlx_sys::mlx_device>) -> Result<Self> {
        // SAFETY: `res` is a fresh out-param; `dev` is live.
        raw::out("mlx_get_default_stream", |res| unsafe {
            mlx_sys::mlx_get_default_stream(res, dev.get())
        })
        .map(Stream::from_owned)
    }

    /// The stream operations run on when none is given: the one installed by
    /// the innermost [`with_stream`] on this thread, else this thread's
    /// default stream of MLX's default device.
    ///
    /// Cheap: each thread asks MLX once and keeps the answer until the
    /// default device changes through [`Device::set_as_default`] (on any
    /// thread). A change made directly through `mlx-sys`
    /// (`mlx_set_default_device`, `mlx_set_default_stream`) is not seen.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails to report its defaults.
    #[doc(alias = "mlx_get_default_stream")]
    #[doc(alias = "mlx_get_default_device")]
    pub fn current() -> Result<Self> {
        // This runs for every op given no stream: a scoped or cached stream
        // costs a thread-local read and a reference count (see the module
        // docs and the graph_building rows of docs/benchmarks). A stream in
        // `CURRENT` was made through the raw layer's entry, so only a miss
        // reaches mlx-c.
        let found = CURRENT.try_with(|c| {
            let c = c.borrow();
            if let Some(s) = &c.scoped {
                return Some(s.clone());
            }
            match &c.default {
                Some((generation, s)) if *generation == device::query::defaults_generation() => {
                    Some(s.clone())
                }
                _ => None,
            }
        });
        match found {
            Ok(Some(s)) => Ok(s),
            _ => Stream::refresh_default(),
        }
    }

    /// Asks MLX for this thread's default stream of the default device and
    /// caches it (when this thread's locals are still alive).
    #[cold]
    fn refresh_default() -> Result<Self> {
        // Read before asking MLX: a change in between leaves an old tag, and
        // the next call asks again.
        let generation = device::query::defaults_generation();
        // Straight from MLX's default device handle, without a round trip
        // through `Device` (kind, index, a new handle).
        let stream = Stream::default_for_raw(&device::query::default_raw()?)?;
        let old = CURRENT.try_with(|c| {
            c.try_borrow_mut()
                .ok()
                .and_then(|mut c| c.default.replace((generation, stream.clone())))
        });
        // The replaced stream is dropped here, outside the borrow.
        drop(old);
        Ok(stream)
    }

    /// The device this stream runs on.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails to report it.
    #[doc(alias = "mlx_stream_get_device")]
    pub fn device(&self) -> Result<Device> {
        // SAFETY: `res` is a fresh device out-param; `self` is live.
        let dev = raw::out("mlx_stream_get_device", |res| unsafe {
            mlx_sys::mlx_stream_get_device(res, self.as_raw())
        })?;
        Device::from_raw_handle(&dev)
    }

    /// The stream's index among MLX's streams.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails to report it.
    #[doc(alias = "mlx_stream_get_index")]
    pub fn index(&self) -> Result<i32> {
        let mut index = 0;
        // SAFETY: `self` is live and `index` is a valid out-param.
        raw::call("mlx_stream_get_index", || unsafe {
            mlx_sys::mlx_stream_get_index(&mut index, self.as_raw())
        })?;
        Ok(index)
    }

    /// Blocks until all work queued on this stream has finished.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if queued work failed.
    #[doc(alias = "mlx_synchronize")]
    pub fn synchronize(&self) -> Result<()> {
        // SAFETY: `self` is a live stream handle.
        raw::call("mlx_synchronize", || unsafe {
            mlx_sys::mlx_synchronize(self.as_raw())
        })
    }
}

impl PartialEq for Stream {
    #[doc(alias = "mlx_stream_equal")]
    fn eq(&self, other: &Self) -> bool {
        if Rc::ptr_eq(&self.handle, &other.handle) {
            return true;
        }
        // SAFETY: both handles are live and non-empty.
        unsafe { mlx_sys::mlx_stream_equal(self.as_raw(), other.as_raw()) }
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
        // SAFETY: `self` is live; `s` is a fresh string out-param.
        let text = raw::string_out("mlx_stream_tostring", |s| unsafe {
            mlx_sys::mlx_stream_tostring(s, self.as_raw())
        });
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
            let mine = CURRENT.try_with(|c| std::mem::replace(&mut c.borrow_mut().scoped, prev));
            // The scope's own stream is dropped after the borrow ends.
            drop(mine);
        }
    }
    let prev = CURRENT.with(|c| c.borrow_mut().scoped.replace(stream.clone()));
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

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::thread;

    use super::*;
    use crate::{Array, Dtype};

    /// The generation of this thread's cached default stream.
    fn cached_generation() -> Option<u64> {
        CURRENT.with(|c| c.borrow().default.as_ref().map(|(g, _)| *g))
    }

    #[test]
    fn current_is_this_threads_default_stream_served_from_a_cache() {
        let a = Stream::current().unwrap();
        let b = Stream::current().unwrap();
        // The second call made no handle of its own.
        assert!(Rc::ptr_eq(&a.handle, &b.handle));
        assert_eq!(
            a,
            Stream::default_for(Device::default_device().unwrap()).unwrap()
        );
        // Another thread has its own default stream, and its own cache.
        let index = a.index().unwrap();
        let other = thread::spawn(|| {
            let s = Stream::current().unwrap();
            assert_eq!(
                s,
                Stream::default_for(Device::default_device().unwrap()).unwrap()
            );
            s.index().unwrap()
        })
        .join()
        .unwrap();
        assert_ne!(index, other);
        assert_eq!(Stream::current().unwrap().index().unwrap(), index);
    }

    #[test]
    fn a_scope_wins_over_the_cache_and_ends_with_it() {
        let default = Stream::current().unwrap();
        let mine = Stream::new(Device::cpu()).unwrap();
        with_stream(&mine, || {
            assert_eq!(Stream::current().unwrap(), mine);
            let y = (&Array::ones(&[2], Dtype::Float32).unwrap() + 1).unwrap();
            assert_eq!(y.to_vec::<f32>().unwrap(), [2.0, 2.0]);
        });
        let after = Stream::current().unwrap();
        assert_eq!(after, default);
        assert!(Rc::ptr_eq(&after.handle, &default.handle));
    }

    #[test]
    fn into_raw_of_a_shared_stream_gives_a_handle_of_its_own() {
        let s = Stream::current().unwrap();
        let raw = s.clone().into_raw();
        assert_ne!(raw.ctx, s.as_raw().ctx);
        // SAFETY: `raw` came from `into_raw` on this thread and nothing else
        // owns it.
        let back = unsafe { Stream::from_raw(raw) };
        assert_eq!(back, s);
        // Unshared: the handle itself.
        let ctx = back.as_raw().ctx;
        let raw = back.into_raw();
        assert_eq!(raw.ctx, ctx);
        // SAFETY: as above.
        drop(unsafe { Stream::from_raw(raw) });
    }

    /// Switches MLX's default device between every available device (the
    /// CPU, and the GPU where there is one) from a third thread, and checks
    /// that `Stream::current` follows on this thread and on a worker thread
    /// that cached its stream before each switch. Run only in a child
    /// process (by the test below), so that the switches (and the cache
    /// refreshes they cause) cannot disturb the other tests: in this
    /// process nothing changes the default device, so the tests above may
    /// rely on the cache staying put.
    #[test]
    #[ignore = "runs in the child process of default_device_switches_are_seen_on_every_thread"]
    fn default_device_switch_probe() {
        assert!(
            std::env::var_os("MLX_RS_STREAM_SWITCH_CHILD").is_some(),
            "run only as a child"
        );
        let available: Vec<Device> = [Device::cpu(), Device::gpu()]
            .into_iter()
            .filter(|d| d.is_available().unwrap())
            .collect();
        let check = |expected: Device| {
            let s = Stream::current().unwrap();
            assert_eq!(s.device().unwrap(), expected);
            assert_eq!(s, Stream::default_for(expected).unwrap());
            let y = (&Array::from_slice(&[1.0f32, 2.0], &[2]).unwrap() + 1).unwrap();
            assert_eq!(y.to_vec::<f32>().unwrap(), [2.0, 3.0]);
        };
        let (to_worker, requests) = mpsc::channel::<Option<Device>>();
        let (done, replies) = mpsc::channel::<()>();
        let worker = thread::spawn(move || {
            while let Some(expected) = requests.recv().unwrap() {
                check(expected);
                // Looked up again after the switch (nothing else changes
                // the default device in this process).
                let generation = device::query::defaults_generation();
                assert_eq!(cached_generation(), Some(generation));
                done.send(()).unwrap();
            }
        });
        let start = Device::default_device().unwrap();
        to_worker.send(Some(start)).unwrap();
        replies.recv().unwrap();
        check(start);
        for &d in available.iter().chain(available.iter().rev()) {
            let before = cached_generation().unwrap();
            thread::spawn(move || d.set_as_default().unwrap())
                .join()
                .unwrap();
            check(d);
            assert!(cached_generation().unwrap() > before);
            to_worker.send(Some(d)).unwrap();
            replies.recv().unwrap();
            // A scope still wins.
            let cpu = Stream::new(Device::cpu()).unwrap();
            with_stream(&cpu, || assert_eq!(Stream::current().unwrap(), cpu));
        }
        to_worker.send(None).unwrap();
        worker.join().unwrap();
        println!("SWITCHED {}", available.len());
    }

    #[test]
    fn default_device_switches_are_seen_on_every_thread() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "stream::tests::default_device_switch_probe",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("MLX_RS_STREAM_SWITCH_CHILD", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "child failed: {out:?}");
        let expected = if Device::gpu().is_available().unwrap() {
            "SWITCHED 2"
        } else {
            "SWITCHED 1"
        };
        assert!(stdout.contains(expected), "{stdout}");
    }
}
