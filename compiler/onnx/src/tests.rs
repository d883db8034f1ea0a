//! Unit tests for the whole crate (tests may unwrap and panic).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::proto::attribute_proto::AttributeType;
use crate::proto::tensor_proto::{DataLocation, DataType};
use crate::proto::{AttributeProto, NodeProto, TensorProto};
use prost::Message;

fn typed_proto(dims: &[i64], dt: DataType) -> TensorProto {
    TensorProto {
        name: Some("t".into()),
        dims: dims.to_vec(),
        data_type: Some(dt as i32),
        ..Default::default()
    }
}

fn tensor_err(t: &TensorProto) -> String {
    match tensor_from_proto(t) {
        Err(e @ OnnxError::Tensor { .. }) => e.to_string(),
        other => panic!("expected tensor error, got {other:?}"),
    }
}

// ---------------------------------------------------------------- tensors

#[test]
fn round_trip_every_dtype() {
    let cases = vec![
        Tensor::f32(
            vec![2, 3],
            vec![0.0, -1.5, 3.25, f32::MAX, f32::MIN_POSITIVE, -0.0],
        ),
        Tensor::i64(vec![3], vec![i64::MIN, 0, i64::MAX]),
        Tensor {
            dims: vec![2, 2],
            data: TensorData::I32(vec![i32::MIN, -1, 7, i32::MAX]),
        },
        Tensor {
            dims: vec![4],
            data: TensorData::I8(vec![-128, -1, 0, 127]),
        },
        Tensor {
            dims: vec![1, 3],
            data: TensorData::U8(vec![0, 128, 255]),
        },
        Tensor {
            dims: vec![3],
            data: TensorData::Bool(vec![true, false, true]),
        },
        // scalar and empty tensors
        Tensor::f32(vec![], vec![42.0]),
        Tensor::i64(vec![0, 5], vec![]),
        Tensor {
            dims: vec![2, 0],
            data: TensorData::Bool(vec![]),
        },
    ];
    for t in cases {
        let p = tensor_to_proto("x", &t);
        assert_eq!(p.name.as_deref(), Some("x"));
        assert!(p.raw_data.is_some());
        assert_eq!(tensor_from_proto(&p).unwrap(), t, "direct round trip");
        // ...and through the wire format, as a .pb file would be.
        let bytes = p.encode_to_vec();
        let back = tensor_from_proto(&parse_tensor(&bytes).unwrap()).unwrap();
        assert_eq!(back, t, "wire round trip");
    }
}

#[test]
fn nan_round_trips_bitwise() {
    let t = Tensor::f32(vec![1], vec![f32::from_bits(0x7fc0_1234)]);
    let back = tensor_from_proto(&tensor_to_proto("n", &t)).unwrap();
    assert_eq!(back.as_f32().unwrap()[0].to_bits(), 0x7fc0_1234);
}

#[test]
fn typed_float_data() {
    let mut p = typed_proto(&[2, 2], DataType::Float);
    p.float_data = vec![1.0, 2.0, 3.0, 4.0];
    assert_eq!(
        tensor_from_proto(&p).unwrap(),
        Tensor::f32(vec![2, 2], vec![1.0, 2.0, 3.0, 4.0])
    );
}

#[test]
fn typed_int64_data() {
    let mut p = typed_proto(&[3], DataType::Int64);
    p.int64_data = vec![-1, 0, 1 << 40];
    let t = tensor_from_proto(&p).unwrap();
    assert_eq!(t.as_i64(), Some(&[-1, 0, 1 << 40][..]));
    assert_eq!(t.dtype_name(), "i64");
}

#[test]
fn typed_int32_data_carrying_int8_uint8_bool() {
    let mut p = typed_proto(&[4], DataType::Int8);
    p.int32_data = vec![-128, -3, 0, 127];
    assert_eq!(
        tensor_from_proto(&p).unwrap().data,
        TensorData::I8(vec![-128, -3, 0, 127])
    );

    let mut p = typed_proto(&[3], DataType::Uint8);
    p.int32_data = vec![0, 17, 255];
    assert_eq!(
        tensor_from_proto(&p).unwrap().data,
        TensorData::U8(vec![0, 17, 255])
    );

    let mut p = typed_proto(&[3], DataType::Bool);
    p.int32_data = vec![1, 0, 1];
    assert_eq!(
        tensor_from_proto(&p).unwrap().data,
        TensorData::Bool(vec![true, false, true])
    );

    let mut p = typed_proto(&[2], DataType::Int16);
    p.int32_data = vec![-32768, 32767];
    assert_eq!(
        tensor_from_proto(&p).unwrap().data,
        TensorData::I32(vec![-32768, 32767])
    );

    let mut p = typed_proto(&[2], DataType::Uint16);
    p.int32_data = vec![0, 65535];
    assert_eq!(
        tensor_from_proto(&p).unwrap().data,
        TensorData::I32(vec![0, 65535])
    );
}

