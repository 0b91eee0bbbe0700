//! REINFORCE, the Monte Carlo policy gradient (Sutton & Barto §13.3), with and without a
//! learned state-value baseline (§13.4), over a softmax policy linear in the active features:
//! the agent [`Reinforce`] that reproduces Figures 13.1 and 13.2 on the short corridor.

use serde::{Deserialize, Serialize};

use super::agent::{TabularAgent, Transition, ValueFunction};
use super::checks::{check_unit, defaults};
use super::policy::{self, softmax};
use super::values::{check_len, check_sizes};
use crate::{Error, Result};
use qlab_envs::EnvRng;

/// Hyperparameters of [`Reinforce`].
///
/// | key | default | valid | meaning |
/// |---|---|---|---|
/// | `alpha` | `0.0001220703125` (2⁻¹³) | `(0, 1]` | the policy's step size `α` (`α^θ` with a baseline) |
/// | `baseline` | `false` | boolean | learn a state-value baseline `v̂(s, w)` (§13.4) |
/// | `alpha_w` | `0.015625` (2⁻⁶) | `(0, 1]` | the baseline's step size `α^w` |
/// | `gamma` | `1.0` | `[0, 1]` | discount |
/// | `initial_policy` | uniform | one probability per action, each in `(0, 1)`, summing to 1 | the starting policy in every state (preferences `ln p`) |
///
/// ```toml
/// [agent]
/// algorithm = "reinforce"
/// alpha = 0.0001220703125      # 2^-13
/// initial_policy = [0.95, 0.05] # Figure 13.1's start: right with probability 0.05
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReinforceConfig {
    /// The policy's step size. Default 2⁻¹³; `(0, 1]`.
    pub alpha: f64,
    /// Whether to learn a state-value baseline. Default `false`.
    pub baseline: bool,
    /// The baseline's step size. Default 2⁻⁶; `(0, 1]`.
    pub alpha_w: f64,
    /// Discount factor γ. Default `1.0`; `[0, 1]`.
    pub gamma: f64,
    /// The starting policy, one probability per action (every state alike); empty for the
    /// uniform policy. Default empty.
    pub initial_policy: Vec<f64>,
}

impl Default for ReinforceConfig {
    fn default() -> Self {
        Self {
            alpha: 2f64.powi(-13),
            baseline: false,
            alpha_w: 2f64.powi(-6),
            gamma: defaults::GAMMA,
            initial_policy: Vec::new(),
        }
    }
}

impl ReinforceConfig {
    /// Checks every field; the error names the first bad key, its value and the valid range.
    pub fn validate(&self) -> Result<()> {
        for (key, v) in [("alpha", self.alpha), ("alpha_w", self.alpha_w)] {
            if !(v > 0.0 && v <= 1.0) {
                return Err(Error::config(key, v, "a number in (0, 1]"));
            }
        }
        check_unit("gamma", self.gamma)?;
        let p = &self.initial_policy;
        let sum: f64 = p.iter().sum();
        if p.iter().any(|&x| !(x > 0.0 && x < 1.0)) || (!p.is_empty() && (sum - 1.0).abs() > 1e-9) {
            return Err(Error::config(
                "initial_policy",
                format!("{p:?}"),
                "one probability per action, each in (0, 1), summing to 1",
            ));
        }
        Ok(())
    }
}

/// What a [`Reinforce`] agent learns: the policy's preferences `θ` and the baseline's weights
/// `w`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct PolicyWeights {
    /// `θ[i · n_actions + a]`: the preference for action `a` of active feature `i`.
    theta: Vec<f64>,
    /// `w[i]`: the baseline's weight of feature `i` (learned only with a baseline).
    w: Vec<f64>,
    n_actions: usize,
}

impl PolicyWeights {
    /// The preference `h(x, a) = Σ_{i ∈ x} θ[i, a]`.
    fn h(&self, x: &[usize], a: usize) -> f64 {
        x.iter().map(|&i| self.theta[i * self.n_actions + a]).sum()
    }

