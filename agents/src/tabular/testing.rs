//! Helpers shared by the learning tests.

use super::{AgentConfig, EpisodeOutcome, TabularAgent, run_episode};
use qlab_envs::{AnyEnv, DiscreteEnv, EnvRng, ParamValue, Params, make};

/// A registered discrete env with its default parameters, or with `king_moves`.
pub fn discrete(id: &str, king_moves: bool) -> DiscreteEnv {
    let params = if king_moves {
        Params::new().with("king_moves", ParamValue::Bool(true))
    } else {
        Params::new()
    };
    match make(id, &params).unwrap() {
        AnyEnv::Discrete(env) => env,
        _ => unreachable!("{id} is discrete"),
    }
}

/// Runs `episodes` learning episodes with seed `seed` for both the env and the agent's
/// generator; the outcomes, and the generator to go on with.
pub fn learn(
    env: &mut DiscreteEnv,
    agent: &mut dyn TabularAgent,
    episodes: usize,
    seed: u64,
) -> (Vec<EpisodeOutcome>, EnvRng) {
    let mut rng = EnvRng::new(seed);
    let outcomes = (0..episodes)
        .map(|e| {
            let seed = (e == 0).then_some(seed);
            run_episode(env, agent, seed, &mut rng, Some(100_000)).unwrap()
        })
        .collect();
    (outcomes, rng)
}

/// Builds the agent of `config` for `env`.
pub fn build(config: &AgentConfig, env: &DiscreteEnv) -> Box<dyn TabularAgent> {
    let n = |s: &qlab_envs::Space| s.as_discrete().unwrap().n;
    config
        .build(n(env.observation_space()), n(env.action_space()))
        .unwrap()
}

/// Mean and sample standard deviation.
pub fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, var.sqrt())
}

/// Asserts that the mean of `n` seeds, `got`, agrees with a reference mean over `ref_n`
/// seeds within 4 standard errors of the difference, `sd` being the seed-to-seed standard
/// deviation.
pub fn assert_close_to_reference(
    what: &str,
    got: f64,
    n: usize,
    reference: f64,
    ref_n: usize,
    sd: f64,
) {
    let se = sd * (1.0 / n as f64 + 1.0 / ref_n as f64).sqrt();
    assert!(
        (got - reference).abs() <= 4.0 * se,
        "{what}: {got:.3} over {n} seeds, reference {reference:.3} over {ref_n} (4 se = {:.3})",
        4.0 * se
    );
}

/// Mean return of episodes 401–500 of the cliff walk (S&B Figure 6.4), one value per seed.
pub fn cliff_tails(config: &AgentConfig, seeds: u64) -> Vec<f64> {
    (0..seeds)
        .map(|seed| {
            let mut env = discrete("CliffWalking-v1", false);
            let mut agent = build(config, &env);
            let (outcomes, _) = learn(&mut env, agent.as_mut(), 500, seed);
            outcomes[400..].iter().map(|o| o.ret).sum::<f64>() / 100.0
        })
        .collect()
}

/// The exact probability that the agent's greedy policy (ties broken once per state, with
/// `rng`) reaches the goal of `env` within `horizon` steps, from the env's model: the mean
/// reward is the success rate where the only reward is 1 at the goal, as in FrozenLake.
pub fn greedy_success(
    env: &DiscreteEnv,
    agent: &dyn TabularAgent,
    horizon: usize,
    rng: &mut EnvRng,
) -> f64 {
    let model = env.model().unwrap();
    let n = model.n_states();
    let policy: Vec<usize> = (0..n).map(|s| agent.greedy(&[s], rng)).collect();
    let mut v = vec![0.0; n];
    for _ in 0..horizon {
        v = (0..n)
            .map(|s| {
                model
                    .transitions(s, policy[s])
                    .iter()
                    .map(|t| t.prob * (t.reward + if t.terminated { 0.0 } else { v[t.next_state] }))
                    .sum()
            })
            .collect();
    }
    model.initial_states().iter().map(|&(s, p)| p * v[s]).sum()
}

