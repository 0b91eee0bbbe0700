//! Observation and reward normalization for on-policy agents, as Stable-Baselines3's
//! `VecNormalize` does it (RL Zoo's `normalize: true`): observations scaled by their running
//! mean and variance and clipped to ±10, rewards divided by the running standard deviation of
//! the discounted return and clipped to ±10.

use candle_core::{DType, Tensor};
use serde::{Deserialize, Serialize};

/// Clip of normalized observations and rewards (`clip_obs`, `clip_reward`).
const CLIP: f64 = 10.0;
/// Added to the variance under the square root.
const EPSILON: f64 = 1e-8;

/// Which of the two a run normalizes: `normalize = true` (both), `false` (neither, the
/// default) or a table `{ norm_obs = …, norm_reward = … }`, RL Zoo's string form
/// `"dict(norm_obs=…, norm_reward=…)"` written as TOML.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "NormalizeRaw", into = "NormalizeRaw")]
pub struct Normalize {
    /// Normalize observations.
    pub norm_obs: bool,
    /// Normalize rewards.
    pub norm_reward: bool,
}

impl Normalize {
    /// Whether anything is normalized.
    pub fn any(self) -> bool {
        self.norm_obs || self.norm_reward
    }
}

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(untagged)]
enum NormalizeRaw {
    Both(bool),
    Table {
        #[serde(default = "yes")]
        norm_obs: bool,
        #[serde(default = "yes")]
        norm_reward: bool,
    },
}

fn yes() -> bool {
    true
}

impl From<NormalizeRaw> for Normalize {
    fn from(raw: NormalizeRaw) -> Normalize {
        match raw {
            NormalizeRaw::Both(b) => Normalize {
                norm_obs: b,
                norm_reward: b,
            },
            NormalizeRaw::Table {
                norm_obs,
                norm_reward,
            } => Normalize {
                norm_obs,
                norm_reward,
            },
        }
    }
}

impl From<Normalize> for NormalizeRaw {
    fn from(n: Normalize) -> NormalizeRaw {
        if n.norm_obs == n.norm_reward {
            NormalizeRaw::Both(n.norm_obs)
        } else {
            NormalizeRaw::Table {
                norm_obs: n.norm_obs,
                norm_reward: n.norm_reward,
            }
        }
    }
}

/// The running mean and variance of a stream of vectors, updated a batch at a time (Chan et
/// al.'s parallel formula), starting from mean 0, variance 1 and a count of 10⁻⁴.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunningMeanStd {
    /// The mean of each element.
    pub mean: Vec<f64>,
    /// The (population) variance of each element.
    pub var: Vec<f64>,
    /// Vectors seen, plus 10⁻⁴.
    pub count: f64,
}

impl RunningMeanStd {
    /// Statistics of vectors of `dim` elements, none seen.
    pub fn new(dim: usize) -> RunningMeanStd {
        RunningMeanStd {
            mean: vec![0.0; dim],
            var: vec![1.0; dim],
            count: 1e-4,
        }
    }

    /// Adds the `rows` (row-major, `dim` elements each).
    pub fn update(&mut self, rows: &[f64]) {
        let dim = self.mean.len();
        let n = rows.len() / dim;
        if n == 0 {
            return;
        }
        let b = n as f64;
        let total = self.count + b;
        for j in 0..dim {
            let column = || rows.iter().skip(j).step_by(dim).copied();
            let batch_mean = column().sum::<f64>() / b;
            let batch_var = column().map(|x| (x - batch_mean).powi(2)).sum::<f64>() / b;
            let delta = batch_mean - self.mean[j];
            let m2 =
                self.var[j] * self.count + batch_var * b + delta * delta * self.count * b / total;
            self.mean[j] += delta * b / total;
            self.var[j] = m2 / total;
        }
        self.count = total;
    }

    /// [`normalize`](Self::normalize) on observations `(N, dim)` as a differentiable
    /// tensor op (in `f64`, as the host's: the same bits), for gradients with respect to the
    /// raw observation.
    ///
    /// # Errors
    /// Observations of another width; a failing op.
    pub fn normalize_tensor(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let dim = self.mean.len();
        let device = x.device();
        let std: Vec<f64> = self.var.iter().map(|v| (v + EPSILON).sqrt()).collect();
        let mean = Tensor::from_slice(&self.mean, (1, dim), device)?;
        let std = Tensor::from_slice(&std, (1, dim), device)?;
        x.to_dtype(DType::F64)?
            .broadcast_sub(&mean)?
            .broadcast_div(&std)?
            .clamp(-CLIP, CLIP)?
            .to_dtype(x.dtype())
    }

    /// `x` scaled: `clip((x − mean) / √(var + 10⁻⁸), ±10)`, element by element.
    pub fn normalize(&self, x: &[f32], out: &mut Vec<f32>) {
        let dim = self.mean.len();
        out.clear();
        out.extend(x.iter().enumerate().map(|(i, &v)| {
            let j = i % dim;
            ((v as f64 - self.mean[j]) / (self.var[j] + EPSILON).sqrt()).clamp(-CLIP, CLIP) as f32
        }));
    }
}

