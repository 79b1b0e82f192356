//! Transforms on several threads at once. Nothing of `transforms` is
//! `Send`: each thread builds its own functions. MLX 0.32's compile cache
//! is per thread, so two threads compiling at once each trace their own
//! function once and each erase only their own entry; closure failures
//! are stored per thread, so one thread's failing closure never surfaces
//! in another's call.

use std::cell::Cell;
use std::rc::Rc;

use mlx_rs::ops::{self, Axes};
use mlx_rs::transforms::{compile, grad};
use mlx_rs::{Array, Error};

#[test]
fn threads_compile_and_differentiate_independently() {
    let handles: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let traces = Rc::new(Cell::new(0));
                let tr = traces.clone();
                let k = t as f32 + 1.0;
                let f = compile(
                    move |a: &[Array]| {
                        tr.set(tr.get() + 1);
                        Ok(vec![ops::multiply(&a[0], Array::scalar(k)?)?])
                    },
                    false,
                )
                .unwrap();
                let fail = grad(
                    move |_: &[Array]| -> mlx_rs::Result<Vec<Array>> {
                        Err(Error::InvalidArgument {
                            op: "thread",
                            reason: format!("thread {t}"),
                        })
                    },
                    &[0],
                )
                .unwrap();
                let g = grad(
                    |a: &[Array]| Ok(vec![ops::sum(&ops::square(&a[0])?, Axes::All, false)?]),
                    &[0],
                )
                .unwrap();
                for i in 0..200 {
                    let x = Array::from_slice(&[i as f32, 1.0], &[2]).unwrap();
                    let y = f.call(std::slice::from_ref(&x)).unwrap();
                    assert_eq!(y[0].to_vec::<f32>().unwrap(), [i as f32 * k, k]);
                    match fail.call(std::slice::from_ref(&x)).unwrap_err() {
                        Error::InvalidArgument { reason, .. } => {
                            assert_eq!(reason, format!("thread {t}"))
                        }
                        other => panic!("{other:?}"),
                    }
                    let d = g.call(&[x]).unwrap();
                    assert_eq!(d[0].to_vec::<f32>().unwrap(), [2.0 * i as f32, 2.0]);
                }
                traces.get()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 1, "one trace per thread's function");
    }
}
