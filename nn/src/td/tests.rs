use super::*;
use crate::{HeadConfig, QNetworkConfig, TorsoConfig};
use candle_core::Device;
use qlab_rng::EnvRng;

fn mlp(activation: crate::Activation) -> QNetworkConfig {
    QNetworkConfig {
        torso: TorsoConfig::Mlp {
            hidden: vec![16, 8],
            activation,
            layer_norm: false,
            dropout: 0.0,
        },
        ..Default::default()
    }
}

fn data(n: usize, scale: f64, rng: &mut EnvRng) -> Vec<f32> {
    (0..n)
        .map(|_| ((rng.next_f64() * 2.0 - 1.0) * scale) as f32)
        .collect()
}

/// `|a − b| ≤ tol·(1 + |b|)`.
fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

/// A valid two-row Huber batch over 2-number observations, unweighted.
fn two_rows() -> TdBatch<'static> {
    TdBatch {
        obs: &[0.5, -1.0, 2.0, 0.25],
        obs_shape: &[2],
        actions: &[1, 0],
        targets: &[3.0, -0.5],
        weights: None,
        loss: TdLoss::Huber,
    }
}

/// The fused step and the autodiff step agree on the loss, the mean Q, the TD errors and
/// every gradient, for both losses, with and without importance weights, with TD errors
/// inside and outside Huber's band, for the fused activations; and the fused step is the
/// one [`QNetwork::td_step`] takes for such a network.
#[test]
fn the_fused_step_agrees_with_autodiff() {
    let mut rng = EnvRng::new(7);
    let (n, d, a) = (37, 5, 3);
    for act in [crate::Activation::Relu, crate::Activation::Tanh] {
        let (net, params) = QNetwork::new(&[d], a, &mlp(act), 3, &Device::Cpu).unwrap();
        for (kind, weighted) in [
            (TdLoss::Huber, false),
            (TdLoss::Mse, false),
            (TdLoss::Huber, true),
            (TdLoss::Mse, true),
        ] {
            let obs = data(n * d, 2.0, &mut rng);
            let actions: Vec<u32> = (0..n).map(|i| (i % a) as u32).collect();
            // Targets spread over ±3: some TD errors past Huber's band of ±1.
            let targets = data(n, 3.0, &mut rng);
            let weights: Vec<f32> = data(n, 1.0, &mut rng).iter().map(|w| w.abs()).collect();
            let batch = TdBatch {
                obs: &obs,
                obs_shape: &[d],
                actions: &actions,
                targets: &targets,
                weights: weighted.then_some(&weights[..]),
                loss: kind,
            };
            let fused = net.td_step_fused(&batch).unwrap().expect("an MLP fuses");
            let auto = net.td_step_autodiff(&batch, None).unwrap();
            let chosen = net.td_step(&batch, None).unwrap();
            assert_eq!(chosen.loss.to_bits(), fused.loss.to_bits());
            let what = format!("{act:?} {kind:?} weighted {weighted}");
            assert!(close(fused.loss, auto.loss, 1e-5), "{what}: loss");
            assert!(close(fused.mean_q, auto.mean_q, 1e-5), "{what}: mean Q");
            assert!(fused.td_errors.iter().any(|e| e.abs() > 1.0), "{what}");
            for (f, g) in fused.td_errors.iter().zip(&auto.td_errors) {
                assert!(close(f64::from(*f), f64::from(*g), 1e-5), "{what}: td");
            }
            for (name, v) in params.named_vars() {
                let grad = |s: &TdStep| {
                    s.grads
                        .get(v.as_tensor())
                        .unwrap()
                        .flatten_all()
                        .unwrap()
                        .to_vec1::<f32>()
                        .unwrap()
                };
                let (gf, ga) = (grad(&fused), grad(&auto));
                assert_eq!(gf.len(), ga.len());
                let scale = ga.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                for (x, y) in gf.iter().zip(&ga) {
                    let ok = (x - y).abs() <= 1e-5 * (1.0 + scale);
                    assert!(ok, "{what}: gradient of {name}: {x} vs {y}");
                }
            }
        }
    }
}