/// The normalization state of a run over `n_envs` envs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Normalizer {
    /// Observation statistics (with `norm_obs`).
    pub obs: Option<RunningMeanStd>,
    /// Statistics of the discounted return (with `norm_reward`).
    pub ret: Option<RunningMeanStd>,
    /// Each env's discounted return so far.
    pub returns: Vec<f64>,
    /// The discount of the returns.
    pub gamma: f64,
}

impl Normalizer {
    /// A normalizer as `which` says, for observations of `obs_dim` numbers, `n_envs` envs and
    /// discount `gamma` (the agent's).
    pub fn new(which: Normalize, obs_dim: usize, n_envs: usize, gamma: f64) -> Normalizer {
        Normalizer {
            obs: which.norm_obs.then(|| RunningMeanStd::new(obs_dim)),
            ret: which.norm_reward.then(|| RunningMeanStd::new(1)),
            returns: vec![0.0; n_envs],
            gamma,
        }
    }

    /// Adds observations (`n_envs` rows) to the statistics.
    pub fn update_obs(&mut self, obs: &[f32]) {
        if let Some(s) = self.obs.as_mut() {
            let rows: Vec<f64> = obs.iter().map(|&x| x as f64).collect();
            s.update(&rows);
        }
    }

    /// Observations as the policy reads them (copied unchanged without `norm_obs`).
    pub fn obs(&self, obs: &[f32], out: &mut Vec<f32>) {
        match &self.obs {
            Some(s) => s.normalize(obs, out),
            None => {
                out.clear();
                out.extend_from_slice(obs);
            }
        }
    }

    /// The rewards of one step of every env as the agent learns from them: with
    /// `norm_reward`, each env's discounted return is updated and added to the statistics,
    /// the reward divided by the return's standard deviation and clipped, and the return of
    /// an env whose episode ended (`dones`) restarts from 0.
    pub fn rewards(&mut self, rewards: &[f64], dones: &[bool]) -> Vec<f32> {
        let Some(s) = self.ret.as_mut() else {
            return rewards.iter().map(|&r| r as f32).collect();
        };
        for (g, &r) in self.returns.iter_mut().zip(rewards) {
            *g = *g * self.gamma + r;
        }
        s.update(&self.returns);
        let scale = (s.var[0] + EPSILON).sqrt();
        let out = rewards
            .iter()
            .map(|&r| (r / scale).clamp(-CLIP, CLIP) as f32)
            .collect();
        for (g, &d) in self.returns.iter_mut().zip(dones) {
            if d {
                *g = 0.0;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_statistics_equal_the_whole_streams() {
        let mut s = RunningMeanStd::new(2);
        let data = [1.0, 10.0, 3.0, 20.0, 5.0, 30.0, 7.0, 50.0, -1.0, 0.0];
        s.update(&data[..4]);
        s.update(&data[4..]);
        // The prior (mean 0, variance 1, weight 10⁻⁴) is all that separates them from the
        // sample's mean and population variance.
        let xs = [1.0, 3.0, 5.0, 7.0, -1.0];
        let mean = xs.iter().sum::<f64>() / 5.0;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 5.0;
        assert!((s.mean[0] - mean).abs() < 1e-3 && (s.var[0] - var).abs() < 1e-3);
        assert!((s.count - 5.0001).abs() < 1e-12);
        let mut out = Vec::new();
        s.normalize(&[mean as f32, 1e9], &mut out);
        assert!(out[0].abs() < 1e-3 && out[1] == 10.0);
    }

    #[test]
    fn reward_returns_restart_at_episode_ends_and_toml_reads_both_forms() {
        let which = Normalize {
            norm_obs: false,
            norm_reward: true,
        };
        let mut n = Normalizer::new(which, 1, 2, 0.5);
        n.rewards(&[1.0, 2.0], &[true, false]);
        assert_eq!(n.returns, [0.0, 2.0]);
        n.rewards(&[1.0, 2.0], &[false, false]);
        assert_eq!(n.returns, [1.0, 3.0]);

        #[derive(Deserialize, Serialize)]
        struct T {
            n: Normalize,
        }
        let t: T = toml::from_str("n = true").unwrap();
        assert_eq!(
            t.n,
            Normalize {
                norm_obs: true,
                norm_reward: true
            }
        );
        let t: T = toml::from_str("n = { norm_reward = false }").unwrap();
        assert_eq!(
            t.n,
            Normalize {
                norm_obs: true,
                norm_reward: false
            }
        );
        assert_eq!(
            toml::to_string(&t).unwrap().trim(),
            "[n]\nnorm_obs = true\nnorm_reward = false"
        );
    }
}
