//! `qlab attack`: evaluate a run's saved deep Q-network or categorical policy (PPO, A2C) under
//! attacks on its observations, over a list of radii ε; write the results as CSV and draw mean
//! return against ε.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use qlab_agents::actor_critic::{ActorCriticAgent, PolicyLogits};
use qlab_agents::adversarial::{
    AgainstQ, AttackConfig, AttackMethod, AttackStats, Attacked, Norm, PgdStart, QFunction,
};
use qlab_agents::dqn::Dqn;
use qlab_agents::nn::{ActionKind, ParamStore, q_network};
use qlab_envs::registry::VectorEnv;
use qlab_envs::{Env, Space};

use crate::config::{AgentConfig, Config};
use crate::plot::{ChartStyle, Curve, draw_curves};
use crate::runner::deep::{self, DeepExperiment};
use crate::runner::onpolicy::{self, OnPolicyExperiment};
use crate::runner::record::AgentChoice;
use crate::runner::{Failure, load_run_config};

/// The CSV's header.
pub const HEADER: &str = "attack,eps,mean_return,std_return,action_change_rate,attacked_fraction";

/// The attacks `--attack` takes.
const ALLOWED: &str = "none, random, gaussian, fgsm, pgd, timed";

/// Evaluate a dqn, ppo or a2c run's saved greedy agent (discrete actions) under attacks on its
/// observations, for each attack and radius ε; write CSV (attack,eps,mean_return,std_return,action_change_rate,
/// attacked_fraction) and a plot of mean return against ε; print the table.
#[derive(Clone, Debug, clap::Args)]
pub struct AttackArgs {
    /// The run directory written by `qlab train` (a dqn run, or a ppo or a2c run with
    /// discrete actions).
    pub run_dir: PathBuf,
    /// Comma-separated attacks: random, gaussian, fgsm, pgd, timed, none.
    #[arg(long, value_delimiter = ',', required = true)]
    pub attack: Vec<String>,
    /// Comma-separated radii ε ≥ 0, in observation units.
    #[arg(
        long,
        value_delimiter = ',',
        required = true,
        allow_hyphen_values = true
    )]
    pub eps: Vec<f64>,
    /// Episodes per attack and ε [default: the config's `eval_episodes`].
    #[arg(long)]
    pub episodes: Option<u64>,
    /// Seed of each evaluation's first reset [default: the seed the run's own evaluations
    /// start from].
    #[arg(long)]
    pub seed: Option<u64>,
    /// The training seed whose network is attacked [default: the first one saved].
    #[arg(long)]
    pub run_seed: Option<u64>,
    /// Which network of the seed: `last` (as training left it) or `best` (the best
    /// evaluation's, kept by `[train] keep_best = true`).
    #[arg(long, value_enum, default_value_t = AgentChoice::Last)]
    pub agent: AgentChoice,
    /// The CSV file [default: RUN_DIR/attack.csv]; the PNG plot goes beside it, same stem.
    #[arg(long, value_name = "FILE.csv")]
    pub out: Option<PathBuf>,
    /// The norm of the ball: linf or l2.
    #[arg(long, default_value = "linf", value_parser = ["linf", "l2"])]
    pub norm: String,
    /// The timed attack's threshold on the preference gap (max − min of softmax(Q)), in
    /// [0, 1].
    #[arg(long, default_value_t = 0.5, allow_hyphen_values = true)]
    pub threshold: f64,
    /// Where PGD starts: random (a uniform point of the ball), zero (the clean
    /// observation) or fgsm (FGSM's perturbation; PGD then never ends below FGSM's loss).
    #[arg(long, default_value = "random", value_parser = ["random", "zero", "fgsm"])]
    pub pgd_start: String,
    /// The attack the timed attack makes at the steps it strikes: fgsm or pgd.
    #[arg(long, default_value = "fgsm", value_parser = ["fgsm", "pgd"])]
    pub timed_with: String,
}

/// One attack at one ε: a CSV row.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The attack's name.
    pub attack: String,
    /// The radius.
    pub eps: f64,
    /// Mean return over the episodes.
    pub mean_return: f64,
    /// Population standard deviation of the returns.
    pub std_return: f64,
    /// The attack's counts over all the episodes.
    pub stats: AttackStats,
}

