//! [`Attack`]: an [`AttackConfig`] built for one observation space and run one observation at
//! a time.

use candle_core::Device;
use qlab_envs::{BoxSpace, EnvRng};

use super::config::{AttackConfig, AttackMethod};
use super::fgsm::{Forward, fgsm_step};
use super::pgd::{Buffers, Pgd};
use super::{AttackStats, Ball, QFunction, Target, noise, timed};
use crate::{Error, Result};

/// An attack ready to perturb observations of one [`BoxSpace`], built from an
/// [`AttackConfig`].
///
/// [`perturb`](Attack::perturb) writes the attacked observation into a buffer; the
/// perturbation before clipping to the box is kept for inspection
/// ([`last_delta`](Attack::last_delta)), and [`stats`](Attack::stats) counts the observations
/// seen and attacked. Apart from candle's own tensors, a call allocates nothing.
#[derive(Clone, Debug)]
pub struct Attack {
    config: AttackConfig,
    method: AttackMethod,
    ball: Ball,
    pgd: Pgd,
    threshold: f32,
    n_actions: usize,
    device: Device,
    buf: Buffers,
    u: Vec<f32>,
    delta: Vec<f32>,
    stats: AttackStats,
}

impl Attack {
    /// Builds `config` for observations in `space`, against agents with `n_actions` actions
    /// whose networks live on `device`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if the config is invalid ([`AttackConfig::validate`]), its
    /// scale does not match the space, or its target action is not below `n_actions`.
    pub fn new(
        config: &AttackConfig,
        space: &BoxSpace,
        n_actions: usize,
        device: &Device,
    ) -> Result<Attack> {
        config.validate()?;
        if n_actions == 0 {
            return Err(Error::config("n_actions", 0, "at least 1"));
        }
        if let Target::Action(a) = config.target {
            if a >= n_actions {
                return Err(Error::config(
                    "target.action",
                    a,
                    format!("an action below {n_actions}"),
                ));
            }
        }
        let ball = Ball::new(config.eps, config.norm, &config.scale, space)?;
        let d = ball.dim();
        let method = match config.method {
            AttackMethod::Timed => config.timed_with,
            m => m,
        };
        Ok(Attack {
            config: config.clone(),
            method,
            ball,
            pgd: Pgd {
                iterations: config.iterations,
                alpha: config.pgd_step_size() as f32,
                start: config.start,
            },
            threshold: config.threshold as f32,
            n_actions,
            device: device.clone(),
            buf: Buffers::new(d),
            u: vec![0.0; d],
            delta: vec![0.0; d],
            stats: AttackStats::default(),
        })
    }

    /// The config it was built from.
    pub fn config(&self) -> &AttackConfig {
        &self.config
    }

    /// The device the attacked networks live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The ball of allowed perturbations.
    pub fn ball(&self) -> &Ball {
        &self.ball
    }

    /// Counts of the observations seen and attacked since the last
    /// [`reset_stats`](Attack::reset_stats). `action_changes` is left to the caller (see
    /// [`AgainstQ`](super::AgainstQ)).
    pub fn stats(&self) -> AttackStats {
        self.stats
    }

    /// Zeroes the counts.
    pub fn reset_stats(&mut self) {
        self.stats = AttackStats::default();
    }

    /// The last perturbation `δ`, in observation units, before clipping `x₀ + δ` to the box
    /// (FGSM and noise), or as applied (PGD, which clips every iterate); zero where the last
    /// observation was not attacked.
    pub fn last_delta(&self) -> &[f32] {
        &self.delta
    }

    /// Writes the attacked version of `obs` into `out` and returns whether it was attacked
    /// (`false` for `none`, and for the timed attack below its threshold, where `out` is a
    /// copy of `obs`). `q` is the attacked agent's Q-function; `rng` drives the noise and
    /// PGD's random start.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `obs` or `out` has the wrong length; a candle error if `q`
    /// does not take observations of this length or does not return `n_actions` values.
    pub fn perturb(
        &mut self,
        obs: &[f32],
        q: &dyn QFunction,
        rng: &mut EnvRng,
        out: &mut [f32],
    ) -> Result<bool> {
        let d = self.ball.dim();
        if obs.len() != d || out.len() != d {
            return Err(Error::config(
                "observation",
                format!("lengths {} and {}", obs.len(), out.len()),
                format!("observations of length {d}"),
            ));
        }
        self.stats.steps += 1;
        self.delta.fill(0.0);
        let attacked = match self.config.method {
            // A ball of radius 0 leaves every observation as it is: nothing is attacked.
            AttackMethod::None => false,
            _ if self.config.eps == 0.0 => false,
            AttackMethod::Random => {
                noise::uniform(&self.ball, rng, &mut self.u);
                self.finish_noise(obs, out);
                true
            }
            AttackMethod::Gaussian => {
                noise::gaussian(&self.ball, rng, &mut self.u);
                self.finish_noise(obs, out);
                true
            }
            AttackMethod::Fgsm | AttackMethod::Pgd | AttackMethod::Timed => {
                self.gradient_attack(obs, q, rng, out)?
            }
        };
        if !attacked {
            out.copy_from_slice(obs);
        }
        self.stats.attacked += attacked as u64;
        Ok(attacked)
    }

    fn finish_noise(&mut self, obs: &[f32], out: &mut [f32]) {
        self.set_delta();
        self.ball.apply(obs, &mut self.u, out);
    }

    /// `δ = s ⊙ u`.
    fn set_delta(&mut self) {
        for ((d, u), s) in self.delta.iter_mut().zip(&self.u).zip(self.ball.scale()) {
            *d = u * s;
        }
    }

    fn gradient_attack(
        &mut self,
        obs: &[f32],
        q: &dyn QFunction,
        rng: &mut EnvRng,
        out: &mut [f32],
    ) -> Result<bool> {
        let clean = Forward::new(q, obs, &self.device)?;
        if clean.values.len() != self.n_actions {
            return Err(Error::config(
                "n_actions",
                clean.values.len(),
                format!("the {} actions the attack was built for", self.n_actions),
            ));
        }
        if self.config.method == AttackMethod::Timed
            && !timed::strikes(&clean.values, self.threshold)
        {
            return Ok(false);
        }
        let label = self.config.target.resolve(&clean.values);
        match self.method {
            AttackMethod::Pgd => {
                self.pgd.run(
                    &self.ball,
                    q,
                    obs,
                    label,
                    clean,
                    rng,
                    &self.device,
                    &mut self.buf,
                    out,
                    &mut self.u,
                )?;
                self.set_delta();
            }
            _ => {
                clean.gradient(label.0, label.1, &mut self.u)?;
                fgsm_step(&self.ball, &mut self.u);
                self.set_delta();
                self.ball.apply(obs, &mut self.u, out);
            }
        }
        Ok(true)
    }
}
