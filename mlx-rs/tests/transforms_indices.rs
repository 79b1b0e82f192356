//! Index checks under function transformations: a traced index cannot be
//! evaluated, so `vmap` and `compile` get it clamped into range (the
//! nearest element is read, as in JAX), an integer division by a traced
//! zero divides by 1, and a traced mask gets a zero-padded source; outside
//! a transformation the same calls are errors.

use mlx_rs::ops::{self, Update};
use mlx_rs::transforms::{compile, vmap};
use mlx_rs::{Array, Error};

fn ints(v: &[i32], shape: &[i32]) -> Array {
    Array::from_slice(v, shape).unwrap()
}

fn is_index_error(r: mlx_rs::Result<Array>) -> bool {
    matches!(r, Err(Error::InvalidIndex { .. }))
}

#[test]
fn traced_out_of_range_indices_are_clamped() {
    let a = ints(&[10, 20, 30], &[3]);
    let idx = ints(&[5, -7, 1], &[3]);
    // Outside a transformation: an error naming the value.
    let err = ops::take(&a, &idx, None).unwrap_err();
    assert!(
        err.to_string()
            .contains("index 5 is out of bounds for an axis of size 3"),
        "{err}"
    );

    // Under vmap over the indices: 5 reads the last element, -7 the first.
    let a2 = a.clone();
    let f = vmap(
        move |x: &[Array]| Ok(vec![ops::take(&a2, &x[0], None)?]),
        &[Some(0)],
        &[],
    )
    .unwrap();
    let out = f.call(std::slice::from_ref(&idx)).unwrap();
    assert_eq!(out[0].to_vec::<i32>().unwrap(), [30, 10, 20]);

    // Under compile, through `Array::index` and `take_along_axis`.
    let m = ints(&[1, 2, 3, 4, 5, 6], &[2, 3]);
    let g = compile(
        |x: &[Array]| {
            Ok(vec![
                x[0].index(&x[1])?,
                ops::take_along_axis(&x[0], &x[2], 1)?,
            ])
        },
        false,
    )
    .unwrap();
    let rows = ints(&[2, 0], &[2]);
    let cols = ints(&[9, -1, 0, -9, 3, 1], &[2, 3]);
    let out = g.call(&[m.clone(), rows.clone(), cols.clone()]).unwrap();
    assert_eq!(out[0].to_vec::<i32>().unwrap(), [4, 5, 6, 1, 2, 3]);
    assert_eq!(out[1].to_vec::<i32>().unwrap(), [3, 3, 1, 4, 6, 5]);
    assert!(m.index(&rows).is_err());
    assert!(is_index_error(ops::take_along_axis(&m, &cols, 1)));

    // A traced scatter writes at the clamped place.
    let z = Array::zeros(&[4], mlx_rs::Dtype::Int32).unwrap();
    let h = compile(
        move |x: &[Array]| {
            let upd = ints(&[7, 8], &[2, 1]);
            Ok(vec![ops::scatter(&z, [&x[0]], &upd, &[0], Update::Add)?])
        },
        false,
    )
    .unwrap();
    let out = h.call(&[ints(&[40, -40], &[2])]).unwrap();
    assert_eq!(out[0].to_vec::<i32>().unwrap(), [8, 0, 0, 7]);

    // Unsigned and narrow index dtypes clamp within their own range.
    let big = Array::from_slice(&(0..300).collect::<Vec<i32>>(), &[300]).unwrap();
    let narrow = compile(
        move |x: &[Array]| Ok(vec![ops::take(&big, &x[0], None)?]),
        false,
    )
    .unwrap();
    let i8s = ints(&[127, -128], &[2])
        .astype(mlx_rs::Dtype::Int8)
        .unwrap();
    assert_eq!(
        narrow.call(&[i8s]).unwrap()[0].to_vec::<i32>().unwrap(),
        [127, 172]
    );
    let u8s = ints(&[255, 0], &[2]).astype(mlx_rs::Dtype::Uint8).unwrap();
    assert_eq!(
        narrow.call(&[u8s]).unwrap()[0].to_vec::<i32>().unwrap(),
        [255, 0]
    );
}

