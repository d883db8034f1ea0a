//! Typed errors of the runtime: each names the problem with numbers a user can act on, and a
//! model whose ops do not fit together is refused at load, before anything runs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mote_format::*;
use mote_runtime::{Error, Interpreter, Model};

fn relu_model(arena_out: u32) -> Vec<u8> {
    let mut b = ModelBuilder::new();
    let x = b.add_tensor("x", DType::F32, &[1, 8], Storage::Arena { offset: 0 });
    let y = b.add_tensor(
        "y",
        DType::F32,
        &[1, 8],
        Storage::Arena { offset: arena_out },
    );
    let relu = ActivationSpec {
        kind: ActivationKind::Relu,
        a: 0.0,
        b: 0.0,
    };
    b.add_op("relu", &OpParams::Unary { activation: relu }, &[x], &[y]);
    b.set_io(&[x], &[y]);
    b.set_arena_len(64);
    b.finish()
}

#[test]
fn runs_and_reports_input_errors() {
    let bytes = AlignedBytes::from_slice(&relu_model(32));
    let m = Model::from_bytes(bytes.as_bytes()).unwrap();
    let mut arena = AlignedBytes::zeroed(64);
    let mut it = Interpreter::new(&m, arena.as_bytes_mut()).unwrap();
    it.input_f32_mut(0)
        .unwrap()
        .copy_from_slice(&[-1.0, 2.0, -3.0, 4.0, 0.0, -0.5, 0.5, 9.0]);
    it.invoke().unwrap();
    assert_eq!(
        it.output_f32(0).unwrap(),
        &[0.0, 2.0, 0.0, 4.0, 0.0, 0.0, 0.5, 9.0]
    );
    assert_eq!(
        it.set_input(0, &[0u8; 31]),
        Err(Error::WrongInputSize {
            index: 0,
            expected: 32,
            found: 31
        })
    );
    assert_eq!(
        it.set_input(1, &[0u8; 32]),
        Err(Error::NoSuchTensor { index: 1, count: 1 })
    );
}

#[test]
fn arena_too_small_says_needed_and_given() {
    let bytes = AlignedBytes::from_slice(&relu_model(32));
    let m = Model::from_bytes(bytes.as_bytes()).unwrap();
    let mut arena = AlignedBytes::zeroed(48);
    assert_eq!(
        Interpreter::new(&m, arena.as_bytes_mut()).err(),
        Some(Error::ArenaTooSmall {
            needed: 64,
            given: 48
        })
    );
    let mut arena = AlignedBytes::zeroed(80);
    assert_eq!(
        Interpreter::new(&m, &mut arena.as_bytes_mut()[1..65]).err(),
        Some(Error::ArenaMisaligned)
    );
    assert!(Error::ArenaTooSmall {
        needed: 64,
        given: 48
    }
    .to_string()
    .contains("64"));
}

#[test]
fn output_overlapping_input_is_refused_at_load() {
    let bytes = AlignedBytes::from_slice(&relu_model(16));
    assert!(matches!(
        Model::from_bytes(bytes.as_bytes()),
        Err(Error::InvalidOp { index: 0, .. })
    ));
}

#[test]
fn wrong_dtype_access() {
    let bytes = AlignedBytes::from_slice(&relu_model(32));
    let m = Model::from_bytes(bytes.as_bytes()).unwrap();
    let mut arena = AlignedBytes::zeroed(64);
    let it = Interpreter::new(&m, arena.as_bytes_mut()).unwrap();
    assert!(it.output_f32(0).is_ok());
    let mut b = ModelBuilder::new();
    let x = b.add_tensor("x", DType::I8, &[1, 8], Storage::Arena { offset: 0 });
    let y = b.add_tensor("y", DType::I8, &[1, 8], Storage::Arena { offset: 16 });
    b.add_op("r", &OpParams::Reshape, &[x], &[y]);
    b.set_io(&[x], &[y]);
    b.set_arena_len(32);
    let bytes = AlignedBytes::from_slice(&b.finish());
    let m = Model::from_bytes(bytes.as_bytes()).unwrap();
    let mut arena = AlignedBytes::zeroed(32);
    let mut it = Interpreter::new(&m, arena.as_bytes_mut()).unwrap();
    assert_eq!(
        it.input_f32_mut(0).err(),
        Some(Error::WrongDType {
            index: 0,
            expected: DType::I8,
            found: DType::F32
        })
    );
}

#[test]
fn inconsistent_conv_is_refused_at_load() {
    let mut b = ModelBuilder::new();
    let w = vec![0u8; 3 * 3 * 3 * 4 * 4];
    let x = b.add_tensor("x", DType::F32, &[1, 8, 8, 3], Storage::Arena { offset: 0 });
    let wt = b.add_tensor("w", DType::F32, &[4, 3, 3, 3], Storage::Const(&w));
    // 8x8 with a 3x3 kernel, no padding, stride 1 gives 6x6, not 8x8.
    let y = b.add_tensor(
        "y",
        DType::F32,
        &[1, 8, 8, 4],
        Storage::Arena { offset: 768 },
    );
    let conv = Conv2d {
        stride: [1, 1],
        dilation: [1, 1],
        pads: [0; 4],
        groups: 1,
        activation: ActivationSpec::NONE,
    };
    b.add_op("conv", &OpParams::Conv2d(conv), &[x, wt], &[y]);
    b.set_io(&[x], &[y]);
    b.set_arena_len(768 + 1024);
    let bytes = AlignedBytes::from_slice(&b.finish());
    match Model::from_bytes(bytes.as_bytes()) {
        Err(Error::InvalidOp { index: 0, reason }) => {
            assert!(reason.contains("output size"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}
