//! Blackjack (Gymnasium's `Blackjack-v1`, Sutton & Barto's Example 5.1), with its exact model.
//!
//! - [`Blackjack`]: the env; [`BlackjackConfig`]: its rules (`natural`, `sab`).
//! - [`BlackjackObs`]: the observation and its state index.
//! - [`BlackjackModel`]: the exact model dynamic programming solves; [`DealerOutcomes`]: the
//!   dealer's play from a face-up card.
//! - [`Hand`], [`Round`], [`draw_card`], [`stick_reward`]: the game itself, with the cards
//!   coming from a closure, so it can be played with a fixed deck.

mod hand;
mod model;
mod render;

pub use hand::{BlackjackObs, DEALER_STANDS_ON, DECK, Hand, Round, draw_card, stick_reward};
pub use model::{BlackjackModel, DealerOutcomes};

use rand::SeedableRng;

use crate::{
    Env, EnvRng, Error, Frame, Info, Model, Params, Reset, Result, Space, Step,
    check_discrete_action,
};

/// The registry id.
pub const BLACKJACK_ID: &str = "Blackjack-v1";

/// The parameter keys [`BlackjackConfig::apply_params`] takes.
pub const ALLOWED_PARAMS: &[&str] = &["natural", "sab"];

/// The policy that sticks (action 0) on a player sum of `stick_at` or more and hits (action 1)
/// below it, as one action per state index ([`BlackjackObs::index`]; states no hand shows
/// stick). `stick_policy(20)` is Sutton & Barto's policy of Example 5.1, evaluated in
/// Figure 5.1 and Example 5.4.
///
/// ```
/// use qlab_envs::blackjack::{BlackjackObs, stick_policy};
/// let policy = stick_policy(20);
/// let obs = |player_sum| BlackjackObs { player_sum, dealer_card: 2, usable_ace: true, natural: false };
/// assert_eq!((policy[obs(19).index()], policy[obs(20).index()]), (1, 0));
/// assert_eq!(policy.len(), BlackjackObs::COUNT);
/// ```
pub fn stick_policy(stick_at: u8) -> Vec<usize> {
    (0..BlackjackObs::COUNT)
        .map(|s| match BlackjackObs::from_index(s) {
            Some(o) if !o.natural && o.player_sum < stick_at => 1,
            _ => 0,
        })
        .collect()
}

/// The rules of a [`Blackjack`] table.
///
/// | field | default | meaning |
/// |---|---|---|
/// | `sab` | `true` | Sutton & Barto's rules: a natural wins +1 unless the dealer has one too (a draw); `natural` is then ignored |
/// | `natural` | `false` | without `sab`: a natural that wins pays 1.5 |
///
/// The defaults are those Gymnasium registers for `Blackjack-v1` (`sab=True, natural=False`;
/// its class alone defaults to `sab=False`). With neither, a natural is an ordinary 21.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct BlackjackConfig {
    /// Without `sab`, a winning natural pays 1.5 instead of 1. Default `false`.
    pub natural: bool,
    /// Sutton & Barto's rules (see the table). Default `true`.
    pub sab: bool,
}

impl Default for BlackjackConfig {
    fn default() -> Self {
        Self {
            natural: false,
            sab: true,
        }
    }
}

impl BlackjackConfig {
    /// Sets the fields named in `params` (`natural`, `sab`, booleans).
    ///
    /// # Errors
    /// [`Error::UnknownParam`] for another key, [`Error::InvalidParam`] for a value that is
    /// not a boolean.
    pub fn apply_params(&mut self, id: &str, params: &Params) -> Result<()> {
        params.check_keys(id, ALLOWED_PARAMS)?;
        if let Some(v) = params.bool("natural")? {
            self.natural = v;
        }
        if let Some(v) = params.bool("sab")? {
            self.sab = v;
        }
        Ok(())
    }
}

