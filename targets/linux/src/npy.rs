//! `.npy` files: model inputs in, model outputs out.
//!
//! An input file must have exactly the dtype and shape of the model input it feeds (C order;
//! either byte order). The header is checked before any data is read, so a header that claims
//! a huge array cannot make the CLI allocate it.

use crate::error::{Classify, ExitKind, Failure, Result};
use crate::fail;
use mote_format::DType;
use npyz::{TypeChar, WriterBuilder};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

/// What an input must look like.
#[derive(Clone, Debug)]
pub struct Expected<'a> {
    /// Input name (for messages).
    pub name: &'a str,
    /// Element type.
    pub dtype: DType,
    /// Shape.
    pub shape: &'a [usize],
}

fn describe(dtype: &npyz::DType) -> String {
    match dtype {
        npyz::DType::Plain(t) => {
            let bits = t.size_field() * 8;
            match t.type_char() {
                TypeChar::Float => format!("float{bits}"),
                TypeChar::Int => format!("int{bits}"),
                TypeChar::Uint => format!("uint{bits}"),
                TypeChar::Bool => "bool".into(),
                _ => format!("'{t}'"),
            }
        }
        other => format!("{other:?}"),
    }
}

fn matches(dtype: &npyz::DType, want: DType) -> bool {
    let npyz::DType::Plain(t) = dtype else {
        return false;
    };
    let (c, size) = match want {
        DType::F32 => (TypeChar::Float, 4),
        DType::I8 => (TypeChar::Int, 1),
        DType::U8 => (TypeChar::Uint, 1),
        DType::I32 => (TypeChar::Int, 4),
    };
    t.type_char() == c && t.size_field() == size
}

