//! The bridge between Rust byte sources and sinks and mlx-c's
//! `mlx_io_reader` / `mlx_io_writer` (a C vtable that mlx-c wraps in a C++
//! `io::Reader` / `io::Writer`).
//!
//! Readers: MLX keeps the reader alive inside the lazily loaded arrays
//! (each array reads its bytes when evaluated, possibly on MLX's I/O
//! thread pool, possibly concurrently), so the source is *moved* to C,
//! must be `Send + 'static`, and is dropped by the vtable's `free`
//! callback when the last array that uses it goes away.
//!
//! Writers: saving is eager; the sink is only borrowed for the duration of
//! the call. The borrow is cut (the shared slot emptied) before the call
//! returns, so even a C++ object that outlived the call could not reach it.
//!
//! Every callback runs under `catch_unwind`; a panic becomes a failure
//! result for C++ (which throws, and mlx-c turns that into an error status)
//! and is re-raised on the calling thread once the mlx-c call returned
//! ([`Bridge::resume_panic`], [`drop_then_check`]). A panic while MLX
//! evaluates a lazily loaded array (possibly on another thread) cannot be
//! re-raised: that evaluation fails with MLX's short-read error instead.

use std::any::Any;
use std::ffi::{c_char, c_int, c_void, CString};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use super::{io_error, with_default_stream};
use crate::error::{self, Result};
use crate::raw::{self, Owned};

const SEEK_SET: c_int = 0;
const SEEK_CUR: c_int = 1;
const SEEK_END: c_int = 2;

/// A panic caught in a callback, kept for the calling thread.
type PanicSlot = Mutex<Option<Box<dyn Any + Send + 'static>>>;

fn store_panic(slot: &PanicSlot, payload: Box<dyn Any + Send + 'static>) {
    let mut guard = slot.lock().unwrap_or_else(PoisonError::into_inner);
    if guard.is_none() {
        *guard = Some(payload);
    }
}

fn take_panic(slot: &PanicSlot) -> Option<Box<dyn Any + Send + 'static>> {
    slot.lock().unwrap_or_else(PoisonError::into_inner).take()
}

/// Something mlx-c can re-raise a panic from.
pub(crate) trait Bridge {
    /// The panic slot shared with the callbacks.
    fn panic_slot(&self) -> &PanicSlot;

    /// Re-raises a panic that a callback caught during the last mlx-c
    /// call, if any. Call it right after that call returns.
    fn resume_panic(&self) {
        if let Some(payload) = take_panic(self.panic_slot()) {
            std::panic::resume_unwind(payload);
        }
    }
}

// ---------------------------------------------------------------- readers

/// A byte source that can be read at any offset, from any thread.
pub(crate) trait RandomAccess: Send + Sync + 'static {
    /// Total length in bytes.
    fn len(&self) -> u64;
    /// Reads up to `buf.len()` bytes at `offset`; returns how many were
    /// read (fewer only at the end of the source or on error).
    fn read_at(&self, buf: &mut [u8], offset: u64) -> usize;

    /// Reads exactly `buf.len()` bytes at `offset`.
    ///
    /// # Errors
    /// `UnexpectedEof` when fewer could be read.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        if self.read_at(buf, offset) == buf.len() {
            Ok(())
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "short read",
            ))
        }
    }
}

/// In-memory bytes.
pub(crate) struct BytesSource<B>(pub(crate) B);

impl<B: AsRef<[u8]> + Send + Sync + 'static> RandomAccess for BytesSource<B> {
    fn len(&self) -> u64 {
        self.0.as_ref().len() as u64
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> usize {
        let data = self.0.as_ref();
        let Ok(start) = usize::try_from(offset) else {
            return 0;
        };
        if start >= data.len() {
            return 0;
        }
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        n
    }
}

/// A `Read + Seek` stream, serialised by a mutex.
pub(crate) struct StreamSource<R> {
    inner: Mutex<R>,
    len: u64,
}

