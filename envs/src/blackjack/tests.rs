use rand::SeedableRng;

use super::*;
use crate::ParamValue;

// The reference files are written by `tools/gen_blackjack_reference.py` with gymnasium 1.4.0:
// episodes of `gymnasium.make("Blackjack-v1", ...)` on forced card sequences (its module's
// `draw_card` replaced by one taking the next card of a list), exact values computed there in
// rational arithmetic from Gymnasium's own scoring and rewards, and Monte Carlo means of its
// env with its own random cards.
const FORCED: &str = include_str!("../../tests/data/blackjack_forced.csv");
const VALUES: &str = include_str!("../../tests/data/blackjack_values.csv");
const SUMMARY: &str = include_str!("../../tests/data/blackjack_summary.csv");

fn rules(name: &str) -> BlackjackConfig {
    let (sab, natural) = match name {
        "sab" => (true, false),
        "natural" => (false, true),
        "plain" => (false, false),
        "sab_natural" => (true, true),
        _ => panic!("unknown rules {name}"),
    };
    BlackjackConfig { natural, sab }
}

/// The data rows of a reference CSV, split on commas.
fn rows(text: &str) -> Vec<Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect()
}

/// The values of a deterministic `policy` (`None`: the best action) on the model, and the
/// action values behind them, `q[2s + a]`. Play only moves to larger totals, so 25 sweeps
/// reach the fixed point.
fn solve(
    model: &dyn Model,
    policy: impl Fn(BlackjackObs) -> Option<usize>,
) -> (Vec<f64>, Vec<f64>) {
    let n = model.n_states();
    let (mut v, mut q) = (vec![0.0; n], vec![0.0; 2 * n]);
    for _ in 0..25 {
        for s in (0..n).filter(|&s| !model.is_terminal(s)) {
            for a in 0..2 {
                q[2 * s + a] = model
                    .transitions(s, a)
                    .iter()
                    .map(|t| t.prob * (t.reward + if t.terminated { 0.0 } else { v[t.next_state] }))
                    .sum();
            }
            let obs = BlackjackObs::from_index(s).unwrap();
            v[s] = match policy(obs) {
                Some(a) => q[2 * s + a],
                None => q[2 * s].max(q[2 * s + 1]),
            };
        }
    }
    (v, q)
}

fn start_value(model: &dyn Model, v: &[f64]) -> f64 {
    model.initial_states().iter().map(|&(s, p)| p * v[s]).sum()
}

fn stick20(obs: BlackjackObs) -> Option<usize> {
    Some(usize::from(obs.player_sum < 20))
}

/// Each forced episode replays card for card: the same observations (Gymnasium's tuple),
/// rewards and flags, and the same number of cards drawn.
#[test]
fn matches_gymnasium_on_forced_decks() {
    let rows = rows(FORCED);
    let mut episodes = 0;
    let mut i = 0;
    while i < rows.len() {
        let head = &rows[i];
        let (config, episode) = (rules(head[0]), head[1]);
        let deck: Vec<u8> = head[3].split(' ').map(|c| c.parse().unwrap()).collect();
        let mut cards = deck.iter().copied();
        let mut draw = || {
            cards
                .next()
                .expect("Gymnasium drew no more cards than this")
        };
        let mut round = Round::deal(&mut draw);
        let tuple = |r: &[&str]| -> (u8, u8, u8) {
            (
                r[5].parse().unwrap(),
                r[6].parse().unwrap(),
                r[7].parse().unwrap(),
            )
        };
        let dealt_natural = Hand::of(&deck[2..4]).is_natural();
        let obs = round.observation();
        assert_eq!(obs.tuple(), tuple(head), "episode {episode} reset");
        assert_eq!(obs.natural, dealt_natural, "episode {episode} reset");
        let mut hit = false;
        i += 1;
        while i < rows.len() && rows[i][1] == episode {
            let r = &rows[i];
            let (reward, terminated) = match r[4] {
                "1" => {
                    hit = true;
                    round.hit(&mut draw)
                }
                "0" => (round.stick(&mut draw, &config), true),
                a => panic!("action {a}"),
            };
            let obs = round.observation();
            let t = r[2];
            assert_eq!(obs.tuple(), tuple(r), "episode {episode} step {t}");
            assert_eq!(
                obs.natural,
                dealt_natural && !hit,
                "episode {episode} step {t}"
            );
            assert_eq!(
                reward,
                r[8].parse::<f64>().unwrap(),
                "episode {episode} step {t}"
            );
            assert_eq!(terminated, r[9] == "1", "episode {episode} step {t}");
            assert_eq!(r[10], "0", "no time limit: never truncated");
            // The index decodes to the same observation.
            assert_eq!(BlackjackObs::from_index(obs.index()), Some(obs));
            i += 1;
        }
        assert!(
            cards.next().is_none(),
            "episode {episode}: qlab drew fewer cards"
        );
        episodes += 1;
    }
    assert_eq!(episodes, 4 * (17 + 60));
}

