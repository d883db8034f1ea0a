extern crate std;

use super::activation_f32;
use crate::Activation;

#[test]
fn activations_by_hand() {
    let x = [-3.0, -0.5, 0.0, 0.5, 3.0, 7.0];
    let mut y = [0f32; 6];
    let cases: [(Activation, [f32; 6]); 5] = [
        (Activation::None, x),
        (Activation::Relu, [0.0, 0.0, 0.0, 0.5, 3.0, 7.0]),
        (
            Activation::Clip { min: 0.0, max: 6.0 },
            [0.0, 0.0, 0.0, 0.5, 3.0, 6.0],
        ),
        (
            Activation::LeakyRelu { alpha: 0.1 },
            [-0.3, -0.05, 0.0, 0.5, 3.0, 7.0],
        ),
        (
            Activation::HardSwish,
            [0.0, -0.5 * (2.5 / 6.0), 0.0, 0.5 * (3.5 / 6.0), 3.0, 7.0],
        ),
    ];
    for (act, expected) in cases {
        activation_f32(act, &x, &mut y);
        for (a, e) in y.iter().zip(expected) {
            assert!((a - e).abs() <= 1e-6, "{act:?}: {y:?} vs {expected:?}");
        }
    }
    activation_f32(Activation::Sigmoid, &[0.0, 2.0], &mut y[..2]);
    assert!((y[0] - 0.5).abs() < 1e-7 && (y[1] - 1.0 / (1.0 + (-2f32).exp())).abs() < 1e-6);
    activation_f32(Activation::Tanh, &[0.5], &mut y[..1]);
    assert!((y[0] - 0.5f32.tanh()).abs() < 1e-6);
}
