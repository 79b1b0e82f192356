//! The mlx-c functions the safe API deliberately neither wraps nor calls,
//! each with its reason (read by `tests/coverage.rs`).

/// The handle kinds: their `_new` and `_free` belong to the one ownership
/// layer (`raw::Owned`, declared once each in `src/raw/handle.rs`, which
/// calls them through a macro), not to a wrapper.
const OWNED: &str = "constructor/destructor of a handle kind: owned by raw::Owned (raw/handle.rs)";
/// `_set` copies one handle into another.
const SET: &str = "assigns one handle into another: the safe types are moved, never assigned into";
/// The payload-less constructors.
const NO_PAYLOAD: &str =
    "takes a bare C function pointer, which cannot carry a Rust closure; the _payload variant is used";
/// Calling a rule from C.
const APPLY_RULE: &str =
    "calls a custom rule from C; MLX calls the rules itself while differentiating or batching";
/// Scalar constructors and setters of `mlx_array`.
const SCALAR: &str =
    "a scalar of one C type: Array::scalar and Array::from_slice build every dtype \
     through mlx_array_new_data (one code path, the element type checked by ArrayElement)";
/// Typed readers of `mlx_array`.
const TYPED_READ: &str = "a typed reader: Array::to_vec/item/as_slice read the bytes once through \
     mlx_array_data_uint8 and reinterpret them by the checked dtype";
/// Vector plumbing that the safe API does not need.
const VECTOR: &str = "vector plumbing: the safe API builds vectors whole (mlx_vector_*_new_data) \
     and reads them with _size/_get; Rust's Vec holds the elements otherwise";
/// Kinds of vector the safe API never receives.
const VECTOR_KIND: &str = "a vector kind that no wrapped mlx-c function takes or returns";
/// Map plumbing.
const MAP: &str = "map plumbing: maps are built whole by insert and read whole with the iterator; \
     Rust's HashMap serves lookups";
/// String plumbing.
const STRING: &str =
    "string plumbing: strings from MLX are read once with mlx_string_data; Rust strings go in as C strings";