#[test]
fn int32_data_out_of_range_is_error() {
    let mut p = typed_proto(&[2], DataType::Int8);
    p.int32_data = vec![1, 300];
    let e = tensor_err(&p);
    assert!(e.contains("300") && e.contains("INT8"), "{e}");

    let mut p = typed_proto(&[1], DataType::Uint8);
    p.int32_data = vec![-1];
    assert!(tensor_err(&p).contains("UINT8"));

    let mut p = typed_proto(&[1], DataType::Float16);
    p.int32_data = vec![70000];
    assert!(tensor_err(&p).contains("FLOAT16"));
}

#[test]
fn double_and_half_precision_convert_to_f32() {
    let mut p = typed_proto(&[2], DataType::Double);
    p.double_data = vec![0.5, -1e10];
    assert_eq!(
        tensor_from_proto(&p).unwrap(),
        Tensor::f32(vec![2], vec![0.5, -1e10])
    );

    let mut p = typed_proto(&[2], DataType::Double);
    p.raw_data = Some(
        [2.5f64, -4.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect(),
    );
    assert_eq!(
        tensor_from_proto(&p).unwrap(),
        Tensor::f32(vec![2], vec![2.5, -4.0])
    );

    // FLOAT16 both as raw little-endian bytes and as int32_data bit patterns.
    let halves: [u16; 4] = [0x3c00, 0xc000, 0x7bff, 0x0001];
    let want = vec![1.0, -2.0, 65504.0, 2f32.powi(-24)];
    let mut p = typed_proto(&[4], DataType::Float16);
    p.raw_data = Some(halves.iter().flat_map(|h| h.to_le_bytes()).collect());
    assert_eq!(
        tensor_from_proto(&p).unwrap(),
        Tensor::f32(vec![4], want.clone())
    );
    let mut p = typed_proto(&[4], DataType::Float16);
    p.int32_data = halves.iter().map(|&h| i32::from(h)).collect();
    assert_eq!(tensor_from_proto(&p).unwrap(), Tensor::f32(vec![4], want));

    let mut p = typed_proto(&[2], DataType::Bfloat16);
    p.int32_data = vec![0x3f80, 0xc040];
    assert_eq!(
        tensor_from_proto(&p).unwrap(),
        Tensor::f32(vec![2], vec![1.0, -3.0])
    );
}

#[test]
fn f16_special_values() {
    use crate::tensor::f16_to_f32;
    assert_eq!(f16_to_f32(0x0000).to_bits(), 0);
    assert_eq!(f16_to_f32(0x8000).to_bits(), 0x8000_0000);
    assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
    assert_eq!(f16_to_f32(0xfc00), f32::NEG_INFINITY);
    assert!(f16_to_f32(0x7e00).is_nan());
    assert_eq!(f16_to_f32(0x83ff), -(1023.0 * 2f32.powi(-24)));
    assert_eq!(f16_to_f32(0x0400), 2f32.powi(-14));
    assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
}

#[test]
fn count_mismatch_is_error() {
    let mut p = typed_proto(&[2, 3], DataType::Float);
    p.float_data = vec![1.0; 5];
    let e = tensor_err(&p);
    assert!(
        e.contains("'t'") && e.contains("float_data") && e.contains('6'),
        "{e}"
    );

    let mut p = typed_proto(&[2, 3], DataType::Float);
    p.raw_data = Some(vec![0; 23]);
    assert!(tensor_err(&p).contains("raw_data"));

    // Values in the wrong typed field: FLOAT wants float_data.
    let mut p = typed_proto(&[2], DataType::Float);
    p.int64_data = vec![1, 2];
    assert!(tensor_err(&p).contains("float_data"));

    // Missing data entirely for a non-empty tensor.
    assert!(tensor_err(&typed_proto(&[1], DataType::Int64)).contains("int64_data"));
}

#[test]
fn hostile_dims_are_errors() {
    let mut p = typed_proto(&[i64::MAX, i64::MAX, 4], DataType::Float);
    p.raw_data = Some(vec![0; 16]);
    assert!(tensor_err(&p).contains("overflows"));

    // Fits usize but far more than the bytes present: must not allocate.
    let mut p = typed_proto(&[1 << 31, 1 << 31], DataType::Float);
    p.raw_data = Some(vec![0; 16]);
    assert!(tensor_err(&p).contains("raw_data"));
    let mut p = typed_proto(&[1 << 31, 1 << 31], DataType::Int8);
    p.int32_data = vec![0; 4];
    assert!(tensor_err(&p).contains("int32_data"));

    let mut p = typed_proto(&[2, -1], DataType::Float);
    p.float_data = vec![1.0, 2.0];
    assert!(tensor_err(&p).contains("-1"));

    // A zero dimension makes the tensor empty regardless of the others.
    let mut p = typed_proto(&[0, i64::MAX], DataType::Float);
    p.raw_data = Some(vec![]);
    assert!(tensor_from_proto(&p).unwrap().is_empty());
}

#[test]
fn unsupported_or_malformed_tensors_are_errors() {
    let mut p = typed_proto(&[1], DataType::String);
    p.string_data = vec![b"hi".to_vec()];
    assert!(tensor_err(&p).contains("STRING"));

    let mut p = typed_proto(&[1], DataType::Float);
    p.data_location = Some(DataLocation::External as i32);
    p.external_data = vec![proto::StringStringEntryProto {
        key: Some("location".into()),
        value: Some("weights.bin".into()),
    }];
    assert!(tensor_err(&p).contains("external"));

    let mut p = typed_proto(&[1], DataType::Uint32);
    p.uint64_data = vec![1];
    assert!(tensor_err(&p).contains("UINT32"));

    let mut p = typed_proto(&[1], DataType::Float);
    p.data_type = Some(999);
    p.float_data = vec![1.0];
    assert!(tensor_err(&p).contains("999"));

    let mut p = typed_proto(&[1], DataType::Float);
    p.data_type = None;
    p.float_data = vec![1.0];
    assert!(tensor_err(&p).contains("UNDEFINED"));

    let mut p = typed_proto(&[1], DataType::Float);
    p.float_data = vec![1.0];
    p.raw_data = Some(vec![0; 4]);
    assert!(tensor_err(&p).contains("more than one value field"));

    let mut p = typed_proto(&[1], DataType::Float);
    p.float_data = vec![1.0];
    p.segment = Some(proto::tensor_proto::Segment {
        begin: Some(0),
        end: Some(1),
    });
    assert!(tensor_err(&p).contains("segment"));

    let mut p = typed_proto(&[], DataType::Float);
    p.name = None;
    assert!(tensor_err(&p).contains("<unnamed>"));
}

#[test]
fn tensor_helpers() {
    let t = Tensor {
        dims: vec![3],
        data: TensorData::I8(vec![-2, 0, 5]),
    };
    assert_eq!(t.len(), 3);
    assert!(!t.is_empty());
    assert_eq!(t.dtype_name(), "i8");
    assert_eq!(t.to_i64_vec(), Some(vec![-2, 0, 5]));
    assert_eq!(t.to_f32_vec(), vec![-2.0, 0.0, 5.0]);
    assert_eq!(t.as_f32(), None);
    assert_eq!(t.as_i64(), None);

    let b = Tensor {
        dims: vec![2],
        data: TensorData::Bool(vec![true, false]),
    };
    assert_eq!(b.to_i64_vec(), Some(vec![1, 0]));
    assert_eq!(b.to_f32_vec(), vec![1.0, 0.0]);

    let f = Tensor::f32(vec![2], vec![1.5, -2.0]);
    assert_eq!(f.to_i64_vec(), None);
    assert_eq!(f.to_f32_vec(), vec![1.5, -2.0]);
    assert_eq!(f.as_f32(), Some(&[1.5, -2.0][..]));

    let u = Tensor {
        dims: vec![1],
        data: TensorData::U8(vec![200]),
    };
    assert_eq!(u.to_i64_vec(), Some(vec![200]));
    let i = Tensor {
        dims: vec![1],
        data: TensorData::I32(vec![-7]),
    };
    assert_eq!((i.dtype_name(), i.to_f32_vec()), ("i32", vec![-7.0]));
}

// ------------------------------------------------------------- attributes

fn attr(name: &str, ty: AttributeType) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(ty as i32),
        ..Default::default()
    }
}