/// Networks without the fused form (a dueling head, layer norm) have no fused step;
/// `td_step` takes autodiff for them, and for an extra loss term.
#[test]
fn other_networks_take_autodiff() {
    let dueling = QNetworkConfig {
        head: HeadConfig::Dueling {
            hidden: vec![],
            activation: Default::default(),
        },
        ..mlp(crate::Activation::Relu)
    };
    let (net, _) = QNetwork::new(&[2], 2, &dueling, 0, &Device::Cpu).unwrap();
    let batch = two_rows();
    assert!(net.td_step_fused(&batch).unwrap().is_none());
    let step = net.td_step(&batch, None).unwrap();
    let auto = net.td_step_autodiff(&batch, None).unwrap();
    assert_eq!(step.loss.to_bits(), auto.loss.to_bits());
    // An extra term adds to the loss.
    let (plain, _) =
        QNetwork::new(&[2], 2, &mlp(crate::Activation::Relu), 0, &Device::Cpu).unwrap();
    let extra = Tensor::new(2.0f32, &Device::Cpu).unwrap();
    let without = plain.td_step(&batch, None).unwrap().loss;
    let with = plain.td_step(&batch, Some(&extra)).unwrap().loss;
    assert!(close(with, without + 2.0, 1e-6), "{with} vs {without} + 2");
}

/// The tensor-free loss gradient matches finite differences of its loss, on both sides of
/// Huber's band.
#[test]
fn the_loss_gradient_matches_finite_differences() {
    let q = [0.3f32, -2.0, 1.5, 0.0, -0.7];
    let y = [0.0f32, 0.0, 0.0, 0.5, 0.4];
    let w = [1.0f32, 0.5, 2.0, 1.0, 0.25];
    for kind in [TdLoss::Huber, TdLoss::Mse] {
        let mut dq = [0.0f32; 5];
        td_loss_gradient(kind, &q, &y, Some(&w), 5.0, &mut dq).unwrap();
        for i in 0..q.len() {
            let h = 1e-3f32;
            let mut scratch = [0.0f32; 5];
            let mut at = |v: f32| {
                let mut qq = q;
                qq[i] = v;
                td_loss_gradient(kind, &qq, &y, Some(&w), 5.0, &mut scratch).unwrap()
            };
            let fd = (at(q[i] + h) - at(q[i] - h)) / f64::from(2.0 * h);
            assert!(
                close(f64::from(dq[i]), fd, 1e-3),
                "{kind:?} {i}: {} vs {fd}",
                dq[i]
            );
        }
    }
}

/// A bad batch is an error naming the value, not a panic.
#[test]
fn a_bad_batch_is_an_error() {
    let (net, _) = QNetwork::new(&[2], 2, &mlp(crate::Activation::Relu), 0, &Device::Cpu).unwrap();
    let good = two_rows();
    let err = |b: TdBatch| net.td_step(&b, None).unwrap_err().to_string();
    assert_eq!(
        err(TdBatch {
            actions: &[1, 2],
            ..good
        }),
        "invalid value 2 for `td batch actions[1]`: expected an action below 2"
    );
    assert!(
        err(TdBatch {
            targets: &[1.0],
            ..good
        })
        .contains("2 targets, one per row")
    );
    assert!(
        err(TdBatch {
            obs: &[0.0; 3],
            ..good
        })
        .contains("2 rows × 2 numbers")
    );
}

/// `q_values_rows` gives `forward`'s bits for a fused network and for another one.
#[test]
fn q_values_rows_are_forwards() {
    let mut rng = EnvRng::new(1);
    let obs = data(9 * 4, 1.0, &mut rng);
    for config in [
        mlp(crate::Activation::Relu),
        QNetworkConfig {
            head: HeadConfig::Dueling {
                hidden: vec![],
                activation: Default::default(),
            },
            ..mlp(crate::Activation::Tanh)
        },
    ] {
        let (net, _) = QNetwork::new(&[4], 3, &config, 2, &Device::Cpu).unwrap();
        let x = Tensor::from_slice(&obs, (9, 4), &Device::Cpu).unwrap();
        let want = net.forward(&x).unwrap().flatten_all().unwrap();
        let want: Vec<u32> = want
            .to_vec1::<f32>()
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect();
        let got = net.q_values_rows(&obs, &[4]).unwrap();
        assert_eq!(got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), want);
    }
    assert!(
        QNetwork::new(&[4], 3, &mlp(crate::Activation::Relu), 2, &Device::Cpu)
            .unwrap()
            .0
            .q_values_rows(&obs[..5], &[4])
            .is_err()
    );
}