/// Runs one episode given as `(reward, next state, terminated)` steps from state `first`.
pub fn feed(agent: &mut dyn TabularAgent, first: usize, steps: &[(f64, usize, bool)]) {
    let mut rng = EnvRng::new(0);
    agent.start(&[first], &mut rng);
    for &(r, s, t) in steps {
        agent.step(r, &[s], t, false, &mut rng);
    }
}

/// The episode A → A → B → end with rewards 1, 0, 2 (states 0, 1, 2).
pub const EPISODE: [(f64, usize, bool); 3] = [(1.0, 0, false), (0.0, 1, false), (2.0, 2, true)];

/// The config of `algorithm` from a table of `keys` on top of α = 0.5, λ = 0.5 and no trace
/// cutoff (which `keys` may replace), as a config file would give it.
pub fn lambda_config(
    algorithm: &'static str,
    keys: &[(&'static str, value::Value)],
) -> AgentConfig {
    use value::Value;
    let mut table = vec![
        ("algorithm", Value::Str(algorithm)),
        ("alpha", Value::Float(0.5)),
        ("lambda", Value::Float(0.5)),
        ("trace_cutoff", Value::Float(0.0)),
    ];
    table.retain(|(key, _)| keys.iter().all(|(k, _)| k != key));
    table.extend_from_slice(keys);
    value::from_table(table).unwrap()
}

/// Asserts that agents of `a` and `b` over 3 features and one action have the same weights,
/// bit for bit, after `episodes` runs of [`EPISODE`] each.
pub fn assert_same_weights_on_episode(a: &AgentConfig, b: &AgentConfig, episodes: usize) {
    let (mut x, mut y) = (a.build(3, 1).unwrap(), b.build(3, 1).unwrap());
    for _ in 0..episodes {
        feed(x.as_mut(), 0, &EPISODE);
        feed(y.as_mut(), 0, &EPISODE);
    }
    assert_eq!(x.parameters(), y.parameters(), "{a:?} vs {b:?}");
}

/// How many of `outcomes` ended within the first `steps` steps.
pub fn episodes_within(outcomes: &[EpisodeOutcome], steps: u64) -> usize {
    let mut total = 0;
    outcomes
        .iter()
        .take_while(|o| {
            total += o.length;
            total <= steps
        })
        .count()
}

/// A minimal self-describing value, to deserialize configs in tests as a TOML or JSON parser
/// would hand them over (this crate does not depend on a format crate).
pub mod value {
    use serde::de::value::{Error, MapDeserializer};
    use serde::de::{Deserializer, IntoDeserializer, Visitor};
    use serde::forward_to_deserialize_any;

    /// A TOML-like value.
    #[derive(Clone, Debug)]
    pub enum Value {
        Int(i64),
        Float(f64),
        Str(&'static str),
        Table(Vec<(&'static str, Value)>),
    }

    impl<'de> IntoDeserializer<'de, Error> for Value {
        type Deserializer = Value;
        fn into_deserializer(self) -> Value {
            self
        }
    }

    impl<'de> Deserializer<'de> for Value {
        type Error = Error;
        fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
            match self {
                Value::Int(i) => v.visit_i64(i),
                Value::Float(f) => v.visit_f64(f),
                Value::Str(s) => v.visit_str(s),
                Value::Table(t) => v.visit_map(MapDeserializer::new(t.into_iter())),
            }
        }
        fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
            v.visit_some(self)
        }
        fn deserialize_enum<V: Visitor<'de>>(
            self,
            name: &'static str,
            variants: &'static [&'static str],
            v: V,
        ) -> Result<V::Value, Error> {
            match self {
                // A unit variant written as a string, as TOML writes `policy = "softmax"`.
                Value::Str(s) => s.into_deserializer().deserialize_enum(name, variants, v),
                other => other.deserialize_any(v),
            }
        }
        forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf unit unit_struct newtype_struct seq tuple tuple_struct map struct
            identifier ignored_any
        }
    }

    /// Deserializes a `T` from a table.
    pub fn from_table<T: serde::de::DeserializeOwned>(
        table: Vec<(&'static str, Value)>,
    ) -> Result<T, Error> {
        T::deserialize(Value::Table(table))
    }
}
