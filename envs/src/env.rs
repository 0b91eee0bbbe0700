//! The [`Env`] trait and what it returns.

use std::fmt;

use crate::{Error, Result, Space};

/// Extra facts about a reset or a step, kept small and `Copy` so that stepping never allocates.
///
/// Gymnasium returns an `info` dict; the keys qlab's envs and wrappers fill are fields here.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Info {
    /// The probability of the transition just taken, for envs with an exact model
    /// (Gymnasium's `info["prob"]` in FrozenLake and CliffWalking).
    pub prob: Option<f64>,
    /// Statistics of the episode that this step ended, set by the
    /// [`EpisodeStats`](crate::wrappers::EpisodeStats) wrapper (Gymnasium's `info["episode"]`).
    pub episode: Option<EpisodeRecord>,
}

/// Return, length and ending of one finished episode.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EpisodeRecord {
    /// The sum of the episode's rewards.
    pub ret: f64,
    /// The number of steps in the episode.
    pub length: u64,
    /// Whether it ended by termination (`true`) or by truncation (`false`).
    pub terminated: bool,
}

/// What [`Env::reset`] returns: the first observation of an episode.
#[derive(Clone, Debug, PartialEq)]
pub struct Reset<O> {
    /// The first observation.
    pub obs: O,
    /// Extra facts about the reset.
    pub info: Info,
}

/// What [`Env::step`] returns.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct Step<O> {
    /// The observation after the action.
    pub obs: O,
    /// The reward for the transition.
    pub reward: f64,
    /// The MDP reached a terminal state: the value of `obs` is zero, do not bootstrap from it.
    pub terminated: bool,
    /// The episode was cut by a limit outside the MDP (usually time): `obs` is an ordinary
    /// state and bootstrapping from it is right.
    pub truncated: bool,
    /// Extra facts about the step.
    pub info: Info,
}

impl<O> Step<O> {
    /// Whether the episode is over, by termination or truncation.
    #[inline]
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }

    /// The same step with its observation mapped.
    #[inline]
    pub fn map_obs<P>(self, f: impl FnOnce(O) -> P) -> Step<P> {
        Step {
            obs: f(self.obs),
            reward: self.reward,
            terminated: self.terminated,
            truncated: self.truncated,
            info: self.info,
        }
    }
}

impl<O> Reset<O> {
    /// The same reset with its observation mapped.
    #[inline]
    pub fn map_obs<P>(self, f: impl FnOnce(O) -> P) -> Reset<P> {
        Reset {
            obs: f(self.obs),
            info: self.info,
        }
    }
}

/// An RGB image: `height × width × 3` bytes, row-major, as Gymnasium's `rgb_array` render mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
    /// `height * width * 3` bytes: red, green, blue of each pixel, row by row.
    pub data: Vec<u8>,
}

impl Frame {
    /// A frame filled with one colour.
    pub fn filled(height: usize, width: usize, rgb: [u8; 3]) -> Self {
        let mut data = Vec::with_capacity(height * width * 3);
        for _ in 0..height * width {
            data.extend_from_slice(&rgb);
        }
        Self {
            height,
            width,
            data,
        }
    }

    /// The colour at row `y`, column `x`.
    pub fn pixel(&self, y: usize, x: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    /// Sets the colour at row `y`, column `x`; pixels outside the frame are ignored.
    pub fn set_pixel(&mut self, y: i64, x: i64, rgb: [u8; 3]) {
        if y < 0 || x < 0 || y as usize >= self.height || x as usize >= self.width {
            return;
        }
        let i = (y as usize * self.width + x as usize) * 3;
        self.data[i..i + 3].copy_from_slice(&rgb);
    }

    /// Fills the axis-aligned rectangle `[y0, y1) × [x0, x1)`, clipped to the frame.
    pub fn fill_rect(&mut self, y0: i64, x0: i64, y1: i64, x1: i64, rgb: [u8; 3]) {
        for y in y0.max(0)..y1.min(self.height as i64) {
            for x in x0.max(0)..x1.min(self.width as i64) {
                self.set_pixel(y, x, rgb);
            }
        }
    }
}

/// A reinforcement-learning environment with Gymnasium's semantics.
///
/// # Contract
/// An implementor guarantees:
/// - [`reset`](Env::reset)`(Some(seed))` reseeds the env's RNG, so the same seed followed by
///   the same actions gives the same episode; `reset(None)` continues the RNG stream. An env
///   never given a seed draws one from the OS.
/// - [`step`](Env::step) before the first reset is [`Error::NotReset`]; after a step that
///   returned `terminated` or `truncated`, it is [`Error::EpisodeEnded`] until the next reset.
/// - An action outside [`action_space`](Env::action_space) is [`Error::InvalidAction`] and
///   leaves the env unchanged. A Box action is outside unless it has one value per element
///   of the box, each finite and within its bounds ([`check_box_action`](crate::check_box_action)).
/// - Every observation lies in [`observation_space`](Env::observation_space), every reward is
///   finite, and the spaces never change between resets.
/// - `terminated` means the MDP reached a terminal state; `truncated` means a limit outside the
///   MDP stopped it. Envs themselves never truncate: time limits are the
///   [`TimeLimit`](crate::wrappers::TimeLimit) wrapper.
/// - Stepping does not allocate (for owned observation types that do not themselves allocate).
///
/// [`check_env`](crate::check_env) tests all of this on any env.
pub trait Env {
    /// The observation: `usize` (a state index) for discrete-state envs, a fixed array such as
    /// `[f32; 4]` for continuous ones (readable as `&[f32]` through `AsRef`).
    type Obs: Clone + fmt::Debug;
    /// The action: `usize` for a `Discrete` action space; for a `Box`, a fixed array such as
    /// `[f32; 1]` in a concrete env and `Vec<f32>` in a type-erased one
    /// ([`ContinuousEnv`](crate::ContinuousEnv)). Envs take it by value; generic code clones
    /// it, which for `usize` and arrays is a copy.
    type Action: Clone + fmt::Debug;

