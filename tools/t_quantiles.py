"""Student t quantiles t(0.975, df) for the 95% confidence bands of `qlab plot --band ci95`.

Prints the table that src/plot/curve.rs holds for df = 1..30, and the values its tests pin the
large-df expansion to. Uses mpmath only: the t CDF through the regularized incomplete beta
function, inverted with a root finder at 40 significant digits.

    python3 tools/t_quantiles.py
"""

import mpmath as mp

mp.mp.dps = 40


def t_cdf(t, df):
    # P(T <= t) for t >= 0: 1 - I_{df/(df+t^2)}(df/2, 1/2) / 2.
    x = df / (df + t * t)
    return 1 - mp.betainc(df / mp.mpf(2), mp.mpf(1) / 2, 0, x, regularized=True) / 2


def t_quantile(p, df):
    return mp.findroot(lambda t: t_cdf(t, df) - p, mp.mpf(2))


if __name__ == "__main__":
    print("table, df = 1..30:")
    for df in range(1, 31):
        print(f"    {mp.nstr(t_quantile(mp.mpf('0.975'), df), 12)},  // {df}")
    print("large df:")
    for df in [31, 40, 49, 99, 1000]:
        print(f"    ({df}, {mp.nstr(t_quantile(mp.mpf('0.975'), df), 12)}),")