impl<R: Read + Seek> StreamSource<R> {
    /// Wraps `r`, measuring its length.
    pub(crate) fn new(mut r: R) -> std::io::Result<Self> {
        let len = r.seek(SeekFrom::End(0))?;
        r.seek(SeekFrom::Start(0))?;
        Ok(StreamSource {
            inner: Mutex::new(r),
            len,
        })
    }
}

impl<R: Read + Seek + Send + 'static> RandomAccess for StreamSource<R> {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> usize {
        let mut r = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if r.seek(SeekFrom::Start(offset)).is_err() {
            return 0;
        }
        let mut done = 0;
        while done < buf.len() {
            match r.read(&mut buf[done..]) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        done
    }
}

/// What the reader vtable's `desc` points at (boxed, owned by C).
struct ReaderState {
    source: Box<dyn RandomAccess>,
    /// Position of the sequential cursor (`read`, `seek`, `tell`).
    pos: Mutex<u64>,
    label: CString,
    panic: Arc<PanicSlot>,
}

/// Runs `f`, catching a panic into `slot`; `fallback` is what C gets
/// after a panic.
fn guard<T>(slot: &PanicSlot, fallback: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(payload) => {
            store_panic(slot, payload);
            fallback
        }
    }
}

/// The state behind a reader's `desc`.
///
/// # Safety
/// `desc` must be the pointer [`CReader::new`] handed to mlx-c, not yet
/// freed, and the reference must not outlive the callback.
unsafe fn reader_state<'a>(desc: *mut c_void) -> &'a ReaderState {
    // SAFETY: per the contract `desc` is a live `Box<ReaderState>`; only
    // the `free` callback drops it, from the C++ destructor, after every
    // other callback is done. The state is only read through `&`.
    unsafe { &*desc.cast::<ReaderState>() }
}

unsafe extern "C" fn reader_is_open(_desc: *mut c_void) -> bool {
    true
}

unsafe extern "C" fn reader_tell(desc: *mut c_void) -> usize {
    // SAFETY: mlx-c calls back with the `desc` it was given.
    let s = unsafe { reader_state(desc) };
    guard(&s.panic, 0, || {
        *s.pos.lock().unwrap_or_else(PoisonError::into_inner) as usize
    })
}

unsafe extern "C" fn reader_seek(desc: *mut c_void, off: i64, whence: c_int) -> c_int {
    // SAFETY: mlx-c calls back with the `desc` it was given.
    let s = unsafe { reader_state(desc) };
    guard(&s.panic, -1, || {
        let mut pos = s.pos.lock().unwrap_or_else(PoisonError::into_inner);
        let base = match whence {
            SEEK_SET => 0,
            SEEK_CUR => i128::from(*pos),
            SEEK_END => i128::from(s.source.len()),
            _ => return -1,
        };
        match u64::try_from(base + i128::from(off)) {
            Ok(p) => {
                *pos = p;
                0
            }
            Err(_) => -1,
        }
    })
}

unsafe extern "C" fn reader_read(desc: *mut c_void, data: *mut c_char, n: usize) -> usize {
    // SAFETY: mlx-c calls back with the `desc` it was given.
    let s = unsafe { reader_state(desc) };
    guard(&s.panic, 0, || {
        if n == 0 || data.is_null() {
            return 0;
        }
        let mut pos = s.pos.lock().unwrap_or_else(PoisonError::into_inner);
        // SAFETY: C++ passes a buffer of at least `n` writable bytes that
        // nothing else touches during the call.
        let buf = unsafe { std::slice::from_raw_parts_mut(data.cast::<u8>(), n) };
        let got = s.source.read_at(buf, *pos);
        *pos += got as u64;
        got
    })
}

