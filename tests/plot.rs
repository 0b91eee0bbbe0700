//! Plots, comparisons, heat maps and GIFs, through the library and the `qlab` binary, on run
//! directories written here by hand (every expected number is worked out in a comment).

mod common;
mod robust_stats;

use std::fs;
use std::path::{Path, PathBuf};

use qlab::plot::compare::{CompareSpec, compare, to_csv, to_markdown};
use qlab::plot::gif::encode_gif;
use qlab::plot::heatmap::{HeatMap, value_heatmap, viridis};
use qlab::plot::render::{Playback, RandomPolicy, View, play};
use qlab::plot::{Band, CurveSpec, Run, XAxis, curve, default_labels, write_curve};
use qlab_envs::gridworld::{GridWorld, GridWorldConfig};
use qlab_envs::{Frame, Params};

use common::qlab;

/// A fresh directory under the system's temporary directory, unique to the test.
fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qlab-plot-{test}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A run of two seeds. Seed 1 writes its columns in another order and plays one episode more,
/// so that only reading by header name and aligning by episode give the numbers below.
fn hand_run(parent: &Path, name: &str, algorithm: &str) -> PathBuf {
    let dir = parent.join(name);
    fs::create_dir_all(dir.join("seed_0")).unwrap();
    fs::create_dir_all(dir.join("seed_1")).unwrap();
    fs::write(
        dir.join("config.toml"),
        format!("[env]\nid = \"CliffWalking-v1\"\n\n[agent]\nalgorithm = \"{algorithm}\"\n"),
    )
    .unwrap();
    fs::write(
        dir.join("seed_0/metrics.csv"),
        "episode,step,return,length,terminated,epsilon,value_rmse,loss\n\
         1,10,-10,10,true,0.1,,\n\
         2,15,-5,5,true,0.1,0.5,\n\
         3,18,-3,3,false,0.1,0.25,2\n",
    )
    .unwrap();
    fs::write(
        dir.join("seed_1/metrics.csv"),
        "step,episode,loss,value_rmse,epsilon,terminated,length,return\n\
         4,1,,,0.1,true,4,-4\n\
         10,2,,1.5,0.1,true,6,-6\n\
         12,3,4,0.75,0.1,true,2,-2\n\
         13,4,3,0.5,0.1,true,1,-1\n",
    )
    .unwrap();
    fs::write(
        dir.join("summary.json"),
        r#"{"env": "CliffWalking-v1", "algorithm": "x", "window": 2,
            "per_seed": [
              {"seed": 0, "episodes": 3, "steps": 18, "wall_seconds": 1.0, "steps_per_second": 100.0,
               "final_eval_mean_return": -3.0},
              {"seed": 1, "episodes": 4, "steps": 13, "wall_seconds": 3.0, "steps_per_second": 300.0,
               "final_eval_mean_return": -1.0}],
            "aggregate": {"seeds": 2}}"#,
    )
    .unwrap();
    dir
}

/// Width and height from a PNG's header, checking the signature.
fn png_size(path: &Path) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::BufReader::new(fs::File::open(path).unwrap()));
    let reader = decoder.read_info().unwrap();
    let info = reader.info();
    (info.width, info.height)
}

/// A GIF's frames composed onto its canvas, as a viewer shows them.
fn gif_frames(bytes: &[u8]) -> (u16, u16, Vec<Frame>) {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    let mut decoder = options.read_info(bytes).unwrap();
    let (w, h) = (decoder.width(), decoder.height());
    let palette = decoder.global_palette().unwrap().to_vec();
    let mut canvas = Frame::filled(h as usize, w as usize, [0; 3]);
    let mut frames = Vec::new();
    while let Some(f) = decoder.read_next_frame().unwrap() {
        assert_eq!(f.dispose, gif::DisposalMethod::Keep);
        for y in 0..f.height as usize {
            for x in 0..f.width as usize {
                let i = f.buffer[y * f.width as usize + x] as usize;
                let rgb = [palette[3 * i], palette[3 * i + 1], palette[3 * i + 2]];
                canvas.set_pixel(
                    (f.top as usize + y) as i64,
                    (f.left as usize + x) as i64,
                    rgb,
                );
            }
        }
        frames.push(canvas.clone());
    }
    (w, h, frames)
}

