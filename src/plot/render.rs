//! Playing episodes for a viewer: frames for a GIF, or text for a terminal.
//!
//! [`play`] plays any registered env with a [`Policy`] ([`RandomPolicy`] for
//! `qlab render --env`); [`play_with`] plays an env of any type with any action function, as
//! `qlab render RUN_DIR` does with a run's reloaded greedy agent.

use anyhow::{Result, bail};
use plotters::prelude::*;
use qlab_envs::{AnyEnv, Env, EnvRng, Frame};
use rand::SeedableRng;

use super::canvas::{self, FAMILY, plot_error};

/// An observation as a policy sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Observation<'a> {
    /// The state index of a discrete-state env (every GridWorld).
    State(usize),
    /// The observation vector of a continuous env (CartPole).
    Vector(&'a [f32]),
}

/// Chooses an action for each observation.
///
/// An implementor returns an action of the env's action space (`0..n` for `Discrete(n)`); an
/// action outside it stops the rendering with the env's error.
pub trait Policy {
    /// The action to take on `obs`.
    fn act(&mut self, obs: Observation<'_>) -> usize;
}

/// Uniformly random actions from a seeded stream.
#[derive(Clone, Debug)]
pub struct RandomPolicy {
    rng: EnvRng,
    n_actions: usize,
}

impl RandomPolicy {
    /// Random actions in `0..n_actions`, the same for the same seed.
    pub fn new(n_actions: usize, seed: u64) -> RandomPolicy {
        RandomPolicy {
            rng: EnvRng::seed_from_u64(seed),
            n_actions,
        }
    }
}

impl Policy for RandomPolicy {
    fn act(&mut self, _obs: Observation<'_>) -> usize {
        self.rng.below(self.n_actions)
    }
}

/// How episodes are played and shown.
///
/// | field | default | valid |
/// |---|---|---|
/// | `episodes` | 1 | ≥ 1 |
/// | `seed` | 0 | the first episode's reset seed; later episodes continue the env's stream |
/// | `max_steps` | 1000 | ≥ 1: an episode is cut here if the env's own limit has not ended it |
/// | `caption` | true | a strip above each frame: episode, step, return so far |
/// | `scale` | 1 | 1 to 16: each pixel of the env's frames drawn as a `scale × scale` square |
#[derive(Clone, Debug, PartialEq)]
pub struct Playback {
    /// The number of episodes.
    pub episodes: usize,
    /// The first reset's seed.
    pub seed: u64,
    /// The most steps an episode is shown for.
    pub max_steps: usize,
    /// Whether frames carry a caption.
    pub caption: bool,
    /// The frames' magnification.
    pub scale: usize,
}

impl Default for Playback {
    fn default() -> Self {
        Playback {
            episodes: 1,
            seed: 0,
            max_steps: 1000,
            caption: true,
            scale: 1,
        }
    }
}

/// What a viewer gets: an image or a text per moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// [`Env::render_rgb`] frames.
    Rgb,
    /// [`Env::render_ansi`] text.
    Ansi,
}

/// Where the playing stands when a picture is taken.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moment {
    /// The episode, from 1.
    pub episode: usize,
    /// Steps taken in the episode (0 after the reset).
    pub step: usize,
    /// The sum of the episode's rewards so far.
    pub ret: f64,
}

impl Moment {
    /// `episode 2  step 17  return 17` (the return with up to two decimals).
    pub fn caption(&self) -> String {
        format!(
            "episode {}  step {}  return {}",
            self.episode,
            self.step,
            self.short_return()
        )
    }

    /// `ep 2  step 17  ret 17`: the caption for narrow frames.
    pub fn short_caption(&self) -> String {
        format!(
            "ep {}  step {}  ret {}",
            self.episode,
            self.step,
            self.short_return()
        )
    }

    fn short_return(&self) -> String {
        let ret = format!("{:.2}", self.ret);
        let ret = ret.trim_end_matches('0').trim_end_matches('.');
        if ret == "-0" { "0" } else { ret }.to_string()
    }
}

/// What [`play`] recorded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recording {
    /// With [`View::Rgb`]: one frame after each reset and each step.
    pub frames: Vec<Frame>,
    /// With [`View::Ansi`]: each moment's caption line and the env's text, one after another.
    pub text: String,
    /// Each episode's return and length.
    pub episodes: Vec<(f64, usize)>,
}

