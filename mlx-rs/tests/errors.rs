//! Every error path of the core reaches an `Err` (never a panic or an exit).

mod common;
mod device;

use common::arange;
use mlx_rs::index::{Ellipsis, Index, Slice};
use mlx_rs::{Array, Device, DeviceType, Dtype, Error, Stream};

#[test]
fn mlx_failures_keep_op_message_and_location() {
    let a = arange(&[2, 3]);
    let b = arange(&[4]);
    let err = (&a + &b).unwrap_err();
    match &err {
        Error::Mlx {
            op,
            message,
            location,
        } => {
            assert_eq!(*op, "mlx_add");
            assert_eq!(
                message,
                "[broadcast_shapes] Shapes (2,3) and (4) cannot be broadcast."
            );
            let loc = location.as_deref().unwrap();
            assert!(loc.contains("ops.cpp:"), "{loc}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().starts_with("mlx_add: [broadcast_shapes]"));
    // The next successful call is not affected by the previous message.
    assert!((&a + 1).is_ok());
    let bad_reshape = a.reshape(&[4, 2]).unwrap_err();
    assert!(matches!(
        bad_reshape,
        Error::Mlx {
            op: "mlx_reshape",
            ..
        }
    ));
    let neg = Array::from_slice(&[true], &[1]).unwrap();
    assert!(matches!(
        -&neg,
        Err(Error::Mlx {
            op: "mlx_negative",
            ..
        })
    ));
    assert!(matches!(
        Array::arange(0.0, 1.0, 0.0, Dtype::Float32),
        Err(Error::Mlx { .. })
    ));
    assert!(matches!(
        Array::zeros(&[-1], Dtype::Float32),
        Err(Error::Mlx {
            op: "mlx_zeros",
            ..
        })
    ));
}

#[test]
fn unavailable_devices_are_errors() {
    let nowhere = Device::new(DeviceType::Cpu, 99);
    assert_eq!(
        Stream::new(nowhere).unwrap_err(),
        Error::DeviceUnavailable(nowhere)
    );
    assert_eq!(
        nowhere.set_as_default().unwrap_err(),
        Error::DeviceUnavailable(nowhere)
    );
    assert_eq!(
        Error::DeviceUnavailable(nowhere).to_string(),
        "Device(cpu, 99) is not available"
    );
    if !Device::gpu().is_available().unwrap() {
        // MLX itself refuses the GPU of a CPU-only build.
        assert!(matches!(
            Stream::default_for(Device::gpu()),
            Err(Error::Mlx {
                op: "mlx_get_default_stream",
                ..
            })
        ));
    }
}

#[test]
fn length_and_shape_mismatches() {
    let err = Array::from_slice(&[1.0f32, 2.0, 3.0], &[2, 2]).unwrap_err();
    assert_eq!(
        err,
        Error::LengthMismatch {
            len: 3,
            shape: vec![2, 2],
            expected: 4
        }
    );
    let err = Array::from_iter_shaped(0..5i32, &[2, 3]).unwrap_err();
    assert!(matches!(
        err,
        Error::LengthMismatch {
            len: 5,
            expected: 6,
            ..
        }
    ));
    let err = Array::from_slice::<f32>(&[], &[2, -1]).unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidShape {
            reason: "negative dimension",
            ..
        }
    ));
    let err = Array::from_slice::<u8>(&[], &[i32::MAX, i32::MAX, i32::MAX]).unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidShape {
            reason: "too many elements",
            ..
        }
    ));
}

#[test]
fn reading_with_the_wrong_type_or_shape() {
    let a = Array::from_slice(&[1i32, 2], &[2]).unwrap();
    let want = Error::DtypeMismatch {
        expected: Dtype::Float32,
        found: Dtype::Int32,
    };
    assert_eq!(a.to_vec::<f32>().unwrap_err(), want);
    assert_eq!(a.item::<f32>().unwrap_err(), want);
    assert_eq!(a.as_slice::<f32>().unwrap_err(), want);
    assert_eq!(a.item::<i32>().unwrap_err(), Error::NotScalar { size: 2 });
    let lazy = (&a + 1).unwrap();
    assert_eq!(lazy.as_slice::<i32>().unwrap_err(), Error::NotEvaluated);
    let t = arange(&[2, 2]).transpose().unwrap();
    t.eval().unwrap();
    assert_eq!(t.as_slice::<i32>().unwrap_err(), Error::NotContiguous);
    let stepped = arange(&[6]).index(Slice::from(..).step(2)).unwrap();
    stepped.eval().unwrap();
    assert_eq!(stepped.as_slice::<i32>().unwrap_err(), Error::NotContiguous);
}

