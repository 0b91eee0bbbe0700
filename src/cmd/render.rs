//! `qlab render`: watch episodes of an env with random actions, or of a run's greedy agent,
//! as an animated GIF or as text in the terminal.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use qlab_agents::actor_critic::ActorCriticAgent;
use qlab_agents::dqn::Dqn;
use qlab_agents::tabular::TabularAgent;
use qlab_agents::{Agent, View as ObsView};
use qlab_envs::{AnyEnv, EnvRng, Frame, Params};
use rand::SeedableRng;

use crate::config::Config;
use crate::plot::gif::{ColourCount, GifWriter, check_fps};
use crate::plot::render::{
    Playback, RandomPolicy, Recording, View, check_playback, play_into, play_with_into,
};
use crate::runner::deep::{self, DeepExperiment};
use crate::runner::envs::{AgentEnv, EnvVisitor};
use crate::runner::onpolicy::{self, OnPolicyExperiment};
use crate::runner::record::AgentChoice;
use crate::runner::{Experiment, TabularExperiment, tabular};

/// Watch episodes as an animated GIF (--out) or as text frames in the terminal: a run's
/// greedy agent (RUN_DIR), or random actions (--env).
#[derive(Clone, Debug, clap::Args)]
pub struct RenderArgs {
    /// A run directory written by `qlab train`: render its greedy agent.
    #[arg(
        value_name = "RUN_DIR",
        required_unless_present = "env",
        conflicts_with = "env"
    )]
    pub run_dir: Option<PathBuf>,
    /// Render this env with random actions instead (see `qlab envs`).
    #[arg(long)]
    pub env: Option<String>,
    /// Episodes to play.
    #[arg(long, default_value_t = 1)]
    pub episodes: usize,
    /// Seed of the first reset (and of the random actions).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The GIF file; without it, text frames go to stdout.
    #[arg(long, value_name = "FILE.gif")]
    pub out: Option<PathBuf>,
    /// GIF frames per second (default: the env's, CartPole 50, grid worlds 4).
    #[arg(long)]
    pub fps: Option<f64>,
    /// Cut an episode after this many steps if its time limit has not ended it.
    #[arg(long, default_value_t = 1000)]
    pub max_steps: usize,
    /// Leave out the caption (episode, step, return) above each GIF frame.
    #[arg(long)]
    pub no_caption: bool,
    /// Draw each pixel of the env's frames as a SCALE × SCALE square (1 to 16).
    #[arg(long, default_value_t = 1)]
    pub scale: usize,
    /// With RUN_DIR, which agent: `last` (as training left it) or `best` (the best
    /// evaluation's, kept by `[train] keep_best = true`).
    #[arg(long, value_enum, default_value_t = AgentChoice::Last, conflicts_with = "env")]
    pub agent: AgentChoice,
    /// Env parameter KEY=VALUE (with --env); repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
}

/// A frame sink: where each drawn frame goes.
type Sink<'a> = &'a mut dyn FnMut(Frame) -> Result<()>;

/// What plays: an env with random actions, or a run's reloaded greedy agent.
enum Player {
    /// A registered env and the seed-derived random policy.
    Env { id: String, params: Params },
    /// A tabular run's agent.
    Tabular(Box<TabularExperiment>, Box<dyn TabularAgent>),
    /// A DQN run's network.
    Deep(Box<DeepExperiment>, Box<Dqn>),
    /// A PPO or A2C run's policy.
    OnPolicy(Box<OnPolicyExperiment>, Box<ActorCriticAgent>),
}

impl Player {
    /// Plays the episodes from a fresh env, policy and tie-breaking stream, so that two plays
    /// give the same frames; returns the recording and the env's frame rate.
    fn play(&mut self, playback: &Playback, view: View, sink: Sink) -> Result<(Recording, f64)> {
        match self {
            Player::Env { id, params } => {
                let mut env = qlab_envs::make(id, params)?;
                let n = env.action_space().flat_dim();
                let mut policy = RandomPolicy::new(n, playback.seed.wrapping_add(1));
                let fps = match env {
                    AnyEnv::Vector(_) | AnyEnv::Continuous(_) => 50.0,
                    AnyEnv::Discrete(_) => 4.0,
                };
                Ok((play_into(&mut env, &mut policy, playback, view, sink)?, fps))
            }
            Player::Tabular(exp, agent) => exp.spec.visit(Greedy {
                agent: agent.as_ref(),
                playback,
                view,
                sink,
            }),
            Player::Deep(exp, agent) => {
                let mut env = deep::make_env(&exp.config)?;
                // Box observations are CartPoles (50 fps), grid worlds' pictures 4 fps.
                let fps = if env.model().is_some() { 4.0 } else { 50.0 };
                let mut rng = EnvRng::seed_from_u64(playback.seed);
                let agent = agent.as_mut();
                let rec = play_with_into(
                    &mut env,
                    |obs, first| Ok(Agent::greedy(agent, obs.as_slice(), first, &mut rng)?),
                    playback,
                    view,
                    sink,
                )?;
                Ok((rec, fps))
            }
            Player::OnPolicy(exp, agent) => {
                let rec = exp.play(agent, playback, view, sink)?;
                Ok((rec, 50.0))
            }
        }
    }
}

/// Plays a tabular agent greedily in the env its run's config describes.
struct Greedy<'a, 's> {
    agent: &'a dyn TabularAgent,
    playback: &'a Playback,
    view: View,
    sink: Sink<'s>,
}