/// Runs the attacks; writes the CSV and the plot; returns the table as text.
///
/// Every (attack, ε) pair plays the same episodes: the same reset seeds, the attack's own
/// randomness reseeded from them, so the same command writes the same CSV.
///
/// # Errors
/// Bad input (not a `dqn` run, an unknown attack, a negative ε, no saved network), or a
/// failure while playing ([`Failure`]).
pub fn run(a: &AttackArgs) -> Result<String> {
    let norm = match a.norm.as_str() {
        "linf" => Norm::Linf,
        "l2" => Norm::L2,
        other => bail!("--norm `{other}`: expected linf or l2"),
    };
    let pgd_start = PgdStart::parse(&a.pgd_start)?;
    let timed_with = AttackMethod::parse(&a.timed_with)?;
    let methods = parse_attacks(&a.attack)?;
    if a.eps.is_empty() {
        bail!("--eps needs at least one radius");
    }
    if let Some(e) = a.eps.iter().find(|e| !(e.is_finite() && **e >= 0.0)) {
        bail!(
            "--eps must be finite radii ≥ 0, got {}",
            crate::float::short(*e)
        );
    }
    if a.episodes == Some(0) {
        bail!("--episodes must be at least 1, got 0");
    }
    let configs: Vec<AttackConfig> = methods
        .iter()
        .flat_map(|&method| {
            a.eps.iter().map(move |&eps| AttackConfig {
                method,
                eps,
                norm,
                threshold: a.threshold,
                start: pgd_start,
                timed_with,
                ..AttackConfig::default()
            })
        })
        .collect();
    for c in &configs {
        c.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    }

    let config = load_run_config(&a.run_dir)?;
    a.agent.check(&config.train, &a.run_dir)?;
    let target = Target::load(config, &a.run_dir, a.run_seed, a.agent)?;
    let (config, run_seed) = (target.config(), target.seed);
    let q = target.q_function()?;
    let device = target.params().device();
    let episodes = a.episodes.unwrap_or(config.train.eval_episodes);
    let first = a.seed.unwrap_or_else(|| deep::eval_seed(run_seed));
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| a.run_dir.join("attack.csv"));
    let png = out.with_extension("png");

    let play = |c: &AttackConfig| -> Result<Row> {
        let env = target.env()?;
        let Space::Box(space) = env.observation_space().clone() else {
            bail!("{} does not observe a box of numbers", config.env.id);
        };
        let n_actions = target.n_actions();
        let attack = qlab_agents::adversarial::Attack::new(c, &space, n_actions, device)?;
        let mut env = Attacked::new(env, AgainstQ::new(attack, &*q));
        let v = qlab_agents::evaluate_policy::<_, _, anyhow::Error>(
            &mut env,
            |obs: &[f32], _| target.greedy(obs),
            Some(first),
            episodes,
            config.train.eval_max_steps,
        )
        .map_err(Failure)?;
        Ok(Row {
            attack: c.method.as_str().into(),
            eps: c.eps,
            mean_return: v.mean,
            std_return: v.std,
            stats: env.stats(),
        })
    };
    let clean = play(&AttackConfig::default())?;
    let rows = configs.iter().map(play).collect::<Result<Vec<Row>>>()?;

    let title = format!(
        "{}: greedy {} (seed {run_seed}) under attack, {} ball, {episodes} episodes",
        config.env.id,
        target.name(),
        norm_name(norm)
    );
    // The chart first: a failure to draw leaves no CSV behind without its chart.
    draw(&rows, &methods, &title, norm, &png)?;
    crate::files::write_file(&out, to_csv(&rows).as_bytes())?;
    eprintln!(
        "clean mean return {:.2} ± {:.2} over {episodes} episodes; wrote {} and {}",
        clean.mean_return,
        clean.std_return,
        out.display(),
        png.display()
    );
    Ok(table(&rows, clean.mean_return))
}

/// The attacks named, in order.
fn parse_attacks(names: &[String]) -> Result<Vec<AttackMethod>> {
    if names.is_empty() {
        bail!("--attack needs at least one of {ALLOWED}");
    }
    names
        .iter()
        .map(|n| {
            AttackMethod::parse(n.trim())
                .map_err(|_| anyhow::anyhow!("unknown attack `{n}`: --attack takes {ALLOWED}"))
        })
        .collect()
}

