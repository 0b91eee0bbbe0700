//! Implement qlab's `Env` trait for your own environment, check it with the conformance
//! checker, and play it with the same loop that plays any qlab env.
//!
//! Run: `cargo run --example custom_env`

use qlab_envs::wrappers::{EpisodeStats, TimeLimit};
use qlab_envs::{
    Env, EnvRng, Error, Frame, Info, Reset, Result, Space, Step, check_discrete_action, check_env,
};
use rand::SeedableRng;

/// A corridor of `len` cells. The agent starts in the middle; action 0 moves left, 1 right.
/// The right end pays +1 and ends the episode; each move costs 0.01. A gust of wind pushes the
/// agent back one cell with probability `gust`, so the env needs its RNG.
struct Corridor {
    len: usize,
    gust: f64,
    pos: usize,
    rng: EnvRng,
    obs_space: Space,
    act_space: Space,
    /// `None` before the first reset; `Some(true)` once an episode has ended.
    ended: Option<bool>,
}

impl Corridor {
    fn new(len: usize, gust: f64) -> Self {
        Self {
            len,
            gust,
            pos: len / 2,
            rng: EnvRng::from_os_entropy(),
            obs_space: Space::discrete(len),
            act_space: Space::discrete(2),
            ended: None,
        }
    }
}

impl Env for Corridor {
    type Obs = usize;
    type Action = usize;

    fn observation_space(&self) -> &Space {
        &self.obs_space
    }

    fn action_space(&self) -> &Space {
        &self.act_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Reset<usize> {
        if let Some(seed) = seed {
            self.rng = EnvRng::seed_from_u64(seed);
        }
        self.pos = self.len / 2;
        self.ended = Some(false);
        Reset {
            obs: self.pos,
            info: Info::default(),
        }
    }

    fn step(&mut self, action: usize) -> Result<Step<usize>> {
        // Validate before touching any state, so a bad action changes nothing.
        check_discrete_action(action, &self.act_space)?;
        match self.ended {
            None => return Err(Error::NotReset),
            Some(true) => return Err(Error::EpisodeEnded),
            Some(false) => {}
        }
        let mut pos = if action == 1 {
            self.pos + 1
        } else {
            self.pos.saturating_sub(1)
        };
        if self.rng.next_f64() < self.gust {
            pos = pos.saturating_sub(1);
        }
        self.pos = pos.min(self.len - 1);
        let terminated = self.pos == self.len - 1;
        self.ended = Some(terminated);
        Ok(Step {
            obs: self.pos,
            reward: if terminated { 1.0 } else { -0.01 },
            terminated,
            truncated: false,
            info: Info::default(),
        })
    }

    fn render_ansi(&self) -> String {
        (0..self.len)
            .map(|i| if i == self.pos { 'A' } else { '.' })
            .collect()
    }

    fn render_rgb(&self) -> Frame {
        let mut frame = Frame::filled(16, 16 * self.len, [230, 230, 230]);
        let x = 16 * self.pos as i64;
        frame.fill_rect(2, x + 2, 14, x + 14, [200, 40, 40]);
        frame
    }

    fn name(&self) -> String {
        format!("Corridor({})", self.len)
    }
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    // The checker plays seeded episodes and fails on the first broken rule of the contract.
    check_env(|| TimeLimit::new(Corridor::new(9, 0.2), 50), 0, 100)?;

    // Wrappers compose with your env like with the built-in ones.
    let mut env = EpisodeStats::new(TimeLimit::new(Corridor::new(9, 0.2), 50));
    env.reset(Some(42));
    println!("{}", env.render_ansi());
    loop {
        let step = env.step(1)?;
        println!("{}", env.render_ansi());
        if let Some(episode) = step.info.episode {
            println!(
                "return {:.2} in {} steps ({})",
                episode.ret,
                episode.length,
                if episode.terminated {
                    "terminated"
                } else {
                    "truncated"
                }
            );
            break;
        }
    }
    Ok(())
}