impl EnvVisitor for Greedy<'_, '_> {
    type Output = Result<(Recording, f64)>;
    fn visit<E: AgentEnv<[usize]>, F: Fn() -> Result<E> + Sync>(self, make: F) -> Self::Output {
        let mut env = make()?;
        // Box observations are CartPoles (50 fps), state indices grid worlds (4 fps).
        let fps = if env.model().is_some() { 4.0 } else { 50.0 };
        let mut rng = EnvRng::seed_from_u64(self.playback.seed);
        let rec = play_with_into(
            &mut env,
            |obs, _| Ok(self.agent.greedy(obs.view(), &mut rng)),
            self.playback,
            self.view,
            self.sink,
        )?;
        Ok((rec, fps))
    }
}

/// Plays the episodes; returns the text frames, or a line describing the GIF written. Every
/// option is checked before anything is played or written, so that a bad one leaves an
/// existing `--out` as it was.
pub fn run(r: &RenderArgs) -> Result<String> {
    let playback = Playback {
        episodes: r.episodes,
        seed: r.seed,
        max_steps: r.max_steps,
        caption: !r.no_caption,
        scale: r.scale,
    };
    check_playback(&playback)?;
    if let Some(fps) = r.fps {
        check_fps(fps)?;
    }
    if let Some(out) = &r.out {
        let ext = out
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if ext.as_deref() != Some("gif") {
            bail!("--out {}: the file name must end in .gif", out.display());
        }
    }
    let mut player = match (&r.run_dir, &r.env) {
        (_, Some(id)) => Player::Env {
            id: id.clone(),
            params: crate::params::parse_params(&r.params)?,
        },
        (Some(dir), None) => load_run(dir, r.agent)?,
        (None, None) => bail!("give RUN_DIR, or --env ID"),
    };
    let Some(out) = &r.out else {
        let (rec, _) = player.play(&playback, View::Ansi, &mut |_| Ok(()))?;
        return Ok(rec.text);
    };
    // Two plays of the same episodes: the first counts the colours for the GIF's palette,
    // the second writes each frame as it is drawn, so no frame is held.
    let mut colours = ColourCount::default();
    let mut size = None;
    let (_, default_fps) = player.play(&playback, View::Rgb, &mut |f| {
        size.get_or_insert((f.width, f.height));
        colours.add(&f);
        Ok(())
    })?;
    let fps = r.fps.unwrap_or(default_fps);
    let (width, height) = size.context("no frames to encode")?;
    let mut frames = 0usize;
    let mut rec = None;
    // Into a temporary file renamed over `out` at the end: a failure leaves `out` as it was.
    crate::files::write_atomic(out, |tmp| {
        let cannot = || format!("cannot write {}", tmp.display());
        let file = File::create(tmp).with_context(cannot)?;
        let mut gif = GifWriter::new(BufWriter::new(file), width, height, colours.palette(), fps)
            .with_context(cannot)?;
        rec = Some(
            player
                .play(&playback, View::Rgb, &mut |f| {
                    frames += 1;
                    gif.push(&f)
                })?
                .0,
        );
        gif.finish().with_context(cannot)
    })?;
    let rec = rec.expect("written with the GIF");
    let returns: Vec<String> = rec
        .episodes
        .iter()
        .map(|(ret, _)| ret.to_string())
        .collect();
    Ok(format!(
        "{}: {} episode{}, {} frames at {fps} fps, returns {}\n",
        out.display(),
        rec.episodes.len(),
        if rec.episodes.len() == 1 { "" } else { "s" },
        frames,
        returns.join(", ")
    ))
}

/// Loads the greedy agent of a run: the config rebuilt as `qlab train` built it, the first
/// seed's saved agent (tabular or DQN; its last or, with `choice`, its best) loaded into it.
fn load_run(dir: &Path, choice: AgentChoice) -> Result<Player> {
    let config_path = dir.join("config.toml");
    if !config_path.is_file() {
        bail!(
            "{}: RUN_DIR rendering needs a run written by qlab train (no config.toml here); \
             use --env ID to render random actions",
            dir.display()
        );
    }
    let config = Config::load(&config_path.display().to_string(), &[])?;
    choice.check(&config.train, dir)?;
    let seeds = config.train.seeds.clone();
    let missing = || {
        format!(
            "{}: RUN_DIR rendering needs a run written by qlab train with its agents saved \
             (no {} here)",
            dir.display(),
            choice.file()
        )
    };
    match Experiment::new(config)? {
        Experiment::Tabular(exp) => {
            let mut saved = None;
            for s in &seeds {
                let seed_dir = choice.dir(&dir.join(format!("seed_{s}")));
                saved = tabular::load_agent(&exp, &seed_dir, "qlab render")?;
                if saved.is_some() {
                    break;
                }
            }
            let agent = saved.with_context(missing)?;
            Ok(Player::Tabular(exp, agent))
        }
        Experiment::Deep(exp) => {
            let mut saved = None;
            for s in &seeds {
                saved = deep::load_agent(&exp, &choice.dir(&dir.join(format!("seed_{s}"))))?;
                if saved.is_some() {
                    break;
                }
            }
            let agent = saved.with_context(missing)?;
            Ok(Player::Deep(exp, Box::new(agent)))
        }
        Experiment::OnPolicy(exp) => {
            let mut saved = None;
            for s in &seeds {
                let seed_dir = choice.dir(&dir.join(format!("seed_{s}")));
                saved = onpolicy::load_agent(&exp, &seed_dir)?;
                if saved.is_some() {
                    break;
                }
            }
            let agent = saved.with_context(missing)?;
            Ok(Player::OnPolicy(exp, Box::new(agent)))
        }
    }
}
