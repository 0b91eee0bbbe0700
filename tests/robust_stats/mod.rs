//! `qlab compare --iqm / --versus` and `qlab plot --band bootstrap / --profile` on the
//! hand-made runs of `tests/plot.rs` (every expected number worked out in a comment).
//!
//! With two seeds whose final values are `a < b`, a bootstrap resample of the seeds is
//! `{a, a}`, `{a, b}` or `{b, b}` with probabilities ¼, ½, ¼, so its IQM (the mean: nothing is
//! cut from 2 values) is `a`, `(a + b) / 2` or `b`; the 2.5% and 97.5% percentiles of 2,000
//! resamples are `a` and `b` exactly (about 500 resamples sit at each end).

use std::fs;

use super::{hand_run, png_size, temp_dir};
use crate::common::qlab;

/// The CSV's header and rows, split at commas.
fn csv(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn compare_adds_the_iqm_and_the_probability_of_improvement_with_their_intervals() {
    let dir = temp_dir("robust-compare");
    let a = hand_run(&dir, "a", "sarsa");
    let b = hand_run(&dir, "b", "q_learning");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let plain_csv = dir.join("plain.csv");
    let plain = qlab(&[
        "compare",
        a,
        b,
        "--last",
        "2",
        "--out-csv",
        plain_csv.to_str().unwrap(),
    ])
    .ok();
    let (md, out_csv) = (dir.join("t.md"), dir.join("t.csv"));
    let text = qlab(&[
        "compare",
        a,
        b,
        "--last",
        "2",
        "--iqm",
        "--versus",
        "sarsa",
        "--out-md",
        md.to_str().unwrap(),
        "--out-csv",
        out_csv.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(fs::read_to_string(&md).unwrap(), text);
    let rows = csv(&fs::read_to_string(&out_csv).unwrap());
    let plain_rows = csv(&fs::read_to_string(&plain_csv).unwrap());
    // The existing columns are the same bytes; the new ones follow them.
    assert_eq!(
        rows[0][10..],
        [
            "iqm",
            "iqm_low",
            "iqm_high",
            "p_improve",
            "p_improve_low",
            "p_improve_high"
        ]
    );
    for (row, plain) in rows.iter().zip(&plain_rows) {
        assert_eq!(row[..10], plain[..]);
    }
    // Final values (last 2 episodes) −4 and −1.5 in both runs: IQM −2.75 in [−4, −1.5]. The
    // runs are the same, so P(q_learning > sarsa) = ½ (pairs: a tie, a loss, a win, a tie); a
    // resample of each run is all −4 or all −1.5 with probability ¼ · ¼ = 1/16 > 2.5% each
    // way, so the interval is [0, 1].
    for row in &rows[1..] {
        assert_eq!(
            row[10..],
            ["-2.75", "-4", "-1.5", "0.5", "0", "1"],
            "{row:?}"
        );
    }
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].contains(" IQM (95% CI) |") && lines[0].ends_with(" P(> sarsa) (95% CI) |"),
        "{text}"
    );
    assert!(
        lines[2].contains("-2.75 [-4.00, -1.50]") && lines[2].contains("0.50 [0.00, 1.00]"),
        "{text}"
    );
    // Index 1 is the second run; the same seed gives the same file, bit for bit.
    let again = dir.join("again.csv");
    qlab(&[
        "compare",
        a,
        b,
        "--last",
        "2",
        "--iqm",
        "--versus",
        "0",
        "--out-md",
        md.to_str().unwrap(),
        "--out-csv",
        again.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(
        fs::read_to_string(&again).unwrap(),
        fs::read_to_string(&out_csv).unwrap()
    );
    assert!(!plain.contains("IQM"));
}

#[test]
fn bootstrap_flags_with_bad_values_are_one_line_errors() {
    let dir = temp_dir("robust-bad");
    let a = hand_run(&dir, "a", "sarsa");
    let a = a.to_str().unwrap();
    let one = hand_run(&dir, "one", "sarsa");
    fs::remove_dir_all(one.join("seed_1")).unwrap();
    fs::remove_file(one.join("summary.json")).unwrap();
    let one = one.to_str().unwrap();
    let out = dir.join("x.png");
    let out = out.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["compare", a, "--versus", "nope"],
            "--versus `nope` is neither a run's label (sarsa) nor an index from 0 to 0",
        ),
        (vec!["compare", a, "--versus", "1"], "--versus `1`"),
        (
            vec!["compare", a, "--iqm", "--reps", "0"],
            "--reps must be at least 1",
        ),
        (
            vec!["compare", one, "--iqm"],
            "has 1 seed; the IQM and bootstrap intervals need at least 2 seeds",
        ),
        (
            vec!["plot", one, "--band", "bootstrap", "--out", out],
            "has 1 seed; --band bootstrap needs at least 2 seeds",
        ),
        (
            vec!["plot", one, "--profile", "--out", out],
            "has 1 seed; a performance profile's bootstrap band needs at least 2 seeds",
        ),
        (
            vec!["plot", a, "--profile", "--reps", "0", "--out", out],
            "--reps must be at least 1",
        ),
    ];
    for (args, needle) in cases {
        let r = qlab(&args);
        // A run missing its summary warns first; the error is the last line, alone.
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        let last = r.stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("error: ") && last.contains(needle),
            "{args:?}: {r:?}"
        );
        assert_eq!(
            r.stderr.lines().filter(|l| l.starts_with("error")).count(),
            1,
            "{r:?}"
        );
    }
}

