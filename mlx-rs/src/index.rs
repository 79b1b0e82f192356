//! Indexing and indexed updates, with Python MLX's semantics.
//!
//! An index is one [`Index`] or a tuple of things that convert into one:
//! an `i32` (selects and removes an axis; negative counts from the end),
//! a range (`1..3`, `..`, `2..`, `..=4`), a [`Slice`] for steps
//! (`Slice::from(..).step(-1)` is Python's `::-1`), [`NewAxis`] (Python's
//! `None`), [`Ellipsis`] (`...`), or an integer `Array` (advanced, gather
//! indexing with NumPy's rules for where the indexed axes go).
//!
//! ```
//! use mlx_rs::index::{Ellipsis, NewAxis, Slice};
//! use mlx_rs::{Array, Dtype};
//! let a = Array::arange(0.0, 24.0, 1.0, Dtype::Int32)?.reshape(&[2, 3, 4])?;
//! assert_eq!(a.index(1)?.shape(), &[3, 4]);
//! assert_eq!(a.index((.., 1..3, Slice::from(..).step(2)))?.shape(), &[2, 2, 2]);
//! assert_eq!(a.index((Ellipsis, NewAxis, -1))?.shape(), &[2, 3, 1]);
//! let idx = Array::from_slice(&[2i32, 0], &[2])?;
//! assert_eq!(a.index((0, &idx))?.to_vec::<i32>()?, [8, 9, 10, 11, 0, 1, 2, 3]);
//!
//! // Updates return a new array (arrays are immutable values).
//! let b = a.index_put((0, 0), 100)?;
//! assert_eq!(b.index((0, 0))?.to_vec::<i32>()?, [100; 4]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```
//!
//! All indices are bounds-checked, and an out-of-range one is an
//! [`Error::InvalidIndex`]. MLX itself does not check gather and scatter
//! indices (an out-of-range value reads or writes outside the array), so
//! an index *array* is evaluated and its values checked when it is used;
//! the array being indexed stays lazy.

use std::ops::{Range, RangeFrom, RangeFull, RangeInclusive, RangeTo, RangeToInclusive};

use crate::error::{Error, Result};
use crate::ops::indexing::{gather_unchecked, scatter_unchecked, take_axis_unchecked};
use crate::ops::support::check_indices;
use crate::ops::{Operand, Update};
use crate::{Array, Dtype, Stream};

/// A Python-style slice `start:stop:step`; `None` parts take NumPy's
/// defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Slice {
    /// First index (negative counts from the end).
    pub start: Option<i32>,
    /// One past the last index (negative counts from the end).
    pub stop: Option<i32>,
    /// Step; `None` is 1. Must not be 0.
    pub step: Option<i32>,
}

impl Slice {
    /// `start:stop:step`.
    pub fn new(start: Option<i32>, stop: Option<i32>, step: Option<i32>) -> Self {
        Slice { start, stop, step }
    }

    /// The same slice with step `step`.
    pub fn step(self, step: i32) -> Self {
        Slice {
            step: Some(step),
            ..self
        }
    }

    fn is_full(&self) -> bool {
        self.start.is_none() && self.stop.is_none() && self.step.is_none()
    }

    /// NumPy's defaults for the missing parts (`get_slice_params`).
    fn params(&self, size: i32) -> (i32, i32, i32) {
        let step = self.step.unwrap_or(1);
        let start = self.start.unwrap_or(if step < 0 { size - 1 } else { 0 });
        let stop = self.stop.unwrap_or(if step < 0 { -size - 1 } else { size });
        (start, stop, step)
    }

    /// Start and stop made absolute and clamped to the axis, as NumPy's
    /// `slice.indices` does (so gathers never leave the axis).
    fn absolute(&self, size: i32) -> (i32, i32, i32) {
        let (start, stop, step) = self.params(size);
        let fix = |v: i32| {
            let v = if v < 0 { v + size } else { v };
            if step > 0 {
                v.clamp(0, size)
            } else {
                v.clamp(-1, size - 1)
            }
        };
        (fix(start), fix(stop), step)
    }

    fn len(&self, size: i32) -> i32 {
        let (start, stop, step) = self.absolute(size);
        if step > 0 {
            ((stop - start + step - 1) / step).max(0)
        } else {
            ((start - stop - step - 1) / -step).max(0)
        }
    }
}

