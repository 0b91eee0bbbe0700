//! [`SyncVectorEnv`]: several envs stepped together, with autoreset.

use crate::{Env, Error, Info, Result, Space, SpaceAction};

/// `N` copies of an env stepped one after another in the calling thread, resetting each one
/// automatically when its episode ends — Gymnasium's `SyncVectorEnv` in its default
/// `NEXT_STEP` autoreset mode.
///
/// # Autoreset convention (Gymnasium's `NEXT_STEP`)
///
/// When sub-env `i` ends its episode on step `t` (terminated or truncated):
///
/// - step `t` returns, for `i`, the episode's **final** observation, its reward and its flags,
///   exactly as the sub-env gave them;
/// - on step `t + 1` sub-env `i` is **not stepped**: its action is ignored (though it must
///   still be valid), it is reset without a seed, and step `t + 1` returns for `i` the
///   **reset** observation, reward `0` and both flags `false`. [`autoreset_mask`] marks
///   these entries.
///
/// So the pair (observation of step `t`, observation of step `t + 1`) of an autoreset entry
/// is not a transition: a learner storing `(obs, action, reward, next_obs)` must skip entries
/// where [`autoreset_mask`] is set. Sub-envs run independently; others keep stepping
/// normally during the same call.
///
/// # Buffers
///
/// Results live in vectors allocated once and overwritten by every [`reset`] and [`step`]:
/// read them through [`observations`], [`rewards`], [`terminated`], [`truncated`],
/// [`infos`] and [`autoreset_mask`], each with one entry per sub-env. Stepping allocates
/// nothing beyond what the sub-envs' own observations allocate, and the clone of each action
/// passed to its sub-env: a copy for `usize` and `[f32; N]`, an allocation for a `Vec<f32>`
/// Box action.
///
/// # Actions
///
/// Discrete (`usize`) or Box (`[f32; N]`, `Vec<f32>`): any [`SpaceAction`]. Every action is
/// checked against the action space before any sub-env steps.
///
/// # Seeding
///
/// [`reset`]`(Some(seed))` resets sub-env `i` with `seed + i` (wrapping), as Gymnasium does;
/// `reset(None)` and every autoreset continue each sub-env's own stream.
///
/// [`autoreset_mask`]: SyncVectorEnv::autoreset_mask
/// [`reset`]: SyncVectorEnv::reset
/// [`step`]: SyncVectorEnv::step
/// [`observations`]: SyncVectorEnv::observations
/// [`rewards`]: SyncVectorEnv::rewards
/// [`terminated`]: SyncVectorEnv::terminated
/// [`truncated`]: SyncVectorEnv::truncated
/// [`infos`]: SyncVectorEnv::infos
///
/// ```
/// # use qlab_envs::{Env, Frame, Info, Reset, Result, Space, Step};
/// # struct Coin { t: u64, len: u64, obs: Space, act: Space }
/// # impl Env for Coin {
/// #     type Obs = usize;
/// #     type Action = usize;
/// #     fn observation_space(&self) -> &Space { &self.obs }
/// #     fn action_space(&self) -> &Space { &self.act }
/// #     fn reset(&mut self, _: Option<u64>) -> Reset<usize> {
/// #         self.t = 0;
/// #         Reset { obs: 0, info: Info::default() }
/// #     }
/// #     fn step(&mut self, a: usize) -> Result<Step<usize>> {
/// #         qlab_envs::check_discrete_action(a, &self.act)?;
/// #         self.t += 1;
/// #         Ok(Step { obs: self.t as usize, reward: 1.0, terminated: self.t == self.len,
/// #                   truncated: false, info: Info::default() })
/// #     }
/// #     fn render_ansi(&self) -> String { String::new() }
/// #     fn render_rgb(&self) -> Frame { Frame::filled(1, 1, [0; 3]) }
/// #     fn name(&self) -> String { "Coin".into() }
/// # }
/// # fn main() -> qlab_envs::Result<()> {
/// # let coin = |len| Coin { t: 0, len, obs: Space::discrete(9), act: Space::discrete(2) };
/// use qlab_envs::vector::SyncVectorEnv;
///
/// // `coin(len)` observes its step count, pays 1 per step and terminates after `len` steps.
/// let mut envs = SyncVectorEnv::new(vec![coin(1), coin(3)])?;
/// envs.reset(Some(42));
/// envs.step(&[0, 0])?;
/// assert_eq!(envs.observations(), &[1, 1]);
/// assert_eq!(envs.terminated(), &[true, false]); // sub-env 0 ended: its final observation
/// envs.step(&[1, 1])?;
/// assert_eq!(envs.observations(), &[0, 2]); // sub-env 0 was reset, its action ignored
/// assert_eq!(envs.rewards(), &[0.0, 1.0]);
/// assert_eq!(envs.autoreset_mask(), &[true, false]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct SyncVectorEnv<E: Env> {
    envs: Vec<E>,
    observations: Vec<E::Obs>,
    rewards: Vec<f64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    infos: Vec<Info>,
    autoreset: Vec<bool>,
    started: bool,
}

