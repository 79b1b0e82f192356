/* mlx-rs shims over mlx-c 0.7.0: see mlxs.h for why they exist.
 * Each body rebuilds the by-value struct on the C side, where the compiler
 * that lays it out is the one that compiled mlx-c, and forwards the call. */
#include "mlxs.h"

static mlx_optional_int opt_int(int value, bool has_value) {
  mlx_optional_int o = {value, has_value};
  return o;
}

static mlx_optional_float opt_float(float value, bool has_value) {
  mlx_optional_float o = {value, has_value};
  return o;
}

static mlx_optional_dtype opt_dtype(mlx_dtype value, bool has_value) {
  mlx_optional_dtype o = {value, has_value};
  return o;
}

int mlxs_cumprod_axis(mlx_array* res, const mlx_array a, int axis, bool reverse,
                      bool inclusive, mlx_dtype dtype, bool has_dtype,
                      const mlx_stream s) {
  return mlx_cumprod_axis(res, a, axis, reverse, inclusive,
                          opt_dtype(dtype, has_dtype), s);
}

int mlxs_cumprod(mlx_array* res, const mlx_array a, bool reverse,
                 bool inclusive, mlx_dtype dtype, bool has_dtype,
                 const mlx_stream s) {
  return mlx_cumprod(res, a, reverse, inclusive, opt_dtype(dtype, has_dtype),
                     s);
}

int mlxs_cumsum_axis(mlx_array* res, const mlx_array a, int axis, bool reverse,
                     bool inclusive, mlx_dtype dtype, bool has_dtype,
                     const mlx_stream s) {
  return mlx_cumsum_axis(res, a, axis, reverse, inclusive,
                         opt_dtype(dtype, has_dtype), s);
}

int mlxs_cumsum(mlx_array* res, const mlx_array a, bool reverse, bool inclusive,
                mlx_dtype dtype, bool has_dtype, const mlx_stream s) {
  return mlx_cumsum(res, a, reverse, inclusive, opt_dtype(dtype, has_dtype), s);
}

int mlxs_quantize(mlx_vector_array* res, const mlx_array w, int group_size,
                  bool has_group_size, int bits, bool has_bits,
                  const char* mode, const mlx_array global_scale,
                  const mlx_stream s) {
  return mlx_quantize(res, w, opt_int(group_size, has_group_size),
                      opt_int(bits, has_bits), mode, global_scale, s);
}

int mlxs_dequantize(mlx_array* res, const mlx_array w, const mlx_array scales,
                    const mlx_array biases, int group_size, bool has_group_size,
                    int bits, bool has_bits, const char* mode,
                    const mlx_array global_scale, mlx_dtype dtype,
                    bool has_dtype, const mlx_stream s) {
  return mlx_dequantize(res, w, scales, biases,
                        opt_int(group_size, has_group_size),
                        opt_int(bits, has_bits), mode, global_scale,
                        opt_dtype(dtype, has_dtype), s);
}

int mlxs_quantized_matmul(mlx_array* res, const mlx_array x, const mlx_array w,
                          const mlx_array scales, const mlx_array biases,
                          bool transpose, int group_size, bool has_group_size,
                          int bits, bool has_bits, const char* mode,
                          const mlx_stream s) {
  return mlx_quantized_matmul(res, x, w, scales, biases, transpose,
                              opt_int(group_size, has_group_size),
                              opt_int(bits, has_bits), mode, s);
}

int mlxs_gather_qmm(mlx_array* res, const mlx_array x, const mlx_array w,
                    const mlx_array scales, const mlx_array biases,
                    const mlx_array lhs_indices, const mlx_array rhs_indices,
                    bool transpose, int group_size, bool has_group_size,
                    int bits, bool has_bits, const char* mode,
                    bool sorted_indices, const mlx_stream s) {
  return mlx_gather_qmm(res, x, w, scales, biases, lhs_indices, rhs_indices,
                        transpose, opt_int(group_size, has_group_size),
                        opt_int(bits, has_bits), mode, sorted_indices, s);
}

