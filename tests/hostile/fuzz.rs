//! Seeded mutations of the shipped configs, each through config loading, validation and the
//! building of its experiment (env and agent, networks included), in process: none may panic
//! or hang, and every refusal is one line.

use std::sync::mpsc;
use std::time::Duration;

/// A small seeded generator (SplitMix64): the mutations are the same on every run.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Values of every type and extreme put in place of a key's value.
const VALUES: &[&str] = &[
    "0",
    "-1",
    "1",
    "1e300",
    "-1e300",
    "1e-300",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "\"\"",
    "\"NaN\"",
    "nan",
    "inf",
    "-inf",
    "true",
    "[]",
    "[0]",
    "[0, 0]",
    "{}",
    "{ type = \"mlp\", hidden = [0] }",
    "\"0..18446744073709551615\"",
    "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]",
    "4096",
    "65536",
    "1000000000",
];

/// One mutation of `text`, described in the returned label.
fn mutate(text: &str, rng: &mut Mix) -> (String, String) {
    let lines: Vec<&str> = text.lines().collect();
    let keys: Vec<usize> = (0..lines.len())
        .filter(|&i| {
            let l = lines[i].trim_start();
            !l.starts_with('#') && !l.starts_with('[') && l.contains('=')
        })
        .collect();
    let i = keys[rng.below(keys.len())];
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    match rng.below(5) {
        0 => {
            out.remove(i);
            (format!("delete line {}", i + 1), out.join("\n"))
        }
        1 => {
            out.insert(i, lines[i].to_string());
            (format!("duplicate line {}", i + 1), out.join("\n"))
        }
        2 => {
            let cut = rng.below(text.len());
            let cut = (0..=cut).rev().find(|&c| text.is_char_boundary(c)).unwrap();
            (format!("truncate at byte {cut}"), text[..cut].to_string())
        }
        _ => {
            let key = lines[i].split('=').next().unwrap().trim_end();
            let value = VALUES[rng.below(VALUES.len())];
            out[i] = format!("{key} = {value}");
            (format!("line {}: {key} = {value}", i + 1), out.join("\n"))
        }
    }
}

#[test]
fn mutated_configs_are_refused_in_one_line_or_built_never_a_panic_or_a_hang() {
    let mut configs: Vec<_> = std::fs::read_dir("configs")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    configs.sort();
    let mut rng = Mix(2024);
    let mut cases = 0;
    for path in &configs {
        let text = std::fs::read_to_string(path).unwrap();
        for _ in 0..12 {
            let (what, mutated) = mutate(&text, &mut rng);
            let name = format!("{} ({what})", path.display());
            let (tx, rx) = mpsc::channel();
            let file = path.display().to_string();
            std::thread::spawn(move || {
                let outcome = std::panic::catch_unwind(|| {
                    qlab::config::Config::parse(&file, &mutated, &[])
                        .and_then(qlab::runner::Experiment::new)
                        .err()
                        .map(|e| format!("{e:#}"))
                });
                let _ = tx.send(outcome);
            });
            match rx.recv_timeout(Duration::from_secs(20)) {
                Err(_) => panic!("{name}: no answer within 20 s"),
                Ok(Err(_)) => panic!("{name}: panicked"),
                Ok(Ok(Some(e))) => assert!(!e.contains('\n'), "{name}: error of many lines:\n{e}"),
                Ok(Ok(None)) => {}
            }
            cases += 1;
        }
    }
    assert!(cases >= 250, "{cases}");
}