#[test]
fn the_plotted_series_are_the_metrics_by_episode() {
    let dir = temp_dir("by-episode");
    let run = Run::load(&hand_run(&dir, "a", "sarsa")).unwrap();
    let c = curve(&run, "a", &CurveSpec::default()).unwrap();
    // Episodes 1 to 3 (seed 1's 4th has no partner): returns (−10, −4), (−5, −6), (−3, −2).
    assert_eq!(c.x, [1.0, 2.0, 3.0]);
    assert_eq!(c.mean, [-7.0, -5.5, -2.5]);
    assert_eq!(c.count, [2, 2, 2]);
    // Sample std of two values a, b: |a − b| / √2.
    let s = [6.0 / 2f64.sqrt(), 1.0 / 2f64.sqrt(), 1.0 / 2f64.sqrt()];
    for (i, s) in s.iter().enumerate() {
        assert!((c.lower[i] - (c.mean[i] - s)).abs() < 1e-12);
        assert!((c.upper[i] - (c.mean[i] + s)).abs() < 1e-12);
    }
    // An empty cell leaves a seed out of its point: value_rmse at episode 1 is nobody's.
    let spec = CurveSpec {
        metric: "value_rmse".into(),
        band: Band::MinMax,
        ..CurveSpec::default()
    };
    let c = curve(&run, "a", &spec).unwrap();
    assert_eq!(c.x, [2.0, 3.0]);
    assert_eq!(c.mean, [1.0, 0.5]);
    assert_eq!(
        (c.lower.clone(), c.upper.clone()),
        (vec![0.5, 0.25], vec![1.5, 0.75])
    );
    assert_eq!(c.count, [2, 2]);
}

#[test]
fn smoothing_and_bands_on_a_hand_example() {
    let dir = temp_dir("smooth");
    let run = Run::load(&hand_run(&dir, "a", "sarsa")).unwrap();
    let spec = CurveSpec {
        smooth: 2,
        band: Band::MinMax,
        ..CurveSpec::default()
    };
    let c = curve(&run, "a", &spec).unwrap();
    // Seed 0 smoothed over 2: −10, −7.5, −4; seed 1: −4, −5, −4.
    assert_eq!(c.mean, [-7.0, -6.25, -4.0]);
    assert_eq!(c.lower, [-10.0, -7.5, -4.0]);
    assert_eq!(c.upper, [-4.0, -5.0, -4.0]);
    // The 95% interval of the mean of two values: t(0.975, 1) · |a − b| / √2 / √2.
    let spec = CurveSpec {
        band: Band::Ci95,
        ..CurveSpec::default()
    };
    let c = curve(&run, "a", &spec).unwrap();
    let half = 12.7062047362 * 6.0 / 2.0;
    assert!((c.upper[0] - (-7.0 + half)).abs() < 1e-9, "{}", c.upper[0]);
}

#[test]
fn steps_are_interpolated_onto_a_common_grid() {
    let dir = temp_dir("by-step");
    let run = Run::load(&hand_run(&dir, "a", "sarsa")).unwrap();
    let spec = CurveSpec {
        x: XAxis::Step,
        ..CurveSpec::default()
    };
    let c = curve(&run, "a", &spec).unwrap();
    // Seed 0 covers steps 10..18, seed 1 4..13: the grid is 10..13 with 4 points (the longest
    // seed's episodes). Seed 0: −10, −9, −8, −7 (from (10, −10) to (15, −5)); seed 1: −6, −4,
    // −2, −1 (from (10, −6) to (12, −2), then (13, −1)).
    assert_eq!(c.x, [10.0, 11.0, 12.0, 13.0]);
    assert_eq!(c.mean, [-8.0, -6.5, -5.0, -4.0]);
}

#[test]
fn legends_come_from_the_configs_or_the_directory_names() {
    let dir = temp_dir("labels");
    let a = Run::load(&hand_run(&dir, "run-a", "sarsa")).unwrap();
    let b = Run::load(&hand_run(&dir, "run-b", "q_learning")).unwrap();
    let c = Run::load(&hand_run(&dir, "run-c", "sarsa")).unwrap();
    assert_eq!(
        default_labels(&[a.clone(), b.clone()]),
        ["sarsa", "q_learning"]
    );
    // Two sarsa runs: the names tell them apart.
    assert_eq!(default_labels(&[a, c]), ["run-a", "run-c"]);
}

