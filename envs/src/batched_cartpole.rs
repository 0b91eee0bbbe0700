//! [`CartPoleBatch`]: many cart-poles stepped together, for throughput — Gymnasium's
//! `CartPoleVectorEnv`.

use rand::SeedableRng;

use crate::cartpole::{
    CartPoleConfig, KERNEL_LIMIT, KinematicsIntegrator, advance, advance_with, draw_start,
    is_terminal, kernel_sin_cos, reward,
};
use crate::{EnvRng, Error, Result};

/// `n` independent [`CartPole`](crate::cartpole::CartPole)s stepped together, with
/// automatic resets and their own time limit — Gymnasium's `CartPoleVectorEnv`.
///
/// The state is stored as one array per variable (structure of arrays), so that the physics of
/// all sub-envs runs as one loop the compiler vectorizes. The arithmetic is
/// [`CartPole`](crate::cartpole::CartPole)'s, operation for operation: a sub-env follows
/// exactly the trajectory of a single `CartPole` in a
/// [`TimeLimit`](crate::wrappers::TimeLimit) of `max_episode_steps`, given the same start
/// state and actions. Stepping allocates nothing.
///
/// # Seeding
/// [`reset`](Self::reset)`(Some(seed))` seeds sub-env `i` with `seed + i` (wrapping), as
/// Gymnasium seeds the sub-envs of a vector env; its start states are then those of a single
/// `CartPole` reset with `Some(seed + i)`. `reset(None)` continues every sub-env's stream;
/// sub-envs never seeded draw their seeds from the OS.
///
/// # Autoreset (Gymnasium's `NEXT_STEP` mode)
/// When sub-env `i` ends at step `t` (terminated, or truncated at `max_episode_steps`), step
/// `t` reports its final observation, its reward and its flags. At step `t + 1` its action is
/// ignored: it is reset, and reports the new start observation with reward 0 and both flags
/// `false`. A learner must therefore not store the transition from a final observation to the
/// next observation of the same sub-env. A sub-env that terminates on the step that reaches the
/// time limit reports both flags, as [`TimeLimit`](crate::wrappers::TimeLimit) does.
///
/// # Layout
/// [`observations`](Self::observations) is `n × 4` `f32` values, row-major (sub-env `i` at
/// `4i..4i + 4`: x, x_dot, theta, theta_dot); [`rewards`](Self::rewards),
/// [`terminated`](Self::terminated) and [`truncated`](Self::truncated) have one entry per
/// sub-env. All refer to the latest `reset` or `step`.
///
/// ```
/// use qlab_envs::batched_cartpole::CartPoleBatch;
/// use qlab_envs::cartpole::CartPoleConfig;
/// # fn main() -> qlab_envs::Result<()> {
/// let mut envs = CartPoleBatch::new(8, CartPoleConfig::default());
/// envs.reset(Some(0));
/// let actions = vec![1; 8];
/// for _ in 0..100 {
///     envs.step(&actions)?;
/// }
/// assert_eq!(envs.observations().len(), 8 * 4);
/// assert!(envs.step(&[0, 1]).is_err()); // wrong number of actions
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct CartPoleBatch {
    config: CartPoleConfig,
    x: Vec<f64>,
    x_dot: Vec<f64>,
    theta: Vec<f64>,
    theta_dot: Vec<f64>,
    /// Steps since each sub-env's reset.
    steps: Vec<u64>,
    /// Whether each sub-env ended on the previous step, and so resets on this one.
    ended: Vec<bool>,
    rngs: Vec<Option<EnvRng>>,
    obs: Vec<f32>,
    rewards: Vec<f64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    was_reset: bool,
}

impl CartPoleBatch {
    /// `n` sub-envs with the same settings. Call [`reset`](Self::reset) before stepping.
    pub fn new(n: usize, config: CartPoleConfig) -> Self {
        Self {
            config,
            x: vec![0.0; n],
            x_dot: vec![0.0; n],
            theta: vec![0.0; n],
            theta_dot: vec![0.0; n],
            steps: vec![0; n],
            ended: vec![false; n],
            rngs: vec![None; n],
            obs: vec![0.0; 4 * n],
            rewards: vec![0.0; n],
            terminated: vec![false; n],
            truncated: vec![false; n],
            was_reset: false,
        }
    }

    /// The number of sub-envs.
    pub fn num_envs(&self) -> usize {
        self.x.len()
    }

    /// The settings.
    pub fn config(&self) -> &CartPoleConfig {
        &self.config
    }