/// Every action value of every state a player decides in equals the exact rational one
/// computed from Gymnasium's rules, as do the optimal values and those of "stick on 20".
#[test]
fn model_values_equal_the_exact_reference() {
    let mut checked = 0;
    for name in ["sab", "natural", "plain"] {
        let model = BlackjackModel::new(&rules(name));
        let (v_star, q) = solve(&model, |_| None);
        let (v_20, _) = solve(&model, stick20);
        let mut decided = 0;
        for r in rows(VALUES).iter().filter(|r| r[0] == name) {
            let obs = BlackjackObs {
                player_sum: r[1].parse().unwrap(),
                dealer_card: r[2].parse().unwrap(),
                usable_ace: r[3] == "1",
                natural: r[4] == "1",
            };
            let s = obs.index();
            let want: Vec<f64> = r[5..9].iter().map(|x| x.parse().unwrap()).collect();
            let got = [q[2 * s], q[2 * s + 1], v_star[s], v_20[s]];
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-14, "{name} {obs:?}: {got:?} vs {want:?}");
            }
            decided += 1;
        }
        // Every state a player decides in: hard 4–21, soft 12–21 and a natural, for each of
        // the dealer's ten cards.
        assert_eq!(decided, 10 * (18 + 10 + 1), "{name}");
        checked += decided;
    }
    assert_eq!(checked, 870);
}

fn summary(rules: &str, quantity: &str) -> (f64, f64) {
    let r = rows(SUMMARY)
        .into_iter()
        .find(|r| r[0] == rules && r[1] == quantity)
        .unwrap_or_else(|| panic!("no {rules} {quantity}"));
    (r[3].parse().unwrap(), r[4].parse().unwrap())
}

/// The values over the deal equal the exact ones, and lie within three standard errors of
/// Gymnasium's Monte Carlo means (a million episodes each).
#[test]
fn deal_values_match_exact_and_monte_carlo_references() {
    for name in ["sab", "natural", "plain"] {
        let model = BlackjackModel::new(&rules(name));
        let optimal = start_value(&model, &solve(&model, |_| None).0);
        let stick = start_value(&model, &solve(&model, stick20).0);
        assert!(
            (optimal - summary(name, "optimal").0).abs() < 1e-14,
            "{name}"
        );
        assert!((stick - summary(name, "stick20").0).abs() < 1e-14, "{name}");
        let (mean, se) = summary(name, "mc_stick20");
        assert!(
            (stick - mean).abs() < 3.0 * se,
            "{name}: {stick} vs {mean} ± {se}"
        );
        if name == "sab" {
            let (mean, se) = summary(name, "mc_optimal");
            assert!(
                (optimal - mean).abs() < 3.0 * se,
                "{optimal} vs {mean} ± {se}"
            );
        }
    }
}

/// Sutton & Barto's rules (the default): the best a player can do over the deal is to lose
/// 0.0431 a game (the exact reference value; Gymnasium's env averaged −0.0411 ± 0.0010 over a
/// million games of that policy).
#[test]
fn the_optimal_value_under_sutton_and_barto_rules() {
    let model = BlackjackModel::new(&BlackjackConfig::default());
    let v = start_value(&model, &solve(&model, |_| None).0);
    assert!((v - -0.043113105413477015).abs() < 1e-15, "{v}");
}

/// qlab's own env, its cards drawn by its RNG, agrees with the model it hands out.
#[test]
fn the_env_plays_as_its_model_says() {
    let mut env = Blackjack::new(BlackjackConfig::default());
    let want = start_value(
        env.model().unwrap(),
        &solve(env.model().unwrap(), stick20).0,
    );
    let n = 200_000;
    let (mut sum, mut sum_sq) = (0.0, 0.0);
    env.reset(Some(5));
    for _ in 0..n {
        let mut obs = env.reset(None).obs;
        let mut ret = 0.0;
        loop {
            let a = stick20(BlackjackObs::from_index(obs).unwrap()).unwrap();
            let step = env.step(a).unwrap();
            ret += step.reward;
            obs = step.obs;
            if step.terminated {
                break;
            }
        }
        sum += ret;
        sum_sq += ret * ret;
    }
    let mean = sum / n as f64;
    let se = ((sum_sq / n as f64 - mean * mean) / n as f64).sqrt();
    assert!((mean - want).abs() < 3.0 * se, "{mean} ± {se} vs {want}");
}

