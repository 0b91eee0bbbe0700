//! The DQN update of an MLP Q-network computed straight from the weights, without building
//! tensors or a graph: the arithmetic candle's autodiff performs for the same loss, operation
//! for operation, so the parameters, losses and Q-values come out with the same bits (a test
//! checks it against the tensor path). It skips the per-op bookkeeping (graph, gradient
//! accumulation into zero-filled tensors), which is a large share of a small network's step.

use candle_core::{Tensor, backprop::GradStore};

use super::Dqn;
use crate::nn::{FusedAct, Linear, QNetwork, backward_rows, forward_rows};
use crate::{Error, Result};

/// `Σ xs` in the order of candle's `f32` sum of a contiguous vector (`sum_all`). With AVX2:
/// four eight-lane running sums over blocks of 32, added pairwise, the eight lanes added as
/// `((l0+l4)+(l1+l5)) + ((l2+l6)+(l3+l7))`, then the tail in order; without, in order.
fn candle_sum(xs: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    let blocked = std::arch::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    let blocked = false;
    if !blocked {
        return xs.iter().fold(0.0, |s, &x| s + x);
    }
    let blocks = xs.len() / 32;
    let mut acc = [[0.0f32; 8]; 4];
    for b in 0..blocks {
        for (j, lanes) in acc.iter_mut().enumerate() {
            for (l, a) in lanes.iter_mut().enumerate() {
                *a += xs[b * 32 + j * 8 + l];
            }
        }
    }
    let s: Vec<f32> = (0..8)
        .map(|l| (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l]))
        .collect();
    let t: Vec<f32> = (0..4).map(|l| s[l] + s[l + 4]).collect();
    let mut total = (t[0] + t[1]) + (t[2] + t[3]);
    for &x in &xs[blocks * 32..] {
        total += x;
    }
    total
}

/// `xs · mul + add`, candle's `affine` on `f32` (two roundings).
fn affine(x: f32, mul: f64, add: f64) -> f32 {
    x * (mul as f32) + (add as f32)
}

/// `max_a Q(s, a)` of each of the `rows` observations `obs` through `net` without tensors:
/// what `net.forward(obs)?.max(1)` gives, bit for bit (the fused op's functions, then candle's
/// running maximum: the first value, replaced by each later one that is larger). `None`
/// where the network has no such form ([`QNetwork::fused_layers`]).
pub(super) fn greedy_values(net: &QNetwork, obs: &[f32], rows: usize) -> Option<Vec<f32>> {
    let q_all = layer_outputs(&net.fused_layers()?, obs, rows)?.pop()?;
    let actions = q_all.len() / rows.max(1);
    Some(
        q_all
            .chunks_exact(actions)
            .map(|q| q.iter().fold(q[0], |m, &v| if m < v { v } else { m }))
            .collect(),
    )
}

/// Each layer's output for the `rows` inputs `x`, first layer first, through the fused op's
/// functions; `None` where one of them has no such form.
fn layer_outputs(layers: &[(&Linear, FusedAct)], x: &[f32], rows: usize) -> Option<Vec<Vec<f32>>> {
    let mut outs: Vec<Vec<f32>> = Vec::with_capacity(layers.len());
    for (layer, act) in layers {
        let input = outs.last().map_or(x, Vec::as_slice);
        outs.push(forward_rows(
            *act,
            input,
            rows,
            layer.weight(),
            layer.bias(),
        )?);
    }
    Some(outs)
}

/// Huber's loss (δ = 1) of the difference `d`, and its gradient with respect to `d` when the
/// loss's gradient is `g`: `huber_elementwise`'s ops forward, candle's backward rules for them
/// in reverse, ties included (`|d|` at exactly 0 or 1 passes half through the clamp).
fn huber_and_gradient(d: f32, g: f32) -> (f32, f32) {
    let a = d.abs();
    // candle's maximum and minimum (NaN passes through as it does there).
    let m1 = if a < 0.0 { 0.0 } else { a };
    let qq = if m1 > 1.0 { 1.0 } else { m1 };
    let loss = affine(qq * qq, 0.5, 0.0) + affine(a - qq, 1.0, 0.0);
    let g_sqr = affine(qq * affine(g, 0.5, 0.0), 2.0, 0.0);
    let g_sub = affine(g, 1.0, 0.0);
    let g_qq = g_sqr - g_sub;
    let tie = |eq: bool| if eq { 1.0f32 } else { 0.0 };
    let g_m1 = (tie(qq == m1) * g_qq) / (tie(qq == 1.0) + 1.0);
    let g_a = g_sub + (tie(m1 == a) * g_m1) / (tie(m1 == 0.0) + 1.0);
    (loss, g_a * if d >= 0.0 { 1.0 } else { -1.0 })
}

