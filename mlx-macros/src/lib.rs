//! Procedural macros for mlx-rs.
//!
//! One derive, [`Module`](macro@Module), re-exported as
//! `mlx_rs::nn::Module` next to the trait of the same name. Use it from
//! there; this crate only generates code. [`c_alias`](macro@c_alias) is
//! the doc-alias helper of `mlx_rs`'s op macros.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    parse_macro_input, parse_quote, Attribute, Data, DeriveInput, Fields, GenericParam, LitStr,
    Path,
};

/// Derives `mlx_rs::nn::Module`: named traversal of the parameters (read
/// and mutable) and of the sub-modules of a model struct.
///
/// Every field is traversed and must implement `Module`: an `Array` (a
/// parameter), a layer, another derived struct, or `Option<T>`, `Vec<T>`,
/// `[T; N]` or `Box<T>` of those. Names are dotted paths as in MLX and
/// mlx-lm: `layers.0.self_attn.q_proj.weight`. A `None` contributes no
/// name; the elements of a `Vec` or array are named by their index.
///
/// Field attributes:
/// - `#[module(skip)]`: not traversed (hyper-parameters such as `eps`,
///   caches, anything that is not a parameter);
/// - `#[module(rename = "name")]`: the field's name in parameter paths;
/// - `#[module(buffer)]`: a parameter that is state, not trained (a batch
///   norm's running statistics): saved, loaded and counted like any other,
///   never in `trainable_parameters` nor differentiated (Python freezes
///   such arrays in the layer's constructor);
/// - `#[module(frozen)]` on one field of type `mlx_rs::nn::Frozen`: where
///   `freeze` / `unfreeze` keep the names they freeze for this module and
///   everything below it (not traversed).
///
/// Container attribute: `#[module(crate = path)]`, the path of the
/// `mlx_rs` crate (default `::mlx_rs`).
///
/// Enums are supported when every variant is a unit variant or holds
/// exactly one unnamed field; such a variant is transparent: its field is
/// traversed under the enum's own name (this is how a layer that is either
/// float or quantized is written).
///
/// Type parameters get a `Module` bound. Unit structs have no parameters.
///
/// Rejected, with a compile error that says why: unions, tuple structs
/// (parameters need names), enum variants with named fields or with more
/// than one field, `module` attributes on enum variants, lifetime
/// parameters (modules are `'static`), unknown keys, duplicate keys,
/// `skip` together with `rename`, a `rename` that is not a string, is empty
/// or contains `.`, two fields with the same name, and a field whose type
/// is not a `Module` (the message says to add `#[module(skip)]`).
#[proc_macro_derive(Module, attributes(module))]
pub fn derive_module(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// What a field's `#[module(...)]` attributes say.
#[derive(Default)]
struct FieldOptions {
    skip: bool,
    rename: Option<LitStr>,
    buffer: bool,
    frozen: bool,
}

fn container_crate(attrs: &[Attribute]) -> syn::Result<Path> {
    let mut krate: Option<Path> = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("module")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                if krate.is_some() {
                    return Err(meta.error("duplicate `crate` key"));
                }
                krate = Some(meta.value()?.parse::<Path>()?);
                Ok(())
            } else {
                Err(meta.error("unknown `module` attribute on a type; expected `crate = path`"))
            }
        })?;
    }
    Ok(krate.unwrap_or_else(|| parse_quote!(::mlx_rs)))
}

const SKIP_AND_RENAME: &str = "`skip` and `rename` cannot be combined: a skipped field has no name";

