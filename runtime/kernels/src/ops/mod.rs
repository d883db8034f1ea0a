//! One operator, one module. Each `mod.rs` states the contract; `reference.rs` is the portable
//! scalar implementation that every faster variant is tested against.

pub mod binary;
pub mod concat;
pub mod conv2d;
pub mod conv_transpose2d;
pub mod fully_connected;
pub mod matmul;
pub mod pad;
pub mod pool2d;
pub mod quantize;
pub mod reduce;
pub mod resize;
pub mod slice;
pub mod softmax;
pub mod transpose;
pub mod unary;

mod util;

#[cfg(test)]
pub(crate) mod test_util;
#[cfg(test)]
#[rustfmt::skip]
mod tflite_vectors;