#[test]
fn plot_writes_images_of_the_requested_size_and_the_data_behind_them() {
    let dir = temp_dir("cli-plot");
    let a = hand_run(&dir, "a", "sarsa");
    let b = hand_run(&dir, "b", "q_learning");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let png = dir.join("curves.png");
    let data = dir.join("curves.csv");
    let (png_arg, data_arg) = (png.to_str().unwrap(), data.to_str().unwrap());
    qlab(&[
        "plot", a, b, "--out", png_arg, "--width", "640", "--height", "400", "--data", data_arg,
    ])
    .ok();
    assert_eq!(png_size(&png), (640, 400));
    let csv = fs::read_to_string(&data).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "run,x,mean,lower,upper,seeds");
    assert_eq!(lines.len(), 1 + 2 * 3);
    assert!(lines[1].starts_with("sarsa,1,-7,"), "{}", lines[1]);
    assert!(lines[4].starts_with("q_learning,1,-7,"), "{}", lines[4]);

    let svg = dir.join("curves.svg");
    let svg_arg = svg.to_str().unwrap();
    qlab(&[
        "plot",
        a,
        "--out",
        svg_arg,
        "--labels",
        "first try",
        "--title",
        "Hand-made",
    ])
    .ok();
    let text = fs::read_to_string(&svg).unwrap();
    assert!(
        text.starts_with("<svg width=\"1024\" height=\"640\""),
        "{}",
        &text[..80]
    );
    assert!(text.contains("first try (2 seeds)") && text.contains("Hand-made"));
}

#[test]
fn write_curve_leaves_curve_png_in_the_run() {
    let dir = temp_dir("write-curve");
    let a = hand_run(&dir, "a", "sarsa");
    let path = write_curve(&a).unwrap();
    assert_eq!(path, a.join("curve.png"));
    assert_eq!(png_size(&path), (1024, 640));
}

#[test]
fn compare_tables_a_hand_made_run() {
    let dir = temp_dir("compare");
    let a = hand_run(&dir, "a", "sarsa");
    let runs = [Run::load(&a).unwrap()];
    let spec = CompareSpec {
        threshold: Some(-5.0),
        window: 2,
        last: 2,
        ..CompareSpec::default()
    };
    let rows = compare(&runs, &["sarsa".to_string()], &spec).unwrap();
    // Final (last 2 episodes): seed 0 (−5 − 3) / 2 = −4, seed 1 (−2 − 1) / 2 = −1.5; mean
    // −2.75, sample std 1.25·√2. Threshold −5 over full windows of 2: seed 0 at episode 3
    // (−4; step 18), seed 1 at episode 2 (−5; step 10). Summary: wall 1 and 3, steps/s 100
    // and 300.
    let md = to_markdown(&rows, &spec);
    assert_eq!(
        md,
        "| run   | seeds | final return (last 2 ep.) | episodes to return ≥ -5 | steps to return ≥ -5 | reached | wall s / seed | steps/s |\n\
         |:------|------:|--------------------------:|------------------------:|---------------------:|--------:|--------------:|--------:|\n\
         | sarsa |     2 |              -2.75 ± 1.77 |                     2.5 |                   14 |     2/2 |          2.00 |     200 |\n"
    );
    let csv = to_csv(&rows, &spec);
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(row[..3], ["sarsa", "2", "-2.75"]);
    assert!((row[3].parse::<f64>().unwrap() - 1.25 * 2f64.sqrt()).abs() < 1e-12);
    assert_eq!(row[4..], ["-5", "2", "2.5", "14", "2", "200"]);

    // Through the binary: the table on stdout, the files beside the run.
    let out = qlab(&[
        "compare",
        a.to_str().unwrap(),
        "--threshold",
        "-5",
        "--window",
        "2",
        "--last",
        "2",
    ])
    .ok();
    assert_eq!(out, md);
    assert_eq!(fs::read_to_string(dir.join("compare.md")).unwrap(), md);
    assert_eq!(fs::read_to_string(dir.join("compare.csv")).unwrap(), csv);
}