unsafe extern "C" fn reader_read_at(
    desc: *mut c_void,
    data: *mut c_char,
    n: usize,
    off: usize,
) -> usize {
    // SAFETY: mlx-c calls back with the `desc` it was given.
    let s = unsafe { reader_state(desc) };
    guard(&s.panic, 0, || {
        if n == 0 || data.is_null() {
            return 0;
        }
        // SAFETY: C++ passes a buffer of at least `n` writable bytes that
        // nothing else touches during the call (concurrent reads get
        // disjoint buffers).
        let buf = unsafe { std::slice::from_raw_parts_mut(data.cast::<u8>(), n) };
        s.source.read_at(buf, off as u64)
    })
}

unsafe extern "C" fn reader_write(_desc: *mut c_void, _data: *const c_char, _n: usize) -> usize {
    0
}

unsafe extern "C" fn reader_label(desc: *mut c_void) -> *const c_char {
    // SAFETY: mlx-c calls back with the `desc` it was given; the label
    // lives as long as the state, and C++ copies it at once.
    unsafe { reader_state(desc) }.label.as_ptr()
}

unsafe extern "C" fn reader_free(desc: *mut c_void) {
    // The drop may run user code (the source's Drop): keep a panic from
    // unwinding into the C++ destructor; there is nobody to re-raise it to.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `desc` came from `Box::into_raw` in `CReader::new`;
        // C++ calls `free` exactly once, from the reader's destructor,
        // when no other callback can run any more.
        drop(unsafe { Box::from_raw(desc.cast::<ReaderState>()) });
    }));
}

static READER_VTABLE: mlx_sys::mlx_io_vtable = mlx_sys::mlx_io_vtable {
    is_open: Some(reader_is_open),
    good: Some(reader_is_open),
    tell: Some(reader_tell),
    seek: Some(reader_seek),
    read: Some(reader_read),
    read_at_offset: Some(reader_read_at),
    write: Some(reader_write),
    label: Some(reader_label),
    free: Some(reader_free),
};

/// An owned `mlx_io_reader` over a Rust source.
pub(crate) struct CReader {
    /// Arrays loaded through it keep the C++ reader (and so the source)
    /// alive through their own `shared_ptr`.
    raw: Owned<mlx_sys::mlx_io_reader>,
    panic: Arc<PanicSlot>,
}

impl CReader {
    /// Hands `source` to a new mlx-c reader.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if mlx-c fails to make the reader.
    #[doc(alias = "mlxs_io_reader_new")]
    pub(crate) fn new(source: Box<dyn RandomAccess>, label: &str) -> Result<CReader> {
        let panic = Arc::new(PanicSlot::default());
        let label = CString::new(label.replace('\0', " ")).unwrap_or_default();
        let state = Box::new(ReaderState {
            source,
            pos: Mutex::new(0),
            label,
            panic: Arc::clone(&panic),
        });
        let desc = Box::into_raw(state).cast::<c_void>();
        // SAFETY: `READER_VTABLE` is a static of valid callbacks (mlx-c
        // copies it anyway); `desc` is a live, leaked `Box<ReaderState>`
        // whose ownership passes to the reader: its destructor calls
        // `reader_free`, which drops the box.
        let raw = raw::returned("mlxs_io_reader_new", || unsafe {
            mlx_sys::mlxs_io_reader_new(desc, &READER_VTABLE)
        });
        match raw {
            Ok(raw) => Ok(CReader { raw, panic }),
            Err(e) => {
                // mlx-c failed before taking ownership: the box is still ours.
                // SAFETY: `desc` is the box leaked above, not handed over.
                drop(unsafe { Box::from_raw(desc.cast::<ReaderState>()) });
                Err(e)
            }
        }
    }

    /// The raw handle, valid while `self` lives.
    pub(crate) fn as_raw(&self) -> mlx_sys::mlx_io_reader {
        self.raw.get()
    }
}

impl Bridge for CReader {
    fn panic_slot(&self) -> &PanicSlot {
        &self.panic
    }
}

// ---------------------------------------------------------------- writers

