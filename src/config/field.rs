//! Serde readers and writers for config values whose valid domain serde's own types do not
//! say: counts with a least value, lists of counts, per-dimension bounds, seeds, text.
//!
//! Each reader fails with a message of the form "must be …, got VALUE" (or "[i] must be …"
//! about one item) that [`super::section::deserialize`] puts the key in front of, so that a
//! wrong type and a value out of the domain read the same: "`episodes` must be an integer
//! ≥ 1, got -5".

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Bounds;

/// A TOML value as it is written in a file (a table as "a table").
pub(crate) fn show(v: &toml::Value) -> String {
    match v {
        toml::Value::Table(_) => "a table".into(),
        v => v.to_string(),
    }
}

/// An integer type a count is read into.
pub(crate) trait Count: Sized {
    /// `n` as this type, if it fits.
    fn from_u64(n: u64) -> Option<Self>;
}

impl Count for u64 {
    fn from_u64(n: u64) -> Option<Self> {
        Some(n)
    }
}

impl Count for usize {
    fn from_u64(n: u64) -> Option<Self> {
        usize::try_from(n).ok()
    }
}

impl Count for Option<u64> {
    fn from_u64(n: u64) -> Option<Self> {
        Some(Some(n))
    }
}

/// The integer in `v` if it is one `≥ min`.
fn count_of<T: Count>(v: &toml::Value, min: u64) -> Option<T> {
    match v {
        toml::Value::Integer(i) if *i >= 0 && *i as u64 >= min => T::from_u64(*i as u64),
        _ => None,
    }
}

/// An integer `≥ MIN`.
pub(crate) fn at_least<'de, const MIN: u64, T: Count, D: Deserializer<'de>>(
    d: D,
) -> Result<T, D::Error> {
    let v = toml::Value::deserialize(d)?;
    count_of(&v, MIN)
        .ok_or_else(|| D::Error::custom(format!("must be an integer ≥ {MIN}, got {}", show(&v))))
}

/// A non-empty list of integers `≥ 1`.
pub(crate) fn counts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<usize>, D::Error> {
    let v = toml::Value::deserialize(d)?;
    let list = match &v {
        toml::Value::Array(items) if !items.is_empty() => {
            items.iter().map(|x| count_of(x, 1)).collect()
        }
        _ => None,
    };
    list.ok_or_else(|| {
        D::Error::custom(format!(
            "must be a non-empty list of integers ≥ 1, got {}",
            show(&v)
        ))
    })
}

/// A finite number, integer or float, for an optional key.
pub(crate) fn finite<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = toml::Value::deserialize(d)?;
    match v {
        toml::Value::Float(x) if x.is_finite() => Ok(Some(x)),
        toml::Value::Integer(i) => Ok(Some(i as f64)),
        v => Err(D::Error::custom(format!(
            "must be a finite number, got {}",
            show(&v)
        ))),
    }
}

/// A state: a non-empty list of finite numbers.
pub(crate) fn state<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<f64>>, D::Error> {
    let v = toml::Value::deserialize(d)?;
    let number = |x: &toml::Value| match *x {
        toml::Value::Float(x) if x.is_finite() => Some(x),
        toml::Value::Integer(i) => Some(i as f64),
        _ => None,
    };
    let list = match &v {
        toml::Value::Array(items) if !items.is_empty() => items.iter().map(number).collect(),
        _ => None,
    };
    list.map(Some).ok_or_else(|| {
        D::Error::custom(format!(
            "must be a non-empty list of finite numbers (a state as `qlab rollout --state` \
             takes it), got {}",
            show(&v)
        ))
    })
}

/// A string.
pub(crate) fn text<'de, T: From<String>, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    match toml::Value::deserialize(d)? {
        toml::Value::String(s) => Ok(T::from(s)),
        v => Err(D::Error::custom(format!(
            "must be a string, got {}",
            show(&v)
        ))),
    }
}

/// Per-dimension ranges: one `[low, high]` (finite numbers, `low < high`) or `[]` (the
/// observation space's own) per dimension.
pub(crate) fn bounds<'de, D: Deserializer<'de>>(d: D) -> Result<Bounds, D::Error> {
    let v = toml::Value::deserialize(d)?;
    let wrong = || {
        D::Error::custom(format!(
            "must be a list with one `[low, high]` (or `[]` for the space's own) per \
             dimension, got {}",
            show(&v)
        ))
    };
    let items = match &v {
        toml::Value::Array(items) if !items.is_empty() => items,
        _ => return Err(wrong()),
    };
    let number = |x: &toml::Value| match x {
        toml::Value::Float(f) => Some(*f),
        toml::Value::Integer(i) => Some(*i as f64),
        _ => None,
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            toml::Value::Array(pair) if pair.is_empty() => Ok(None),
            toml::Value::Array(pair) if pair.len() == 2 => {
                match (number(&pair[0]), number(&pair[1])) {
                    (Some(lo), Some(hi)) if lo.is_finite() && hi.is_finite() && lo < hi => {
                        Ok(Some((lo as f32, hi as f32)))
                    }
                    _ => Err(D::Error::custom(format!(
                        "[{i}] must be two finite numbers `[low, high]` with low < high, got {}",
                        show(item)
                    ))),
                }
            }
            _ => Err(wrong()),
        })
        .collect()
}

/// Writes bounds as [`bounds`] reads them, each `f32` as its shortest decimal, so that 2.4 is
/// written 2.4 and not 2.4000000953674316.
pub(crate) fn write_bounds<S: Serializer>(bounds: &Bounds, s: S) -> Result<S::Ok, S::Error> {
    let decimal = |x: f32| -> f64 { x.to_string().parse().expect("a float's text") };
    bounds
        .iter()
        .map(|b| match b {
            Some((lo, hi)) => vec![decimal(*lo), decimal(*hi)],
            None => vec![],
        })
        .collect::<Vec<_>>()
        .serialize(s)
}

/// Seeds: a non-empty list of distinct integers ≥ 0, or text as `--seeds` takes it
/// ([`super::parse_seeds`]).
pub(crate) fn seeds<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    let seeds = match toml::Value::deserialize(d)? {
        toml::Value::String(s) => super::parse_seeds(&s).map_err(D::Error::custom)?,
        toml::Value::Array(items) => {
            let seeds: Option<Vec<u64>> = items.iter().map(|x| count_of(x, 0)).collect();
            let seeds = seeds.filter(|s| !s.is_empty()).ok_or_else(|| {
                D::Error::custom(format!(
                    "must be a non-empty list of integers ≥ 0 or text like \"0..10\", got {}",
                    show(&toml::Value::Array(items.clone()))
                ))
            })?;
            super::check_unique(&seeds).map_err(D::Error::custom)?;
            seeds
        }
        v => {
            return Err(D::Error::custom(format!(
                "must be a list of integers ≥ 0 or text like \"0..10\", got {}",
                show(&v)
            )));
        }
    };
    Ok(seeds)
}

/// Writes seeds losslessly: as a list of integers, or, when one is past TOML's largest
/// integer (2⁶³ − 1), as text `"a,b,c"`, which [`seeds`] reads back.
pub(crate) fn write_seeds<S: Serializer>(seeds: &[u64], s: S) -> Result<S::Ok, S::Error> {
    if seeds.iter().all(|&x| i64::try_from(x).is_ok()) {
        seeds.serialize(s)
    } else {
        seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",")
            .serialize(s)
    }
}