    /// `π(· | x)` into `out`: the softmax of the preferences.
    fn pi(&self, x: &[usize], out: &mut Vec<f64>) {
        out.clear();
        let m = policy::max_value(self.n_actions, |a| self.h(x, a));
        out.extend((0..self.n_actions).map(|a| (self.h(x, a) - m).exp()));
        let total: f64 = out.iter().sum();
        out.iter_mut().for_each(|p| *p /= total);
    }
}

impl ValueFunction for PolicyWeights {
    fn n_actions(&self) -> usize {
        self.n_actions
    }

    /// The most probable action (the largest preference), ties broken at random.
    fn greedy(&self, x: &[usize], rng: &mut EnvRng) -> usize {
        policy::greedy(self.n_actions, |a| self.h(x, a), rng)
    }

    /// The baseline `v̂(x, w) = Σ_{i ∈ x} w[i]` (0 where none is learned).
    fn value(&self, x: &[usize]) -> f64 {
        x.iter().map(|&i| self.w[i]).sum()
    }

    fn parameters(&self) -> Vec<f64> {
        self.theta.iter().chain(&self.w).copied().collect()
    }

    fn load_parameters(&mut self, params: &[f64]) -> Result<()> {
        let n = self.theta.len();
        check_len(params.len(), n + self.w.len(), || {
            "θ, one per feature and action, then w, one per feature".into()
        })?;
        self.theta.copy_from_slice(&params[..n]);
        self.w.copy_from_slice(&params[n..]);
        Ok(())
    }
}

/// REINFORCE (S&B §13.3), with a learned baseline when configured (§13.4): the policy
/// `π(a | s) = exp h(s, a) / Σ_b exp h(s, b)`, the preferences linear in the active features
/// (`h(s, a) = Σ_{i ∈ x(s)} θ[i, a]`). Actions are drawn from π. At the end of each episode
/// (termination or truncation), for `t = 0, 1, …, T − 1` in order, with
/// `G = Σ_{k = t+1}^{T} γ^{k−t−1} R_k`:
///
/// - without a baseline: `θ ← θ + α γ^t G ∇ ln π(A_t | S_t, θ)`;
/// - with one: `δ = G − v̂(S_t, w)`, `w ← w + α^w δ ∇v̂(S_t, w)`, then
///   `θ ← θ + α γ^t δ ∇ ln π(A_t | S_t, θ)`,
///
/// where `∂ ln π(a | s) / ∂θ[i, b] = 1[b = a] − π(b | s)` for each active `i`, computed with
/// `θ` as updated so far (the book's loop). With the short corridor's aliased observation
/// (one feature for every state) `θ` holds one preference per action: the book's
/// `x(s, right) = [1, 0]`, `x(s, left) = [0, 1]`.
///
/// [`TabularAgent::greedy`] plays the most probable action; [`TabularAgent::value`] is the
/// baseline (0 without one); [`TabularAgent::epsilon`] is 0.
///
/// Parameters: `θ` (`θ[i · n_actions + a]`), then `w` (one per feature).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Reinforce {
    weights: PolicyWeights,
    alpha: f64,
    alpha_w: Option<f64>,
    gamma: f64,
    /// The episode so far: each state's features (flattened, `starts` into them), the action
    /// taken there and the reward that followed.
    features: Vec<usize>,
    starts: Vec<usize>,
    actions: Vec<usize>,
    rewards: Vec<f64>,
    /// `π(· | s)`, reused.
    #[serde(skip)]
    pi: Vec<f64>,
    /// The episode's returns, reused.
    #[serde(skip)]
    returns: Vec<f64>,
}

impl Reinforce {
    /// An agent over `n_features` features with `n_actions` actions.
    ///
    /// # Errors
    /// An invalid config, a size of 0, or an `initial_policy` of another length than
    /// `n_actions`.
    pub fn new(config: &ReinforceConfig, n_features: usize, n_actions: usize) -> Result<Self> {
        config.validate()?;
        check_sizes(n_features, n_actions)?;
        let start: Vec<f64> = match config.initial_policy.len() {
            0 => vec![0.0; n_actions],
            n if n == n_actions => config.initial_policy.iter().map(|p| p.ln()).collect(),
            n => {
                return Err(Error::config(
                    "initial_policy",
                    format!("{n} probabilities"),
                    format!("one per action ({n_actions})"),
                ));
            }
        };
        Ok(Self {
            weights: PolicyWeights {
                theta: start.repeat(n_features),
                w: vec![0.0; n_features],
                n_actions,
            },
            alpha: config.alpha,
            alpha_w: config.baseline.then_some(config.alpha_w),
            gamma: config.gamma,
            features: Vec::new(),
            starts: Vec::new(),
            actions: Vec::new(),
            rewards: Vec::new(),
            pi: Vec::new(),
            returns: Vec::new(),
        })
    }

