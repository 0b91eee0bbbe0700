//! The checks that several wrappers make of the env they wrap, each in one place.

use crate::{BoxSpace, Discrete, Error, Result, Space};

/// The box of a wrapper's inner observation space; an error naming the space if it is not one.
pub(crate) fn observed_box(space: &Space) -> Result<&BoxSpace> {
    space
        .as_box()
        .ok_or_else(|| wrong_observation_space(space, "a Box"))
}

/// The discrete inner observation space of a wrapper; an error naming the space if it is not
/// one.
pub(crate) fn observed_discrete(space: &Space) -> Result<Discrete> {
    space
        .as_discrete()
        .ok_or_else(|| wrong_observation_space(space, "a Discrete space"))
}

/// The box of a wrapper's inner action space; an error naming the space if it is not one.
pub(crate) fn acted_box(space: &Space) -> Result<&BoxSpace> {
    space.as_box().ok_or_else(|| Error::InvalidParam {
        key: "action_space".into(),
        value: space.to_string(),
        expected: "a Box".into(),
    })
}

fn wrong_observation_space(space: &Space, expected: &str) -> Error {
    Error::InvalidParam {
        key: "observation_space".into(),
        value: space.to_string(),
        expected: expected.into(),
    }
}

/// The finite per-dimension ranges of a box observation space, the box's own bounds replaced by
/// any given in `bounds`. Shared by the wrappers that grid a box ([`Discretize`](super::Discretize),
/// [`TileCoding`](super::TileCoding)).
pub(crate) fn resolve_bounds(
    space: &Space,
    counts: &[usize],
    bounds: &[Option<(f32, f32)>],
) -> Result<(Vec<f32>, Vec<f32>)> {
    let boxed = observed_box(space)?;
    let dims = boxed.len();
    if counts.len() != dims {
        return Err(Error::InvalidParam {
            key: "bins".into(),
            value: format!("{counts:?}"),
            expected: format!("one count per observation dimension ({dims})"),
        });
    }
    if let Some(i) = counts.iter().position(|&b| b == 0) {
        return Err(Error::InvalidParam {
            key: format!("bins[{i}]"),
            value: "0".into(),
            expected: "at least 1".into(),
        });
    }
    if bounds.len() != dims {
        return Err(Error::InvalidParam {
            key: "bounds".into(),
            value: format!("{} entries", bounds.len()),
            expected: format!("one entry per observation dimension ({dims})"),
        });
    }
    let mut low = Vec::with_capacity(dims);
    let mut high = Vec::with_capacity(dims);
    for (i, bound) in bounds.iter().enumerate() {
        let (l, h) = bound.unwrap_or((boxed.low()[i], boxed.high()[i]));
        if !(l.is_finite() && h.is_finite() && l < h) {
            let expected = if bound.is_some() {
                "finite bounds with low < high".to_string()
            } else {
                format!(
                    "an explicit finite (low, high): dimension {i} of {} is not finite with low < high",
                    boxed
                )
            };
            return Err(Error::InvalidParam {
                key: format!("bounds[{i}]"),
                value: format!("({l}, {h})"),
                expected,
            });
        }
        low.push(l);
        high.push(h);
    }
    Ok((low, high))
}
