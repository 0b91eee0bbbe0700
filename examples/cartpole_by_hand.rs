//! Drive CartPole by hand: a hand-written controller pushes the cart toward the side the pole
//! is falling to, and we watch the episode through the `Env` API.
//!
//! Run: `cargo run --example cartpole_by_hand`

use qlab_envs::Env;
use qlab_envs::cartpole::{CartPole, CartPoleConfig};
use qlab_envs::wrappers::TimeLimit;

fn main() -> qlab_envs::Result<()> {
    let config = CartPoleConfig::default();
    let limit = config.max_episode_steps;
    let mut env = TimeLimit::new(CartPole::new(config), limit);

    let mut obs = env.reset(Some(0)).obs;
    let mut total = 0.0;
    for t in 1.. {
        // obs = [x, x_dot, theta, theta_dot]: push right (1) when the pole leans or turns right.
        let [x, x_dot, theta, theta_dot] = obs;
        let lean = theta + 0.5 * theta_dot + 0.01 * x + 0.05 * x_dot;
        let action = usize::from(lean > 0.0);
        let step = env.step(action)?;
        total += step.reward;
        obs = step.obs;
        if t % 100 == 0 || step.done() {
            println!("t={t:3} {}", env.render_ansi());
        }
        if step.done() {
            println!(
                "episode over after {t} steps, return {total}: {}",
                if step.terminated {
                    "the pole fell or the cart left the track"
                } else {
                    "time limit reached"
                }
            );
            break;
        }
    }
    Ok(())
}