fn field_options(attrs: &[Attribute]) -> syn::Result<FieldOptions> {
    let mut opts = FieldOptions::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("module")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                if opts.skip {
                    return Err(meta.error("duplicate `skip`"));
                }
                if opts.rename.is_some() {
                    return Err(meta.error(SKIP_AND_RENAME));
                }
                opts.skip = true;
                Ok(())
            } else if meta.path.is_ident("rename") {
                if opts.rename.is_some() {
                    return Err(meta.error("duplicate `rename`"));
                }
                if opts.skip {
                    return Err(meta.error(SKIP_AND_RENAME));
                }
                let lit: LitStr = meta.value()?.parse()?;
                let name = lit.value();
                if name.is_empty() {
                    return Err(syn::Error::new(lit.span(), "the name must not be empty"));
                }
                if name.contains('.') {
                    return Err(syn::Error::new(
                        lit.span(),
                        "the name must not contain `.` (it separates path segments)",
                    ));
                }
                opts.rename = Some(lit);
                Ok(())
            } else if meta.path.is_ident("buffer") {
                if opts.buffer {
                    return Err(meta.error("duplicate `buffer`"));
                }
                opts.buffer = true;
                Ok(())
            } else if meta.path.is_ident("frozen") {
                if opts.frozen {
                    return Err(meta.error("duplicate `frozen`"));
                }
                opts.frozen = true;
                Ok(())
            } else {
                Err(meta.error(
                    "unknown `module` attribute on a field; expected `skip`, `rename = \"name\"`, \
                     `buffer` or `frozen`",
                ))
            }
        })?;
    }
    if opts.frozen && (opts.skip || opts.rename.is_some() || opts.buffer) {
        return Err(syn::Error::new(
            Span::call_site(),
            "`frozen` marks the field that holds the frozen names: it takes no other key",
        ));
    }
    if opts.buffer && opts.skip {
        return Err(syn::Error::new(
            Span::call_site(),
            "`buffer` and `skip` cannot be combined: a buffer is traversed",
        ));
    }
    Ok(opts)
}

