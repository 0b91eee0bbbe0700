//! Monte Carlo control: exploring starts, on-policy ε-soft, off-policy with importance
//! sampling (Sutton & Barto §5.3–§5.7).

use serde::{Deserialize, Serialize};

use super::agent::{TabularAgent, Transition, ValueFunction};
use super::checks::{check_control, defaults};
use super::policy::random_action;
use super::policy::{self, Policy, PolicyKind};
use super::schedule::{Schedule, StepSize};
use super::values::ActionValues;
use crate::{Error, Result};
use qlab_envs::EnvRng;

/// Which Monte Carlo control method.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum McVariant {
    /// On-policy control of an ε-soft policy (S&B §5.4): the behaviour policy (`policy`,
    /// `epsilon`, `temperature`) is improved towards its own returns.
    #[default]
    OnPolicy,
    /// Monte Carlo ES (S&B §5.3): each episode starts in a uniformly random state (the runner
    /// does that, see [`AgentConfig::exploring_starts`](super::AgentConfig::exploring_starts))
    /// with a uniformly random first action, then follows the greedy policy; `policy`,
    /// `epsilon` and `temperature` are not used.
    ExploringStarts,
    /// Off-policy control (S&B §5.7): the behaviour policy (`policy`, `epsilon`,
    /// `temperature`; `epsilon = 1` is uniformly random) generates the episodes, the greedy
    /// policy is learned by importance sampling.
    OffPolicy,
}

/// Which visits of a state-action pair in an episode produce an update.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visits {
    /// Only the first visit of each pair (of each feature-action weight, with several active
    /// features) in the episode (S&B §5.1).
    #[default]
    First,
    /// Every visit.
    Every,
}

/// How off-policy returns are weighted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportanceSampling {
    /// `Q = Σ W G / Σ W`: biased, low variance (S&B eq. 5.6; the default, as in S&B §5.7).
    #[default]
    Weighted,
    /// `Q = Σ W G / n`: unbiased, possibly infinite variance (S&B eq. 5.5).
    Ordinary,
}

/// Hyperparameters of [`McControl`].
///
/// | key | default | valid | meaning |
/// |---|---|---|---|
/// | `variant` | `"on_policy"` | `"on_policy"`, `"exploring_starts"`, `"off_policy"` | [`McVariant`] |
/// | `visits` | `"first"` | `"first"`, `"every"` | [`Visits`] |
/// | `importance_sampling` | `"weighted"` | `"weighted"`, `"ordinary"` | [`ImportanceSampling`] (off-policy only) |
/// | `alpha` | `"1/n"` | `"1/n"`, or `(0, 1]` on-policy | sample averages, or constant-α MC |
/// | `gamma` | `1.0` | `[0, 1]` | discount |
/// | `policy` | `"epsilon_greedy"` | [`PolicyKind`] | behaviour policy (not with exploring starts) |
/// | `epsilon` | `0.1` | `[0, 1]`, a [`Schedule`] | ε of the ε-greedy policy |
/// | `temperature` | `1.0` | `> 0`, a [`Schedule`] | temperature of the softmax policy |
/// | `initial_value` | `0.0` | finite | every weight's initial value |
///
/// Off-policy control needs `alpha = "1/n"`: its step sizes are the importance-sampling
/// averages `W / C(s, a)` (weighted) or `1 / n(s, a)` (ordinary).
///
/// ```toml
/// [agent]
/// algorithm = "mc_control"
/// variant = "off_policy"
/// epsilon = 1.0            # uniformly random behaviour
/// importance_sampling = "weighted"
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct McControlConfig {
    /// The method. Default on-policy.
    pub variant: McVariant,
    /// First-visit or every-visit. Default first-visit.
    pub visits: Visits,
    /// Off-policy weighting. Default weighted.
    pub importance_sampling: ImportanceSampling,
    /// Step size. Default `"1/n"` (sample averages); on-policy also `(0, 1]`.
    pub alpha: StepSize,
    /// Discount factor γ. Default `1.0`; `[0, 1]`.
    pub gamma: f64,
    /// Behaviour policy. Default ε-greedy.
    pub policy: PolicyKind,
    /// ε of the ε-greedy policy, by episode. Default `0.1`; values in `[0, 1]`.
    pub epsilon: Schedule,
    /// Temperature of the softmax policy, by episode. Default `1.0`; values `> 0`.
    pub temperature: Schedule,
    /// Initial value of every weight. Default `0.0`; finite.
    pub initial_value: f64,
}

