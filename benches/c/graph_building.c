/*
 * The floor of the graph-building benchmark: a chain of small adds built
 * straight through mlx-c, never evaluated. Same case and timing protocol as
 * the Rust (tests/support/bench.rs) and Python (benches/python/) sides:
 * `warmup` chains, then `samples` timed batches of `batch` chains each; the
 * result is the median over the batches of the time per chain.
 *
 * The workspace build script compiles this file into the workspace library
 * (without `main`), where the runner's `c` worker calls it. Built on its own
 * it is a program that prints the same JSON line; with OUT the mlx-sys build
 * folder (target/release/build/mlx-sys-HASH/out) and MLX_LIB the folder of
 * libmlx (mlx-sys's `DEP_MLX_LIB_DIR`):
 *
 *   cc -O2 -std=c11 -DMLXBENCH_MAIN benches/c/graph_building.c -I "$OUT/mlx-c" \
 *      "$OUT/lib/libmlxc.a" -L "$MLX_LIB" -lmlx -lstdc++ -Wl,-rpath,"$MLX_LIB" \
 *      -o graph_building_c
 *   ./graph_building_c 100 100 21 50   # chain, warmup, samples, batch
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c11 */

#include <stdlib.h>
#include <time.h>

#include "mlx/c/mlx.h"

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

/* One chain of `chain` adds `x = x + b`, starting from `b`; the result is
 * freed unevaluated. Returns the first non-zero mlx-c status. */
static int add_chain(mlx_array b, int chain, mlx_stream s) {
  mlx_array x = mlx_array_new();
  if (mlx_array_set(&x, b) != 0) {
    return 1;
  }
  for (int i = 0; i < chain; i++) {
    mlx_array y = mlx_array_new();
    int status = mlx_add(&y, x, b, s);
    mlx_array_free(x);
    x = y;
    if (status != 0) {
      mlx_array_free(x);
      return status;
    }
  }
  mlx_array_free(x);
  return 0;
}

/* Times add chains on the default device's default stream and writes the
 * median nanoseconds per chain to `*median_ns`. Returns 0 on success. */
int mlxbench_c_add_chain(int chain, int warmup, int samples, int batch,
                         double* median_ns) {
  if (chain <= 0 || samples <= 0 || batch <= 0 || median_ns == NULL) {
    return -1;
  }
  mlx_device dev = mlx_device_new();
  mlx_stream s = mlx_stream_new();
  int status = mlx_get_default_device(&dev);
  if (status == 0) {
    status = mlx_get_default_stream(&s, dev);
  }
  mlx_array b = mlx_array_new();
  int shape[1] = {4};
  if (status == 0) {
    status = mlx_ones(&b, shape, 1, MLX_FLOAT32, s);
  }
  if (status == 0) {
    status = mlx_array_eval(b);
  }
  double* times = malloc(sizeof(double) * (size_t)samples);
  if (times == NULL && status == 0) {
    status = -1;
  }
  for (int i = 0; i < warmup && status == 0; i++) {
    status = add_chain(b, chain, s);
  }
  for (int k = 0; k < samples && status == 0; k++) {
    double t0 = now_ns();
    for (int i = 0; i < batch && status == 0; i++) {
      status = add_chain(b, chain, s);
    }
    times[k] = (now_ns() - t0) / batch;
  }
  if (status == 0) {
    qsort(times, (size_t)samples, sizeof(double), cmp_double);
    *median_ns = samples % 2 ? times[samples / 2]
                             : 0.5 * (times[samples / 2 - 1] + times[samples / 2]);
  }
  free(times);
  mlx_array_free(b);
  mlx_stream_free(s);
  mlx_device_free(dev);
  return status;
}

#ifdef MLXBENCH_MAIN
#include <stdio.h>

int main(int argc, char** argv) {
  int chain = argc > 1 ? atoi(argv[1]) : 100;
  int warmup = argc > 2 ? atoi(argv[2]) : 100;
  int samples = argc > 3 ? atoi(argv[3]) : 21;
  int batch = argc > 4 ? atoi(argv[4]) : 50;
  double median = 0.0;
  if (mlxbench_c_add_chain(chain, warmup, samples, batch, &median) != 0) {
    fprintf(stderr, "mlx-c call failed\n");
    return 1;
  }
  printf("{\"name\": \"graph_building/add_chain_100\", \"impl\": \"c\", \"median_ns\": %.1f}\n",
         median);
  return 0;
}
#endif