impl From<Range<i32>> for Slice {
    fn from(r: Range<i32>) -> Self {
        Slice::new(Some(r.start), Some(r.end), None)
    }
}
impl From<RangeFrom<i32>> for Slice {
    fn from(r: RangeFrom<i32>) -> Self {
        Slice::new(Some(r.start), None, None)
    }
}
impl From<RangeTo<i32>> for Slice {
    fn from(r: RangeTo<i32>) -> Self {
        Slice::new(None, Some(r.end), None)
    }
}
impl From<RangeFull> for Slice {
    fn from(_: RangeFull) -> Self {
        Slice::default()
    }
}
/// `a..=b`; `..=-1` reaches the end of the axis.
impl From<RangeInclusive<i32>> for Slice {
    fn from(r: RangeInclusive<i32>) -> Self {
        let stop = r.end().checked_add(1).filter(|&e| e != 0);
        Slice::new(Some(*r.start()), stop, None)
    }
}
/// `..=b`; `..=-1` reaches the end of the axis.
impl From<RangeToInclusive<i32>> for Slice {
    fn from(r: RangeToInclusive<i32>) -> Self {
        let stop = r.end.checked_add(1).filter(|&e| e != 0);
        Slice::new(None, stop, None)
    }
}

/// Python's `None` in an index: inserts an axis of size 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewAxis;

/// Python's `...` in an index: as many full slices as needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ellipsis;

/// One component of an index expression.
#[derive(Debug, Clone)]
pub enum Index {
    /// A single position; removes the axis.
    Int(i32),
    /// A slice of the axis.
    Slice(Slice),
    /// A new axis of size 1.
    NewAxis,
    /// Full slices for all the axes not otherwise indexed.
    Ellipsis,
    /// An integer array of positions (advanced indexing).
    Array(Array),
}

impl From<i32> for Index {
    fn from(i: i32) -> Self {
        Index::Int(i)
    }
}
impl From<Slice> for Index {
    fn from(s: Slice) -> Self {
        Index::Slice(s)
    }
}
impl From<NewAxis> for Index {
    fn from(_: NewAxis) -> Self {
        Index::NewAxis
    }
}
impl From<Ellipsis> for Index {
    fn from(_: Ellipsis) -> Self {
        Index::Ellipsis
    }
}
impl From<Array> for Index {
    fn from(a: Array) -> Self {
        Index::Array(a)
    }
}
impl From<&Array> for Index {
    /// A cheap clone of the handle.
    fn from(a: &Array) -> Self {
        Index::Array(a.clone())
    }
}

/// Something usable as a whole index expression: one index component or a
/// tuple of them (Python's `a[x]` and `a[x, y, ...]`).
pub trait IntoIndices {
    /// The components, and whether they were a tuple (which matters only
    /// for MLX's choice of code path, not for results).
    fn into_indices(self) -> (Vec<Index>, bool);
}

macro_rules! single {
    ($($t:ty),*) => {$(
        impl IntoIndices for $t {
            fn into_indices(self) -> (Vec<Index>, bool) {
                (vec![Index::from(self)], false)
            }
        }
    )*};
}
single!(i32, Slice, NewAxis, Ellipsis, Array, &Array, Index);

/// The ranges: an index component each (a slice), and an index.
macro_rules! range_index {
    ($($t:ty),*) => {
        $(
            impl From<$t> for Index {
                fn from(r: $t) -> Self {
                    Index::Slice(Slice::from(r))
                }
            }
        )*
        single!($($t),*);
    };
}
range_index!(
    Range<i32>,
    RangeFrom<i32>,
    RangeTo<i32>,
    RangeFull,
    RangeInclusive<i32>,
    RangeToInclusive<i32>
);

impl IntoIndices for Vec<Index> {
    fn into_indices(self) -> (Vec<Index>, bool) {
        (self, true)
    }
}

impl IntoIndices for &[Index] {
    fn into_indices(self) -> (Vec<Index>, bool) {
        (self.to_vec(), true)
    }
}

macro_rules! tuple {
    ($($n:ident),+) => {
        impl<$($n: Into<Index>),+> IntoIndices for ($($n,)+) {
            #[allow(non_snake_case)]
            fn into_indices(self) -> (Vec<Index>, bool) {
                let ($($n,)+) = self;
                (vec![$($n.into()),+], true)
            }
        }
    };
}
tuple!(A);
tuple!(A, B);
tuple!(A, B, C);
tuple!(A, B, C, D);
tuple!(A, B, C, D, E);
tuple!(A, B, C, D, E, F);
tuple!(A, B, C, D, E, F, G);
tuple!(A, B, C, D, E, F, G, H);

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidIndex {
        op: "index",
        reason: reason.into(),
    }
}