/// Formats a shape as `[1, 3, 224, 224]`.
pub fn shape_str<T: std::fmt::Display>(s: &[T]) -> String {
    format!(
        "[{}]",
        s.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Longest `.npy` header accepted (numpy's own reader refuses more than 10,000 bytes by
/// default; its writer pads headers to 64 bytes).
pub const MAX_HEADER_LEN: usize = 65_536;

/// Deepest bracket nesting accepted in a `.npy` header. A plain array's header nests two deep
/// (`{... 'shape': (1, 96, 96, 3)}`), a structured dtype's list of field tuples with sub-array
/// shapes four; npyz's backtracking parser takes seconds from about 12 levels (fuzzer find: 14
/// levels of `{` timed out the npy target at 30 s under ASan), so 4 is the bound.
pub const MAX_HEADER_NESTING: usize = 4;

/// Most elements (as a power of two) a `.npy` header's shape may claim.
pub const MAX_SHAPE_BITS: u32 = 48;

/// Whether any tuple following a `shape` in the header multiplies (its nonzero entries) to more
/// than 2^[`MAX_SHAPE_BITS`] elements. npyz multiplies the shape in 64 bits without a check (its
/// element count and strides): a panic in builds with overflow checks, a wrapped count
/// otherwise (fuzzer find: `'shape': (17830657899684750220, 4)`). Every occurrence is checked,
/// so a structured dtype's field named `shape` cannot hide the array's shape.
fn shape_too_large(header: &[u8]) -> bool {
    let limit = 1u128 << MAX_SHAPE_BITS;
    let mut from = 0;
    while let Some(at) = header
        .get(from..)
        .and_then(|h| h.windows(5).position(|w| w == b"shape"))
    {
        let start = from + at + 5;
        from = start;
        let Some(rest) = header.get(start..) else {
            break;
        };
        let Some(open) = rest.iter().position(|&c| c == b'(' || c == b'[') else {
            continue;
        };
        let (mut product, mut number) = (1u128, None::<u128>);
        for &c in rest.iter().skip(open + 1) {
            if c.is_ascii_digit() {
                let n = number.unwrap_or(0);
                number = Some(n.saturating_mul(10).saturating_add(u128::from(c - b'0')));
                continue;
            }
            if let Some(n) = number.take().filter(|&n| n != 0) {
                product = product.saturating_mul(n);
            }
            if c == b')' || c == b']' {
                break;
            }
        }
        if product > limit {
            return true;
        }
    }
    false
}

/// The header length a `.npy` prefix (magic, version, length field) states, if it is one.
fn header_len(prefix: &[u8]) -> Option<usize> {
    if prefix.get(..6)? != b"\x93NUMPY" {
        return None;
    }
    match prefix.get(6)? {
        1 => Some(u16::from_le_bytes(prefix.get(8..10)?.try_into().ok()?) as usize),
        _ => Some(u32::from_le_bytes(prefix.get(8..12)?.try_into().ok()?) as usize),
    }
}

/// Reads `path`, checking it against `want`; returns the little-endian bytes of the elements.
///
/// # Errors
/// Exit 5 if the file cannot be opened, exit 4 if it is not a valid `.npy` or its dtype or shape
/// differ from `want`.
pub fn read_input(path: &Path, want: &Expected<'_>) -> Result<Vec<u8>> {
    let f = File::open(path).or_fail_with(ExitKind::Io, || format!("{}", path.display()))?;
    parse_input(BufReader::new(f), &path.display().to_string(), want)
}

/// Parses a `.npy` stream (the contents of a file named `source`, for messages), checking it
/// against `want`; returns the little-endian bytes of the elements. The header's dtype and shape
/// are compared with `want` before any data is read, so what is allocated is bounded by `want`,
/// whatever the header claims.
///
/// # Errors
/// Exit 4 if it is not a valid `.npy`, its dtype or shape differ from `want`, or the data is
/// short; exit 3 if `want` itself is too large to address.
pub fn parse_input<R: Read>(mut reader: R, source: &str, want: &Expected<'_>) -> Result<Vec<u8>> {
    // npyz allocates the header's stated length before reading it (up to 4 GiB in format
    // versions 2 and 3): check the length first, then hand npyz the prefix again.
    let mut prefix = [0u8; 12];
    let mut got = 0;
    while let Some(rest) = prefix.get_mut(got..).filter(|r| !r.is_empty()) {
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => fail!(ExitKind::Io, "{source}: cannot read: {e}"),
        }
    }
    let prefix = prefix.get(..got).unwrap_or_default();
    if let Some(len) = header_len(prefix) {
        if len > MAX_HEADER_LEN {
            fail!(
                ExitKind::Input,
                "{source}: not a valid .npy file (its header claims {len} bytes; numpy writes at most {MAX_HEADER_LEN})"
            );
        }
    }
    // npyz parses the header with a backtracking grammar that takes exponential time on deeply
    // nested brackets (fuzzer find: `{{{{...` ran for minutes); numpy headers nest a few deep.
    let header_len = header_len(prefix).unwrap_or(0);
    let mut header = Vec::new();
    (&mut reader)
        .take(header_len as u64)
        .read_to_end(&mut header)
        .or_fail_with(ExitKind::Io, || format!("{source}: cannot read"))?;
    let mut depth = 0usize;
    for &c in &header {
        match c {
            b'{' | b'[' | b'(' => depth += 1,
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_HEADER_NESTING {
            fail!(
                ExitKind::Input,
                "{source}: not a valid .npy file (its header nests brackets more than {MAX_HEADER_NESTING} deep)"
            );
        }
    }
    if shape_too_large(&header) {
        fail!(
            ExitKind::Input,
            "{source}: not a valid .npy file (its header's shape has more than 2^{MAX_SHAPE_BITS} elements)"
        );
    }
    let npy = npyz::NpyFile::new(prefix.chain(&header[..]).chain(reader))
        .or_fail_with(ExitKind::Input, || {
            format!("{source}: not a valid .npy file")
        })?;
    let found_dtype = npy.dtype();
    let found_shape: Vec<u64> = npy.shape().to_vec();
    let want_shape: Vec<u64> = want.shape.iter().map(|&d| d as u64).collect();
    let prefix = || format!("{source}: input '{}'", want.name);
    if !matches(&found_dtype, want.dtype) {
        fail!(
            ExitKind::Input,
            "{} expects dtype {}, found {}",
            prefix(),
            want.dtype.name(),
            describe(&found_dtype)
        );
    }
    if found_shape != want_shape {
        fail!(
            ExitKind::Input,
            "{} expects shape {}, found {}",
            prefix(),
            shape_str(&want_shape),
            shape_str(&found_shape)
        );
    }
    if npy.order() == npyz::Order::Fortran && found_shape.iter().filter(|&&d| d > 1).count() > 1 {
        fail!(
            ExitKind::Input,
            "{source}: Fortran-order arrays are not supported; save it with numpy.ascontiguousarray"
        );
    }
    let want_len = want
        .shape
        .iter()
        .try_fold(want.dtype.size(), |n, &d| n.checked_mul(d))
        .ok_or_else(|| {
            Failure::new(
                ExitKind::Model,
                format!("input '{}' is too large to address", want.name),
            )
        })?;
    let data_err = || format!("{source}: cannot read the array data");
    let bytes = match want.dtype {
        DType::F32 => npy
            .into_vec::<f32>()
            .or_fail_with(ExitKind::Input, data_err)?
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect(),
        DType::I32 => npy
            .into_vec::<i32>()
            .or_fail_with(ExitKind::Input, data_err)?
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect(),
        DType::I8 => npy
            .into_vec::<i8>()
            .or_fail_with(ExitKind::Input, data_err)?
            .iter()
            .map(|&x| x as u8)
            .collect(),
        DType::U8 => npy
            .into_vec::<u8>()
            .or_fail_with(ExitKind::Input, data_err)?,
    };
    if Vec::len(&bytes) != want_len {
        fail!(
            ExitKind::Input,
            "{source}: the array holds {} bytes of data, the shape needs {want_len}",
            Vec::len(&bytes)
        );
    }
    Ok(bytes)
}

/// Decodes little-endian `bytes` of `dtype` into floats.
pub fn to_f32(dtype: DType, bytes: &[u8]) -> Vec<f32> {
    match dtype {
        DType::F32 => bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        DType::I32 => bytes
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32)
            .collect(),
        DType::I8 => bytes.iter().map(|&b| b as i8 as f32).collect(),
        DType::U8 => bytes.iter().map(|&b| b as f32).collect(),
    }
}

/// Writes a float32 `.npy` file.
///
/// # Errors
/// Exit 5 if the file cannot be written, exit 3 if `data` does not fit `shape` (a bug).
pub fn write_f32(path: &Path, shape: &[usize], data: &[f32]) -> Result<()> {
    if shape.iter().product::<usize>() != data.len() {
        return Err(Failure::new(
            ExitKind::Model,
            format!(
                "output of {} elements does not fit shape {}",
                data.len(),
                shape_str(shape)
            ),
        ));
    }
    let ctx = || format!("cannot write {}", path.display());
    let f = File::create(path).or_fail_with(ExitKind::Io, ctx)?;
    let shape64: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut w = npyz::WriteOptions::<f32>::new()
        .default_dtype()
        .shape(&shape64)
        .writer(BufWriter::new(f))
        .begin_nd()
        .or_fail_with(ExitKind::Io, ctx)?;
    w.extend(data.iter().copied())
        .or_fail_with(ExitKind::Io, ctx)?;
    w.finish().or_fail_with(ExitKind::Io, ctx)?;
    Ok(())
}

/// Writes a float32 `.npy` file into memory (for tests).
///
/// # Errors
/// Only if `data` does not fit `shape`.
pub fn f32_bytes(shape: &[usize], data: &[f32]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let shape64: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut w = npyz::WriteOptions::<f32>::new()
        .default_dtype()
        .shape(&shape64)
        .writer(&mut out)
        .begin_nd()
        .or_fail(ExitKind::Io, "npy")?;
    w.extend(data.iter().copied())
        .or_fail(ExitKind::Io, "npy")?;
    w.finish().or_fail(ExitKind::Io, "npy")?;
    let _ = out.flush();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the fuzzer (`scripts/fuzz.sh`, npy target): a version-3 header claiming
    /// 4,285,923,451 bytes made npyz allocate them before reading. Now refused from the length.
    #[test]
    fn huge_header_length_is_refused_before_allocating() {
        let want = Expected {
            name: "x",
            dtype: DType::F32,
            shape: &[1, 4],
        };
        let mut file = b"\x93NUMPY\x03\x00".to_vec();
        file.extend_from_slice(&0xFF76_007Bu32.to_le_bytes());
        file.extend_from_slice(&[0xFF; 64]);
        let e = parse_input(&file[..], "hostile.npy", &want);
        assert!(
            matches!(&e, Err(f) if f.kind == ExitKind::Input
                && f.to_string().contains("header claims 4285923451 bytes")),
            "{e:?}"
        );
        // A short header is parsed (and fails on its content, not its length).
        let mut file = b"\x93NUMPY\x01\x00".to_vec();
        file.extend_from_slice(&100u16.to_le_bytes());
        file.extend_from_slice(&[b' '; 100]);
        let e = parse_input(&file[..], "odd.npy", &want);
        assert!(
            matches!(&e, Err(f) if !f.to_string().contains("header claims")),
            "{e:?}"
        );
        // A valid file still reads; a file shorter than the prefix is an error, not a panic.
        let good = f32_bytes(&[1, 4], &[1.0, 2.0, 3.0, 4.0]).unwrap_or_default();
        let x = parse_input(&good[..], "good.npy", &want);
        assert!(matches!(&x, Ok(b) if b.len() == 16), "{x:?}");
        assert!(parse_input(&good[..5], "short.npy", &want).is_err());
    }

    /// Found by the fuzzer: a header of nested `{` made npyz's parser backtrack for minutes.
    #[test]
    fn deeply_nested_header_is_refused_quickly() {
        let want = Expected {
            name: "x",
            dtype: DType::F32,
            shape: &[1, 4],
        };
        let mut head = b"{'descr': '<f4', 'fortran_order': ".to_vec();
        head.extend_from_slice(&[b'{'; 200]);
        let mut file = b"\x93NUMPY\x01\x00".to_vec();
        file.extend_from_slice(&(head.len() as u16).to_le_bytes());
        file.extend_from_slice(&head);
        let e = parse_input(&file[..], "nested.npy", &want);
        assert!(
            matches!(&e, Err(f) if f.to_string().contains("nests brackets")),
            "{e:?}"
        );
        // The fuzzer's second find: 13 levels inside the dict (`fuzz/seeds/npy/
        // regression-nested-header-timeout.bin`), seconds of backtracking in npyz.
        let mut head = b"{'descr': '<f4', 'fortran_order': ".to_vec();
        head.extend_from_slice(&[b'{'; 13]);
        let mut file = b"\x93NUMPY\x01\x00".to_vec();
        file.extend_from_slice(&(head.len() as u16).to_le_bytes());
        file.extend_from_slice(&head);
        let e = parse_input(&file[..], "nested13.npy", &want);
        assert!(
            matches!(&e, Err(f) if f.to_string().contains("nests brackets")),
            "{e:?}"
        );
    }

    /// Found by the fuzzer (CI of 2026-11-28): a shape whose element count overflows 64 bits
    /// panicked inside npyz (`fuzz/seeds/npy/regression-shape-overflow.bin`).
    #[test]
    fn shape_overflowing_64_bits_is_refused() {
        let want = Expected {
            name: "x",
            dtype: DType::F32,
            shape: &[1, 4],
        };
        for head in [
            &b"{'descr': '<f8', 'fortran_order': False, 'shape': (0000017830657899684750220, 4), }"
                [..],
            &b"{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4294967296, 4294967296), }"[..],
            &b"{'descr': [('shape', '<f4')], 'fortran_order': False, 'shape': [281474976710657], }"
                [..],
        ] {
            let mut file = b"\x93NUMPY\x01\x00".to_vec();
            file.extend_from_slice(&(head.len() as u16).to_le_bytes());
            file.extend_from_slice(head);
            let e = parse_input(&file[..], "huge-shape.npy", &want);
            assert!(
                matches!(&e, Err(f) if f.kind == ExitKind::Input
                    && f.to_string().contains("more than 2^48 elements")),
                "{e:?}"
            );
        }
        // The largest accepted claim still reaches the shape comparison.
        let head = b"{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536, 65536), }";
        let mut file = b"\x93NUMPY\x01\x00".to_vec();
        file.extend_from_slice(&(head.len() as u16).to_le_bytes());
        file.extend_from_slice(head);
        let e = parse_input(&file[..], "large.npy", &want);
        assert!(
            matches!(&e, Err(f) if !f.to_string().contains("more than 2^48")),
            "{e:?}"
        );
    }

    #[test]
    fn plain_and_structured_headers_nest_within_the_bound() {
        // numpy's header for a plain array, and the deepest a structured dtype with sub-array
        // fields goes: both parse past the nesting check (then fail or pass on dtype/shape).
        let want = Expected {
            name: "x",
            dtype: DType::F32,
            shape: &[1, 4],
        };
        for head in [
            &b"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4), }"[..],
            &b"{'descr': [('a', '<f4', (2,))], 'fortran_order': False, 'shape': (1,), }"[..],
        ] {
            let mut file = b"\x93NUMPY\x01\x00".to_vec();
            file.extend_from_slice(&(head.len() as u16).to_le_bytes());
            file.extend_from_slice(head);
            file.extend_from_slice(&[0u8; 16]);
            let e = parse_input(&file[..], "ok.npy", &want);
            assert!(
                !matches!(&e, Err(f) if f.to_string().contains("nests brackets")),
                "{e:?}"
            );
        }
    }
}
