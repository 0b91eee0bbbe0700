//! Schedules of a hyperparameter over episodes ([`Schedule`]), and step sizes ([`StepSize`]).
//!
//! In a config file a schedule is either a number (a constant) or a table tagged by
//! `schedule`; a step size is either a number or the string `"1/n"`:
//!
//! ```toml
//! epsilon = 0.1                                                             # constant
//! epsilon = { schedule = "linear", start = 1.0, end = 0.05, episodes = 500 }
//! epsilon = { schedule = "exponential", start = 1.0, decay = 0.99, end = 0.01 }
//! epsilon = { schedule = "inverse", start = 1.0 }                          # start / k: GLIE
//! alpha = 0.5                                                               # constant
//! alpha = "1/n"                                                             # sample averages
//! ```

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// A value that changes from episode to episode: ε of an ε-greedy policy, the temperature of
/// a softmax.
///
/// Episodes are numbered `k = 1, 2, …`; [`Schedule::value`]`(k)` is the value in force during
/// episode `k`.
///
/// | schedule | value in episode `k` | TOML |
/// |---|---|---|
/// | [`Constant`](Schedule::Constant) | `value` | `0.1` or `{ schedule = "constant", value = 0.1 }` |
/// | [`Linear`](Schedule::Linear) | `start + (end − start) · min(1, (k − 1) / episodes)` | `{ schedule = "linear", start, end, episodes }` |
/// | [`Exponential`](Schedule::Exponential) | `max(end, start · decay^(k − 1))` | `{ schedule = "exponential", start, decay, end = 0 }` |
/// | [`Inverse`](Schedule::Inverse) | `start / k` | `{ schedule = "inverse", start }` |
///
/// `Inverse` with ε-greedy is GLIE (greedy in the limit with infinite exploration): every
/// action is tried infinitely often, and the policy becomes greedy (Sutton & Barto §5.4,
/// Singh et al. 2000).
///
/// ```
/// use qlab_agents::tabular::Schedule;
/// let eps = Schedule::Linear { start: 1.0, end: 0.1, episodes: 9 };
/// assert_eq!(eps.value(1), 1.0);
/// assert!((eps.value(4) - 0.7).abs() < 1e-12);
/// assert_eq!(eps.value(10), 0.1);
/// assert_eq!(eps.value(1000), 0.1);
/// assert_eq!(Schedule::Inverse { start: 1.0 }.value(4), 0.25);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    /// The same value in every episode.
    Constant(f64),
    /// From `start` in episode 1 to `end` in episode `episodes + 1`, in equal steps, then
    /// `end` for ever.
    Linear {
        /// The value in the first episode.
        start: f64,
        /// The value from episode `episodes + 1` on.
        end: f64,
        /// Episodes over which the value moves from `start` to `end` (at least 1).
        episodes: u64,
    },
    /// `start` multiplied by `decay` after each episode, never below `end`.
    Exponential {
        /// The value in the first episode.
        start: f64,
        /// The factor applied after each episode, in `(0, 1]`.
        decay: f64,
        /// The floor.
        end: f64,
    },
    /// `start / k` in episode `k`.
    Inverse {
        /// The value in the first episode.
        start: f64,
    },
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule::Constant(0.0)
    }
}

impl Schedule {
    /// The value in force during episode `k` (`k ≥ 1`; `k = 0` is read as 1).
    pub fn value(&self, k: u64) -> f64 {
        let k = k.max(1);
        match *self {
            Schedule::Constant(v) => v,
            Schedule::Linear {
                start,
                end,
                episodes,
            } => {
                if k > episodes {
                    end
                } else {
                    start + (end - start) * ((k - 1) as f64 / episodes as f64)
                }
            }
            Schedule::Exponential { start, decay, end } => {
                // powi takes an i32; past that many episodes the value has long reached `end`
                // for any decay < 1.
                let e = (k - 1).min(i32::MAX as u64) as i32;
                (start * decay.powi(e)).max(end)
            }
            Schedule::Inverse { start } => start / k as f64,
        }
    }

