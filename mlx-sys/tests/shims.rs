//! Calls through the shims on a real MLX, with an error handler installed so
//! a failing call returns its status instead of ending the process.
//!
//! The device is the default one, or the GPU when `MLX_RS_DEFAULT_DEVICE=gpu`
//! (how the suite runs on the GPU machine).

use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::Once;

use mlx_sys::*;

thread_local! {
    static LAST_ERROR: RefCell<Option<String>> = const { RefCell::new(None) };
}

unsafe extern "C" fn record_error(msg: *const c_char, _data: *mut c_void) {
    // SAFETY: mlx-c passes a NUL-terminated message that lives for the call.
    let text = unsafe { CStr::from_ptr(msg) }
        .to_string_lossy()
        .into_owned();
    LAST_ERROR.with(|e| *e.borrow_mut() = Some(text));
}

fn take_error() -> Option<String> {
    LAST_ERROR.with(|e| e.borrow_mut().take())
}

/// Installs the handler once and returns the stream to run on.
fn setup() -> mlx_stream {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // SAFETY: the handler is a plain function that only writes a
        // thread-local; no data pointer or destructor is handed over.
        unsafe { mlx_set_error_handler(Some(record_error), std::ptr::null_mut(), None) };
        if std::env::var("MLX_RS_DEFAULT_DEVICE").as_deref() == Ok("gpu") {
            // SAFETY: a fresh device handle, freed right after use.
            unsafe {
                let gpu = mlx_device_new_type(MLX_GPU, 0);
                assert_eq!(mlx_set_default_device(gpu), 0, "{:?}", take_error());
                mlx_device_free(gpu);
            }
        }
    });
    // SAFETY: out-params are initialised handles; the device is freed after.
    unsafe {
        let mut dev = mlx_device_new();
        assert_eq!(mlx_get_default_device(&mut dev), 0);
        let mut s = mlx_stream_new();
        assert_eq!(mlx_get_default_stream(&mut s, dev), 0);
        mlx_device_free(dev);
        s
    }
}

fn shape(a: mlx_array) -> Vec<i32> {
    // SAFETY: `a` is a live array; mlx_array_shape points at ndim ints.
    unsafe {
        let n = mlx_array_ndim(a);
        std::slice::from_raw_parts(mlx_array_shape(a), n).to_vec()
    }
}

/// A 4 x 128 float32 weight with distinct values.
fn weight() -> mlx_array {
    let data: Vec<f32> = (0..4 * 128)
        .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
        .collect();
    let dims = [4, 128];
    // SAFETY: data holds 4*128 floats and dims 2 ints; mlx-c copies both.
    unsafe { mlx_array_new_data(data.as_ptr().cast(), dims.as_ptr(), 2, MLX_FLOAT32) }
}

/// Quantizes through the shim; returns the output shapes or MLX's message.
fn quantize(
    mode: &str,
    group_size: Option<i32>,
    bits: Option<i32>,
) -> Result<Vec<Vec<i32>>, String> {
    let s = setup();
    let w = weight();
    let mode = CString::new(mode).unwrap();
    // SAFETY: w and s are live handles; res is a fresh vector; mode is a
    // NUL-terminated string alive across the call; global_scale is empty.
    unsafe {
        let mut res = mlx_vector_array_new();
        let status = mlxs_quantize(
            &mut res,
            w,
            group_size.unwrap_or(0),
            group_size.is_some(),
            bits.unwrap_or(0),
            bits.is_some(),
            mode.as_ptr(),
            mlx_array_new(),
            s,
        );
        let out = if status == 0 {
            let mut shapes = Vec::new();
            for i in 0..mlx_vector_array_size(res) {
                let mut a = mlx_array_new();
                assert_eq!(mlx_vector_array_get(&mut a, res, i), 0);
                assert_eq!(mlx_array_eval(a), 0, "{:?}", take_error());
                shapes.push(shape(a));
                mlx_array_free(a);
            }
            Ok(shapes)
        } else {
            Err(take_error().unwrap_or_else(|| format!("status {status} with no message")))
        };
        mlx_vector_array_free(res);
        mlx_array_free(w);
        mlx_stream_free(s);
        out
    }
}

