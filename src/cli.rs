//! The `qlab` command line: parses it, runs the subcommand (each in [`cmd`], its
//! arguments with it), prints its output, and maps its error to an exit code. The `qlab`
//! binary and the Python package's `qlab` command both call [`main`].

use std::ffi::OsString;
use std::io::Write as _;

use clap::{Parser, Subcommand};

use crate::cmd;

/// qlab: reinforcement-learning environments, agents and experiments.
#[derive(Parser, Debug)]
#[command(name = "qlab", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands; each one's help is its arguments' doc.
#[derive(Subcommand, Debug)]
enum Command {
    /// List every registered env with its spaces and a description.
    Envs,
    Train(cmd::train::TrainArgs),
    Sweep(cmd::sweep::SweepArgs),
    Eval(cmd::eval::EvalArgs),
    Attack(cmd::attack::AttackArgs),
    Rollout(cmd::rollout::RolloutArgs),
    Bench(cmd::bench::BenchArgs),
    Plot(cmd::plot::PlotArgs),
    Compare(cmd::compare::CompareArgs),
    Render(cmd::render::RenderArgs),
    Solve(cmd::solve::SolveArgs),
}

fn run(cli: Cli, driver: Option<&dyn cmd::sweep::Driver>) -> anyhow::Result<String> {
    match cli.command {
        Command::Envs => cmd::envs::run(),
        Command::Train(args) => cmd::train::run(&args),
        Command::Sweep(args) => cmd::sweep::run_with(&args, driver),
        Command::Eval(args) => cmd::eval::run(&args),
        Command::Attack(args) => cmd::attack::run(&args),
        Command::Rollout(args) => cmd::rollout::run(&args.rollout()?),
        Command::Bench(args) => cmd::bench::run(&args),
        Command::Plot(args) => cmd::plot::run(&args),
        Command::Compare(args) => cmd::compare::run(&args),
        Command::Render(args) => cmd::render::run(&args),
        Command::Solve(args) => cmd::solve::run(&args),
    }
}

/// Runs the command line `args` (the program name first, as [`std::env::args_os`] gives it):
/// the output goes to stdout, an error to stderr; returns the exit status.
///
/// 0 on success (and for `--help`, `--version`, or a reader of stdout that went away); 1 for a
/// failure while running; 2 for a usage or config error; 128 + the signal's number for a run
/// stopped by a signal, whose message names the command that finishes it.
///
/// Clap's `--help` and usage errors print here too: nothing ends the process, so that a host
/// such as the Python package can return the status itself.
pub fn main<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    main_with(args, None)
}

/// [`main`], with `driver` for the sweeps only it runs (`qlab sweep --executor ray`, `tpe`,
/// `[stop]`): the Python package's `qlab` command gives its sweep executor.
pub fn main_with<I, T>(args: I, driver: Option<&dyn cmd::sweep::Driver>) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // clap's own `exit`, without ending the process: the message (or the help) and
            // its status, 2 for a usage error, 0 for `--help` and `--version`.
            let _ = e.print();
            return u8::try_from(e.exit_code()).unwrap_or(2);
        }
    };
    match run(cli, driver) {
        Ok(out) => match write_stdout(&out) {
            Ok(()) => 0,
            // The reader went away (`qlab rollout … | head -1`): a quiet end, as for other
            // Unix tools.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
            Err(e) => {
                eprintln!("error: cannot write to stdout: {e}");
                1
            }
        },
        Err(e) => {
            // A run or a sweep stopped by a signal says how to finish it, and exits as a shell
            // reports the signal (128 + its number).
            if let Some(i) = e
                .chain()
                .find_map(|c| c.downcast_ref::<crate::sweep::Interrupted>())
            {
                eprintln!("{i}");
                return i.exit_code();
            }
            if let Some(i) = e
                .chain()
                .find_map(|c| c.downcast_ref::<crate::runner::Interrupted>())
            {
                eprintln!("{i}");
                return i.exit_code();
            }
            // A library's `{}` writes a float such as 1e300 out in full; the message shows it
            // as 1e300.
            eprintln!(
                "error: {}",
                crate::float::shorten_long_numbers(&format!("{e:#}"))
            );
            // A failure while running exits 1; anything else comes from the command's input
            // (a config, a flag): the usage error code.
            if e.chain().any(|c| c.is::<crate::runner::Failure>()) {
                1
            } else {
                2
            }
        }
    }
}

/// Writes a command's output to stdout, returning the error `print!` would panic on.
fn write_stdout(out: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own check of the command line: ids, conflicts and requirements that name
    /// arguments which exist, across every subcommand's `Args`.
    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