fn expand(mut input: DeriveInput) -> syn::Result<TokenStream2> {
    let krate = container_crate(&input.attrs)?;
    let m = quote!(#krate::nn::Module);

    if let Some(lt) = input.generics.lifetimes().next() {
        return Err(syn::Error::new(
            lt.span(),
            "`Module` types must be `'static`; lifetime parameters are not supported",
        ));
    }
    // Every type parameter must itself be a module.
    for param in &mut input.generics.params {
        if let GenericParam::Type(t) = param {
            t.bounds.push(parse_quote!(#m));
        }
    }

    let mut extras = Extras::default();
    let (visit, visit_mut, modules, modules_mut) = match &input.data {
        Data::Struct(s) => {
            struct_bodies(&m, &quote!(#krate::nn::join_name), &s.fields, &mut extras)?
        }
        Data::Enum(e) => enum_bodies(&m, e)?,
        Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span,
                "`Module` cannot be derived for a union",
            ))
        }
    };

    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let array = quote!(#krate::Array);
    let result = quote!(#krate::Result);
    let mut optional = TokenStream2::new();
    if !extras.buffers.is_empty() {
        let names = &extras.buffers;
        optional.extend(quote! {
            fn local_buffers(&self) -> &'static [&'static str] {
                &[#(#names),*]
            }
        });
    }
    if let Some(field) = &extras.frozen {
        let frozen = quote!(#krate::nn::Frozen);
        optional.extend(quote! {
            fn frozen_store(&self) -> ::core::option::Option<&#frozen> {
                ::core::option::Option::Some(&self.#field)
            }

            fn frozen_store_mut(&mut self) -> ::core::option::Option<&mut #frozen> {
                ::core::option::Option::Some(&mut self.#field)
            }
        });
    }
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #m for #name #ty_generics #where_clause {
            fn visit_params<'__a>(
                &'__a self,
                prefix: &str,
                f: &mut dyn FnMut(&str, &'__a #array),
            ) {
                #visit
            }

            fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut #array)) {
                #visit_mut
            }

            fn visit_modules(
                &self,
                prefix: &str,
                f: &mut dyn FnMut(&str, &dyn #m) -> #result<()>,
            ) -> #result<()> {
                f(prefix, self)?;
                #modules
                Ok(())
            }

            fn visit_modules_mut(
                &mut self,
                prefix: &str,
                f: &mut dyn FnMut(&str, &mut dyn #m) -> #result<()>,
            ) -> #result<()> {
                f(prefix, self)?;
                #modules_mut
                Ok(())
            }

            fn as_any(&self) -> &dyn ::core::any::Any {
                self
            }

            fn as_any_mut(&mut self) -> &mut dyn ::core::any::Any {
                self
            }
            #optional
        }
    })
}

type Bodies = (TokenStream2, TokenStream2, TokenStream2, TokenStream2);

/// The optional methods a struct's field attributes ask for: its buffers'
/// names and its frozen-names field.
#[derive(Default)]
struct Extras {
    buffers: Vec<String>,
    frozen: Option<syn::Ident>,
}

fn struct_bodies(
    m: &TokenStream2,
    join: &TokenStream2,
    fields: &Fields,
    extras: &mut Extras,
) -> syn::Result<Bodies> {
    let named = match fields {
        Fields::Named(named) => named,
        Fields::Unit => return Ok(Default::default()),
        Fields::Unnamed(u) => {
            return Err(syn::Error::new(
                u.span(),
                "`Module` cannot be derived for a tuple struct: parameters need names; \
                 use named fields",
            ))
        }
    };
    let (mut visit, mut visit_mut, mut modules, mut modules_mut) = Bodies::default();
    let mut seen: Vec<(String, Span)> = Vec::new();
    for field in &named.named {
        let opts = field_options(&field.attrs)?;
        let ident = field.ident.as_ref().expect("named field");
        if opts.frozen {
            if extras.frozen.is_some() {
                return Err(syn::Error::new(
                    ident.span(),
                    "only one field can be `#[module(frozen)]`",
                ));
            }
            extras.frozen = Some(ident.clone());
            continue;
        }
        if opts.skip {
            continue;
        }
        let (key, span) = match &opts.rename {
            Some(lit) => (lit.value(), lit.span()),
            None => (
                ident.to_string().trim_start_matches("r#").to_owned(),
                ident.span(),
            ),
        };
        if seen.iter().any(|(k, _)| *k == key) {
            return Err(syn::Error::new(
                span,
                format!("two fields are named `{key}` in parameter paths"),
            ));
        }
        seen.push((key.clone(), span));
        if opts.buffer {
            extras.buffers.push(key.clone());
        }
        // `quote_spanned!` points a missing `Module` impl at the field type.
        let ty_span = field.ty.span();
        let name = quote_spanned!(ty_span=> &#join(prefix, #key));
        visit.extend(quote_spanned! {ty_span=>
            #m::visit_params(&self.#ident, #name, f);
        });
        visit_mut.extend(quote_spanned! {ty_span=>
            #m::visit_params_mut(&mut self.#ident, #name, f);
        });
        modules.extend(quote_spanned! {ty_span=>
            #m::visit_modules(&self.#ident, #name, f)?;
        });
        modules_mut.extend(quote_spanned! {ty_span=>
            #m::visit_modules_mut(&mut self.#ident, #name, f)?;
        });
    }
    Ok((visit, visit_mut, modules, modules_mut))
}

fn enum_bodies(m: &TokenStream2, e: &syn::DataEnum) -> syn::Result<Bodies> {
    let (mut visit, mut visit_mut, mut modules, mut modules_mut) = Bodies::default();
    for v in &e.variants {
        if let Some(attr) = v.attrs.iter().find(|a| a.path().is_ident("module")) {
            return Err(syn::Error::new(
                attr.span(),
                "`module` attributes are not supported on enum variants",
            ));
        }
        let ident = &v.ident;
        match &v.fields {
            Fields::Unit => {
                visit.extend(quote!(Self::#ident => {}));
                visit_mut.extend(quote!(Self::#ident => {}));
                modules.extend(quote!(Self::#ident => {}));
                modules_mut.extend(quote!(Self::#ident => {}));
            }
            Fields::Unnamed(u) if u.unnamed.len() == 1 => {
                let field = &u.unnamed[0];
                if let Some(attr) = field.attrs.iter().find(|a| a.path().is_ident("module")) {
                    return Err(syn::Error::new(
                        attr.span(),
                        "`module` attributes are not supported in enum variants",
                    ));
                }
                let s = field.ty.span();
                visit.extend(
                    quote_spanned!(s=> Self::#ident(inner) => #m::visit_params(inner, prefix, f),),
                );
                visit_mut
                    .extend(quote_spanned!(s=> Self::#ident(inner) => #m::visit_params_mut(inner, prefix, f),));
                modules.extend(quote_spanned!(s=> Self::#ident(inner) => #m::visit_modules(inner, prefix, f)?,));
                modules_mut.extend(
                    quote_spanned!(s=> Self::#ident(inner) => #m::visit_modules_mut(inner, prefix, f)?,),
                );
            }
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "`Module` enums need variants with exactly one unnamed field \
                     (`Variant(Layer)`) or none",
                ))
            }
        }
    }
    if e.variants.is_empty() {
        // No value of the type can exist: nothing to visit.
        return Ok(Bodies::default());
    }
    let wrap = |arms: TokenStream2| quote!(match self { #arms });
    let (visit, visit_mut) = (wrap(visit), wrap(visit_mut));
    let (modules, modules_mut) = (wrap(modules), wrap(modules_mut));
    Ok((visit, visit_mut, quote!(#modules;), quote!(#modules_mut;)))
}

/// `#[c_alias(mlx_add)]` (or `#[c_alias("mlx_add")]`): the item's
/// `#[doc(alias = "mlx_add")]`, for `mlx_rs`'s op macros, which take each C
/// function's name once, as the identifier they call, and derive the alias
/// from it (`macro_rules!` cannot turn an identifier into the string
/// literal that `doc(alias)` needs).
#[proc_macro_attribute]
pub fn c_alias(attr: TokenStream, item: TokenStream) -> TokenStream {
    let name = match syn::parse::<syn::Ident>(attr.clone()) {
        Ok(ident) => LitStr::new(&ident.to_string(), ident.span()),
        Err(_) => match syn::parse::<LitStr>(attr) {
            Ok(lit) => lit,
            Err(e) => return e.to_compile_error().into(),
        },
    };
    let item = TokenStream2::from(item);
    quote!(#[doc(alias = #name)] #item).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(input: DeriveInput) -> String {
        expand(input).unwrap().to_string()
    }

    /// The generated code, in full, for a struct: one plain call per field
    /// and method, nothing hidden (what `cargo expand` shows).
    #[test]
    fn struct_expansion_is_plain_calls() {
        let got = expand_str(parse_quote! {
            struct Block {
                norm: RmsNorm,
                #[module(rename = "proj")]
                layers: Vec<Linear>,
                #[module(skip)]
                eps: f32,
            }
        });
        let want = quote! {
            #[automatically_derived]
            impl ::mlx_rs::nn::Module for Block {
                fn visit_params<'__a>(
                    &'__a self,
                    prefix: &str,
                    f: &mut dyn FnMut(&str, &'__a ::mlx_rs::Array),
                ) {
                    ::mlx_rs::nn::Module::visit_params(&self.norm, &::mlx_rs::nn::join_name(prefix, "norm"), f);
                    ::mlx_rs::nn::Module::visit_params(&self.layers, &::mlx_rs::nn::join_name(prefix, "proj"), f);
                }

                fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut ::mlx_rs::Array)) {
                    ::mlx_rs::nn::Module::visit_params_mut(&mut self.norm, &::mlx_rs::nn::join_name(prefix, "norm"), f);
                    ::mlx_rs::nn::Module::visit_params_mut(&mut self.layers, &::mlx_rs::nn::join_name(prefix, "proj"), f);
                }

                fn visit_modules(
                    &self,
                    prefix: &str,
                    f: &mut dyn FnMut(&str, &dyn ::mlx_rs::nn::Module) -> ::mlx_rs::Result<()>,
                ) -> ::mlx_rs::Result<()> {
                    f(prefix, self)?;
                    ::mlx_rs::nn::Module::visit_modules(&self.norm, &::mlx_rs::nn::join_name(prefix, "norm"), f)?;
                    ::mlx_rs::nn::Module::visit_modules(&self.layers, &::mlx_rs::nn::join_name(prefix, "proj"), f)?;
                    Ok(())
                }

                fn visit_modules_mut(
                    &mut self,
                    prefix: &str,
                    f: &mut dyn FnMut(&str, &mut dyn ::mlx_rs::nn::Module) -> ::mlx_rs::Result<()>,
                ) -> ::mlx_rs::Result<()> {
                    f(prefix, self)?;
                    ::mlx_rs::nn::Module::visit_modules_mut(&mut self.norm, &::mlx_rs::nn::join_name(prefix, "norm"), f)?;
                    ::mlx_rs::nn::Module::visit_modules_mut(&mut self.layers, &::mlx_rs::nn::join_name(prefix, "proj"), f)?;
                    Ok(())
                }

                fn as_any(&self) -> &dyn ::core::any::Any {
                    self
                }

                fn as_any_mut(&mut self) -> &mut dyn ::core::any::Any {
                    self
                }
            }
        };
        assert_eq!(got, want.to_string());
    }

    /// Enum variants are transparent; type parameters get a `Module` bound;
    /// `crate = path` changes the path of the crate.
    #[test]
    fn enum_expansion_forwards_to_the_variant() {
        let got = expand_str(parse_quote! {
            #[module(crate = crate)]
            enum Either<F, Q> { Float(F), Quantized(Q), Empty }
        });
        assert!(got.contains("impl < F : crate :: nn :: Module , Q : crate :: nn :: Module > crate :: nn :: Module for Either < F , Q >"), "{got}");
        assert!(got.contains("match self { Self :: Float (inner) => crate :: nn :: Module :: visit_params (inner , prefix , f) , Self :: Quantized (inner) => crate :: nn :: Module :: visit_params (inner , prefix , f) , Self :: Empty => { } }"), "{got}");
        let empty = expand_str(parse_quote!(
            enum Never {}
        ));
        assert!(!empty.contains("match"), "{empty}");
    }

    #[test]
    fn unit_structs_and_raw_identifiers() {
        let unit = expand_str(parse_quote!(
            struct Nothing;
        ));
        assert!(unit.contains("fn visit_params"));
        let raw = expand_str(parse_quote!(
            struct S {
                r#type: Array,
            }
        ));
        assert!(raw.contains("join_name (prefix , \"type\")"), "{raw}");
    }

    /// Buffers and the frozen-names field add their methods (and only
    /// then); the frozen field is not traversed.
    #[test]
    fn buffers_and_the_frozen_field() {
        let got = expand_str(parse_quote! {
            struct Norm {
                weight: Array,
                #[module(buffer, rename = "running_mean")]
                mean: Array,
                #[module(frozen)]
                frozen: Frozen,
            }
        });
        assert!(
            got.contains(
                "fn local_buffers (& self) -> & 'static [& 'static str] { & [\"running_mean\"] }"
            ),
            "{got}"
        );
        assert!(got.contains("Some (& mut self . frozen)"), "{got}");
        assert!(!got.contains("visit_params (& self . frozen"), "{got}");
        let err = |input: DeriveInput| expand(input).unwrap_err().to_string();
        assert!(err(parse_quote!(
            struct S {
                #[module(frozen)]
                a: Frozen,
                #[module(frozen)]
                b: Frozen,
            }
        ))
        .contains("only one field"));
        assert!(err(parse_quote!(
            struct S {
                #[module(frozen, skip)]
                a: Frozen,
            }
        ))
        .contains("takes no other key"));
        assert!(err(parse_quote!(
            struct S {
                #[module(buffer, skip)]
                a: Array,
            }
        ))
        .contains("cannot be combined"));
    }

    #[test]
    fn misuse_messages() {
        let err = |input: DeriveInput| expand(input).unwrap_err().to_string();
        assert!(err(parse_quote!(
            struct P(Array);
        ))
        .contains("tuple struct"));
        assert!(err(parse_quote!(
            struct S {
                #[module(skip)]
                #[module(rename = "x")]
                a: A,
            }
        ))
        .contains("cannot be combined"));
        assert!(err(parse_quote!(
            struct S {
                #[module(skip, skip)]
                a: A,
            }
        ))
        .contains("duplicate `skip`"));
        assert!(err(parse_quote!(
            #[module(crate = a, crate = b)]
            struct S {}
        ))
        .contains("duplicate `crate`"));
        assert!(err(parse_quote!(
            enum E {
                A { x: X },
            }
        ))
        .contains("exactly one unnamed field"));
        assert!(err(parse_quote!(
            enum E {
                #[module(skip)]
                A(X),
            }
        ))
        .contains("not supported on enum variants"));
        assert!(err(parse_quote!(
            struct S {
                a: A,
                #[module(rename = "a")]
                b: B,
            }
        ))
        .contains("two fields are named `a`"));
    }
}