#[test]
fn the_requested_device_is_the_default() {
    let s = setup();
    // SAFETY: out-params are fresh handles, freed after use.
    let kind = unsafe {
        let mut dev = mlx_device_new();
        assert_eq!(mlx_stream_get_device(&mut dev, s), 0);
        let mut kind = MLX_CPU;
        assert_eq!(mlx_device_get_type(&mut kind, dev), 0);
        mlx_device_free(dev);
        mlx_stream_free(s);
        kind
    };
    if std::env::var("MLX_RS_DEFAULT_DEVICE").as_deref() == Ok("gpu") {
        assert_eq!(
            kind, MLX_GPU,
            "MLX_RS_DEFAULT_DEVICE=gpu but the stream is not on the GPU"
        );
    } else if cfg!(mlx_backend = "cpu") {
        assert_eq!(kind, MLX_CPU, "the CPU build must default to the CPU");
    }
}

#[test]
fn affine_quantize_has_weights_scales_and_biases() {
    // 4 bits packed 8 per uint32: 128 / 8 = 16 columns; 128 / 64 = 2 groups.
    let shapes = quantize("affine", Some(64), Some(4)).unwrap();
    assert_eq!(shapes, vec![vec![4, 16], vec![4, 2], vec![4, 2]]);
}

#[test]
fn affine_defaults_reach_mlx_as_unset_optionals() {
    // No group size / bits: MLX's defaults (64, 4) apply.
    let shapes = quantize("affine", None, None).unwrap();
    assert_eq!(shapes, vec![vec![4, 16], vec![4, 2], vec![4, 2]]);
    // A different, explicit choice must change the shapes.
    let shapes = quantize("affine", Some(32), Some(8)).unwrap();
    assert_eq!(shapes, vec![vec![4, 32], vec![4, 4], vec![4, 4]]);
}

#[test]
fn fp_modes_have_their_own_group_size_and_no_biases() {
    // mxfp4: 4-bit, group 32 -> 16 uint32 columns, 4 scale columns (uint8).
    assert_eq!(
        quantize("mxfp4", None, None).unwrap(),
        vec![vec![4, 16], vec![4, 4]]
    );
    // mxfp8: 8-bit, group 32 -> 32 columns, 4 scale columns.
    assert_eq!(
        quantize("mxfp8", None, None).unwrap(),
        vec![vec![4, 32], vec![4, 4]]
    );
    // nvfp4: 4-bit, group 16 -> 16 columns, 8 scale columns.
    assert_eq!(
        quantize("nvfp4", None, None).unwrap(),
        vec![vec![4, 16], vec![4, 8]]
    );
}

#[test]
fn an_invalid_mode_reaches_mlx_intact_and_returns_an_error() {
    let err = quantize("xyz", Some(64), Some(4)).unwrap_err();
    assert!(
        err.contains("xyz"),
        "MLX's message does not name the mode: {err}"
    );
    // The process is still alive and MLX still works.
    assert!(quantize("affine", Some(64), Some(4)).is_ok());
}

#[test]
fn an_invalid_group_size_is_rejected_by_mlx() {
    let err = quantize("affine", Some(48), Some(4)).unwrap_err();
    assert!(err.to_lowercase().contains("group"), "{err}");
}

