//! The transforms' contract: closures are freed exactly once, a closure's
//! `Err` or panic reaches the transform's caller as an `Err` (never an
//! unwind through C, never an abort), bad arguments are refused with a
//! message naming them, and a compiled function traces once per input
//! signature and gives its cache entry back on drop.

use std::cell::Cell;
use std::rc::Rc;

use mlx_rs::ops::{self, Axes};
use mlx_rs::transforms::{
    checkpoint, compile, custom_vjp, disable_compile, enable_compile, grad, jvp, set_compile_mode,
    value_and_grad, vjp, vmap, Closure, CompileMode, CustomFunction,
};
use mlx_rs::{Array, Error};

fn arr(v: &[f32]) -> Array {
    Array::from_slice(v, &[v.len() as i32]).unwrap()
}

fn sum_sq(a: &[Array]) -> mlx_rs::Result<Vec<Array>> {
    Ok(vec![ops::sum(&ops::square(&a[0])?, Axes::All, false)?])
}

/// Counts its drops: captured by a closure, it is dropped when the
/// closure's payload is.
struct DropCount(Rc<Cell<usize>>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

fn counted(
    drops: &Rc<Cell<usize>>,
) -> impl FnMut(&[Array]) -> mlx_rs::Result<Vec<Array>> + 'static {
    let guard = DropCount(drops.clone());
    move |a| {
        let _ = &guard;
        sum_sq(a)
    }
}

#[test]
fn every_closure_payload_is_freed_exactly_once() {
    let drops = Rc::new(Cell::new(0));
    let x = arr(&[1.0, 2.0]);

    let c = Closure::new(counted(&drops)).unwrap();
    c.call(std::slice::from_ref(&x)).unwrap();
    assert_eq!(drops.get(), 0, "alive while the closure is");
    drop(c);
    assert_eq!(drops.get(), 1);

    // A transform keeps its own copy: the function lives as long as it.
    let vg = value_and_grad(counted(&drops), &[0]).unwrap();
    let (_, g) = vg.call(std::slice::from_ref(&x)).unwrap();
    assert_eq!(g[0].to_vec::<f32>().unwrap(), [2.0, 4.0]);
    assert_eq!(drops.get(), 1);
    drop(vg);
    assert_eq!(drops.get(), 2);

    let cf = compile(counted(&drops), false).unwrap();
    cf.call(std::slice::from_ref(&x)).unwrap();
    drop(cf);
    assert_eq!(drops.get(), 3);

    vjp(
        counted(&drops),
        std::slice::from_ref(&x),
        &[Array::scalar(1.0f32).unwrap()],
    )
    .unwrap();
    assert_eq!(drops.get(), 4);
    jvp(
        counted(&drops),
        std::slice::from_ref(&x),
        &[arr(&[1.0, 0.0])],
    )
    .unwrap();
    assert_eq!(drops.get(), 5);
    let v = vmap(counted(&drops), &[], &[]).unwrap();
    v.call(std::slice::from_ref(&x)).unwrap();
    drop(v);
    assert_eq!(drops.get(), 6);

    // A failing call frees nothing early and nothing twice.
    let vg = value_and_grad(counted(&drops), &[3]).unwrap();
    assert!(vg.call(std::slice::from_ref(&x)).is_err());
    drop(vg);
    assert_eq!(drops.get(), 7);

    // Rules of a custom function and a checkpointed function.
    let rule_drops = Rc::new(Cell::new(0));
    let guard = DropCount(rule_drops.clone());
    let f = custom_vjp(
        counted(&drops),
        move |_p: &[Array], c: &[Array], _o: &[Array]| {
            let _ = &guard;
            Ok(vec![c[0].clone()])
        },
    )
    .unwrap();
    let g = grad(move |a: &[Array]| f.call(a), &[0]).unwrap();
    g.call(&[Array::scalar(2.0f32).unwrap()]).unwrap();
    drop(g);
    assert_eq!((drops.get(), rule_drops.get()), (8, 1));
    let ck = checkpoint(counted(&drops)).unwrap();
    ck.call(&[x]).unwrap();
    drop(ck);
    assert_eq!(drops.get(), 9);
}

