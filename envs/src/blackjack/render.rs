//! Drawing a round of Blackjack as text and as an RGB image.

use super::Round;
use crate::Frame;

const FELT: [u8; 3] = [196, 216, 158];
const EMPTY: [u8; 3] = [170, 190, 135];
const CARD: [u8; 3] = [250, 250, 245];
const BUST: [u8; 3] = [220, 40, 40];
const ACE: [u8; 3] = [40, 110, 200];

/// One line for the dealer, one for the player: the dealer's face-up card (and total once
/// the player has stuck), the player's total, a usable ace, a natural, a bust.
pub(super) fn ansi(round: &Round, ended: bool) -> String {
    if round.player.is_empty() {
        return "Blackjack: no cards dealt yet (reset first)\n".into();
    }
    let card = |c: u8| match c {
        1 => "A".to_string(),
        c => c.to_string(),
    };
    let dealer = if ended && !round.player.is_bust() {
        format!(
            "dealer: {} and {} -> {}{}",
            card(round.showing),
            card(round.hidden),
            round.dealer.total(),
            if round.dealer.is_bust() {
                " (bust)"
            } else {
                ""
            }
        )
    } else {
        format!("dealer: {} and a face-down card", card(round.showing))
    };
    let p = &round.player;
    let note = match (p.is_natural(), p.usable_ace(), p.is_bust()) {
        (true, _, _) => " (natural)",
        (_, true, _) => " (usable ace)",
        (_, _, true) => " (bust)",
        _ => "",
    };
    format!("{dealer}\nplayer: {}{note}\n", p.total())
}

/// Two rows of blocks on green felt: the dealer's total (face-up card only while the player
/// plays) above the player's, one block a point, 21 blocks marked out; red past 21, a blue
/// bar under the player's row for a usable ace.
pub(super) fn rgb(round: &Round, ended: bool) -> Frame {
    const BLOCK: i64 = 10;
    const SLOTS: i64 = 31;
    let mut frame = Frame::filled(96, (SLOTS * BLOCK + 20) as usize, FELT);
    let dealer = if ended {
        round.dealer.total()
    } else {
        round.showing
    };
    for (row, total) in [(0, dealer), (1, round.player.total())] {
        let y = 16 + row * 36;
        for k in 0..SLOTS {
            let x = 10 + k * BLOCK;
            let colour = match (k < i64::from(total), k < 21) {
                (true, true) => CARD,
                (true, false) => BUST,
                (false, true) => EMPTY,
                (false, false) => FELT,
            };
            frame.fill_rect(y, x + 1, y + 20, x + BLOCK - 1, colour);
        }
    }
    if round.player.usable_ace() {
        frame.fill_rect(76, 10, 80, 10 + 11 * BLOCK, ACE);
    }
    frame
}