/// A `Write + Seek` sink.
pub(crate) trait WriteSeek: Write + Seek {}
impl<T: Write + Seek + ?Sized> WriteSeek for T {}

/// The borrowed sink; the pointer's lifetime is erased (see
/// [`CWriter`]), so it lives behind a mutex that `CWriter::drop` empties.
struct SinkPtr(*mut (dyn WriteSeek + Send + 'static));

// SAFETY: the pointer stands for a `&mut (dyn WriteSeek + Send)`: the
// pointee is `Send`, and the mutex around `SinkPtr` gives exclusive access.
unsafe impl Send for SinkPtr {}

/// What the writer vtable's `desc` points at (boxed, owned by C).
struct WriterState {
    sink: Arc<Mutex<Option<SinkPtr>>>,
    label: CString,
    panic: Arc<PanicSlot>,
}

/// Runs `f` on the borrowed sink behind a writer's `desc`, catching a
/// panic; `fallback` is what C gets after a panic or once the borrow is cut.
///
/// # Safety
/// `desc` must be the pointer [`CWriter::new`] handed to mlx-c, not yet
/// freed.
unsafe fn with_writer<T>(
    desc: *mut c_void,
    fallback: T,
    f: impl FnOnce(&mut (dyn WriteSeek + Send)) -> T,
) -> T {
    // SAFETY: per the contract, `desc` is a live `Box<WriterState>`, read
    // through a shared reference only.
    let state = unsafe { &*desc.cast::<WriterState>() };
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut slot = state.sink.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_mut().map(|p| {
            // SAFETY: while the slot holds the pointer, the `&mut` borrow
            // it was made from is alive (`CWriter` empties the slot before
            // that borrow ends) and the mutex makes this the only access.
            f(unsafe { &mut *p.0 })
        })
    }));
    match result {
        Ok(Some(v)) => v,
        Ok(None) => fallback,
        Err(payload) => {
            store_panic(&state.panic, payload);
            fallback
        }
    }
}

unsafe extern "C" fn writer_is_open(desc: *mut c_void) -> bool {
    // SAFETY: mlx-c calls back with the `desc` it was given.
    unsafe { with_writer(desc, false, |_| true) }
}

unsafe extern "C" fn writer_tell(desc: *mut c_void) -> usize {
    // SAFETY: mlx-c calls back with the `desc` it was given.
    unsafe { with_writer(desc, 0, |w| w.stream_position().map_or(0, |p| p as usize)) }
}

unsafe extern "C" fn writer_seek(desc: *mut c_void, off: i64, whence: c_int) -> c_int {
    // SAFETY: mlx-c calls back with the `desc` it was given.
    unsafe {
        with_writer(desc, -1, |w| {
            let to = match whence {
                SEEK_SET => match u64::try_from(off) {
                    Ok(o) => SeekFrom::Start(o),
                    Err(_) => return -1,
                },
                SEEK_CUR => SeekFrom::Current(off),
                SEEK_END => SeekFrom::End(off),
                _ => return -1,
            };
            if w.seek(to).is_ok() {
                0
            } else {
                -1
            }
        })
    }
}

unsafe extern "C" fn writer_read(_desc: *mut c_void, _data: *mut c_char, _n: usize) -> usize {
    0
}

unsafe extern "C" fn writer_read_at(
    _desc: *mut c_void,
    _data: *mut c_char,
    _n: usize,
    _off: usize,
) -> usize {
    0
}

unsafe extern "C" fn writer_write(desc: *mut c_void, data: *const c_char, n: usize) -> usize {
    if n == 0 || data.is_null() {
        return 0;
    }
    // SAFETY: C++ passes `n` readable bytes that stay alive for the call.
    let buf = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), n) };
    // SAFETY: mlx-c calls back with the `desc` it was given.
    unsafe {
        with_writer(desc, 0, |w| match w.write_all(buf) {
            Ok(()) => n,
            Err(_) => 0,
        })
    }
}