/// Plays `playback.episodes` episodes of `env` with `policy` and records each moment.
///
/// # Errors
/// A zero episode or step count; an action the env rejects; an env with Box actions (a
/// [`Policy`] chooses discrete ones).
pub fn play(
    env: &mut AnyEnv,
    policy: &mut dyn Policy,
    playback: &Playback,
    view: View,
) -> Result<Recording> {
    let mut frames = Vec::new();
    let mut rec = play_into(env, policy, playback, view, &mut |f| {
        frames.push(f);
        Ok(())
    })?;
    rec.frames = frames;
    Ok(rec)
}

/// As [`play`], each [`View::Rgb`] frame handed to `sink` as it is drawn instead of kept in
/// the recording (whose `frames` stay empty): any number of episodes in bounded memory.
///
/// # Errors
/// As [`play`], and `sink`'s.
pub fn play_into(
    env: &mut AnyEnv,
    policy: &mut dyn Policy,
    playback: &Playback,
    view: View,
    sink: &mut dyn FnMut(Frame) -> Result<()>,
) -> Result<Recording> {
    match env {
        AnyEnv::Discrete(e) => play_with_into(
            e,
            |o, _| Ok(policy.act(Observation::State(*o))),
            playback,
            view,
            sink,
        ),
        AnyEnv::Vector(e) => play_with_into(
            e,
            |o, _| Ok(policy.act(Observation::Vector(o))),
            playback,
            view,
            sink,
        ),
        AnyEnv::Continuous(e) => bail!(
            "rendering with a policy needs discrete actions; {} has {}",
            e.name(),
            e.action_space()
        ),
    }
}

/// Plays `playback.episodes` episodes of `env`, taking `act(observation)` at each step, and
/// records each moment.
///
/// # Errors
/// As [`play`].
pub fn play_with<E: Env<Action = usize>>(
    env: &mut E,
    mut act: impl FnMut(&E::Obs) -> usize,
    playback: &Playback,
    view: View,
) -> Result<Recording> {
    let mut frames = Vec::new();
    let mut rec = play_with_into(env, |o, _| Ok(act(o)), playback, view, &mut |f| {
        frames.push(f);
        Ok(())
    })?;
    rec.frames = frames;
    Ok(rec)
}

/// Checks a playback's counts and scale before anything is played or written.
///
/// # Errors
/// A zero episode or step count, a scale outside 1 to 16.
pub fn check_playback(playback: &Playback) -> Result<()> {
    if playback.episodes == 0 {
        bail!("--episodes must be at least 1, got 0");
    }
    if playback.max_steps == 0 {
        bail!("--max-steps must be at least 1, got 0");
    }
    if !(1..=16).contains(&playback.scale) {
        bail!("--scale must be in 1..=16, got {}", playback.scale);
    }
    Ok(())
}

/// Plays `playback.episodes` episodes of `env`, taking `act(observation, first)` at each
/// step (`first`: the episode's first action, for an agent that keeps a memory through the
/// episode), handing each [`View::Rgb`] frame to `sink` as it is drawn and recording the
/// rest.
///
/// # Errors
/// As [`play`], and `act`'s and `sink`'s.
pub fn play_with_into<E: Env>(
    env: &mut E,
    mut act: impl FnMut(&E::Obs, bool) -> Result<E::Action>,
    playback: &Playback,
    view: View,
    sink: &mut dyn FnMut(Frame) -> Result<()>,
) -> Result<Recording> {
    check_playback(playback)?;
    let mut rec = Recording::default();
    let mut shoot = |env: &E, m: &Moment, rec: &mut Recording| -> Result<()> {
        match view {
            View::Rgb => {
                let frame = upscale(env.render_rgb(), playback.scale);
                sink(if playback.caption {
                    // The long caption where it fits at a readable size.
                    let text = if frame.width as f64 >= 0.58 * 11.0 * m.caption().len() as f64 {
                        m.caption()
                    } else {
                        m.short_caption()
                    };
                    with_caption(&frame, &text)?
                } else {
                    frame
                })?;
            }
            View::Ansi => {
                rec.text.push_str(&m.caption());
                rec.text.push('\n');
                rec.text
                    .push_str(env.render_ansi().trim_start_matches('\n'));
                if !rec.text.ends_with('\n') {
                    rec.text.push('\n');
                }
                rec.text.push('\n');
            }
        }
        Ok(())
    };
    for k in 0..playback.episodes {
        let mut obs = env.reset((k == 0).then_some(playback.seed)).obs;
        let mut m = Moment {
            episode: k + 1,
            step: 0,
            ret: 0.0,
        };
        shoot(env, &m, &mut rec)?;
        while m.step < playback.max_steps {
            let action = act(&obs, m.step == 0)?;
            let step = env.step(action)?;
            m.step += 1;
            m.ret += step.reward;
            shoot(env, &m, &mut rec)?;
            if step.done() {
                break;
            }
            obs = step.obs;
        }
        rec.episodes.push((m.ret, m.step));
    }
    Ok(rec)
}