#[test]
fn scalar_overflow() {
    let a = Array::from_slice(&[1u8], &[1]).unwrap();
    let err = (&a + 256).unwrap_err();
    assert_eq!(
        err,
        Error::ScalarOverflow {
            value: "256".into(),
            dtype: Dtype::Uint8
        }
    );
    assert!(matches!(&a - (-1), Err(Error::ScalarOverflow { .. })));
    assert!(matches!(
        a.index_put(0, 1000),
        Err(Error::ScalarOverflow { .. })
    ));
    assert!(matches!(
        a.less(u64::MAX),
        Err(Error::ScalarOverflow { .. })
    ));
}

#[test]
fn invalid_indices() {
    let a = arange(&[2, 3]);
    let is_index_err = |r: mlx_rs::Result<Array>| matches!(r, Err(Error::InvalidIndex { .. }));
    assert!(is_index_err(a.index((0, 0, 0))));
    assert!(is_index_err(a.index((Ellipsis, 0, Ellipsis))));
    assert!(is_index_err(a.index(Slice::from(..).step(0))));
    assert!(is_index_err(a.index(2)));
    assert!(is_index_err(a.index((0, -4))));
    assert!(is_index_err(a.index((Index::Array(arange(&[2])), -4))));
    // Out-of-range values in index arrays (MLX would read or write out of
    // bounds), for reads and writes, signed and unsigned, on every path.
    let far = Array::from_slice(&[0i32, 1 << 30], &[2]).unwrap();
    assert!(is_index_err(a.index(&far)));
    assert!(is_index_err(a.index((0, &far))));
    assert!(is_index_err(a.index((.., &far))));
    assert!(is_index_err(a.index_put(&far, 1)));
    assert!(is_index_err(a.index_put((.., &far), 1)));
    let neg = Array::from_slice(&[-3i64], &[1]).unwrap();
    assert!(is_index_err(a.index(&neg)));
    assert!(a.index(Array::from_slice(&[-2i64], &[1]).unwrap()).is_ok());
    let big = Array::from_slice(&[u64::MAX], &[1]).unwrap();
    assert!(is_index_err(a.index((0, &big))));
    let lazy = (Array::from_slice(&[1u32], &[1]).unwrap() + 2).unwrap();
    assert!(is_index_err(a.index((.., &lazy))));
    assert_eq!(
        a.index((.., &(&lazy - 1).unwrap()))
            .unwrap()
            .to_vec::<i32>()
            .unwrap(),
        [2, 5]
    );
    let mask = Array::from_slice(&[true, false], &[2]).unwrap();
    assert!(is_index_err(a.index(&mask)));
    let scalar = Array::scalar(1i32).unwrap();
    assert!(is_index_err(scalar.index(0)));
    assert!(is_index_err(scalar.index_put(0, 1)));
    assert!(is_index_err(a.index_put((0, 0, 0), 1)));
    assert!(is_index_err(a.index_put(5, 1)));
    assert!(is_index_err(a.index_put((0, 7), 1)));
    assert!(is_index_err(a.index_put(Slice::from(..).step(0), 1)));
    // Index arrays that do not broadcast together.
    let i2 = Array::from_slice(&[0i32, 1], &[2]).unwrap();
    let i3 = Array::from_slice(&[0i32, 1, 2], &[3]).unwrap();
    assert!(is_index_err(a.index_put((&i2, &i3), 1)));
    assert!(matches!(a.index((&i2, &i3)), Err(Error::Mlx { .. })));
    // An update that does not fit the indexed region.
    let big = arange(&[5]);
    assert!(matches!(a.index_put(0, &big), Err(Error::Mlx { .. })));
}
