//! The cards: the infinite deck, a hand, one round of play and its observation.
//!
//! Everything random comes in through a `draw` closure, so that the same code plays with the
//! env's RNG ([`draw_card`]) and with a fixed sequence of cards (the reference tests drive
//! Gymnasium and qlab with one forced deck).

use crate::EnvRng;

use super::BlackjackConfig;

/// The infinite deck's thirteen ranks by value: ace (1), 2–9, and the four ten-valued
/// ranks (10, jack, queen, king). A card is drawn uniformly from it, with replacement
/// (Gymnasium's `deck`).
pub const DECK: [u8; 13] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10];

/// Draws one card from the infinite deck: a uniform rank of [`DECK`]. The env draws every
/// card, at the deal, on a hit and for the dealer, through this function.
#[inline]
pub fn draw_card(rng: &mut EnvRng) -> u8 {
    DECK[rng.below(DECK.len())]
}

/// A hand of cards, kept as what play depends on: the sum with every ace counted as 1, whether
/// it holds an ace, and how many cards it has (for naturals).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hand {
    raw: u8,
    ace: bool,
    cards: u8,
}

impl Hand {
    /// The hand of `cards` (each a value 1–10).
    pub fn of(cards: &[u8]) -> Hand {
        let mut hand = Hand::default();
        for &c in cards {
            hand.add(c);
        }
        hand
    }

    /// Adds a card of value `card` (1 for an ace, 10 for a ten-valued card).
    #[inline]
    pub fn add(&mut self, card: u8) {
        self.raw = self.raw.saturating_add(card);
        self.ace |= card == 1;
        self.cards = self.cards.saturating_add(1);
    }

    /// Whether an ace can count as 11 without going over 21 (a soft hand).
    #[inline]
    pub fn usable_ace(&self) -> bool {
        self.ace && self.raw + 10 <= 21
    }

    /// The hand's total: the sum, with one ace counted as 11 when it is usable.
    #[inline]
    pub fn total(&self) -> u8 {
        if self.usable_ace() {
            self.raw + 10
        } else {
            self.raw
        }
    }

    /// Whether the total is over 21.
    #[inline]
    pub fn is_bust(&self) -> bool {
        self.total() > 21
    }

    /// The total, or 0 when bust.
    #[inline]
    pub fn score(&self) -> u8 {
        if self.is_bust() { 0 } else { self.total() }
    }

    /// Whether the hand is a natural: exactly two cards, an ace and a ten-valued card.
    #[inline]
    pub fn is_natural(&self) -> bool {
        self.cards == 2 && self.ace && self.raw == 11
    }

    /// The number of cards.
    pub fn len(&self) -> usize {
        self.cards as usize
    }

    /// Whether the hand has no cards.
    pub fn is_empty(&self) -> bool {
        self.cards == 0
    }
}

/// The reward for sticking with `player` against the dealer's final hand `dealer`, under
/// `config`'s rules: +1 for the higher score, −1 for the lower, 0 for equal scores (a bust
/// scores 0, so a player who did not bust wins against a dealer who did). Then:
/// - `sab`: a natural wins +1 unless the dealer's hand is a natural too (then 0);
/// - otherwise, `natural`: a natural that wins pays 1.5.
pub fn stick_reward(player: &Hand, dealer: &Hand, config: &BlackjackConfig) -> f64 {
    let (p, d) = (player.score(), dealer.score());
    let reward = f64::from(i8::from(p > d) - i8::from(p < d));
    if config.sab {
        if player.is_natural() && !dealer.is_natural() {
            return 1.0;
        }
    } else if config.natural && player.is_natural() && reward == 1.0 {
        return 1.5;
    }
    reward
}

/// The dealer draws until the total is 17 or more (a soft 17 stands).
pub const DEALER_STANDS_ON: u8 = 17;

/// One round: the player's hand, the dealer's hand and its two dealt cards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// The player's hand.
    pub player: Hand,
    /// The dealer's hand: the two dealt cards, and those drawn after the player sticks.
    pub dealer: Hand,
    /// The dealer's face-up card (1–10; 0 before the deal).
    pub showing: u8,
    /// The dealer's face-down card (1–10; 0 before the deal).
    pub hidden: u8,
}

impl Round {
    /// Deals a round in Gymnasium's order: the dealer's face-up card, the dealer's face-down
    /// card, then the player's two cards.
    pub fn deal(mut draw: impl FnMut() -> u8) -> Round {
        let showing = draw();
        let hidden = draw();
        let player = Hand::of(&[draw(), draw()]);
        Round {
            player,
            dealer: Hand::of(&[showing, hidden]),
            showing,
            hidden,
        }
    }

    /// What the player sees: the player's total, the dealer's face-up card, whether the
    /// player holds a usable ace, and whether the hand is a natural.
    #[inline]
    pub fn observation(&self) -> BlackjackObs {
        BlackjackObs {
            player_sum: self.player.total(),
            dealer_card: self.showing,
            usable_ace: self.player.usable_ace(),
            natural: self.player.is_natural(),
        }
    }

