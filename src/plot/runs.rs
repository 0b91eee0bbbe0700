//! Reading the run directories `qlab train` writes.
//!
//! ```text
//! RUN_DIR/
//!   config.toml          the resolved config: [env] id, [agent] algorithm, ...
//!   summary.json         status (complete, interrupted, failed); per seed: seed, episodes,
//!                        steps, wall_seconds, steps_per_second, ...
//!   seed_<k>/
//!     metrics.csv        one row per training episode: episode,step,return,length,...
//!     eval.csv           one row per evaluation: step,mean_return,std_return,episodes
//! ```
//!
//! Every column is found by its header name, never by its position, so that runs with more
//! columns (DQN's `loss`, ...) read the same way. One metric is derived rather than read:
//! `value_mse`, the square of `value_rmse` (its mean over seeds is the mean squared error that
//! Sutton & Barto's Figure 5.3 plots).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The derived metric: the square of the `value_rmse` column.
pub const VALUE_MSE: &str = "value_mse";

/// The `metrics.csv` column of the value error against the truth.
const VALUE_RMSE: &str = "value_rmse";

/// A CSV file of numbers and empty cells, read whole.
///
/// No quoting: the run files hold numbers, booleans and empty cells only.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Where it was read from (for error messages).
    pub path: PathBuf,
    /// The header's column names, in order.
    pub columns: Vec<String>,
    /// The cells of each data row, as written.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Reads a CSV file.
    pub fn read(path: &Path) -> Result<Table> {
        let text =
            fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        Table::parse(path, &text)
    }

    /// Parses CSV text; `path` names it in errors. Every row must have the header's number of
    /// cells; blank lines are skipped.
    pub fn parse(path: &Path, text: &str) -> Result<Table> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((_, header)) = lines.next() else {
            bail!("{}: empty file, expected a CSV header", path.display());
        };
        let columns: Vec<String> = header.split(',').map(|c| c.trim().to_string()).collect();
        let mut rows = Vec::new();
        for (i, line) in lines {
            let cells: Vec<String> = line.split(',').map(|c| c.trim().to_string()).collect();
            if cells.len() != columns.len() {
                bail!(
                    "{}:{}: {} cells, but the header has {} columns",
                    path.display(),
                    i + 1,
                    cells.len(),
                    columns.len()
                );
            }
            rows.push(cells);
        }
        Ok(Table {
            path: path.to_path_buf(),
            columns,
            rows,
        })
    }

    /// The index of a column, if the header has it.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The cells of column `name` as numbers, `None` for an empty cell; `true` and `false`
    /// read as 1 and 0.
    ///
    /// # Errors
    /// A column the header lacks (the message lists those it has), a cell that is not a
    /// number (with its line), or a NaN or infinite one (with its line and column).
    pub fn numbers(&self, name: &str) -> Result<Vec<Option<f64>>> {
        if name == VALUE_MSE && self.index(VALUE_MSE).is_none() {
            if let Some(rmse) = self.index(VALUE_RMSE).map(|_| self.numbers(VALUE_RMSE)) {
                return Ok(rmse?.into_iter().map(|x| x.map(|x| x * x)).collect());
            }
        }
        let Some(j) = self.index(name) else {
            bail!(
                "{}: no column `{name}`; the columns are: {}",
                self.path.display(),
                self.columns.join(", ")
            );
        };
        self.rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let cell = &row[j];
                if cell.is_empty() {
                    return Ok(None);
                }
                // Booleans (the `terminated` column) count as 1 and 0, so they average to rates.
                match cell.as_str() {
                    "true" => return Ok(Some(1.0)),
                    "false" => return Ok(Some(0.0)),
                    _ => {}
                }
                match cell.parse::<f64>() {
                    Ok(x) if x.is_finite() => Ok(Some(x)),
                    // A NaN or an infinity would draw nothing, or stretch an axis without end,
                    // and average into every statistic: refused where it stands.
                    Ok(_) => Err(anyhow::anyhow!(
                        "{}:{}:{}: column `{name}` holds `{cell}`, not a finite number",
                        self.path.display(),
                        i + 2,
                        j + 1
                    )),
                    Err(_) => Err(anyhow::anyhow!(
                        "{}:{}: column `{name}` holds `{cell}`, not a number",
                        self.path.display(),
                        i + 2
                    )),
                }
            })
            .collect()
    }
}

