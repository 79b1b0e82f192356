//! Functions as files, and pictures of graphs (mlx-c's `export.h` and
//! `graph_utils.h`).
//!
//! - [`export_function`], [`export_function_kwargs`] and
//!   [`FunctionExporter`] trace a Rust function and write its graph to an
//!   `.mlxfn` file, which Python MLX (`mx.import_function`), C++ and
//!   [`import_function`] read back: a model written in one language runs
//!   in another with no model code.
//! - [`import_function`] reads an `.mlxfn` file (from Python's
//!   `mx.export_function` or `mx.exporter`, or from Rust) as an
//!   [`ImportedFunction`], called with positional and keyword arrays.
//!   A truncated file or damaged header, a call with the wrong number of
//!   inputs or the wrong dtypes: each is an `Err`. Import trusted files
//!   only, and evaluate the outputs on the thread that first used MLX: see
//!   [`ImportedFunction`] for why (MLX 0.32.2's importer).
//! - [`export_to_dot`] and [`print_graph`] describe the graph behind any
//!   arrays (DOT for Graphviz, or MLX's text listing), with names from a
//!   [`NodeNamer`].
//!
//! MLX calls the function being exported on the calling thread, while
//! tracing, as the transforms do ([`transforms`](crate::transforms)): its
//! `Err` or panic comes back as the export's `Err`.

mod function;
mod graph;
mod import;

pub use crate::transforms::Kwargs;
pub use function::{export_function, export_function_kwargs, FunctionExporter};
pub use graph::{export_to_dot, print_graph, NodeNamer};
pub use import::{import_function, ImportedFunction};