#[test]
fn a_closure_error_reaches_the_caller_unchanged() {
    let fail = |_: &[Array]| -> mlx_rs::Result<Vec<Array>> {
        Err(Error::InvalidArgument {
            op: "my_loss",
            reason: "labels missing".to_owned(),
        })
    };
    let want = Error::InvalidArgument {
        op: "my_loss",
        reason: "labels missing".to_owned(),
    };
    let x = arr(&[1.0]);
    assert_eq!(
        Closure::new(fail)
            .unwrap()
            .call(std::slice::from_ref(&x))
            .unwrap_err(),
        want
    );
    assert_eq!(
        value_and_grad(fail, &[0])
            .unwrap()
            .call(std::slice::from_ref(&x))
            .unwrap_err(),
        want
    );
    assert_eq!(
        grad(fail, &[0])
            .unwrap()
            .call(std::slice::from_ref(&x))
            .unwrap_err(),
        want
    );
    assert_eq!(
        vjp(fail, std::slice::from_ref(&x), std::slice::from_ref(&x)).unwrap_err(),
        want
    );
    assert_eq!(
        jvp(fail, std::slice::from_ref(&x), std::slice::from_ref(&x)).unwrap_err(),
        want
    );
    assert_eq!(
        vmap(fail, &[], &[])
            .unwrap()
            .call(std::slice::from_ref(&x))
            .unwrap_err(),
        want
    );
    assert_eq!(
        compile(fail, false)
            .unwrap()
            .call(std::slice::from_ref(&x))
            .unwrap_err(),
        want
    );
    // Nested: the inner transform's closure error surfaces through both.
    let inner = grad(fail, &[0]).unwrap();
    let outer = vmap(move |a: &[Array]| inner.call(a), &[], &[]).unwrap();
    assert_eq!(outer.call(&[arr(&[1.0, 2.0])]).unwrap_err(), want);
    // The slot is empty afterwards: a good call succeeds.
    let ok = grad(sum_sq, &[0]).unwrap().call(&[x]).unwrap();
    assert_eq!(ok[0].to_vec::<f32>().unwrap(), [2.0]);
}

#[test]
fn a_panicking_closure_is_an_err_naming_the_panic() {
    let boom = |_: &[Array]| -> mlx_rs::Result<Vec<Array>> { panic!("boom at step {}", 7) };
    let x = arr(&[1.0]);
    let errs = [
        Closure::new(boom)
            .unwrap()
            .call(std::slice::from_ref(&x))
            .unwrap_err(),
        value_and_grad(boom, &[0])
            .unwrap()
            .call(std::slice::from_ref(&x))
            .unwrap_err(),
        vjp(boom, std::slice::from_ref(&x), std::slice::from_ref(&x)).unwrap_err(),
        compile(boom, false)
            .unwrap()
            .call(std::slice::from_ref(&x))
            .unwrap_err(),
        vmap(boom, &[], &[])
            .unwrap()
            .call(std::slice::from_ref(&x))
            .unwrap_err(),
    ];
    for e in errs {
        match e {
            Error::ClosurePanic { message, .. } => assert_eq!(message, "boom at step 7"),
            other => panic!("unexpected {other:?}"),
        }
    }
    // A panicking vjp rule, reached while differentiating.
    let f = custom_vjp(
        sum_sq,
        |_: &[Array], _: &[Array], _: &[Array]| -> mlx_rs::Result<Vec<Array>> { panic!("rule") },
    )
    .unwrap();
    let e = grad(move |a: &[Array]| f.call(a), &[0])
        .unwrap()
        .call(&[x])
        .unwrap_err();
    assert!(
        e.to_string().contains("the Rust closure panicked: rule"),
        "{e}"
    );
}

#[test]
fn bad_argnums_are_refused_with_their_reason() {
    let e = value_and_grad(sum_sq, &[]).unwrap_err();
    assert!(e.to_string().contains("argnums is empty"), "{e}");
    let e = grad(sum_sq, &[0, 1, 0]).unwrap_err();
    assert!(e.to_string().contains("repeats argument 0"), "{e}");
    let g = grad(sum_sq, &[2]).unwrap();
    let e = g.call(&[arr(&[1.0]), arr(&[2.0])]).unwrap_err();
    assert!(
        e.to_string()
            .contains("argument 2, but the function is called with 2"),
        "{e}"
    );
    let g = grad(sum_sq, &[0, -2]).unwrap();
    let e = g.call(&[arr(&[1.0]), arr(&[2.0])]).unwrap_err();
    assert!(e.to_string().contains("names argument 0 twice"), "{e}");
    // Negative argnums count from the end, as in MLX.
    let g = grad(|a: &[Array]| sum_sq(&a[1..]), &[-1]).unwrap();
    let d = g.call(&[arr(&[1.0]), arr(&[3.0])]).unwrap();
    assert_eq!(d[0].to_vec::<f32>().unwrap(), [6.0]);
}

