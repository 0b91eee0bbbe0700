//! `qlab render`: watch episodes of an env with random actions, or of a run's greedy agent,
//! as an animated GIF or as text in the terminal.

use std::path::PathBuf;

use anyhow::{Result, bail};
use qlab_envs::{AnyEnv, Params};

use crate::plot::gif::write_gif;
use crate::plot::render::{Playback, Policy, PolicyLoader, RandomPolicy, View, play};

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
    /// The greedy agent of a run directory written by `qlab train`.
    Run(PathBuf),
}

/// What one rendering needs.
#[derive(Clone, Debug)]
pub struct Render {
    /// Whose episodes.
    pub source: Source,
    /// Episodes, seed, step limit, captions.
    pub playback: Playback,
    /// The GIF file; `None` prints text frames to stdout.
    pub out: Option<PathBuf>,
    /// GIF frames per second; `None` for the env's own rate (Gymnasium's `render_fps`:
    /// CartPole 50, grid worlds 4).
    pub fps: Option<f64>,
    /// How a run's agent is loaded; `None` where this build has no loader, which makes
    /// [`Source::Run`] an error.
    pub loader: Option<PolicyLoader>,
}

/// Plays the episodes; returns the text frames, or a line describing the GIF written.
pub fn run(r: &Render) -> Result<String> {
    if let Some(out) = &r.out {
        let ext = out
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if ext.as_deref() != Some("gif") {
            bail!("--out {}: the file name must end in .gif", out.display());
        }
    }
    let (mut env, mut policy): (AnyEnv, Box<dyn Policy>) = match &r.source {
        Source::Env { id, params } => {
            let env = qlab_envs::make(id, params)?;
            let n = env.action_space().flat_dim();
            (
                env,
                Box::new(RandomPolicy::new(n, r.playback.seed.wrapping_add(1))),
            )
        }
        Source::Run(dir) => match r.loader {
            Some(load) => load(dir, None)?,
            None => bail!(
                "{}: RUN_DIR rendering needs a run written by qlab train with its agents saved; \
                 use --env ID to render random actions",
                dir.display()
            ),
        },
    };
    let view = if r.out.is_some() {
        View::Rgb
    } else {
        View::Ansi
    };
    let rec = play(&mut env, policy.as_mut(), &r.playback, view)?;
    let Some(out) = &r.out else {
        return Ok(rec.text);
    };
    let fps = r.fps.unwrap_or(match env {
        AnyEnv::Vector(_) => 50.0,
        AnyEnv::Discrete(_) => 4.0,
    });
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