#[test]
fn cartpole_renders_to_a_gif_without_a_display() {
    let dir = temp_dir("render");
    let gif_path = dir.join("x.gif");
    qlab(&[
        "render",
        "--env",
        "CartPole-v1",
        "--out",
        gif_path.to_str().unwrap(),
        "--max-steps",
        "4",
        "--seed",
        "3",
    ])
    .ok();
    let bytes = fs::read(&gif_path).unwrap();
    assert_eq!(&bytes[..6], b"GIF89a");
    let (w, h, frames) = gif_frames(&bytes);
    // The reset and 4 steps, each frame distinct (the pole moves); a caption strip on top.
    assert_eq!(frames.len(), 5);
    assert_eq!(w, 600);
    assert!(h > 400 && h < 440, "{h}");

    // The same episode played through the library: the GIF holds exactly its frames.
    let mut env = qlab_envs::make("CartPole-v1", &Params::new()).unwrap();
    let mut policy = RandomPolicy::new(2, 4);
    let playback = Playback {
        seed: 3,
        max_steps: 4,
        ..Playback::default()
    };
    let rec = play(&mut env, &mut policy, &playback, View::Rgb).unwrap();
    assert_eq!(frames, rec.frames);
}

#[test]
fn gifs_round_trip_flat_colour_frames_exactly() {
    // Three frames of a FrozenLake episode with a repeated frame in the middle: the repeat
    // is folded into the delay of the frame before, and every pixel comes back.
    let mut env = qlab_envs::make("FrozenLake-v1", &Params::new()).unwrap();
    let mut policy = RandomPolicy::new(4, 1);
    let playback = Playback {
        seed: 1,
        max_steps: 6,
        caption: false,
        ..Playback::default()
    };
    let rec = play(&mut env, &mut policy, &playback, View::Rgb).unwrap();
    let mut frames = rec.frames.clone();
    frames.insert(1, frames[0].clone());
    let mut bytes = Vec::new();
    encode_gif(&frames, 4.0, &mut bytes).unwrap();
    let (w, h, decoded) = gif_frames(&bytes);
    assert_eq!(
        (w as usize, h as usize),
        (frames[0].width, frames[0].height)
    );
    let mut distinct = frames.clone();
    distinct.dedup();
    assert_eq!(decoded, distinct);
}

#[test]
fn the_heat_map_colours_cells_by_value() {
    let dir = temp_dir("heatmap");
    let env = GridWorld::new(GridWorldConfig::preset("CliffWalking-v1").unwrap()).unwrap();
    // Values −(column) in every cell; the policy moves right (action 1) everywhere.
    let values: Vec<f64> = (0..48).map(|s| -((s % 12) as f64)).collect();
    let map = HeatMap::for_gridworld(&env, &values, &[1; 48]).unwrap();
    // From the start (row 3, column 0) moving right is certain: into the cliff, which sends
    // the agent back to the start, where the path stops.
    assert_eq!(map.start, Some(36));
    assert_eq!(map.path, [36]);
    let out = dir.join("v.png");
    let (w, h) = value_heatmap(&map, &out, 48).unwrap();
    assert_eq!(png_size(&out), (w, h));
    assert!(w >= 12 * 48 && h >= 4 * 48);
    let decoder = png::Decoder::new(std::io::BufReader::new(fs::File::open(&out).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut buf).unwrap();
    let pixel = |x: u32, y: u32| {
        let i = ((y * w + x) * 3) as usize;
        [buf[i], buf[i + 1], buf[i + 2]]
    };
    // The grid starts 16 px from the left and 44 from the top; a cell's top-left corner, past
    // the grid line, shows its fill: column 0 the highest value (0), column 11 the lowest.
    let corner = |row: u32, col: u32| pixel(16 + col * 48 + 3, 44 + row * 48 + 3);
    let rgb = |c: plotters::style::RGBColor| [c.0, c.1, c.2];
    assert_eq!(corner(0, 0), rgb(viridis(1.0)));
    assert_eq!(corner(0, 11), rgb(viridis(0.0)));
    assert_eq!(corner(1, 4), rgb(viridis(1.0 - 4.0 / 11.0)));
    assert_eq!(corner(3, 5), [150, 95, 60], "a cliff cell");
}

#[test]
fn bad_input_is_one_line_on_stderr_with_exit_code_2() {
    let dir = temp_dir("bad");
    let a = hand_run(&dir, "a", "sarsa");
    let a = a.to_str().unwrap();
    let missing = dir.join("nope");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["plot", missing.to_str().unwrap()], "does not exist"),
        (
            vec!["plot", a, "--metric", "reward"],
            "no metric `reward`; available: return, length, terminated, epsilon, value_rmse, loss",
        ),
        (
            vec!["plot", a, "--out", "x.jpg"],
            "must end in .png or .svg",
        ),
        (
            vec!["plot", a, "--ylim", "5,1"],
            "--ylim takes two finite numbers",
        ),
        (
            vec!["compare", a, "--metric", "reward"],
            "no metric `reward`",
        ),
        (vec!["render", "--env", "CartPole-v9"], "CartPole-v9"),
        (
            vec!["render", "--env", "CartPole-v1", "--out", "x.png"],
            "must end in .gif",
        ),
        (
            vec!["render", dir.to_str().unwrap()],
            "RUN_DIR rendering needs a run written by qlab train",
        ),
        (
            vec!["solve", "--env", "CartPole-v1", "--plot", "x.png"],
            "no exact model",
        ),
    ];
    for (args, needle) in cases {
        let line = qlab(&args).usage_error();
        assert!(line.contains(needle), "{args:?}: {line}");
    }
}

