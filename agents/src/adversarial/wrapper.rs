//! [`Attacked`]: an env whose observations pass through an attack on a given agent.

use qlab_envs::{Env, EnvRng, Frame, Model, Reset, Space, Step};

use super::{Attack, AttackStats, NeighbourAttack, QFunction, TabularQ};
use crate::Result;
use crate::nn::argmax;

/// An attack bundled with the agent it targets, applied to one observation at a time.
///
/// # Contract
/// An implementor guarantees that the attacked observation lies in the same observation space
/// as the clean one, and that all its randomness comes from the `rng` passed in.
pub trait ObservationAttack<O> {
    /// Replaces `obs` by its attacked version.
    fn attack(&mut self, obs: &mut O, rng: &mut EnvRng) -> Result<()>;

    /// Counts since the last [`reset_stats`](ObservationAttack::reset_stats).
    fn stats(&self) -> AttackStats;

    /// Zeroes the counts.
    fn reset_stats(&mut self);
}

/// An [`Attack`] on the agent whose Q-function is `q`, for observations readable as `&[f32]`
/// (CartPole's `[f32; 4]`, `Vec<f32>`).
///
/// Pass the network by reference for evaluation, or as an `Arc` shared with the learner to
/// train under attack: the network's weights are candle variables updated in place, so the
/// attack always sees the current ones. Action changes are counted by comparing the greedy
/// actions at the clean and at the attacked observation (two more forward passes at each
/// attacked step).
#[derive(Debug)]
pub struct AgainstQ<Q> {
    attack: Attack,
    q: Q,
    clean: Vec<f32>,
    action_changes: u64,
}

impl<Q: QFunction> AgainstQ<Q> {
    /// `attack` against `q`.
    pub fn new(attack: Attack, q: Q) -> AgainstQ<Q> {
        let d = attack.ball().dim();
        AgainstQ {
            attack,
            q,
            clean: vec![0.0; d],
            action_changes: 0,
        }
    }

    /// The attack.
    pub fn attack(&self) -> &Attack {
        &self.attack
    }

    /// The attacked Q-function.
    pub fn q(&self) -> &Q {
        &self.q
    }

    fn greedy(&self, obs: &[f32]) -> Result<usize> {
        let device = self.attack.device();
        let x = candle_core::Tensor::from_slice(obs, (1, obs.len()), device)?;
        let q = self.q.q_values(&x)?.flatten_all()?.to_vec1::<f32>()?;
        Ok(argmax(&q))
    }
}

impl<Q: QFunction, O: AsMut<[f32]>> ObservationAttack<O> for AgainstQ<Q> {
    fn attack(&mut self, obs: &mut O, rng: &mut EnvRng) -> Result<()> {
        let obs = obs.as_mut();
        self.clean.copy_from_slice(obs);
        if self.attack.perturb(&self.clean, &self.q, rng, obs)?
            && self.greedy(&self.clean)? != self.greedy(obs)?
        {
            self.action_changes += 1;
        }
        Ok(())
    }

    fn stats(&self) -> AttackStats {
        AttackStats {
            action_changes: self.action_changes,
            ..self.attack.stats()
        }
    }

    fn reset_stats(&mut self) {
        self.attack.reset_stats();
        self.action_changes = 0;
    }
}

/// A [`NeighbourAttack`] on the tabular agent whose action values are `table`, for
/// discrete-state envs (`Obs = usize`).
#[derive(Debug)]
pub struct AgainstTable<T> {
    attack: NeighbourAttack,
    table: T,
}

impl<T: TabularQ> AgainstTable<T> {
    /// `attack` against `table`.
    pub fn new(attack: NeighbourAttack, table: T) -> AgainstTable<T> {
        AgainstTable { attack, table }
    }

    /// The attack.
    pub fn attack(&self) -> &NeighbourAttack {
        &self.attack
    }
}

impl<T: TabularQ> ObservationAttack<usize> for AgainstTable<T> {
    fn attack(&mut self, obs: &mut usize, _rng: &mut EnvRng) -> Result<()> {
        *obs = self.attack.perturb(*obs, &self.table)?;
        Ok(())
    }

