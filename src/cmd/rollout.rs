//! `qlab rollout`: play one episode and print it as CSV.

use std::fmt::Write as _;

use anyhow::{Context, Result, anyhow};
use qlab_envs::{AnyEnv, Env, EnvRng, Params, Space, SpaceAction};
use rand::SeedableRng;

/// The actions to play, as given on the command line; each is checked against the env's
/// action space when the rollout starts.
#[derive(Clone, Debug, PartialEq)]
pub enum Actions {
    /// These actions, in order; the episode stops when they run out. Each is the text of one
    /// action: an integer for a `Discrete` action space, the numbers of one vector separated
    /// by spaces for a `Box` (`"0.5 -1"`).
    List(Vec<String>),
    /// Uniformly random actions until the episode ends (or `max_steps`).
    Random,
}

impl std::str::FromStr for Actions {
    type Err = String;

    /// `random`, or actions separated by commas (empty ones skipped). Never fails: the actions
    /// are checked against the env when the rollout starts, where a bad one is a one-line
    /// error naming it and the action space.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s == "random" {
            return Ok(Actions::Random);
        }
        Ok(Actions::List(
            s.split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(String::from)
                .collect(),
        ))
    }
}

/// Play one episode and print it as CSV: t,action,reward,terminated,truncated,obs_0,...
#[derive(Clone, Debug, clap::Args)]
pub struct RolloutArgs {
    /// The env id (see `qlab envs`).
    #[arg(long)]
    pub env: String,
    /// Seed for the reset and for random actions.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Internal state set after the reset (CartPole: x,x_dot,theta,theta_dot; Acrobot:
    /// theta1,theta2,dtheta1,dtheta2; Pendulum: theta,theta_dot; MountainCar:
    /// position,velocity; GridWorld, Taxi, Blackjack: the state index).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub state: Option<Vec<f64>>,
    /// Comma-separated actions, or `random` for random actions until the episode ends. A Box
    /// action is its components separated by spaces: `--actions "0.5,-1 0.2"`.
    #[arg(long, default_value = "random", allow_hyphen_values = true)]
    pub actions: Actions,
    /// Env parameter KEY=VALUE (the keys of a config's [env] table); repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Print the env after the reset and each step to stderr.
    #[arg(long, value_parser = ["ansi"])]
    pub render: Option<String>,
    /// The most steps played with random actions.
    #[arg(long, default_value_t = 100_000)]
    pub max_steps: usize,
}

impl RolloutArgs {
    /// The rollout these arguments ask for, its `--param`s parsed.
    pub fn rollout(self) -> Result<Rollout> {
        Ok(Rollout {
            env: self.env,
            params: crate::params::parse_params(&self.params)?,
            seed: self.seed,
            state: self.state,
            actions: self.actions,
            render: self.render.is_some(),
            max_steps: self.max_steps,
        })
    }
}

/// What one rollout needs.
#[derive(Clone, Debug)]
pub struct Rollout {
    /// The env id.
    pub env: String,
    /// Env parameters.
    pub params: Params,
    /// Seed for the reset (and the random actions).
    pub seed: Option<u64>,
    /// Internal state to set after the reset.
    pub state: Option<Vec<f64>>,
    /// The actions.
    pub actions: Actions,
    /// Print the ANSI render to stderr after the reset and each step.
    pub render: bool,
    /// The most steps played with random actions.
    pub max_steps: usize,
}

/// An observation written as CSV cells.
trait CsvObs {
    fn write_cells(&self, out: &mut String);
}

impl CsvObs for usize {
    fn write_cells(&self, out: &mut String) {
        let _ = write!(out, ",{self}");
    }
}

impl CsvObs for Vec<f32> {
    fn write_cells(&self, out: &mut String) {
        for x in self {
            // `{}` prints the shortest text that reads back as the same f32.
            let _ = write!(out, ",{x}");
        }
    }
}

/// An action read from `--actions` and written into the CSV's `action` column.
trait CsvAction: SpaceAction {
    /// The action `text` names, checked against `space` (`env` names the env in errors).
    fn parse(text: &str, space: &Space, env: &str) -> Result<Self>;
    fn write_cell(&self, out: &mut String);
}

impl CsvAction for usize {
    fn parse(text: &str, space: &Space, env: &str) -> Result<usize> {
        let a = text.parse::<usize>().map_err(|_| {
            anyhow!("action `{text}` is not a non-negative integer; {env} has {space}")
        })?;
        a.check(space)?;
        Ok(a)
    }

