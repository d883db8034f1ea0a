//! Host-side dense tensors and their conversion from/to `TensorProto`.

use crate::proto::tensor_proto::{DataLocation, DataType};
use crate::proto::TensorProto;
use crate::OnnxError;

/// A host-side dense tensor value (row-major, ONNX logical order).
///
/// The constructors do not check that `dims` matches the data length;
/// [`tensor_from_proto`] always produces consistent tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// Shape; empty for a scalar.
    pub dims: Vec<usize>,
    /// Element values, `dims.iter().product()` of them.
    pub data: TensorData,
}

/// Element storage of a [`Tensor`].
///
/// ONNX types without a variant of their own are widened on decode: DOUBLE,
/// FLOAT16 and BFLOAT16 become `F32`; INT16 and UINT16 become `I32`.
#[derive(Clone, Debug, PartialEq)]
pub enum TensorData {
    /// 32-bit floats (ONNX FLOAT; also DOUBLE, FLOAT16, BFLOAT16 converted).
    F32(Vec<f32>),
    /// ONNX INT64.
    I64(Vec<i64>),
    /// ONNX INT32 (also INT16, UINT16 widened).
    I32(Vec<i32>),
    /// ONNX INT8.
    I8(Vec<i8>),
    /// ONNX UINT8.
    U8(Vec<u8>),
    /// ONNX BOOL.
    Bool(Vec<bool>),
}

impl Tensor {
    /// An `F32` tensor.
    pub fn f32(dims: Vec<usize>, data: Vec<f32>) -> Self {
        Tensor {
            dims,
            data: TensorData::F32(data),
        }
    }

    /// An `I64` tensor.
    pub fn i64(dims: Vec<usize>, data: Vec<i64>) -> Self {
        Tensor {
            dims,
            data: TensorData::I64(data),
        }
    }

    /// Number of elements held.
    pub fn len(&self) -> usize {
        match &self.data {
            TensorData::F32(v) => v.len(),
            TensorData::I64(v) => v.len(),
            TensorData::I32(v) => v.len(),
            TensorData::I8(v) => v.len(),
            TensorData::U8(v) => v.len(),
            TensorData::Bool(v) => v.len(),
        }
    }

    /// True if the tensor holds no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Short element type name: `f32`, `i64`, `i32`, `i8`, `u8` or `bool`.
    pub fn dtype_name(&self) -> &'static str {
        match &self.data {
            TensorData::F32(_) => "f32",
            TensorData::I64(_) => "i64",
            TensorData::I32(_) => "i32",
            TensorData::I8(_) => "i8",
            TensorData::U8(_) => "u8",
            TensorData::Bool(_) => "bool",
        }
    }

    /// The values, if this is an `F32` tensor.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            TensorData::F32(v) => Some(v),
            _ => None,
        }
    }

    /// The values, if this is an `I64` tensor.
    pub fn as_i64(&self) -> Option<&[i64]> {
        match &self.data {
            TensorData::I64(v) => Some(v),
            _ => None,
        }
    }

    /// Values as i64 for any integer/bool dtype (for shapes, axes, indices);
    /// `None` for `F32`.
    pub fn to_i64_vec(&self) -> Option<Vec<i64>> {
        Some(match &self.data {
            TensorData::F32(_) => return None,
            TensorData::I64(v) => v.clone(),
            TensorData::I32(v) => v.iter().map(|&x| i64::from(x)).collect(),
            TensorData::I8(v) => v.iter().map(|&x| i64::from(x)).collect(),
            TensorData::U8(v) => v.iter().map(|&x| i64::from(x)).collect(),
            TensorData::Bool(v) => v.iter().map(|&x| i64::from(x)).collect(),
        })
    }

    /// Values converted to f32 for any dtype (bool → 0.0/1.0; large i64/i32
    /// values round to the nearest f32).
    pub fn to_f32_vec(&self) -> Vec<f32> {
        match &self.data {
            TensorData::F32(v) => v.clone(),
            TensorData::I64(v) => v.iter().map(|&x| x as f32).collect(),
            TensorData::I32(v) => v.iter().map(|&x| x as f32).collect(),
            TensorData::I8(v) => v.iter().map(|&x| f32::from(x)).collect(),
            TensorData::U8(v) => v.iter().map(|&x| f32::from(x)).collect(),
            TensorData::Bool(v) => v.iter().map(|&x| f32::from(u8::from(x))).collect(),
        }
    }
}

/// Name used in error messages.
fn display_name(t: &TensorProto) -> String {
    match t.name.as_deref() {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => "<unnamed>".to_string(),
    }
}