/// One seed's records in a run directory.
#[derive(Clone, Debug)]
pub struct SeedRun {
    /// The seed, from the directory name `seed_<k>`.
    pub seed: u64,
    /// The directory `RUN_DIR/seed_<k>`.
    pub dir: PathBuf,
    /// `metrics.csv`: one row per training episode.
    pub metrics: Table,
}

impl SeedRun {
    /// `eval.csv`, if the seed has one.
    pub fn eval(&self) -> Result<Option<Table>> {
        let path = self.dir.join("eval.csv");
        if !path.exists() {
            return Ok(None);
        }
        Table::read(&path).map(Some)
    }
}

/// A run directory: its name, what its config says it ran, and its seeds.
#[derive(Clone, Debug)]
pub struct Run {
    /// The directory.
    pub dir: PathBuf,
    /// The directory's own name.
    pub name: String,
    /// `[env] id` of `config.toml`, if it has one.
    pub env_id: Option<String>,
    /// `[agent] algorithm` of `config.toml`, if it has one.
    pub algorithm: Option<String>,
    /// The seeds, in increasing order.
    pub seeds: Vec<SeedRun>,
}

impl Run {
    /// Reads a run directory: `config.toml` (optional) and every `seed_<k>/metrics.csv`.
    ///
    /// # Errors
    /// A directory that does not exist, or holds no `seed_<k>/metrics.csv`; an unreadable or
    /// malformed file.
    pub fn load(dir: &Path) -> Result<Run> {
        if !dir.is_dir() {
            bail!("run directory {} does not exist", dir.display());
        }
        let name = dir
            .canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| dir.display().to_string());
        let (env_id, algorithm) = read_config(&dir.join("config.toml"))?;
        let mut seeds = Vec::new();
        let entries =
            fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
            let file_name = entry.file_name();
            let Some(seed) = file_name
                .to_str()
                .and_then(|n| n.strip_prefix("seed_"))
                .and_then(|k| k.parse::<u64>().ok())
            else {
                continue;
            };
            let seed_dir = entry.path();
            let metrics_path = seed_dir.join("metrics.csv");
            if !metrics_path.is_file() {
                bail!("{} has no metrics.csv", seed_dir.display());
            }
            seeds.push(SeedRun {
                seed,
                metrics: Table::read(&metrics_path)?,
                dir: seed_dir,
            });
        }
        if seeds.is_empty() {
            bail!(
                "{} is not a run directory: it has no seed_<k>/metrics.csv (qlab train writes them)",
                dir.display()
            );
        }
        seeds.sort_by_key(|s| s.seed);
        Ok(Run {
            dir: dir.to_path_buf(),
            name,
            env_id,
            algorithm,
            seeds,
        })
    }

    /// The metric columns every seed's `metrics.csv` has (all but `episode` and `step`), and
    /// `value_mse` with `value_rmse`.
    pub fn metric_names(&self) -> Vec<String> {
        let first = &self.seeds[0].metrics.columns;
        let mut names: Vec<String> = first
            .iter()
            .filter(|c| *c != "episode" && *c != "step")
            .filter(|c| self.seeds.iter().all(|s| s.metrics.index(c).is_some()))
            .cloned()
            .collect();
        if names.iter().any(|c| c == VALUE_RMSE) && !names.iter().any(|c| c == VALUE_MSE) {
            names.push(VALUE_MSE.into());
        }
        names
    }

    /// Checks that every seed's `metrics.csv` has the column `metric`.
    ///
    /// # Errors
    /// A metric some seed lacks, with the list of those all seeds have.
    pub fn check_metric(&self, metric: &str) -> Result<()> {
        let available = self.metric_names();
        if !available.iter().any(|m| m == metric) {
            bail!(
                "{}: no metric `{}`; available: {}",
                self.dir.display(),
                metric,
                available.join(", ")
            );
        }
        Ok(())
    }

    /// Why the run is not whole, in words (`interrupted: 1 of 3 seeds finished`), or `None`
    /// for a complete run. A run without `summary.json` is still going or was killed; a
    /// summary that says nothing of its status was written complete.
    pub fn unfinished(&self) -> Option<String> {
        let summary = match self.summary() {
            Ok(Some(s)) => s,
            Ok(None) => return Some("no summary.json: still running, or killed".into()),
            Err(e) => return Some(format!("{e:#}")),
        };
        let status = summary.status.as_deref().unwrap_or("complete");
        if status == "complete" && summary.unfinished_seeds.is_empty() {
            return None;
        }
        let finished = summary.seeds.len();
        Some(format!(
            "{status}: {finished} of {} seeds finished",
            finished + summary.unfinished_seeds.len()
        ))
    }

    /// `summary.json`, if the run has one (a run still going has none).
    pub fn summary(&self) -> Result<Option<Summary>> {
        let path = self.dir.join("summary.json");
        if !path.exists() {
            return Ok(None);
        }
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        Summary::parse(&path, &text).map(Some)
    }
}

