//! `mote inspect`'s MAC and parameter counts agree with the published figures of the
//! architectures: MobileNetV2 1.0 at 224 — 300 M multiply-adds and 3.4 M parameters (Sandler et
//! al. 2018, tables 4 and 6); ResNeXt-50 32x4d — 4.2 G multiply-adds (FLOPs as the paper counts
//! them) and 25.0 M parameters (Xie et al. 2017, table 1). The models are made by
//! `models/gen/*.py` (random weights; the architecture is what is counted). Parameters are
//! counted after BatchNormalization is folded into the convolutions (weights + biases), which is
//! what the model file stores.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

fn report(name: &str) -> mote_compiler::inspect::Report {
    let path = mote_tests::repo()
        .join(".cache/models")
        .join(format!("{name}.onnx"));
    let onnx = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run `bash models/gen/all.sh .cache/models`)",
            path.display()
        )
    });
    let opts = mote_compiler::CompileOptions {
        input_shapes: vec![("input".into(), vec![1, 3, 224, 224])],
        ..Default::default()
    };
    let c = mote_compiler::compile(&onnx, &opts).unwrap();
    let a = mote_format::AlignedBytes::from_slice(&c.bytes);
    let m = mote_format::Model::from_bytes(a.as_bytes()).unwrap();
    mote_compiler::inspect::report(&m)
}

fn within(value: u64, published: f64, tolerance: f64) -> bool {
    ((value as f64) - published).abs() <= tolerance * published
}

#[test]
fn mobilenet_v2_macs_and_parameters() {
    let r = report("mobilenet_v2");
    println!(
        "MobileNetV2 1.0/224: {} MACs (paper 300 M), {} parameters (paper 3.4 M)",
        r.macs, r.parameters
    );
    assert!(within(r.macs, 300e6, 0.01), "{}", r.macs);
    assert!(within(r.parameters, 3.4e6, 0.03), "{}", r.parameters);
}

#[test]
fn resnext50_macs_and_parameters() {
    let r = report("resnext50");
    println!(
        "ResNeXt-50 32x4d: {} MACs (paper 4.2 G), {} parameters (paper 25.0 M)",
        r.macs, r.parameters
    );
    assert!(within(r.macs, 4.2e9, 0.015), "{}", r.macs);
    assert!(within(r.parameters, 25.0e6, 0.01), "{}", r.parameters);
}
