//! The `n_envs` envs an on-policy seed steps together, with the episode under way in each and
//! where each stands for a checkpoint ([`EnvPosition`]).

use anyhow::{Result, bail};
use qlab_agents::nn::Sampled;
use qlab_envs::Env;

use super::{Bounds, Kind};
use crate::runner::checkpoint::{Began, EnvPosition};

/// An episode under way in one of the envs.
#[derive(Clone, Copy, Default)]
struct Running {
    ret: f64,
    length: u64,
}

/// An episode that ended in one env.
pub(super) struct Ended {
    /// Its return.
    pub(super) ret: f64,
    /// Its steps.
    pub(super) length: u64,
    /// By termination (else by truncation).
    pub(super) terminated: bool,
}

/// The envs, their observations and each one's step, as the agent observes them.
pub(super) struct VecEnvs {
    envs: Vec<Kind>,
    running: Vec<Running>,
    /// How each env's episode began (`None`: an env that cannot save its random stream), and
    /// the actions since.
    began: Vec<Option<Began>>,
    actions: Vec<Vec<f64>>,
    obs_dim: usize,
    /// What each env observes now, `obs_dim` numbers each.
    pub(super) obs: Vec<f32>,
    /// Each env's last reward, whether it terminated or was truncated, and the observation
    /// it reached (before any reset).
    pub(super) rewards: Vec<f64>,
    pub(super) terminated: Vec<bool>,
    pub(super) truncated: Vec<bool>,
    pub(super) final_obs: Vec<f32>,
    /// What each env observes after the last step: the reset observation where the episode
    /// ended.
    pub(super) next_obs: Vec<f32>,
}

impl VecEnvs {
    fn new(envs: Vec<Kind>, obs_dim: usize) -> VecEnvs {
        let n = envs.len();
        VecEnvs {
            envs,
            running: vec![Running::default(); n],
            began: vec![None; n],
            actions: vec![Vec::new(); n],
            obs_dim,
            obs: Vec::with_capacity(n * obs_dim),
            rewards: vec![0.0; n],
            terminated: vec![false; n],
            truncated: vec![false; n],
            final_obs: vec![0.0; n * obs_dim],
            next_obs: Vec::with_capacity(n * obs_dim),
        }
    }

    /// The envs `make` builds, env `i` reset with `seed + i` (Stable-Baselines3's
    /// `make_vec_env` seeding).
    pub(super) fn start(
        make: impl Fn() -> Result<Kind>,
        n: usize,
        seed: u64,
        obs_dim: usize,
    ) -> Result<VecEnvs> {
        let envs = (0..n).map(|_| make()).collect::<Result<Vec<_>>>()?;
        let mut v = VecEnvs::new(envs, obs_dim);
        for i in 0..n {
            let s = seed.wrapping_add(i as u64);
            let obs = v.envs[i].reset(Some(s));
            v.obs.extend(obs);
            v.began[i] = Some(Began::Seed(s));
        }
        Ok(v)
    }

    /// The envs `make` builds, each put where `positions` says (reset as it began, its actions
    /// replayed), as they stood at a checkpoint.
    ///
    /// # Errors
    /// A position whose replay ends its episode or does not fit the env: the checkpoint does
    /// not belong to this run.
    pub(super) fn resume(
        make: impl Fn() -> Result<Kind>,
        positions: &[EnvPosition],
        obs_dim: usize,
        action_dim: usize,
        bounds: &Bounds,
    ) -> Result<VecEnvs> {
        let envs = (0..positions.len())
            .map(|_| make())
            .collect::<Result<Vec<_>>>()?;
        let mut v = VecEnvs::new(envs, obs_dim);
        for (i, p) in positions.iter().enumerate() {
            let env = &mut v.envs[i];
            let mut obs = match p.began {
                Began::Seed(s) => env.reset(Some(s)),
                Began::Stream(state) => {
                    env.set_rng_state(state)?;
                    env.reset(None)
                }
            };
            if p.actions.len() % action_dim != 0 {
                bail!(
                    "env {i}: {} numbers of actions, not a multiple of {action_dim}",
                    p.actions.len()
                );
            }
            let mut action = vec![0.0f32; action_dim];
            for (k, a) in p.actions.chunks(action_dim).enumerate() {
                for (x, &y) in action.iter_mut().zip(a) {
                    *x = y as f32;
                }
                let out = env.step(&action, bounds)?;
                if out.terminated || out.truncated {
                    bail!("env {i}: its episode ends at replayed action {}", k + 1);
                }
                v.running[i].ret += out.reward;
                v.running[i].length += 1;
                obs = out.obs;
            }
            v.obs.extend(obs);
            v.began[i] = Some(p.began);
            v.actions[i] = p.actions.clone();
        }
        Ok(v)
    }

    /// Steps every env with its action (clipped to `bounds` for Box actions); an env whose
    /// episode ends is reset at once and its episode handed to `ended` (in the order of the
    /// envs). The observations each env reaches are in [`next_obs`](Self::next_obs), with
    /// the step's other fields; [`advance`](Self::advance) makes them current.
    pub(super) fn step(
        &mut self,
        actions: &[Sampled],
        bounds: &Bounds,
        mut ended: impl FnMut(Ended) -> Result<()>,
    ) -> Result<()> {
        let d = self.obs_dim;
        self.next_obs.clear();
        for (e, env) in self.envs.iter_mut().enumerate() {
            let action = &actions[e].action;
            let out = env.step(action, bounds)?;
            self.final_obs[e * d..(e + 1) * d].copy_from_slice(&out.obs);
            self.rewards[e] = out.reward;
            (self.terminated[e], self.truncated[e]) = (out.terminated, out.truncated);
            let run = &mut self.running[e];
            run.ret += out.reward;
            run.length += 1;
            if out.terminated || out.truncated {
                ended(Ended {
                    ret: run.ret,
                    length: run.length,
                    terminated: out.terminated,
                })?;
                *run = Running::default();
                // The stream as the episode ended: where the next one's reset starts.
                self.began[e] = env.rng_state().map(Began::Stream);
                self.actions[e].clear();
                self.next_obs.extend(env.reset(None));
            } else {
                self.actions[e].extend(action.iter().map(|&a| a as f64));
                self.next_obs.extend_from_slice(&out.obs);
            }
        }
        Ok(())
    }

    /// Makes the observations the last [`step`](Self::step) reached the current ones.
    pub(super) fn advance(&mut self) {
        std::mem::swap(&mut self.obs, &mut self.next_obs);
    }

    /// Where each env stands, for a checkpoint; `None` when an env cannot save its random
    /// stream.
    pub(super) fn positions(&self) -> Option<Vec<EnvPosition>> {
        self.began
            .iter()
            .zip(&self.actions)
            .map(|(began, actions)| {
                Some(EnvPosition {
                    began: (*began)?,
                    actions: actions.clone(),
                })
            })
            .collect()
    }

    /// The name of the envs, for messages.
    pub(super) fn name(&self) -> String {
        match &self.envs[0] {
            Kind::Discrete(e) => e.name(),
            Kind::Continuous(e) => e.name(),
        }
    }
}