/// Decode a `TensorProto` into a [`Tensor`].
///
/// Values come from `raw_data` (fixed-width little-endian) when present,
/// otherwise from the typed repeated field the ONNX spec assigns to the data
/// type: `float_data` (FLOAT), `double_data` (DOUBLE), `int64_data` (INT64),
/// or `int32_data` (INT32, INT16, UINT16, INT8, UINT8, BOOL, and the bit
/// patterns of FLOAT16/BFLOAT16). Conversions: DOUBLE, FLOAT16, BFLOAT16 →
/// `F32`; INT16, UINT16 → `I32`.
///
/// Errors (never panics): external or segmented data, negative dims, element
/// count overflow or mismatch with the product of `dims`, more than one value
/// field set, `int32_data` values outside the element type's range, and
/// unsupported element types (STRING, complex, UINT32/64, 8/6/4/2-bit types).
pub fn tensor_from_proto(t: &TensorProto) -> Result<Tensor, OnnxError> {
    decode(t).map_err(|msg| OnnxError::Tensor {
        name: display_name(t),
        msg,
    })
}

fn decode(t: &TensorProto) -> Result<Tensor, String> {
    let location = t.data_location.unwrap_or(DataLocation::Default as i32);
    if location == DataLocation::External as i32 || !t.external_data.is_empty() {
        return Err(
            "data is stored externally (data_location=EXTERNAL), which is not \
                    supported; save the model with all tensors embedded"
                .into(),
        );
    }
    if location != DataLocation::Default as i32 {
        return Err(format!("unknown data_location {location}"));
    }
    if t.segment.is_some() {
        return Err("segmented tensors are not supported".into());
    }

    let mut dims = Vec::with_capacity(t.dims.len().min(64));
    for &d in &t.dims {
        let d = usize::try_from(d)
            .map_err(|_| format!("invalid dimension {d} in dims {:?}", t.dims))?;
        dims.push(d);
    }
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| format!("element count of dims {:?} overflows", t.dims))?;

    let value_fields = [
        ("raw_data", t.raw_data.is_some()),
        ("float_data", !t.float_data.is_empty()),
        ("int32_data", !t.int32_data.is_empty()),
        ("string_data", !t.string_data.is_empty()),
        ("int64_data", !t.int64_data.is_empty()),
        ("double_data", !t.double_data.is_empty()),
        ("uint64_data", !t.uint64_data.is_empty()),
    ];
    let set: Vec<&str> = value_fields.iter().filter(|f| f.1).map(|f| f.0).collect();
    if set.len() > 1 {
        return Err(format!(
            "more than one value field is set: {}",
            set.join(", ")
        ));
    }

    let code = t.data_type.unwrap_or(0);
    let dt = DataType::try_from(code).map_err(|_| format!("unknown data type code {code}"))?;
    let raw = t.raw_data.as_deref();
    let ctx = Ctx {
        count,
        dims: &t.dims,
        dtype: dt.as_str_name(),
    };

    let data = match dt {
        DataType::Float => TensorData::F32(match raw {
            Some(r) => ctx.raw::<4, _>(r, f32::from_le_bytes)?,
            None => ctx.typed(&t.float_data, "float_data")?.to_vec(),
        }),
        DataType::Double => TensorData::F32(match raw {
            Some(r) => ctx.raw::<8, _>(r, |b| f64::from_le_bytes(b) as f32)?,
            None => ctx
                .typed(&t.double_data, "double_data")?
                .iter()
                .map(|&x| x as f32)
                .collect(),
        }),
        DataType::Float16 => TensorData::F32(match raw {
            Some(r) => ctx.raw::<2, _>(r, |b| f16_to_f32(u16::from_le_bytes(b)))?,
            None => ctx
                .int32_as::<u16>(t)?
                .into_iter()
                .map(f16_to_f32)
                .collect(),
        }),
        DataType::Bfloat16 => TensorData::F32(match raw {
            Some(r) => ctx.raw::<2, _>(r, |b| bf16_to_f32(u16::from_le_bytes(b)))?,
            None => ctx
                .int32_as::<u16>(t)?
                .into_iter()
                .map(bf16_to_f32)
                .collect(),
        }),
        DataType::Int64 => TensorData::I64(match raw {
            Some(r) => ctx.raw::<8, _>(r, i64::from_le_bytes)?,
            None => ctx.typed(&t.int64_data, "int64_data")?.to_vec(),
        }),
        DataType::Int32 => TensorData::I32(match raw {
            Some(r) => ctx.raw::<4, _>(r, i32::from_le_bytes)?,
            None => ctx.typed(&t.int32_data, "int32_data")?.to_vec(),
        }),
        DataType::Int16 => TensorData::I32(match raw {
            Some(r) => ctx.raw::<2, _>(r, |b| i32::from(i16::from_le_bytes(b)))?,
            None => ctx.int32_as::<i16>(t)?.into_iter().map(i32::from).collect(),
        }),
        DataType::Uint16 => TensorData::I32(match raw {
            Some(r) => ctx.raw::<2, _>(r, |b| i32::from(u16::from_le_bytes(b)))?,
            None => ctx.int32_as::<u16>(t)?.into_iter().map(i32::from).collect(),
        }),
        DataType::Int8 => TensorData::I8(match raw {
            Some(r) => ctx.raw::<1, _>(r, i8::from_le_bytes)?,
            None => ctx.int32_as::<i8>(t)?,
        }),
        DataType::Uint8 => TensorData::U8(match raw {
            Some(r) => ctx.raw::<1, _>(r, u8::from_le_bytes)?,
            None => ctx.int32_as::<u8>(t)?,
        }),
        DataType::Bool => TensorData::Bool(match raw {
            Some(r) => ctx.raw::<1, _>(r, |[b]| b != 0)?,
            None => ctx
                .typed(&t.int32_data, "int32_data")?
                .iter()
                .map(|&x| x != 0)
                .collect(),
        }),
        DataType::Undefined => return Err("data_type is missing (UNDEFINED)".into()),
        DataType::String => return Err("STRING tensors are not supported".into()),
        other => return Err(format!("unsupported data type {}", other.as_str_name())),
    };
    Ok(Tensor { dims, data })
}