/// Each pixel as a `k × k` square.
pub fn upscale(frame: Frame, k: usize) -> Frame {
    if k <= 1 {
        return frame;
    }
    let (w, h) = (frame.width * k, frame.height * k);
    let mut data = Vec::with_capacity(w * h * 3);
    for row in frame.data.chunks_exact(frame.width * 3) {
        let start = data.len();
        for p in row.chunks_exact(3) {
            for _ in 0..k {
                data.extend_from_slice(p);
            }
        }
        for _ in 1..k {
            data.extend_from_within(start..start + w * 3);
        }
    }
    Frame {
        height: h,
        width: w,
        data,
    }
}

/// The frame under a white strip holding `text` in black, sized to fit the frame's width.
pub fn with_caption(frame: &Frame, text: &str) -> Result<Frame> {
    canvas::register_font()?;
    let w = frame.width;
    // DejaVu Sans averages about 0.55 em per character. The strip has the height of the
    // largest size whatever the text, so that the frames of a recording keep one size as the
    // caption grows (a GIF's frames must).
    let size = (w as f64 / (0.58 * text.chars().count() as f64)).clamp(8.0, 18.0);
    let strip = (18.0f64 * 1.5).ceil() as usize;
    let mut out = Frame::filled(frame.height + strip, w, [255, 255, 255]);
    out.data[strip * w * 3..].copy_from_slice(&frame.data);
    {
        let root =
            BitMapBackend::with_buffer(&mut out.data, (w as u32, (frame.height + strip) as u32))
                .into_drawing_area();
        let style = TextStyle::from((FAMILY, size).into_font())
            .color(&BLACK)
            .pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Center,
            ));
        root.draw_text(text, &style, (w as i32 / 2, strip as i32 / 2))
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captions_round_the_return() {
        let m = |ret| Moment {
            episode: 2,
            step: 17,
            ret,
        };
        assert_eq!(m(17.0).caption(), "episode 2  step 17  return 17");
        assert_eq!(m(-0.5).caption(), "episode 2  step 17  return -0.5");
        assert_eq!(m(1.0 / 3.0).caption(), "episode 2  step 17  return 0.33");
    }

    #[test]
    fn upscaling_repeats_each_pixel() {
        let mut f = Frame::filled(1, 2, [0; 3]);
        f.set_pixel(0, 1, [9, 9, 9]);
        let u = upscale(f, 2);
        assert_eq!((u.height, u.width), (2, 4));
        for y in 0..2 {
            assert_eq!(
                (0..4).map(|x| u.pixel(y, x)[0]).collect::<Vec<_>>(),
                [0, 0, 9, 9]
            );
        }
    }

    #[test]
    fn captions_sit_on_a_white_strip_above_the_frame() {
        let f = Frame::filled(40, 120, [10, 200, 30]);
        let c = with_caption(&f, "episode 1  step 0").unwrap();
        let strip = c.height - f.height;
        assert!(strip >= 12, "{strip}");
        assert_eq!(c.width, f.width);
        assert_eq!(&c.data[strip * c.width * 3..], &f.data[..]);
        let strip_pixels = &c.data[..strip * c.width * 3];
        assert!(
            strip_pixels.chunks_exact(3).any(|p| p[0] < 100),
            "no text drawn"
        );
        assert_eq!(c.pixel(0, 0), [255, 255, 255]);
        // A longer caption on the same frame, in a smaller font, keeps the strip's height.
        let longer = with_caption(&f, "episode 1  step 120  return -130.2").unwrap();
        assert_eq!(longer.height, c.height);
    }
}