int mlxs_qqmm(mlx_array* res, const mlx_array x, const mlx_array w,
              const mlx_array w_scales, int group_size, bool has_group_size,
              int bits, bool has_bits, const char* mode,
              const mlx_array global_scale_x, const mlx_array global_scale_w,
              const mlx_stream s) {
  return mlx_qqmm(res, x, w, w_scales, opt_int(group_size, has_group_size),
                  opt_int(bits, has_bits), mode, global_scale_x,
                  global_scale_w, s);
}

int mlxs_gather_qqmm(mlx_array* res, const mlx_array x, const mlx_array w,
                     const mlx_array scales_w, const mlx_array lhs_indices,
                     const mlx_array rhs_indices, int group_size,
                     bool has_group_size, int bits, bool has_bits,
                     const char* mode, const mlx_array global_scale_x,
                     const mlx_array global_scale_w, bool sorted_indices,
                     const mlx_stream s) {
  return mlx_gather_qqmm(res, x, w, scales_w, lhs_indices, rhs_indices,
                         opt_int(group_size, has_group_size),
                         opt_int(bits, has_bits), mode, global_scale_x,
                         global_scale_w, sorted_indices, s);
}

int mlxs_hadamard_transform(mlx_array* res, const mlx_array a, float scale,
                            bool has_scale, const mlx_stream s) {
  return mlx_hadamard_transform(res, a, opt_float(scale, has_scale), s);
}

int mlxs_nan_to_num(mlx_array* res, const mlx_array a, float nan, float posinf,
                    bool has_posinf, float neginf, bool has_neginf,
                    const mlx_stream s) {
  return mlx_nan_to_num(res, a, nan, opt_float(posinf, has_posinf),
                        opt_float(neginf, has_neginf), s);
}

int mlxs_fast_rope(mlx_array* res, const mlx_array x, int dims,
                   bool traditional, float base, bool has_base, float scale,
                   int offset, const mlx_array freqs, const mlx_stream s) {
  return mlx_fast_rope(res, x, dims, traditional, opt_float(base, has_base),
                       scale, offset, freqs, s);
}

int mlxs_fast_rope_dynamic(mlx_array* res, const mlx_array x, int dims,
                           bool traditional, float base, bool has_base,
                           float scale, const mlx_array offset,
                           const mlx_array freqs, const mlx_stream s) {
  return mlx_fast_rope_dynamic(res, x, dims, traditional,
                               opt_float(base, has_base), scale, offset, freqs,
                               s);
}

mlx_io_reader mlxs_io_reader_new(void* desc, const mlx_io_vtable* vtable) {
  return mlx_io_reader_new(desc, *vtable);
}

mlx_io_writer mlxs_io_writer_new(void* desc, const mlx_io_vtable* vtable) {
  return mlx_io_writer_new(desc, *vtable);
}

int mlxs_map_string_to_array_iterator_new(mlx_map_string_to_array_iterator* it,
                                          const mlx_map_string_to_array map) {
  *it = mlx_map_string_to_array_iterator_new(map);
  return it->ctx ? 0 : 1;
}

int mlxs_map_string_to_array_iterator_free(
    const mlx_map_string_to_array_iterator* it) {
  return mlx_map_string_to_array_iterator_free(*it);
}

int mlxs_map_string_to_array_iterator_next(
    const char** key, mlx_array* value,
    const mlx_map_string_to_array_iterator* it) {
  return mlx_map_string_to_array_iterator_next(key, value, *it);
}

int mlxs_map_string_to_string_iterator_new(
    mlx_map_string_to_string_iterator* it, const mlx_map_string_to_string map) {
  *it = mlx_map_string_to_string_iterator_new(map);
  return it->ctx ? 0 : 1;
}

int mlxs_map_string_to_string_iterator_free(
    const mlx_map_string_to_string_iterator* it) {
  return mlx_map_string_to_string_iterator_free(*it);
}

int mlxs_map_string_to_string_iterator_next(
    const char** key, const char** value,
    const mlx_map_string_to_string_iterator* it) {
  return mlx_map_string_to_string_iterator_next(key, value, *it);
}
