//! The `qlab` command-line tool: parses the command line, runs the subcommand (each in
//! [`qlab::cmd`], its arguments with it), prints its output, and maps its error to an exit
//! code.

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use qlab::cmd;

// candle allocates a buffer per tensor op, and glibc's malloc serves the 64–256 KiB ones with
// mmap/munmap: a DQN training step ran 3× slower on it than on mimalloc (page faults
// 2,963,599 against 1,658 over one benchmark run; BENCHMARKS.md, "Networks").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    Eval(cmd::eval::EvalArgs),
    Attack(cmd::attack::AttackArgs),
    Rollout(cmd::rollout::RolloutArgs),
    Bench(cmd::bench::BenchArgs),
    Plot(cmd::plot::PlotArgs),
    Compare(cmd::compare::CompareArgs),
    Render(cmd::render::RenderArgs),
    Solve(cmd::solve::SolveArgs),
}

fn run(cli: Cli) -> anyhow::Result<String> {
    match cli.command {
        Command::Envs => cmd::envs::run(),
        Command::Train(args) => cmd::train::run(&args),
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

fn main() -> ExitCode {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // One thread per candle kernel: the networks here are small, and on two cores a second
        // kernel thread made a DQN step slower, not faster (BENCHMARKS.md). Seeds run in
        // parallel instead.
        // SAFETY: the first statement of `main`; no other thread exists yet.
        unsafe { qlab_agents::nn::set_cpu_threads(1) };
    }
    match run(Cli::parse()) {
        Ok(out) => match write_stdout(&out) {
            Ok(()) => ExitCode::SUCCESS,
            // The reader went away (`qlab rollout … | head -1`): a quiet end, as for other
            // Unix tools.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot write to stdout: {e}");
                ExitCode::from(1)
            }
        },
        Err(e) => {
            // A run stopped by a signal says how to finish it, and exits as a shell reports
            // the signal (128 + its number).
            if let Some(i) = e
                .chain()
                .find_map(|c| c.downcast_ref::<qlab::runner::Interrupted>())
            {
                eprintln!("{i}");
                return ExitCode::from(i.exit_code());
            }
            // A library's `{}` writes a float such as 1e300 out in full; the message shows it
            // as 1e300.
            eprintln!(
                "error: {}",
                qlab::float::shorten_long_numbers(&format!("{e:#}"))
            );
            // A failure while running exits 1; anything else comes from the command's input
            // (a config, a flag): the usage error code.
            if e.chain().any(|c| c.is::<qlab::runner::Failure>()) {
                ExitCode::from(1)
            } else {
                ExitCode::from(2)
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