/// `[env] id` and `[agent] algorithm` of a config file; both `None` when there is no file.
fn read_config(path: &Path) -> Result<(Option<String>, Option<String>)> {
    if !path.exists() {
        return Ok((None, None));
    }
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("{}: not valid TOML", path.display()))?;
    let get = |section: &str, key: &str| {
        table
            .get(section)
            .and_then(|s| s.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    Ok((get("env", "id"), get("agent", "algorithm")))
}

/// One seed's entry of `summary.json`. Each field is `None` when the file does not have it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeedSummary {
    /// The seed.
    pub seed: u64,
    /// Training episodes.
    pub episodes: Option<f64>,
    /// Training env steps.
    pub steps: Option<f64>,
    /// Wall-clock seconds of the seed's training.
    pub wall_seconds: Option<f64>,
    /// Training env steps per wall-clock second.
    pub steps_per_second: Option<f64>,
    /// The mean return of the final greedy evaluation.
    pub final_eval_mean_return: Option<f64>,
}

/// The per-seed part of `summary.json`, and whether the run finished.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// One entry per seed.
    pub seeds: Vec<SeedSummary>,
    /// `status`: `complete`, `interrupted` or `failed`; `None` when the file has none.
    pub status: Option<String>,
    /// `unfinished_seeds`: the seeds that did not finish (empty when the file has none).
    pub unfinished_seeds: Vec<u64>,
}