    fn write_cell(&self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl CsvAction for Vec<f32> {
    fn parse(text: &str, space: &Space, env: &str) -> Result<Vec<f32>> {
        let a = text
            .split_whitespace()
            .map(|x| {
                x.parse::<f32>().map_err(|_| {
                    anyhow!("action `{text}`: `{x}` is not a number; {env} has {space}")
                })
            })
            .collect::<Result<Vec<f32>>>()?;
        a.check(space)?;
        Ok(a)
    }

    fn write_cell(&self, out: &mut String) {
        for (i, x) in self.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            let _ = write!(out, "{sep}{x}");
        }
    }
}

/// Plays the episode; returns the CSV text (nothing is printed, so an error leaves stdout empty).
pub fn run(r: &Rollout) -> Result<String> {
    match qlab_envs::make(&r.env, &r.params)? {
        AnyEnv::Discrete(mut env) => play(&mut env, r),
        AnyEnv::Vector(mut env) => play(&mut env, r),
        AnyEnv::Continuous(mut env) => play(&mut env, r),
    }
}

fn play<E>(env: &mut E, r: &Rollout) -> Result<String>
where
    E: Env,
    E::Action: CsvAction,
    E::Obs: CsvObs,
{
    let space = env.action_space().clone();
    // Every listed action is checked before the episode starts.
    let listed = match &r.actions {
        Actions::List(list) => list
            .iter()
            .enumerate()
            .map(|(t, text)| {
                E::Action::parse(text, &space, &env.name())
                    .with_context(|| format!("--actions: step {}", t + 1))
            })
            .collect::<Result<Vec<E::Action>>>()?,
        Actions::Random => Vec::new(),
    };
    let n_obs = match env.observation_space() {
        Space::Discrete(_) => 1,
        Space::Box(b) => b.len(),
    };
    let mut csv = String::from("t,action,reward,terminated,truncated");
    for i in 0..n_obs {
        let _ = write!(csv, ",obs_{i}");
    }
    csv.push('\n');

    let mut obs = env.reset(r.seed).obs;
    if let Some(state) = &r.state {
        obs = env.set_state(state).context("--state")?;
    }
    csv.push_str("0,,,,");
    obs.write_cells(&mut csv);
    csv.push('\n');
    if r.render {
        eprintln!("{}", env.render_ansi());
    }

    let mut random = r.seed.map_or_else(EnvRng::from_os_entropy, |s| {
        EnvRng::seed_from_u64(s.wrapping_add(1))
    });
    let mut t = 0;
    loop {
        let action = match &r.actions {
            Actions::List(_) => match listed.get(t) {
                Some(a) => a.clone(),
                None => break,
            },
            Actions::Random => {
                if t >= r.max_steps {
                    break;
                }
                // Uniform over `Discrete(n)` by one `below(n)` draw, as the box samples a Box.
                E::Action::sample(&space, &mut random)
                    .with_context(|| format!("no random action can be drawn from {space}"))?
            }
        };
        let step = env
            .step(action.clone())
            .with_context(|| format!("--actions: step {}", t + 1))?;
        t += 1;
        let _ = write!(csv, "{t},");
        action.write_cell(&mut csv);
        let _ = write!(
            csv,
            ",{},{},{}",
            step.reward, step.terminated, step.truncated
        );
        step.obs.write_cells(&mut csv);
        csv.push('\n');
        if r.render {
            eprintln!("{}", env.render_ansi());
        }
        if step.done() {
            break;
        }
    }
    Ok(csv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qlab_envs::BoxSpace;

    #[test]
    fn actions_split_on_commas_and_keep_the_components_of_each() {
        assert_eq!("random".parse(), Ok(Actions::Random));
        assert_eq!(
            " 0.5 -1 , 0.2 0,,".parse(),
            Ok(Actions::List(vec!["0.5 -1".into(), "0.2 0".into()]))
        );
    }

    #[test]
    fn a_two_dimensional_box_action_parses_checks_and_writes_back() {
        let space: Space = BoxSpace::uniform(-1.0, 1.0, vec![2]).into();
        let a = Vec::<f32>::parse("0.5  -1", &space, "Two").unwrap();
        assert_eq!(a, vec![0.5, -1.0]);
        let mut cell = String::new();
        a.write_cell(&mut cell);
        assert_eq!(cell, "0.5 -1");
        for (bad, why) in [
            ("0.5", "invalid action [0.5]"),
            ("0.5 1.5", "invalid action [0.5, 1.5]"),
            (
                "0.5 x",
                "`x` is not a number; Two has Box(-1, 1, (2,), float32)",
            ),
        ] {
            let e = format!("{:#}", Vec::<f32>::parse(bad, &space, "Two").unwrap_err());
            assert!(e.contains(why), "{bad}: {e}");
        }
        let e = usize::parse("-1", &Space::discrete(2), "Coin").unwrap_err();
        assert_eq!(
            e.to_string(),
            "action `-1` is not a non-negative integer; Coin has Discrete(2)"
        );
    }
}
