//! Dropout with its own seeded generator.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::{Module, Result, Tensor};
use qlab_rng::EnvRng;
use rand::SeedableRng;

use super::TrainMode;

/// Inverted dropout: in training mode each element is zeroed with probability `p` and the
/// survivors are scaled by `1/(1 − p)`; in evaluation mode the input passes unchanged.
///
/// candle's own dropout draws from an unseedable generator; this one owns an [`EnvRng`], so a
/// seeded run repeats exactly. The mask is drawn on the CPU and moved to the input's device.
#[derive(Debug)]
pub struct Dropout {
    p: f64,
    rng: Mutex<EnvRng>,
    training: AtomicBool,
}

impl Dropout {
    /// Dropout with probability `p` in `[0, 1)`, its masks drawn from a generator seeded with
    /// `seed`.
    pub fn new(p: f64, seed: u64) -> Result<Self> {
        if !(0.0..1.0).contains(&p) {
            candle_core::bail!("dropout probability must be in [0, 1), got {p}")
        }
        Ok(Self {
            p,
            rng: Mutex::new(EnvRng::seed_from_u64(seed)),
            training: AtomicBool::new(true),
        })
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// Restarts the mask generator from `seed`.
    pub fn reseed(&self, seed: u64) {
        *self.rng.lock().unwrap_or_else(|e| e.into_inner()) = EnvRng::seed_from_u64(seed);
    }

    /// Whether a forward pass changes its input: training with `p > 0`.
    pub fn is_active(&self) -> bool {
        self.is_training() && self.p > 0.0
    }
}

impl TrainMode for Dropout {
    fn set_training(&self, training: bool) {
        self.training.store(training, Ordering::Relaxed);
    }

    fn is_training(&self) -> bool {
        self.training.load(Ordering::Relaxed)
    }
}

impl Module for Dropout {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        if !self.is_training() || self.p == 0.0 {
            return Ok(xs.clone());
        }
        let keep = 1.0 - self.p;
        let scale = 1.0 / keep;
        let mask: Vec<f32> = {
            let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
            (0..xs.elem_count())
                .map(|_| {
                    if rng.next_f64() < keep {
                        scale as f32
                    } else {
                        0.0
                    }
                })
                .collect()
        };
        let mask = Tensor::from_vec(mask, xs.shape(), &candle_core::Device::Cpu)?
            .to_dtype(xs.dtype())?
            .to_device(xs.device())?;
        xs.mul(&mask)
    }
}

/// A seed for a block's own generator, derived from its parameter-name prefix, so that
/// dropout masks are reproducible without a separate seed in every config.
pub(crate) fn seed_from_name(name: &str) -> u64 {
    // FNV-1a, 64 bit.
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