    /// Checks that every value the schedule can take satisfies `ok` (described by `expected`,
    /// e.g. `"a number in [0, 1]"`), and that its shape parameters are valid. Errors name
    /// `key` or `key.field`.
    pub fn validate(&self, key: &str, ok: impl Fn(f64) -> bool, expected: &str) -> Result<()> {
        let check = |field: &str, v: f64| {
            if ok(v) {
                Ok(())
            } else {
                let name = if field.is_empty() {
                    key.to_string()
                } else {
                    format!("{key}.{field}")
                };
                Err(Error::config(name, v, expected))
            }
        };
        match *self {
            Schedule::Constant(v) => check("", v),
            Schedule::Linear {
                start,
                end,
                episodes,
            } => {
                check("start", start)?;
                check("end", end)?;
                if episodes == 0 {
                    return Err(Error::config(
                        format!("{key}.episodes"),
                        episodes,
                        "an integer ≥ 1",
                    ));
                }
                Ok(())
            }
            Schedule::Exponential { start, decay, end } => {
                check("start", start)?;
                check("end", end)?;
                if !(decay > 0.0 && decay <= 1.0) {
                    return Err(Error::config(
                        format!("{key}.decay"),
                        decay,
                        "a number in (0, 1]",
                    ));
                }
                Ok(())
            }
            Schedule::Inverse { start } => check("start", start),
        }
    }
}

/// The table form of a [`Schedule`], as it is written in a config file.
#[derive(Serialize, Deserialize)]
#[serde(tag = "schedule", rename_all = "snake_case", deny_unknown_fields)]
enum ScheduleTable {
    Constant {
        value: f64,
    },
    Linear {
        start: f64,
        end: f64,
        episodes: u64,
    },
    Exponential {
        start: f64,
        decay: f64,
        #[serde(default)]
        end: f64,
    },
    Inverse {
        start: f64,
    },
}

impl From<ScheduleTable> for Schedule {
    fn from(t: ScheduleTable) -> Self {
        match t {
            ScheduleTable::Constant { value } => Schedule::Constant(value),
            ScheduleTable::Linear {
                start,
                end,
                episodes,
            } => Schedule::Linear {
                start,
                end,
                episodes,
            },
            ScheduleTable::Exponential { start, decay, end } => {
                Schedule::Exponential { start, decay, end }
            }
            ScheduleTable::Inverse { start } => Schedule::Inverse { start },
        }
    }
}