/// A seed's saved agent, as the attacks and the evaluations see it.
struct Target {
    /// The training seed.
    seed: u64,
    agent: Attackable,
}

/// The agents `qlab attack` attacks: a deep Q-network, or a categorical policy (PPO, A2C).
enum Attackable {
    Dqn(Box<DeepExperiment>, Box<Dqn>),
    Policy(Box<OnPolicyExperiment>, Box<ActorCriticAgent>),
}

impl Target {
    /// The saved agent of `run_seed` (or of the first seed that saved one) in the run `dir` of
    /// `config`, the last or the best as `choice` says.
    fn load(
        config: Config,
        dir: &Path,
        run_seed: Option<u64>,
        choice: AgentChoice,
    ) -> Result<Target> {
        let seeds = config.train.seeds.clone();
        let (seed, agent) = if config.agent.on_policy().is_some() {
            let exp = OnPolicyExperiment::new(config)?;
            if let ActionKind::Continuous(_) = exp.kind {
                bail!(
                    "{}: qlab attack pushes a policy's action preferences; this {} policy has                      Box actions ({}), and only categorical policies have them",
                    dir.display(),
                    exp.config.agent.algorithm(),
                    exp.config.env.id
                );
            }
            let (seed, agent) = load_seed(&seeds, dir, run_seed, choice, |d| {
                onpolicy::load_agent(&exp, d)
            })?;
            (seed, Attackable::Policy(Box::new(exp), Box::new(agent)))
        } else if let AgentConfig::Dqn(d) = &config.agent {
            if d.network.torso.cell().is_some() {
                bail!(
                    "{}: qlab attack evaluates Q-networks without memory; this run's torso is                      recurrent",
                    dir.display()
                );
            }
            let exp = DeepExperiment::new(config)?;
            let (seed, agent) =
                load_seed(&seeds, dir, run_seed, choice, |d| deep::load_agent(&exp, d))?;
            (seed, Attackable::Dqn(Box::new(exp), Box::new(agent)))
        } else {
            bail!(
                "{} is a {} run: qlab attack needs a saved network (dqn, ppo or a2c)",
                dir.display(),
                config.agent.algorithm()
            );
        };
        Ok(Target { seed, agent })
    }

    fn config(&self) -> &Config {
        match &self.agent {
            Attackable::Dqn(e, _) => &e.config,
            Attackable::Policy(e, _) => &e.config,
        }
    }

    /// How the chart names the agent.
    fn name(&self) -> &'static str {
        match &self.agent {
            Attackable::Dqn(..) => "DQN",
            Attackable::Policy(e, _) => match e.config.agent.algorithm() {
                "a2c" => "A2C policy",
                _ => "PPO policy",
            },
        }
    }

    /// The agent's weights.
    fn params(&self) -> &ParamStore {
        match &self.agent {
            Attackable::Dqn(_, agent) => agent.params(),
            Attackable::Policy(_, agent) => agent.params(),
        }
    }

    fn n_actions(&self) -> usize {
        match &self.agent {
            Attackable::Dqn(e, _) => e.n_actions,
            Attackable::Policy(e, _) => e.kind.outputs(),
        }
    }

    /// What the attacks differentiate, sharing the agent's weights as constants (gradients
    /// with respect to the observation only): the Q-network, or the policy's logits at the
    /// observation as the agent normalizes it.
    fn q_function(&self) -> Result<Box<dyn QFunction + '_>> {
        Ok(match &self.agent {
            Attackable::Dqn(e, agent) => Box::new(q_network(
                &[e.obs_dim],
                e.n_actions,
                &e.agent.network,
                agent.params().frozen_var_builder(),
            )?),
            Attackable::Policy(_, agent) => Box::new(PolicyLogits::new(agent)?),
        })
    }

    /// A fresh env of the run, as its evaluations make it.
    fn env(&self) -> Result<VectorEnv> {
        match &self.agent {
            Attackable::Dqn(e, _) => deep::make_env(&e.config),
            Attackable::Policy(e, _) => e.discrete_env(),
        }
    }

    /// The agent's greedy action at `obs`, as its evaluations take it.
    fn greedy(&self, obs: &[f32]) -> Result<usize> {
        Ok(match &self.agent {
            Attackable::Dqn(_, agent) => agent.greedy(obs)?,
            Attackable::Policy(_, agent) => agent.greedy(obs)?[0] as usize,
        })
    }
}

