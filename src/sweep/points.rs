//! The points of a sweep: each one assignment of the swept keys, named `p000`, `p001`, … in a
//! fixed order.
//!
//! - **Grid points first**, every combination of `[grid]`'s lists, as nested loops over the
//!   keys in the order written: the first key varies slowest, the last fastest. For
//!   `"agent.alpha" = [0.1, 0.5]` and `"agent.epsilon" = [0.05, 0.1]`: (0.1, 0.05),
//!   (0.1, 0.1), (0.5, 0.05), (0.5, 0.1).
//! - **Then the search trials**, trial `i` (from 0) drawn from its own
//!   [`EnvRng`] seeded with [`trial_seed`]`(seed, i)`, one draw per key of `[search.space]` in
//!   the order written (a joint key's draw gives each of its keys its value). A trial depends on the sweep file alone — not on the executor, the
//!   other trials or any result — so the same sweep file gives the same points.
//!
//! A point's name is `p` and its index, zero-padded to three digits (more when the sweep has
//! more than 1,000 points). A point's values are TOML values that print as the shortest text
//! reading back as the same value (`0.30000000000000004`, `1.0`), so that the `--set` flags,
//! `sweep.csv` and the point's `config.toml` all hold the value drawn, exactly.

use qlab_envs::EnvRng;

use super::spec::{Distribution, Search, SweepSpec};

/// One point of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Its name, also its directory's: `p000`, `p001`, …
    pub name: String,
    /// Its swept keys (`SECTION.KEY`) and their values, grid keys in the order written, then
    /// search keys.
    pub params: Vec<(String, toml::Value)>,
}

impl Point {
    /// The point as `--set SECTION.KEY=VALUE` overrides of the base config.
    pub fn sets(&self) -> Vec<String> {
        self.params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }

