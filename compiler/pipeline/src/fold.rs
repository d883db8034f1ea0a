//! Constant folding: evaluates nodes whose inputs are all known at compile time.
//!
//! Exporters emit shape arithmetic (`Shape → Gather → Unsqueeze → Concat → Reshape`), weight
//! pre-processing (`DequantizeLinear` of constant weights, `Cast`, `Transpose`) and `Constant`
//! nodes. Once input shapes are fixed all of that is constant, and folding it here keeps the
//! runtime's op set small. Values are computed in f64, which holds every i64 shape value and
//! gives correctly rounded f32 results for single arithmetic operations.

use crate::error::{CompileError, Result};
use mote_onnx::{Attrs, Tensor, TensorData};

/// Element kind of a folded value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// f32
    F32,
    /// i64
    I64,
    /// i32
    I32,
    /// i8
    I8,
    /// u8
    U8,
    /// bool
    Bool,
}

/// A constant during folding.
#[derive(Clone, Debug)]
pub struct Num {
    /// Shape.
    pub dims: Vec<usize>,
    /// Values.
    pub vals: Vec<f64>,
    /// Element kind.
    pub kind: Kind,
}

impl Num {
    /// From a tensor.
    pub fn from_tensor(t: &Tensor) -> Num {
        let (vals, kind): (Vec<f64>, Kind) = match &t.data {
            TensorData::F32(v) => (v.iter().map(|&x| x as f64).collect(), Kind::F32),
            TensorData::I64(v) => (v.iter().map(|&x| x as f64).collect(), Kind::I64),
            TensorData::I32(v) => (v.iter().map(|&x| x as f64).collect(), Kind::I32),
            TensorData::I8(v) => (v.iter().map(|&x| x as f64).collect(), Kind::I8),
            TensorData::U8(v) => (v.iter().map(|&x| x as f64).collect(), Kind::U8),
            TensorData::Bool(v) => (v.iter().map(|&x| x as u8 as f64).collect(), Kind::Bool),
        };
        Num {
            dims: t.dims.clone(),
            vals,
            kind,
        }
    }

    /// To a tensor.
    pub fn to_tensor(&self) -> Tensor {
        let dims = self.dims.clone();
        let data = match self.kind {
            Kind::F32 => TensorData::F32(self.vals.iter().map(|&x| x as f32).collect()),
            Kind::I64 => TensorData::I64(self.vals.iter().map(|&x| x as i64).collect()),
            Kind::I32 => TensorData::I32(self.vals.iter().map(|&x| x as i32).collect()),
            Kind::I8 => TensorData::I8(self.vals.iter().map(|&x| x as i8).collect()),
            Kind::U8 => TensorData::U8(self.vals.iter().map(|&x| x as u8).collect()),
            Kind::Bool => TensorData::Bool(self.vals.iter().map(|&x| x != 0.0).collect()),
        };
        Tensor { dims, data }
    }
}

/// Row-major strides.
pub fn strides(dims: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * dims[i + 1];
    }
    s
}

/// Numpy broadcast of two shapes.
pub fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let r = a.len().max(b.len());
    let mut out = vec![0; r];
    for i in 0..r {
        let da = if i + a.len() >= r {
            a[i + a.len() - r]
        } else {
            1
        };
        let db = if i + b.len() >= r {
            b[i + b.len() - r]
        } else {
            1
        };
        out[i] = if da == db {
            da
        } else if da == 1 {
            db
        } else if db == 1 {
            da
        } else {
            return None;
        };
    }
    Some(out)
}