#[test]
fn traced_index_into_an_empty_axis_is_an_error() {
    let empty = Array::zeros(&[0], mlx_rs::Dtype::Float32).unwrap();
    let f = compile(
        move |x: &[Array]| Ok(vec![ops::take(&empty, &x[0], None)?]),
        false,
    )
    .unwrap();
    // MLX refuses it when building (mlx-rs's own check would say
    // "cannot index into an empty axis" for the ops MLX lets through).
    let err = f.call(&[ints(&[0], &[1])]).unwrap_err();
    assert!(
        err.to_string()
            .contains("non-empty take from an empty axis"),
        "{err}"
    );
}

#[test]
fn traced_dynamic_slices_keep_the_window_inside() {
    let a = ints(&[0, 1, 2, 3, 4, 5], &[6]);
    let a2 = a.clone();
    let f = compile(
        move |x: &[Array]| {
            Ok(vec![
                ops::slice_dynamic(&a2, &x[0], &[0], &[2])?,
                ops::slice_update_dynamic(&a2, &ints(&[-1, -1], &[2]), &x[0], &[0])?,
            ])
        },
        false,
    )
    .unwrap();
    let out = f.call(&[ints(&[5], &[1])]).unwrap();
    assert_eq!(out[0].to_vec::<i32>().unwrap(), [4, 5]);
    assert_eq!(out[1].to_vec::<i32>().unwrap(), [0, 1, 2, 3, -1, -1]);
    assert!(is_index_error(ops::slice_dynamic(
        &a,
        &ints(&[5], &[1]),
        &[0],
        &[2]
    )));
    // A window larger than the axis cannot fit anywhere: an error even
    // when traced (MLX's, when building).
    let a3 = a.clone();
    let g = compile(
        move |x: &[Array]| Ok(vec![ops::slice_dynamic(&a3, &x[0], &[0], &[7])?]),
        false,
    )
    .unwrap();
    let err = g.call(&[ints(&[0], &[1])]).unwrap_err();
    assert!(err.to_string().contains("Invalid slice size (7)"), "{err}");
}

#[test]
fn traced_integer_division_by_zero_divides_by_one() {
    let f = vmap(
        |x: &[Array]| {
            Ok(vec![
                ops::floor_divide(&x[0], &x[1])?,
                ops::remainder(&x[0], &x[1])?,
            ])
        },
        &[Some(0), Some(0)],
        &[],
    )
    .unwrap();
    let a = ints(&[7, 7, i32::MIN], &[3]);
    let b = ints(&[2, 0, -1], &[3]);
    let out = f.call(&[a.clone(), b.clone()]).unwrap();
    assert_eq!(out[0].to_vec::<i32>().unwrap(), [3, 7, i32::MIN]);
    assert_eq!(out[1].to_vec::<i32>().unwrap(), [1, 0, 0]);
    let err = ops::floor_divide(&a, &b).unwrap_err();
    assert!(
        err.to_string().contains("integer division by zero"),
        "{err}"
    );
    let q = compile(|x: &[Array]| ops::divmod(&x[0], &x[1]), false).unwrap();
    let out = q.call(&[a, b]).unwrap();
    assert_eq!(out[0].to_vec::<i32>().unwrap(), [3, 7, i32::MIN]);
    assert_eq!(out[1].to_vec::<i32>().unwrap(), [1, 0, 0]);
}

#[test]
fn traced_masked_scatter_reads_a_padded_source() {
    let a = ints(&[1, 2, 3, 4], &[4]);
    let src = ints(&[9], &[1]);
    let (a2, src2) = (a.clone(), src.clone());
    let f = compile(
        move |x: &[Array]| Ok(vec![ops::masked_scatter(&a2, &x[0], &src2)?]),
        false,
    )
    .unwrap();
    let mask = Array::from_slice(&[false, true, false, true], &[4]).unwrap();
    let out = f.call(std::slice::from_ref(&mask)).unwrap();
    // The second true entry finds no source element: it reads the padding.
    assert_eq!(out[0].to_vec::<i32>().unwrap(), [1, 9, 3, 0]);
    assert!(is_index_error(ops::masked_scatter(&a, &mask, &src)));
    let one = Array::from_slice(&[false, false, true, false], &[4]).unwrap();
    assert_eq!(
        f.call(&[one]).unwrap()[0].to_vec::<i32>().unwrap(),
        [1, 2, 9, 4]
    );
}