    /// The space every observation lies in.
    fn observation_space(&self) -> &Space;

    /// The space of valid actions.
    fn action_space(&self) -> &Space;

    /// Starts a new episode and returns its first observation. With a seed, reseeds the RNG.
    fn reset(&mut self, seed: Option<u64>) -> Reset<Self::Obs>;

    /// Applies an action and returns the next observation, the reward and the end flags.
    fn step(&mut self, action: Self::Action) -> Result<Step<Self::Obs>>;

    /// The current state as text for a terminal.
    fn render_ansi(&self) -> String;

    /// The current state as an RGB image.
    fn render_rgb(&self) -> Frame;

    /// A one-line name of the env for messages (the registry id where there is one).
    fn name(&self) -> String;

    /// Sets the internal state after a reset and returns its observation: CartPole takes its
    /// four `f64` values, a GridWorld the cell index. A state the env cannot take is
    /// [`Error::InvalidState`]; envs that cannot do this at all return [`Error::Unsupported`].
    fn set_state(&mut self, state: &[f64]) -> Result<Self::Obs> {
        let _ = state;
        Err(Error::Unsupported {
            operation: "set_state".into(),
            env: self.name(),
        })
    }

    /// The exact model of the MDP, for envs that have one (every GridWorld).
    fn model(&self) -> Option<&dyn Model> {
        None
    }

    /// Where the env's random stream stands, for a checkpoint taken at an episode boundary.
    ///
    /// `Some(state)` promises: an env of the same construction given `state` by
    /// [`set_rng_state`](Env::set_rng_state), then reset without a seed and stepped with the
    /// same actions, gives the same observations, rewards and flags as this env from here on —
    /// across any number of unseeded resets. Taken at an episode boundary (after the episode
    /// ended or before the first reset), the state is all a checkpoint needs: nothing else the
    /// env keeps carries into the next episode.
    ///
    /// `None` (the default) promises nothing: the env draws no random numbers, or keeps a
    /// stream (or other state that crosses episodes) that it cannot hand out. A caller that
    /// needs a bit-identical resume must treat `None` as "cannot checkpoint this env".
    fn rng_state(&self) -> Option<[u64; 4]> {
        None
    }

    /// Whether [`step`](Env::step) clips a finite Box action past the action space's bounds to
    /// the nearest bound for its dynamics, as Gymnasium's Pendulum and MountainCarContinuous
    /// do, instead of refusing it (the reward may charge the action as given, as
    /// MountainCarContinuous's does). `false` (the default): every action outside the space is
    /// [`Error::InvalidAction`]. Either way NaN, infinity and a wrong length are refused.
    fn clips_actions(&self) -> bool {
        false
    }

    /// Puts the env's random stream where [`rng_state`](Env::rng_state) said it was; the next
    /// unseeded [`reset`](Env::reset) continues from there. A seeded reset still reseeds.
    ///
    /// A state that no stream can be in (four zeros) is [`Error::InvalidState`]; envs whose
    /// `rng_state` is `None` return [`Error::Unsupported`] (the default).
    fn set_rng_state(&mut self, state: [u64; 4]) -> Result<()> {
        let _ = state;
        Err(Error::Unsupported {
            operation: "set_rng_state".into(),
            env: self.name(),
        })
    }
}

/// One possible outcome of taking an action in a state.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Transition {
    /// Its probability.
    pub prob: f64,
    /// The state it leads to.
    pub next_state: usize,
    /// The reward it gives.
    pub reward: f64,
    /// Whether `next_state` is terminal.
    pub terminated: bool,
}

/// The exact dynamics of a finite MDP — Gymnasium's `env.P` and `initial_state_distrib`.
///
/// # Contract
/// For every state `s < n_states()` and action `a < n_actions()`, `transitions(s, a)` is
/// non-empty and its probabilities sum to 1 (within 1e-9). Transitions out of a terminal
/// state are never sampled by the env. They are listed all the same, so that dynamic
/// programming can iterate over every state uniformly, in the form the reference lists them:
/// FrozenLake stays put with reward 0, Gymnasium's CliffWalking lists ordinary moves out of its
/// goal. Dynamic programming gives terminal states the value 0 and never backs them up.
pub trait Model {
    /// The number of states.
    fn n_states(&self) -> usize;
    /// The number of actions.
    fn n_actions(&self) -> usize;
    /// The outcomes of taking `action` in `state`.
    fn transitions(&self, state: usize, action: usize) -> &[Transition];
    /// The start-state distribution as `(state, probability)` pairs.
    fn initial_states(&self) -> &[(usize, f64)];
    /// Whether `state` is terminal (the episode ends on entering it).
    fn is_terminal(&self, state: usize) -> bool;
    /// Writes a feature vector of `state` into `out`: one-hot (length `n_states()`).
    ///
    /// # Panics
    /// If `out.len() != n_states()`.
    fn one_hot(&self, state: usize, out: &mut [f32]) {
        assert_eq!(
            out.len(),
            self.n_states(),
            "one-hot buffer has the wrong length"
        );
        out.fill(0.0);
        out[state] = 1.0;
    }
}