impl Default for McControlConfig {
    fn default() -> Self {
        Self {
            variant: McVariant::OnPolicy,
            visits: Visits::First,
            importance_sampling: ImportanceSampling::Weighted,
            alpha: StepSize::SampleAverage,
            gamma: defaults::GAMMA,
            policy: PolicyKind::EpsilonGreedy,
            epsilon: Schedule::Constant(defaults::EPSILON),
            temperature: Schedule::Constant(defaults::TEMPERATURE),
            initial_value: 0.0,
        }
    }
}

impl McControlConfig {
    /// Checks every field; the error names the first bad key, its value and the valid range.
    pub fn validate(&self) -> Result<()> {
        if let (McVariant::OffPolicy, StepSize::Constant(a)) = (self.variant, self.alpha) {
            return Err(Error::config(
                "alpha",
                a,
                "\"1/n\" for off-policy Monte Carlo control (importance-sampling averages)",
            ));
        }
        check_control(
            self.alpha,
            self.gamma,
            &self.epsilon,
            &self.temperature,
            self.initial_value,
        )
    }

    /// Whether episodes must start in random states ([`McVariant::ExploringStarts`]).
    pub fn exploring_starts(&self) -> bool {
        self.variant == McVariant::ExploringStarts
    }
}

/// One step of the episode being recorded.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Record {
    /// The state's features are `features[start..end]`.
    start: usize,
    end: usize,
    action: usize,
    /// The reward that followed the action.
    reward: f64,
    /// The behaviour policy's probability of the action (off-policy only).
    behaviour: f64,
}

/// Monte Carlo control: records each episode and, at its end, moves `Q(S_t, A_t)` towards
/// the returns `G_t` from the last step back to the first (S&B §5.3–§5.7; see
/// [`McVariant`]):
///
/// - on-policy and exploring starts: `Q(S_t, A_t) ← Q + α (G_t − Q)`, `α = 1/n` (the
///   average of the returns) or constant;
/// - off-policy, weighted: `C ← C + W`, `Q ← Q + (W / C)(G_t − Q)`, then
///   `W ← W π(A_t | S_t) / b(A_t | S_t)` with the greedy target `π` (ties share its
///   probability) evaluated after the update, stopping when `W = 0`;
/// - off-policy, ordinary: `n ← n + 1`, `Q ← Q + (W G_t − Q) / n`; after `W` falls to 0 the
///   earlier visits still count, with target 0.
///
/// The return of a truncated episode ends at the truncation. The policy does not change
/// during an episode. With several active features every update is split over them as in
/// [`StepSize`], and first-visit is judged per feature-action weight.
///
/// Parameters: `Q` as `w[i · n_actions + a]` (see [`ActionValues`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct McControl {
    q: ActionValues,
    policy: Policy,
    variant: McVariant,
    visits: Visits,
    sampling: ImportanceSampling,
    alpha: StepSize,
    gamma: f64,
    /// Updates per weight (`1/n`, ordinary sampling), or cumulative weights `C` (weighted).
    counts: Vec<f64>,
    /// The episode in which each weight was last visited, for first visits.
    seen: Vec<u64>,
    episode: u64,
    features: Vec<usize>,
    /// Whether `features[j]`'s weight is visited for the first time in the episode there.
    first: Vec<bool>,
    records: Vec<Record>,
}

