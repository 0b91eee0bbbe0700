#!/usr/bin/env python3
"""Reference data for qlab's Blackjack-v1, from the real Gymnasium.

Run from the repository root with gymnasium 1.4.0 installed (`pip install gymnasium==1.4.0`):

    python3 tools/gen_blackjack_reference.py

It takes about six minutes (four million Monte Carlo episodes) and writes three files under
`envs/tests/data/`:

`blackjack_forced.csv` -- episodes played by `gymnasium.make("Blackjack-v1", sab=..,
natural=..)` on FORCED card sequences: the module's `draw_card`, through which Gymnasium
deals and draws every card, is replaced by one that takes the next card of a given list, so
qlab can replay the same cards. Header

    rules,episode,t,deck,action,player_sum,dealer_card,usable_ace,reward,terminated,truncated

Row t = 0 of an episode holds, in `deck`, every card the episode consumed (space-separated,
in the order drawn: the dealer's two, the player's two, then hits and the dealer's draws) and
the reset's observation; rows t >= 1 the action, the observation, the reward and the flags
(0/1). `rules` is `sab` (sab=True, the registered default), `natural` (sab=False,
natural=True), `plain` (both False) or `sab_natural` (both True: sab wins). Episodes: hand-made
decks for each rule about naturals, soft hands and the dealer's soft 17, random decks played
by a random policy (hit with probability 1/2) and by "hit below 17". There is no time limit
(Gymnasium registers none), so no episode is truncated.

`blackjack_values.csv` -- the exact values of every state a player decides in, computed
here independently of qlab: exact rational arithmetic over the 13 ranks of Gymnasium's `deck`,
hands as card lists scored with Gymnasium's own `sum_hand`, `usable_ace`, `is_natural`, and
the reward of sticking taken from `env.step(0)` itself, with the player's and the dealer's
final hands put in place. Header

    rules,player_sum,dealer_card,usable_ace,natural,q_stick,q_hit,v_star,v_stick20

`v_stick20` is the value of the policy "stick on 20 or 21, else hit".

`blackjack_summary.csv` -- per rule set, the values over the deal, `sum p(s0) V(s0)`:
`optimal` (V*) and `stick20`, exact; and Monte Carlo means of Gymnasium's env (its own
random cards, seeded) with their standard errors: `mc_stick20` and, under sab, `mc_optimal`
(the greedy policy of V*, a table of the observation tuple: a natural and a soft 21 both
stick). Header `rules,quantity,episodes,value,standard_error`.
"""

import random
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import gymnasium
import numpy as np
from gymnasium.envs.toy_text import blackjack as bj

assert gymnasium.__version__ == "1.4.0", gymnasium.__version__

OUT = Path(__file__).resolve().parent.parent / "envs" / "tests" / "data"
RULES = {
    "sab": dict(sab=True, natural=False),
    "natural": dict(sab=False, natural=True),
    "plain": dict(sab=False, natural=False),
    "sab_natural": dict(sab=True, natural=True),
}
DECK = bj.deck
REAL_DRAW = bj.draw_card


class ForcedDeck:
    """Replaces Gymnasium's `draw_card` with the next card of a list, recording each."""

    def __init__(self, cards):
        self.cards = list(cards)
        self.used = []

    def __enter__(self):
        def draw(np_random):
            card = self.cards.pop(0)
            self.used.append(card)
            return card

        bj.draw_card = draw
        return self

    def __exit__(self, *exc):
        bj.draw_card = REAL_DRAW


def play(rules, cards, policy):
    """Rows of one episode on the forced `cards`, actions from `policy(obs, rng)`."""
    env = gymnasium.make("Blackjack-v1", **RULES[rules])
    with ForcedDeck(cards) as deck:
        obs, _ = env.reset(seed=0)
        rows = [["", *map(str, obs), "", "0", "0"]]
        for t in range(1, 40):
            action = policy(obs, t)
            obs, reward, terminated, truncated, _ = env.step(action)
            rows.append([str(action), *map(str, obs), repr(float(reward)),
                         str(int(terminated)), str(int(truncated))])
            if terminated or truncated:
                return " ".join(map(str, deck.used)), rows
    raise AssertionError("episode did not end")


def scripted(actions):
    return lambda obs, t: actions[t - 1]