/// Shared context for checking one tensor's value field.
struct Ctx<'a> {
    count: usize,
    dims: &'a [i64],
    dtype: &'static str,
}

impl Ctx<'_> {
    /// Decode `raw_data` as `count` little-endian values of `N` bytes each.
    fn raw<const N: usize, T>(
        &self,
        raw: &[u8],
        f: impl Fn([u8; N]) -> T,
    ) -> Result<Vec<T>, String> {
        let expected = self.count.checked_mul(N);
        if expected != Some(raw.len()) {
            return Err(format!(
                "{} raw_data has {} bytes, but dims {:?} need {} elements of {} bytes",
                self.dtype,
                raw.len(),
                self.dims,
                self.count,
                N
            ));
        }
        Ok(raw
            .chunks_exact(N)
            .map(|c| {
                let mut b = [0u8; N];
                b.copy_from_slice(c);
                f(b)
            })
            .collect())
    }

    /// Check a typed repeated field's length against the element count.
    fn typed<'v, T>(&self, values: &'v [T], field: &str) -> Result<&'v [T], String> {
        if values.len() != self.count {
            return Err(format!(
                "{} tensor has {} values in {} (and no raw_data), but dims {:?} need {}",
                self.dtype,
                values.len(),
                field,
                self.dims,
                self.count
            ));
        }
        Ok(values)
    }

    /// `int32_data` narrowed to `T`, each value range-checked.
    fn int32_as<T: TryFrom<i32>>(&self, t: &TensorProto) -> Result<Vec<T>, String> {
        self.typed(&t.int32_data, "int32_data")?
            .iter()
            .map(|&x| {
                T::try_from(x)
                    .map_err(|_| format!("int32_data value {x} is out of range for {}", self.dtype))
            })
            .collect()
    }
}

/// IEEE 754 binary16 → f32 (exact).
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let mant = u32::from(h & 0x3ff);
    let bits = match exp {
        0 if mant == 0 => sign,
        0 => {
            // Subnormal: mant × 2^-24, exactly representable in f32.
            let v = mant as f32 * (1.0 / 16_777_216.0);
            return if sign != 0 { -v } else { v };
        }
        0x1f => sign | 0x7f80_0000 | (mant << 13),
        _ => sign | ((exp + 112) << 23) | (mant << 13),
    };
    f32::from_bits(bits)
}

/// bfloat16 → f32 (exact).
fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits(u32::from(h) << 16)
}

/// Encode a [`Tensor`] as a `TensorProto` named `name`, using `raw_data`.
///
/// `F32` → FLOAT, `I64` → INT64, `I32` → INT32, `I8` → INT8, `U8` → UINT8,
/// `Bool` → BOOL. [`tensor_from_proto`] inverts this exactly.
pub fn tensor_to_proto(name: &str, t: &Tensor) -> TensorProto {
    let (dtype, raw) = match &t.data {
        TensorData::F32(v) => (
            DataType::Float,
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
        TensorData::I64(v) => (
            DataType::Int64,
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
        TensorData::I32(v) => (
            DataType::Int32,
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
        TensorData::I8(v) => (
            DataType::Int8,
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
        TensorData::U8(v) => (DataType::Uint8, v.clone()),
        TensorData::Bool(v) => (DataType::Bool, v.iter().map(|&b| u8::from(b)).collect()),
    };
    TensorProto {
        dims: t
            .dims
            .iter()
            .map(|&d| i64::try_from(d).unwrap_or(i64::MAX))
            .collect(),
        data_type: Some(dtype as i32),
        name: Some(name.to_string()),
        raw_data: Some(raw),
        ..Default::default()
    }
}