impl Summary {
    /// Parses `summary.json`: the per-seed entries are `per_seed` (even empty: a run
    /// interrupted before any seed finished), else the objects with a `seed` key in the first
    /// array of such objects (the document itself, or one of its top-level values).
    pub fn parse(path: &Path, text: &str) -> Result<Summary> {
        let doc: serde_json::Value = serde_json::from_str(text)
            .with_context(|| format!("{}: not valid JSON", path.display()))?;
        let all_seeds = |a: &Vec<serde_json::Value>| {
            a.iter().all(|e| e.get("seed").is_some_and(|s| s.is_u64()))
        };
        let is_seed_list =
            |v: &serde_json::Value| v.as_array().is_some_and(|a| !a.is_empty() && all_seeds(a));
        let list = if is_seed_list(&doc) {
            Some(&doc)
        } else if let Some(per_seed) = doc
            .get("per_seed")
            .filter(|v| v.as_array().is_some_and(all_seeds))
        {
            Some(per_seed)
        } else {
            doc.as_object()
                .and_then(|o| o.values().find(|v| is_seed_list(v)))
        };
        let Some(list) = list.and_then(|l| l.as_array()) else {
            bail!(
                "{}: no per-seed entries (a list of objects with a `seed` key)",
                path.display()
            );
        };
        let seeds = list
            .iter()
            .map(|e| {
                let num = |k: &str| e.get(k).and_then(|v| v.as_f64());
                SeedSummary {
                    seed: e["seed"].as_u64().unwrap_or_default(),
                    episodes: num("episodes"),
                    steps: num("steps"),
                    wall_seconds: num("wall_seconds"),
                    steps_per_second: num("steps_per_second"),
                    final_eval_mean_return: num("final_eval_mean_return"),
                }
            })
            .collect();
        let status = doc
            .get("status")
            .and_then(|s| s.as_str())
            .map(str::to_string);
        let unfinished_seeds = doc
            .get("unfinished_seeds")
            .and_then(|u| u.as_array())
            .map_or_else(Vec::new, |u| u.iter().filter_map(|s| s.as_u64()).collect());
        Ok(Summary {
            seeds,
            status,
            unfinished_seeds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_found_by_name_and_empty_cells_are_none() {
        let t = Table::parse(
            Path::new("m.csv"),
            "episode,step,return,terminated,value_rmse\n1,5,-5,true,\n2,9,-4,false,0.5\n",
        )
        .unwrap();
        assert_eq!(t.numbers("terminated").unwrap(), vec![Some(1.0), Some(0.0)]);
        assert_eq!(t.numbers("return").unwrap(), vec![Some(-5.0), Some(-4.0)]);
        assert_eq!(t.numbers("value_rmse").unwrap(), vec![None, Some(0.5)]);
        let e = t.numbers("loss").unwrap_err().to_string();
        assert_eq!(
            e,
            "m.csv: no column `loss`; the columns are: episode, step, return, terminated, value_rmse"
        );
    }

    #[test]
    fn ragged_rows_and_text_cells_name_their_line() {
        let e = Table::parse(Path::new("m.csv"), "a,b\n1,2\n3\n")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "m.csv:3: 1 cells, but the header has 2 columns");
        let t = Table::parse(Path::new("m.csv"), "a,b\n1,2\nx,4\n").unwrap();
        let e = t.numbers("a").unwrap_err().to_string();
        assert_eq!(e, "m.csv:3: column `a` holds `x`, not a number");
    }

    #[test]
    fn nan_and_infinite_cells_are_refused_at_their_line_and_column_not_plotted() {
        let t = Table::parse(Path::new("m.csv"), "a,b\n1,2\n3,NaN\n4,inf\n-inf,5\n").unwrap();
        let e = t.numbers("b").unwrap_err().to_string();
        assert_eq!(e, "m.csv:3:2: column `b` holds `NaN`, not a finite number");
        let e = t.numbers("a").unwrap_err().to_string();
        assert_eq!(e, "m.csv:5:1: column `a` holds `-inf`, not a finite number");
    }

    #[test]
    fn summary_entries_are_found_under_any_key() {
        let text = r#"{"aggregate": {"episodes": 10},
            "seeds": [{"seed": 0, "episodes": 10, "steps": 100, "wall_seconds": 0.5,
                       "steps_per_second": 200.0, "final_eval_mean_return": -13.0},
                      {"seed": 1, "episodes": 10}]}"#;
        let s = Summary::parse(Path::new("summary.json"), text).unwrap();
        assert_eq!(s.seeds.len(), 2);
        assert_eq!(s.seeds[0].steps_per_second, Some(200.0));
        assert_eq!(s.seeds[1].wall_seconds, None);
        let e = Summary::parse(Path::new("summary.json"), "{}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no per-seed entries"), "{e}");
    }

    /// A run interrupted before any seed finished has an empty `per_seed`: its summary still
    /// reads, with its status and the seeds left.
    #[test]
    fn an_interrupted_summary_without_finished_seeds_reads() {
        let text = r#"{"env": "X", "status": "interrupted", "unfinished_seeds": [0, 1],
            "per_seed": [], "aggregate": {"seeds": 0}}"#;
        let s = Summary::parse(Path::new("summary.json"), text).unwrap();
        assert!(s.seeds.is_empty());
        assert_eq!(s.status.as_deref(), Some("interrupted"));
        assert_eq!(s.unfinished_seeds, [0, 1]);
    }

    /// `Run::unfinished` says why a run is not whole: no summary, or its status with the
    /// count of finished seeds; a summary without a status is complete.
    #[test]
    fn runs_that_are_not_whole_say_why() {
        let dir = std::env::temp_dir().join(format!("qlab-runs-unfinished-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("seed_0")).unwrap();
        fs::write(
            dir.join("seed_0/metrics.csv"),
            "episode,step,return\n1,3,-3\n",
        )
        .unwrap();
        let run = Run::load(&dir).unwrap();
        assert_eq!(
            run.unfinished().as_deref(),
            Some("no summary.json: still running, or killed")
        );
        let seed = r#"{"seed": 0, "episodes": 1}"#;
        fs::write(
            dir.join("summary.json"),
            format!(
                r#"{{"status": "interrupted", "unfinished_seeds": [1, 2], "per_seed": [{seed}]}}"#
            ),
        )
        .unwrap();
        assert_eq!(
            run.unfinished().as_deref(),
            Some("interrupted: 1 of 3 seeds finished")
        );
        fs::write(
            dir.join("summary.json"),
            format!(r#"{{"per_seed": [{seed}]}}"#),
        )
        .unwrap();
        assert_eq!(run.unfinished(), None);
        fs::remove_dir_all(&dir).unwrap();
    }
}