def forced_episodes():
    """(rules, deck, rows) for every forced episode."""
    # Hand-made: (deck, actions); the deck lists the dealer's two cards, the player's two,
    # then the cards drawn.
    hand_made = [
        ([1, 10, 10, 1], [0]),            # both naturals (dealer ace up): a draw
        ([10, 1, 1, 10], [0]),            # both naturals (dealer ten up)
        ([10, 7, 1, 10], [0]),            # player natural, dealer 17
        ([6, 5, 10, 1, 10], [0]),         # player natural, dealer 21 in three cards
        ([1, 10, 5, 1, 5], [1, 0]),       # soft 21 by hitting against a dealer natural
        ([1, 10, 1, 10, 3, 7], [1, 0]),   # a natural that hits: hard 14, dealer's natural
        ([1, 6, 10, 8], [0]),             # dealer soft 17 stands; player 18 wins
        ([1, 5, 10, 7, 1], [0]),          # dealer soft 16 draws an ace: soft 17, a draw
        ([1, 5, 10, 7, 10, 3], [0]),      # dealer soft 16 draws a ten: hard 16, then 19
        ([10, 6, 2, 2, 10], [0]),         # player sticks on 4; dealer busts
        ([10, 6, 2, 2, 1], [0]),          # player sticks on 4; dealer 16 + ace: hard 17
        ([9, 9, 1, 1, 10, 10], [1, 1]),   # soft 12 -> hard 12 -> bust at 22
        ([9, 9, 10, 10, 10], [1]),        # 20 + 10: bust at 30
        ([9, 9, 10, 10, 1], [1, 0]),      # 20 + ace: hard 21 against 18
        ([2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 10, 1, 1, 1, 1],
         [1] * 9 + [0]),                  # aces to soft 21, then the dealer's long hand
        ([5, 5, 10, 10, 10, 10, 10], [1]),  # hard 20 hit to 30
        ([10, 10, 10, 1, 10, 1], [1, 1]),  # soft 21 (natural) hit: 21 hard, then 22
    ]
    out = []
    for rules in RULES:
        for deck, actions in hand_made:
            used, rows = play(rules, deck, scripted(actions))
            out.append((rules, used, rows))
    rng = random.Random(2024)
    for rules in RULES:
        for k in range(60):
            deck = [rng.choice(DECK) for _ in range(40)]
            if k % 2 == 0:
                coin = random.Random(k)
                policy = lambda obs, t: int(coin.random() < 0.5)
            else:
                policy = lambda obs, t: int(obs[0] < 17)
            used, rows = play(rules, deck, policy)
            out.append((rules, used, rows))
    return out


def write_forced():
    lines = [
        "# Blackjack-v1 reference episodes from gymnasium 1.4.0 on forced card sequences;"
        " see tools/gen_blackjack_reference.py",
        "rules,episode,t,deck,action,player_sum,dealer_card,usable_ace,reward,terminated,truncated",
    ]
    for e, (rules, used, rows) in enumerate(forced_episodes()):
        for t, row in enumerate(rows):
            deck = used if t == 0 else ""
            lines.append(",".join([rules, str(e), str(t), deck, *row]))
    (OUT / "blackjack_forced.csv").write_text("\n".join(lines) + "\n")


# Exact values, in rational arithmetic.

P = Fraction(1, len(DECK))


def dealer_finals(showing):
    """{(score, natural): probability} of the dealer's final hand, by Gymnasium's rule."""
    return dict(finals_from((showing,)))


@lru_cache(maxsize=None)
def finals_from(hand):
    """(key, probability) pairs of the final hands that `hand` (a sorted tuple of cards,
    standing for every hand with its sum, ace and length) ends in."""
    hand = list(hand)
    if len(hand) >= 2 and bj.sum_hand(hand) >= 17:
        return (((bj.score(hand), bj.is_natural(hand)), Fraction(1)),)
    out = {}
    for c in DECK:
        nxt = hand + [c]
        # Past two cards only the sum and holding an ace matter: a canonical hand of them,
        # with a 0 that keeps it from being two cards (scored by the same helpers).
        if len(nxt) == 2:
            canon = tuple(sorted(nxt))
        elif 1 in nxt:
            canon = (0, 1, sum(nxt) - 1)
        else:
            canon = (0, sum(nxt))
        for k, p in finals_from(canon):
            out[k] = out.get(k, 0) + P * p
    return tuple(out.items())


def dealer_hand(score, natural):
    """A final dealer hand with this score (0 = bust) and naturalness."""
    if natural:
        return [1, 10]
    return {0: [10, 6, 10], 21: [10, 9, 2]}.get(score, [10, score - 10])


REWARD_ENV = {r: gymnasium.make("Blackjack-v1", **kw).unwrapped for r, kw in RULES.items()}


