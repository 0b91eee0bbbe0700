//! [`argmax`], [`argmin`], [`argmax_except`]: the index of the best value of a slice on the
//! host, with candle's tie-breaking, for action values copied out of a network.

/// The first index of the largest value (0 for an empty slice), as candle's `argmax` and
/// PyTorch's pick it among equal values.
///
/// A NaN never wins against a number after it, and nothing wins against a NaN at index 0
/// (every comparison with NaN is false).
///
/// ```
/// use qlab_nn::argmax;
/// assert_eq!(argmax(&[0.5, 2.0, -1.0, 2.0]), 1);
/// assert_eq!(argmax(&[]), 0);
/// ```
pub fn argmax(xs: &[f32]) -> usize {
    first_best(xs, None, |x, best| x > best).unwrap_or(0)
}

/// The first index of the smallest value (0 for an empty slice).
///
/// ```
/// use qlab_nn::argmin;
/// assert_eq!(argmin(&[0.5, -1.0, 2.0, -1.0]), 1);
/// ```
pub fn argmin(xs: &[f32]) -> usize {
    first_best(xs, None, |x, best| x < best).unwrap_or(0)
}

/// The first index of the largest value among all but index `skip`: the best other action;
/// `None` when there is no other index.
///
/// ```
/// use qlab_nn::argmax_except;
/// assert_eq!(argmax_except(&[3.0, 1.0, 2.0, 2.0], 0), Some(2));
/// assert_eq!(argmax_except(&[3.0], 0), None);
/// ```
pub fn argmax_except(xs: &[f32], skip: usize) -> Option<usize> {
    first_best(xs, Some(skip), |x, best| x > best)
}

/// The one loop behind the three: the first index (other than `skip`) whose value is
/// `better` than every earlier one's, each compared with the best so far.
fn first_best(xs: &[f32], skip: Option<usize>, better: impl Fn(f32, f32) -> bool) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, &x) in xs.iter().enumerate() {
        if Some(i) != skip && best.is_none_or(|b| better(x, xs[b])) {
            best = Some(i);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    /// Ties, NaNs and infinities, each against candle's own `argmax` and `argmin` on the CPU.
    #[test]
    fn the_first_best_index_as_candle_picks_it() {
        let nan = f32::NAN;
        let cases: [&[f32]; 9] = [
            &[1.0],
            &[1.0, 2.0, 3.0],
            &[3.0, 2.0, 1.0],
            &[2.0, 5.0, 5.0, 1.0, 5.0],
            &[0.0, -0.0, 0.0],
            &[-1.0, -1.0, -1.0],
            &[f32::NEG_INFINITY, f32::NEG_INFINITY, -1e30],
            &[1.0, f32::INFINITY, 7.0, f32::INFINITY],
            &[4.0, 1.0, 4.0, 1.0],
        ];
        for xs in cases {
            let t = Tensor::from_slice(xs, xs.len(), &Device::Cpu).unwrap();
            let want_max = t.argmax(0).unwrap().to_scalar::<u32>().unwrap() as usize;
            let want_min = t.argmin(0).unwrap().to_scalar::<u32>().unwrap() as usize;
            assert_eq!(argmax(xs), want_max, "{xs:?}");
            assert_eq!(argmin(xs), want_min, "{xs:?}");
        }
        assert_eq!(argmax(&[nan, 1.0, 2.0]), 0);
        assert_eq!(argmax(&[1.0, nan, 2.0]), 2);
        assert_eq!(argmin(&[1.0, nan, 0.5]), 2);
        assert_eq!((argmax(&[]), argmin(&[])), (0, 0));
    }

    #[test]
    fn the_best_other_index() {
        assert_eq!(argmax_except(&[5.0, 1.0, 3.0, 3.0], 0), Some(2));
        assert_eq!(argmax_except(&[5.0, 1.0, 3.0, 3.0], 2), Some(0));
        assert_eq!(argmax_except(&[1.0, 1.0], 0), Some(1));
        assert_eq!(argmax_except(&[1.0, 1.0], 1), Some(0));
        assert_eq!(argmax_except(&[1.0], 0), None);
        assert_eq!(argmax_except(&[], 0), None);
        // An index past the end skips nothing.
        assert_eq!(argmax_except(&[1.0, 2.0], 9), Some(1));
    }
}
