//! The `qlab` command-line tool: parses the command line, runs the subcommand (each in
//! [`qlab::cmd`], its arguments with it), prints its output, and maps its error to an exit
//! code.

use std::process::ExitCode;

// candle allocates a buffer per tensor op, and glibc's malloc serves the 64–256 KiB ones with
// mmap/munmap: a DQN training step ran 3× slower on it than on mimalloc (page faults
// 2,963,599 against 1,658 over one benchmark run; BENCHMARKS.md, "Networks").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // One thread per candle kernel: the networks here are small, and on two cores a second
        // kernel thread made a DQN step slower, not faster (BENCHMARKS.md). Seeds run in
        // parallel instead.
        // SAFETY: the first statement of `main`; no other thread exists yet.
        unsafe { qlab_agents::nn::set_cpu_threads(1) };
    }
    ExitCode::from(qlab::cli::main(std::env::args_os()))
}
