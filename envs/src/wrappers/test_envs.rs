//! Small deterministic envs for the wrapper, vector-env and checker tests: [`Walk`] and
//! [`Chain`], each a [`Motion`] inside one [`TestEnv`] that keeps the Env contract for both.

use std::fmt;
use std::ops::{Deref, DerefMut};

use rand::{RngCore, SeedableRng};

use crate::{
    BoxSpace, Env, EnvRng, Error, Frame, Info, Reset, Result, Space, Step, check_discrete_action,
};

/// What a test env does between its resets; [`TestEnv`] does the rest.
pub(crate) trait Motion: Clone + fmt::Debug {
    /// The observation.
    type Obs: Clone + fmt::Debug;
    /// Whether the env hands out its RNG state.
    const SHARES_RNG: bool;
    /// The colour of its one-pixel frame.
    const COLOUR: [u8; 3];
    /// Starts an episode.
    fn start(&mut self, rng: &mut EnvRng) -> Self::Obs;
    /// Takes a valid action: the observation, the reward and whether the episode terminated.
    fn advance(&mut self, action: usize, rng: &mut EnvRng) -> (Self::Obs, f64, bool);
    /// [`Env::set_state`].
    fn put(&mut self, state: &[f64]) -> Result<Self::Obs>;
    /// [`Env::render_ansi`].
    fn text(&self) -> String;
    /// [`Env::name`].
    fn title(&self) -> String;
}

/// Episode bookkeeping: the `NotReset` / `EpisodeEnded` contract.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    Fresh,
    Running,
    Ended,
}

/// A [`Motion`] with its spaces, its RNG and the episode contract. Reads as the motion through
/// `Deref`, so tests see `env.x` or `env.pos`.
#[derive(Clone, Debug)]
pub(crate) struct TestEnv<M> {
    motion: M,
    pub(crate) obs_space: Space,
    pub(crate) act_space: Space,
    rng: EnvRng,
    phase: Phase,
}

impl<M> TestEnv<M> {
    fn around(motion: M, obs_space: Space) -> Self {
        Self {
            motion,
            obs_space,
            act_space: Space::discrete(2),
            rng: EnvRng::seed_from_u64(0),
            phase: Phase::Fresh,
        }
    }
}

impl<M> Deref for TestEnv<M> {
    type Target = M;

    fn deref(&self) -> &M {
        &self.motion
    }
}

impl<M> DerefMut for TestEnv<M> {
    fn deref_mut(&mut self) -> &mut M {
        &mut self.motion
    }
}

impl<M: Motion> Env for TestEnv<M> {
    type Obs = M::Obs;
    type Action = usize;

    fn observation_space(&self) -> &Space {
        &self.obs_space
    }
    fn action_space(&self) -> &Space {
        &self.act_space
    }
    fn reset(&mut self, seed: Option<u64>) -> Reset<M::Obs> {
        if let Some(seed) = seed {
            self.rng = EnvRng::seed_from_u64(seed);
        }
        self.phase = Phase::Running;
        Reset {
            obs: self.motion.start(&mut self.rng),
            info: Info::default(),
        }
    }
    fn step(&mut self, action: usize) -> Result<Step<M::Obs>> {
        check_discrete_action(action, &self.act_space)?;
        match self.phase {
            Phase::Fresh => return Err(Error::NotReset),
            Phase::Ended => return Err(Error::EpisodeEnded),
            Phase::Running => {}
        }
        let (obs, reward, terminated) = self.motion.advance(action, &mut self.rng);
        if terminated {
            self.phase = Phase::Ended;
        }
        Ok(Step {
            obs,
            reward,
            terminated,
            truncated: false,
            info: Info::default(),
        })
    }
    fn render_ansi(&self) -> String {
        self.motion.text()
    }
    fn render_rgb(&self) -> Frame {
        Frame::filled(1, 1, M::COLOUR)
    }
    fn name(&self) -> String {
        self.motion.title()
    }
    fn set_state(&mut self, state: &[f64]) -> Result<M::Obs> {
        self.motion.put(state)
    }
    fn rng_state(&self) -> Option<[u64; 4]> {
        M::SHARES_RNG.then(|| self.rng.state())
    }
    fn set_rng_state(&mut self, state: [u64; 4]) -> Result<()> {
        if !M::SHARES_RNG {
            return Err(Error::Unsupported {
                operation: "set_rng_state".into(),
                env: self.name(),
            });
        }
        self.rng = EnvRng::from_state(state);
        Ok(())
    }
}

/// A two-dimensional box env: `x` walks by ±1 (action 1 / 0) and the episode terminates when
/// `|x|` reaches `limit`; `y` is a fresh uniform draw in `[0, 1)` at every reset and step.
/// The reward is the new `x`. It hands out its RNG state; [`Chain`] does not.
pub(crate) type Walk = TestEnv<WalkMotion>;

/// [`Walk`]'s state.
#[derive(Clone, Debug)]
pub(crate) struct WalkMotion {
    pub(crate) x: f32,
    pub(crate) y: f32,
    limit: f32,
}

impl Walk {
    /// Observation space `Box([-limit, 0], [limit, 1])`.
    pub(crate) fn new(limit: f32) -> Self {
        Self::with_bounds(limit, vec![-limit, 0.0], vec![limit, 1.0])
    }