    /// Resets every sub-env. With a seed, sub-env `i` is reseeded with `seed + i`.
    pub fn reset(&mut self, seed: Option<u64>) {
        for i in 0..self.num_envs() {
            self.reset_one(i, seed.map(|s| s.wrapping_add(i as u64)));
        }
        self.terminated.fill(false);
        self.truncated.fill(false);
        self.rewards.fill(0.0);
        self.ended.fill(false);
        self.write_observations();
        self.was_reset = true;
    }

    /// Steps every sub-env with its action (`actions[i]` for sub-env `i`, `0` left, `1`
    /// right), autoresetting those that ended on the previous step (see the type's docs).
    ///
    /// Errors, with nothing changed: [`Error::NotReset`] before the first reset;
    /// [`Error::InvalidAction`] when `actions` does not have one entry per sub-env, or some
    /// action is not 0 or 1 (the message names its index and value). The action of a sub-env
    /// that is being reset is checked too, although it is ignored.
    pub fn step(&mut self, actions: &[usize]) -> Result<()> {
        let n = self.num_envs();
        if !self.was_reset {
            return Err(Error::NotReset);
        }
        if actions.len() != n {
            return Err(Error::InvalidAction {
                action: format!("[{} actions]", actions.len()),
                space: format!("MultiDiscrete([2; {n}]) (one action per sub-env)"),
            });
        }
        if let Some(i) = actions.iter().position(|&a| a > 1) {
            return Err(Error::InvalidAction {
                action: format!("actions[{i}] = {}", actions[i]),
                space: "Discrete(2)".into(),
            });
        }

        match self.config.kinematics_integrator {
            KinematicsIntegrator::Euler => self.physics::<false>(actions),
            KinematicsIntegrator::SemiImplicitEuler => self.physics::<true>(actions),
        }

        let max_steps = self.config.max_episode_steps;
        let sutton_barto = self.config.sutton_barto_reward;
        for (((steps, truncated), reward_i), &terminated) in self
            .steps
            .iter_mut()
            .zip(&mut self.truncated)
            .zip(&mut self.rewards)
            .zip(&self.terminated)
        {
            *steps += 1;
            *truncated = *steps >= max_steps;
            *reward_i = reward(terminated, sutton_barto);
        }

        // Sub-envs that ended on the previous step: their stepped state is discarded.
        for i in 0..n {
            if self.ended[i] {
                self.reset_one(i, None);
                self.rewards[i] = 0.0;
                self.terminated[i] = false;
                self.truncated[i] = false;
            }
        }
        for ((ended, &terminated), &truncated) in self
            .ended
            .iter_mut()
            .zip(&self.terminated)
            .zip(&self.truncated)
        {
            *ended = terminated | truncated;
        }
        self.write_observations();
        Ok(())
    }

    /// The latest observations: `num_envs × 4` values, row-major.
    pub fn observations(&self) -> &[f32] {
        &self.obs
    }

    /// The latest rewards, one per sub-env.
    pub fn rewards(&self) -> &[f64] {
        &self.rewards
    }

    /// Whether each sub-env terminated on the latest step.
    pub fn terminated(&self) -> &[bool] {
        &self.terminated
    }

    /// Whether each sub-env was truncated by the time limit on the latest step.
    pub fn truncated(&self) -> &[bool] {
        &self.truncated
    }

    /// The full-precision state `[x, x_dot, theta, theta_dot]` of sub-env `i`.
    ///
    /// # Panics
    /// If `i >= num_envs()`.
    pub fn state(&self, i: usize) -> [f64; 4] {
        [self.x[i], self.x_dot[i], self.theta[i], self.theta_dot[i]]
    }

    /// Advances every sub-env one step and sets `terminated`.
    fn physics<const SEMI_IMPLICIT: bool>(&mut self, actions: &[usize]) {
        let n = self.num_envs();
        let lanes = Lanes {
            x: &mut self.x[..n],
            x_dot: &mut self.x_dot[..n],
            theta: &mut self.theta[..n],
            theta_dot: &mut self.theta_dot[..n],
            terminated: &mut self.terminated[..n],
            actions: &actions[..n],
        };
        lanes.advance::<SEMI_IMPLICIT>();
    }