@lru_cache(maxsize=None)
def stick_reward(rules, player, score, natural):
    """Gymnasium's reward for sticking with `player` against the final dealer hand."""
    env = REWARD_ENV[rules]
    env.reset(seed=0)
    env.player = list(player)
    env.dealer = dealer_hand(score, natural)
    assert bj.sum_hand(env.dealer) >= 17  # the dealer draws nothing more
    _, reward, terminated, _, _ = env.step(0)
    assert terminated
    return Fraction(reward).limit_denominator(2)


def q_stick(rules, player, showing):
    return sum(p * stick_reward(rules, tuple(player), s, n)
               for (s, n), p in dealer_finals(showing).items())


def key(player):
    return (bj.sum_hand(player), bj.usable_ace(player), bj.is_natural(player))


def values(rules, policy):
    """V(key, showing) and Q(key, showing) of `policy` ('optimal' or 'stick20')."""
    memo = {}

    def v(player, showing):
        k = (key(player), showing)
        if k in memo:
            return memo[k][0]
        qs = q_stick(rules, player, showing)
        qh = 0
        for c in DECK:
            nxt = player + [c]
            qh += P * (-1 if bj.is_bust(nxt) else v(nxt, showing))
        if policy == "optimal":
            best = max(qs, qh)
        else:
            best = qs if bj.sum_hand(player) >= 20 else qh
        memo[k] = (best, qs, qh)
        return best

    return v, memo


def deal_distribution():
    """{(player cards sorted, showing): probability} of the deal."""
    dist = {}
    for d in DECK:
        for a in DECK:
            for b in DECK:
                k = (tuple(sorted((a, b))), d)
                dist[k] = dist.get(k, 0) + P ** 3
    return dist


def monte_carlo(rules, policy, episodes, seed):
    """Mean return and standard error of `policy(obs)` over Gymnasium's own random deals."""
    env = gymnasium.make("Blackjack-v1", **RULES[rules]).unwrapped
    env.reset(seed=seed)
    total = total_sq = 0.0
    for _ in range(episodes):
        obs, _ = env.reset()
        ret = 0.0
        while True:
            obs, reward, terminated, _, _ = env.step(policy(obs))
            ret += reward
            if terminated:
                break
        total += ret
        total_sq += ret * ret
    mean = total / episodes
    var = total_sq / episodes - mean * mean
    return mean, (var * episodes / (episodes - 1) / episodes) ** 0.5


def write_values():
    value_lines = [
        "# Exact Blackjack-v1 values (gymnasium 1.4.0's rules, rational arithmetic);"
        " see tools/gen_blackjack_reference.py",
        "rules,player_sum,dealer_card,usable_ace,natural,q_stick,q_hit,v_star,v_stick20",
    ]
    summary = [
        "# Blackjack-v1 values over the deal: exact, and Monte Carlo of gymnasium 1.4.0;"
        " see tools/gen_blackjack_reference.py",
        "rules,quantity,episodes,value,standard_error",
    ]
    deal = deal_distribution()
    for rules in ("sab", "natural", "plain"):
        v_opt, memo_opt = values(rules, "optimal")
        v_20, memo_20 = values(rules, "stick20")
        start_opt = start_20 = 0
        for (cards, showing), p in deal.items():
            start_opt += p * v_opt(list(cards), showing)
            start_20 += p * v_20(list(cards), showing)
        for (k, showing) in sorted(memo_opt):
            best, qs, qh = memo_opt[(k, showing)]
            (total, ace, natural) = k
            value_lines.append(",".join(map(str, [
                rules, total, showing, ace, int(natural),
                repr(float(qs)), repr(float(qh)), repr(float(best)),
                repr(float(memo_20[(k, showing)][0])),
            ])))
        summary.append(f"{rules},optimal,,{float(start_opt)!r},0")
        summary.append(f"{rules},stick20,,{float(start_20)!r},0")
        n = 1_000_000
        mean, se = monte_carlo(rules, lambda obs: int(obs[0] < 20), n, seed=20)
        summary.append(f"{rules},mc_stick20,{n},{mean!r},{se!r}")
        if rules == "sab":
            table = {}
            for ((total, ace, natural), showing), (best, qs, qh) in memo_opt.items():
                act = int(qh > qs)
                obs = (total, showing, ace)
                assert table.get(obs, act) == act, obs  # a natural and a soft 21 agree
                table[obs] = act
            mean, se = monte_carlo(rules, lambda obs: table[obs], n, seed=21)
            summary.append(f"{rules},mc_optimal,{n},{mean!r},{se!r}")
        print(summary[-3:], flush=True)
    (OUT / "blackjack_values.csv").write_text("\n".join(value_lines) + "\n")
    (OUT / "blackjack_summary.csv").write_text("\n".join(summary) + "\n")


if __name__ == "__main__":
    np.seterr(all="raise")
    write_forced()
    write_values()