#[test]
fn bad_outputs_are_refused_with_their_reason() {
    // Not a scalar: MLX's message.
    let g = grad(|a: &[Array]| Ok(vec![ops::square(&a[0])?]), &[0]).unwrap();
    let e = g.call(&[arr(&[1.0, 2.0])]).unwrap_err();
    assert!(
        e.to_string().contains(
            "first output must be a scalar (shape []) to differentiate, it has shape [2]"
        ),
        "{e}"
    );
    // No outputs at all.
    let g = grad(|_: &[Array]| Ok(vec![]), &[0]).unwrap();
    let e = g.call(&[arr(&[1.0])]).unwrap_err();
    assert!(e.to_string().contains("returned no outputs"), "{e}");
    // Cotangents that do not match the outputs.
    let e = vjp(sum_sq, &[arr(&[1.0])], &[arr(&[1.0]), arr(&[1.0])]).unwrap_err();
    assert!(e.to_string().contains("[vjp]"), "{e}");
    let e = jvp(sum_sq, &[arr(&[1.0])], &[arr(&[1.0, 2.0])]).unwrap_err();
    assert!(e.to_string().contains("jvp"), "{e}");
}

#[test]
fn value_and_grad_returns_every_output_and_the_first_ones_gradient() {
    let vg = value_and_grad(
        |a: &[Array]| {
            let loss = ops::sum(&ops::multiply(&a[0], &a[1])?, Axes::All, false)?;
            Ok(vec![loss, ops::multiply(&a[0], &Array::scalar(10.0f32)?)?])
        },
        &[1, 0],
    )
    .unwrap();
    let (values, grads) = vg.call(&[arr(&[1.0, 2.0]), arr(&[3.0, 4.0])]).unwrap();
    assert_eq!(values.len(), 2);
    assert_eq!(values[0].item::<f32>().unwrap(), 11.0);
    assert_eq!(values[1].to_vec::<f32>().unwrap(), [10.0, 20.0]);
    // Sorted by argument position, as MLX returns them.
    assert_eq!(grads[0].to_vec::<f32>().unwrap(), [3.0, 4.0]);
    assert_eq!(grads[1].to_vec::<f32>().unwrap(), [1.0, 2.0]);
}

#[test]
fn compile_traces_once_per_input_shape() {
    let traces = Rc::new(Cell::new(0));
    let t = traces.clone();
    let f = compile(
        move |a: &[Array]| {
            t.set(t.get() + 1);
            Ok(vec![ops::add(&ops::exp(&a[0])?, &a[0])?])
        },
        false,
    )
    .unwrap();
    for _ in 0..5 {
        let y = f.call(&[arr(&[0.0, 0.0])]).unwrap();
        assert_eq!(y[0].to_vec::<f32>().unwrap(), [1.0, 1.0]);
    }
    assert_eq!(traces.get(), 1);
    f.call(&[arr(&[0.0, 0.0, 0.0])]).unwrap();
    assert_eq!(traces.get(), 2, "a new shape traces again");
    f.call(&[arr(&[1.0, 2.0])]).unwrap();
    assert_eq!(traces.get(), 2, "the first shape is still cached");

    // Shapeless: one trace for every shape of the same rank and dtype.
    let traces = Rc::new(Cell::new(0));
    let t = traces.clone();
    let f = compile(
        move |a: &[Array]| {
            t.set(t.get() + 1);
            Ok(vec![ops::square(&a[0])?])
        },
        true,
    )
    .unwrap();
    for n in 1..5 {
        let y = f.call(&[arr(&vec![3.0; n])]).unwrap();
        assert_eq!(y[0].to_vec::<f32>().unwrap(), vec![9.0; n]);
    }
    assert_eq!(traces.get(), 1);
}

#[test]
fn two_compiled_functions_never_share_an_entry() {
    // Made and dropped in turn, so their ids may be reused: each still
    // traces its own function.
    for k in 1..4 {
        let f = compile(
            move |a: &[Array]| Ok(vec![ops::multiply(&a[0], &Array::scalar(k as f32)?)?]),
            false,
        )
        .unwrap();
        let g = compile(
            move |a: &[Array]| Ok(vec![ops::add(&a[0], &Array::scalar(k as f32)?)?]),
            false,
        )
        .unwrap();
        assert_eq!(
            f.call(&[arr(&[2.0])]).unwrap()[0].to_vec::<f32>().unwrap(),
            [2.0 * k as f32]
        );
        assert_eq!(
            g.call(&[arr(&[2.0])]).unwrap()[0].to_vec::<f32>().unwrap(),
            [2.0 + k as f32]
        );
    }
}

#[test]
fn compile_mode_switches_take_effect_at_the_next_call() {
    let traces = Rc::new(Cell::new(0));
    let t = traces.clone();
    let f = compile(
        move |a: &[Array]| {
            t.set(t.get() + 1);
            Ok(vec![ops::negative(&a[0])?])
        },
        false,
    )
    .unwrap();
    disable_compile().unwrap();
    f.call(&[arr(&[1.0])]).unwrap();
    f.call(&[arr(&[1.0])]).unwrap();
    let disabled = traces.get();
    enable_compile().unwrap();
    f.call(&[arr(&[1.0])]).unwrap();
    f.call(&[arr(&[1.0])]).unwrap();
    set_compile_mode(CompileMode::NoFuse).unwrap();
    let y = f.call(&[arr(&[1.0])]).unwrap();
    set_compile_mode(CompileMode::Enabled).unwrap();
    assert_eq!(y[0].to_vec::<f32>().unwrap(), [-1.0]);
    // Disabled: run directly each call; enabled: one trace.
    assert_eq!(disabled, 2);
    assert_eq!(traces.get(), 3);
}