    fn stats(&self) -> AttackStats {
        self.attack.stats()
    }

    fn reset_stats(&mut self) {
        self.attack.reset_stats();
    }
}

/// Applies an [`ObservationAttack`] to every observation of an env: the ones from `reset`,
/// `step` and `set_state`. Rewards, flags and the model are the inner env's: the attack
/// changes what the agent sees, not what happens.
///
/// The attack's randomness has its own [`EnvRng`], reseeded by `reset(Some(seed))` (from the
/// seed, mixed so that it differs from the env's stream) and seeded from the OS otherwise, so
/// a seeded episode under a random attack repeats exactly.
///
/// `reset` cannot fail: if the attack fails there, the clean observation is returned and the
/// next `step` reports the failure.
#[derive(Debug)]
pub struct Attacked<E, A> {
    env: E,
    attack: A,
    rng: EnvRng,
    failed: Option<String>,
}

/// Mixed into the reset seed so that the attack's stream is not the env's.
const SEED_MIX: u64 = 0xA77A_C4ED_0B5E_57A7;

impl<E: Env, A: ObservationAttack<E::Obs>> Attacked<E, A> {
    /// Wraps `env`, attacking its observations with `attack`.
    pub fn new(env: E, attack: A) -> Attacked<E, A> {
        Attacked {
            env,
            attack,
            rng: EnvRng::from_os_entropy(),
            failed: None,
        }
    }

    /// Counts of observations seen, attacked, and whose greedy action changed.
    pub fn stats(&self) -> AttackStats {
        self.attack.stats()
    }

    /// Zeroes the counts.
    pub fn reset_stats(&mut self) {
        self.attack.reset_stats();
    }

    /// The attack.
    pub fn attack(&self) -> &A {
        &self.attack
    }

    /// The attack, mutably.
    pub fn attack_mut(&mut self) -> &mut A {
        &mut self.attack
    }

    /// The wrapped env.
    pub fn inner(&self) -> &E {
        &self.env
    }

    /// The wrapped env, mutably.
    pub fn inner_mut(&mut self) -> &mut E {
        &mut self.env
    }

    /// Unwraps into the env and the attack.
    pub fn into_parts(self) -> (E, A) {
        (self.env, self.attack)
    }

    fn apply(&mut self, obs: &mut E::Obs) -> qlab_envs::Result<()> {
        self.attack
            .attack(obs, &mut self.rng)
            .map_err(|e| failure(e.to_string()))
    }
}

fn failure(message: String) -> qlab_envs::Error {
    qlab_envs::Error::InvalidState {
        message: format!("the attack on the observation failed: {message}"),
    }
}

impl<E: Env, A: ObservationAttack<E::Obs>> Env for Attacked<E, A> {
    type Obs = E::Obs;
    type Action = E::Action;

    fn observation_space(&self) -> &Space {
        self.env.observation_space()
    }

    fn action_space(&self) -> &Space {
        self.env.action_space()
    }

    fn reset(&mut self, seed: Option<u64>) -> Reset<E::Obs> {
        if let Some(seed) = seed {
            self.rng = EnvRng::new(seed ^ SEED_MIX);
        }
        let mut reset = self.env.reset(seed);
        self.failed = self
            .attack
            .attack(&mut reset.obs, &mut self.rng)
            .err()
            .map(|e| e.to_string());
        reset
    }

    fn step(&mut self, action: E::Action) -> qlab_envs::Result<Step<E::Obs>> {
        if let Some(message) = self.failed.take() {
            return Err(failure(message));
        }
        let mut step = self.env.step(action)?;
        self.apply(&mut step.obs)?;
        Ok(step)
    }

    fn render_ansi(&self) -> String {
        self.env.render_ansi()
    }

    fn render_rgb(&self) -> Frame {
        self.env.render_rgb()
    }

    fn name(&self) -> String {
        self.env.name()
    }

    fn set_state(&mut self, state: &[f64]) -> qlab_envs::Result<E::Obs> {
        let mut obs = self.env.set_state(state)?;
        self.apply(&mut obs)?;
        Ok(obs)
    }

    fn model(&self) -> Option<&dyn Model> {
        self.env.model()
    }
}
