//! Reading the reference trajectories that `tools/gen_*_reference.py` write with the real
//! gymnasium: one CSV row per reset and per step, for the envs' tests.

use std::str::FromStr;

/// One episode of a reference file: the start state (its first `S` numbers), then per step
/// the action, the observation (`O` numbers), the reward, `terminated` and `truncated`.
pub(crate) type Episode<A, const S: usize, const O: usize> =
    ([f64; S], Vec<(A, [f32; O], f64, bool, bool)>);

/// Parses a reference file whose header is `header`: `episode,t,action`, then `O` columns
/// (the start state on the row with `t = 0`, the observation on the others), then
/// `reward,terminated,truncated`. Lines starting with `#` are comments.
///
/// # Panics
/// On a header, a row or a value that is not as described: a broken reference file.
pub(crate) fn parse<A, const S: usize, const O: usize>(
    text: &str,
    header: &str,
) -> Vec<Episode<A, S, O>>
where
    A: FromStr,
    A::Err: std::fmt::Debug,
{
    assert!(S <= O, "a start state of {S} numbers in {O} columns");
    let mut episodes: Vec<Episode<A, S, O>> = Vec::new();
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    assert_eq!(lines.next(), Some(header));
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), O + 6, "{line}");
        let flag = |s: &str| match s {
            "0" => false,
            "1" => true,
            _ => panic!("bad flag {s} in {line}"),
        };
        if f[1] == "0" {
            let start = std::array::from_fn(|i| f[3 + i].parse::<f64>().unwrap());
            episodes.push((start, Vec::new()));
        } else {
            let obs = std::array::from_fn(|i| f[3 + i].parse::<f32>().unwrap());
            let row = (
                f[2].parse().unwrap(),
                obs,
                f[3 + O].parse().unwrap(),
                flag(f[4 + O]),
                flag(f[5 + O]),
            );
            episodes.last_mut().unwrap().1.push(row);
        }
    }
    episodes
}