#[test]
fn add_end_to_end() {
    let s = setup();
    let a = [1.0f32, 2.0, 3.0, 4.0];
    let b = [10.0f32, 20.0, 30.0, 40.0];
    let dims = [2, 2];
    // SAFETY: buffers hold 4 floats for a 2x2 shape; mlx-c copies them; every
    // handle is freed once; the data pointer is read after eval, while `c`
    // is alive, and covers 4 floats.
    unsafe {
        let x = mlx_array_new_data(a.as_ptr().cast(), dims.as_ptr(), 2, MLX_FLOAT32);
        let y = mlx_array_new_data(b.as_ptr().cast(), dims.as_ptr(), 2, MLX_FLOAT32);
        let mut c = mlx_array_new();
        assert_eq!(mlx_add(&mut c, x, y, s), 0);
        assert_eq!(mlx_array_eval(c), 0);
        assert_eq!(shape(c), vec![2, 2]);
        assert_eq!(mlx_array_dtype(c), MLX_FLOAT32);
        let got = std::slice::from_raw_parts(mlx_array_data_float32(c), 4).to_vec();
        assert_eq!(got, vec![11.0, 22.0, 33.0, 44.0]);
        for h in [x, y, c] {
            mlx_array_free(h);
        }
        mlx_stream_free(s);
    }
}

#[test]
fn a_shape_mismatch_is_an_error_not_an_exit() {
    let s = setup();
    let a = [1.0f32, 2.0, 3.0];
    let b = [1.0f32, 2.0];
    // SAFETY: 1-D buffers of 3 and 2 floats; handles freed once.
    unsafe {
        let x = mlx_array_new_data(a.as_ptr().cast(), [3].as_ptr(), 1, MLX_FLOAT32);
        let y = mlx_array_new_data(b.as_ptr().cast(), [2].as_ptr(), 1, MLX_FLOAT32);
        let mut c = mlx_array_new();
        assert_ne!(mlx_add(&mut c, x, y, s), 0);
        let msg = take_error().expect("a message");
        assert!(msg.contains("broadcast"), "{msg}");
        for h in [x, y, c] {
            mlx_array_free(h);
        }
        mlx_stream_free(s);
    }
}

#[test]
fn cumsum_shim_passes_the_optional_dtype() {
    let s = setup();
    let a = [1i32, 2, 3];
    // SAFETY: a 1-D buffer of 3 ints; handles freed once.
    unsafe {
        let x = mlx_array_new_data(a.as_ptr().cast(), [3].as_ptr(), 1, MLX_INT32);
        for (dtype, has) in [(MLX_FLOAT32, true), (MLX_FLOAT32, false)] {
            let mut c = mlx_array_new();
            assert_eq!(mlxs_cumsum(&mut c, x, false, true, dtype, has, s), 0);
            let want = if has { MLX_FLOAT32 } else { MLX_INT32 };
            assert_eq!(mlx_array_dtype(c), want);
            mlx_array_free(c);
        }
        mlx_array_free(x);
        mlx_stream_free(s);
    }
}

#[test]
fn map_iterator_shims_walk_every_entry() {
    setup();
    // SAFETY: the map and iterator are live until freed at the end; keys are
    // NUL-terminated and copied by mlx-c; `key` points into the map, which
    // outlives its use.
    unsafe {
        let map = mlx_map_string_to_array_new();
        for (k, v) in [("a", 1.0f32), ("b", 2.0)] {
            let key = CString::new(k).unwrap();
            let val = mlx_array_new_float32(v);
            assert_eq!(mlx_map_string_to_array_insert(map, key.as_ptr(), val), 0);
            mlx_array_free(val);
        }
        let mut it = mlx_map_string_to_array_iterator::default();
        assert_eq!(mlxs_map_string_to_array_iterator_new(&mut it, map), 0);
        let mut seen = Vec::new();
        loop {
            let mut key: *const c_char = std::ptr::null();
            let mut val = mlx_array_new();
            let status = mlxs_map_string_to_array_iterator_next(&mut key, &mut val, &it);
            if status == 2 {
                mlx_array_free(val);
                break;
            }
            assert_eq!(status, 0);
            let mut x = 0.0f32;
            assert_eq!(mlx_array_item_float32(&mut x, val), 0);
            seen.push((CStr::from_ptr(key).to_str().unwrap().to_owned(), x));
            mlx_array_free(val);
        }
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(seen, vec![("a".to_owned(), 1.0), ("b".to_owned(), 2.0)]);
        assert_eq!(mlxs_map_string_to_array_iterator_free(&it), 0);
        mlx_map_string_to_array_free(map);
    }
}