    /// `π(a | x)` of every action under the current preferences.
    pub fn policy(&self, x: &[usize]) -> Vec<f64> {
        let mut out = Vec::new();
        self.weights.pi(x, &mut out);
        out
    }

    /// Records state `x` and draws the action there from π; returns it.
    fn visit(&mut self, x: &[usize], rng: &mut EnvRng) -> usize {
        let weights = &self.weights;
        let a = softmax(weights.n_actions, 1.0, |a| weights.h(x, a), rng);
        self.starts.push(self.features.len());
        self.features.extend_from_slice(x);
        self.actions.push(a);
        a
    }

    /// The updates of the episode just ended, `t = 0, 1, …` in order.
    fn end_episode(&mut self) {
        let n = self.actions.len();
        // The returns, from the back: G_t = R_{t+1} + γ G_{t+1}.
        let mut returns = std::mem::take(&mut self.returns);
        returns.clear();
        returns.resize(n, 0.0);
        let mut g = 0.0;
        for t in (0..n).rev() {
            g = self.rewards[t] + self.gamma * g;
            returns[t] = g;
        }
        let mut discount = 1.0;
        let mut pi = std::mem::take(&mut self.pi);
        for (t, &g) in returns.iter().enumerate() {
            let end = self
                .starts
                .get(t + 1)
                .copied()
                .unwrap_or(self.features.len());
            let x = &self.features[self.starts[t]..end];
            let w = &mut self.weights;
            let delta = match self.alpha_w {
                Some(alpha_w) => {
                    let delta = g - w.value(x);
                    for &i in x {
                        w.w[i] += alpha_w * delta;
                    }
                    delta
                }
                None => g,
            };
            w.pi(x, &mut pi);
            let step = self.alpha * discount * delta;
            let a = self.actions[t];
            for &i in x {
                let row = &mut w.theta[i * w.n_actions..(i + 1) * w.n_actions];
                for (b, theta) in row.iter_mut().enumerate() {
                    let grad = f64::from(u8::from(b == a)) - pi[b];
                    *theta += step * grad;
                }
            }
            discount *= self.gamma;
        }
        self.pi = pi;
        self.returns = returns;
        self.clear();
    }

    fn clear(&mut self) {
        self.features.clear();
        self.starts.clear();
        self.actions.clear();
        self.rewards.clear();
    }
}

impl TabularAgent for Reinforce {
    fn start(&mut self, x: &[usize], rng: &mut EnvRng) -> usize {
        // A new episode (the last one may have been cut off without an end).
        self.clear();
        self.visit(x, rng)
    }

    fn learn(&mut self, t: Transition<'_>, rng: &mut EnvRng) -> usize {
        self.rewards.push(t.reward);
        if t.terminated || t.truncated {
            self.end_episode();
            return 0;
        }
        self.visit(t.x, rng)
    }

    fn value_function(&self) -> &dyn ValueFunction {
        &self.weights
    }

    fn value_function_mut(&mut self) -> &mut dyn ValueFunction {
        &mut self.weights
    }