    fn reset_one(&mut self, i: usize, seed: Option<u64>) {
        if let Some(seed) = seed {
            self.rngs[i] = Some(EnvRng::seed_from_u64(seed));
        }
        let rng = self.rngs[i].get_or_insert_with(EnvRng::from_os_entropy);
        let (low, high) = (self.config.reset_low, self.config.reset_high);
        // Drawn in the order of the state, as `CartPole` draws them.
        self.x[i] = draw_start(rng, low, high);
        self.x_dot[i] = draw_start(rng, low, high);
        self.theta[i] = draw_start(rng, low, high);
        self.theta_dot[i] = draw_start(rng, low, high);
        self.steps[i] = 0;
    }

    fn write_observations(&mut self) {
        for (((obs, &x), (&x_dot, &theta)), &theta_dot) in self
            .obs
            .chunks_exact_mut(4)
            .zip(&self.x)
            .zip(self.x_dot.iter().zip(&self.theta))
            .zip(&self.theta_dot)
        {
            obs.copy_from_slice(&[x as f32, x_dot as f32, theta as f32, theta_dot as f32]);
        }
    }
}

/// The state columns of a batch and the step's actions: the loop [`CartPole`]'s physics runs
/// over, compiled for the widest vectors the CPU has.
///
/// The loop is the same code for every width: each lane computes the scalar env's
/// operations in the scalar env's order (IEEE additions, products and divisions, no fused
/// multiply-add), so every width gives the same bits.
///
/// [`CartPole`]: crate::cartpole::CartPole
struct Lanes<'a> {
    x: &'a mut [f64],
    x_dot: &'a mut [f64],
    theta: &'a mut [f64],
    theta_dot: &'a mut [f64],
    terminated: &'a mut [bool],
    actions: &'a [usize],
}

