//! Tabular and linear value-based agents: Monte Carlo control, TD control, eligibility traces.
//!
//! Every agent here sees a state as the indices of its **active binary features**. A tabular
//! state is a single index (the env's state index, i.e. one-hot features); tile coding gives
//! one index per tiling. Action values are linear in the features,
//! `Q(s, a) = Σ_{i active in s} w[i · n_actions + a]`, so the same code is tabular with
//! one-hot features and linear function approximation with tile-coded ones (Sutton & Barto,
//! *Reinforcement Learning*, 2nd ed., ch. 9–12).
//!
//! | `algorithm` | agent | S&B |
//! |---|---|---|
//! | `mc_control` | [`McControl`]: exploring starts, on-policy ε-soft, off-policy (weighted or ordinary importance sampling) | §5.3–5.7 |
//! | `sarsa` | [`Sarsa`] | §6.4 |
//! | `q_learning` | [`QLearning`] | §6.5 |
//! | `expected_sarsa` | [`ExpectedSarsa`] | §6.6 |
//! | `double_q_learning` | [`DoubleQLearning`] | §6.7 |
//! | `n_step_sarsa` | [`NStepSarsa`] | §7.2 |
//! | `td_lambda` | [`TdLambda`]: prediction of the uniformly random policy | §12.2 |
//! | `true_online_td_lambda` | [`TrueOnlineTdLambda`]: prediction | §12.5 |
//! | `sarsa_lambda` | [`SarsaLambda`] | §12.7 |
//! | `true_online_sarsa_lambda` | [`TrueOnlineSarsaLambda`] | §12.7 |
//! | `q_lambda` | [`QLambda`]: Watkins's Q(λ) | §12.10 |
//! | `off_policy_mc_prediction` | [`OffPolicyMcPrediction`]: a target policy's values from random behaviour, ordinary or weighted importance sampling | §5.5–5.6 |
//! | `reinforce` | [`Reinforce`]: the Monte Carlo policy gradient over a linear softmax policy, with or without a learned baseline | §13.3–13.4 |
//!
//! - Configs: [`AgentConfig`] holds any agent's config, tagged by `algorithm`; each agent has
//!   its own `XConfig` (serde + `Default`) documenting every key's default and valid range.
//!   Hyperparameters carry Sutton & Barto's names: `alpha`, `gamma`, `epsilon`, `lambda`, `n`,
//!   `trace`.
//! - Step sizes: with several active features α is divided by their number (S&B's
//!   `α / numTilings` convention, §9.5.4), so that α is the fraction of the error one update
//!   removes from `Q(s, a)`; tabular states have one feature and take α as it is. See
//!   [`StepSize`].
//! - Exploration: [`policy`] (ε-greedy, softmax, greedy, ties always broken uniformly at
//!   random) with [`Schedule`]s over episodes.
//! - Traces: accumulating, replacing or dutch ([`TraceKind`]), kept sparse with a cutoff
//!   ([`SparseTraces`]).
//! - The episode loop: [`run_episode`], [`run_episode_exploring_starts`],
//!   [`evaluate_greedy`].
//! - Off-policy Monte Carlo prediction of one state's value (S&B §5.5, Figure 5.3) outside the
//!   runner: [`off_policy_episode`] and [`ImportanceSamplingEstimate`].
//!
//! ```
//! use qlab_agents::tabular::{AgentConfig, SarsaConfig, StepSize, evaluate_greedy, run_episode};
//! use qlab_envs::{make, AnyEnv, EnvRng, Params};
//! # fn main() -> qlab_agents::Result<()> {
//! let AnyEnv::Discrete(mut env) = make("WindyGridworld-v0", &Params::new())? else {
//!     unreachable!()
//! };
//! let config = AgentConfig::Sarsa(SarsaConfig { alpha: StepSize::Constant(0.5), ..Default::default() });
//! config.validate()?;
//! let mut agent = config.build(70, 4)?;
//! let mut rng = EnvRng::new(0);
//! let first = run_episode(&mut env, agent.as_mut(), Some(0), &mut rng, None)?;
//! for _ in 0..300 {
//!     run_episode(&mut env, agent.as_mut(), None, &mut rng, None)?;
//! }
//! // The first episode wanders for hundreds of steps; the greedy policy learned is short
//! // (15 steps is the shortest path; a greedy policy can also loop, hence the cap).
//! let greedy = evaluate_greedy(&mut env, agent.as_ref(), 1, None, &mut rng, Some(1000))?;
//! assert!(first.length > 100 && -greedy.mean < 30.0);
//! # Ok(())
//! # }
//! ```

mod agent;
mod checks;
mod control;
mod double_q_learning;
mod episode;
mod expected_sarsa;
mod mc_control;
mod n_step_sarsa;
mod off_policy_prediction;
pub mod policy;
mod q_lambda;
mod q_learning;
mod reinforce;
mod sarsa;
mod sarsa_lambda;
mod schedule;
mod state_values;
mod td_lambda;
#[cfg(test)]
pub(crate) mod testing;
mod traces;
mod true_online;
mod values;

pub use crate::Evaluation;
pub use crate::{AgentConfig, TabularVisitor};
pub use agent::{JsonState, TabularAgent, Transition, ValueFunction};
pub use double_q_learning::{DoubleQLearning, DoubleQLearningConfig};
pub use episode::{
    EpisodeOutcome, evaluate_greedy, exploring_start_states, run_episode,
    run_episode_exploring_starts,
};
pub use expected_sarsa::{ExpectedSarsa, ExpectedSarsaConfig};
pub use mc_control::{ImportanceSampling, McControl, McControlConfig, McVariant, Visits};
pub use n_step_sarsa::{NStepSarsa, NStepSarsaConfig};
pub use off_policy_prediction::{
    ImportanceSamplingEstimate, OffPolicyMcPrediction, OffPolicyMcPredictionConfig, TargetPolicy,
    off_policy_episode,
};
pub use policy::{Policy, PolicyKind};
pub use q_lambda::{QLambda, QLambdaConfig};
pub use q_learning::{QLearning, QLearningConfig};
pub use reinforce::{Reinforce, ReinforceConfig};
pub use sarsa::{Sarsa, SarsaConfig};
pub use sarsa_lambda::{SarsaLambda, SarsaLambdaConfig};
pub use schedule::{Schedule, StepSize};
pub use td_lambda::{TdLambda, TdLambdaConfig};
pub use traces::{SparseTraces, TraceKind};
pub use true_online::{
    TrueOnlineSarsaLambda, TrueOnlineSarsaLambdaConfig, TrueOnlineTdLambda,
    TrueOnlineTdLambdaConfig,
};
pub use values::ActionValues;