impl McControl {
    /// A Monte Carlo control agent over `n_features` binary features and `n_actions` actions.
    ///
    /// # Errors
    /// An invalid config, or a size of 0.
    pub fn new(config: &McControlConfig, n_features: usize, n_actions: usize) -> Result<Self> {
        config.validate()?;
        // The weights are updated here, with this type's own counts.
        let q = ActionValues::new(
            n_features,
            n_actions,
            config.initial_value,
            StepSize::Constant(1.0),
        )?;
        let len = n_features * n_actions;
        Ok(Self {
            q,
            policy: Policy::new(config.policy, config.epsilon, config.temperature),
            variant: config.variant,
            visits: config.visits,
            sampling: config.importance_sampling,
            alpha: config.alpha,
            gamma: config.gamma,
            counts: vec![0.0; len],
            seen: vec![0; len],
            episode: 0,
            features: Vec::new(),
            first: Vec::new(),
            records: Vec::new(),
        })
    }

    /// The action values.
    pub fn values(&self) -> &ActionValues {
        &self.q
    }

    /// Chooses the action in `x` and records the step.
    fn act(&mut self, x: &[usize], first_step: bool, rng: &mut EnvRng) -> usize {
        let n = self.q.n_actions();
        let action = match self.variant {
            McVariant::ExploringStarts if first_step => random_action(n, rng),
            McVariant::ExploringStarts => self.q.greedy(x, rng),
            _ => self.q.sample(&self.policy, x, rng),
        };
        self.record(x, action);
        action
    }

    /// Records taking `action` in `x`, with its probability under the behaviour policy.
    fn record(&mut self, x: &[usize], action: usize) {
        let n = self.q.n_actions();
        let behaviour = match self.variant {
            McVariant::OffPolicy => self.policy.probability(n, |a| self.q.q(x, a), action),
            _ => 1.0,
        };
        let start = self.features.len();
        self.features.extend_from_slice(x);
        self.records.push(Record {
            start,
            end: self.features.len(),
            action,
            reward: 0.0,
            behaviour,
        });
    }

    /// Clears the record for a new episode.
    fn begin(&mut self) {
        self.policy.begin_episode();
        self.episode += 1;
        self.features.clear();
        self.records.clear();
    }

    /// Learns from the recorded episode.
    fn learn_episode(&mut self) {
        let n = self.q.n_actions();
        self.first.clear();
        match self.visits {
            Visits::Every => self.first.resize(self.features.len(), true),
            Visits::First => {
                for r in &self.records {
                    for &i in &self.features[r.start..r.end] {
                        let k = i * n + r.action;
                        self.first.push(self.seen[k] != self.episode);
                        self.seen[k] = self.episode;
                    }
                }
            }
        }
        let mut g = 0.0;
        let mut w = 1.0;
        for r in self.records.iter().rev() {
            g = self.gamma * g + r.reward;
            let x = &self.features[r.start..r.end];
            let a = r.action;
            let m = x.len() as f64;
            let q = self.q.q(x, a);
            let weights = self.q.weights_mut();
            for (&i, _) in x.iter().zip(&self.first[r.start..r.end]).filter(|p| *p.1) {
                let k = i * n + a;
                match (self.variant, self.sampling) {
                    (McVariant::OffPolicy, ImportanceSampling::Weighted) => {
                        self.counts[k] += w;
                        weights[k] += w / self.counts[k] / m * (g - q);
                    }
                    (McVariant::OffPolicy, ImportanceSampling::Ordinary) => {
                        self.counts[k] += 1.0;
                        weights[k] += (w * g - q) / (self.counts[k] * m);
                    }
                    _ => {
                        let step = match self.alpha {
                            StepSize::Constant(alpha) => alpha / m,
                            StepSize::SampleAverage => {
                                self.counts[k] += 1.0;
                                1.0 / (self.counts[k] * m)
                            }
                        };
                        weights[k] += step * (g - q);
                    }
                }
            }
            if self.variant == McVariant::OffPolicy {
                let (max, ties) = policy::max_and_ties(n, |b| self.q.q(x, b));
                let target = if self.q.q(x, a) == max {
                    1.0 / ties as f64
                } else {
                    0.0
                };
                w *= target / r.behaviour;
                if w == 0.0 && self.sampling == ImportanceSampling::Weighted {
                    break;
                }
            }
        }
    }
}