/// The stream indexing runs on.
struct Ops<'s> {
    s: &'s Stream,
}

impl Ops<'_> {
    fn arange(&self, start: i32, stop: i32, step: i32) -> Result<Array> {
        Array::arange_on(
            f64::from(start),
            f64::from(stop),
            f64::from(step),
            Dtype::Uint32,
            self.s,
        )
    }
}

/// The start, stop and stride of every axis, as `mlx_slice` takes them.
struct Bounds {
    start: Vec<i32>,
    stop: Vec<i32>,
    strides: Vec<i32>,
}

impl Bounds {
    /// Every axis of `shape`, whole.
    fn full(shape: &[i32]) -> Self {
        Bounds {
            start: vec![0; shape.len()],
            stop: shape.to_vec(),
            strides: vec![1; shape.len()],
        }
    }

    /// Axis `ax`, of size `size`, cut to `sl`.
    fn slice(&mut self, ax: usize, sl: &Slice, size: i32) {
        (self.start[ax], self.stop[ax], self.strides[ax]) = sl.params(size);
    }

    /// Axis `ax` cut to the one position `at` (already absolute).
    fn at(&mut self, ax: usize, at: i32) {
        self.start[ax] = at;
        self.stop[ax] = at + 1;
    }

    /// The slice of `a`.
    fn of(&self, ops: &Ops<'_>, a: &Array) -> Result<Array> {
        crate::ops::slice_on(a, &self.start, &self.stop, &self.strides, ops.s)
    }

    /// `src` with `upd` written into the slice.
    fn update(&self, ops: &Ops<'_>, src: &Array, upd: &Array) -> Result<Array> {
        let (start, stop, strides) = (&self.start, &self.stop, &self.strides);
        crate::ops::slice_update_on(src, upd, start, stop, strides, Update::Set, ops.s)
    }
}

/// `idx` made absolute on an axis of `size` (negative counts from the end).
fn abs_index(idx: i32, size: i32) -> Result<i32> {
    let abs = if idx < 0 { idx + size } else { idx };
    if abs < 0 || abs >= size {
        return Err(invalid(format!(
            "index {idx} is out of bounds for an axis of size {size}"
        )));
    }
    Ok(abs)
}

/// `idx` made absolute on an axis of `size`, as a `uint32` scalar.
fn int_index(idx: i32, size: i32) -> Result<Array> {
    Array::scalar(abs_index(idx, size)? as u32)
}

/// Refuses an integer or array index into a 0-dimensional array.
fn check_not_scalar(a: &Array) -> Result<()> {
    if a.ndim() == 0 {
        return Err(invalid(
            "too many indices for array: array is 0-dimensional",
        ));
    }
    Ok(())
}

fn check_step(indices: &[Index]) -> Result<()> {
    for i in indices {
        if let Index::Slice(Slice { step: Some(0), .. }) = i {
            return Err(invalid("slice step cannot be zero"));
        }
        if let Index::Array(a) = i {
            if a.dtype() == Dtype::Bool {
                return Err(invalid("boolean indices are not supported"));
            }
        }
    }
    Ok(())
}

/// Python's `mlx_expand_ellipsis`: returns the number of non-`NewAxis`
/// components and the components with the ellipsis replaced by slices.
/// Refuses more components than `shape` has axes.
fn expand_ellipsis(shape: &[i32], entries: Vec<Index>) -> Result<(usize, Vec<Index>)> {
    let count = |v: &[Index]| v.iter().filter(|e| !matches!(e, Index::NewAxis)).count();
    let (n, out) = match entries.iter().position(|e| matches!(e, Index::Ellipsis)) {
        None => (count(&entries), entries),
        Some(pos) => {
            let mut before = entries;
            let after = before.split_off(pos + 1);
            before.pop();
            if after.iter().any(|e| matches!(e, Index::Ellipsis)) {
                return Err(invalid("an index can only have a single ellipsis"));
            }
            let (nb, na) = (count(&before), count(&after));
            let mut out = before;
            let mut n = nb + na;
            for &size in shape.iter().take(shape.len().saturating_sub(na)).skip(nb) {
                out.push(Index::Slice(Slice::new(Some(0), Some(size), Some(1))));
                n += 1;
            }
            out.extend(after);
            (n, out)
        }
    };
    if n > shape.len() {
        return Err(invalid(format!(
            "too many indices for array with {} dimensions",
            shape.len()
        )));
    }
    Ok((n, out))
}