fn test_node() -> NodeProto {
    let mut t = tensor_to_proto("", &Tensor::i64(vec![2], vec![4, 5]));
    t.name = None;
    NodeProto {
        name: Some("conv1".into()),
        op_type: Some("Conv".into()),
        output: vec!["y".into()],
        attribute: vec![
            AttributeProto {
                i: Some(3),
                ..attr("group", AttributeType::Int)
            },
            AttributeProto {
                ints: vec![1, 2],
                ..attr("strides", AttributeType::Ints)
            },
            AttributeProto {
                f: Some(0.25),
                ..attr("alpha", AttributeType::Float)
            },
            AttributeProto {
                floats: vec![1.0, 2.0],
                ..attr("scales", AttributeType::Floats)
            },
            AttributeProto {
                s: Some(b"NOTSET".to_vec()),
                ..attr("auto_pad", AttributeType::String)
            },
            AttributeProto {
                strings: vec![b"a".to_vec(), b"b".to_vec()],
                ..attr("names", AttributeType::Strings)
            },
            AttributeProto {
                t: Some(t),
                ..attr("value", AttributeType::Tensor)
            },
            AttributeProto {
                s: Some(vec![0xff, 0xfe]),
                ..attr("bad_utf8", AttributeType::String)
            },
            // Empty INTS list: type given, no values.
            attr("empty", AttributeType::Ints),
            // Legacy: no type field, inferred from the value present.
            AttributeProto {
                name: Some("legacy".into()),
                i: Some(9),
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

#[test]
fn attrs_typed_access() {
    let node = test_node();
    let a = Attrs::new(&node);
    assert_eq!(a.int("group").unwrap(), Some(3));
    assert_eq!(a.int_or("group", 1).unwrap(), 3);
    assert_eq!(a.int_or("missing", 1).unwrap(), 1);
    assert_eq!(a.int("missing").unwrap(), None);
    assert_eq!(a.ints("strides").unwrap(), Some(vec![1, 2]));
    assert_eq!(a.ints("empty").unwrap(), Some(vec![]));
    assert_eq!(a.float("alpha").unwrap(), Some(0.25));
    assert_eq!(a.float_or("beta", 1.0).unwrap(), 1.0);
    assert_eq!(a.floats("scales").unwrap(), Some(vec![1.0, 2.0]));
    assert_eq!(a.string("auto_pad").unwrap().as_deref(), Some("NOTSET"));
    assert_eq!(a.string_or("mode", "constant").unwrap(), "constant");
    assert_eq!(
        a.strings("names").unwrap(),
        Some(vec!["a".to_string(), "b".to_string()])
    );
    assert_eq!(
        a.tensor("value").unwrap(),
        Some(Tensor::i64(vec![2], vec![4, 5]))
    );
    assert_eq!(a.int("legacy").unwrap(), Some(9));
    let names: Vec<&str> = a.names().collect();
    assert_eq!(names[..3], ["group", "strides", "alpha"]);
    assert_eq!(names.len(), 10);
    assert_eq!(a.node().name.as_deref(), Some("conv1"));
}

#[test]
fn attrs_nan_floats_are_errors_naming_the_attribute() {
    let mut node = test_node();
    for a in node.attribute.iter_mut() {
        match a.name.as_deref() {
            Some("alpha") => a.f = Some(f32::NAN),
            Some("scales") => a.floats[1] = f32::NAN,
            _ => {}
        }
    }
    let a = Attrs::new(&node);
    let e = a.float_or("alpha", 0.01).unwrap_err().to_string();
    assert!(e.contains("'alpha'") && e.contains("NaN"), "{e}");
    let e = a.floats("scales").unwrap_err().to_string();
    assert!(e.contains("'scales'") && e.contains("NaN"), "{e}");
}

#[test]
fn attrs_type_mismatch_names_node_op_attr() {
    let node = test_node();
    let a = Attrs::new(&node);
    let e = a.int("alpha").unwrap_err();
    match &e {
        OnnxError::Attribute {
            node,
            op,
            attr,
            msg,
        } => {
            assert_eq!(
                (node.as_str(), op.as_str(), attr.as_str()),
                ("conv1", "Conv", "alpha")
            );
            assert!(msg.contains("INT") && msg.contains("FLOAT"), "{msg}");
        }
        other => panic!("wrong error {other:?}"),
    }
    assert_eq!(
        e.to_string(),
        "node 'conv1' (Conv): attribute 'alpha': expected INT, found a FLOAT value"
    );
    assert!(a.int("strides").is_err(), "INTS is not INT");
    assert!(a.ints("group").is_err(), "INT is not INTS");
    assert!(a.float("group").is_err());
    assert!(a.string("value").is_err());
    assert!(a.tensor("auto_pad").is_err());
    assert!(a
        .string("bad_utf8")
        .unwrap_err()
        .to_string()
        .contains("UTF-8"));
}

#[test]
fn attrs_malformed() {
    let mut node = test_node();
    node.name = None;
    node.domain = Some("com.microsoft".into());
    node.attribute.push(AttributeProto {
        i: Some(4),
        ..attr("group", AttributeType::Int)
    });
    node.attribute.push(AttributeProto {
        ref_attr_name: Some("outer".into()),
        ..attr("ref", AttributeType::Int)
    });
    let mut bad_tensor = typed_proto(&[3], DataType::Float);
    bad_tensor.float_data = vec![1.0];
    node.attribute.push(AttributeProto {
        t: Some(bad_tensor),
        ..attr("bt", AttributeType::Tensor)
    });
    node.attribute.push(AttributeProto {
        r#type: Some(77),
        ..attr("weird", AttributeType::Int)
    });

    let a = Attrs::new(&node);
    let e = a.int("group").unwrap_err().to_string();
    assert_eq!(
        e,
        "node '<unnamed, output 'y'>' (com.microsoft.Conv): attribute 'group': appears more than once"
    );
    assert!(a.int("ref").unwrap_err().to_string().contains("outer"));
    let e = a.tensor("bt").unwrap_err().to_string();
    assert!(
        e.contains("attribute 'bt'") && e.contains("float_data"),
        "{e}"
    );
    assert!(a.int("weird").unwrap_err().to_string().contains("77"));
}

// ------------------------------------------------------- model-level bits

#[test]
fn default_opset_rules() {
    let op = |d: Option<&str>, v: Option<i64>| proto::OperatorSetIdProto {
        domain: d.map(str::to_string),
        version: v,
    };
    let mut m = proto::ModelProto::default();
    assert!(matches!(default_opset(&m), Err(OnnxError::Model(_))));
    m.opset_import = vec![
        op(Some("ai.onnx.ml"), Some(2)),
        op(Some("ai.onnx"), Some(13)),
    ];
    assert_eq!(default_opset(&m).unwrap(), 13);
    m.opset_import = vec![op(None, Some(11))];
    assert_eq!(default_opset(&m).unwrap(), 11);
    m.opset_import = vec![op(Some(""), Some(11)), op(Some("ai.onnx"), Some(12))];
    assert!(default_opset(&m).is_err());
    m.opset_import = vec![op(Some(""), None)];
    assert!(default_opset(&m).is_err());
    m.opset_import = vec![op(Some("com.microsoft"), Some(1))];
    assert!(default_opset(&m).is_err());
}

#[test]
fn value_info_shapes() {
    use proto::tensor_shape_proto::{dimension::Value, Dimension};
    let dim = |v: Option<Value>| Dimension {
        value: v,
        denotation: None,
    };
    let vi = proto::ValueInfoProto {
        name: Some("x".into()),
        r#type: Some(proto::TypeProto {
            value: Some(proto::type_proto::Value::TensorType(
                proto::type_proto::Tensor {
                    elem_type: Some(DataType::Float as i32),
                    shape: Some(proto::TensorShapeProto {
                        dim: vec![
                            dim(Some(Value::DimParam("N".into()))),
                            dim(Some(Value::DimValue(3))),
                            dim(None),
                            dim(Some(Value::DimParam(String::new()))),
                        ],
                    }),
                },
            )),
            denotation: None,
        }),
        ..Default::default()
    };
    assert_eq!(
        value_info_shape(&vi),
        Some((
            1,
            vec![
                Dim::Symbolic("N".into()),
                Dim::Fixed(3),
                Dim::Unknown,
                Dim::Unknown
            ]
        ))
    );
    let mut no_shape = vi.clone();
    if let Some(proto::type_proto::Value::TensorType(t)) =
        no_shape.r#type.as_mut().and_then(|t| t.value.as_mut())
    {
        t.shape = None;
    }
    assert_eq!(value_info_shape(&no_shape), None);
    assert_eq!(value_info_shape(&proto::ValueInfoProto::default()), None);
}

// ------------------------------------------------------- hostile bytes

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn garbage_bytes_are_errors_not_panics() {
    assert!(parse_model(&[]).is_err(), "empty input is not a model");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..500 {
        let len = rng.below(512);
        let bytes = rng.bytes(len);
        assert!(
            parse_model(&bytes).is_err(),
            "case {i} ({len} bytes) parsed as a model"
        );
        // Tensors: any outcome is fine as long as nothing panics.
        if let Ok(t) = parse_tensor(&bytes) {
            let _ = tensor_from_proto(&t);
        }
    }
}

#[test]
fn hostile_lengths_and_nesting_are_errors() {
    // A `graph` field claiming 2^62 bytes of payload.
    let mut b = vec![0x08, 0x08, 0x3a];
    b.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f]);
    assert!(parse_model(&b).is_err());

    // Graph → node → attribute → graph → ... nested 10 000 deep: prost's
    // recursion limit must turn this into an error, not a stack overflow.
    fn wrap(tag: u8, inner: Vec<u8>) -> Vec<u8> {
        let mut out = vec![tag];
        let mut n = inner.len();
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
        out.extend(inner);
        out
    }
    let mut graph = Vec::new();
    for _ in 0..10_000 {
        let attr = wrap(0x32, graph); // AttributeProto.g = 6
        let node = wrap(0x2a, attr); // NodeProto.attribute = 5
        graph = wrap(0x0a, node); // GraphProto.node = 1
    }
    let mut model = vec![0x08, 0x08]; // ir_version = 8
    model.extend(wrap(0x3a, graph)); // ModelProto.graph = 7
    let e = parse_model(&model).unwrap_err();
    assert!(e.to_string().contains("recursion"), "{e}");
}