#[test]
fn draw_card_deals_each_rank_evenly() {
    let mut rng = EnvRng::seed_from_u64(1);
    let n = 130_000;
    let mut counts = [0usize; 11];
    for _ in 0..n {
        counts[draw_card(&mut rng) as usize] += 1;
    }
    assert_eq!(counts[0], 0);
    for (v, &c) in counts.iter().enumerate().skip(1) {
        let p = if v == 10 { 4.0 / 13.0 } else { 1.0 / 13.0 };
        let sd = (n as f64 * p * (1.0 - p)).sqrt();
        assert!((c as f64 - n as f64 * p).abs() < 4.0 * sd, "{v}: {c}");
    }
}

#[test]
fn the_model_is_a_distribution_everywhere() {
    let model = BlackjackModel::new(&BlackjackConfig::default());
    assert_eq!((model.n_states(), model.n_actions()), (714, 2));
    for s in 0..714 {
        for a in 0..2 {
            let total: f64 = model.transitions(s, a).iter().map(|t| t.prob).sum();
            assert!((total - 1.0).abs() < 1e-15, "({s}, {a}): {total}");
        }
        let obs = BlackjackObs::from_index(s).unwrap();
        assert_eq!(model.is_terminal(s), !obs.is_playable(), "{obs:?}");
    }
    let starts = model.initial_states();
    assert!((starts.iter().map(|&(_, p)| p).sum::<f64>() - 1.0).abs() < 1e-15);
    // A natural is dealt in 2 · 1/13 · 4/13 of deals.
    let naturals: f64 = starts
        .iter()
        .filter(|&&(s, _)| s >= 704)
        .map(|&(_, p)| p)
        .sum();
    assert!((naturals - 8.0 / 169.0).abs() < 1e-15);
    // The deal never starts on a 21 that is not a natural, nor below 4.
    for &(s, _) in starts {
        let o = BlackjackObs::from_index(s).unwrap();
        assert!(o.natural || (4..=20).contains(&o.player_sum), "{o:?}");
    }
}

#[test]
fn the_dealer_completes_a_natural_only_from_an_ace_or_a_ten() {
    for card in 1..=10 {
        let d = DealerOutcomes::showing(card);
        let total = d.bust + d.totals.iter().sum::<f64>() + d.natural;
        assert!((total - 1.0).abs() < 1e-15, "{card}");
        let natural = match card {
            1 => 4.0 / 13.0,
            10 => 1.0 / 13.0,
            _ => 0.0,
        };
        assert_eq!(d.natural, natural);
    }
    // Showing a 6 the dealer busts most often, showing an ace least (no peeking).
    let bust = |c| DealerOutcomes::showing(c).bust;
    assert!((2..=10).filter(|&c| c != 6).all(|c| bust(c) < bust(6)));
    assert!((2..=10).all(|c| bust(1) < bust(c)));
}

#[test]
fn observations_round_trip_through_their_index() {
    for i in 0..BlackjackObs::COUNT {
        let obs = BlackjackObs::from_index(i).unwrap();
        assert_eq!(obs.index(), i);
    }
    assert_eq!(BlackjackObs::from_index(714), None);
    let natural = BlackjackObs::from_index(704 + 9).unwrap();
    assert_eq!(natural.tuple(), (21, 10, 1));
    assert_eq!(
        BlackjackObs::from_index(13 * 22 + 7 * 2 + 1)
            .unwrap()
            .tuple(),
        (13, 7, 1)
    );
    // Every playable or bust observation has a hand that shows it.
    for i in 0..BlackjackObs::COUNT {
        let obs = BlackjackObs::from_index(i).unwrap();
        if let Some(hand) = obs.hand() {
            let round = Round {
                player: hand,
                showing: obs.dealer_card,
                ..Round::default()
            };
            assert_eq!(round.observation(), obs);
        }
    }
}