/// Blackjack against a dealer, on an infinite deck.
///
/// # Description
/// The dealer has one card face up and one face down; the player has two cards face up. Cards
/// come from an infinite deck ([`DECK`]: ace, 2–9 and four ten-valued ranks, drawn uniformly
/// with replacement). Number cards count their value, face cards 10, an ace 11 where that does
/// not take the total over 21 (a *usable* ace) and 1 otherwise. The player hits (takes a card)
/// until sticking or going over 21 (bust). Then the dealer turns the face-down card and draws
/// until the total is 17 or more (a soft 17 stands), and the higher total without a bust wins.
///
/// # Action space
/// `Discrete(2)`: 0 sticks, 1 hits.
///
/// # Observation space
/// `Discrete(714)`: a state index ([`BlackjackObs::index`]) of Gymnasium's tuple
/// `(player sum, dealer's card, usable ace)`, with the naturals apart:
///
/// | index | meaning | min | max |
/// |---|---|---|---|
/// | `sum · 22 + card · 2 + ace` (0–703) | the player's total (`Discrete(32)`), the dealer's face-up card (`Discrete(11)`, 1 = ace), a usable ace (`Discrete(2)`) | 4 | 31 (a bust) |
/// | `704 + card − 1` (704–713) | a natural, the dealer showing `card`: Gymnasium's `(21, card, 1)` | 704 | 713 |
///
/// [`BlackjackObs::from_index`] decodes an index, [`BlackjackObs::tuple`] gives Gymnasium's
/// tuple. While playing, the total is hard 4–21 or soft 12–21; a bust shows the hard total of
/// 22–31 it reached.
///
/// # Rewards
/// On sticking: +1 for a win, −1 for a loss, 0 for a draw. A bust is −1. Under `sab` (the
/// default) a natural wins +1 unless the dealer's first two cards are a natural too (a draw);
/// otherwise, with `natural`, a winning natural pays 1.5. Hitting without busting is 0.
///
/// # Starting state
/// The deal: the dealer's face-up card, the face-down card, then the player's two cards, each
/// from the deck. The player starts on a hard 4–20, a soft 12–20 or a natural.
///
/// # Episode end
/// - Termination: the player sticks (the observation stays as it was), or hits and busts.
/// - Truncation: never; Gymnasium registers no time limit (an episode lasts at most 21
///   steps).
///
/// # Parameters
/// [`BlackjackConfig`]: `natural` and `sab`, by name through
/// [`apply_params`](BlackjackConfig::apply_params).
///
/// # Version notes
/// - The rules, the deck, the order cards are dealt in and drawn, the rewards and the
///   termination reproduce Gymnasium 1.4.0's `Blackjack-v1`, tested step for step on the
///   same forced card sequences and against its Monte Carlo returns
///   (`tools/gen_blackjack_reference.py`). The random streams differ: the same seed does not
///   deal Gymnasium's cards.
/// - The observation separates a natural from a soft 21 reached by hitting, which Gymnasium's
///   tuple shows alike as `(21, card, 1)`. Under `sab` and `natural` the two pay differently
///   when the player sticks, so the tuple is not a Markov state; with the naturals apart
///   it is, [`Env::model`] is exact, and a table of values has one entry per state.
/// - Gymnasium's rendering (pixel art of the cards) is not reproduced: `render_rgb` draws
///   the totals as rows of blocks.
///
/// ```
/// use qlab_envs::blackjack::{Blackjack, BlackjackConfig, BlackjackObs};
/// use qlab_envs::Env;
/// # fn main() -> qlab_envs::Result<()> {
/// let mut env = Blackjack::new(BlackjackConfig::default());
/// let start = BlackjackObs::from_index(env.reset(Some(7)).obs).unwrap();
/// assert!((4..=21).contains(&start.player_sum) && (1..=10).contains(&start.dealer_card));
/// let stick = env.step(0)?;
/// assert!(stick.terminated && [-1.0, 0.0, 1.0].contains(&stick.reward));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Blackjack {
    config: BlackjackConfig,
    model: BlackjackModel,
    observation_space: Space,
    action_space: Space,
    rng: EnvRng,
    round: Round,
    phase: Phase,
}

/// Where the env is in the episode cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    NotReset,
    Running,
    Ended,
}

impl Blackjack {
    /// A table with `config`'s rules and its exact model.
    pub fn new(config: BlackjackConfig) -> Blackjack {
        Blackjack {
            model: BlackjackModel::new(&config),
            observation_space: Space::discrete(BlackjackObs::COUNT),
            action_space: Space::discrete(2),
            rng: EnvRng::from_os_entropy(),
            round: Round::default(),
            phase: Phase::NotReset,
            config,
        }
    }

    /// The rules.
    pub fn config(&self) -> &BlackjackConfig {
        &self.config
    }

    /// The round being played: both hands and the dealer's two dealt cards.
    pub fn round(&self) -> &Round {
        &self.round
    }
}

