//! The core API end to end: construction for every dtype, queries,
//! evaluation, reading back, devices, streams and memory.
//!
//! On the GPU, `float64` arrays are made and read (no kernel needed), but
//! every op on them must be MLX's refusal (`device::float64_op`), and is
//! then checked on the CPU stream.

mod device;

use device::float64_op;
use mlx_rs::index::Slice;
use mlx_rs::{
    async_eval, bf16, eval, f16, memory, synchronize, with_stream, Array, ArrayElement, Complex32,
    Device, DeviceType, Dtype, Stream,
};

fn round_trip<T: ArrayElement + PartialEq + std::fmt::Debug>(data: [T; 6]) {
    let a = Array::from_slice(&data, &[2, 3]).unwrap();
    assert_eq!(a.dtype(), T::DTYPE);
    assert_eq!(a.shape(), &[2, 3]);
    assert_eq!((a.ndim(), a.size()), (2, 6));
    assert_eq!(a.itemsize(), std::mem::size_of::<T>());
    assert_eq!(a.nbytes(), 6 * std::mem::size_of::<T>());
    assert_eq!(a.to_vec::<T>().unwrap(), data);
    a.eval().unwrap();
    assert_eq!(a.as_slice::<T>().unwrap(), &data);
    // Ops: float64 ones are refused on the GPU (then run on the CPU).
    let op = |what: &str, f: &dyn Fn() -> mlx_rs::Result<Array>| {
        if T::DTYPE == Dtype::Float64 {
            float64_op(what, f).unwrap()
        } else {
            f().unwrap()
        }
    };
    let elem = op("index", &|| a.index((1, 2)));
    assert_eq!(elem.item::<T>().unwrap(), data[5]);
    // Transposed read goes through the strides.
    let t = op("transpose", &|| a.transpose());
    let want: Vec<T> = (0..6).map(|i| data[(i % 2) * 3 + i / 2]).collect();
    assert_eq!(t.to_vec::<T>().unwrap(), want);
    let it = Array::from_iter_shaped(data, &[6]).unwrap();
    assert_eq!(it.to_vec::<T>().unwrap(), data);
    assert_eq!(
        Array::scalar(data[0]).unwrap().item::<T>().unwrap(),
        data[0]
    );
}

#[test]
fn every_dtype_round_trips() {
    round_trip([true, false, true, true, false, false]);
    round_trip([1u8, 2, 3, 250, 0, 7]);
    round_trip([1u16, 2, 3, 65000, 0, 7]);
    round_trip([1u32, 2, 3, 4_000_000_000, 0, 7]);
    round_trip([1u64, 2, 3, u64::MAX, 0, 7]);
    round_trip([1i8, -2, 3, -128, 0, 127]);
    round_trip([1i16, -2, 3, -32768, 0, 7]);
    round_trip([1i32, -2, 3, i32::MIN, 0, 7]);
    round_trip([1i64, -2, 3, i64::MIN, 0, i64::MAX]);
    round_trip([1.5f32, -2.0, 3.25, f32::MAX, 0.0, 1e-30]);
    round_trip([1.5f64, -2.0, 3.25, f64::MAX, 0.0, 1e-300]);
    round_trip([0.5, -2.0, 3.25, 65504.0, 0.0, 1e-3].map(f16::from_f32));
    round_trip([0.5, -2.0, 3.25, 1e30, 0.0, 1e-3].map(bf16::from_f32));
    round_trip(
        [
            (1.0, 2.0),
            (-0.5, 0.0),
            (0.0, 3.0),
            (1e9, -1e9),
            (0.0, 0.0),
            (2.5, 2.5),
        ]
        .map(|(r, i)| Complex32::new(r, i)),
    );
}

