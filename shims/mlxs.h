/* mlx-rs shims over mlx-c 0.7.0.
 *
 * Why this file exists: a handful of mlx-c functions take or return a struct
 * of more than one field *by value* (mlx_optional_int/float/dtype,
 * mlx_io_vtable and the map iterators). How such a struct travels depends on
 * the platform ABI; when a Rust declaration and the C definition disagree the
 * arguments after it are read from the wrong place. That has happened:
 * mlx_quantize called from Rust with mlx_optional_int by value reported
 * "Invalid quantization mode 'linear'" although "affine" was passed.
 *
 * So no multi-field struct crosses the Rust <-> C boundary by value. Each
 * function below wraps exactly one such mlx-c function:
 *   - optionals become a plain scalar plus an explicit `has_*` flag;
 *   - the vtable and the iterators travel by pointer;
 *   - the result is mlx-c's own status (or handle), unchanged.
 * Single-pointer handles (mlx_array, mlx_stream, ...) stay as they are: a
 * struct holding one pointer travels like a pointer on every ABI.
 *
 * The raw bindings (mlx-sys) leave the 22 originals out; mlx-sys's tests fail
 * if mlx-c ever gains one that has no shim here.
 */
#ifndef MLXS_H
#define MLXS_H

#include <stdbool.h>

#include "mlx/c/mlx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- ops.h: mlx_optional_dtype ---------------------------------------- */

/** Wraps mlx_cumprod_axis. */
int mlxs_cumprod_axis(mlx_array* res, const mlx_array a, int axis, bool reverse,
                      bool inclusive, mlx_dtype dtype, bool has_dtype,
                      const mlx_stream s);
/** Wraps mlx_cumprod. */
int mlxs_cumprod(mlx_array* res, const mlx_array a, bool reverse,
                 bool inclusive, mlx_dtype dtype, bool has_dtype,
                 const mlx_stream s);
/** Wraps mlx_cumsum_axis. */
int mlxs_cumsum_axis(mlx_array* res, const mlx_array a, int axis, bool reverse,
                     bool inclusive, mlx_dtype dtype, bool has_dtype,
                     const mlx_stream s);
/** Wraps mlx_cumsum. */
int mlxs_cumsum(mlx_array* res, const mlx_array a, bool reverse, bool inclusive,
                mlx_dtype dtype, bool has_dtype, const mlx_stream s);

/* ---- ops.h: quantization (mlx_optional_int / mlx_optional_dtype) ------ */

/** Wraps mlx_quantize. `global_scale` may be a null array. */
int mlxs_quantize(mlx_vector_array* res, const mlx_array w, int group_size,
                  bool has_group_size, int bits, bool has_bits,
                  const char* mode, const mlx_array global_scale,
                  const mlx_stream s);
/** Wraps mlx_dequantize. `biases` and `global_scale` may be null arrays. */
int mlxs_dequantize(mlx_array* res, const mlx_array w, const mlx_array scales,
                    const mlx_array biases, int group_size, bool has_group_size,
                    int bits, bool has_bits, const char* mode,
                    const mlx_array global_scale, mlx_dtype dtype,
                    bool has_dtype, const mlx_stream s);
/** Wraps mlx_quantized_matmul. `biases` may be a null array. */
int mlxs_quantized_matmul(mlx_array* res, const mlx_array x, const mlx_array w,
                          const mlx_array scales, const mlx_array biases,
                          bool transpose, int group_size, bool has_group_size,
                          int bits, bool has_bits, const char* mode,
                          const mlx_stream s);
/** Wraps mlx_gather_qmm. `biases` and the index arrays may be null arrays. */
int mlxs_gather_qmm(mlx_array* res, const mlx_array x, const mlx_array w,
                    const mlx_array scales, const mlx_array biases,
                    const mlx_array lhs_indices, const mlx_array rhs_indices,
                    bool transpose, int group_size, bool has_group_size,
                    int bits, bool has_bits, const char* mode,
                    bool sorted_indices, const mlx_stream s);
