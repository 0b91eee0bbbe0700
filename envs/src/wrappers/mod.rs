//! Wrappers: envs built around other envs, each doing one thing.
//!
//! Every wrapper implements [`Wrapper`] — what it changes, with everything else forwarded to the
//! env inside — and is therefore an [`Env`](crate::Env), so they stack:
//! `EpisodeStats::new(TimeLimit::new(env, 500))`. [`Wrapper`] gives each `inner()`,
//! `inner_mut()` and `into_inner()`. Actions pass through unchanged, discrete or Box.
//!
//! The table's last column says whether a wrapper forwards the inner env's exact model and
//! RNG state ([`Env::model`](crate::Env::model), [`Env::rng_state`](crate::Env::rng_state)).
//!
//! | wrapper | observation | what it does | Gymnasium | model, RNG state |
//! |---|---|---|---|---|
//! | [`TimeLimit`] | unchanged | truncates episodes after a number of steps | `TimeLimit` | both |
//! | [`EpisodeStats`] | unchanged | puts each finished episode's return and length in `info.episode` | `RecordEpisodeStatistics` | both |
//! | [`Discretize`] | `usize` | uniform bins per dimension, one state index | `DiscretizeObservation` | RNG state |
//! | [`TileCoding`] | [`Tiles`] | active features of offset tilings, hashed (Sutton & Barto §9.5) | — | RNG state |
//! | [`NormalizeObservation`] | unchanged | running mean/variance normalization | `NormalizeObservation` | neither (its statistics cross episodes) |
//! | [`ObservationHistory`] | `Vec<f32>` | the last `k` observations, oldest first | `FrameStackObservation` | RNG state |
//! | [`OneHot`] | `Vec<f32>` | a state index as a one-hot vector | — | both |

mod checks;
mod discretize;
mod episode_stats;
mod history;
mod normalize;
mod one_hot;
mod tile_coding;
mod time_limit;
mod wrapper;

pub use discretize::Discretize;
pub use episode_stats::EpisodeStats;
pub use history::ObservationHistory;
pub use normalize::NormalizeObservation;
pub use one_hot::OneHot;
pub use tile_coding::{MAX_TILINGS, TileCoding, Tiles};
pub use time_limit::TimeLimit;
pub(crate) use wrapper::inner_env_in;
pub use wrapper::{InnerAction, InnerObs, Wrapper};

/// Small deterministic envs for the wrapper and vector-env tests.
#[cfg(test)]
pub(crate) mod test_envs {
    use rand::SeedableRng;

    use crate::{
        BoxSpace, Env, EnvRng, Error, Frame, Info, Reset, Result, Space, Step,
        check_discrete_action,
    };

    /// Episode bookkeeping shared by the test envs: the `NotReset` / `EpisodeEnded` contract.
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Phase {
        Fresh,
        Running,
        Ended,
    }

    fn check_phase(phase: Phase) -> Result<()> {
        match phase {
            Phase::Fresh => Err(Error::NotReset),
            Phase::Ended => Err(Error::EpisodeEnded),
            Phase::Running => Ok(()),
        }
    }

    /// A two-dimensional box env: `x` walks by ±1 (action 1 / 0) and the episode terminates when
    /// `|x|` reaches `limit`; `y` is a fresh uniform draw in `[0, 1)` at every reset and step.
    /// The reward is the new `x`. It hands out its RNG state; [`Chain`] does not.
    #[derive(Clone, Debug)]
    pub(crate) struct Walk {
        pub(crate) x: f32,
        pub(crate) y: f32,
        limit: f32,
        obs_space: Space,
        act_space: Space,
        rng: EnvRng,
        phase: Phase,
    }

    impl Walk {
        /// Observation space `Box([-limit, 0], [limit, 1])`.
        pub(crate) fn new(limit: f32) -> Self {
            Self::with_bounds(limit, vec![-limit, 0.0], vec![limit, 1.0])
        }

        /// The same dynamics with a declared observation box of our choosing.
        pub(crate) fn with_bounds(limit: f32, low: Vec<f32>, high: Vec<f32>) -> Self {
            Self {
                x: 0.0,
                y: 0.0,
                limit,
                obs_space: BoxSpace::from_bounds(low, high).into(),
                act_space: Space::discrete(2),
                rng: EnvRng::seed_from_u64(0),
                phase: Phase::Fresh,
            }
        }
    }

    impl Env for Walk {
        type Obs = [f32; 2];
        type Action = usize;

