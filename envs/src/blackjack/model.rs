//! The exact model of Blackjack: hitting's card probabilities, the dealer's play folded into
//! the outcome of sticking, and the distribution of the deal — all on the infinite deck.

use crate::{Model, Transition};

use super::BlackjackConfig;
use super::hand::{BlackjackObs, DEALER_STANDS_ON, DECK, Hand, Round, stick_reward};

/// The most cards the dealer takes after the face-up card: six aces make a soft 16, a card
/// of 6–10 a hard 12–16, and five more aces 17 — eleven cards after the first.
const MAX_DEALER_DRAWS: u32 = 11;

/// The distribution of the dealer's final hand given the face-up card, with the face-down
/// card and every later card drawn from the infinite deck (the dealer stands on 17 or more,
/// a soft 17 included).
///
/// The probabilities are exact: each is a whole number of the `13^11` equally likely card
/// sequences, divided once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DealerOutcomes {
    /// The probability of going over 21.
    pub bust: f64,
    /// The probabilities of ending on 17, 18, 19, 20 and 21 without a natural.
    pub totals: [f64; 5],
    /// The probability of a natural: the face-down card completes an ace and a ten.
    pub natural: f64,
}

impl DealerOutcomes {
    /// The outcomes when the dealer shows `card` (1–10).
    ///
    /// # Panics
    /// If `card` is not 1–10.
    pub fn showing(card: u8) -> DealerOutcomes {
        let counts = dealer_counts(card);
        let p = |i: usize| counts[i].1 as f64 / SEQUENCES as f64;
        DealerOutcomes {
            bust: p(0),
            totals: [p(1), p(2), p(3), p(4), p(5)],
            natural: p(6),
        }
    }
}

/// `13^MAX_DEALER_DRAWS`: every probability of the dealer's play is a whole number of these.
const SEQUENCES: u64 = 13u64.pow(MAX_DEALER_DRAWS);

/// The dealer's final hands, one representative per outcome (bust, 17, 18, 19, 20, 21, a
/// natural), each with its number of the [`SEQUENCES`] equally likely card sequences.
fn dealer_counts(showing: u8) -> [(Hand, u64); 7] {
    assert!(
        (1..=10).contains(&showing),
        "the dealer shows 1–10, not {showing}"
    );
    let mut out = [
        (Hand::of(&[10, 10, 10]), 0),
        (Hand::of(&[10, 7]), 0),
        (Hand::of(&[10, 8]), 0),
        (Hand::of(&[10, 9]), 0),
        (Hand::of(&[10, 10]), 0),
        (Hand::of(&[10, 9, 2]), 0),
        (Hand::of(&[1, 10]), 0),
    ];
    play_dealer(Hand::of(&[showing]), 0, 1, &mut out);
    out
}

/// Adds every way the dealer's `hand`, after `draws` draws that happen in `weight` of the
/// `13^draws` sequences, can end.
fn play_dealer(hand: Hand, draws: u32, weight: u64, out: &mut [(Hand, u64); 7]) {
    if hand.len() >= 2 && hand.total() >= DEALER_STANDS_ON {
        let slot = match (hand.is_bust(), hand.is_natural()) {
            (true, _) => 0,
            (false, true) => 6,
            (false, false) => (hand.total() - 16) as usize,
        };
        out[slot].1 += weight * 13u64.pow(MAX_DEALER_DRAWS - draws);
        return;
    }
    assert!(
        draws < MAX_DEALER_DRAWS,
        "the dealer drew more than 11 cards"
    );
    for (card, count) in card_counts() {
        let mut next = hand;
        next.add(card);
        play_dealer(next, draws + 1, weight * count, out);
    }
}

/// Each card value with the number of the deck's 13 ranks that have it.
fn card_counts() -> impl Iterator<Item = (u8, u64)> {
    (1..=10u8).map(|v| (v, DECK.iter().filter(|&&c| c == v).count() as u64))
}

