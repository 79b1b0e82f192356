//! The raw layer never passes a multi-field struct by value, and every mlx-c
//! function that would has its shim. Both are read off the bindgen output of
//! the headers that were compiled (`OUT_DIR/bindings.rs` is what mlx-sys
//! exposes; `OUT_DIR/mlx_c_unfiltered.rs` is every mlx-c function).

use std::collections::BTreeSet;

const EXPOSED: &str = include_str!(concat!(env!("OUT_DIR"), "/bindings.rs"));
const UNFILTERED: &str = include_str!(concat!(env!("OUT_DIR"), "/mlx_c_unfiltered.rs"));

struct Bindings {
    /// Struct names with more than one field, and the type aliases to them.
    multi_field: BTreeSet<String>,
    /// Every foreign function: name, the type names it passes by value.
    functions: Vec<(String, Vec<String>)>,
}

fn parse(src: &str) -> Bindings {
    let file = syn::parse_file(src).expect("bindgen output parses");
    let mut multi_field = BTreeSet::new();
    let mut aliases = Vec::new();
    let mut functions = Vec::new();
    for item in &file.items {
        match item {
            syn::Item::Struct(s) if s.fields.len() > 1 => {
                multi_field.insert(s.ident.to_string());
            }
            syn::Item::Type(t) => {
                if let syn::Type::Path(p) = &*t.ty {
                    aliases.push((t.ident.to_string(), last_segment(&p.path)));
                }
            }
            syn::Item::Use(u) => {
                // bindgen writes `pub use self::mlx_x_ as mlx_x;`
                if let syn::UseTree::Path(p) = &u.tree {
                    if let syn::UseTree::Rename(r) = &*p.tree {
                        aliases.push((r.rename.to_string(), r.ident.to_string()));
                    }
                }
            }
            syn::Item::ForeignMod(m) => {
                for f in &m.items {
                    if let syn::ForeignItem::Fn(f) = f {
                        let mut by_value = Vec::new();
                        for input in &f.sig.inputs {
                            if let syn::FnArg::Typed(t) = input {
                                by_value.extend(value_type(&t.ty));
                            }
                        }
                        if let syn::ReturnType::Type(_, ty) = &f.sig.output {
                            by_value.extend(value_type(ty));
                        }
                        functions.push((f.sig.ident.to_string(), by_value));
                    }
                }
            }
            _ => {}
        }
    }
    // Resolve aliases until nothing changes.
    loop {
        let before = multi_field.len();
        for (alias, target) in &aliases {
            if multi_field.contains(target) {
                multi_field.insert(alias.clone());
            }
        }
        if multi_field.len() == before {
            break;
        }
    }
    Bindings {
        multi_field,
        functions,
    }
}

fn last_segment(path: &syn::Path) -> String {
    path.segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

/// The type name when `ty` is passed by value (not a pointer or reference).
fn value_type(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => Some(last_segment(&p.path)),
        _ => None,
    }
}

fn by_value_functions(b: &Bindings) -> BTreeSet<String> {
    b.functions
        .iter()
        .filter(|(_, types)| types.iter().any(|t| b.multi_field.contains(t)))
        .map(|(name, _)| name.clone())
        .collect()
}

#[test]
fn the_parser_sees_the_known_multi_field_structs() {
    // Guards the two tests below against passing vacuously.
    let all = parse(UNFILTERED);
    for s in [
        "mlx_optional_int",
        "mlx_optional_float",
        "mlx_optional_dtype",
        "mlx_io_vtable",
        "mlx_map_string_to_array_iterator",
        "mlx_map_string_to_string_iterator",
    ] {
        assert!(
            all.multi_field.contains(s),
            "{s} not recognised as multi-field"
        );
    }
    assert!(
        !all.multi_field.contains("mlx_array"),
        "mlx_array is a single pointer"
    );
    assert!(
        all.functions.len() > 400,
        "only {} functions parsed",
        all.functions.len()
    );
}

#[test]
fn no_exposed_function_passes_a_multi_field_struct_by_value() {
    let exposed = parse(EXPOSED);
    let offenders = by_value_functions(&exposed);
    assert!(
        offenders.is_empty(),
        "exposed with a by-value struct: {offenders:?}"
    );
}

#[test]
fn every_by_value_function_in_the_headers_has_a_shim() {
    let all = by_value_functions(&parse(UNFILTERED));
    let exposed: BTreeSet<String> = parse(EXPOSED)
        .functions
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let missing: Vec<String> = all
        .iter()
        .map(|f| format!("mlxs_{}", f.strip_prefix("mlx_").unwrap_or(f)))
        .filter(|shim| !exposed.contains(shim))
        .collect();
    assert!(
        missing.is_empty(),
        "by-value mlx-c functions without a shim: {missing:?}"
    );
    // The documented list is exactly what the headers have.
    let documented: BTreeSet<String> = mlx_sys::BY_VALUE_SHIMMED
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        all, documented,
        "BY_VALUE_SHIMMED disagrees with the headers"
    );
    assert_eq!(all.len(), 22);
}

#[test]
fn originals_are_not_exposed_but_their_shims_are() {
    let exposed: BTreeSet<String> = parse(EXPOSED)
        .functions
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    for f in mlx_sys::BY_VALUE_SHIMMED {
        assert!(!exposed.contains(f), "{f} is exposed");
        let shim = format!("mlxs_{}", f.strip_prefix("mlx_").unwrap());
        assert!(exposed.contains(&shim), "{shim} missing");
    }
}