#[test]
fn constructors_have_the_requested_shape_and_dtype() {
    let z = Array::zeros(&[2, 3], Dtype::Int16).unwrap();
    assert_eq!((z.shape(), z.dtype()), (&[2, 3][..], Dtype::Int16));
    assert_eq!(z.to_vec::<i16>().unwrap(), [0; 6]);
    let o = Array::ones(&[4], Dtype::Bfloat16).unwrap();
    assert_eq!(o.to_vec::<bf16>().unwrap(), [bf16::ONE; 4]);
    let f = float64_op("full", || Array::full(&[3], 2.5f64)).unwrap();
    assert_eq!(f.to_vec::<f64>().unwrap(), [2.5; 3]);
    assert_eq!(
        o.zeros_like().unwrap().to_vec::<bf16>().unwrap(),
        [bf16::ZERO; 4]
    );
    assert_eq!(z.ones_like().unwrap().to_vec::<i16>().unwrap(), [1; 6]);
    let fl = z.full_like(7.9f32).unwrap();
    assert_eq!(fl.dtype(), Dtype::Int16);
    assert_eq!(fl.to_vec::<i16>().unwrap(), [7; 6]);
    let e = Array::eye(3, None, 0, Dtype::Uint8).unwrap();
    assert_eq!(e.to_vec::<u8>().unwrap(), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    let l = float64_op("linspace", || {
        mlx_rs::ops::linspace(0.0, 1.0, 3, true, Dtype::Float64)
    })
    .unwrap();
    assert_eq!(l.to_vec::<f64>().unwrap(), [0.0, 0.5, 1.0]);
    let empty = Array::from_slice::<f32>(&[], &[0, 3]).unwrap();
    assert_eq!((empty.size(), empty.to_vec::<f32>().unwrap()), (0, vec![]));
    empty.eval().unwrap();
    assert_eq!(empty.as_slice::<f32>().unwrap(), &[] as &[f32]);
}

#[test]
fn arrays_are_lazy_until_evaluated() {
    let a = Array::from_slice(&[1.0f32, 2.0], &[2]).unwrap();
    let b = (&a + 1.0).unwrap();
    let c = (&a * 3.0).unwrap();
    assert!(!b.is_available().unwrap());
    eval([&b, &c]).unwrap();
    assert!(b.is_available().unwrap() && c.is_available().unwrap());
    let d = (&b + &c).unwrap();
    async_eval([&d]).unwrap();
    d.eval().unwrap();
    assert!(d.is_available().unwrap());
    assert_eq!(d.to_vec::<f32>().unwrap(), [5.0, 9.0]);
    let e = (&d - 1.0).unwrap();
    e.async_eval().unwrap();
    synchronize().unwrap();
    assert_eq!(e.to_vec::<f32>().unwrap(), [4.0, 8.0]);
}

#[test]
fn clone_shares_the_array_and_outlives_the_original() {
    let a = Array::from_slice(&[1i32, 2, 3], &[3]).unwrap();
    let b = a.clone();
    drop(a);
    assert_eq!(b.to_vec::<i32>().unwrap(), [1, 2, 3]);
    // Raw handles: out and back in, exactly once.
    let raw = b.into_raw();
    // SAFETY: `raw` came from `into_raw` and is owned by nothing else.
    let c = unsafe { Array::from_raw(raw) };
    assert_eq!(c.to_vec::<i32>().unwrap(), [1, 2, 3]);
    assert_eq!(c.as_raw().ctx, raw.ctx);
}

#[test]
fn strides_describe_evaluated_views() {
    let a = Array::arange(0.0, 6.0, 1.0, Dtype::Int32)
        .unwrap()
        .reshape(&[2, 3])
        .unwrap();
    assert_eq!(a.strides(), [3, 1]);
    let t = a.transpose().unwrap();
    t.eval().unwrap();
    assert_eq!(t.strides(), [1, 3]);
    let b = Array::from_slice(&[1i32, 2, 3], &[3])
        .unwrap()
        .broadcast_to(&[4, 3])
        .unwrap();
    b.eval().unwrap();
    assert_eq!(b.strides(), [0, 1]);
    assert_eq!(b.to_vec::<i32>().unwrap(), [1, 2, 3].repeat(4));
    let r = a.index((.., Slice::from(..).step(-1))).unwrap();
    assert_eq!(r.to_vec::<i32>().unwrap(), [2, 1, 0, 5, 4, 3]);
    // A row-contiguous slice of rows borrows fine.
    let rows = a.index(1..2).unwrap();
    rows.eval().unwrap();
    assert_eq!(rows.as_slice::<i32>().unwrap(), &[3, 4, 5]);
    assert_eq!(a.dim(-1), Some(3));
    assert_eq!(a.dim(2), None);
    assert_eq!(
        a.contiguous(false).unwrap().to_vec::<i32>().unwrap(),
        [0, 1, 2, 3, 4, 5]
    );
}

#[test]
fn astype_and_comparison_helpers() {
    let a = Array::from_slice(&[1.7f32, -2.2, 0.0], &[3]).unwrap();
    assert_eq!(
        a.astype(Dtype::Int32).unwrap().to_vec::<i32>().unwrap(),
        [1, -2, 0]
    );
    assert_eq!(
        a.astype(Dtype::Bool).unwrap().to_vec::<bool>().unwrap(),
        [true, true, false]
    );
    let m = a.greater(0).unwrap();
    assert_eq!(
        m.logical_not().unwrap().to_vec::<bool>().unwrap(),
        [false, true, true]
    );
    assert!(a
        .array_equal(&a.clone(), false)
        .unwrap()
        .item::<bool>()
        .unwrap());
    let b = Array::from_slice(&[1.7f32, -2.2, 1.0], &[3]).unwrap();
    assert!(!a.array_equal(&b, false).unwrap().item::<bool>().unwrap());
    assert_eq!((-&a).unwrap().to_vec::<f32>().unwrap(), [-1.7, 2.2, -0.0]);
    assert_eq!(
        (-a.clone()).unwrap().to_vec::<f32>().unwrap(),
        [-1.7, 2.2, -0.0]
    );
    assert_eq!(
        (10 - &b.astype(Dtype::Int32).unwrap())
            .unwrap()
            .to_vec::<i32>()
            .unwrap(),
        [9, 12, 9]
    );
}

#[test]
fn devices() {
    let cpu = Device::cpu();
    assert!(cpu.is_available().unwrap());
    assert_eq!((cpu.kind(), cpu.index()), (DeviceType::Cpu, 0));
    assert!(Device::count(DeviceType::Cpu).unwrap() >= 1);
    let default = Device::default_device().unwrap();
    default.set_as_default().unwrap();
    assert_eq!(Device::default_device().unwrap(), default);
    assert_eq!(Device::gpu().to_string(), "Device(gpu, 0)");
    let _ = Device::gpu().is_available().unwrap();
}

#[test]
fn streams_and_scoped_choice() {
    let default = Stream::current().unwrap();
    assert_eq!(
        default,
        Stream::default_for(Device::default_device().unwrap()).unwrap()
    );
    let s = Stream::new(Device::cpu()).unwrap();
    assert_ne!(s, default);
    assert_eq!(s.device().unwrap(), Device::cpu());
    assert_ne!(s.index().unwrap(), default.index().unwrap());
    assert!(s.to_string().starts_with("Stream("), "{s}");
    assert_eq!(format!("{s:?}"), s.to_string());
    let inner = with_stream(&s, || {
        assert_eq!(Stream::current().unwrap(), s);
        // Nested scopes restore their parent.
        let s2 = Stream::new(Device::cpu()).unwrap();
        with_stream(&s2, || assert_eq!(Stream::current().unwrap(), s2));
        assert_eq!(Stream::current().unwrap(), s);
        let a = Array::arange(0.0, 4.0, 1.0, Dtype::Float32).unwrap();
        (&a * 2.0).unwrap()
    });
    assert_eq!(Stream::current().unwrap(), default);
    assert_eq!(inner.to_vec::<f32>().unwrap(), [0.0, 2.0, 4.0, 6.0]);
    // Unwinding out of the scope restores too.
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        with_stream(&s, || panic!("boom"));
    }));
    assert!(r.is_err());
    assert_eq!(Stream::current().unwrap(), default);
    // Explicit-stream variants.
    let z = Array::zeros_on(&[2], Dtype::Int32, &s).unwrap();
    let y = mlx_rs::ops::add_on(&z, 5, &s).unwrap();
    s.synchronize().unwrap();
    assert_eq!(y.to_vec::<i32>().unwrap(), [5, 5]);
    let c = s.clone();
    assert_eq!(c, s);
    let raw = c.into_raw();
    // SAFETY: `raw` came from `into_raw` on this thread, owned by nothing else.
    let back = unsafe { Stream::from_raw(raw) };
    assert_eq!(back, s);
    assert_eq!(back.as_raw().ctx, raw.ctx);
}