/// Blackjack's exact model: one state per [`BlackjackObs`] index, actions 0 (stick) and 1
/// (hit).
///
/// | states | stick | hit |
/// |---|---|---|
/// | playable ([`BlackjackObs::is_playable`]): hard 4–21, soft 12–21, naturals | terminates in the same state, with the reward of each way the dealer's hand can end, grouped by reward | one entry per card value (1/13 each, 4/13 for a ten): the next state, 0; or a bust, −1, terminating |
/// | busts, hard 22–31 ([`BlackjackObs::is_bust`]) | terminal: stays, 0 | the same |
/// | no hand shows them (a sum below 4, a dealer's card 0, a soft sum outside 12–21) | terminal: stays, 0 | the same |
///
/// Sticking leaves the observation as it was, so the stick entries lead back to their own
/// state, marked `terminated`. Busts and the states no hand shows are terminal
/// ([`Model::is_terminal`]), so dynamic programming leaves them at 0 and no exploring start
/// begins there. The start distribution is that of the deal, over hard 4–20, soft 12–20 and
/// the naturals.
#[derive(Clone, Debug)]
pub struct BlackjackModel {
    entries: Vec<Transition>,
    /// The entries of `(s, a)` are `entries[offsets[2s + a]..offsets[2s + a + 1]]`.
    offsets: Vec<usize>,
    starts: Vec<(usize, f64)>,
    terminal: Vec<bool>,
}

impl BlackjackModel {
    /// The model under `config`'s rules.
    pub fn new(config: &BlackjackConfig) -> BlackjackModel {
        let dealer: Vec<[(Hand, u64); 7]> = (1..=10).map(dealer_counts).collect();
        let n = BlackjackObs::COUNT;
        let mut entries = Vec::new();
        let mut offsets = Vec::with_capacity(2 * n + 1);
        let mut terminal = Vec::with_capacity(n);
        offsets.push(0);
        for s in 0..n {
            let obs = BlackjackObs::from_index(s).expect("every index below COUNT decodes");
            let playing = obs.is_playable().then(|| obs.hand()).flatten();
            terminal.push(playing.is_none());
            let Some(player) = playing else {
                for _ in 0..2 {
                    entries.push(Transition {
                        prob: 1.0,
                        next_state: s,
                        reward: 0.0,
                        terminated: true,
                    });
                    offsets.push(entries.len());
                }
                continue;
            };
            // Stick: the dealer's outcomes, grouped by reward in increasing order.
            let outcomes = &dealer[obs.dealer_card as usize - 1];
            let mut by_reward: Vec<(f64, u64)> = Vec::with_capacity(4);
            for &(hand, count) in outcomes.iter().filter(|&&(_, c)| c > 0) {
                let r = stick_reward(&player, &hand, config);
                match by_reward.iter_mut().find(|(q, _)| *q == r) {
                    Some((_, c)) => *c += count,
                    None => by_reward.push((r, count)),
                }
            }
            by_reward.sort_by(|a, b| a.0.total_cmp(&b.0));
            entries.extend(by_reward.iter().map(|&(reward, count)| Transition {
                prob: count as f64 / SEQUENCES as f64,
                next_state: s,
                reward,
                terminated: true,
            }));
            offsets.push(entries.len());
            // Hit: one entry per card value.
            for (card, count) in card_counts() {
                let mut round = Round {
                    player,
                    showing: obs.dealer_card,
                    ..Round::default()
                };
                let (reward, terminated) = round.hit(|| card);
                entries.push(Transition {
                    prob: count as f64 / DECK.len() as f64,
                    next_state: round.observation().index(),
                    reward,
                    terminated,
                });
            }
            offsets.push(entries.len());
        }

        // The deal: every face-up card, face-down card and pair of player's cards is one of
        // 13^4 equally likely sequences; the face-down card does not show.
        let mut counts = vec![0u64; n];
        for &a in &DECK {
            for &b in &DECK {
                for &c in &DECK {
                    for &d in &DECK {
                        let mut cards = [a, b, c, d].into_iter();
                        let round = Round::deal(|| cards.next().expect("four cards"));
                        counts[round.observation().index()] += 1;
                    }
                }
            }
        }
        let deals = DECK.len().pow(4) as f64;
        let starts = (0..n)
            .filter(|&s| counts[s] > 0)
            .map(|s| (s, counts[s] as f64 / deals))
            .collect();
        BlackjackModel {
            entries,
            offsets,
            starts,
            terminal,
        }
    }
}

impl Model for BlackjackModel {
    fn n_states(&self) -> usize {
        BlackjackObs::COUNT
    }

    fn n_actions(&self) -> usize {
        2
    }

    /// # Panics
    /// If `state ≥ BlackjackObs::COUNT` or `action ≥ 2`.
    fn transitions(&self, state: usize, action: usize) -> &[Transition] {
        assert!(action < 2, "action {action} is outside 0..2");
        let k = 2 * state + action;
        &self.entries[self.offsets[k]..self.offsets[k + 1]]
    }

    fn initial_states(&self) -> &[(usize, f64)] {
        &self.starts
    }

    fn is_terminal(&self, state: usize) -> bool {
        self.terminal[state]
    }
}