impl<E: Env> SyncVectorEnv<E> {
    /// Steps `envs` together.
    ///
    /// Errors if `envs` is empty or the sub-envs' observation or action spaces differ from the
    /// first one's.
    pub fn new(envs: Vec<E>) -> Result<Self> {
        let Some(first) = envs.first() else {
            return Err(Error::InvalidParam {
                key: "envs".into(),
                value: "0 envs".into(),
                expected: "at least 1 env".into(),
            });
        };
        for (i, env) in envs.iter().enumerate().skip(1) {
            for (what, mine, theirs) in [
                (
                    "observation space",
                    env.observation_space(),
                    first.observation_space(),
                ),
                ("action space", env.action_space(), first.action_space()),
            ] {
                if mine != theirs {
                    return Err(Error::InvalidParam {
                        key: format!("envs[{i}]"),
                        value: format!("{} with {what} {mine}", env.name()),
                        expected: format!("the {what} of envs[0], {theirs}"),
                    });
                }
            }
        }
        let n = envs.len();
        Ok(Self {
            envs,
            observations: Vec::with_capacity(n),
            rewards: vec![0.0; n],
            terminated: vec![false; n],
            truncated: vec![false; n],
            infos: vec![Info::default(); n],
            autoreset: vec![false; n],
            started: false,
        })
    }

    /// Steps `n` envs made by `make(0)`, …, `make(n − 1)` together (see [`SyncVectorEnv::new`]).
    pub fn from_fn(n: usize, make: impl FnMut(usize) -> E) -> Result<Self> {
        Self::new((0..n).map(make).collect())
    }

    /// Resets every sub-env — sub-env `i` with `seed + i` when a seed is given — and returns
    /// the first observations. Rewards and flags are cleared and no autoreset is pending.
    pub fn reset(&mut self, seed: Option<u64>) -> &[E::Obs] {
        self.observations.clear();
        for (i, env) in self.envs.iter_mut().enumerate() {
            let reset = env.reset(seed.map(|s| s.wrapping_add(i as u64)));
            self.observations.push(reset.obs);
            self.infos[i] = reset.info;
        }
        self.rewards.fill(0.0);
        self.terminated.fill(false);
        self.truncated.fill(false);
        self.autoreset.fill(false);
        self.started = true;
        &self.observations
    }

    /// Applies `actions[i]` to sub-env `i`, autoresetting those whose episode ended on the
    /// previous step instead (see the autoreset convention on [`SyncVectorEnv`]).
    ///
    /// Every action is checked first: a wrong number of actions or an action outside the
    /// action space (including one that autoreset would ignore) is an error naming the index
    /// and value, and no sub-env is touched. Before the first [`reset`](SyncVectorEnv::reset)
    /// it is [`Error::NotReset`]. An error from a sub-env itself (one stepped directly through
    /// [`envs_mut`](SyncVectorEnv::envs_mut), say) is passed on, and the sub-envs before it
    /// have then stepped.
    pub fn step(&mut self, actions: &[E::Action]) -> Result<()>
    where
        E::Action: SpaceAction,
    {
        if !self.started {
            return Err(Error::NotReset);
        }
        if actions.len() != self.envs.len() {
            return Err(Error::InvalidParam {
                key: "actions".into(),
                value: format!("{} actions", actions.len()),
                expected: format!("one per sub-env ({})", self.envs.len()),
            });
        }
        for (i, (a, env)) in actions.iter().zip(&self.envs).enumerate() {
            a.check(env.action_space())
                .map_err(|_| Error::InvalidAction {
                    action: format!("{a:?} at index {i}"),
                    space: env.action_space().to_string(),
                })?;
        }
        for (i, env) in self.envs.iter_mut().enumerate() {
            // The flags still hold the previous step's: an episode that ended there resets now.
            self.autoreset[i] = self.terminated[i] || self.truncated[i];
            if self.autoreset[i] {
                let reset = env.reset(None);
                self.observations[i] = reset.obs;
                self.rewards[i] = 0.0;
                self.terminated[i] = false;
                self.truncated[i] = false;
                self.infos[i] = reset.info;
            } else {
                let step = env.step(actions[i].clone())?;
                self.observations[i] = step.obs;
                self.rewards[i] = step.reward;
                self.terminated[i] = step.terminated;
                self.truncated[i] = step.truncated;
                self.infos[i] = step.info;
            }
        }
        Ok(())
    }

