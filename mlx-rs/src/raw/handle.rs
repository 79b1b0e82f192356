//! mlx-c handle kinds and the one owning guard.

use std::ffi::c_void;
use std::fmt;

/// An mlx-c handle kind: a struct of one pointer (`{ void* ctx; }`) with a
/// constructor and a destructor in mlx-c.
///
/// Only [`Owned`] calls these methods.
///
/// # Safety
/// `empty` returns a handle that `release` accepts; `release` frees what
/// the handle owns (accepting an empty handle); `ctx` reads the handle's
/// one pointer, null exactly when the handle is empty.
pub(crate) unsafe trait Handle: Copy {
    /// The mlx-c type name.
    const NAME: &'static str;
    /// A fresh handle: mlx-c's `<kind>_new()`, or `{ NULL }` for kinds that
    /// have no such constructor (readers, writers, exporters).
    fn empty() -> Self;
    /// The handle's pointer.
    fn ctx(self) -> *const c_void;
    /// Frees the handle.
    ///
    /// # Safety
    /// The caller owns `self` and never uses it again.
    unsafe fn release(self);
}

/// Declares the handle kinds: `type: constructor, destructor;` (`null` for
/// a kind without a constructor).
macro_rules! handles {
    ($($t:ident: $new:tt, $free:ident;)*) => {$(
        // SAFETY: `$new` and `$free` are the constructor and destructor that
        // mlx-c's header declares for `$t`, a struct of one `ctx` pointer;
        // every mlx-c destructor accepts an empty handle.
        unsafe impl Handle for mlx_sys::$t {
            const NAME: &'static str = stringify!($t);
            #[inline]
            fn empty() -> Self {
                handles!(@new $t $new)
            }
            #[inline]
            fn ctx(self) -> *const c_void {
                self.ctx.cast_const().cast()
            }
            #[inline]
            unsafe fn release(self) {
                // SAFETY: the caller owns `self` and drops it here, once; the
                // destructor's status (where it has one) only repeats what
                // the handle already says: freeing cannot fail.
                let _ = unsafe { mlx_sys::$free(self) };
            }
        }
    )*};
    (@new $t:ident null) => {
        mlx_sys::$t { ctx: std::ptr::null_mut() }
    };
    (@new $t:ident $new:ident) => {
        // SAFETY: a constructor without inputs; it returns a fresh handle.
        unsafe { mlx_sys::$new() }
    };
}

handles! {
    mlx_array: mlx_array_new, mlx_array_free;
    mlx_vector_array: mlx_vector_array_new, mlx_vector_array_free;
    mlx_vector_string: mlx_vector_string_new, mlx_vector_string_free;
    mlx_string: mlx_string_new, mlx_string_free;
    mlx_map_string_to_array: mlx_map_string_to_array_new, mlx_map_string_to_array_free;
    mlx_map_string_to_string: mlx_map_string_to_string_new, mlx_map_string_to_string_free;
    mlx_device: mlx_device_new, mlx_device_free;
    mlx_device_info: mlx_device_info_new, mlx_device_info_free;
    mlx_stream: mlx_stream_new, mlx_stream_free;
    mlx_stream_thread_local: null, mlx_stream_thread_local_free;
    mlx_io_reader: null, mlx_io_reader_free;
    mlx_io_writer: null, mlx_io_writer_free;
    mlx_io_gguf: mlx_io_gguf_new, mlx_io_gguf_free;
    mlx_fast_metal_kernel_config: mlx_fast_metal_kernel_config_new, mlx_fast_metal_kernel_config_free;
    mlx_fast_metal_kernel: null, mlx_fast_metal_kernel_free;
    mlx_fast_cuda_kernel_config: mlx_fast_cuda_kernel_config_new, mlx_fast_cuda_kernel_config_free;
    mlx_fast_cuda_kernel: null, mlx_fast_cuda_kernel_free;
    mlx_closure: mlx_closure_new, mlx_closure_free;
    mlx_closure_kwargs: mlx_closure_kwargs_new, mlx_closure_kwargs_free;
    mlx_closure_value_and_grad: mlx_closure_value_and_grad_new, mlx_closure_value_and_grad_free;
    mlx_closure_custom: mlx_closure_custom_new, mlx_closure_custom_free;
    mlx_closure_custom_jvp: mlx_closure_custom_jvp_new, mlx_closure_custom_jvp_free;
    mlx_closure_custom_vmap: mlx_closure_custom_vmap_new, mlx_closure_custom_vmap_free;
    mlx_compile_cache: mlx_compile_cache_new, mlx_compile_cache_free;
    mlx_distributed_group: mlx_distributed_group_new, mlx_distributed_group_free;
    mlx_function_exporter: null, mlx_function_exporter_free;
    mlx_imported_function: null, mlx_imported_function_free;
    mlx_node_namer: mlx_node_namer_new, mlx_node_namer_free;
}

/// The owner of one mlx-c handle: frees it exactly once, on drop.
///
/// `Owned` is neither `Send` nor `Sync` (the handle's pointer is not);
/// types built on it that may cross threads say why in their own docs.
#[repr(transparent)]
pub(crate) struct Owned<H: Handle>(H);

impl<H: Handle> Owned<H> {
    /// A fresh handle (see [`Handle::empty`]), after [`enter`](super::enter).
    #[inline]
    pub(crate) fn new() -> Self {
        Owned(super::enter(H::empty))
    }

    /// Takes ownership of a handle that an mlx-c call returned by value.
    ///
    /// # Safety
    /// `raw` is a handle of this kind that nothing else frees.
    #[inline]
    pub(crate) unsafe fn from_raw(raw: H) -> Self {
        Owned(super::enter(|| raw))
    }

    /// The handle, still owned by `self`: live while `self` is.
    #[inline]
    pub(crate) fn get(&self) -> H {
        self.0
    }

    /// Where an mlx-c function writes its result (the handle `self` owns,
    /// and frees whatever it ends up holding).
    #[inline]
    pub(crate) fn as_mut_ptr(&mut self) -> *mut H {
        &mut self.0
    }

    /// Whether the handle is empty (its pointer is null).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.ctx().is_null()
    }

    /// Gives the handle up: the caller frees it.
    #[inline]
    pub(crate) fn into_raw(self) -> H {
        let raw = self.0;
        std::mem::forget(self);
        raw
    }
}

impl<H: Handle> Drop for Owned<H> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: `self` owns the handle (`into_raw` forgets `self`, so a
        // given-up handle never reaches here) and this is the only release.
        unsafe { self.0.release() }
    }
}

impl<H: Handle> fmt::Debug for Owned<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({:p})", H::NAME, self.0.ctx())
    }
}