impl TabularAgent for McControl {
    fn start(&mut self, x: &[usize], rng: &mut EnvRng) -> usize {
        self.begin();
        self.act(x, true, rng)
    }

    fn learn(&mut self, t: Transition<'_>, rng: &mut EnvRng) -> usize {
        if let Some(last) = self.records.last_mut() {
            last.reward = t.reward;
        }
        if t.terminated || t.truncated {
            self.learn_episode();
            return 0;
        }
        self.act(t.x, false, rng)
    }

    fn value_function(&self) -> &dyn ValueFunction {
        &self.q
    }

    fn value_function_mut(&mut self) -> &mut dyn ValueFunction {
        &mut self.q
    }

    fn epsilon(&self) -> f64 {
        match self.variant {
            McVariant::ExploringStarts => 0.0,
            _ => self.policy.epsilon(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tabular::testing::*;
    use crate::tabular::{
        AgentConfig, evaluate_greedy, exploring_start_states, run_episode_exploring_starts,
    };

    /// Learns from one episode given as `(state, action, reward)` steps.
    fn feed(agent: &mut McControl, episode: &[(usize, usize, f64)]) {
        agent.begin();
        for &(s, a, r) in episode {
            agent.record(&[s], a);
            agent.records.last_mut().unwrap().reward = r;
        }
        agent.learn_episode();
    }

    fn agent(config: McControlConfig) -> McControl {
        McControl::new(&config, 2, 2).unwrap()
    }

    /// One episode visiting (0, 0) twice, then (1, 1); rewards 1, 2, 3, γ = 0.5:
    /// G₂ = 3, G₁ = 2 + 0.5 · 3 = 3.5, G₀ = 1 + 0.5 · 3.5 = 2.75.
    #[test]
    fn first_and_every_visit_averages_by_hand() {
        let episode = [(0, 0, 1.0), (0, 0, 2.0), (1, 1, 3.0)];
        let base = McControlConfig {
            gamma: 0.5,
            ..Default::default()
        };
        let mut first = agent(base.clone());
        feed(&mut first, &episode);
        assert_eq!(first.parameters(), [2.75, 0.0, 0.0, 3.0]);
        let mut every = agent(McControlConfig {
            visits: Visits::Every,
            ..base.clone()
        });
        feed(&mut every, &episode);
        assert_eq!(every.parameters(), [(3.5 + 2.75) / 2.0, 0.0, 0.0, 3.0]);
        // A second episode averages in: Q(0, 0) = (2.75 + 5) / 2 with 1/n.
        feed(&mut first, &[(0, 0, 5.0)]);
        assert_eq!(first.parameters()[0], (2.75 + 5.0) / 2.0);
        // Constant α = 0.5 moves halfway instead: first visits 2.75 then 2.75 + 0.5 (5 − 2.75),
        // where the first episode gave 0.5 · 2.75.
        let mut constant = agent(McControlConfig {
            alpha: StepSize::Constant(0.5),
            ..base
        });
        feed(&mut constant, &episode);
        feed(&mut constant, &[(0, 0, 5.0)]);
        assert_eq!(constant.parameters()[0], 1.375 + 0.5 * (5.0 - 1.375));
    }

    /// Off-policy with a uniformly random behaviour (ε = 1, b = 1/2), γ = 1. Episode 1:
    /// (0, 1, r 1), (1, 0, r 2). Backwards: G = 2, C(1,0) = 1, Q(1,0) = 2; the greedy target
    /// takes action 0 in state 1, so W = 1 / 0.5 = 2. G = 3, C(0,1) = 2, Q(0,1) = 0 + 2/2 · 3
    /// = 3; greedy again, W = 4. Episode 2: (0, 0, r 5): Q(0,0) = 5. Episode 3: (0, 1, r 0),
    /// (1, 1, r 4): G = 4, C(1,1) = 1, Q(1,1) = 4, greedy, W = 2; G = 4, C(0,1) = 4,
    /// Q(0,1) = 3 + 2/4 · (4 − 3) = 3.5; not greedy (Q(0,0) = 5): W = 0, stop.
    #[test]
    fn weighted_importance_sampling_by_hand() {
        let mut a = agent(McControlConfig {
            variant: McVariant::OffPolicy,
            epsilon: Schedule::Constant(1.0),
            ..Default::default()
        });
        feed(&mut a, &[(0, 1, 1.0), (1, 0, 2.0)]);
        assert_eq!(a.parameters(), [0.0, 3.0, 2.0, 0.0]);
        assert_eq!(a.counts, [0.0, 2.0, 1.0, 0.0]);
        feed(&mut a, &[(0, 0, 5.0)]);
        feed(&mut a, &[(0, 1, 0.0), (1, 1, 4.0)]);
        assert_eq!(a.parameters(), [5.0, 3.5, 2.0, 4.0]);
        assert_eq!(a.counts, [1.0, 4.0, 1.0, 1.0]);
        // Ordinary sampling on episode 1: Q(1,0) = 2, then Q(0,1) = (W G) / 1 = 2 · 3.
        let mut o = agent(McControlConfig {
            variant: McVariant::OffPolicy,
            importance_sampling: ImportanceSampling::Ordinary,
            epsilon: Schedule::Constant(1.0),
            ..Default::default()
        });
        feed(&mut o, &[(0, 1, 1.0), (1, 0, 2.0)]);
        assert_eq!(o.parameters(), [0.0, 6.0, 2.0, 0.0]);
        // Episodes 2 and 3 as above: Q(0,0) = 5; then Q(1,1) = 4, W = 2,
        // Q(0,1) = 6 + (2 · 4 − 6) / 2 = 7. Episode 4: (1, 0, r 1), (0, 0, r 1): G = 1,
        // Q(0,0) = 5 + (1 − 5) / 2 = 3, not greedy (Q(0,1) = 7): W = 0; the earlier visit
        // still counts with target 0: Q(1,0) = 2 + (0 − 2) / 2 = 1.
        feed(&mut o, &[(0, 0, 5.0)]);
        feed(&mut o, &[(0, 1, 0.0), (1, 1, 4.0)]);
        assert_eq!(o.parameters(), [5.0, 7.0, 2.0, 4.0]);
        feed(&mut o, &[(1, 0, 1.0), (0, 0, 1.0)]);
        assert_eq!(o.parameters(), [3.0, 7.0, 1.0, 4.0]);
        let e = McControlConfig {
            variant: McVariant::OffPolicy,
            alpha: StepSize::Constant(0.1),
            ..Default::default()
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(e.contains("`alpha`") && e.contains("1/n"), "{e}");
    }

    /// Slippery FrozenLake-v1: on-policy first-visit MC with γ = 0.99, constant α = 0.01 and ε
    /// going linearly from 1 to 0.01 over 40,000 of 50,000 episodes. The exact success
    /// probabilities (within the 100-step limit, from the model) of the greedy policies of 20
    /// seeds are 0.728–0.740; the best stationary policy reaches 0.7402, the best policy of
    /// all 0.7442 (`tools/tabular_references.py lake`). Shorter runs are less reliable: with
    /// 20,000 episodes and α = 0.02, 2 seeds in 20 stay near 0.45–0.51; with sample averages
    /// (α = 1/n) the returns of the early, nearly random policies weigh on the estimates.
    #[test]
    fn frozen_lake_greedy_policy_succeeds_at_least_70_percent() {
        let config = AgentConfig::McControl(McControlConfig {
            alpha: StepSize::Constant(0.01),
            gamma: 0.99,
            epsilon: Schedule::Linear {
                start: 1.0,
                end: 0.01,
                episodes: 40_000,
            },
            ..Default::default()
        });
        let mut env = discrete("FrozenLake-v1", false);
        let mut agent = build(&config, &env);
        let (_, mut rng) = learn(&mut env, agent.as_mut(), 50_000, 1);
        let exact = greedy_success(&env, agent.as_ref(), 100, &mut rng);
        assert!(exact >= 0.72, "exact success probability {exact}");
        let eval =
            evaluate_greedy(&mut env, agent.as_ref(), 1000, Some(7), &mut rng, None).unwrap();
        assert!(eval.mean >= 0.70, "success rate {}", eval.mean);
    }

    /// Off-policy MC with weighted importance sampling learns the greedy policy of the maze
    /// below from uniformly random behaviour (ε = 1, γ = 0.9): after 2,000 episodes the greedy
    /// path is the shortest, 6 steps, for each of 10 seeds tried. (Ordinary importance sampling
    /// does not get there in 20,000: its estimates are averages of returns weighted by up to
    /// 4^k, whose rare large values keep pulling the greedy policy off the path.)
    #[test]
    fn off_policy_weighted_learns_the_shortest_path_from_random_behaviour() {
        let config = AgentConfig::McControl(McControlConfig {
            variant: McVariant::OffPolicy,
            epsilon: Schedule::Constant(1.0),
            gamma: 0.9,
            ..Default::default()
        });
        let mut env = discrete("GridWorld-v0", false);
        let mut agent = build(&config, &env);
        assert_eq!(agent.epsilon(), 1.0);
        let (_, mut rng) = learn(&mut env, agent.as_mut(), 2000, 0);
        assert_eq!(greedy_path(&mut env, agent.as_ref(), &mut rng), 6);
    }

    /// The length of the greedy path from the start (0 when it times out).
    fn greedy_path(
        env: &mut qlab_envs::DiscreteEnv,
        agent: &dyn TabularAgent,
        rng: &mut EnvRng,
    ) -> usize {
        let mut s = env.reset(None).obs;
        let mut steps = 0;
        loop {
            let step = env.step(agent.greedy(&[s], rng)).unwrap();
            steps += 1;
            if step.done() {
                return if step.terminated { steps } else { 0 };
            }
            s = step.obs;
        }
    }

    /// Monte Carlo ES on a deterministic maze with walls (`GridWorld-v0`'s default map,
    /// reward 1 at the goal, γ = 0.9): from exploring starts, the greedy policy takes the
    /// shortest path, 6 steps, from the start.
    #[test]
    fn exploring_starts_find_the_shortest_path() {
        let config = AgentConfig::McControl(McControlConfig {
            variant: McVariant::ExploringStarts,
            gamma: 0.9,
            ..Default::default()
        });
        assert!(config.exploring_starts());
        let mut env = discrete("GridWorld-v0", false);
        let states = exploring_start_states(env.model().unwrap());
        // 16 cells, 2 walls, 1 goal.
        assert_eq!(states.len(), 13);
        let mut agent = build(&config, &env);
        assert_eq!(agent.epsilon(), 0.0);
        let mut rng = EnvRng::new(3);
        for e in 0..2000 {
            let seed = (e == 0).then_some(3);
            run_episode_exploring_starts(&mut env, agent.as_mut(), &states, seed, &mut rng, None)
                .unwrap();
        }
        assert_eq!(greedy_path(&mut env, agent.as_ref(), &mut rng), 6);
    }
}