/// Reads `src` (shape `dims`) broadcast to `out` shape, as a flat vector.
pub fn expand_to<T: Copy>(src: &[T], dims: &[usize], out: &[usize]) -> Vec<T> {
    let r = out.len();
    let pad = r - dims.len();
    let full: Vec<usize> = (0..r)
        .map(|i| if i < pad { 1 } else { dims[i - pad] })
        .collect();
    let st = strides(&full);
    let n: usize = out.iter().product();
    let mut res = Vec::with_capacity(n);
    let mut idx = vec![0usize; r];
    for _ in 0..n {
        let mut off = 0;
        for k in 0..r {
            if full[k] != 1 {
                off += idx[k] * st[k];
            }
        }
        res.push(src[off]);
        for k in (0..r).rev() {
            idx[k] += 1;
            if idx[k] < out[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    res
}

/// Permutes axes.
pub fn transpose_vals<T: Copy>(vals: &[T], dims: &[usize], perm: &[usize]) -> (Vec<T>, Vec<usize>) {
    let out_dims: Vec<usize> = perm.iter().map(|&p| dims[p]).collect();
    let st = strides(dims);
    let n: usize = dims.iter().product();
    let mut res = Vec::with_capacity(n);
    let r = dims.len();
    let mut idx = vec![0usize; r];
    for _ in 0..n {
        let off: usize = (0..r).map(|k| idx[k] * st[perm[k]]).sum();
        res.push(vals[off]);
        for k in (0..r).rev() {
            idx[k] += 1;
            if idx[k] < out_dims[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    (res, out_dims)
}

fn kind_of_onnx(to: i64) -> Option<Kind> {
    Some(match to {
        1 | 10 | 11 | 16 => Kind::F32,
        7 => Kind::I64,
        4..=6 => Kind::I32,
        3 => Kind::I8,
        2 => Kind::U8,
        9 => Kind::Bool,
        _ => return None,
    })
}

fn normalize_axis(axis: i64, rank: usize) -> Option<usize> {
    let a = if axis < 0 { axis + rank as i64 } else { axis };
    if a >= 0 && (a as usize) < rank.max(1) {
        Some(a as usize)
    } else {
        None
    }
}

/// Folds one node with all-constant inputs (`None` = absent optional input). Returns `None` if
/// the op is not one folding knows; the caller then treats the node as a runtime op.
pub fn fold(
    node: &mote_onnx::proto::NodeProto,
    inputs: &[Option<Num>],
    opset: i64,
) -> Result<Option<Vec<Num>>> {
    let op = node.op_type.as_deref().unwrap_or("");
    let name = node.name.as_deref().unwrap_or("");
    let attrs = Attrs::new(node);
    let bad = |msg: &str| CompileError::Invalid {
        node: name.to_string(),
        op: op.to_string(),
        msg: msg.to_string(),
    };
    let input = |i: usize| -> Result<&Num> {
        inputs
            .get(i)
            .and_then(|x| x.as_ref())
            .ok_or_else(|| bad(&format!("missing input {i}")))
    };
    let ints = |n: &Num| -> Vec<i64> { n.vals.iter().map(|&v| v as i64).collect() };
    let elementwise =
        |f: &dyn Fn(f64, f64) -> f64, out_kind: Option<Kind>| -> Result<Option<Vec<Num>>> {
            let a = input(0)?;
            let b = input(1)?;
            let dims = broadcast(&a.dims, &b.dims).ok_or_else(|| bad("shapes do not broadcast"))?;
            let av = expand_to(&a.vals, &a.dims, &dims);
            let bv = expand_to(&b.vals, &b.dims, &dims);
            let kind = out_kind.unwrap_or(a.kind);
            let int = !matches!(kind, Kind::F32);
            let vals = av
                .iter()
                .zip(bv.iter())
                .map(|(&x, &y)| {
                    let v = f(x, y);
                    if int && out_kind.is_none() {
                        v.trunc()
                    } else if kind == Kind::F32 {
                        v as f32 as f64
                    } else {
                        v
                    }
                })
                .collect();
            Ok(Some(vec![Num { dims, vals, kind }]))
        };
    let unary = |f: &dyn Fn(f64) -> f64| -> Result<Option<Vec<Num>>> {
        let a = input(0)?;
        let vals = a
            .vals
            .iter()
            .map(|&x| {
                let v = f(x);
                if a.kind == Kind::F32 {
                    v as f32 as f64
                } else {
                    v
                }
            })
            .collect();
        Ok(Some(vec![Num {
            dims: a.dims.clone(),
            vals,
            kind: a.kind,
        }]))
    };
    Ok(match op {
        "Identity" | "Dropout" => Some(vec![input(0)?.clone()]),
        "Add" => return elementwise(&|x, y| x + y, None),
        "Sub" => return elementwise(&|x, y| x - y, None),
        "Mul" => return elementwise(&|x, y| x * y, None),
        "Div" => {
            let a = input(0)?;
            if a.kind != Kind::F32 {
                return elementwise(&|x, y| if y == 0.0 { 0.0 } else { (x / y).trunc() }, None);
            }
            return elementwise(&|x, y| (x as f32 / y as f32) as f64, None);
        }
        "Pow" => return elementwise(&|x, y| (x as f32).powf(y as f32) as f64, None),
        "Max" if inputs.len() == 2 => return elementwise(&|x, y| x.max(y), None),
        "Min" if inputs.len() == 2 => return elementwise(&|x, y| x.min(y), None),
        "Equal" => return elementwise(&|x, y| (x == y) as u8 as f64, Some(Kind::Bool)),
        "Less" => return elementwise(&|x, y| (x < y) as u8 as f64, Some(Kind::Bool)),
        "Greater" => return elementwise(&|x, y| (x > y) as u8 as f64, Some(Kind::Bool)),
        "Neg" => return unary(&|x| -x),
        "Sqrt" => return unary(&|x| (x as f32).sqrt() as f64),
        "Reciprocal" => return unary(&|x| 1.0 / x),
        "Floor" => return unary(&f64::floor),
        "Ceil" => return unary(&f64::ceil),
        "Relu" => return unary(&|x| x.max(0.0)),
        "Not" => return unary(&|x| (x == 0.0) as u8 as f64),
        "Where" => {
            let c = input(0)?;
            let a = input(1)?;
            let b = input(2)?;
            let d1 = broadcast(&c.dims, &a.dims).ok_or_else(|| bad("shapes do not broadcast"))?;
            let dims = broadcast(&d1, &b.dims).ok_or_else(|| bad("shapes do not broadcast"))?;
            let cv = expand_to(&c.vals, &c.dims, &dims);
            let av = expand_to(&a.vals, &a.dims, &dims);
            let bv = expand_to(&b.vals, &b.dims, &dims);
            let vals = cv
                .iter()
                .zip(av.iter().zip(bv.iter()))
                .map(|(&c, (&x, &y))| if c != 0.0 { x } else { y })
                .collect();
            Some(vec![Num {
                dims,
                vals,
                kind: a.kind,
            }])
        }
        "Cast" => {
            let a = input(0)?;
            let to = attrs.int("to")?.ok_or_else(|| bad("Cast without 'to'"))?;
            let kind = kind_of_onnx(to).ok_or_else(|| bad("Cast to an unsupported type"))?;
            let vals = a
                .vals
                .iter()
                .map(|&x| match kind {
                    Kind::F32 => x as f32 as f64,
                    Kind::Bool => (x != 0.0) as u8 as f64,
                    _ => x.trunc(),
                })
                .collect();
            Some(vec![Num {
                dims: a.dims.clone(),
                vals,
                kind,
            }])
        }
        "Constant" => {
            if let Some(t) = attrs.tensor("value")? {
                Some(vec![Num::from_tensor(&t)])
            } else if let Some(v) = attrs.float("value_float")? {
                Some(vec![Num {
                    dims: vec![],
                    vals: vec![v as f64],
                    kind: Kind::F32,
                }])
            } else if let Some(v) = attrs.floats("value_floats")? {
                Some(vec![Num {
                    dims: vec![v.len()],
                    vals: v.iter().map(|&x| x as f64).collect(),
                    kind: Kind::F32,
                }])
            } else if let Some(v) = attrs.int("value_int")? {
                Some(vec![Num {
                    dims: vec![],
                    vals: vec![v as f64],
                    kind: Kind::I64,
                }])
            } else if let Some(v) = attrs.ints("value_ints")? {
                Some(vec![Num {
                    dims: vec![v.len()],
                    vals: v.iter().map(|&x| x as f64).collect(),
                    kind: Kind::I64,
                }])
            } else {
                return Err(bad("Constant without a supported value attribute"));
            }
        }
        "ConstantOfShape" => {
            let shape: Vec<usize> = ints(input(0)?).iter().map(|&d| d.max(0) as usize).collect();
            let n: usize = shape.iter().product();
            let (v, kind) = match attrs.tensor("value")? {
                Some(t) => {
                    let n = Num::from_tensor(&t);
                    (n.vals.first().copied().unwrap_or(0.0), n.kind)
                }
                None => (0.0, Kind::F32),
            };
            Some(vec![Num {
                dims: shape,
                vals: vec![v; n],
                kind,
            }])
        }
        "Range" => {
            let (s, l, d) = (input(0)?, input(1)?, input(2)?);
            let (s0, l0, d0) = (
                s.vals.first().copied().unwrap_or(0.0),
                l.vals.first().copied().unwrap_or(0.0),
                d.vals.first().copied().unwrap_or(1.0),
            );
            if d0 == 0.0 {
                return Err(bad("Range with delta 0"));
            }
            let n = ((l0 - s0) / d0).ceil().max(0.0) as usize;
            if n > 1 << 24 {
                return Err(bad("Range too long"));
            }
            Some(vec![Num {
                dims: vec![n],
                vals: (0..n).map(|i| s0 + i as f64 * d0).collect(),
                kind: s.kind,
            }])
        }
        "Shape" => {
            // Only reached when the input is constant; runtime inputs are handled by the importer.
            let a = input(0)?;
            let r = a.dims.len() as i64;
            let clampi = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
            let start = clampi(attrs.int_or("start", 0)?);
            let end = clampi(attrs.int_or("end", r)?);
            let v: Vec<f64> = a
                .dims
                .get(start..end.max(start))
                .unwrap_or(&[])
                .iter()
                .map(|&d| d as f64)
                .collect();
            Some(vec![Num {
                dims: vec![v.len()],
                vals: v,
                kind: Kind::I64,
            }])
        }
        "Size" => {
            let a = input(0)?;
            Some(vec![Num {
                dims: vec![],
                vals: vec![a.vals.len() as f64],
                kind: Kind::I64,
            }])
        }
        "Gather" => {
            let data = input(0)?;
            let idx = input(1)?;
            let r = data.dims.len();
            let axis = normalize_axis(attrs.int_or("axis", 0)?, r)
                .ok_or_else(|| bad("axis out of range"))?;
            let outer: usize = data.dims[..axis].iter().product();
            let inner: usize = data.dims[axis + 1..].iter().product();
            let len = data.dims[axis];
            let mut vals = Vec::new();
            for o in 0..outer {
                for &iv in &idx.vals {
                    let mut i = iv as i64;
                    if i < 0 {
                        i += len as i64;
                    }
                    if i < 0 || i as usize >= len {
                        return Err(bad("Gather index out of range"));
                    }
                    let base = (o * len + i as usize) * inner;
                    vals.extend_from_slice(&data.vals[base..base + inner]);
                }
            }
            let mut dims = data.dims[..axis].to_vec();
            dims.extend_from_slice(&idx.dims);
            dims.extend_from_slice(&data.dims[axis + 1..]);
            Some(vec![Num {
                dims,
                vals,
                kind: data.kind,
            }])
        }
        "Unsqueeze" | "Squeeze" | "Reshape" | "Flatten" => {
            let a = input(0)?;
            let second = inputs.get(1).and_then(|x| x.as_ref()).map(ints);
            let dims = crate::import::reshape_like(op, &a.dims, &attrs, second.as_deref(), opset)
                .map_err(|m| bad(&m))?;
            Some(vec![Num {
                dims,
                vals: a.vals.clone(),
                kind: a.kind,
            }])
        }
        "Concat" => {
            let first = input(0)?;
            let r = first.dims.len();
            let axis = normalize_axis(
                attrs
                    .int("axis")?
                    .ok_or_else(|| bad("Concat without axis"))?,
                r,
            )
            .ok_or_else(|| bad("axis out of range"))?;
            let parts: Vec<&Num> = inputs.iter().flatten().collect();
            let outer: usize = first.dims[..axis].iter().product();
            let mut dims = first.dims.clone();
            dims[axis] = parts
                .iter()
                .map(|p| p.dims.get(axis).copied().unwrap_or(0))
                .sum();
            let mut vals = Vec::new();
            for o in 0..outer {
                for p in &parts {
                    if p.dims.len() != r {
                        return Err(bad("Concat inputs of different ranks"));
                    }
                    let blk: usize = p.dims[axis..].iter().product();
                    vals.extend_from_slice(&p.vals[o * blk..(o + 1) * blk]);
                }
            }
            Some(vec![Num {
                dims,
                vals,
                kind: first.kind,
            }])
        }
        "Transpose" => {
            let a = input(0)?;
            let r = a.dims.len();
            let perm: Vec<usize> = match attrs.ints("perm")? {
                Some(p) => p.iter().map(|&x| x as usize).collect(),
                None => (0..r).rev().collect(),
            };
            let (vals, dims) = transpose_vals(&a.vals, &a.dims, &perm);
            Some(vec![Num {
                dims,
                vals,
                kind: a.kind,
            }])
        }
        "Slice" => {
            let a = input(0)?;
            let spec = crate::import::slice_spec(
                node,
                &a.dims,
                inputs
                    .get(1..)
                    .unwrap_or(&[])
                    .iter()
                    .map(|x| x.as_ref().map(ints))
                    .collect(),
                opset,
            )?;
            let mut vals = Vec::new();
            let st = strides(&a.dims);
            let n: usize = spec.out_dims.iter().product();
            let r = a.dims.len();
            let mut idx = vec![0usize; r];
            for _ in 0..n {
                let off: i64 = (0..r)
                    .map(|k| (spec.starts[k] + idx[k] as i64 * spec.steps[k]) * st[k] as i64)
                    .sum();
                vals.push(a.vals[off as usize]);
                for k in (0..r).rev() {
                    idx[k] += 1;
                    if idx[k] < spec.out_dims[k] {
                        break;
                    }
                    idx[k] = 0;
                }
            }
            Some(vec![Num {
                dims: spec.out_dims,
                vals,
                kind: a.kind,
            }])
        }
        "Expand" => {
            let a = input(0)?;
            let shape: Vec<usize> = ints(input(1)?).iter().map(|&d| d.max(0) as usize).collect();
            let dims = broadcast(&a.dims, &shape).ok_or_else(|| bad("shapes do not broadcast"))?;
            Some(vec![Num {
                vals: expand_to(&a.vals, &a.dims, &dims),
                dims,
                kind: a.kind,
            }])
        }
        "DequantizeLinear" => {
            let x = input(0)?;
            let scale = input(1)?;
            let zp = inputs.get(2).and_then(|z| z.as_ref());
            let r = x.dims.len();
            let axis = normalize_axis(attrs.int_or("axis", 1)?, r.max(1)).unwrap_or(0);
            let per_axis = scale.vals.len() > 1;
            let inner: usize = if per_axis {
                x.dims[axis + 1..].iter().product()
            } else {
                1
            };
            let len = if per_axis { x.dims[axis] } else { 1 };
            let vals = x
                .vals
                .iter()
                .enumerate()
                .map(|(i, &q)| {
                    let c = if per_axis { (i / inner) % len } else { 0 };
                    let s = scale.vals.get(c).copied().unwrap_or(1.0) as f32;
                    let z = zp.and_then(|z| z.vals.get(c).copied()).unwrap_or(0.0) as f32;
                    ((q as f32 - z) * s) as f64
                })
                .collect();
            Some(vec![Num {
                dims: x.dims.clone(),
                vals,
                kind: Kind::F32,
            }])
        }
        _ => None,
    })
}
