//! Which BLAS and LAPACK MLX's CPU backend really calls, resolved at run time
//! the way the dynamic linker binds libmlx's undefined `cblas_sgemm` and
//! `sgetrf_` (first definition in the process's global scope), and that the
//! matmul it gives is right. Fails if the build's choice (`mlx_sys::BLAS`)
//! stops reaching the binary, e.g. a BLAS dropped from the link.

use std::ffi::{c_char, CStr};

use mlx_sys::*;

/// The file that defines `symbol` for the process, as `dladdr` names it.
fn defining_file(symbol: &CStr) -> String {
    // SAFETY: RTLD_DEFAULT searches the global scope; `symbol` is a valid
    // NUL-terminated name.
    let addr = unsafe { libc::dlsym(libc::RTLD_DEFAULT, symbol.as_ptr()) };
    assert!(!addr.is_null(), "{symbol:?} is not defined in this process");
    let mut info = libc::Dl_info {
        dli_fname: std::ptr::null(),
        dli_fbase: std::ptr::null_mut(),
        dli_sname: std::ptr::null(),
        dli_saddr: std::ptr::null_mut(),
    };
    // SAFETY: `addr` lies in a loaded object; `info` is a valid out-param.
    let found = unsafe { libc::dladdr(addr, &mut info) };
    assert_ne!(found, 0, "dladdr found no object for {symbol:?}");
    // SAFETY: dladdr set dli_fname to the object's NUL-terminated path,
    // which lives as long as the object stays loaded (for the process).
    unsafe { CStr::from_ptr(info.dli_fname as *const c_char) }
        .to_string_lossy()
        .into_owned()
}

/// `[m, k] x [k, n]` through MLX on the CPU, checked against a f64 sum.
fn check_matmul(m: usize, k: usize, n: usize) {
    let a: Vec<f32> = (0..m * k)
        .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
        .collect();
    let b: Vec<f32> = (0..k * n)
        .map(|i| ((i * 53) % 89) as f32 / 44.0 - 1.0)
        .collect();
    let (da, db) = ([m as i32, k as i32], [k as i32, n as i32]);
    // SAFETY: every handle is created here and freed below; the data
    // vectors hold m*k and k*n floats and mlx-c copies them; the output's
    // data pointer is read only after a successful eval, for m*n floats.
    let got = unsafe {
        let cpu = mlx_device_new_type(MLX_CPU, 0);
        let s = mlx_default_cpu_stream_new();
        let xa = mlx_array_new_data(a.as_ptr().cast(), da.as_ptr(), 2, MLX_FLOAT32);
        let xb = mlx_array_new_data(b.as_ptr().cast(), db.as_ptr(), 2, MLX_FLOAT32);
        let mut out = mlx_array_new();
        assert_eq!(mlx_matmul(&mut out, xa, xb, s), 0);
        assert_eq!(mlx_array_eval(out), 0);
        let got = std::slice::from_raw_parts(mlx_array_data_float32(out), m * n).to_vec();
        mlx_array_free(out);
        mlx_array_free(xb);
        mlx_array_free(xa);
        mlx_stream_free(s);
        mlx_device_free(cpu);
        got
    };
    for i in 0..m {
        for j in 0..n {
            let want: f64 = (0..k)
                .map(|l| f64::from(a[i * k + l]) * f64::from(b[l * n + j]))
                .sum();
            let err = (f64::from(got[i * n + j]) - want).abs();
            assert!(
                err <= 1e-4 * (1.0 + want.abs()),
                "[{i},{j}]: {} vs {want}",
                got[i * n + j]
            );
        }
    }
}

#[test]
fn mlx_calls_the_blas_the_build_chose() {
    // A real sgemm first, so libmlx is loaded and has called cblas_sgemm.
    check_matmul(96, 130, 70);
    let sgemm = defining_file(c"cblas_sgemm");
    let getrf = defining_file(c"sgetrf_");
    let wheel = |f: &str| f.contains("mlx_cpu.libs") || f.contains("mlx_cuda_13.libs");
    match BLAS {
        "openblas" => {
            assert!(sgemm.contains("openblas"), "cblas_sgemm from {sgemm}");
            assert!(getrf.contains("openblas"), "sgetrf_ from {getrf}");
        }
        "system" => {
            assert!(!wheel(&sgemm), "cblas_sgemm from the wheel: {sgemm}");
            assert!(!wheel(&getrf), "sgetrf_ from the wheel: {getrf}");
        }
        "reference" => {
            assert!(wheel(&sgemm) && sgemm.contains("libblas"), "{sgemm}");
            assert!(wheel(&getrf) && getrf.contains("liblapack"), "{getrf}");
        }
        "accelerate" => assert!(sgemm.contains("Accelerate"), "{sgemm}"),
        other => panic!("mlx_sys::BLAS is {other:?}"),
    }
}