#[test]
fn memory_statistics() {
    memory::reset_peak_memory().unwrap();
    let a = Array::ones(&[256, 256], Dtype::Float32).unwrap();
    a.eval().unwrap();
    let active = memory::active_memory().unwrap();
    assert!(active >= 256 * 256 * 4);
    // Other tests allocate concurrently: compare with a later peak.
    assert!(memory::peak_memory().unwrap() >= active);
    let _ = memory::cache_memory().unwrap();
    let limit = memory::memory_limit().unwrap();
    let prev = memory::set_memory_limit(limit).unwrap();
    assert_eq!(prev, limit);
    let prev_cache = memory::set_cache_limit(0).unwrap();
    drop(a);
    memory::clear_cache().unwrap();
    assert_eq!(memory::cache_memory().unwrap(), 0);
    memory::set_cache_limit(prev_cache).unwrap();
}

#[test]
fn slices_next_to_index_arrays_are_clamped_like_numpy() {
    // NumPy: a[0, 7:1:-3, [3, 0]] takes row 2 only (shape (2, 1)). Python MLX 0.32.2 turns
    // the slice into the rows [7, 4] of a 3-row axis (an out-of-bounds
    // gather); mlx-rs clamps the slice first, as NumPy does.
    let a = Array::arange(0.0, 24.0, 1.0, Dtype::Int32)
        .unwrap()
        .reshape(&[2, 3, 4])
        .unwrap();
    let idx = Array::from_slice(&[3i32, 0], &[2]).unwrap();
    let got = a
        .index((0, Slice::new(Some(7), Some(1), Some(-3)), &idx))
        .unwrap();
    // The int and the array are separated by a slice: their axis goes first.
    assert_eq!(got.shape(), &[2, 1]);
    assert_eq!(got.to_vec::<i32>().unwrap(), [11, 8]);
    let put = a
        .index_put((0, Slice::new(Some(7), Some(1), Some(-3)), &idx), -1)
        .unwrap();
    let flat = put.to_vec::<i32>().unwrap();
    assert_eq!((flat[8], flat[11]), (-1, -1));
    assert_eq!(flat.iter().filter(|&&v| v == -1).count(), 2);
}