    /// The player takes a card; returns the reward and whether the round is over: −1 and
    /// over on a bust, else 0 and not over.
    #[inline]
    pub fn hit(&mut self, mut draw: impl FnMut() -> u8) -> (f64, bool) {
        self.player.add(draw());
        if self.player.is_bust() {
            (-1.0, true)
        } else {
            (0.0, false)
        }
    }

    /// The player sticks: the dealer draws to [`DEALER_STANDS_ON`] or more, and the round is
    /// scored by [`stick_reward`].
    #[inline]
    pub fn stick(&mut self, mut draw: impl FnMut() -> u8, config: &BlackjackConfig) -> f64 {
        while self.dealer.total() < DEALER_STANDS_ON {
            self.dealer.add(draw());
        }
        stick_reward(&self.player, &self.dealer, config)
    }
}

/// An observation of Blackjack: Gymnasium's tuple `(player sum, dealer's card, usable ace)`,
/// plus whether the player's hand is a natural, which the tuple does not show.
///
/// As a state index ([`index`](BlackjackObs::index), `0..BlackjackObs::COUNT`):
/// - a natural with the dealer showing `d` is `704 + d − 1` (704–713);
/// - anything else is Gymnasium's tuple flattened, `player_sum · 22 + dealer_card · 2 +
///   usable_ace` (0–703): the space `Tuple(Discrete(32), Discrete(11), Discrete(2))`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlackjackObs {
    /// The player's total, 4–21 while playing, up to 31 after a bust.
    pub player_sum: u8,
    /// The value of the dealer's face-up card, 1 (ace) to 10.
    pub dealer_card: u8,
    /// Whether the player holds an ace that counts as 11.
    pub usable_ace: bool,
    /// Whether the player's hand is a natural (an ace and a ten-valued card, dealt). Then
    /// `player_sum` is 21 and `usable_ace` true.
    pub natural: bool,
}

impl BlackjackObs {
    /// The number of state indices: 32 × 11 × 2 tuples and 10 naturals.
    pub const COUNT: usize = TUPLES + 10;

    /// The state index (see [`BlackjackObs`]).
    #[inline]
    pub fn index(self) -> usize {
        if self.natural {
            TUPLES + self.dealer_card as usize - 1
        } else {
            self.player_sum as usize * 22 + self.dealer_card as usize * 2 + self.usable_ace as usize
        }
    }

    /// The observation of a state index; `None` for one outside `0..COUNT`. Every index in
    /// range decodes, including those no hand can show (a player sum below 4, a dealer's card
    /// 0).
    pub fn from_index(index: usize) -> Option<BlackjackObs> {
        if index >= Self::COUNT {
            return None;
        }
        Some(if index >= TUPLES {
            BlackjackObs {
                player_sum: 21,
                dealer_card: (index - TUPLES + 1) as u8,
                usable_ace: true,
                natural: true,
            }
        } else {
            BlackjackObs {
                player_sum: (index / 22) as u8,
                dealer_card: (index % 22 / 2) as u8,
                usable_ace: index % 2 == 1,
                natural: false,
            }
        })
    }

    /// Gymnasium's observation: `(player_sum, dealer_card, usable_ace)`, a natural shown as
    /// `(21, dealer_card, 1)`.
    pub fn tuple(self) -> (u8, u8, u8) {
        (self.player_sum, self.dealer_card, self.usable_ace as u8)
    }

    /// Whether a player can be in this state with a decision to make: a dealer's card of
    /// 1–10 and a natural, a soft total of 12–21, or a hard total of 4–21.
    pub fn is_playable(self) -> bool {
        (1..=10).contains(&self.dealer_card)
            && match (self.natural, self.usable_ace) {
                (true, _) => self.player_sum == 21,
                (false, true) => (12..=21).contains(&self.player_sum),
                (false, false) => (4..=21).contains(&self.player_sum),
            }
    }

    /// Whether this is a bust: a hard total of 22–31 with a dealer's card of 1–10.
    pub fn is_bust(self) -> bool {
        (1..=10).contains(&self.dealer_card)
            && !self.usable_ace
            && !self.natural
            && (22..=31).contains(&self.player_sum)
    }

    /// A hand with this observation: the natural, or the fewest cards that make the total
    /// without making a natural. `None` unless [`is_playable`](Self::is_playable) or
    /// [`is_bust`](Self::is_bust).
    pub fn hand(self) -> Option<Hand> {
        if !(self.is_playable() || self.is_bust()) {
            return None;
        }
        let s = self.player_sum;
        Some(match (self.natural, self.usable_ace) {
            (true, _) => Hand::of(&[1, 10]),
            (false, true) if s == 21 => Hand::of(&[1, 5, 5]),
            (false, true) => Hand::of(&[1, s - 11]),
            // Two cards of 2–10 make 4–20, three make 21–30; 31 takes an ace as 1.
            (false, false) if s <= 20 => Hand::of(&[s - (s - 2).min(10), (s - 2).min(10)]),
            (false, false) if s == 21 => Hand::of(&[10, 9, 2]),
            (false, false) if s <= 30 => Hand::of(&[10, 10, s - 20]),
            (false, false) => Hand::of(&[10, 10, 10, 1]),
        })
    }
}

/// The number of flattened tuples, 32 × 11 × 2.
const TUPLES: usize = 32 * 11 * 2;