fn is_gather(i: &Index) -> bool {
    matches!(i, Index::Int(_) | Index::Array(_))
}

fn full() -> Index {
    Index::Slice(Slice::default())
}

/// Leading size-1 dimensions removed (how MLX fits an update to a target).
fn strip_leading_ones(ops: &Ops<'_>, a: &Array) -> Result<Array> {
    let shape = a.shape();
    let s = shape.iter().take_while(|&&d| d == 1).count();
    if s == 0 {
        return Ok(a.clone());
    }
    a.reshape_on(&shape[s..], ops.s)
}

/// NumPy broadcasting of several shapes.
fn broadcast_shapes(shapes: &[Vec<i32>]) -> Result<Vec<i32>> {
    let n = shapes.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = vec![1; n];
    for s in shapes {
        for (o, &d) in out[n - s.len()..].iter_mut().zip(s) {
            if *o == 1 {
                *o = d;
            } else if d != 1 && d != *o {
                return Err(invalid(format!(
                    "index arrays of shapes {shapes:?} cannot be broadcast together"
                )));
            }
        }
    }
    Ok(out)
}

impl Array {
    /// Indexes the array like Python MLX's `a[...]` (see the [module
    /// docs](crate::index)).
    ///
    /// # Errors
    /// [`Error::InvalidIndex`] for too many indices, a second ellipsis, a
    /// zero step, an out-of-bounds integer or index-array value, or a
    /// `bool` index array;
    /// [`Error::Mlx`] if MLX rejects the resulting operation (e.g. index
    /// arrays that do not broadcast).
    #[doc(alias = "mlx_slice")]
    #[doc(alias = "mlx_gather")]
    #[doc(alias = "mlx_take_axis")]
    pub fn index(&self, index: impl IntoIndices) -> Result<Array> {
        self.index_on(index, &Stream::current()?)
    }

    /// [`Array::index`] on an explicit stream.
    ///
    /// # Errors
    /// As [`Array::index`].
    #[doc(alias = "mlx_slice")]
    #[doc(alias = "mlx_gather")]
    #[doc(alias = "mlx_take_axis")]
    pub fn index_on(&self, index: impl IntoIndices, stream: &Stream) -> Result<Array> {
        let ops = Ops { s: stream };
        let (indices, tuple) = index.into_indices();
        check_step(&indices)?;
        if !tuple && indices.len() == 1 {
            if !matches!(indices[0], Index::NewAxis | Index::Ellipsis) {
                check_not_scalar(self)?;
            }
            let size = self.shape().first().copied().unwrap_or(0);
            let idx = match &indices[0] {
                Index::Slice(sl) if sl.is_full() => return Ok(self.clone()),
                Index::Slice(sl) => {
                    let mut b = Bounds::full(self.shape());
                    b.slice(0, sl, size);
                    return b.of(&ops, self);
                }
                Index::Array(idx) => check_indices("mlx_take_axis", idx, i64::from(size), ops.s)?
                    .or(idx)
                    .clone(),
                Index::Int(i) => int_index(*i, size)?,
                _ => return self.get_item_nd(&ops, indices),
            };
            // SAFETY: `idx` was checked against axis 0 just above (clamped
            // into range when traced), or made from an index checked by
            // `int_index`.
            return unsafe { take_axis_unchecked(self, &idx, 0, ops.s) };
        }
        self.get_item_nd(&ops, indices)
    }