unsafe extern "C" fn writer_label(desc: *mut c_void) -> *const c_char {
    // SAFETY: `desc` is the live `Box<WriterState>` given to mlx-c; the
    // label lives as long as the state and C++ copies it at once.
    unsafe { (*desc.cast::<WriterState>()).label.as_ptr() }
}

unsafe extern "C" fn writer_free(desc: *mut c_void) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `desc` came from `Box::into_raw` in `CWriter::new`; C++
        // calls `free` once, from the writer's destructor.
        drop(unsafe { Box::from_raw(desc.cast::<WriterState>()) });
    }));
}

static WRITER_VTABLE: mlx_sys::mlx_io_vtable = mlx_sys::mlx_io_vtable {
    is_open: Some(writer_is_open),
    good: Some(writer_is_open),
    tell: Some(writer_tell),
    seek: Some(writer_seek),
    read: Some(writer_read),
    read_at_offset: Some(writer_read_at),
    write: Some(writer_write),
    label: Some(writer_label),
    free: Some(writer_free),
};

/// An owned `mlx_io_writer` that borrows a Rust sink for `'a`.
pub(crate) struct CWriter<'a> {
    raw: Owned<mlx_sys::mlx_io_writer>,
    sink: Arc<Mutex<Option<SinkPtr>>>,
    panic: Arc<PanicSlot>,
    _borrow: std::marker::PhantomData<&'a mut ()>,
}

