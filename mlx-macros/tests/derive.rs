//! What `#[derive(Module)]` supports, checked on real `mlx_rs` types:
//! nested structs, `Vec`, `Option`, arrays, `Box`, `skip`, `rename`,
//! generics, transparent enums, unit structs and raw identifiers.

use std::collections::HashMap;

use mlx_rs::nn::{Linear, Module};
use mlx_rs::{Array, Dtype};

fn zeros(shape: &[i32]) -> Array {
    Array::zeros(shape, Dtype::Float32).unwrap()
}

#[derive(Debug, Module)]
struct Leaf {
    weight: Array,
    bias: Option<Array>,
}

#[derive(Debug, Module)]
struct Everything {
    leaf: Leaf,
    list: Vec<Leaf>,
    fixed: [Array; 2],
    maybe: Option<Leaf>,
    absent: Option<Leaf>,
    boxed: Box<Leaf>,
    nested: Vec<Option<[Array; 1]>>,
    #[module(rename = "lm_head")]
    head: Linear,
    #[module(skip)]
    eps: f32,
    #[module(skip)]
    cache: HashMap<String, Vec<u8>>,
    r#type: Array,
}

fn leaf(n: i32, bias: bool) -> Leaf {
    Leaf {
        weight: zeros(&[n]),
        bias: bias.then(|| zeros(&[1])),
    }
}

fn everything() -> Everything {
    Everything {
        leaf: leaf(2, true),
        list: vec![leaf(3, false), leaf(4, true)],
        fixed: [zeros(&[5]), zeros(&[6])],
        maybe: Some(leaf(7, false)),
        absent: None,
        boxed: Box::new(leaf(8, false)),
        nested: vec![None, Some([zeros(&[9])])],
        head: Linear::new(2, 3, false).unwrap(),
        eps: 1e-5,
        cache: HashMap::new(),
        r#type: zeros(&[10]),
    }
}

#[test]
fn names_follow_fields_indices_and_renames() {
    let mut names = Vec::new();
    everything().visit_params("", &mut |n, _| names.push(n.to_owned()));
    assert_eq!(
        names,
        [
            "leaf.weight",
            "leaf.bias",
            "list.0.weight",
            "list.1.weight",
            "list.1.bias",
            "fixed.0",
            "fixed.1",
            "maybe.weight",
            "boxed.weight",
            "nested.1.0",
            "lm_head.weight",
            "type",
        ]
    );
    let mut prefixed = Vec::new();
    leaf(1, false).visit_params("model.norm", &mut |n, _| prefixed.push(n.to_owned()));
    assert_eq!(prefixed, ["model.norm.weight"]);
}

#[test]
fn mutable_traversal_reaches_every_parameter() {
    let mut m = everything();
    m.visit_params_mut("", &mut |_, a| {
        *a = Array::ones(a.shape(), Dtype::Float32).unwrap()
    });
    let total: f32 = m
        .parameters()
        .values()
        .map(|a| a.to_vec::<f32>().unwrap().iter().sum::<f32>())
        .sum();
    assert_eq!(total as usize, m.num_parameters());
    assert_eq!(
        m.num_parameters(),
        2 + 1 + 3 + 4 + 1 + 5 + 6 + 7 + 8 + 9 + 6 + 10
    );
    assert_eq!(m.eps, 1e-5);
    assert!(m.cache.is_empty());
}

#[test]
fn strict_load_and_replace_through_the_derive() {
    let mut m = everything();
    let mut w: HashMap<String, Array> = m.parameters().into_iter().collect();
    w.insert("type".into(), Array::full(&[10], 3.0f32).unwrap());
    m.load_weights(w.clone()).unwrap();
    assert_eq!(m.r#type.to_vec::<f32>().unwrap(), [3.0; 10]);
    w.remove("nested.1.0");
    assert!(m.load_weights(w).is_err());

    // replace every Leaf in place; the traversal goes on into the new value
    mlx_rs::nn::replace_modules(&mut m, |_, l: &mut Leaf| {
        *l = leaf(1, false);
        Ok(())
    })
    .unwrap();
    assert_eq!(m.list[1].weight.shape(), [1]);
    assert!(m.leaf.bias.is_none());
}

#[derive(Debug, Module)]
struct Generic<T, const N: usize> {
    items: [T; N],
}

#[derive(Debug, Module)]
enum Choice {
    A(Leaf),
    B(Box<Linear>),
    Nothing,
}

#[derive(Debug, Module)]
struct Unit;

#[derive(Debug, Module)]
#[allow(dead_code)]
enum Never {}

#[derive(Debug, Module)]
struct Holder {
    choice: Choice,
    unit: Unit,
    generic: Generic<Leaf, 2>,
}

#[test]
fn generics_enums_and_units() {
    let mut h = Holder {
        choice: Choice::A(leaf(2, false)),
        unit: Unit,
        generic: Generic {
            items: [leaf(1, false), leaf(1, true)],
        },
    };
    let names: Vec<String> = h.parameters().into_keys().collect();
    assert_eq!(
        names,
        [
            "choice.weight",
            "generic.items.0.weight",
            "generic.items.1.bias",
            "generic.items.1.weight"
        ]
    );
    // modules are visited parent first, enum variants under the enum's name
    let mut seen = Vec::new();
    h.visit_modules_mut("", &mut |p, m| {
        seen.push((p.to_owned(), m.downcast_ref::<Leaf>().is_some()));
        if let Some(c) = m.downcast_mut::<Choice>() {
            *c = Choice::B(Box::new(Linear::new(4, 2, true).unwrap()));
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(seen[0], (String::new(), false));
    assert_eq!(seen[1], ("choice".to_owned(), false));
    assert_eq!(seen[2], ("choice".to_owned(), false)); // the new Linear
    assert!(seen.contains(&("generic.items.1".to_owned(), true)));
    assert_eq!(h.parameters()["choice.weight"].shape(), [2, 4]);
    assert!(h.parameters().contains_key("choice.bias"));
    let mut n = 0;
    Choice::Nothing.visit_params("", &mut |_, _| n += 1);
    Unit.visit_params("", &mut |_, _| n += 1);
    assert_eq!(n, 0);
    let dynamic: &dyn Module = &h;
    assert!(dynamic.downcast_ref::<Holder>().is_some());
}