    /// The observation of each sub-env after the last reset or step (empty before the first
    /// reset).
    pub fn observations(&self) -> &[E::Obs] {
        &self.observations
    }

    /// The reward of each sub-env on the last step: 0 for autoreset entries and after reset.
    pub fn rewards(&self) -> &[f64] {
        &self.rewards
    }

    /// Whether each sub-env terminated on the last step.
    pub fn terminated(&self) -> &[bool] {
        &self.terminated
    }

    /// Whether each sub-env was truncated on the last step.
    pub fn truncated(&self) -> &[bool] {
        &self.truncated
    }

    /// The info of each sub-env's last step, or of its reset for autoreset entries (where an
    /// [`EpisodeStats`](crate::wrappers::EpisodeStats) sub-env reports finished episodes).
    pub fn infos(&self) -> &[Info] {
        &self.infos
    }

    /// Which sub-envs the last step reset instead of stepping: their action was ignored, their
    /// reward is 0 and their observation is a reset observation. All `false` after a reset.
    pub fn autoreset_mask(&self) -> &[bool] {
        &self.autoreset
    }

    /// The number of sub-envs.
    pub fn num_envs(&self) -> usize {
        self.envs.len()
    }

    /// The observation space of one sub-env.
    pub fn single_observation_space(&self) -> &Space {
        self.envs[0].observation_space()
    }

    /// The action space of one sub-env.
    pub fn single_action_space(&self) -> &Space {
        self.envs[0].action_space()
    }

    /// The sub-envs.
    pub fn envs(&self) -> &[E] {
        &self.envs
    }

    /// The sub-envs, mutably. Stepping or resetting one directly bypasses the autoreset
    /// bookkeeping.
    pub fn envs_mut(&mut self) -> &mut [E] {
        &mut self.envs
    }

    /// Unwraps into the sub-envs.
    pub fn into_envs(self) -> Vec<E> {
        self.envs
    }
}

#[cfg(test)]
mod tests {
    use rand::{RngCore, SeedableRng};

    use super::*;
    use crate::EnvRng;
    use crate::wrappers::test_envs::Chain;
    use crate::wrappers::{EpisodeStats, TimeLimit, Wrapper};

    type Sub = TimeLimit<Chain>;

    /// Chains terminating after 2 and 3 steps, and one of 10 truncated after 2.
    fn three() -> SyncVectorEnv<Sub> {
        SyncVectorEnv::new(vec![
            TimeLimit::new(Chain::new(2), 100),
            TimeLimit::new(Chain::new(3), 100),
            TimeLimit::new(Chain::new(10), 2),
        ])
        .unwrap()
    }

    /// Gymnasium's `SyncVectorEnv` over the same three envs and actions:
    /// `tools/wrapper_references.py`, section "vector". Rows are
    /// (actions, observations, rewards, terminated, truncated).
    #[allow(clippy::type_complexity)]
    #[rustfmt::skip]
    const GYMNASIUM_NEXT_STEP: [([usize; 3], [usize; 3], [f64; 3], [bool; 3], [bool; 3]); 7] = [
        ([0, 1, 0], [1, 1, 1], [1.0, 2.0, 1.0], [false, false, false], [false, false, false]),
        ([1, 0, 1], [2, 2, 2], [2.0, 1.0, 2.0], [true, false, false], [false, false, true]),
        ([0, 1, 0], [0, 3, 0], [0.0, 2.0, 0.0], [false, true, false], [false, false, false]),
        ([1, 0, 1], [1, 0, 1], [2.0, 0.0, 2.0], [false, false, false], [false, false, false]),
        ([0, 1, 0], [2, 1, 2], [1.0, 2.0, 1.0], [true, false, false], [false, false, true]),
        ([1, 0, 1], [0, 2, 0], [0.0, 1.0, 0.0], [false, false, false], [false, false, false]),
        ([0, 1, 0], [1, 3, 1], [1.0, 2.0, 1.0], [false, true, false], [false, false, false]),
    ];