    fn epsilon(&self) -> f64 {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qlab_envs::Env;
    use qlab_envs::short_corridor::{
        OPTIMAL_RIGHT_PROBABILITY, OPTIMAL_START_VALUE, RIGHT, ShortCorridor, ShortCorridorConfig,
    };

    /// One episode by hand: two steps, rewards −1 and −1, γ = 1, no baseline. The first update
    /// uses G = −2 and π before any change, the second G = −1 and π after the first.
    #[test]
    fn one_episode_updates_as_the_book_s_loop() {
        let config = ReinforceConfig {
            alpha: 0.5,
            ..Default::default()
        };
        let mut agent = Reinforce::new(&config, 1, 2).unwrap();
        let mut rng = EnvRng::new(3);
        let a0 = agent.start(&[0], &mut rng);
        let a1 = agent.step(-1.0, &[0], false, false, &mut rng);
        agent.step(-1.0, &[0], true, false, &mut rng);
        // By hand: θ = (0, 0), π = (½, ½).
        let mut theta = [0.0f64; 2];
        for (a, g) in [(a0, -2.0), (a1, -1.0)] {
            let m = theta[0].max(theta[1]);
            let e = [(theta[0] - m).exp(), (theta[1] - m).exp()];
            let pi = [e[0] / (e[0] + e[1]), e[1] / (e[0] + e[1])];
            for b in 0..2 {
                theta[b] += 0.5 * g * (f64::from(u8::from(b == a)) - pi[b]);
            }
        }
        assert_eq!(agent.parameters()[..2], theta);
        // Without a baseline w stays 0.
        assert_eq!(agent.parameters()[2], 0.0);
    }

    /// With a baseline, w moves towards the returns by α^w, and θ by the advantage.
    #[test]
    fn the_baseline_learns_the_returns() {
        let config = ReinforceConfig {
            alpha: 0.1,
            baseline: true,
            alpha_w: 0.5,
            ..Default::default()
        };
        let mut agent = Reinforce::new(&config, 1, 2).unwrap();
        let mut rng = EnvRng::new(0);
        agent.start(&[0], &mut rng);
        agent.step(-4.0, &[0], true, false, &mut rng);
        // δ = −4 − 0, w = 0.5 · −4.
        assert_eq!(agent.value(&[0]), -2.0);
    }

    /// `initial_policy` sets π in every state; a bad one is refused.
    #[test]
    fn the_initial_policy_is_the_configured_one() {
        let config = ReinforceConfig {
            initial_policy: vec![0.95, 0.05],
            ..Default::default()
        };
        let agent = Reinforce::new(&config, 3, 2).unwrap();
        for s in 0..3 {
            let pi = agent.policy(&[s]);
            assert!((pi[1] - 0.05).abs() < 1e-12, "{pi:?}");
        }
        for bad in [vec![0.5, 0.6], vec![1.0, 0.0], vec![0.2, 0.3, 0.5]] {
            let c = ReinforceConfig {
                initial_policy: bad,
                ..Default::default()
            };
            assert!(Reinforce::new(&c, 1, 2).is_err());
        }
        let zero = ReinforceConfig {
            alpha: 0.0,
            ..Default::default()
        };
        let e = Reinforce::new(&zero, 1, 2).unwrap_err().to_string();
        assert!(e.contains("alpha"), "{e}");
    }

    /// On the short corridor, REINFORCE with a baseline moves π(right) from 0.05 to near the
    /// best blind policy's 2 − √2 within 1,000 episodes (Figure 13.2's setting), and the
    /// episodes' mean return over the last 200 approaches the optimum's −11.66.
    #[test]
    fn reinforce_with_baseline_approaches_the_corridor_optimum() {
        let config = ReinforceConfig {
            alpha: 2f64.powi(-9),
            baseline: true,
            alpha_w: 2f64.powi(-6),
            initial_policy: vec![0.95, 0.05],
            ..Default::default()
        };
        let mut agent = Reinforce::new(&config, 1, 2).unwrap();
        let mut env = ShortCorridor::new(ShortCorridorConfig::default());
        let mut rng = EnvRng::new(1);
        let mut last = Vec::new();
        for episode in 0..1000 {
            let mut x = env.reset(None).obs;
            let mut a = agent.start(&[x], &mut rng);
            let mut total = 0.0;
            loop {
                let s = env.step(a).unwrap();
                total += s.reward;
                x = s.obs;
                a = agent.step(s.reward, &[x], s.terminated, false, &mut rng);
                if s.terminated {
                    break;
                }
            }
            if episode >= 800 {
                last.push(total);
            }
        }
        let p = agent.policy(&[0])[RIGHT];
        assert!(
            (p - OPTIMAL_RIGHT_PROBABILITY).abs() < 0.1,
            "π(right) = {p}"
        );
        let mean = last.iter().sum::<f64>() / last.len() as f64;
        assert!(mean > OPTIMAL_START_VALUE - 3.0, "mean return {mean}");
    }
}
