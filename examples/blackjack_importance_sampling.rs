//! Sutton & Barto's Example 5.4 and Figure 5.3: ordinary against weighted importance
//! sampling, estimating the value of one Blackjack-v1 state (a usable ace, a sum of 13, the
//! dealer showing a 2) under the target policy "stick on 20 or 21, else hit" from episodes of
//! the uniformly random behaviour policy.
//!
//! Run: `cargo run --release --example blackjack_importance_sampling -- [RUNS] [EPISODES] [OUT]`
//!
//! Defaults: 100 runs of 10,000 episodes, as the book. Prints, at episodes 1, 2, 5, 10, …,
//! the mean squared error over the runs of each estimate against the exact value (dynamic
//! programming on the model), as CSV `episodes,ordinary_mse,weighted_mse`; with `OUT`
//! (`.png` or `.svg`) also draws both curves over log10(episodes) for every episode. Run `r`
//! seeds the env with `r` and the behaviour with `1000 + r`.

use std::path::PathBuf;

use qlab::plot::chart::{ChartStyle, draw_curves};
use qlab::plot::curve::Curve;
use qlab_agents::dp::{self, DpConfig};
use qlab_agents::tabular::{ImportanceSamplingEstimate, off_policy_episode};
use qlab_envs::blackjack::{Blackjack, BlackjackConfig, BlackjackObs};
use qlab_envs::{Env, EnvRng};

/// The target policy: stick (0) on 20 or 21, else hit (1); `π(a|s)`.
fn stick_on_20(s: usize, a: usize) -> f64 {
    let sum = BlackjackObs::from_index(s).map_or(0, |o| o.player_sum);
    f64::from(u8::from(a == usize::from(sum < 20)))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: u64 = args.first().map_or(Ok(100), |a| a.parse())?;
    let episodes: usize = args.get(1).map_or(Ok(10_000), |a| a.parse())?;
    let out = args.get(2).map(PathBuf::from);

    let state = BlackjackObs {
        player_sum: 13,
        dealer_card: 2,
        usable_ace: true,
        natural: false,
    }
    .index();
    let mut env = Blackjack::new(BlackjackConfig::default());
    let model = env.model().ok_or("Blackjack-v1 has a model")?;
    let actions: Vec<usize> = (0..model.n_states())
        .map(|s| usize::from(stick_on_20(s, 1) == 1.0))
        .collect();
    let policy = dp::deterministic_policy(model, &actions)?;
    let exact = dp::evaluate_policy(model, &policy, &DpConfig::default())?.values[state];
    eprintln!("exact value {exact}");

    let (mut ordinary, mut weighted) = (vec![0.0; episodes], vec![0.0; episodes]);
    for r in 0..runs {
        let mut rng = EnvRng::new(1000 + r);
        let mut v = ImportanceSamplingEstimate::default();
        for e in 0..episodes {
            let seed = (e == 0).then_some(r);
            let (rho, g) =
                off_policy_episode(&mut env, state, stick_on_20, 1.0, seed, &mut rng, 30)?;
            v.add(rho, g);
            ordinary[e] += (v.ordinary() - exact).powi(2) / runs as f64;
            weighted[e] += (v.weighted() - exact).powi(2) / runs as f64;
        }
    }

    println!("episodes,ordinary_mse,weighted_mse");
    let mut mark = 1;
    while mark <= episodes {
        println!("{mark},{},{}", ordinary[mark - 1], weighted[mark - 1]);
        mark = match mark.to_string().as_bytes()[0] {
            b'1' => mark * 2,
            b'2' => mark / 2 * 5,
            _ => mark * 2,
        };
    }
    if let Some(out) = out {
        let x: Vec<f64> = (1..=episodes).map(|e| (e as f64).log10()).collect();
        let line = |label: &str, y: &[f64]| Curve {
            label: label.into(),
            x: x.clone(),
            mean: y.to_vec(),
            lower: y.to_vec(),
            upper: y.to_vec(),
            count: vec![runs as usize; y.len()],
        };
        let style = ChartStyle {
            title: format!(
                "Blackjack-v1, Figure 5.3: mean squared error over {runs} runs, \
                 state (usable ace, 13, dealer 2)"
            ),
            x_label: "log10(episodes)".into(),
            y_label: "mean squared error".into(),
            y_range: Some((0.0, 5.0)),
            ..ChartStyle::default()
        };
        draw_curves(
            &[
                line("ordinary importance sampling", &ordinary),
                line("weighted importance sampling", &weighted),
            ],
            &style,
            &out,
        )?;
    }
    Ok(())
}