#[test]
fn vmap_checks_its_axes() {
    let id = |a: &[Array]| Ok(a.to_vec());
    let e = vmap(id, &[Some(-1)], &[]).unwrap_err();
    assert!(e.to_string().contains("negative"), "{e}");
    let v = vmap(id, &[Some(0), None], &[]).unwrap();
    let e = v.call(&[arr(&[1.0])]).unwrap_err();
    assert!(e.to_string().contains("2 in_axes for 1 arguments"), "{e}");
    let v = vmap(id, &[Some(1)], &[]).unwrap();
    let e = v.call(&[arr(&[1.0])]).unwrap_err();
    assert!(e.to_string().contains("argument 0 has 1 dimensions"), "{e}");
    let v = vmap(id, &[None], &[]).unwrap();
    let e = v.call(&[arr(&[1.0])]).unwrap_err();
    assert!(e.to_string().contains("maps no argument"), "{e}");
    let v = vmap(id, &[], &[0, 0]).unwrap();
    let e = v.call(&[arr(&[1.0])]).unwrap_err();
    assert!(e.to_string().contains("2 out_axes for 1 outputs"), "{e}");
    let v = vmap(|a: &[Array]| Ok(vec![ops::add(&a[0], &a[1])?]), &[], &[]).unwrap();
    let e = v
        .call(&[arr(&[1.0, 2.0]), arr(&[1.0, 2.0, 3.0])])
        .unwrap_err();
    assert!(e.to_string().contains("Inconsistent axis sizes"), "{e}");
}

#[test]
fn custom_function_rules_are_used() {
    let f = CustomFunction::new(|a: &[Array]| Ok(vec![ops::sin(&a[0])?]))
        .unwrap()
        .vjp(|_: &[Array], c: &[Array], _: &[Array]| {
            Ok(vec![ops::multiply(&c[0], &Array::scalar(5.0f32)?)?])
        })
        .unwrap()
        .jvp(|_: &[Array], t: &[Array], argnums: &[i32]| {
            assert_eq!(argnums, [0]);
            Ok(vec![ops::multiply(&t[0], &Array::scalar(7.0f32)?)?])
        })
        .unwrap()
        .build()
        .unwrap();
    let f = Rc::new(f);
    let f2 = f.clone();
    let g = grad(move |a: &[Array]| f2.call(a), &[0]).unwrap();
    assert_eq!(
        g.call(&[Array::scalar(0.3f32).unwrap()]).unwrap()[0]
            .item::<f32>()
            .unwrap(),
        5.0
    );
    let f3 = f.clone();
    let (_, t) = jvp(
        move |a: &[Array]| f3.call(a),
        &[Array::scalar(0.3f32).unwrap()],
        &[Array::scalar(1.0f32).unwrap()],
    )
    .unwrap();
    assert_eq!(t[0].item::<f32>().unwrap(), 7.0);
    let y = f.call(&[Array::scalar(0.0f32).unwrap()]).unwrap();
    assert_eq!(y[0].item::<f32>().unwrap(), 0.0);
}

#[test]
fn custom_vmap_rule_is_used() {
    // The rule reports 100 * x, so the result shows which path ran.
    let seen = Rc::new(Cell::new(None));
    let s2 = seen.clone();
    let f = CustomFunction::new(|a: &[Array]| Ok(vec![ops::square(&a[0])?]))
        .unwrap()
        .vmap(move |x: &[Array], axes: &[Option<i32>]| {
            s2.set(Some(axes.to_vec()));
            Ok((
                vec![ops::multiply(&x[0], &Array::scalar(100.0f32)?)?],
                vec![axes[0].unwrap()],
            ))
        })
        .unwrap()
        .build()
        .unwrap();
    let v = vmap(move |a: &[Array]| f.call(a), &[Some(1)], &[0]).unwrap();
    let x = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    let y = v.call(&[x]).unwrap();
    assert_eq!(seen.take(), Some(vec![Some(1)]));
    // Batched along input axis 1, reported as axis 1, moved to output axis 0.
    assert_eq!(y[0].shape(), [2, 2]);
    assert_eq!(y[0].to_vec::<f32>().unwrap(), [100.0, 300.0, 200.0, 400.0]);
}