impl Dqn {
    /// One gradient step of the Huber TD loss (δ = 1) on the batch in `self.batch` with the
    /// bootstrap values `next_q`, computed without tensors; returns the loss and the mean Q
    /// of the batch. `None` (nothing done) where the network is not an MLP with a linear head
    /// that the fused op's functions compute ([`QNetwork::fused_layers`]).
    ///
    /// The loss is `huber_loss`'s composition (`|d|` clamped to `[0, 1]`, `½q² + (|d| − q)`,
    /// mean), and its gradient follows candle's backward rules for each of those ops,
    /// including their ties (a clamp at exactly 0 or 1 passes half the gradient).
    pub(super) fn update_direct(&mut self, next_q: &[f32]) -> Result<Option<(f64, f64)>> {
        let Some(layers) = self.online.fused_layers() else {
            return Ok(None);
        };
        let b = &self.batch;
        let n = b.len();
        let actions = self.n_actions;
        // Forward: each layer's output.
        let Some(outs) = layer_outputs(&layers, &b.obs, n) else {
            return Ok(None);
        };
        let q_all = outs.last().expect("at least the head");
        let q: Vec<f32> = (0..n)
            .map(|i| q_all[i * actions + b.actions[i] as usize])
            .collect();
        // The loss and its gradient at q, element by element.
        let inv_n = 1.0 / n as f64;
        let g_el = affine(1.0, inv_n, 0.0);
        let mut losses = vec![0.0f32; n];
        let mut dq = vec![0.0f32; n];
        for i in 0..n {
            let y = next_q[i] * b.discounts[i] + b.rewards[i];
            (losses[i], dq[i]) = huber_and_gradient(q[i] - y, g_el);
        }
        let loss = affine(candle_sum(&losses), inv_n, 0.0);
        let mean_q = affine(candle_sum(&q), inv_n, 0.0);
        for (what, v) in [("loss", loss), ("Q-value", mean_q)] {
            if !v.is_finite() {
                return Err(Error::Diverged {
                    step: self.steps,
                    what: what.into(),
                    value: f64::from(v),
                });
            }
        }
        // Backward through the head and the torso, last layer first.
        let mut g = vec![0.0f32; n * actions];
        for i in 0..n {
            g[i * actions + b.actions[i] as usize] = 0.0 + dq[i];
        }
        let mut grads = GradStore::default();
        for (i, (layer, act)) in layers.iter().enumerate().rev() {
            let x = if i == 0 { &b.obs } else { &outs[i - 1] };
            let w = layer.weight();
            let Some((dx, dw, db)) =
                backward_rows(*act, x, &outs[i], &g, n, w, layer.bias().is_some(), i > 0)
            else {
                return Ok(None);
            };
            grads.insert(w, Tensor::from_vec(dw, w.shape(), w.device())?);
            if let (Some(bias), Some(db)) = (layer.bias(), db) {
                grads.insert(bias, Tensor::from_vec(db, bias.shape(), bias.device())?);
            }
            if let Some(dx) = dx {
                g = dx;
            }
        }
        self.optimizer_step(&grads)?;
        self.updates += 1;
        Ok(Some((f64::from(loss), f64::from(mean_q))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn the_huber_gradient_is_candles_to_the_bit() {
        let ds = [
            0.0f32,
            -0.0,
            1.0,
            -1.0,
            0.5,
            -0.25,
            2.0,
            -3.5,
            1e-8,
            0.999_999_9,
            1.000_000_1,
            37.0,
        ];
        let pred = Var::from_slice(&ds, ds.len(), &Device::Cpu).unwrap();
        let target = Tensor::zeros(ds.len(), candle_core::DType::F32, &Device::Cpu).unwrap();
        let loss = crate::nn::huber_loss(pred.as_tensor(), &target, 1.0).unwrap();
        let grad = loss.backward().unwrap();
        let grad = grad
            .get(pred.as_tensor())
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let elementwise = crate::nn::huber_elementwise(pred.as_tensor(), 1.0).unwrap();
        let elementwise = elementwise.to_vec1::<f32>().unwrap();
        let g = affine(1.0, 1.0 / ds.len() as f64, 0.0);
        for (i, &d) in ds.iter().enumerate() {
            let (l, gd) = huber_and_gradient(d, g);
            assert_eq!(l.to_bits(), elementwise[i].to_bits(), "loss at {d}");
            assert_eq!(gd.to_bits(), grad[i].to_bits(), "gradient at {d}");
        }
        let mean = loss.to_scalar::<f32>().unwrap();
        let ours: Vec<f32> = ds.iter().map(|&d| huber_and_gradient(d, g).0).collect();
        assert_eq!(affine(candle_sum(&ours), 1.0 / ds.len() as f64, 0.0), mean);
    }

    #[test]
    fn sums_add_in_candles_order() {
        let xs: Vec<f32> = (0..77)
            .map(|i| ((i * 37 % 101) as f32).sin() * 1e3)
            .collect();
        for len in [0, 5, 32, 64, 77] {
            let t = Tensor::from_slice(&xs[..len], len, &candle_core::Device::Cpu).unwrap();
            let s = t.sum_all().unwrap().to_scalar::<f32>().unwrap();
            assert_eq!(
                candle_sum(&xs[..len]).to_bits(),
                s.to_bits(),
                "length {len}"
            );
        }
    }
}