impl Serialize for Schedule {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let table = match *self {
            Schedule::Constant(v) => return s.serialize_f64(v),
            Schedule::Linear {
                start,
                end,
                episodes,
            } => ScheduleTable::Linear {
                start,
                end,
                episodes,
            },
            Schedule::Exponential { start, decay, end } => {
                ScheduleTable::Exponential { start, decay, end }
            }
            Schedule::Inverse { start } => ScheduleTable::Inverse { start },
        };
        table.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Schedule;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a number or a schedule table such as \
                     { schedule = \"linear\", start = 1.0, end = 0.05, episodes = 500 }",
                )
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Schedule, E> {
                Ok(Schedule::Constant(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Schedule, E> {
                Ok(Schedule::Constant(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Schedule, E> {
                Ok(Schedule::Constant(v as f64))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<Schedule, A::Error> {
                ScheduleTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(Schedule::from)
            }
        }
        d.deserialize_any(V)
    }
}

/// The step size α of an update.
///
/// | step size | TOML | per update of weight `(i, a)` |
/// |---|---|---|
/// | [`Constant`](StepSize::Constant) | `alpha = 0.5` | `α / m` |
/// | [`SampleAverage`](StepSize::SampleAverage) | `alpha = "1/n"` | `1 / (n(i, a) · m)` |
///
/// `m` is the number of active features of the state updated (1 for a tabular state, the
/// number of tilings with tile coding): Sutton & Barto's `α / numTilings` convention (§9.5.4),
/// so that α is the fraction of the error removed from `Q(s, a)` by one update whatever the
/// number of tilings. `n(i, a)` counts the updates of that weight so far, this one included;
/// on tabular states `1/n` makes `Q(s, a)` the average of its targets (S&B §2.4, §5.1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StepSize {
    /// A constant α.
    Constant(f64),
    /// `1 / n`, with `n` the number of updates of the weight so far.
    SampleAverage,
}

impl StepSize {
    /// Checks a constant step size against `(0, 1]`; the error names `key`.
    pub fn validate(&self, key: &str) -> Result<()> {
        match *self {
            StepSize::Constant(a) if !(a > 0.0 && a <= 1.0) => Err(Error::config(
                key,
                a,
                "a number in (0, 1] or \"1/n\" (sample averages)",
            )),
            _ => Ok(()),
        }
    }
}

impl Serialize for StepSize {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match *self {
            StepSize::Constant(a) => s.serialize_f64(a),
            StepSize::SampleAverage => s.serialize_str("1/n"),
        }
    }
}

impl<'de> Deserialize<'de> for StepSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = StepSize;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or \"1/n\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<StepSize, E> {
                Ok(StepSize::Constant(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<StepSize, E> {
                Ok(StepSize::Constant(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<StepSize, E> {
                Ok(StepSize::Constant(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<StepSize, E> {
                if v.replace(' ', "") == "1/n" {
                    Ok(StepSize::SampleAverage)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_values() {
        assert_eq!(Schedule::Constant(0.3).value(1), 0.3);
        assert_eq!(Schedule::Constant(0.3).value(10_000), 0.3);
        // Linear from 1 to 0 over 4 episodes: 1, 0.75, 0.5, 0.25, 0, 0, …
        let lin = Schedule::Linear {
            start: 1.0,
            end: 0.0,
            episodes: 4,
        };
        let got: Vec<f64> = (1..=7).map(|k| lin.value(k)).collect();
        assert_eq!(got, [1.0, 0.75, 0.5, 0.25, 0.0, 0.0, 0.0]);
        // Exponential: 1, 0.5, 0.25, then the floor 0.2.
        let exp = Schedule::Exponential {
            start: 1.0,
            decay: 0.5,
            end: 0.2,
        };
        let got: Vec<f64> = (1..=5).map(|k| exp.value(k)).collect();
        assert_eq!(got, [1.0, 0.5, 0.25, 0.2, 0.2]);
        assert_eq!(exp.value(u64::MAX), 0.2);
        // 1/k.
        let inv = Schedule::Inverse { start: 1.0 };
        let got: Vec<f64> = (1..=4).map(|k| inv.value(k)).collect();
        assert_eq!(got, [1.0, 0.5, 1.0 / 3.0, 0.25]);
        assert_eq!(inv.value(0), 1.0);
    }

    #[test]
    fn schedule_validation_names_the_field() {
        let unit = |v: f64| (0.0..=1.0).contains(&v);
        let e = Schedule::Constant(1.5)
            .validate("epsilon", unit, "a number in [0, 1]")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid value 1.5 for `epsilon`: expected a number in [0, 1]"
        );
        let bad_parts = [
            (
                Schedule::Linear {
                    start: 1.0,
                    end: -0.1,
                    episodes: 3,
                },
                "`epsilon.end`",
            ),
            (
                Schedule::Linear {
                    start: 1.0,
                    end: 0.1,
                    episodes: 0,
                },
                "`epsilon.episodes`",
            ),
            (
                Schedule::Exponential {
                    start: 1.0,
                    decay: 1.5,
                    end: 0.0,
                },
                "`epsilon.decay`",
            ),
        ];
        for (schedule, field) in bad_parts {
            let e = schedule
                .validate("epsilon", unit, "a number in [0, 1]")
                .unwrap_err();
            assert!(e.to_string().contains(field), "{e}");
        }
        let e = Schedule::Constant(0.0)
            .validate("temperature", |t| t > 0.0, "a number > 0")
            .unwrap_err();
        assert!(e.to_string().contains("`temperature`"), "{e}");
        assert!(
            Schedule::Constant(f64::NAN)
                .validate("epsilon", unit, "a number in [0, 1]")
                .is_err()
        );
        assert!(StepSize::Constant(0.0).validate("alpha").is_err());
        assert!(StepSize::Constant(1.0).validate("alpha").is_ok());
        assert!(StepSize::SampleAverage.validate("alpha").is_ok());
    }
}
