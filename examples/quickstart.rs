//! A first tour of mlx-rs: lazy arrays, broadcasting, indexing, errors as
//! values, and 4-bit quantization with a quantized matrix product.
//!
//! Run: `cargo run --release --example quickstart`

use mlx_rs::quantization::{self, QuantMode};
use mlx_rs::{Array, Device, Dtype, Error};

fn main() -> Result<(), Error> {
    println!("mlx-rs on {:?}\n", Device::default_device()?);

    // Arrays are lazy: nothing runs until a value is read (or `eval`).
    let a = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
    let b = Array::from_slice(&[10.0f32, 20.0, 30.0], &[3])?;
    let c = ((&a * &b)? + 1.0)?; // broadcasting, weakly typed scalars
    println!("a * b + 1 =\n{c}\n");
    println!("c[:, 1:] =\n{}\n", c.index((.., 1..))?);
    println!(
        "c.T (a strided view, read correctly) = {:?}\n",
        c.transpose()?.to_vec::<f32>()?
    );

    // Bad input is an `Err`, never a crash.
    let d = Array::from_slice(&[1.0f32, 2.0], &[2])?;
    match &a + &d {
        Err(e) => println!("shapes [2, 3] + [2] -> Err: {e}\n"),
        Ok(_) => unreachable!("these shapes do not broadcast"),
    }

    // Quantize a 64 x 256 weight to 4 bits (affine, group size 64) and use
    // it in a matrix product, as a quantized linear layer does.
    let w =
        mlx_rs::ops::linspace(-1.0, 1.0, 64 * 256, true, Dtype::Float32)?.reshape(&[64, 256])?;
    let q = quantization::quantize(&w, QuantMode::affine(4, 64)?)?;
    println!(
        "quantized {:?} -> weights {:?} {}, scales {:?}, biases {:?}",
        w.shape(),
        q.weights.shape(),
        q.weights.dtype(),
        q.scales.shape(),
        q.biases.as_ref().map(|b| b.shape().to_vec())
    );
    let x = Array::ones(&[1, 256], Dtype::Float32)?;
    let y = quantization::quantized_matmul(&x, &q, true)?; // x @ w_q.T
    let w_hat = q.dequantize(None)?;
    let err = (&w - &w_hat)?
        .to_vec::<f32>()?
        .iter()
        .fold(0f32, |m, e| m.max(e.abs()));
    println!(
        "x @ w_q.T -> shape {:?}, first values {:?}",
        y.shape(),
        &y.to_vec::<f32>()?[..4]
    );
    println!("max |w - dequantize(quantize(w))| = {err:.5}");
    Ok(())
}