impl Env for Blackjack {
    type Obs = usize;
    type Action = usize;

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Reset<usize> {
        if let Some(seed) = seed {
            self.rng = EnvRng::seed_from_u64(seed);
        }
        let rng = &mut self.rng;
        self.round = Round::deal(|| draw_card(rng));
        self.phase = Phase::Running;
        Reset {
            obs: self.round.observation().index(),
            info: Info::default(),
        }
    }

    fn step(&mut self, action: usize) -> Result<Step<usize>> {
        match self.phase {
            Phase::Running => {}
            Phase::NotReset => return Err(Error::NotReset),
            Phase::Ended => return Err(Error::EpisodeEnded),
        }
        check_discrete_action(action, &self.action_space)?;
        let rng = &mut self.rng;
        let (reward, terminated) = if action == 1 {
            self.round.hit(|| draw_card(rng))
        } else {
            (self.round.stick(|| draw_card(rng), &self.config), true)
        };
        if terminated {
            self.phase = Phase::Ended;
        }
        Ok(Step {
            obs: self.round.observation().index(),
            reward,
            terminated,
            truncated: false,
            info: Info::default(),
        })
    }

    fn render_ansi(&self) -> String {
        render::ansi(&self.round, self.phase == Phase::Ended)
    }

    fn render_rgb(&self) -> Frame {
        render::rgb(&self.round, self.phase == Phase::Ended)
    }

    fn name(&self) -> String {
        BLACKJACK_ID.into()
    }

    /// Puts the player in a state, after a reset: `[index]`, a state index
    /// ([`BlackjackObs`]), or `[player_sum, dealer_card, usable_ace]`, Gymnasium's tuple
    /// (`(21, card, 1)` is then a soft 21 that is not a natural). The player gets the fewest
    /// cards that show it ([`BlackjackObs::hand`]) and the dealer's face-up card becomes
    /// `dealer_card`; the face-down card dealt at the reset stays, so the RNG is not touched.
    /// A bust ends the episode (stepping is then [`Error::EpisodeEnded`]); a playable state
    /// starts one.
    fn set_state(&mut self, state: &[f64]) -> Result<usize> {
        let whole = |v: f64| (v.fract() == 0.0 && (0.0..1e3).contains(&v)).then_some(v as usize);
        let obs = match *state {
            [i] => whole(i).and_then(BlackjackObs::from_index),
            [s, d, a] => match (whole(s), whole(d), whole(a)) {
                (Some(s), Some(d), Some(a)) if s < 32 && d < 11 && a < 2 => Some(BlackjackObs {
                    player_sum: s as u8,
                    dealer_card: d as u8,
                    usable_ace: a == 1,
                    natural: false,
                }),
                _ => None,
            },
            _ => None,
        };
        let Some((obs, hand)) = obs.and_then(|o| Some((o, o.hand()?))) else {
            return Err(Error::InvalidState {
                message: format!(
                    "{BLACKJACK_ID} takes [index] with an index in 0..{} or [player_sum, \
                     dealer_card, usable_ace] of a hand that can be dealt (dealer_card 1–10; \
                     a hard sum of 4–31 or a soft one of 12–21), got {state:?}",
                    BlackjackObs::COUNT
                ),
            });
        };
        if self.phase == Phase::NotReset {
            return Err(Error::InvalidState {
                message: format!(
                    "{BLACKJACK_ID} takes a state after a reset, which deals the dealer's \
                     face-down card; got {state:?} before any"
                ),
            });
        }
        self.round = Round {
            player: hand,
            dealer: Hand::of(&[obs.dealer_card, self.round.hidden]),
            showing: obs.dealer_card,
            hidden: self.round.hidden,
        };
        self.phase = if obs.is_bust() {
            Phase::Ended
        } else {
            Phase::Running
        };
        Ok(self.round.observation().index())
    }

    fn model(&self) -> Option<&dyn Model> {
        Some(&self.model)
    }

    /// Always `Some`: the env owns its stream from construction (drawn from the OS until a
    /// seeded reset); every card is drawn from it.
    fn rng_state(&self) -> Option<[u64; 4]> {
        Some(self.rng.state())
    }

    fn set_rng_state(&mut self, state: [u64; 4]) -> Result<()> {
        self.rng = crate::rng::restore(state, BLACKJACK_ID)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
