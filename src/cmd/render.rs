//! `qlab render`: watch episodes of an env with random actions, or of a run's greedy agent,
//! as an animated GIF or as text in the terminal.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use qlab_agents::View as ObsView;
use qlab_agents::tabular::TabularAgent;
use qlab_envs::{AnyEnv, EnvRng, Params};
use rand::SeedableRng;

use crate::config::Config;
use crate::plot::gif::write_gif;
use crate::plot::render::{Playback, RandomPolicy, Recording, View, play, play_with};
use crate::runner::envs::{AgentEnv, EnvVisitor};
use crate::runner::record::AgentChoice;
use crate::runner::{TabularExperiment, tabular};

/// Whose episodes to render.
#[derive(Clone, Debug)]
pub enum Source {
    /// A registered env with random actions.
    Env {
        /// The env id.
        id: String,
        /// Env parameters.
        params: Params,
    },
    /// The greedy agent of a run directory written by `qlab train`: the agent saved by its
    /// first seed that saved one, in the env its `config.toml` describes (features included).
    Run(PathBuf),
}

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

/// Plays the episodes; returns the text frames, or a line describing the GIF written.
pub fn run(r: &RenderArgs) -> Result<String> {
    let source = match (&r.run_dir, &r.env) {
        (_, Some(id)) => Source::Env {
            id: id.clone(),
            params: crate::params::parse_params(&r.params)?,
        },
        (Some(dir), None) => Source::Run(dir.clone()),
        (None, None) => bail!("give RUN_DIR, or --env ID"),
    };
    let playback = Playback {
        episodes: r.episodes,
        seed: r.seed,
        max_steps: r.max_steps,
        caption: !r.no_caption,
        scale: r.scale,
    };
    if let Some(out) = &r.out {
        let ext = out
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if ext.as_deref() != Some("gif") {
            bail!("--out {}: the file name must end in .gif", out.display());
        }
    }
    let view = if r.out.is_some() {
        View::Rgb
    } else {
        View::Ansi
    };
    let (rec, default_fps) = match &source {
        Source::Env { id, params } => {
            let mut env = qlab_envs::make(id, params)?;
            let n = env.action_space().flat_dim();
            let mut policy = RandomPolicy::new(n, playback.seed.wrapping_add(1));
            let fps = match env {
                AnyEnv::Vector(_) | AnyEnv::Continuous(_) => 50.0,
                AnyEnv::Discrete(_) => 4.0,
            };
            (play(&mut env, &mut policy, &playback, view)?, fps)
        }
        Source::Run(dir) => render_run(dir, r.agent, &playback, view)?,
    };
    let Some(out) = &r.out else {
        return Ok(rec.text);
    };
    let fps = r.fps.unwrap_or(default_fps);
    write_gif(out, &rec.frames, fps)?;
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
        rec.frames.len(),
        returns.join(", ")
    ))
}

/// Plays the greedy agent of a run: the config rebuilt as `qlab train` built it, the first
/// seed's saved agent loaded into it, ties between actions broken by a stream seeded with
/// the playback's seed. `choice` picks the seed's last agent or its best.
fn render_run(
    dir: &Path,
    choice: AgentChoice,
    playback: &Playback,
    view: View,
) -> Result<(Recording, f64)> {
    let config_path = dir.join("config.toml");
    if !config_path.is_file() {
        bail!(
            "{}: RUN_DIR rendering needs a run written by qlab train (no config.toml here); \
             use --env ID to render random actions",
            dir.display()
        );
    }
    let config = Config::load(&config_path.display().to_string(), &[])?;
    let exp = TabularExperiment::new(config)?;
    choice.check(&exp.config.train, dir)?;
    let mut saved = None;
    for s in &exp.config.train.seeds {
        let seed_dir = choice.dir(&dir.join(format!("seed_{s}")));
        saved = tabular::load_agent(&exp, &seed_dir, "qlab render")?;
        if saved.is_some() {
            break;
        }
    }
    let agent = saved.with_context(|| {
        format!(
            "{}: RUN_DIR rendering needs a run written by qlab train with its agents saved \
             (no {} here)",
            dir.display(),
            choice.file()
        )
    })?;
    struct Greedy<'a> {
        agent: &'a dyn TabularAgent,
        playback: &'a Playback,
        view: View,
    }
    impl EnvVisitor for Greedy<'_> {
        type Output = Result<(Recording, f64)>;
        fn visit<E: AgentEnv<[usize]>, F: Fn() -> Result<E> + Sync>(self, make: F) -> Self::Output {
            let mut env = make()?;
            // Box observations are CartPoles (50 fps), state indices grid worlds (4 fps).
            let fps = if env.model().is_some() { 4.0 } else { 50.0 };
            let mut rng = EnvRng::seed_from_u64(self.playback.seed);
            let rec = play_with(
                &mut env,
                |obs| self.agent.greedy(obs.view(), &mut rng),
                self.playback,
                self.view,
            )?;
            Ok((rec, fps))
        }
    }
    exp.spec.visit(Greedy {
        agent: agent.as_ref(),
        playback,
        view,
    })
}