    /// The same dynamics with a declared observation box of our choosing.
    pub(crate) fn with_bounds(limit: f32, low: Vec<f32>, high: Vec<f32>) -> Self {
        let motion = WalkMotion {
            x: 0.0,
            y: 0.0,
            limit,
        };
        TestEnv::around(motion, BoxSpace::from_bounds(low, high).into())
    }
}

impl Motion for WalkMotion {
    type Obs = [f32; 2];
    const SHARES_RNG: bool = true;
    const COLOUR: [u8; 3] = [0, 0, 0];

    fn start(&mut self, rng: &mut EnvRng) -> [f32; 2] {
        self.x = 0.0;
        self.y = rng.next_f64() as f32;
        [self.x, self.y]
    }
    fn advance(&mut self, action: usize, rng: &mut EnvRng) -> ([f32; 2], f64, bool) {
        self.x += if action == 1 { 1.0 } else { -1.0 };
        self.y = rng.next_f64() as f32;
        ([self.x, self.y], self.x as f64, self.x.abs() >= self.limit)
    }
    fn put(&mut self, state: &[f64]) -> Result<[f32; 2]> {
        if state.len() != 2 {
            return Err(Error::InvalidState {
                message: format!("Walk takes 2 values, got {}", state.len()),
            });
        }
        self.x = state[0] as f32;
        self.y = state[1] as f32;
        Ok([self.x, self.y])
    }
    fn text(&self) -> String {
        format!("x={} y={}", self.x, self.y)
    }
    fn title(&self) -> String {
        "Walk".into()
    }
}

/// A discrete chain: the state counts the steps taken, `0..=len`, and the episode terminates
/// after exactly `len` steps. Rewards are `action + 1`. Each reset draws a number from the
/// env's RNG into `draw`, so tests can see how the env was seeded. The observation space is
/// `Discrete(16)` whatever `len` (≤ 15), so chains of different lengths share it.
pub(crate) type Chain = TestEnv<ChainMotion>;

/// [`Chain`]'s state.
#[derive(Clone, Debug)]
pub(crate) struct ChainMotion {
    pub(crate) pos: usize,
    pub(crate) draw: u64,
    pub(crate) resets: u32,
    pub(crate) steps: u32,
    len: usize,
}

impl Chain {
    pub(crate) fn new(len: usize) -> Self {
        assert!((1..16).contains(&len));
        let motion = ChainMotion {
            pos: 0,
            draw: 0,
            resets: 0,
            steps: 0,
            len,
        };
        TestEnv::around(motion, Space::discrete(16))
    }
}

impl Motion for ChainMotion {
    type Obs = usize;
    const SHARES_RNG: bool = false;
    const COLOUR: [u8; 3] = [255, 255, 255];

    fn start(&mut self, rng: &mut EnvRng) -> usize {
        self.draw = rng.next_u64();
        self.pos = 0;
        self.resets += 1;
        0
    }
    fn advance(&mut self, action: usize, _: &mut EnvRng) -> (usize, f64, bool) {
        self.pos += 1;
        self.steps += 1;
        (self.pos, action as f64 + 1.0, self.pos == self.len)
    }
    fn put(&mut self, state: &[f64]) -> Result<usize> {
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
    fn text(&self) -> String {
        format!("{}/{}", self.pos, self.len)
    }
    fn title(&self) -> String {
        format!("Chain{}", self.len)
    }
}

/// A Box-action env that observes the action it was last given (its action box is its
/// observation box; a reset observes the box's lower corner). The reward is the sum of the
/// action's elements; episodes never end by themselves. It draws no random numbers.
#[derive(Clone, Debug)]
pub(crate) struct Echo {
    space: Space,
    obs_space: Space,
    started: bool,
    /// Every action stepped, in order.
    pub(crate) taken: Vec<Vec<f32>>,
}

impl Echo {
    /// Actions (and observations) in `space`.
    pub(crate) fn new(space: BoxSpace) -> Self {
        Self {
            obs_space: space.clone().into(),
            space: space.into(),
            started: false,
            taken: Vec::new(),
        }
    }

    /// A wrongly declared env: Box actions by type, a `Discrete(2)` action space.
    pub(crate) fn discrete() -> Self {
        Self {
            space: Space::discrete(2),
            obs_space: BoxSpace::uniform(0.0, 1.0, vec![1]).into(),
            started: false,
            taken: Vec::new(),
        }
    }
}

impl Env for Echo {
    type Obs = Vec<f32>;
    type Action = Vec<f32>;

    fn observation_space(&self) -> &Space {
        &self.obs_space
    }
    fn action_space(&self) -> &Space {
        &self.space
    }
    fn reset(&mut self, _: Option<u64>) -> Reset<Vec<f32>> {
        self.started = true;
        let low = self.obs_space.as_box().map(|b| b.low().to_vec());
        Reset {
            obs: low.unwrap_or_default(),
            info: Info::default(),
        }
    }
    fn step(&mut self, action: Vec<f32>) -> Result<Step<Vec<f32>>> {
        crate::check_box_action(&action, &self.space)?;
        if !self.started {
            return Err(Error::NotReset);
        }
        self.taken.push(action.clone());
        Ok(Step {
            reward: action.iter().map(|&a| a as f64).sum(),
            obs: action,
            terminated: false,
            truncated: false,
            info: Info::default(),
        })
    }
    fn render_ansi(&self) -> String {
        format!("{:?}", self.taken.last())
    }
    fn render_rgb(&self) -> Frame {
        Frame::filled(1, 1, [9, 9, 9])
    }
    fn name(&self) -> String {
        "Echo".into()
    }
}
