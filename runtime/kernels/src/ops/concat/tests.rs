extern crate std;

use super::{concat_part, ConcatPart};

#[test]
fn channel_concat_of_two_nhwc_tensors() {
    // [1, 2, 2, 1] and [1, 2, 2, 2] along channels → [1, 2, 2, 3]: outer 4, blocks 1 and 2.
    let a = [1, 2, 3, 4];
    let b = [10, 11, 20, 21, 30, 31, 40, 41];
    let mut y = [0; 12];
    concat_part(
        &ConcatPart {
            outer: 4,
            in_block: 1,
            out_block: 3,
            offset: 0,
        },
        &a,
        &mut y,
    );
    concat_part(
        &ConcatPart {
            outer: 4,
            in_block: 2,
            out_block: 3,
            offset: 1,
        },
        &b,
        &mut y,
    );
    assert_eq!(y, [1, 10, 11, 2, 20, 21, 3, 30, 31, 4, 40, 41]);
}

#[test]
fn leading_axis_concat_is_one_block() {
    let mut y = [0f32; 5];
    concat_part(
        &ConcatPart {
            outer: 1,
            in_block: 2,
            out_block: 5,
            offset: 0,
        },
        &[1.0, 2.0],
        &mut y,
    );
    concat_part(
        &ConcatPart {
            outer: 1,
            in_block: 3,
            out_block: 5,
            offset: 2,
        },
        &[3.0, 4.0, 5.0],
        &mut y,
    );
    assert_eq!(y, [1.0, 2.0, 3.0, 4.0, 5.0]);
}