/// Functions deliberately left unwrapped, with the reason for each. None
/// of the op headers (`ops.h`, `linalg.h`, `fft.h`, `random.h`) nor the
/// distributed ones (`distributed.h`, `distributed_group.h`): every
/// function there has a wrapper.
pub const EXCLUDED: &[(&str, &str)] = &[
    // closure.h, compile.h
    ("mlx_closure_new", OWNED),
    ("mlx_closure_free", OWNED),
    ("mlx_closure_kwargs_new", OWNED),
    ("mlx_closure_kwargs_free", OWNED),
    ("mlx_closure_value_and_grad_new", OWNED),
    ("mlx_closure_value_and_grad_free", OWNED),
    ("mlx_closure_custom_new", OWNED),
    ("mlx_closure_custom_free", OWNED),
    ("mlx_closure_custom_jvp_new", OWNED),
    ("mlx_closure_custom_jvp_free", OWNED),
    ("mlx_closure_custom_vmap_new", OWNED),
    ("mlx_closure_custom_vmap_free", OWNED),
    ("mlx_compile_cache_new", OWNED),
    ("mlx_compile_cache_free", OWNED),
    ("mlx_closure_set", SET),
    ("mlx_closure_kwargs_set", SET),
    ("mlx_closure_value_and_grad_set", SET),
    ("mlx_closure_custom_set", SET),
    ("mlx_closure_custom_jvp_set", SET),
    ("mlx_closure_custom_vmap_set", SET),
    ("mlx_closure_new_func", NO_PAYLOAD),
    ("mlx_closure_new_unary", NO_PAYLOAD),
    ("mlx_closure_kwargs_new_func", NO_PAYLOAD),
    ("mlx_closure_value_and_grad_new_func", NO_PAYLOAD),
    ("mlx_closure_custom_new_func", NO_PAYLOAD),
    ("mlx_closure_custom_jvp_new_func", NO_PAYLOAD),
    ("mlx_closure_custom_vmap_new_func", NO_PAYLOAD),
    ("mlx_closure_custom_apply", APPLY_RULE),
    ("mlx_closure_custom_jvp_apply", APPLY_RULE),
    ("mlx_closure_custom_vmap_apply", APPLY_RULE),
    (
        "mlx_closure_value_and_grad_new_func_payload",
        "a value-and-grad closure from a user function that computes its own gradients; \
         mlx_value_and_grad makes the one mlx-rs needs (a user's own rule goes through \
         CustomFunction)",
    ),
    (
        "mlx_compile",
        "keys the cache on an id MLX makes per call for a C closure, so a reused compiled \
         function would trace on every call; mlx_detail_compile with one id per \
         CompiledFunction (erased on drop) is used instead",
    ),
    // export.h, graph_utils.h
    ("mlx_function_exporter_free", OWNED),
    ("mlx_imported_function_free", OWNED),
    ("mlx_node_namer_free", OWNED),
    (
        "mlx_function_exporter_apply_kwargs",
        "mlx-c's exporter takes a positional closure (mlx_function_exporter_new), which never \
         sees keyword inputs: they would be traced as inputs the function ignores; keyword \
         functions export through export_function_kwargs",
    ),
    // device.h, stream.h, error.h
    ("mlx_device_new", OWNED),
    ("mlx_device_free", OWNED),
    ("mlx_device_info_new", OWNED),
    ("mlx_device_info_free", OWNED),
    ("mlx_stream_new", OWNED),
    ("mlx_stream_free", OWNED),
    ("mlx_stream_thread_local_free", OWNED),
    ("mlx_device_set", SET),
    ("mlx_stream_thread_local_set", SET),
    (
        "mlx_device_equal",
        "Device is a plain Rust value (type and index) compared by derive(PartialEq)",
    ),
    (
        "mlx_device_tostring",
        "Device's Display writes MLX's spelling itself (Device(cpu, 0)) without a handle",
    ),
    (
        "mlx_device_info_has_key",
        "DeviceInfo reads every key once (mlx_device_info_get_keys); lookups are in Rust",
    ),
    (
        "mlx_stream_new_thread_unsafe",
        "a stream MLX does not synchronise (mlx-c: the caller must rule out data races): \
         unsound behind a safe API; Stream::new and ThreadLocalStream are the safe kinds",
    ),
    (
        "mlx_get_streams",
        "lists the streams of every thread, which a thread-affine Stream cannot hold",
    ),
    (
        "mlx_clear_streams",
        "drops MLX's streams under live Stream values and the per-thread default-stream cache",
    ),
    (
        "mlx_synchronize_default",
        "synchronize() waits on Stream::current, which honours with_stream; this ignores it",
    ),
    // io_types.h
    ("mlx_io_gguf_new", OWNED),
    ("mlx_io_gguf_free", OWNED),
    ("mlx_io_reader_free", OWNED),
    ("mlx_io_writer_free", OWNED),
    (
        "mlx_io_reader_descriptor",
        "reads back the label the crate itself gave the reader (CReader keeps it)",
    ),
    (
        "mlx_io_writer_descriptor",
        "reads back the label the crate itself gave the writer (CWriter keeps it)",
    ),
    (
        "mlx_io_gguf_has_metadata_array",
        "the GGUF reader lists the keys (mlx_io_gguf_get_keys) and reads each by its kind",
    ),
    (
        "mlx_io_gguf_has_metadata_string",
        "the GGUF reader lists the keys (mlx_io_gguf_get_keys) and reads each by its kind",
    ),
    (
        "mlx_io_gguf_has_metadata_vector_string",
        "the GGUF reader lists the keys (mlx_io_gguf_get_keys) and reads each by its kind",
    ),
    (
        "mlx_io_reader_tostring",
        "the reader's label, which CReader keeps in Rust",
    ),
    (
        "mlx_io_writer_tostring",
        "the writer's label, which CWriter keeps in Rust",
    ),
    // fast.h
    (
        "mlx_fast_cross_entropy",
        "not wrapped yet (new in mlx-c 0.7.0): nn::losses::cross_entropy composes it from ops; \
         a wrapper needs its golden in the fast family's (scripts/golden/quant_fast.py)",
    ),
    ("mlx_fast_metal_kernel_config_free", OWNED),
    ("mlx_fast_metal_kernel_free", OWNED),
    ("mlx_fast_cuda_kernel_config_free", OWNED),
    ("mlx_fast_cuda_kernel_free", OWNED),
    // distributed.h, distributed_group.h
    ("mlx_distributed_group_new", OWNED),
    ("mlx_distributed_group_free", OWNED),
    // array.h
    ("mlx_array_new", OWNED),
    ("mlx_array_free", OWNED),
    ("mlx_array_new_bool", SCALAR),
    ("mlx_array_new_int", SCALAR),
    ("mlx_array_new_float", SCALAR),
    ("mlx_array_new_float32", SCALAR),
    ("mlx_array_new_float64", SCALAR),
    ("mlx_array_new_double", SCALAR),
    ("mlx_array_new_complex", SCALAR),
    ("mlx_array_set_bool", SCALAR),
    ("mlx_array_set_int", SCALAR),
    ("mlx_array_set_float", SCALAR),
    ("mlx_array_set_float32", SCALAR),
    ("mlx_array_set_float64", SCALAR),
    ("mlx_array_set_double", SCALAR),
    ("mlx_array_set_complex", SCALAR),
    (
        "mlx_array_set_data",
        "overwrites an array's buffer in place, which would change every clone of the Array",
    ),
    (
        "mlx_array_new_data_managed",
        "wraps caller memory freed by a bare C function pointer; from_slice copies instead",
    ),
    (
        "mlx_array_new_data_managed_payload",
        "wraps caller memory: a borrow MLX may keep past any Rust lifetime; from_slice copies",
    ),
    (
        "mlx_array_dim",
        "Array::shape reads all dimensions at once (mlx_array_shape)",
    ),
    ("mlx_array_item_bool", TYPED_READ),
    ("mlx_array_item_uint8", TYPED_READ),
    ("mlx_array_item_uint16", TYPED_READ),
    ("mlx_array_item_uint32", TYPED_READ),
    ("mlx_array_item_uint64", TYPED_READ),
    ("mlx_array_item_int8", TYPED_READ),
    ("mlx_array_item_int16", TYPED_READ),
    ("mlx_array_item_int32", TYPED_READ),
    ("mlx_array_item_int64", TYPED_READ),
    ("mlx_array_item_float16", TYPED_READ),
    ("mlx_array_item_bfloat16", TYPED_READ),
    ("mlx_array_item_float32", TYPED_READ),
    ("mlx_array_item_float64", TYPED_READ),
    ("mlx_array_item_complex64", TYPED_READ),
    ("mlx_array_data_bool", TYPED_READ),
    ("mlx_array_data_uint16", TYPED_READ),
    ("mlx_array_data_uint32", TYPED_READ),
    ("mlx_array_data_uint64", TYPED_READ),
    ("mlx_array_data_int8", TYPED_READ),
    ("mlx_array_data_int16", TYPED_READ),
    ("mlx_array_data_int32", TYPED_READ),
    ("mlx_array_data_int64", TYPED_READ),
    ("mlx_array_data_float16", TYPED_READ),
    ("mlx_array_data_bfloat16", TYPED_READ),
    ("mlx_array_data_float32", TYPED_READ),
    ("mlx_array_data_float64", TYPED_READ),
    ("mlx_array_data_complex64", TYPED_READ),
    // map.h
    ("mlx_map_string_to_array_free", OWNED),
    ("mlx_map_string_to_string_free", OWNED),
    ("mlx_map_string_to_array_set", SET),
    ("mlx_map_string_to_string_set", SET),
    ("mlx_map_string_to_array_get", MAP),
    ("mlx_map_string_to_string_get", MAP),
    // string.h
    ("mlx_string_new", OWNED),
    ("mlx_string_free", OWNED),
    ("mlx_string_set", SET),
    ("mlx_string_new_data", STRING),
    // vector.h
    ("mlx_vector_array_new", OWNED),
    ("mlx_vector_array_free", OWNED),
    ("mlx_vector_int_new", OWNED),
    ("mlx_vector_int_free", OWNED),
    ("mlx_vector_string_new", OWNED),
    ("mlx_vector_string_free", OWNED),
    ("mlx_vector_int_set", SET),
    ("mlx_vector_string_set", SET),
    ("mlx_vector_array_append_data", VECTOR),
    ("mlx_vector_array_append_value", VECTOR),
    ("mlx_vector_array_new_value", VECTOR),
    ("mlx_vector_array_set_data", VECTOR),
    ("mlx_vector_array_set_value", VECTOR),
    ("mlx_vector_int_append_data", VECTOR),
    ("mlx_vector_int_append_value", VECTOR),
    ("mlx_vector_int_new_data", VECTOR),
    ("mlx_vector_int_new_value", VECTOR),
    ("mlx_vector_int_set_value", VECTOR),
    ("mlx_vector_int_get", VECTOR),
    ("mlx_vector_int_size", VECTOR),
    ("mlx_vector_string_append_data", VECTOR),
    ("mlx_vector_string_new_data", VECTOR),
    ("mlx_vector_string_new_value", VECTOR),
    ("mlx_vector_string_set_data", VECTOR),
    ("mlx_vector_string_set_value", VECTOR),
    ("mlx_vector_stream_new", VECTOR_KIND),
    ("mlx_vector_stream_free", VECTOR_KIND),
    ("mlx_vector_stream_append_data", VECTOR_KIND),
    ("mlx_vector_stream_append_value", VECTOR_KIND),
    ("mlx_vector_stream_get", VECTOR_KIND),
    ("mlx_vector_stream_new_data", VECTOR_KIND),
    ("mlx_vector_stream_new_value", VECTOR_KIND),
    ("mlx_vector_stream_set", VECTOR_KIND),
    ("mlx_vector_stream_set_data", VECTOR_KIND),
    ("mlx_vector_stream_set_value", VECTOR_KIND),
    ("mlx_vector_stream_size", VECTOR_KIND),
    ("mlx_vector_vector_array_new", VECTOR_KIND),
    ("mlx_vector_vector_array_free", VECTOR_KIND),
    ("mlx_vector_vector_array_append_data", VECTOR_KIND),
    ("mlx_vector_vector_array_append_value", VECTOR_KIND),
    ("mlx_vector_vector_array_get", VECTOR_KIND),
    ("mlx_vector_vector_array_new_data", VECTOR_KIND),
    ("mlx_vector_vector_array_new_value", VECTOR_KIND),
    ("mlx_vector_vector_array_set", VECTOR_KIND),
    ("mlx_vector_vector_array_set_data", VECTOR_KIND),
    ("mlx_vector_vector_array_set_value", VECTOR_KIND),
    ("mlx_vector_vector_array_size", VECTOR_KIND),
];
