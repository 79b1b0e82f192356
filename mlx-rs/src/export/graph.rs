//! Pictures of computation graphs: [`export_to_dot`] (Graphviz DOT) and
//! [`print_graph`] (MLX's text listing), with node names from a
//! [`NodeNamer`] (mlx-c's `graph_utils.h`).

use std::ffi::c_char;

use crate::array::vector;
use crate::error::{Error, Result};
use crate::raw::{self, cstring, string_from_c, Owned};
use crate::Array;

/// Names for the arrays of a graph picture: arrays given a name with
/// [`NodeNamer::set_name`] appear under it; MLX names the others itself
/// (`A`, `B`, …, in the order it meets them).
///
/// ```
/// use mlx_rs::{export::{export_to_dot, NodeNamer}, ops, Array};
/// let x = Array::from_slice(&[1.0f32, 2.0], &[2])?;
/// let y = ops::exp(&x)?;
/// let mut names = NodeNamer::new()?;
/// names.set_name(&x, "x")?;
/// let dot = export_to_dot(&[y], &names)?;
/// assert!(dot.starts_with("digraph {") && dot.contains("\"x\"") && dot.contains("Exp"));
/// # Ok::<(), mlx_rs::Error>(())
/// ```
#[derive(Debug)]
pub struct NodeNamer(Owned<mlx_sys::mlx_node_namer>);

impl NodeNamer {
    /// A namer that names nothing yet.
    ///
    /// # Errors
    /// [`Error::Mlx`] if mlx-c cannot make one.
    #[doc(alias = "mlx_node_namer_new")]
    pub fn new() -> Result<NodeNamer> {
        raw::fresh("mlx_node_namer_new").map(NodeNamer)
    }

    /// Names `array` (the node that computes it) `name` in pictures.
    ///
    /// # Errors
    /// [`Error::InvalidData`] for a name with a NUL byte;
    /// [`Error::Mlx`] if MLX refuses it.
    #[doc(alias = "mlx_node_namer_set_name")]
    pub fn set_name(&mut self, array: &Array, name: &str) -> Result<()> {
        let name = cstring(name)?;
        // SAFETY: the namer and the array are live; `name` is a
        // NUL-terminated string that MLX copies.
        raw::call("mlx_node_namer_set_name", || unsafe {
            mlx_sys::mlx_node_namer_set_name(self.0.get(), array.as_raw(), name.as_ptr())
        })
    }

    /// The name of `array`: the one set, or the one MLX gives it (and
    /// keeps, so later pictures use it too).
    ///
    /// # Errors
    /// [`Error::Mlx`] if MLX fails; [`Error::InvalidData`] for a name
    /// that is not UTF-8.
    #[doc(alias = "mlx_node_namer_get_name")]
    pub fn name(&mut self, array: &Array) -> Result<String> {
        let mut p: *const c_char = std::ptr::null();
        // SAFETY: the namer and the array are live; `p` is a valid
        // out-param that receives a pointer into the namer's map.
        raw::call("mlx_node_namer_get_name", || unsafe {
            mlx_sys::mlx_node_namer_get_name(&mut p, self.0.get(), array.as_raw())
        })?;
        // SAFETY: `p` points at a NUL-terminated name owned by the namer,
        // which lives (and is not touched) while we copy it.
        unsafe { string_from_c(p, "a node name is not UTF-8") }
    }
}

/// Runs a graph printer of mlx-c into a temporary C stream and returns
/// what it wrote.
fn to_text(
    op: &'static str,
    outputs: &[Array],
    namer: &NodeNamer,
    f: unsafe extern "C" fn(
        *mut mlx_sys::FILE,
        mlx_sys::mlx_node_namer,
        mlx_sys::mlx_vector_array,
    ) -> i32,
) -> Result<String> {
    let outs = vector(outputs)?;
    let io_failed = |what: &str| Error::Mlx {
        op,
        message: format!("could not {what} the temporary stream the graph is printed to"),
        location: None,
    };
    // SAFETY: tmpfile takes no arguments; it returns a stream we own, or
    // null.
    let file = unsafe { libc::tmpfile() };
    if file.is_null() {
        return Err(io_failed("open"));
    }
    let result = (|| {
        // SAFETY: `file` is an open stream (libc's `FILE`, the type
        // mlx-c's `FILE*` names); the namer and vector are live.
        raw::call(op, || unsafe {
            f(file.cast::<mlx_sys::FILE>(), namer.0.get(), outs.get())
        })?;
        let mut text = Vec::new();
        // SAFETY: `file` is open; rewinding flushes what MLX wrote.
        unsafe { libc::rewind(file) };
        let mut buf = [0u8; 8192];
        loop {
            // SAFETY: `buf` is valid for `buf.len()` bytes; `file` is open.
            let n = unsafe { libc::fread(buf.as_mut_ptr().cast(), 1, buf.len(), file) };
            text.extend_from_slice(&buf[..n]);
            if n < buf.len() {
                // SAFETY: `file` is open.
                if unsafe { libc::ferror(file) } != 0 {
                    return Err(io_failed("read"));
                }
                break;
            }
        }
        Ok(String::from_utf8_lossy(&text).into_owned())
    })();
    // SAFETY: `file` came from tmpfile and is closed once, here (which
    // also deletes it).
    unsafe { libc::fclose(file) };
    result
}

/// The graph that computes `outputs`, in Graphviz's DOT language (as
/// Python's `mx.export_to_dot`): one node per operation and per input
/// array, back to the evaluated arrays the graph starts from. Render it
/// with `dot -Tsvg` (Debian/Ubuntu: `apt-get install graphviz`).
///
/// # Errors
/// [`Error::Mlx`] if MLX fails or the temporary stream cannot be used.
#[doc(alias = "mlx_export_to_dot")]
pub fn export_to_dot(outputs: &[Array], namer: &NodeNamer) -> Result<String> {
    to_text(
        "mlx_export_to_dot",
        outputs,
        namer,
        mlx_sys::mlx_export_to_dot,
    )
}

/// The graph that computes `outputs` as MLX's text listing (one line per
/// operation: its name, inputs and outputs with shapes and dtypes).
///
/// # Errors
/// As [`export_to_dot`].
#[doc(alias = "mlx_print_graph")]
pub fn print_graph(outputs: &[Array], namer: &NodeNamer) -> Result<String> {
    to_text("mlx_print_graph", outputs, namer, mlx_sys::mlx_print_graph)
}