/// The seed attacked and its agent, loaded from its directory by `load` (`None`: the seed
/// saved none): `run_seed`, or the first of `seeds` with a saved agent.
fn load_seed<A>(
    seeds: &[u64],
    dir: &Path,
    run_seed: Option<u64>,
    choice: AgentChoice,
    load: impl Fn(&Path) -> Result<Option<A>>,
) -> Result<(u64, A)> {
    let seed_dir = |k: u64| choice.dir(&dir.join(format!("seed_{k}")));
    if let Some(k) = run_seed {
        if !seeds.contains(&k) {
            bail!("--run-seed {k} is not a seed of this run (its seeds: {seeds:?})");
        }
        return match load(&seed_dir(k))? {
            Some(agent) => Ok((k, agent)),
            None => bail!("seed {k} of {} saved no network", dir.display()),
        };
    }
    for &k in seeds {
        if let Some(agent) = load(&seed_dir(k))? {
            return Ok((k, agent));
        }
    }
    bail!("{} holds no saved agent ({})", dir.display(), choice.file())
}

/// The rows as CSV under [`HEADER`]; numbers printed in full.
pub fn to_csv(rows: &[Row]) -> String {
    let mut s = format!("{HEADER}\n");
    for r in rows {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{}",
            r.attack,
            r.eps,
            r.mean_return,
            r.std_return,
            r.stats.action_change_rate(),
            r.stats.attacked_fraction()
        );
    }
    s
}

/// The rows as an aligned table, with each mean return as a percentage of the clean one.
fn table(rows: &[Row], clean: f64) -> String {
    let mut s = format!(
        "{:<9} {:>8} {:>11} {:>10} {:>9} {:>14} {:>17}\n",
        "attack",
        "eps",
        "mean_return",
        "std_return",
        "of_clean",
        "action_changes",
        "attacked_fraction"
    );
    for r in rows {
        let of_clean = if clean == 0.0 {
            "-".to_string()
        } else {
            format!("{:.1}%", 100.0 * r.mean_return / clean)
        };
        let _ = writeln!(
            s,
            "{:<9} {:>8} {:>11.2} {:>10.2} {:>9} {:>14.4} {:>17.4}",
            r.attack,
            r.eps,
            r.mean_return,
            r.std_return,
            of_clean,
            r.stats.action_change_rate(),
            r.stats.attacked_fraction()
        );
    }
    s
}

fn norm_name(norm: Norm) -> &'static str {
    match norm {
        Norm::Linf => "L∞",
        Norm::L2 => "L2",
    }
}

/// Mean return against ε, one line per attack, the band ± one standard deviation.
fn draw(rows: &[Row], methods: &[AttackMethod], title: &str, norm: Norm, png: &Path) -> Result<()> {
    let curves: Vec<Curve> = methods
        .iter()
        .map(|m| {
            let mut points: Vec<&Row> = rows.iter().filter(|r| r.attack == m.as_str()).collect();
            points.sort_by(|a, b| a.eps.total_cmp(&b.eps));
            Curve {
                label: m.as_str().into(),
                x: points.iter().map(|r| r.eps).collect(),
                mean: points.iter().map(|r| r.mean_return).collect(),
                lower: points
                    .iter()
                    .map(|r| r.mean_return - r.std_return)
                    .collect(),
                upper: points
                    .iter()
                    .map(|r| r.mean_return + r.std_return)
                    .collect(),
                count: points.iter().map(|_| 1).collect(),
            }
        })
        .collect();
    let xs = || rows.iter().map(|r| r.eps);
    let (lo, hi) = (xs().fold(f64::INFINITY, f64::min), xs().fold(0.0, f64::max));
    let style = ChartStyle {
        title: title.into(),
        x_label: format!("ε ({} radius)", norm_name(norm)),
        y_label: "mean return (± std over episodes)".into(),
        // A single ε gives no width to draw; widen it, by a tenth of itself where ±0.5 would
        // vanish in its rounding (ε = 1e17).
        x_range: (lo >= hi).then(|| {
            let half = 0.5f64.max(0.1 * lo.abs());
            (lo - half, lo + half)
        }),
        ..ChartStyle::default()
    };
    draw_curves(&curves, &style, png)
}
