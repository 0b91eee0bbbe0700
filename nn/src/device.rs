//! Choosing the device networks run on, and how many CPU threads candle uses.

use candle_core::Device;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where tensors live: `device = "cpu" | "cuda" | "auto"` in a config.
///
/// | value    | meaning                                                              |
/// |----------|----------------------------------------------------------------------|
/// | `"cpu"`  | the CPU (default)                                                    |
/// | `"cuda"` | the first CUDA GPU; an error if the build lacks the `cuda` feature or no GPU is present |
/// | `"auto"` | the first CUDA GPU when the build has CUDA and a GPU is present, else the CPU |
///
/// CUDA support is compiled in with the crate's `cuda` cargo feature, which forwards to
/// candle's.
///
/// ```
/// # fn main() -> qlab_nn::Result<()> {
/// use qlab_nn::DeviceConfig;
/// assert!(DeviceConfig::Cpu.resolve()?.is_cpu());
/// assert!(DeviceConfig::Auto.resolve().is_ok());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceConfig {
    /// The CPU.
    #[default]
    Cpu,
    /// The first CUDA GPU, or an error.
    Cuda,
    /// CUDA when available, else the CPU.
    Auto,
}

impl DeviceConfig {
    /// The candle device, or [`Error::DeviceUnavailable`] saying why CUDA cannot be used.
    pub fn resolve(self) -> Result<Device> {
        match self {
            DeviceConfig::Cpu => Ok(Device::Cpu),
            DeviceConfig::Cuda => cuda_device(),
            DeviceConfig::Auto => Ok(cuda_device().unwrap_or(Device::Cpu)),
        }
    }
}

impl std::str::FromStr for DeviceConfig {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "cpu" => Ok(DeviceConfig::Cpu),
            "cuda" => Ok(DeviceConfig::Cuda),
            "auto" => Ok(DeviceConfig::Auto),
            _ => Err(Error::config(
                "device",
                s,
                "one of \"cpu\", \"cuda\", \"auto\"",
            )),
        }
    }
}

fn cuda_device() -> Result<Device> {
    if !candle_core::utils::cuda_is_available() {
        return Err(Error::DeviceUnavailable {
            requested: "cuda".into(),
            reason: "this build has no CUDA support; rebuild with `--features cuda`".into(),
        });
    }
    Device::new_cuda(0).map_err(|e| {
        // candle appends a backtrace when RUST_BACKTRACE is set; the reason stays one line.
        let e = match e {
            candle_core::Error::WithBacktrace { inner, .. } => *inner,
            e => e,
        };
        Error::DeviceUnavailable {
            requested: "cuda".into(),
            reason: format!("no usable CUDA GPU was found ({e})"),
        }
    })
}

/// The number of threads candle's CPU kernels use (matrix products, convolutions).
///
/// candle reads it from the `RAYON_NUM_THREADS` environment variable, defaulting to the number
/// of physical cores. For the small networks of reinforcement learning one thread is fastest:
/// on a shared 2-core machine a DQN step of a 4-256-256-2 MLP took 0.91 ms (median; 8.2 ms at
/// the 90th percentile) with two threads against 0.58 ms with one, as the threads spend longer
/// synchronising than multiplying (see the "Networks" section of BENCHMARKS.md). Run with
/// `RAYON_NUM_THREADS=1`, or call [`set_cpu_threads`] first thing in `main`.
pub fn cpu_threads() -> usize {
    candle_core::utils::get_num_threads()
}

/// Sets the number of threads candle's CPU kernels use, by setting `RAYON_NUM_THREADS`.
///
/// Matrix products read the variable on every call; convolutions use rayon's global pool, which
/// reads it once when first used, so call this before building any network.
///
/// # Safety
///
/// This writes the process environment ([`std::env::set_var`]): call it at the start of `main`,
/// while no other thread can be reading or writing the environment.
pub unsafe fn set_cpu_threads(n: usize) {
    // SAFETY: forwarded to the caller, who guarantees that no other thread touches the
    // environment concurrently.
    unsafe { std::env::set_var("RAYON_NUM_THREADS", n.max(1).to_string()) }
}