#[test]
fn a_run_of_qlab_train_is_plotted_compared_and_rendered() {
    let dir = temp_dir("train");
    let run = dir.join("run");
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/configs/cliffwalking_q_learning.toml"
    );
    qlab(&[
        "train",
        config,
        "--seeds",
        "0,1",
        "--set",
        "train.episodes=30",
        "--out",
        run.to_str().unwrap(),
        "--quiet",
    ])
    .ok();
    let run_dir = run.to_str().unwrap();

    // The curve is the mean of the two metrics.csv files' returns, episode by episode.
    let loaded = Run::load(&run).unwrap();
    assert_eq!(
        default_labels(std::slice::from_ref(&loaded)),
        ["q_learning"]
    );
    let c = curve(&loaded, "q", &CurveSpec::default()).unwrap();
    let returns: Vec<Vec<f64>> = (0..2)
        .map(|k| {
            let text = fs::read_to_string(run.join(format!("seed_{k}/metrics.csv"))).unwrap();
            let mut lines = text.lines();
            let header: Vec<&str> = lines.next().unwrap().split(',').collect();
            let j = header.iter().position(|&h| h == "return").unwrap();
            lines
                .map(|l| l.split(',').nth(j).unwrap().parse().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(c.x.len(), 30);
    for (i, m) in c.mean.iter().enumerate() {
        assert_eq!(
            *m,
            (returns[0][i] + returns[1][i]) / 2.0,
            "episode {}",
            i + 1
        );
    }
    assert_eq!(png_size(&write_curve(&run).unwrap()), (1024, 640));

    let (md, csv) = (dir.join("t.md"), dir.join("t.csv"));
    let text = qlab(&[
        "compare",
        run_dir,
        "--last",
        "10",
        "--out-md",
        md.to_str().unwrap(),
        "--out-csv",
        csv.to_str().unwrap(),
    ])
    .ok();
    assert!(
        text.lines()
            .nth(2)
            .unwrap()
            .starts_with("| q_learning |     2 |"),
        "{text}"
    );
    assert_eq!(fs::read_to_string(&md).unwrap(), text);

    // The greedy agent, reloaded, acts in the env of the run's config.
    let gif_path = dir.join("agent.gif");
    qlab(&[
        "render",
        run_dir,
        "--out",
        gif_path.to_str().unwrap(),
        "--max-steps",
        "6",
    ])
    .ok();
    let (w, _, frames) = gif_frames(&fs::read(&gif_path).unwrap());
    // CliffWalking is 12 cells of 32 pixels and a line wide.
    assert_eq!(w, 12 * 32 + 1);
    assert!((2..=7).contains(&frames.len()), "{}", frames.len());
}