impl Lanes<'_> {
    /// Advances every lane one step: with AVX-512 where the CPU has it, else AVX2, else the
    /// target's baseline.
    fn advance<const SEMI_IMPLICIT: bool>(self) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F, checked just above.
                return unsafe { self.advance_avx512::<SEMI_IMPLICIT>() };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2, checked just above.
                return unsafe { self.advance_avx2::<SEMI_IMPLICIT>() };
            }
        }
        self.advance_portable::<SEMI_IMPLICIT>();
    }

    /// [`advance_portable`](Self::advance_portable) compiled for AVX-512 (eight lanes).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn advance_avx512<const SEMI_IMPLICIT: bool>(self) {
        self.advance_portable::<SEMI_IMPLICIT>();
    }

    /// [`advance_portable`](Self::advance_portable) compiled for AVX2 (four lanes).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn advance_avx2<const SEMI_IMPLICIT: bool>(self) {
        self.advance_portable::<SEMI_IMPLICIT>();
    }

    /// The loop itself, inlined into each width's function.
    #[inline(always)]
    fn advance_portable<const SEMI_IMPLICIT: bool>(self) {
        let Lanes {
            x,
            x_dot,
            theta,
            theta_dot,
            terminated,
            actions,
        } = self;
        let n = x.len();
        let (x_dot, theta, theta_dot) = (&mut x_dot[..n], &mut theta[..n], &mut theta_dot[..n]);
        let (terminated, actions) = (&mut terminated[..n], &actions[..n]);
        // Every angle an episode reaches lies within the polynomials' domain; then the loop
        // is branch-free and vectorizes. Otherwise (a diverged sub-env) take the scalar path,
        // which computes the same values.
        let all_in_domain = theta
            .iter()
            .fold(true, |ok, t| ok & (t.abs() <= KERNEL_LIMIT));
        if all_in_domain {
            for i in 0..n {
                let state = [x[i], x_dot[i], theta[i], theta_dot[i]];
                let s = advance_with(
                    state,
                    kernel_sin_cos(theta[i]),
                    actions[i] == 1,
                    SEMI_IMPLICIT,
                );
                [x[i], x_dot[i], theta[i], theta_dot[i]] = s;
                terminated[i] = is_terminal(s[0], s[2]);
            }
        } else {
            for i in 0..n {
                let state = [x[i], x_dot[i], theta[i], theta_dot[i]];
                let s = advance(state, actions[i] == 1, SEMI_IMPLICIT);
                [x[i], x_dot[i], theta[i], theta_dot[i]] = s;
                terminated[i] = is_terminal(s[0], s[2]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cartpole::CartPole;
    use crate::wrappers::{TimeLimit, Wrapper};
    use crate::{Env, ParamValue, Params};

    fn config(params: &Params) -> CartPoleConfig {
        let mut c = CartPoleConfig::default();
        c.apply_params("CartPole-v1", params).unwrap();
        c
    }

    /// Steps a batch of `n` and `n` single `TimeLimit(CartPole)`s side by side, sub-env `i`
    /// against a single env seeded with `seed + i`, resetting a single env on the step after
    /// it ended (NEXT_STEP). Everything must agree exactly.
    fn check_against_singles(n: usize, c: CartPoleConfig, steps: usize) -> (usize, usize) {
        let seed = 1000;
        let mut batch = CartPoleBatch::new(n, c.clone());
        let mut singles: Vec<_> = (0..n)
            .map(|_| TimeLimit::new(CartPole::new(c.clone()), c.max_episode_steps))
            .collect();
        batch.reset(Some(seed));
        let mut obs: Vec<[f32; 4]> = Vec::new();
        for (i, env) in singles.iter_mut().enumerate() {
            obs.push(env.reset(Some(seed + i as u64)).obs);
        }
        let mut ended = vec![false; n];
        let mut rng = EnvRng::seed_from_u64(5);
        let mut actions = vec![0; n];
        let (mut terminations, mut truncations) = (0, 0);
        for t in 0..steps {
            for (i, o) in obs.iter().enumerate() {
                assert_eq!(
                    &batch.observations()[4 * i..4 * i + 4],
                    o,
                    "step {t} env {i}"
                );
                assert_eq!(
                    batch.state(i),
                    singles[i].inner().state(),
                    "step {t} env {i}"
                );
            }
            // Half the sub-envs balance (so some reach the time limit), half act at random.
            for (i, a) in actions.iter_mut().enumerate() {
                *a = if i % 2 == 0 {
                    usize::from(obs[i][2] + 0.5 * obs[i][3] > 0.0)
                } else {
                    rng.below(2)
                };
            }
            batch.step(&actions).unwrap();
            for i in 0..n {
                let (reward, terminated, truncated) = if ended[i] {
                    obs[i] = singles[i].reset(None).obs;
                    (0.0, false, false)
                } else {
                    let step = singles[i].step(actions[i]).unwrap();
                    obs[i] = step.obs;
                    (step.reward, step.terminated, step.truncated)
                };
                ended[i] = terminated || truncated;
                terminations += usize::from(terminated);
                truncations += usize::from(truncated);
                assert_eq!(
                    (
                        batch.rewards()[i],
                        batch.terminated()[i],
                        batch.truncated()[i]
                    ),
                    (reward, terminated, truncated),
                    "step {t} env {i}"
                );
            }
        }
        (terminations, truncations)
    }

    /// Each vector width the CPU has gives the portable loop's bits, on angles in and out of
    /// the polynomials' domain.
    #[test]
    fn every_vector_width_gives_the_portable_bits() {
        let mut rng = EnvRng::seed_from_u64(5);
        let n = 1003;
        let column = |rng: &mut EnvRng, scale: f64| -> Vec<f64> {
            (0..n).map(|_| (rng.next_f64() - 0.5) * scale).collect()
        };
        for theta_scale in [0.4, 4.0] {
            let start = [
                column(&mut rng, 4.0),
                column(&mut rng, 6.0),
                column(&mut rng, theta_scale),
                column(&mut rng, 6.0),
            ];
            let actions: Vec<usize> = (0..n).map(|_| rng.below(2)).collect();
            let run = |width: &str| {
                let [mut x, mut x_dot, mut theta, mut theta_dot] = start.clone();
                let mut terminated = vec![false; n];
                let lanes = Lanes {
                    x: &mut x,
                    x_dot: &mut x_dot,
                    theta: &mut theta,
                    theta_dot: &mut theta_dot,
                    terminated: &mut terminated,
                    actions: &actions,
                };
                match width {
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: only called when the CPU has the feature.
                    "avx512" => unsafe { lanes.advance_avx512::<false>() },
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: as above.
                    "avx2" => unsafe { lanes.advance_avx2::<false>() },
                    _ => lanes.advance_portable::<false>(),
                }
                let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                (
                    bits(&x),
                    bits(&x_dot),
                    bits(&theta),
                    bits(&theta_dot),
                    terminated,
                )
            };
            let portable = run("portable");
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx512f") {
                    assert!(
                        run("avx512") == portable,
                        "AVX-512, theta scale {theta_scale}"
                    );
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    assert!(run("avx2") == portable, "AVX2, theta scale {theta_scale}");
                }
            }
        }
    }

    #[test]
    fn matches_single_envs_step_for_step() {
        let short = |extra: Params| config(&extra.with("max_episode_steps", ParamValue::Int(60)));
        for n in [1, 2, 3, 8, 17] {
            let (term, trunc) = check_against_singles(n, short(Params::new()), 300);
            if n >= 2 {
                assert!(
                    term > 0 && trunc > 0,
                    "n = {n}: {term} terminations, {trunc} truncations"
                );
            }
        }
        let semi = Params::new().with(
            "kinematics_integrator",
            ParamValue::Str("semi_implicit_euler".into()),
        );
        check_against_singles(5, short(semi), 300);
        let sb = Params::new().with("sutton_barto_reward", ParamValue::Bool(true));
        check_against_singles(5, short(sb), 300);
        check_against_singles(4, CartPoleConfig::default(), 700);
    }

    #[test]
    fn diverged_sub_env_takes_the_library_path_and_still_matches() {
        let mut batch = CartPoleBatch::new(3, CartPoleConfig::default());
        batch.reset(Some(0));
        let wild = [0.5, -3.0, 2.0, 40.0];
        [
            batch.x[1],
            batch.x_dot[1],
            batch.theta[1],
            batch.theta_dot[1],
        ] = wild;
        let mut single = CartPole::new(CartPoleConfig::default());
        let _ = single.reset(Some(1));
        single.set_state(&wild).unwrap();
        let mut other = CartPole::new(CartPoleConfig::default());
        let _ = other.reset(Some(2));
        batch.step(&[0, 1, 1]).unwrap();
        let step = single.step(1).unwrap();
        assert_eq!(batch.state(1), single.state());
        assert_eq!(&batch.observations()[4..8], &step.obs);
        assert!(batch.terminated()[1]);
        let _ = other.step(1).unwrap();
        assert_eq!(batch.state(2), other.state());
    }

    #[test]
    fn reset_seeds_sub_envs_in_sequence_and_none_continues() {
        let mut batch = CartPoleBatch::new(4, CartPoleConfig::default());
        batch.reset(Some(7));
        let first = batch.observations().to_vec();
        let mut single = CartPole::new(CartPoleConfig::default());
        for i in 0..4 {
            assert_eq!(
                &first[4 * i..4 * i + 4],
                &single.reset(Some(7 + i as u64)).obs
            );
        }
        let _ = single.reset(Some(10));
        batch.reset(None);
        assert_ne!(batch.observations(), &first[..]);
        assert_eq!(&batch.observations()[12..16], &single.reset(None).obs);
        batch.reset(Some(7));
        assert_eq!(batch.observations(), &first[..]);
        assert!(batch.rewards().iter().all(|&r| r == 0.0));
        assert!(!batch.terminated().iter().any(|&b| b) && !batch.truncated().iter().any(|&b| b));
    }

    #[test]
    fn bad_actions_are_rejected_and_change_nothing() {
        let mut batch = CartPoleBatch::new(4, CartPoleConfig::default());
        assert!(matches!(batch.step(&[0; 4]), Err(Error::NotReset)));
        batch.reset(Some(0));
        batch.step(&[1, 0, 1, 0]).unwrap();
        let before = batch.clone();
        assert_eq!(
            batch.step(&[0, 1, 1]).unwrap_err().to_string(),
            "invalid action [3 actions]: not in the action space MultiDiscrete([2; 4]) \
             (one action per sub-env)"
        );
        assert_eq!(
            batch.step(&[0, 1, 1, 2]).unwrap_err().to_string(),
            "invalid action actions[3] = 2: not in the action space Discrete(2)"
        );
        assert_eq!(batch.observations(), before.observations());
        assert_eq!(batch.rewards(), before.rewards());
        assert_eq!(batch.steps, before.steps);
        assert_eq!((0..4).map(|i| batch.state(i)).collect::<Vec<_>>(), {
            (0..4).map(|i| before.state(i)).collect::<Vec<_>>()
        });
    }

    #[test]
    fn accessors_have_one_entry_per_sub_env() {
        let mut batch = CartPoleBatch::new(5, CartPoleConfig::default());
        batch.reset(Some(3));
        batch.step(&[1; 5]).unwrap();
        assert_eq!(batch.num_envs(), 5);
        assert_eq!(batch.observations().len(), 20);
        assert_eq!(batch.rewards(), &[1.0; 5]);
        assert_eq!(batch.terminated().len(), 5);
        assert_eq!(batch.truncated().len(), 5);
        let empty = CartPoleBatch::new(0, CartPoleConfig::default());
        assert_eq!(empty.num_envs(), 0);
    }
}