#[test]
fn hands_count_aces_as_gymnasium_does() {
    let h = Hand::of(&[1, 6]);
    assert!(h.usable_ace() && h.total() == 17 && !h.is_natural());
    let h = Hand::of(&[1, 6, 10]);
    assert!(!h.usable_ace() && h.total() == 17);
    assert!(Hand::of(&[10, 1]).is_natural());
    assert!(!Hand::of(&[1, 5, 5]).is_natural());
    assert_eq!(Hand::of(&[10, 10, 5]).score(), 0);
    // A natural beats a dealer's three-card 21 under sab, draws it otherwise.
    let (nat, three) = (Hand::of(&[1, 10]), Hand::of(&[10, 9, 2]));
    assert_eq!(stick_reward(&nat, &three, &rules("sab")), 1.0);
    assert_eq!(stick_reward(&nat, &three, &rules("natural")), 0.0);
    assert_eq!(
        stick_reward(&nat, &Hand::of(&[10, 8]), &rules("natural")),
        1.5
    );
    assert_eq!(
        stick_reward(&nat, &Hand::of(&[10, 8]), &rules("sab_natural")),
        1.0
    );
    assert_eq!(stick_reward(&nat, &nat, &rules("sab")), 0.0);
}

#[test]
fn set_state_takes_an_index_or_gymnasiums_tuple() {
    let mut env = Blackjack::new(BlackjackConfig::default());
    let e = env.set_state(&[100.0]).unwrap_err().to_string();
    assert!(e.contains("after a reset"), "{e}");
    env.reset(Some(3));
    let hidden = env.round().hidden;
    let model = BlackjackModel::new(&BlackjackConfig::default());
    for s in 0..BlackjackObs::COUNT {
        let obs = BlackjackObs::from_index(s).unwrap();
        match env.set_state(&[s as f64]) {
            Ok(got) => {
                assert_eq!(got, s);
                assert!(obs.is_playable() || obs.is_bust());
                assert_eq!(env.round().hidden, hidden);
                let ended = env.step(0);
                assert_eq!(ended.is_err(), model.is_terminal(s), "{obs:?}");
            }
            Err(e) => {
                assert!(!obs.is_playable() && !obs.is_bust(), "{obs:?}: {e}");
                assert!(
                    e.to_string()
                        .starts_with("invalid state: Blackjack-v1 takes"),
                    "{e}"
                );
            }
        }
    }
    // The tuple (21, 10, 1) is a soft 21 that is not a natural.
    let s = env.set_state(&[21.0, 10.0, 1.0]).unwrap();
    assert_eq!(BlackjackObs::from_index(s).unwrap().tuple(), (21, 10, 1));
    assert!(s < 704);
    for bad in [
        vec![],
        vec![1.5],
        vec![f64::NAN],
        vec![1e300],
        vec![-1.0],
        vec![21.0, 11.0, 0.0],
        vec![11.0, 5.0, 1.0],
        vec![3.0, 5.0, 0.0],
        vec![12.0, 5.0, 2.0],
        vec![1.0, 2.0],
    ] {
        let e = env.set_state(&bad).unwrap_err().to_string();
        assert!(e.contains(&format!("{bad:?}")), "{e}");
    }
}

#[test]
fn stepping_follows_the_episode_cycle() {
    let mut env = Blackjack::new(BlackjackConfig::default());
    assert!(matches!(env.step(0), Err(Error::NotReset)));
    env.reset(Some(0));
    assert!(matches!(env.step(2), Err(Error::InvalidAction { .. })));
    assert!(env.render_ansi().contains("face-down"));
    let step = env.step(0).unwrap();
    assert!(step.terminated && !step.truncated);
    assert!(env.render_ansi().contains("->"), "{}", env.render_ansi());
    assert!(matches!(env.step(0), Err(Error::EpisodeEnded)));
    let frame = env.render_rgb();
    assert_eq!(frame.data.len(), frame.height * frame.width * 3);
}

#[test]
fn parameters_are_booleans_named_natural_and_sab() {
    let mut c = BlackjackConfig::default();
    assert!(c.sab && !c.natural);
    let p = Params::new()
        .with("sab", ParamValue::Bool(false))
        .with("natural", ParamValue::Bool(true));
    c.apply_params(BLACKJACK_ID, &p).unwrap();
    assert_eq!(c, rules("natural"));
    let e = c
        .apply_params(BLACKJACK_ID, &Params::new().with("sab", ParamValue::Int(1)))
        .unwrap_err()
        .to_string();
    assert_eq!(e, "invalid value 1 for `sab`: expected a boolean");
    let e = c
        .apply_params(
            BLACKJACK_ID,
            &Params::new().with("decks", ParamValue::Int(1)),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("`decks`") && e.contains("natural, sab"), "{e}");
}