/** Wraps mlx_qqmm. `w_scales` and the global scales may be null arrays. */
int mlxs_qqmm(mlx_array* res, const mlx_array x, const mlx_array w,
              const mlx_array w_scales, int group_size, bool has_group_size,
              int bits, bool has_bits, const char* mode,
              const mlx_array global_scale_x, const mlx_array global_scale_w,
              const mlx_stream s);
/** Wraps mlx_gather_qqmm. Optional arrays may be null arrays. */
int mlxs_gather_qqmm(mlx_array* res, const mlx_array x, const mlx_array w,
                     const mlx_array scales_w, const mlx_array lhs_indices,
                     const mlx_array rhs_indices, int group_size,
                     bool has_group_size, int bits, bool has_bits,
                     const char* mode, const mlx_array global_scale_x,
                     const mlx_array global_scale_w, bool sorted_indices,
                     const mlx_stream s);

/* ---- ops.h: mlx_optional_float ----------------------------------------- */

/** Wraps mlx_hadamard_transform. */
int mlxs_hadamard_transform(mlx_array* res, const mlx_array a, float scale,
                            bool has_scale, const mlx_stream s);
/** Wraps mlx_nan_to_num. */
int mlxs_nan_to_num(mlx_array* res, const mlx_array a, float nan, float posinf,
                    bool has_posinf, float neginf, bool has_neginf,
                    const mlx_stream s);

/* ---- fast.h: mlx_optional_float ---------------------------------------- */

/** Wraps mlx_fast_rope. `freqs` may be a null array. */
int mlxs_fast_rope(mlx_array* res, const mlx_array x, int dims,
                   bool traditional, float base, bool has_base, float scale,
                   int offset, const mlx_array freqs, const mlx_stream s);
/** Wraps mlx_fast_rope_dynamic. `freqs` may be a null array. */
int mlxs_fast_rope_dynamic(mlx_array* res, const mlx_array x, int dims,
                           bool traditional, float base, bool has_base,
                           float scale, const mlx_array offset,
                           const mlx_array freqs, const mlx_stream s);

/* ---- io_types.h: mlx_io_vtable ------------------------------------------ */

/** Wraps mlx_io_reader_new; mlx-c copies `*vtable`. Returns mlx-c's handle. */
mlx_io_reader mlxs_io_reader_new(void* desc, const mlx_io_vtable* vtable);
/** Wraps mlx_io_writer_new; mlx-c copies `*vtable`. Returns mlx-c's handle. */
mlx_io_writer mlxs_io_writer_new(void* desc, const mlx_io_vtable* vtable);

/* ---- map.h: iterators ---------------------------------------------------- */

/** Wraps mlx_map_string_to_array_iterator_new. Writes the iterator to `*it`;
 *  returns 0, or 1 when mlx-c handed back an empty iterator (its failure). */
int mlxs_map_string_to_array_iterator_new(mlx_map_string_to_array_iterator* it,
                                          const mlx_map_string_to_array map);
/** Wraps mlx_map_string_to_array_iterator_free. */
int mlxs_map_string_to_array_iterator_free(
    const mlx_map_string_to_array_iterator* it);
/** Wraps mlx_map_string_to_array_iterator_next (0: an entry, 2: the end). */
int mlxs_map_string_to_array_iterator_next(
    const char** key, mlx_array* value,
    const mlx_map_string_to_array_iterator* it);
/** Wraps mlx_map_string_to_string_iterator_new; as the array version. */
int mlxs_map_string_to_string_iterator_new(
    mlx_map_string_to_string_iterator* it, const mlx_map_string_to_string map);
/** Wraps mlx_map_string_to_string_iterator_free. */
int mlxs_map_string_to_string_iterator_free(
    const mlx_map_string_to_string_iterator* it);
/** Wraps mlx_map_string_to_string_iterator_next (0: an entry, 2: the end). */
int mlxs_map_string_to_string_iterator_next(
    const char** key, const char** value,
    const mlx_map_string_to_string_iterator* it);

#ifdef __cplusplus
}
#endif

#endif