    #[test]
    fn autoreset_sequence_matches_gymnasium_next_step() {
        let mut envs = three();
        assert_eq!(envs.reset(Some(0)), &[0, 0, 0]);
        let mut done_before = [false; 3];
        for (t, (actions, obs, rew, term, trunc)) in GYMNASIUM_NEXT_STEP.into_iter().enumerate() {
            envs.step(&actions).unwrap();
            assert_eq!(envs.observations(), &obs, "step {t}");
            assert_eq!(envs.rewards(), &rew, "step {t}");
            assert_eq!(envs.terminated(), &term, "step {t}");
            assert_eq!(envs.truncated(), &trunc, "step {t}");
            assert_eq!(envs.autoreset_mask(), &done_before, "step {t}");
            for i in 0..3 {
                done_before[i] = term[i] || trunc[i];
            }
        }
        // Each autoreset skipped the sub-env's step: 7 calls, minus 2 resets for sub-env 0
        // (steps 3 and 6), 1 for sub-env 1 (step 4) and 2 for sub-env 2.
        let steps: Vec<u32> = envs.envs().iter().map(|e| e.inner().steps).collect();
        assert_eq!(steps, vec![5, 6, 5]);
        let resets: Vec<u32> = envs.envs().iter().map(|e| e.inner().resets).collect();
        assert_eq!(resets, vec![3, 2, 3]);
    }

    #[test]
    fn seeds_sub_env_i_with_seed_plus_i_and_autoresets_unseeded() {
        let mut envs = SyncVectorEnv::from_fn(3, |_| Chain::new(1)).unwrap();
        envs.reset(Some(10));
        let mut streams: Vec<EnvRng> = (0..3).map(|i| EnvRng::seed_from_u64(10 + i)).collect();
        for (env, rng) in envs.envs().iter().zip(&mut streams) {
            assert_eq!(env.draw, rng.next_u64());
        }
        // Every episode lasts one step: step 1 ends them, step 2 autoresets them without a
        // seed, so each continues its own stream.
        envs.step(&[0, 1, 0]).unwrap();
        assert_eq!(envs.terminated(), &[true; 3]);
        envs.step(&[1, 1, 1]).unwrap();
        assert_eq!(envs.autoreset_mask(), &[true; 3]);
        for (env, rng) in envs.envs().iter().zip(&mut streams) {
            assert_eq!(env.draw, rng.next_u64());
        }
        // An unseeded reset continues the streams too; a seeded one restarts them.
        envs.reset(None);
        for (env, rng) in envs.envs().iter().zip(&mut streams) {
            assert_eq!(env.draw, rng.next_u64());
        }
        envs.reset(Some(10));
        assert_eq!(envs.envs()[2].draw, EnvRng::seed_from_u64(12).next_u64());
        envs.reset(Some(u64::MAX));
        assert_eq!(envs.envs()[1].draw, EnvRng::seed_from_u64(0).next_u64());
    }

    #[test]
    fn invalid_actions_step_nothing() {
        let mut envs = three();
        envs.reset(Some(0));
        envs.step(&[1, 1, 1]).unwrap();
        let before: Vec<usize> = envs.observations().to_vec();
        let e = envs.step(&[1, 5, 0]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid action 5 at index 1: not in the action space Discrete(2)"
        );
        let e = envs.step(&[0, 0]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value 2 actions for `actions`: expected one per sub-env (3)"
        );
        // Sub-env 0 is due for an autoreset: its action is ignored but still checked.
        assert!(envs.step(&[2, 0, 0]).is_err());
        let steps: Vec<u32> = envs.envs().iter().map(|e| e.inner().steps).collect();
        assert_eq!(steps, vec![1, 1, 1]);
        assert_eq!(envs.observations(), &before[..]);
        // The next valid step carries on as if the errors never happened.
        envs.step(&[0, 0, 0]).unwrap();
        assert_eq!(envs.observations(), &[2, 2, 2]);
    }