    /// Python's `mlx_gather_nd`: gathers over the leading `indices`.
    fn gather_nd(
        &self,
        ops: &Ops<'_>,
        indices: &[Index],
        gather_first: bool,
    ) -> Result<(Array, usize)> {
        let shape = self.shape();
        let mut max_dims = 0usize;
        let mut num_slices = 0usize;
        let mut gathers = Vec::with_capacity(indices.len());
        let mut is_slice = Vec::with_capacity(indices.len());
        for (i, idx) in indices.iter().enumerate() {
            match idx {
                Index::Slice(sl) => {
                    let (start, stop, step) = sl.absolute(shape[i]);
                    gathers.push(ops.arange(start, stop, step)?);
                    num_slices += 1;
                    is_slice.push(true);
                }
                Index::Int(v) => {
                    gathers.push(int_index(*v, shape[i])?);
                    is_slice.push(false);
                }
                Index::Array(a) => {
                    let checked = check_indices("mlx_gather", a, i64::from(shape[i]), ops.s)?;
                    max_dims = max_dims.max(a.ndim());
                    gathers.push(checked.or(a).clone());
                    is_slice.push(false);
                }
                Index::NewAxis | Index::Ellipsis => {
                    return Err(invalid("unexpected component in gather"));
                }
            }
        }
        let rank = max_dims + num_slices;
        if gather_first {
            let mut slice_index = 0;
            for (g, &sl) in gathers.iter_mut().zip(&is_slice) {
                if sl {
                    let mut s = vec![1; rank];
                    s[max_dims + slice_index] = g.shape()[0];
                    *g = g.reshape_on(&s, ops.s)?;
                    slice_index += 1;
                } else {
                    let mut s = g.shape().to_vec();
                    s.extend(std::iter::repeat_n(1, num_slices));
                    *g = g.reshape_on(&s, ops.s)?;
                }
            }
        } else {
            for (i, g) in gathers.iter_mut().enumerate().take(num_slices) {
                let mut s = vec![1; rank];
                s[i] = g.shape()[0];
                *g = g.reshape_on(&s, ops.s)?;
            }
        }
        let axes: Vec<i32> = (0..indices.len() as i32).collect();
        let mut sizes = shape.to_vec();
        for s in sizes.iter_mut().take(indices.len()) {
            *s = 1;
        }
        let gathers: Vec<&Array> = gathers.iter().collect();
        // SAFETY: every index is in range for its axis: arrays were checked
        // above, integers by `int_index`, and the ranges of slices are
        // clamped to their axes (`Slice::absolute`).
        let out = unsafe { gather_unchecked(self, &gathers, &axes, &sizes, ops.s) }?;
        let oshape = out.shape();
        let mut new_shape = oshape[..rank].to_vec();
        new_shape.extend_from_slice(&oshape[rank + indices.len()..]);
        Ok((out.reshape_on(&new_shape, ops.s)?, max_dims))
    }

    /// Python's `mlx_get_item_nd`.
    fn get_item_nd(&self, ops: &Ops<'_>, entries: Vec<Index>) -> Result<Array> {
        if entries.is_empty() {
            return Ok(self.clone());
        }
        let (_, indices) = expand_ellipsis(self.shape(), entries)?;

        let mut src = self.clone();
        let mut remaining: Vec<Index> = Vec::new();
        let mut have_array = false;
        {
            let mut have_non_array = false;
            let mut gather_first = false;
            for idx in &indices {
                if is_gather(idx) {
                    if have_array && have_non_array {
                        gather_first = true;
                        break;
                    }
                    have_array = true;
                } else {
                    have_non_array |= have_array;
                }
            }
            have_array &= indices.iter().any(|i| matches!(i, Index::Array(_)));
            if have_array {
                let last = indices.iter().rposition(is_gather).unwrap_or(0);
                let gather_indices: Vec<Index> = indices[..=last]
                    .iter()
                    .filter(|i| !matches!(i, Index::NewAxis))
                    .cloned()
                    .collect();
                let (out, max_dims) = src.gather_nd(ops, &gather_indices, gather_first)?;
                src = out;
                if gather_first {
                    remaining.extend((0..max_dims).map(|_| full()));
                    for idx in &indices[..last] {
                        match idx {
                            Index::NewAxis => remaining.push(Index::NewAxis),
                            Index::Slice(_) => remaining.push(full()),
                            _ => {}
                        }
                    }
                } else {
                    for idx in &indices {
                        if is_gather(idx) {
                            break;
                        } else if matches!(idx, Index::NewAxis) {
                            remaining.push(Index::NewAxis);
                        } else {
                            remaining.push(full());
                        }
                    }
                    remaining.extend((0..max_dims).map(|_| full()));
                }
                remaining.extend(indices[last + 1..].iter().cloned());
            }
        }
        if have_array && remaining.is_empty() {
            return Ok(src);
        }
        if remaining.is_empty() {
            remaining = indices;
        }

        let mut squeeze = false;
        let mut unsqueeze = false;
        let shape = src.shape().to_vec();
        let mut bounds = Bounds::full(&shape);
        let mut axis = 0;
        for idx in &remaining {
            match idx {
                Index::NewAxis => unsqueeze = true,
                Index::Int(i) if !have_array => {
                    bounds.at(axis, abs_index(*i, shape[axis])?);
                    squeeze = true;
                    axis += 1;
                }
                Index::Slice(sl) => {
                    bounds.slice(axis, sl, shape[axis]);
                    axis += 1;
                }
                _ => return Err(invalid("unexpected component after gather")),
            }
        }
        src = bounds.of(ops, &src)?;

        if squeeze || unsqueeze {
            let sshape = src.shape().to_vec();
            let mut out = Vec::new();
            let mut axis = 0;
            for idx in &remaining {
                match idx {
                    Index::NewAxis => out.push(1),
                    Index::Int(_) => axis += 1,
                    _ => {
                        out.push(sshape[axis]);
                        axis += 1;
                    }
                }
            }
            out.extend_from_slice(&sshape[axis..]);
            src = src.reshape_on(&out, ops.s)?;
        }
        Ok(src)
    }