#[test]
fn plot_band_bootstrap_draws_the_iqm_with_its_interval() {
    let dir = temp_dir("robust-band");
    let a = hand_run(&dir, "a", "sarsa");
    let (svg, data) = (dir.join("c.svg"), dir.join("c.csv"));
    qlab(&[
        "plot",
        a.to_str().unwrap(),
        "--band",
        "bootstrap",
        "--out",
        svg.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ])
    .ok();
    // Episodes 1 to 3: returns (−10, −4), (−5, −6), (−3, −2); with two seeds the IQM is the
    // mean and the band runs from the lower to the higher (see the module's doc).
    assert_eq!(
        fs::read_to_string(&data).unwrap(),
        "run,x,mean,lower,upper,seeds\n\
         sarsa,1,-7,-10,-4,2\n\
         sarsa,2,-5.5,-6,-5,2\n\
         sarsa,3,-2.5,-3,-2,2\n"
    );
    let text = fs::read_to_string(&svg).unwrap();
    assert!(
        text.contains("IQM over seeds, stratified-bootstrap 95% interval"),
        "the title says the line is the IQM"
    );
}

#[test]
fn plot_profile_writes_the_performance_profile_png() {
    let dir = temp_dir("robust-profile");
    let a = hand_run(&dir, "a", "sarsa");
    let b = hand_run(&dir, "b", "q_learning");
    let (png, data) = (dir.join("p.png"), dir.join("p.csv"));
    qlab(&[
        "plot",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--profile",
        "--last",
        "2",
        "--out",
        png.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--width",
        "480",
        "--height",
        "320",
    ])
    .ok();
    assert_eq!(png_size(&png), (480, 320));
    let rows = csv(&fs::read_to_string(&data).unwrap());
    assert_eq!(rows.len(), 1 + 2 * 201);
    // Final values −4 and −1.5 in each run; τ from −4 − 0.125 to −1.5 + 0.125 in 200 steps of
    // 0.01375: both seeds above the first τ, half of them from τ = −4 on (τ_9 = −4.00125 is
    // below it, τ_10 = −3.9875 above; row k + 1 holds τ_k), none above the last.
    let row = |k: usize| -> Vec<f64> { rows[k][1..5].iter().map(|v| v.parse().unwrap()).collect() };
    assert_eq!(row(1), [-4.125, 1.0, 1.0, 1.0]);
    assert_eq!(rows[1][5], "2");
    assert_eq!(row(10)[1], 1.0);
    assert_eq!(row(11)[1], 0.5);
    assert_eq!(row(201)[1..], [0.0, 0.0, 0.0]);
    // Between the two final values a resample has 0, 1 or 2 seeds above: the band is [0, 1].
    assert_eq!(row(100)[1..], [0.5, 0.0, 1.0]);
    assert_eq!(rows[202][0], "q_learning");
}