    #[test]
    fn box_actions_step_and_bad_ones_step_nothing() {
        use crate::point_mass::PointMass;
        use crate::{AnyEnv, Params, make};
        // Concrete sub-envs take arrays; each is stepped as it would be alone.
        let mut envs = SyncVectorEnv::from_fn(2, |_| PointMass::new()).unwrap();
        let mut alone: Vec<PointMass> = (0..2).map(|_| PointMass::new()).collect();
        envs.reset(Some(7));
        for (i, env) in alone.iter_mut().enumerate() {
            env.reset(Some(7 + i as u64));
        }
        for actions in [[[0.5], [-1.0]], [[1.0], [0.25]]] {
            envs.step(&actions).unwrap();
            for (i, env) in alone.iter_mut().enumerate() {
                let step = env.step(actions[i]).unwrap();
                assert_eq!(envs.observations()[i], step.obs);
                assert_eq!(envs.rewards()[i], step.reward);
            }
        }
        let before = envs.observations().to_vec();
        let e = envs.step(&[[0.0], [f32::NAN]]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid action [NaN] at index 1: not in the action space Box(-1, 1, (1,), float32)"
        );
        assert_eq!(envs.observations(), &before[..]);
        assert_eq!(envs.envs()[0].state(), alone[0].state());

        // Type-erased sub-envs take vectors, checked for their length too.
        let erased = |_| match make("PointMass-v0", &Params::new()).unwrap() {
            AnyEnv::Continuous(e) => e,
            _ => unreachable!(),
        };
        let mut envs = SyncVectorEnv::from_fn(3, erased).unwrap();
        envs.reset(Some(7));
        envs.step(&[vec![0.5], vec![-1.0], vec![0.0]]).unwrap();
        let mut one = PointMass::new();
        one.reset(Some(7));
        assert_eq!(
            envs.observations()[0],
            one.step([0.5]).unwrap().obs.to_vec()
        );
        let e = envs
            .step(&[vec![0.5], vec![0.5, 0.5], vec![0.0]])
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid action [0.5, 0.5] at index 1: not in the action space Box(-1, 1, (1,), \
             float32)"
        );
    }

    #[test]
    fn step_before_reset_is_an_error() {
        let mut envs = three();
        assert!(matches!(envs.step(&[0, 0, 0]), Err(Error::NotReset)));
        assert!(envs.observations().is_empty());
    }

    #[test]
    fn reset_clears_flags_and_pending_autoresets() {
        let mut envs = three();
        envs.reset(Some(0));
        envs.step(&[1, 1, 1]).unwrap();
        envs.step(&[1, 1, 1]).unwrap();
        assert_eq!(envs.terminated(), &[true, false, false]);
        envs.reset(None);
        assert_eq!(envs.terminated(), &[false; 3]);
        assert_eq!(envs.rewards(), &[0.0; 3]);
        // No autoreset is left pending: every sub-env steps.
        envs.step(&[0, 0, 0]).unwrap();
        assert_eq!(envs.observations(), &[1, 1, 1]);
        assert_eq!(envs.autoreset_mask(), &[false; 3]);
    }

    #[test]
    fn episode_stats_reach_the_infos() {
        let mut envs = SyncVectorEnv::from_fn(2, |i| EpisodeStats::new(Chain::new(i + 1))).unwrap();
        envs.reset(Some(3));
        envs.step(&[1, 1]).unwrap();
        let record = envs.infos()[0].episode.unwrap();
        assert_eq!(
            (record.ret, record.length, record.terminated),
            (2.0, 1, true)
        );
        assert_eq!(envs.infos()[1].episode, None);
    }

    #[test]
    fn rejects_empty_and_mismatched_envs() {
        let e = SyncVectorEnv::<Chain>::new(vec![]).unwrap_err();
        assert!(e.to_string().contains("at least 1 env"), "{e}");
        let mut odd = Chain::new(2);
        odd.obs_space = Space::discrete(3);
        let e = SyncVectorEnv::new(vec![Chain::new(2), Chain::new(3), odd]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value Chain2 with observation space Discrete(3) for `envs[2]`: \
             expected the observation space of envs[0], Discrete(16)"
        );
        let envs = SyncVectorEnv::from_fn(4, |_| Chain::new(2)).unwrap();
        assert_eq!(envs.num_envs(), 4);
        assert_eq!(envs.single_observation_space(), &Space::discrete(16));
        assert_eq!(envs.single_action_space(), &Space::discrete(2));
        assert_eq!(envs.into_envs().len(), 4);
    }
}