    /// The value of `key`, if the point sets it.
    pub fn get(&self, key: &str) -> Option<&toml::Value> {
        self.params.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// Every combination of the grid's lists, the last key varying fastest.
pub fn grid(grid: &[(String, Vec<toml::Value>)]) -> Vec<Vec<(String, toml::Value)>> {
    if grid.is_empty() {
        return Vec::new();
    }
    let total: usize = grid.iter().map(|(_, v)| v.len()).product();
    (0..total)
        .map(|mut index| {
            let mut params = vec![(String::new(), toml::Value::Boolean(false)); grid.len()];
            for (slot, (key, values)) in params.iter_mut().zip(grid).rev() {
                *slot = (key.clone(), values[index % values.len()].clone());
                index /= values.len();
            }
            params
        })
        .collect()
}

/// The seed of trial `trial`'s [`EnvRng`]: `seed` + `trial` · 0x9E3779B97F4A7C15 (wrapping),
/// which [`EnvRng::new`] spreads through SplitMix64.
pub fn trial_seed(seed: u64, trial: usize) -> u64 {
    seed.wrapping_add((trial as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// One draw from `d`.
pub fn sample(d: &Distribution, rng: &mut EnvRng) -> toml::Value {
    match d {
        Distribution::Uniform(lo, hi) => {
            // `lo + (hi − lo)·u` can round up to `hi`; the interval is half-open.
            let x = lo + (hi - lo) * rng.next_f64();
            toml::Value::Float(if x < *hi { x } else { *lo })
        }
        Distribution::LogUniform(lo, hi) => {
            let (a, b) = (lo.ln(), hi.ln());
            let x = (a + (b - a) * rng.next_f64()).exp();
            toml::Value::Float(x.clamp(*lo, *hi))
        }
        Distribution::Int(lo, hi) => {
            // At most 2³² − 1 apart (checked when read), so the count fits a usize.
            let n = hi.abs_diff(*lo) as usize + 1;
            toml::Value::Integer(lo.wrapping_add(rng.below(n) as i64))
        }
        Distribution::Choice(values) => values[rng.below(values.len())].clone(),
    }
}

/// A drawn value as the point's keys and values: itself under a plain key; under a joint
/// key (`SECTION.KEY,SECTION.KEY`, whose values are lists of one value per key), each key
/// with its value.
pub fn expand(key: &str, value: toml::Value) -> Vec<(String, toml::Value)> {
    match value {
        toml::Value::Array(values) if key.contains(',') => {
            key.split(',').map(str::to_string).zip(values).collect()
        }
        value => vec![(key.to_string(), value)],
    }
}

/// The search's trials, each drawn as the module's doc says (whatever its method: for `tpe`
/// they stand in for its points when the sweep is checked).
pub fn random_trials(search: &Search) -> Vec<Vec<(String, toml::Value)>> {
    (0..search.trials)
        .map(|trial| {
            let mut rng = EnvRng::new(trial_seed(search.seed, trial));
            search
                .space
                .iter()
                .flat_map(|(key, d)| expand(key, sample(d, &mut rng)))
                .collect()
        })
        .collect()
}

/// Every point of the sweep, grid points first, named.
pub fn points(spec: &SweepSpec) -> Vec<Point> {
    let mut all = grid(&spec.grid);
    if let Some(search) = &spec.search {
        all.extend(random_trials(search));
    }
    let total = all.len();
    all.into_iter()
        .enumerate()
        .map(|(i, params)| Point {
            name: name(i, total),
            params,
        })
        .collect()
}

/// The name of point `index` of a sweep of `total` points: `p` and the index, zero-padded to
/// three digits, or to as many as the last index has.
pub fn name(index: usize, total: usize) -> String {
    let width = (total.saturating_sub(1)).to_string().len().max(3);
    format!("p{index:0width$}")
}

/// The swept keys of `points`, each once, in the order the points first give them: the
/// columns of `sweep.csv`.
pub fn keys(points: &[Point]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for p in points {
        for (k, _) in &p.params {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_nested_loops_with_the_last_key_fastest() {
        let v = |x: f64| toml::Value::Float(x);
        let g = grid(&[
            ("a.x".into(), vec![v(1.0), v(2.0)]),
            ("a.y".into(), vec![v(0.5), v(0.25), v(0.125)]),
        ]);
        let pairs: Vec<(f64, f64)> = g
            .iter()
            .map(|p| (p[0].1.as_float().unwrap(), p[1].1.as_float().unwrap()))
            .collect();
        assert_eq!(
            pairs,
            [
                (1.0, 0.5),
                (1.0, 0.25),
                (1.0, 0.125),
                (2.0, 0.5),
                (2.0, 0.25),
                (2.0, 0.125)
            ]
        );
    }

    #[test]
    fn a_joint_draw_gives_each_key_its_value() {
        let pair = |a: i64, b: i64| toml::Value::Array(vec![a.into(), b.into()]);
        let search = Search {
            method: super::super::spec::Method::Random,
            trials: 50,
            seed: 1,
            space: vec![(
                "agent.train_freq,agent.gradient_steps".into(),
                Distribution::Choice(vec![pair(4, 4), pair(4, 1), pair(16, 8)]),
            )],
        };
        let mut seen = std::collections::BTreeSet::new();
        for t in random_trials(&search) {
            assert_eq!(t.len(), 2);
            assert_eq!(
                (t[0].0.as_str(), t[1].0.as_str()),
                ("agent.train_freq", "agent.gradient_steps")
            );
            let (f, g) = (t[0].1.as_integer().unwrap(), t[1].1.as_integer().unwrap());
            assert!([(4, 4), (4, 1), (16, 8)].contains(&(f, g)), "{t:?}");
            seen.insert((f, g));
        }
        assert_eq!(seen.len(), 3);
        assert_eq!(expand("a.b", pair(1, 2)), [("a.b".to_string(), pair(1, 2))]);
    }

    #[test]
    fn random_trials_lie_in_their_ranges_and_print_back_exactly() {
        let search = Search {
            method: super::super::spec::Method::Random,
            trials: 200,
            seed: 7,
            space: vec![
                ("a.u".into(), Distribution::Uniform(-1.0, 2.0)),
                ("a.l".into(), Distribution::LogUniform(1e-4, 1.0)),
                ("a.i".into(), Distribution::Int(-3, 3)),
                (
                    "a.c".into(),
                    Distribution::Choice(vec!["x".into(), "y".into()]),
                ),
            ],
        };
        let trials = random_trials(&search);
        assert_eq!(trials, random_trials(&search));
        let mut ints = std::collections::BTreeSet::new();
        for t in &trials {
            let u = t[0].1.as_float().unwrap();
            let l = t[1].1.as_float().unwrap();
            let i = t[2].1.as_integer().unwrap();
            assert!((-1.0..2.0).contains(&u) && (1e-4..=1.0).contains(&l) && (-3..=3).contains(&i));
            ints.insert(i);
            for (_, v) in t {
                let back: toml::Table = toml::from_str(&format!("v = {v}")).unwrap();
                assert_eq!(&back["v"], v);
            }
        }
        assert_eq!(ints.len(), 7);
        // Trial 5 does not depend on how many trials there are.
        let fewer = random_trials(&Search {
            trials: 6,
            ..search.clone()
        });
        assert_eq!(fewer[5], trials[5]);
    }
}