// ------------------------------------------------------- the real model

fn kws_model_bytes() -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../models/mlperf-tiny/kws_ref_model_float32.onnx");
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

#[test]
fn real_kws_model_parses_and_decodes() {
    let model = parse_model(&kws_model_bytes()).unwrap();
    assert_eq!(default_opset(&model).unwrap(), 17);
    let graph = model.graph.as_ref().unwrap();

    let mut by_dtype = std::collections::BTreeMap::new();
    for init in &graph.initializer {
        let t = tensor_from_proto(init).unwrap();
        let numel: usize = t.dims.iter().product();
        assert_eq!(t.len(), numel, "{:?}", init.name);
        *by_dtype.entry(t.dtype_name()).or_insert(0) += 1;
    }
    assert_eq!(graph.initializer.len(), 28);
    assert_eq!(by_dtype.get("f32"), Some(&20));
    assert_eq!(by_dtype.get("i8"), Some(&6));
    assert_eq!(by_dtype.get("i64"), Some(&2));

    let (elem, dims) = value_info_shape(&graph.input[0]).unwrap();
    assert_eq!(elem, DataType::Float as i32);
    assert!(matches!(dims[0], Dim::Symbolic(_)));
    assert_eq!(dims[1..], [Dim::Fixed(49), Dim::Fixed(10), Dim::Fixed(1)]);

    let convs: Vec<_> = graph
        .node
        .iter()
        .filter(|n| n.op_type.as_deref() == Some("Conv"))
        .collect();
    assert_eq!(convs.len(), 9);
    for n in convs {
        let a = Attrs::new(n);
        let k = a.ints("kernel_shape").unwrap().unwrap();
        assert_eq!(k.len(), 2);
        assert!(a.int("kernel_shape").is_err());
        assert!(a.names().count() > 0);
    }
}

#[test]
fn truncated_real_model_is_error_not_panic() {
    let bytes = kws_model_bytes();
    let mut rng = Rng(42);
    // opset_import is the last field; everything before it is needed.
    let tail = 64;
    for _ in 0..300 {
        let n = rng.below(bytes.len() - tail);
        let r = parse_model(&bytes[..n]).and_then(|m| default_opset(&m));
        assert!(r.is_err(), "prefix of {n} bytes accepted");
    }
    // Single-byte corruptions: anything may happen except a panic.
    for _ in 0..300 {
        let mut b = bytes.clone();
        let i = rng.below(b.len());
        b[i] ^= 1 << rng.below(8);
        if let Ok(m) = parse_model(&b) {
            let _ = default_opset(&m);
            for t in m.graph.iter().flat_map(|g| g.initializer.iter()) {
                let _ = tensor_from_proto(t);
            }
            for n in m.graph.iter().flat_map(|g| g.node.iter()) {
                let a = Attrs::new(n);
                for name in a.names() {
                    let _ = (
                        a.int(name),
                        a.ints(name),
                        a.float(name),
                        a.string(name),
                        a.tensor(name),
                    );
                }
            }
        }
    }
}