impl<'a> CWriter<'a> {
    /// A new mlx-c writer that writes to `sink` until `self` is dropped.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if mlx-c fails to make the writer.
    #[doc(alias = "mlxs_io_writer_new")]
    pub(crate) fn new(sink: &'a mut (dyn WriteSeek + Send + 'a), label: &str) -> Result<Self> {
        let ptr: *mut (dyn WriteSeek + Send + 'a) = sink;
        // SAFETY: only the lifetime bound of the trait object changes; the
        // pointer is reachable only through the slot, which `Drop` empties
        // before `'a` can end (a `CWriter<'a>` cannot outlive `'a`).
        let ptr: *mut (dyn WriteSeek + Send + 'static) = unsafe { std::mem::transmute(ptr) };
        let slot = Arc::new(Mutex::new(Some(SinkPtr(ptr))));
        let panic = Arc::new(PanicSlot::default());
        let state = Box::new(WriterState {
            sink: Arc::clone(&slot),
            label: CString::new(label.replace('\0', " ")).unwrap_or_default(),
            panic: Arc::clone(&panic),
        });
        let desc = Box::into_raw(state).cast::<c_void>();
        // SAFETY: as in `CReader::new`: a static vtable of valid callbacks
        // and a leaked box whose ownership passes to the writer.
        let raw = raw::returned("mlxs_io_writer_new", || unsafe {
            mlx_sys::mlxs_io_writer_new(desc, &WRITER_VTABLE)
        });
        let raw = match raw {
            Ok(raw) => raw,
            Err(e) => {
                // SAFETY: mlx-c did not take the box.
                drop(unsafe { Box::from_raw(desc.cast::<WriterState>()) });
                return Err(e);
            }
        };
        Ok(CWriter {
            raw,
            sink: slot,
            panic,
            _borrow: std::marker::PhantomData,
        })
    }

    /// The raw handle, valid while `self` lives.
    pub(crate) fn as_raw(&self) -> mlx_sys::mlx_io_writer {
        self.raw.get()
    }
}

/// Ends a save through `w`: checks `status` (taking MLX's message), cuts
/// the writer's borrow, then re-raises a panic of the sink if one was
/// caught.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) when `status != 0`.
pub(crate) fn drop_then_check(w: CWriter<'_>, op: &'static str, status: i32) -> Result<()> {
    let checked = error::check(op, status);
    let panic = take_panic(&w.panic);
    drop(w);
    if let Some(payload) = panic {
        std::panic::resume_unwind(payload);
    }
    checked
}

/// Not a handle owner (`raw` frees the handle, after this): cuts the
/// borrow of the sink, so that whatever C++ still holds can no longer reach
/// it once `'a` may end.
impl Drop for CWriter<'_> {
    fn drop(&mut self) {
        *self.sink.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

// ------------------------------------------- what the file formats share

/// What header checks read through: exactly `buf.len()` bytes at an
/// offset.
pub(crate) type ReadAt<'a> = dyn FnMut(&mut [u8], u64) -> std::io::Result<()> + 'a;

/// `path` opened for reading, and its length.
///
/// # Errors
/// [`Error::Io`](crate::Error::Io) if the file cannot be opened or
/// measured.
pub(crate) fn open_file(path: &Path) -> Result<(File, u64)> {
    let f = File::open(path).map_err(|e| io_error(path, e))?;
    let len = f.metadata().map_err(|e| io_error(path, e))?.len();
    Ok((f, len))
}

/// Runs a format's header check on the file at `path`: `check` gets a
/// [`ReadAt`] over the file, its length, and the path as messages name it.
///
/// # Errors
/// As [`open_file`], and whatever `check` returns.
pub(crate) fn check_file<T>(
    path: &Path,
    check: impl FnOnce(&mut ReadAt<'_>, u64, &str) -> Result<T>,
) -> Result<T> {
    let (mut f, len) = open_file(path)?;
    let mut read_at = |buf: &mut [u8], off: u64| {
        f.seek(SeekFrom::Start(off))?;
        f.read_exact(buf)
    };
    check(&mut read_at, len, &path.display().to_string())
}

/// [`check_file`] for a source, named `origin` in messages.
///
/// # Errors
/// Whatever `check` returns.
pub(crate) fn check_source<T>(
    source: &dyn RandomAccess,
    origin: &str,
    check: impl FnOnce(&mut ReadAt<'_>, u64, &str) -> Result<T>,
) -> Result<T> {
    check(
        &mut |buf, off| source.read_exact_at(buf, off),
        source.len(),
        origin,
    )
}

/// A seekable stream as a source (its length measured now), for the
/// `load_*_from_reader` functions; messages name it `"<reader>"`.
///
/// # Errors
/// [`Error::Io`](crate::Error::Io) if the stream cannot be measured.
pub(crate) fn stream_source<R>(reader: R) -> Result<Box<dyn RandomAccess>>
where
    R: Read + Seek + Send + 'static,
{
    let source = StreamSource::new(reader).map_err(|e| io_error(Path::new("<reader>"), e))?;
    Ok(Box::new(source))
}

/// Loads through a new mlx-c reader over `source`: runs `load` with the
/// reader's raw handle and the default stream, then re-raises a panic that
/// the source caught in a callback. `load` checks its own status (taking
/// MLX's message) so that nothing is left behind when the panic unwinds.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if mlx-c cannot make the reader or
/// report the default stream.
pub(crate) fn load_through_reader<T>(
    source: Box<dyn RandomAccess>,
    origin: &str,
    load: impl FnOnce(mlx_sys::mlx_io_reader, mlx_sys::mlx_stream) -> T,
) -> Result<T> {
    let reader = CReader::new(source, origin)?;
    let out = with_default_stream(|s| load(reader.as_raw(), s));
    reader.resume_panic();
    out
}

/// Saves through a new mlx-c writer that borrows `writer` for the call:
/// `save` makes the mlx-c call with the writer's raw handle and returns
/// its status, which is checked as the op `op` (see [`drop_then_check`]).
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if mlx-c cannot make the writer or
/// the save fails.
pub(crate) fn save_through_writer(
    writer: &mut (dyn WriteSeek + Send),
    op: &'static str,
    save: impl FnOnce(mlx_sys::mlx_io_writer) -> i32,
) -> Result<()> {
    let w = CWriter::new(writer, "<writer>")?;
    let status = save(w.as_raw());
    drop_then_check(w, op, status)
}