    /// A copy of the array with `self[index] = value`, like Python MLX's
    /// item assignment (the array itself is not changed; arrays are values).
    ///
    /// `value` may be an array (broadcast to the indexed region) or a
    /// weakly typed scalar; it is converted to the array's dtype.
    ///
    /// ```
    /// use mlx_rs::index::Slice;
    /// use mlx_rs::Array;
    /// let a = Array::zeros(&[2, 4], mlx_rs::Dtype::Float32)?;
    /// let b = a.index_put((.., Slice::from(..).step(2)), 1.5)?;
    /// assert_eq!(b.to_vec::<f32>()?, [1.5, 0.0, 1.5, 0.0, 1.5, 0.0, 1.5, 0.0]);
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Array::index`]; [`Error::ScalarOverflow`] for a scalar that
    /// does not fit the dtype; [`Error::Mlx`] when the value does not
    /// broadcast to the indexed region.
    #[doc(alias = "mlx_slice_update")]
    #[doc(alias = "mlx_scatter")]
    pub fn index_put<'v>(
        &self,
        index: impl IntoIndices,
        value: impl Into<Operand<'v>>,
    ) -> Result<Array> {
        self.index_put_on(index, value, &Stream::current()?)
    }

    /// [`Array::index_put`] on an explicit stream.
    ///
    /// # Errors
    /// As [`Array::index_put`].
    #[doc(alias = "mlx_slice_update")]
    #[doc(alias = "mlx_scatter")]
    pub fn index_put_on<'v>(
        &self,
        index: impl IntoIndices,
        value: impl Into<Operand<'v>>,
        stream: &Stream,
    ) -> Result<Array> {
        let ops = Ops { s: stream };
        let (mut indices, mut tuple) = index.into_indices();
        check_step(&indices)?;
        let value = match value.into() {
            Operand::Scalar(s) => s.to_array(Some(self.dtype()))?,
            Operand::Ref(a) => a.clone(),
            Operand::Owned(a) => a,
        };
        if !tuple && matches!(indices.first(), Some(Index::Ellipsis)) {
            // Python rejects a bare `...` here; treat it as `(...,)`.
            tuple = true;
        }
        if let Some(out) = self.slice_update_route(&ops, &indices, tuple, &value)? {
            return Ok(out);
        }
        let (idx, upd, axes) = if !tuple && indices.len() == 1 {
            match indices.remove(0) {
                Index::Int(i) => self.scatter_args_int(&ops, i, &value)?,
                Index::Array(a) => self.scatter_args_array(&ops, &a, &value)?,
                Index::NewAxis => (
                    Vec::new(),
                    value.broadcast_to_on(self.shape(), ops.s)?,
                    Vec::new(),
                ),
                _ => return Err(invalid("cannot index a 0-dimensional array")),
            }
        } else {
            self.scatter_args_nd(&ops, indices, &value)?
        };
        if idx.is_empty() {
            Ok(upd)
        } else {
            let idx: Vec<&Array> = idx.iter().collect();
            // SAFETY: the `scatter_args_*` functions return only indices in
            // range for their axes: checked arrays, integers checked by
            // `int_index`, and ranges clamped to their axes.
            unsafe { scatter_unchecked(self, &idx, &upd, &axes, Update::Set, ops.s) }
        }
    }

    /// Python's `mlx_slice_update`: `Some` when the update is a plain
    /// slice update (no array indices).
    fn slice_update_route(
        &self,
        ops: &Ops<'_>,
        indices: &[Index],
        tuple: bool,
        value: &Array,
    ) -> Result<Option<Array>> {
        let single_slice = !tuple && matches!(indices, [Index::Slice(_)]);
        if self.ndim() == 0 || !(tuple || single_slice) {
            return Ok(None);
        }
        let shape = self.shape().to_vec();
        let mut up = strip_leading_ones(ops, value)?;
        if up.ndim() == 0 {
            up = up.reshape_on(&[1], ops.s)?;
        }
        let mut bounds = Bounds::full(&shape);
        if let (false, [Index::Slice(sl)]) = (tuple, indices) {
            bounds.slice(0, sl, shape[0]);
            return bounds.update(ops, self, &up).map(Some);
        }
        if indices.iter().any(|i| matches!(i, Index::Array(_))) {
            return Ok(None);
        }
        let (non_none, indices) = expand_ellipsis(&shape, indices.to_vec())?;
        if non_none == 0 {
            return up.broadcast_to_on(&shape, ops.s).map(Some);
        }
        let ndim = shape.len() as i32;
        // Axes (by position) indexed by an integer: they vanish from the
        // indexed view, so the update gets a size-1 axis there when it is
        // long enough to reach it (NumPy semantics, as MLX 0.32's Python
        // binding does).
        let int_axes: Vec<usize> = indices
            .iter()
            .filter(|i| !matches!(i, Index::NewAxis))
            .enumerate()
            .filter(|(_, i)| matches!(i, Index::Int(_)))
            .map(|(ax, _)| ax)
            .collect();
        let mut expand = Vec::new();
        let mut ax = 0usize;
        for idx in &indices {
            match idx {
                Index::Slice(sl) => {
                    bounds.slice(ax, sl, shape[ax]);
                    ax += 1;
                }
                Index::Int(i) => {
                    bounds.at(ax, abs_index(*i, shape[ax])?);
                    let ints_after = int_axes.iter().filter(|&&a| a > ax).count();
                    let kept_after = shape.len() - ax - 1 - ints_after;
                    if up.ndim() > kept_after {
                        expand.push(ax as i32 - ndim);
                    }
                    ax += 1;
                }
                _ => {}
            }
        }
        if !expand.is_empty() {
            up = up.expand_dims_on(&expand, ops.s)?;
        }
        bounds.update(ops, self, &up).map(Some)
    }

    fn scatter_args_int(
        &self,
        ops: &Ops<'_>,
        i: i32,
        value: &Array,
    ) -> Result<(Vec<Array>, Array, Vec<i32>)> {
        check_not_scalar(self)?;
        let up = strip_leading_ones(ops, value)?;
        let mut shape = self.shape().to_vec();
        shape[0] = 1;
        Ok((
            vec![int_index(i, self.shape()[0])?],
            up.broadcast_to_on(&shape, ops.s)?,
            vec![0],
        ))
    }

    fn scatter_args_array(
        &self,
        ops: &Ops<'_>,
        indices: &Array,
        value: &Array,
    ) -> Result<(Vec<Array>, Array, Vec<i32>)> {
        check_not_scalar(self)?;
        let checked = check_indices("mlx_scatter", indices, i64::from(self.shape()[0]), ops.s)?;
        let indices = checked.or(indices);
        let up = strip_leading_ones(ops, value)?;
        let mut up_shape = indices.shape().to_vec();
        up_shape.extend_from_slice(&self.shape()[1..]);
        let up = up.broadcast_to_on(&up_shape, ops.s)?;
        up_shape.insert(indices.ndim(), 1);
        let up = up.reshape_on(&up_shape, ops.s)?;
        Ok((vec![indices.clone()], up, vec![0]))
    }

    /// Python's `mlx_scatter_args_nd`.
    fn scatter_args_nd(
        &self,
        ops: &Ops<'_>,
        entries: Vec<Index>,
        value: &Array,
    ) -> Result<(Vec<Array>, Array, Vec<i32>)> {
        let shape = self.shape().to_vec();
        let (non_none, indices) = expand_ellipsis(&shape, entries)?;
        let up = strip_leading_ones(ops, value)?;
        if non_none == 0 {
            return Ok((Vec::new(), up.broadcast_to_on(&shape, ops.s)?, Vec::new()));
        }

        let mut max_dim = 0usize;
        let mut arrays_first = false;
        let (mut num_none, mut num_slices, mut num_arrays) = (0usize, 0usize, 0usize);
        let (mut num_strided, mut num_simple_post) = (0i32, 0usize);
        {
            let (mut have_array, mut have_non_array) = (false, false);
            for idx in &indices {
                match idx {
                    Index::NewAxis => {
                        have_non_array = have_array;
                        num_none += 1;
                    }
                    Index::Slice(sl) => {
                        have_non_array = have_array;
                        num_slices += 1;
                        let stride = sl.step.unwrap_or(1);
                        num_strided += i32::from(stride != 1);
                        num_simple_post += usize::from(stride == 1);
                    }
                    Index::Array(a) => {
                        have_array = true;
                        if have_non_array {
                            arrays_first = true;
                        }
                        max_dim = max_dim.max(a.ndim());
                        num_arrays += 1;
                        num_simple_post = 0;
                    }
                    _ => {}
                }
            }
        }
        let mut idx_ndim = max_dim + num_none + num_slices - num_simple_post;
        if idx_ndim == 0 {
            idx_ndim = 1;
        }

        let mut arr_indices = Vec::new();
        let (mut slice_num, mut array_num, mut ax) = (0usize, 0usize, 0usize);
        let mut update_shape = vec![1; non_none];
        let mut slice_shapes = Vec::new();
        for idx in &indices {
            match idx {
                Index::Slice(sl) => {
                    let size = shape[ax];
                    ax += 1;
                    let (start, stop, step) = sl.absolute(size);
                    let mut idx_shape = vec![1; idx_ndim];
                    if array_num >= num_arrays && num_strided <= 0 && step == 1 {
                        let len = sl.len(size);
                        arr_indices.push(Array::from_slice(&[start as u32], &idx_shape)?);
                        slice_shapes.push(len);
                        update_shape[ax - 1] = len;
                    } else {
                        let r = ops.arange(start, stop, step)?;
                        let loc = slice_num + if arrays_first { max_dim } else { 0 };
                        idx_shape[loc] = r.size() as i32;
                        arr_indices.push(r.reshape_on(&idx_shape, ops.s)?);
                        slice_num += 1;
                        num_strided -= 1;
                        update_shape[ax - 1] = 1;
                    }
                }
                Index::Int(i) => {
                    arr_indices.push(int_index(*i, shape[ax])?);
                    ax += 1;
                    update_shape[ax - 1] = 1;
                }
                Index::NewAxis => slice_num += 1,
                Index::Array(a) => {
                    let checked = check_indices("mlx_scatter", a, i64::from(shape[ax]), ops.s)?;
                    let a = checked.or(a);
                    ax += 1;
                    let mut idx_shape = vec![1; idx_ndim];
                    let st = if arrays_first { 0 } else { slice_num } + max_dim - a.ndim();
                    idx_shape[st..st + a.ndim()].copy_from_slice(a.shape());
                    arr_indices.push(a.reshape_on(&idx_shape, ops.s)?);
                    if !arrays_first {
                        array_num += 1;
                        if array_num == num_arrays {
                            slice_num += max_dim;
                        }
                    }
                    update_shape[ax - 1] = 1;
                }
                Index::Ellipsis => return Err(invalid("an index can only have a single ellipsis")),
            }
        }

        let shapes: Vec<Vec<i32>> = arr_indices.iter().map(|a| a.shape().to_vec()).collect();
        let bshape = broadcast_shapes(&shapes)?;
        let arr_indices = arr_indices
            .iter()
            .map(|a| a.broadcast_to_on(&bshape, ops.s))
            .collect::<Result<Vec<_>>>()?;

        let tail = &shape[non_none..];
        let mut up_b = bshape.clone();
        up_b.extend_from_slice(&slice_shapes);
        up_b.extend_from_slice(tail);
        let up = up.broadcast_to_on(&up_b, ops.s)?;
        let mut up_r = bshape;
        up_r.extend_from_slice(&update_shape);
        up_r.extend_from_slice(tail);
        let up = up.reshape_on(&up_r, ops.s)?;
        let axes: Vec<i32> = (0..arr_indices.len() as i32).collect();
        Ok((arr_indices, up, axes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_lengths_follow_numpy() {
        let s = |a, b, c| Slice::new(a, b, c);
        assert_eq!(s(None, None, None).len(5), 5);
        assert_eq!(s(Some(1), Some(4), Some(2)).len(5), 2);
        assert_eq!(s(None, None, Some(-1)).len(5), 5);
        assert_eq!(s(Some(-2), None, None).len(5), 2);
        assert_eq!(s(Some(10), Some(20), None).len(5), 0);
        assert_eq!(Slice::from(..=-1).stop, None);
        assert_eq!(Slice::from(1..=2).stop, Some(3));
    }

    #[test]
    fn broadcast_shapes_follows_numpy() {
        assert_eq!(
            broadcast_shapes(&[vec![2, 1], vec![3]]).unwrap(),
            vec![2, 3]
        );
        assert!(broadcast_shapes(&[vec![2], vec![3]]).is_err());
    }
}