        fn observation_space(&self) -> &Space {
            &self.obs_space
        }
        fn action_space(&self) -> &Space {
            &self.act_space
        }
        fn reset(&mut self, seed: Option<u64>) -> Reset<[f32; 2]> {
            if let Some(seed) = seed {
                self.rng = EnvRng::seed_from_u64(seed);
            }
            self.x = 0.0;
            self.y = self.rng.next_f64() as f32;
            self.phase = Phase::Running;
            Reset {
                obs: [self.x, self.y],
                info: Info::default(),
            }
        }
        fn step(&mut self, action: usize) -> Result<Step<[f32; 2]>> {
            check_discrete_action(action, &self.act_space)?;
            check_phase(self.phase)?;
            self.x += if action == 1 { 1.0 } else { -1.0 };
            self.y = self.rng.next_f64() as f32;
            let terminated = self.x.abs() >= self.limit;
            if terminated {
                self.phase = Phase::Ended;
            }
            Ok(Step {
                obs: [self.x, self.y],
                reward: self.x as f64,
                terminated,
                truncated: false,
                info: Info::default(),
            })
        }
        fn render_ansi(&self) -> String {
            format!("x={} y={}", self.x, self.y)
        }
        fn render_rgb(&self) -> Frame {
            Frame::filled(1, 1, [0, 0, 0])
        }
        fn name(&self) -> String {
            "Walk".into()
        }
        fn set_state(&mut self, state: &[f64]) -> Result<[f32; 2]> {
            if state.len() != 2 {
                return Err(Error::InvalidState {
                    message: format!("Walk takes 2 values, got {}", state.len()),
                });
            }
            self.x = state[0] as f32;
            self.y = state[1] as f32;
            Ok([self.x, self.y])
        }
        fn rng_state(&self) -> Option<[u64; 4]> {
            Some(self.rng.state())
        }
        fn set_rng_state(&mut self, state: [u64; 4]) -> Result<()> {
            self.rng = EnvRng::from_state(state);
            Ok(())
        }
    }

    /// A discrete chain: the state counts the steps taken, `0..=len`, and the episode terminates
    /// after exactly `len` steps. Rewards are `action + 1`. Each reset draws a number from the
    /// env's RNG into `draw`, so tests can see how the env was seeded. The observation space is
    /// `Discrete(16)` whatever `len` (≤ 15), so chains of different lengths share it.
    #[derive(Clone, Debug)]
    pub(crate) struct Chain {
        pub(crate) pos: usize,
        pub(crate) draw: u64,
        pub(crate) resets: u32,
        pub(crate) steps: u32,
        len: usize,
        pub(crate) obs_space: Space,
        pub(crate) act_space: Space,
        rng: EnvRng,
        phase: Phase,
    }

    impl Chain {
        pub(crate) fn new(len: usize) -> Self {
            assert!((1..16).contains(&len));
            Self {
                pos: 0,
                draw: 0,
                resets: 0,
                steps: 0,
                len,
                obs_space: Space::discrete(16),
                act_space: Space::discrete(2),
                rng: EnvRng::seed_from_u64(0),
                phase: Phase::Fresh,
            }
        }
    }

    impl Env for Chain {
        type Obs = usize;
        type Action = usize;

        fn observation_space(&self) -> &Space {
            &self.obs_space
        }
        fn action_space(&self) -> &Space {
            &self.act_space
        }
        fn reset(&mut self, seed: Option<u64>) -> Reset<usize> {
            if let Some(seed) = seed {
                self.rng = EnvRng::seed_from_u64(seed);
            }
            use rand::RngCore;
            self.draw = self.rng.next_u64();
            self.pos = 0;
            self.resets += 1;
            self.phase = Phase::Running;
            Reset {
                obs: 0,
                info: Info::default(),
            }
        }
        fn step(&mut self, action: usize) -> Result<Step<usize>> {
            check_discrete_action(action, &self.act_space)?;
            check_phase(self.phase)?;
            self.pos += 1;
            self.steps += 1;
            let terminated = self.pos == self.len;
            if terminated {
                self.phase = Phase::Ended;
            }
            Ok(Step {
                obs: self.pos,
                reward: action as f64 + 1.0,
                terminated,
                truncated: false,
                info: Info::default(),
            })
        }
        fn render_ansi(&self) -> String {
            format!("{}/{}", self.pos, self.len)
        }
        fn render_rgb(&self) -> Frame {
            Frame::filled(1, 1, [255, 255, 255])
        }
        fn name(&self) -> String {
            format!("Chain{}", self.len)
        }
        fn set_state(&mut self, state: &[f64]) -> Result<usize> {
            match state {
                [s] if *s >= 0.0 && (*s as usize) < self.len => {
                    self.pos = *s as usize;
                    Ok(self.pos)
                }
                _ => Err(Error::InvalidState {
                    message: format!("Chain takes one cell in 0..{}, got {state:?}", self.len),
                }),
            }
        }
    }
}
