//! Tests of the `qlab-nn` crate: gradient checks of every block, optimizers pinned to PyTorch,
//! checkpoints, configs, and small learning tasks.

use candle_core::{D, DType, Device, Module, Tensor, Var};
use qlab_nn::*;
use qlab_rng::EnvRng;
use rand::SeedableRng;

fn store64(seed: u64) -> ParamStore {
    ParamStore::new(seed, DType::F64, &Device::Cpu)
}

fn store32(seed: u64) -> ParamStore {
    ParamStore::new(seed, DType::F32, &Device::Cpu)
}

/// A tensor of `shape` uniform in `[-1, 1]`.
fn uniform(shape: &[usize], seed: u64, dtype: DType) -> Tensor {
    let mut rng = EnvRng::seed_from_u64(seed);
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|_| 2.0 * rng.next_f64() - 1.0).collect();
    Tensor::from_vec(v, shape, &Device::Cpu)
        .unwrap()
        .to_dtype(dtype)
        .unwrap()
}

fn input_var(shape: &[usize], seed: u64) -> Var {
    Var::from_tensor(&uniform(shape, seed, DType::F64)).unwrap()
}

/// Gradient check of `forward` w.r.t. `inputs` and every trainable parameter in `store`.
fn check(
    name: &str,
    store: &ParamStore,
    inputs: &[(&str, &Var)],
    forward: impl Fn() -> candle_core::Result<Tensor>,
) {
    check_with(name, store, inputs, &GradCheckConfig::default(), forward)
}

fn check_with(
    name: &str,
    store: &ParamStore,
    inputs: &[(&str, &Var)],
    config: &GradCheckConfig,
    forward: impl Fn() -> candle_core::Result<Tensor>,
) {
    let mut vars: Vec<(String, Var)> = inputs
        .iter()
        .map(|(n, v)| (n.to_string(), (*v).clone()))
        .collect();
    vars.extend(
        store
            .named_vars()
            .into_iter()
            .filter(|(n, _)| !qlab_nn::store::is_buffer(n)),
    );
    let report = grad_check(|| probe_loss(&forward()?, 99), &vars, config).unwrap();
    assert!(report.checked > 0, "{name}: nothing checked");
    assert!(report.passed(1e-4), "{name}: {report}");
}

mod gradcheck {
    use super::*;

    #[test]
    fn linear_and_every_activation() {
        for act in [
            Activation::Relu,
            Activation::Tanh,
            Activation::Sigmoid,
            Activation::Gelu,
            Activation::Identity,
        ] {
            let store = store64(1);
            let cfg = MlpConfig {
                hidden: vec![7, 5],
                activation: act,
                output_activation: act,
                ..Default::default()
            };
            let net = mlp(3, 2, &cfg, store.var_builder()).unwrap();
            let x = input_var(&[4, 3], 2);
            check(&format!("mlp {act:?}"), &store, &[("x", &x)], || {
                net.forward(x.as_tensor())
            });
        }
    }

    #[test]
    fn fused_linear_matches_the_generic_ops() {
        // The fused CPU op (`Linear::forward_act`) against candle's generic ops
        // (`forward_unfused` + activation): outputs and every gradient.
        // 12 rows take gemm; 1 and 3 rows the few-rows loops.
        for (dtype, tol) in [(DType::F64, 1e-12), (DType::F32, 1e-5)] {
            for (bias, lead) in [(true, 3), (false, 3), (true, 1), (false, 1)] {
                for (act, last) in [
                    (Activation::Relu, 4),
                    (Activation::Tanh, 4),
                    (Activation::Sigmoid, 4),
                    (Activation::Identity, 4),
                    (Activation::Relu, 3),
                    (Activation::Tanh, 1),
                ] {
                    let store = ParamStore::new(50, dtype, &Device::Cpu);
                    // Wider than the dot product's 32 running sums, with a remainder.
                    let lin = linear(70, 5, bias, store.var_builder()).unwrap();
                    // Rank 3 and non-contiguous (a transposed view).
                    let x = Var::from_tensor(&uniform(&[lead, 70, last], 51, dtype)).unwrap();
                    let xt = x.as_tensor().transpose(1, 2).unwrap();
                    let run = |fused: bool| {
                        let y = if fused {
                            lin.forward_act(&xt, act).unwrap()
                        } else {
                            act.forward(&lin.forward_unfused(&xt).unwrap()).unwrap()
                        };
                        let grads = probe_loss(&y, 52).unwrap().backward().unwrap();
                        let mut out = vec![y.flatten_all().unwrap()];
                        for (_, v) in store.named_vars() {
                            out.push(grads.get(v.as_tensor()).unwrap().flatten_all().unwrap());
                        }
                        out.push(grads.get(x.as_tensor()).unwrap().flatten_all().unwrap());
                        Tensor::cat(&out, 0)
                            .unwrap()
                            .to_dtype(DType::F64)
                            .unwrap()
                            .to_vec1::<f64>()
                            .unwrap()
                    };
                    let (a, b) = (run(true), run(false));
                    let err = a
                        .iter()
                        .zip(&b)
                        .map(|(x, y)| (x - y).abs())
                        .fold(0.0, f64::max);
                    assert!(
                        err <= tol,
                        "{dtype:?} bias={bias} {act:?} rows={}: max difference {err}",
                        lead * last
                    );
                }
            }
        }
    }

    #[test]
    fn mlp_with_layer_norm_and_dropout() {
        let store = store64(3);
        let cfg = MlpConfig {
            hidden: vec![6, 6],
            activation: Activation::Tanh,
            layer_norm: true,
            dropout: 0.3,
            ..Default::default()
        };
        let net = mlp(4, 3, &cfg, store.var_builder()).unwrap();
        let x = input_var(&[5, 4], 4);
        // Reseeding before each forward fixes the dropout masks, so the loss is a smooth
        // function of the weights.
        check("mlp layer norm + dropout", &store, &[("x", &x)], || {
            net.reseed_dropout(11);
            net.forward(x.as_tensor())
        });
    }

    #[test]
    fn layer_norm_and_batch_norm() {
        let store = store64(5);
        let ln = layer_norm(6, LayerNormConfig::default(), store.var_builder().pp("ln")).unwrap();
        let x = input_var(&[3, 4, 6], 6);
        check("layer norm", &store, &[("x", &x)], || {
            ln.forward(x.as_tensor())
        });

        for training in [true, false] {
            let store = store64(7);
            let bn =
                batch_norm(3, BatchNormConfig::default(), store.var_builder().pp("bn")).unwrap();
            // Non-trivial running statistics for evaluation mode.
            bn.forward(&uniform(&[8, 3, 2, 2], 8, DType::F64)).unwrap();
            bn.set_training(training);
            let x = input_var(&[4, 3, 2, 2], 9);
            check(
                &format!("batch norm 4d training={training}"),
                &store,
                &[("x", &x)],
                || bn.forward(x.as_tensor()),
            );
            let store = store64(10);
            let bn = batch_norm(5, BatchNormConfig::default(), store.var_builder()).unwrap();
            bn.set_training(training);
            let x = input_var(&[6, 5], 11);
            check(
                &format!("batch norm 2d training={training}"),
                &store,
                &[("x", &x)],
                || bn.forward(x.as_tensor()),
            );
        }
    }

    #[test]
    fn conv2d_with_stride_and_padding() {
        for (stride, padding) in [(1, 0), (2, 1), (3, 2)] {
            let store = store64(12);
            let cfg = Conv2dConfig {
                stride,
                padding,
                bias: true,
            };
            let conv = conv2d(2, 3, 3, cfg, store.var_builder()).unwrap();
            let x = input_var(&[2, 2, 7, 7], 13);
            check(
                &format!("conv2d s{stride} p{padding}"),
                &store,
                &[("x", &x)],
                || conv.forward(x.as_tensor()),
            );
        }
    }

    #[test]
    fn pooling() {
        let x = input_var(&[2, 2, 6, 6], 14);
        let store = store64(0);
        for (kind, k, s) in [
            (PoolKind::Max, 2, 2),
            (PoolKind::Avg, 2, 2),
            (PoolKind::Max, 3, 1),
            (PoolKind::Avg, 3, 2),
            (PoolKind::Max, 3, 3),
        ] {
            let pool = Pool2d::new(kind, k, s).unwrap();
            check(
                &format!("{kind:?} pool k{k} s{s}"),
                &store,
                &[("x", &x)],
                || pool.forward(x.as_tensor()),
            );
        }
        check("global avg pool", &store, &[("x", &x)], || {
            GlobalAvgPool.forward(x.as_tensor())
        });
        // Regression: candle 0.11's own `max_pool2d` backward scales the gradient by
        // 1/kernel² (it multiplies by the window's share of maxima instead of dividing); the
        // k2 s2 case above failed with relative error 0.75 before pooling stopped using it.
        // A 7×7 input drops its last row and column, as PyTorch's floor mode does.
        let x7 = input_var(&[1, 2, 7, 7], 45);
        for kind in [PoolKind::Max, PoolKind::Avg] {
            let pool = Pool2d::new(kind, 2, 2).unwrap();
            assert_eq!(pool.forward(x7.as_tensor()).unwrap().dims(), [1, 2, 3, 3]);
            check(
                &format!("{kind:?} pool on 7x7"),
                &store,
                &[("x", &x7)],
                || pool.forward(x7.as_tensor()),
            );
        }
    }

    #[test]
    fn residual_and_squeeze_excitation() {
        let store = store64(15);
        let res = residual_block(3, Activation::Relu, store.var_builder().pp("res")).unwrap();
        let x = input_var(&[2, 3, 5, 5], 16);
        check("residual block", &store, &[("x", &x)], || {
            res.forward(x.as_tensor())
        });

        let store = store64(17);
        let se = squeeze_excitation(8, 4, store.var_builder().pp("se")).unwrap();
        let x = input_var(&[2, 8, 3, 3], 18);
        check("squeeze-excitation", &store, &[("x", &x)], || {
            se.forward(x.as_tensor())
        });
    }

    #[test]
    fn nature_dqn_torso() {
        // The smallest frame the Nature-DQN kernels fit: 36 → 8 → 3 → 1.
        let store = store64(19);
        let net = cnn((2, 36, 36), &CnnConfig::nature_dqn(), store.var_builder()).unwrap();
        assert_eq!(net.output_dim(), 64);
        let x = input_var(&[2, 2, 36, 36], 20);
        check("nature dqn torso", &store, &[("x", &x)], || {
            net.forward(x.as_tensor())
        });
    }

    #[test]
    fn configurable_cnn() {
        let cfg: CnnConfig = toml::from_str(
            r#"
            layers = [
              { type = "conv", channels = 4, kernel = 3, padding = 1 },
              { type = "batch_norm" },
              { type = "max_pool", kernel = 2 },
              { type = "residual" },
              { type = "squeeze_excitation", reduction = 2 },
              { type = "avg_pool", kernel = 2, stride = 1 },
              { type = "global_avg_pool" },
            ]
            activation = "tanh"
            "#,
        )
        .unwrap();
        let store = store64(21);
        let net = cnn((1, 6, 6), &cfg, store.var_builder()).unwrap();
        assert_eq!(net.output_dim(), 4);
        let x = input_var(&[3, 1, 6, 6], 22);
        check("configurable cnn", &store, &[("x", &x)], || {
            net.forward(x.as_tensor())
        });
    }

    #[test]
    fn recurrent_cells() {
        for kind in [CellKind::Rnn, CellKind::Lstm, CellKind::Gru] {
            let store = store64(23);
            let cell = recurrent_cell(kind, 3, 4, 1.0, "", store.var_builder()).unwrap();
            let x = input_var(&[2, 3], 24);
            let h = input_var(&[2, 4], 25);
            let c = input_var(&[2, 4], 26);
            let mut inputs = vec![("x", &x), ("h", &h)];
            if kind == CellKind::Lstm {
                inputs.push(("c", &c));
            }
            check(&format!("{kind:?} cell"), &store, &inputs, || {
                let state = CellState {
                    h: h.as_tensor().clone(),
                    c: (kind == CellKind::Lstm).then(|| c.as_tensor().clone()),
                };
                let s = cell.step(x.as_tensor(), &state)?;
                match s.c {
                    Some(c) => Tensor::cat(&[s.h, c], 1),
                    None => Ok(s.h),
                }
            });
        }
    }

    #[test]
    fn recurrent_sequences_multi_layer_bidirectional() {
        for kind in [CellKind::Rnn, CellKind::Lstm, CellKind::Gru] {
            for bidirectional in [false, true] {
                let cfg = RecurrentConfig {
                    cell: kind,
                    hidden: 3,
                    layers: 2,
                    bidirectional,
                    forget_bias: 1.0,
                };
                let store = store64(27);
                let net = recurrent(2, &cfg, store.var_builder()).unwrap();
                let x = input_var(&[2, 4, 2], 28);
                let l = cfg.layers * cfg.directions();
                let h0 = input_var(&[l, 2, 3], 29);
                let c0 = input_var(&[l, 2, 3], 30);
                let mut inputs = vec![("x", &x), ("h0", &h0)];
                if kind == CellKind::Lstm {
                    inputs.push(("c0", &c0));
                }
                // The loss sees the outputs and the returned state, so gradients flow through
                // both, and to the state passed in. 12 random entries per tensor keep the six
                // configurations fast; every tensor is still checked for a missing gradient.
                let sampled = GradCheckConfig {
                    max_entries: 12,
                    ..Default::default()
                };
                check_with(
                    &format!("{kind:?} seq bidir={bidirectional}"),
                    &store,
                    &inputs,
                    &sampled,
                    || {
                        let s0 = RecurrentState {
                            h: h0.as_tensor().clone(),
                            c: (kind == CellKind::Lstm).then(|| c0.as_tensor().clone()),
                        };
                        let (out, s) = net.forward_seq(x.as_tensor(), Some(&s0))?;
                        let mut parts = vec![out.flatten_all()?, s.h.flatten_all()?];
                        if let Some(c) = s.c {
                            parts.push(c.flatten_all()?);
                        }
                        Tensor::cat(&parts, 0)
                    },
                );
            }
        }
    }

    #[test]
    fn attention() {
        let store = store64(0);
        let q = input_var(&[2, 3, 4], 31);
        let k = input_var(&[2, 5, 4], 32);
        let v = input_var(&[2, 5, 3], 33);
        for causal in [false, true] {
            check(
                &format!("sdpa causal={causal}"),
                &store,
                &[("q", &q), ("k", &k), ("v", &v)],
                || {
                    scaled_dot_product_attention(
                        q.as_tensor(),
                        k.as_tensor(),
                        v.as_tensor(),
                        causal,
                    )
                },
            );
        }
        check("softmax", &store, &[("q", &q)], || {
            softmax(q.as_tensor(), D::Minus1)
        });

        for causal in [false, true] {
            let store = store64(34);
            let cfg = AttentionConfig { heads: 2, causal };
            let attn = multi_head_self_attention(8, cfg, store.var_builder()).unwrap();
            let x = input_var(&[2, 5, 8], 35);
            check(
                &format!("mhsa causal={causal}"),
                &store,
                &[("x", &x)],
                || attn.forward(x.as_tensor()),
            );
        }
    }

    #[test]
    fn transformer_block_and_positions() {
        let store = store64(36);
        let cfg = TransformerConfig {
            heads: 2,
            ff_dim: 12,
            causal: true,
            ..Default::default()
        };
        let block = transformer_block(8, &cfg, store.var_builder().pp("block")).unwrap();
        let learned: PositionalConfig = toml::from_str("type = \"learned\"\nmax_len = 6").unwrap();
        let pos = positional_encoding(8, &learned, store.var_builder().pp("pos")).unwrap();
        let sin =
            positional_encoding(8, &PositionalConfig::default(), store.var_builder()).unwrap();
        // PE[t, 2i] = sin(t / 10000^(2i/E)), PE[t, 2i+1] = cos(…): t = 1, i = 1, E = 8.
        let table = SinusoidalPositionalEncoding::new(8, 6, DType::F64, &Device::Cpu).unwrap();
        let row: Vec<f64> = table.table().get(1).unwrap().to_vec1().unwrap();
        assert!((row[2] - (1.0f64 / 10000f64.powf(0.25)).sin()).abs() < 1e-15);
        assert!((row[3] - (1.0f64 / 10000f64.powf(0.25)).cos()).abs() < 1e-15);
        let x = input_var(&[2, 5, 8], 37);
        check(
            "transformer block + positions",
            &store,
            &[("x", &x)],
            || block.forward(&pos.forward(&sin.forward(x.as_tensor())?)?),
        );
    }

    #[test]
    fn heads_and_losses() {
        let store = store64(38);
        let q = q_head(5, 3, store.var_builder().pp("q")).unwrap();
        let cfg = DuelingConfig {
            hidden: vec![4],
            activation: Activation::Tanh,
        };
        let duel = dueling_head(5, 3, &cfg, store.var_builder().pp("duel")).unwrap();
        let x = input_var(&[4, 5], 39);
        check("q head + dueling head", &store, &[("x", &x)], || {
            Tensor::cat(
                &[q.forward(x.as_tensor())?, duel.forward(x.as_tensor())?],
                1,
            )
        });
        // Pairs inside and outside the quadratic band (|d| ≤ 1).
        let store = store64(0);
        let pred = Var::from_tensor(&(uniform(&[12], 40, DType::F64) * 3.0).unwrap()).unwrap();
        let target = Var::from_tensor(&uniform(&[12], 41, DType::F64)).unwrap();
        check(
            "huber",
            &store,
            &[("pred", &pred), ("target", &target)],
            || huber_loss(pred.as_tensor(), target.as_tensor(), 1.0),
        );
    }

    #[test]
    fn whole_q_networks() {
        let configs = [
            r#"torso = { type = "mlp", hidden = [8, 8] }
               head = { type = "linear" }"#,
            r#"torso = { type = "mlp", hidden = [8], activation = "tanh", layer_norm = true }
               head = { type = "dueling", hidden = [6] }"#,
            r#"torso = { type = "cnn", fc = [8], layers = [
                 { type = "conv", channels = 4, kernel = 3, stride = 2 },
                 { type = "conv", channels = 4, kernel = 2 } ] }
               head = { type = "dueling" }"#,
        ];
        for (i, text) in configs.iter().enumerate() {
            let cfg: QNetworkConfig = toml::from_str(text).unwrap();
            let obs_shape: &[usize] = if i < 2 { &[5] } else { &[2, 7, 7] };
            let store = store64(42);
            let net = q_network(obs_shape, 3, &cfg, store.var_builder()).unwrap();
            let mut shape = vec![3];
            shape.extend(obs_shape);
            let x = input_var(&shape, 43);
            check(&format!("q network {i}"), &store, &[("x", &x)], || {
                net.forward(x.as_tensor())
            });
        }
    }
}

mod memory_q_networks {
    use super::*;

    /// The recurrent Q-network through `forward_seq` with an episode start inside the
    /// sequence, and the attention Q-network over a stack of observations.
    #[test]
    fn gradients_of_recurrent_and_attention_q_networks() {
        let starts =
            Tensor::new(&[[0f64, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]], &Device::Cpu).unwrap();
        for text in [
            r#"torso = { type = "lstm", hidden = 3, fc = [3] }"#,
            r#"torso = { type = "gru", hidden = 3 }
               head = { type = "dueling" }"#,
        ] {
            let cfg: QNetworkConfig = toml::from_str(text).unwrap();
            let store = store64(7);
            let net = q_network(&[3], 2, &cfg, store.var_builder()).unwrap();
            let x = input_var(&[2, 4, 3], 8);
            check(text, &store, &[("x", &x)], || {
                Ok(net.forward_seq(x.as_tensor(), None, Some(&starts))?.0)
            });
        }
        let cfg: QNetworkConfig = toml::from_str(
            r#"torso = { type = "attention", k = 3, dim = 4, heads = 2, ff_dim = 4 }"#,
        )
        .unwrap();
        let store = store64(9);
        let net = q_network(&[3, 2], 2, &cfg, store.var_builder()).unwrap();
        let x = input_var(&[2, 3, 2], 10);
        check("attention q network", &store, &[("x", &x)], || {
            net.forward(x.as_tensor())
        });
    }

    /// An episode start zeroes the state: the outputs from there on are a fresh run's over
    /// the rest of the sequence; a row without a start is not; `forward` is a sequence's
    /// first step.
    #[test]
    fn an_episode_start_inside_a_sequence_restarts_the_state() {
        let cfg: QNetworkConfig =
            toml::from_str(r#"torso = { type = "lstm", hidden = 5, fc = [4] }"#).unwrap();
        let (net, _store) = QNetwork::new(&[3], 2, &cfg, 1, &Device::Cpu).unwrap();
        assert!(net.is_recurrent());
        let x = uniform(&[2, 5, 3], 2, DType::F32);
        let starts = Tensor::new(&[[0f32, 0.0, 1.0, 0.0, 0.0], [0.0; 5]], &Device::Cpu).unwrap();
        let (q, state) = net.forward_seq(&x, None, Some(&starts)).unwrap();
        assert!(state.is_some());
        let (fresh, _) = net
            .forward_seq(&x.narrow(1, 2, 3).unwrap(), None, None)
            .unwrap();
        let v = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(
            v(&q.get(0).unwrap().narrow(0, 2, 3).unwrap()),
            v(&fresh.get(0).unwrap())
        );
        assert_ne!(
            v(&q.get(1).unwrap().narrow(0, 2, 3).unwrap()),
            v(&fresh.get(1).unwrap())
        );
        let first = net
            .forward(&x.narrow(1, 0, 1).unwrap().squeeze(1).unwrap())
            .unwrap();
        assert_eq!(v(&first), v(&q.narrow(1, 0, 1).unwrap()));
        // A memoryless network has no state.
        let (mlp, _s) =
            QNetwork::new(&[3], 2, &QNetworkConfig::default(), 1, &Device::Cpu).unwrap();
        let (q, state) = mlp.forward_seq(&x, None, None).unwrap();
        assert!(state.is_none() && !mlp.is_recurrent());
        assert_eq!(q.dims(), &[2, 5, 2]);
    }

    /// An attention torso reads `[k, …]`; a flat observation or another `k` is an error
    /// that names the shape.
    #[test]
    fn an_attention_torso_needs_the_stack_of_k_observations() {
        let cfg: QNetworkConfig =
            toml::from_str(r#"torso = { type = "attention", k = 4, dim = 8, heads = 2 }"#).unwrap();
        assert!(QNetwork::new(&[4, 2], 2, &cfg, 0, &Device::Cpu).is_ok());
        for bad in [&[8][..], &[3, 2]] {
            let err = QNetwork::new(bad, 2, &cfg, 0, &Device::Cpu)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("k = 4") && err.contains(&format!("{bad:?}")),
                "{err}"
            );
        }
    }
}

mod optim {
    use super::*;

    const P0: [f64; 5] = [0.5, -1.0, 2.0, 0.1, -0.3];
    const C: [f64; 5] = [1.0, 2.0, 0.5, 3.0, 1.5];
    const B: [f64; 5] = [0.1, -0.2, 0.3, 0.0, -0.1];

    /// Five steps on L(p) = Σ ½c·p² + b·p, from `tools/nn_optim_reference.py` (PyTorch 2.15,
    /// float64).
    const TORCH: [(&str, [f64; 5]); 8] = [
        (
            "sgd",
            [
                0.25429399999999996,
                -0.260448,
                1.4118304375000001,
                0.016807,
                -0.09602528125,
            ],
        ),
        (
            "sgd_momentum",
            [
                -0.08967177661484711,
                0.690416604329461,
                0.5570636547812521,
                -0.07712848174883784,
                0.1785649122273138,
            ],
        ),
        (
            "sgd_nesterov",
            [
                -0.16274901034000008,
                0.5572893388800002,
                0.22144999317062491,
                -0.03478522397,
                0.18750417642781253,
            ],
        ),
        (
            "rmsprop",
            [
                0.39689545736651327,
                -0.8953225234913251,
                1.8942836772586948,
                0.019979519800638022,
                -0.199246566594048,
            ],
        ),
        (
            "rmsprop_centered",
            [
                0.3068175264722486,
                -0.8016995546481855,
                1.7986046596755223,
                -0.01564138314745334,
                -0.11467374781166421,
            ],
        ),
        (
            "adam",
            [
                0.019679941309334217,
                -0.506887144393771,
                1.5021753807142433,
                -0.010852077374878123,
                0.14531802067523072,
            ],
        ),
        (
            "adamw",
            [
                0.006129969504208618,
                -0.46866532425427215,
                1.4144890326665371,
                -0.008958335868973752,
                0.1487666491183548,
            ],
        ),
        (
            "adam_clipped",
            [
                0.009630567689229028,
                -0.5003796773167788,
                1.4981799256060504,
                0.01005401226369275,
                0.15370075643551423,
            ],
        ),
    ];

    fn config(name: &str) -> OptimizerConfig {
        let algorithm = match name {
            "sgd" => Algorithm::Sgd(SgdConfig {
                lr: 0.1,
                ..Default::default()
            }),
            "sgd_momentum" => Algorithm::Sgd(SgdConfig {
                lr: 0.1,
                momentum: 0.9,
                dampening: 0.1,
                weight_decay: 0.01,
                ..Default::default()
            }),
            "sgd_nesterov" => Algorithm::Sgd(SgdConfig {
                lr: 0.1,
                momentum: 0.9,
                nesterov: true,
                ..Default::default()
            }),
            "rmsprop" => Algorithm::RmsProp(RmsPropConfig {
                lr: 0.01,
                alpha: 0.9,
                ..Default::default()
            }),
            "rmsprop_centered" => Algorithm::RmsProp(RmsPropConfig {
                lr: 0.01,
                alpha: 0.9,
                momentum: 0.5,
                centered: true,
                weight_decay: 0.1,
                ..Default::default()
            }),
            "adam" => Algorithm::Adam(AdamConfig {
                lr: 0.1,
                weight_decay: 0.05,
                ..Default::default()
            }),
            "adamw" => Algorithm::AdamW(AdamConfig {
                lr: 0.1,
                weight_decay: 0.1,
                ..Default::default()
            }),
            "adam_clipped" => {
                return OptimizerConfig {
                    algorithm: Algorithm::Adam(AdamConfig {
                        lr: 0.1,
                        ..Default::default()
                    }),
                    max_grad_norm: Some(0.5),
                };
            }
            _ => unreachable!(),
        };
        algorithm.into()
    }

    fn run(name: &str, dtype: DType, tensor_ops: bool, dev: &Device) -> Vec<f64> {
        let p = Var::from_tensor(&Tensor::new(&P0, dev).unwrap().to_dtype(dtype).unwrap()).unwrap();
        let c = Tensor::new(&C, dev).unwrap().to_dtype(dtype).unwrap();
        let b = Tensor::new(&B, dev).unwrap().to_dtype(dtype).unwrap();
        let mut opt = Optimizer::new(vec![p.clone()], config(name)).unwrap();
        if tensor_ops {
            opt = opt.with_tensor_ops();
        }
        for _ in 0..5 {
            let pt = p.as_tensor();
            let loss = ((pt.sqr().unwrap() * &c).unwrap() * 0.5).unwrap();
            let loss = (loss + (pt * &b).unwrap()).unwrap().sum_all().unwrap();
            opt.backward_step(&loss).unwrap();
        }
        p.as_tensor()
            .to_dtype(DType::F64)
            .unwrap()
            .to_vec1()
            .unwrap()
    }

    /// Every optimizer's five steps against PyTorch's, to `tol` relative to `max(|e|, 1)`.
    pub(super) fn assert_matches_pytorch(dtype: DType, tensor_ops: bool, dev: &Device, tol: f64) {
        for (name, expected) in TORCH {
            let got = run(name, dtype, tensor_ops, dev);
            for (g, e) in got.iter().zip(expected) {
                assert!(
                    (g - e).abs() <= tol * e.abs().max(1.0),
                    "{name} on {dev:?}: {got:?} vs {expected:?}"
                );
            }
        }
    }

    #[test]
    fn fused_f64_matches_pytorch() {
        assert_matches_pytorch(DType::F64, false, &Device::Cpu, 1e-12);
    }

    #[test]
    fn tensor_path_matches_pytorch() {
        assert_matches_pytorch(DType::F64, true, &Device::Cpu, 1e-12);
    }

    #[test]
    fn fused_f32_matches_pytorch_to_single_precision() {
        assert_matches_pytorch(DType::F32, false, &Device::Cpu, 1e-5);
    }

    #[test]
    fn clip_grad_norm_scales_to_the_max_norm() {
        let dev = Device::Cpu;
        let a = Var::new(&[3.0f64, 0.0], &dev).unwrap();
        let b = Var::new(&[0.0f64, 4.0], &dev).unwrap();
        let loss = (a.as_tensor().sqr().unwrap().sum_all().unwrap() * 0.5).unwrap();
        let loss =
            (loss + (b.as_tensor().sqr().unwrap().sum_all().unwrap() * 0.5).unwrap()).unwrap();
        let mut grads = loss.backward().unwrap();
        let vars = [a.clone(), b.clone()];
        let norm = clip_grad_norm(&vars, &mut grads, 1.0).unwrap();
        assert_eq!(norm, 5.0);
        let after = global_grad_norm(&vars, &grads).unwrap();
        // PyTorch's coefficient: max_norm / (norm + 1e-6).
        assert!((after - 5.0 / (5.0 + 1e-6)).abs() < 1e-12, "{after}");
        assert!(clip_grad_norm(&vars, &mut grads, 0.0).is_err());
    }

    /// A NaN gradient with clipping on is refused whole: the variables and the optimizer's
    /// state stay as they were, so the next finite step gives the bits of a run that never
    /// saw the NaN.
    #[test]
    fn a_non_finite_gradient_norm_applies_nothing() {
        let dev = Device::Cpu;
        let start = [0.5f32, -1.5, 2.0];
        let grads_of = |p: &Var, scale: f32| {
            let s = Tensor::new(&[scale, 1.0, 1.0], &dev).unwrap();
            (p.as_tensor().sqr().unwrap() * &s)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap()
        };
        for tensor_ops in [false, true] {
            let make = || {
                let p = Var::new(&start, &dev).unwrap();
                let mut opt = Optimizer::new(vec![p.clone()], config("adam_clipped")).unwrap();
                if tensor_ops {
                    opt = opt.with_tensor_ops();
                }
                (p, opt)
            };
            let (p, mut opt) = make();
            opt.step(&grads_of(&p, 1.0)).unwrap();
            let before = p.as_tensor().to_vec1::<f32>().unwrap();
            let err = opt.step(&grads_of(&p, f32::NAN)).unwrap_err();
            assert!(
                matches!(err, qlab_nn::Error::NonFiniteGradient { norm } if norm.is_nan()),
                "{err}"
            );
            assert_eq!(p.as_tensor().to_vec1::<f32>().unwrap(), before);
            assert_eq!(opt.steps(), 1);
            opt.step(&grads_of(&p, 1.0)).unwrap();
            let (q, mut clean) = make();
            clean.step(&grads_of(&q, 1.0)).unwrap();
            clean.step(&grads_of(&q, 1.0)).unwrap();
            assert_eq!(
                p.as_tensor().to_vec1::<f32>().unwrap(),
                q.as_tensor().to_vec1::<f32>().unwrap(),
                "tensor ops: {tensor_ops}"
            );
        }
    }

    /// The learning rate is held once, in the config: a rate set after construction is the
    /// one the config shows and the one the next step takes, on either path, and the
    /// candle-nn trait reads and writes the same one. (The optimizer used to keep a second
    /// copy beside the config's, which went stale on the first `set_learning_rate`.)
    #[test]
    fn the_learning_rate_set_is_the_one_shown_and_used() {
        let dev = Device::Cpu;
        for tensor_ops in [false, true] {
            let p = Var::new(&[1.0f64, -2.0], &dev).unwrap();
            let sgd = Algorithm::Sgd(SgdConfig {
                lr: 0.1,
                ..Default::default()
            });
            let mut opt = Optimizer::new(vec![p.clone()], sgd.into()).unwrap();
            if tensor_ops {
                opt = opt.with_tensor_ops();
            }
            assert_eq!((opt.learning_rate(), opt.config().lr()), (0.1, 0.1));
            opt.set_learning_rate(0.25);
            assert_eq!((opt.learning_rate(), opt.config().lr()), (0.25, 0.25));
            // L = Σ p², ∂L/∂p = 2p: SGD takes p ← p − 0.25·2p = p/2.
            let loss = p.as_tensor().sqr().unwrap().sum_all().unwrap();
            opt.backward_step(&loss).unwrap();
            assert_eq!(p.as_tensor().to_vec1::<f64>().unwrap(), [0.5, -1.0]);
            candle_nn::Optimizer::set_learning_rate(&mut opt, 0.5);
            assert_eq!(candle_nn::Optimizer::learning_rate(&opt), 0.5);
            assert_eq!(opt.config().lr(), 0.5);
            let loss = p.as_tensor().sqr().unwrap().sum_all().unwrap();
            opt.backward_step(&loss).unwrap();
            assert_eq!(p.as_tensor().to_vec1::<f64>().unwrap(), [0.0, 0.0]);
        }
        let mut adamw = OptimizerConfig::from(Algorithm::AdamW(AdamConfig::adamw()));
        adamw.set_lr(2e-4);
        assert_eq!(adamw.lr(), 2e-4);
        assert!(matches!(adamw.algorithm, Algorithm::AdamW(c) if c.lr == 2e-4));
    }

    #[test]
    fn invalid_hyperparameters_are_named() {
        let bad = OptimizerConfig::from(Algorithm::Adam(AdamConfig {
            beta1: 1.0,
            ..Default::default()
        }));
        let err = Optimizer::new(vec![], bad).unwrap_err().to_string();
        assert!(err.contains("beta1") && err.contains("[0, 1)"), "{err}");
        let bad = OptimizerConfig::from(Algorithm::Sgd(SgdConfig {
            nesterov: true,
            ..Default::default()
        }));
        let err = bad.validate().unwrap_err().to_string();
        assert!(err.contains("nesterov"), "{err}");
    }

    #[test]
    fn optimizer_config_from_toml() {
        let cfg: OptimizerConfig =
            toml::from_str("type = \"adamw\"\nlr = 3e-4\nmax_grad_norm = 10.0").unwrap();
        assert_eq!(cfg.max_grad_norm, Some(10.0));
        match cfg.algorithm {
            Algorithm::AdamW(c) => {
                assert_eq!(c.lr, 3e-4);
                assert_eq!(
                    c.weight_decay, 0.0,
                    "fields not given take AdamConfig's serde defaults"
                );
            }
            other => panic!("{other:?}"),
        }
        let cfg: OptimizerConfig = toml::from_str("type = \"rmsprop\"\ncentered = true").unwrap();
        assert!(matches!(
            cfg.algorithm,
            Algorithm::RmsProp(RmsPropConfig { centered: true, .. })
        ));
        assert!(toml::from_str::<OptimizerConfig>("type = \"adam\"\nlearning_rate = 1.0").is_err());
    }

    #[test]
    fn schedules() {
        let lin = LrSchedule::Linear {
            end_lr: 0.1,
            steps: 10,
        };
        assert_eq!(lin.lr(1.0, 0), 1.0);
        assert!((lin.lr(1.0, 5) - 0.55).abs() < 1e-15);
        assert_eq!(lin.lr(1.0, 10), 0.1);
        assert_eq!(lin.lr(1.0, 99), 0.1);
        let cos = LrSchedule::Cosine {
            end_lr: 0.0,
            steps: 100,
        };
        assert_eq!(cos.lr(2.0, 0), 2.0);
        assert!((cos.lr(2.0, 50) - 1.0).abs() < 1e-12);
        assert!(cos.lr(2.0, 100).abs() < 1e-15);
        assert_eq!(LrSchedule::Constant.lr(0.3, 7), 0.3);
        assert!(
            LrSchedule::Cosine {
                end_lr: 0.0,
                steps: 0
            }
            .validate()
            .is_err()
        );
        let s: LrSchedule = toml::from_str("type = \"cosine\"\nsteps = 1000").unwrap();
        assert_eq!(
            s,
            LrSchedule::Cosine {
                end_lr: 0.0,
                steps: 1000
            }
        );
    }
}

mod store {
    use super::*;

    fn net(seed: u64, hidden: usize) -> (QNetwork, ParamStore) {
        let cfg = QNetworkConfig {
            torso: TorsoConfig::Mlp {
                hidden: vec![hidden],
                activation: Activation::Relu,
                layer_norm: true,
                dropout: 0.0,
            },
            head: HeadConfig::Dueling {
                hidden: vec![],
                activation: Activation::Relu,
            },
        };
        QNetwork::new(&[3], 2, &cfg, seed, &Device::Cpu).unwrap()
    }

    #[test]
    fn same_seed_same_weights_and_stable_names() {
        let (_, a) = net(5, 8);
        let (_, b) = net(5, 8);
        let (_, c) = net(6, 8);
        assert_eq!(
            a.names(),
            [
                "torso.layers.0.weight",
                "torso.layers.0.bias",
                "head.value.layers.0.weight",
                "head.value.layers.0.bias",
                "head.advantage.layers.0.weight",
                "head.advantage.layers.0.bias",
            ]
        );
        for name in a.names() {
            let x: Vec<f32> = a
                .get(&name)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let y: Vec<f32> = b
                .get(&name)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            assert_eq!(x, y, "{name}");
        }
        let x: Vec<f32> = a
            .get("torso.layers.0.weight")
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let z: Vec<f32> = c
            .get("torso.layers.0.weight")
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_ne!(x, z);
        // PyTorch's nn.Linear range: ±1/√in.
        assert!(x.iter().all(|w| w.abs() <= 1.0 / 3f32.sqrt()));
    }

    #[test]
    fn layer_norm_is_the_mlp_torso_without_a_norm_on_the_output() {
        // The torso's only layer is its output layer (followed by the activation), so no norm.
        let (_, s) = net(0, 8);
        assert!(!s.names().iter().any(|n| n.contains("norms")));
    }

    #[test]
    fn save_and_load_round_trip() {
        let dir = std::env::temp_dir().join(format!("qlab-nn-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("q.safetensors");
        let (net_a, a) = net(1, 8);
        let (net_b, b) = net(2, 8);
        let x = uniform(&[4, 3], 3, DType::F32);
        let qa: Vec<Vec<f32>> = net_a.forward(&x).unwrap().to_vec2().unwrap();
        assert_ne!(qa, net_b.forward(&x).unwrap().to_vec2::<f32>().unwrap());
        a.save(&path).unwrap();
        b.load(&path).unwrap();
        assert_eq!(qa, net_b.forward(&x).unwrap().to_vec2::<f32>().unwrap());
        // Bytes are deterministic.
        assert_eq!(a.to_bytes().unwrap(), b.to_bytes().unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn load_reports_the_mismatched_tensor() {
        let (_, small) = net(1, 8);
        let (_, wide) = net(1, 16);
        let bytes = small.to_bytes().unwrap();
        let err = wide
            .load_bytes(&bytes, "small.safetensors")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "checkpoint small.safetensors: tensor `torso.layers.0.weight` has shape [8, 3], the network expects [16, 3]"
        );
        // Nothing was changed by the failed load.
        let (_, fresh) = net(1, 16);
        assert_eq!(wide.to_bytes().unwrap(), fresh.to_bytes().unwrap());

        let linear_head = QNetworkConfig {
            torso: TorsoConfig::Mlp {
                hidden: vec![8],
                activation: Activation::Relu,
                layer_norm: false,
                dropout: 0.0,
            },
            ..Default::default()
        };
        let plain = QNetwork::new(&[3], 2, &linear_head, 0, &Device::Cpu)
            .unwrap()
            .1;
        let err = plain
            .load_bytes(&bytes, "small.safetensors")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "checkpoint small.safetensors: missing tensor `head.weight`: the network expects shape [2, 8]"
        );

        // A file with one tensor too many.
        let extra = ParamStore::new(0, DType::F32, &Device::Cpu);
        linear(
            3,
            8,
            true,
            extra.var_builder().pp("torso").pp("layers").pp(0),
        )
        .unwrap();
        linear(3, 8, true, extra.var_builder().pp("extra")).unwrap();
        let only = ParamStore::new(0, DType::F32, &Device::Cpu);
        linear(
            3,
            8,
            true,
            only.var_builder().pp("torso").pp("layers").pp(0),
        )
        .unwrap();
        let err = only
            .load_bytes(&extra.to_bytes().unwrap(), "x")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "checkpoint x: unexpected tensor `extra.bias`: the network has no parameter of that name"
        );

        let err = only
            .load_bytes(b"not safetensors", "junk")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("checkpoint junk: not a readable safetensors file"),
            "{err}"
        );
        let err = only
            .load("/nonexistent/q.safetensors")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/nonexistent/q.safetensors: "), "{err}");
    }

    #[test]
    fn target_network_copy_and_polyak() {
        let (net_a, a) = net(1, 8);
        let (net_b, b) = net(2, 8);
        let x = uniform(&[2, 3], 4, DType::F32);
        b.soft_update_from(&a, 0.5).unwrap();
        let wa: Vec<f32> = a.get("torso.layers.0.bias").unwrap().to_vec1().unwrap();
        let (_, fresh_b) = net(2, 8);
        let wb0: Vec<f32> = fresh_b
            .get("torso.layers.0.bias")
            .unwrap()
            .to_vec1()
            .unwrap();
        let wb: Vec<f32> = b.get("torso.layers.0.bias").unwrap().to_vec1().unwrap();
        for i in 0..wa.len() {
            assert!((wb[i] - 0.5 * (wa[i] + wb0[i])).abs() < 1e-6);
        }
        b.copy_from(&a).unwrap();
        assert_eq!(
            net_a.forward(&x).unwrap().to_vec2::<f32>().unwrap(),
            net_b.forward(&x).unwrap().to_vec2::<f32>().unwrap()
        );
        assert!(b.soft_update_from(&a, 1.5).is_err());
    }

    #[test]
    fn frozen_view_shares_values_and_passes_only_input_gradients() {
        let cfg = QNetworkConfig {
            torso: TorsoConfig::Mlp {
                hidden: vec![40, 40],
                activation: Activation::Relu,
                layer_norm: false,
                dropout: 0.0,
            },
            ..Default::default()
        };
        let (net, store) = QNetwork::new(&[3], 2, &cfg, 7, &Device::Cpu).unwrap();
        let frozen = q_network(&[3], 2, &cfg, store.frozen_var_builder()).unwrap();
        // One row (the few-rows loops) and a batch (gemm).
        for rows in [1, 9] {
            let x = Var::from_tensor(&uniform(&[rows, 3], 8, DType::F32)).unwrap();
            let grads_of = |n: &QNetwork| {
                let q = n.forward(x.as_tensor()).unwrap();
                let g = q.sqr().unwrap().sum_all().unwrap().backward().unwrap();
                let dx = g.get(x.as_tensor()).unwrap().to_vec2::<f32>().unwrap();
                let weights = store
                    .named_vars()
                    .iter()
                    .filter(|(_, v)| g.get(v.as_tensor()).is_some())
                    .count();
                (q.to_vec2::<f32>().unwrap(), dx, weights)
            };
            let (q, dx, weights) = grads_of(&net);
            let (qf, dxf, weights_f) = grads_of(&frozen);
            assert_eq!(q, qf);
            assert_eq!(dx, dxf);
            assert_eq!(
                weights, 6,
                "the trained view differentiates every parameter"
            );
            assert_eq!(weights_f, 0, "the frozen view differentiates none");
        }
        // A change to the store's values shows through the frozen view.
        let (_, other) = QNetwork::new(&[3], 2, &cfg, 9, &Device::Cpu).unwrap();
        store.copy_from(&other).unwrap();
        let x = uniform(&[2, 3], 10, DType::F32);
        assert_eq!(
            net.forward(&x).unwrap().to_vec2::<f32>().unwrap(),
            frozen.forward(&x).unwrap().to_vec2::<f32>().unwrap()
        );
        assert!(
            q_network(&[4], 2, &cfg, store.frozen_var_builder()).is_err(),
            "a shape the store does not hold is refused"
        );
    }

    #[test]
    fn one_row_without_tensors_gives_the_forward_pass_bits() {
        let mlp = |hidden: Vec<usize>, activation| QNetworkConfig {
            torso: TorsoConfig::Mlp {
                hidden,
                activation,
                layer_norm: false,
                dropout: 0.0,
            },
            ..Default::default()
        };
        let cases = [
            (mlp(vec![256, 256], Activation::Relu), 4),
            (mlp(vec![37, 9], Activation::Tanh), 11),
            (mlp(vec![], Activation::Relu), 3),
        ];
        for (seed, (cfg, d)) in cases.iter().enumerate() {
            let (net, _store) = QNetwork::new(&[*d], 3, cfg, seed as u64, &Device::Cpu).unwrap();
            for (i, row) in (0..5).map(|i| (i, uniform(&[1, *d], 30 + i, DType::F32))) {
                let obs = row.flatten_all().unwrap().to_vec1::<f32>().unwrap();
                let fast = net.q_values_row(&obs).expect("an MLP with a linear head");
                let slow = net.forward(&row).unwrap().flatten_all().unwrap();
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&fast),
                    bits(&slow.to_vec1::<f32>().unwrap()),
                    "case {seed}, row {i}"
                );
            }
            assert!(net.q_values_row(&vec![0.0; d + 1]).is_none(), "wrong width");
        }
        // No row form: layer norms, a dueling head.
        let (net, _) = net(0, 8);
        assert!(net.q_values_row(&[0.1, 0.2, 0.3]).is_none());
    }

    #[test]
    fn batch_norm_buffers_are_saved_but_not_trained() {
        let store = store32(0);
        let bn = batch_norm(3, BatchNormConfig::default(), store.var_builder().pp("bn")).unwrap();
        assert_eq!(
            store.names(),
            ["bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"]
        );
        assert_eq!(store.trainable_vars().len(), 2);
        assert_eq!(store.num_params(), 6);
        // Running statistics follow PyTorch: momentum 0.1, unbiased variance.
        let x = Tensor::new(&[[1.0f32, 0.0, 2.0], [3.0, 0.0, 2.0]], &Device::Cpu).unwrap();
        bn.forward(&x).unwrap();
        let mean: Vec<f32> = bn.running_mean().to_vec1().unwrap();
        let var: Vec<f32> = bn.running_var().to_vec1().unwrap();
        assert_eq!(mean, [0.2, 0.0, 0.2]);
        // unbiased var of [1, 3] = 2: 0.9 * 1 + 0.1 * 2
        assert!(
            (var[0] - 1.1).abs() < 1e-6 && (var[1] - 0.9).abs() < 1e-6,
            "{var:?}"
        );
        // Evaluation mode uses (and keeps) the running statistics.
        bn.set_training(false);
        let y: Vec<Vec<f32>> = bn.forward(&x).unwrap().to_vec2().unwrap();
        assert!((y[0][0] - (1.0 - 0.2) / (1.1f32 + 1e-5).sqrt()).abs() < 1e-5);
        assert_eq!(bn.running_mean().to_vec1::<f32>().unwrap(), mean);
    }
}

mod config {
    use super::*;

    #[test]
    fn device_selection() {
        assert!(DeviceConfig::Cpu.resolve().unwrap().is_cpu());
        assert!(DeviceConfig::Auto.resolve().is_ok());
        #[derive(serde::Deserialize)]
        struct Keys {
            device: DeviceConfig,
        }
        let d: Keys = toml::from_str("device = \"auto\"").unwrap();
        assert_eq!(d.device, DeviceConfig::Auto);
        assert!("gpu".parse::<DeviceConfig>().is_err());
        // The device is given where a network is built, not in its description.
        let err = toml::from_str::<QNetworkConfig>("device = \"cpu\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `device`"), "{err}");
        #[cfg(not(feature = "cuda"))]
        {
            let err = DeviceConfig::Cuda.resolve().unwrap_err().to_string();
            assert_eq!(
                err,
                "device `cuda` is not available: this build has no CUDA support; rebuild with `--features cuda`"
            );
            assert!(DeviceConfig::Auto.resolve().unwrap().is_cpu());
        }
    }

    #[test]
    fn network_configs_from_toml() {
        let cfg: MlpConfig =
            toml::from_str("hidden = [32]\nactivation = \"gelu\"\ndropout = 0.1").unwrap();
        assert_eq!(cfg.hidden, [32]);
        assert_eq!(cfg.activation, Activation::Gelu);
        assert!(!cfg.layer_norm);
        let err = toml::from_str::<MlpConfig>("hiden = [32]")
            .unwrap_err()
            .to_string();
        assert!(err.contains("hiden"), "{err}");
        let err = mlp(
            2,
            1,
            &MlpConfig {
                dropout: 1.0,
                ..Default::default()
            },
            store32(0).var_builder(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "invalid value 1 for `dropout`: expected a probability in [0, 1)"
        );

        let nature: QNetworkConfig = toml::from_str("torso = { type = \"cnn\" }").unwrap();
        let store = store32(0);
        let net = q_network(&[4, 84, 84], 6, &nature, store.var_builder()).unwrap();
        // 32·4·8·8+32 + 64·32·4·4+64 + 64·64·3·3+64 + 3136·512+512 + 512·6+6 (Mnih et al., 2015).
        assert_eq!(store.num_params(), 1_687_206);
        let q = net
            .forward(&Tensor::zeros((1, 4, 84, 84), DType::F32, &Device::Cpu).unwrap())
            .unwrap();
        assert_eq!(q.dims(), [1, 6]);
        let err = q_network(&[4, 20, 20], 6, &nature, store32(0).var_builder())
            .unwrap_err()
            .to_string();
        assert!(err.contains("layers[2]"), "{err}");
        let err = q_network(&[4, 84], 6, &nature, store32(0).var_builder())
            .unwrap_err()
            .to_string();
        assert!(err.contains("[C, H, W]"), "{err}");
    }
}

mod learning {
    use super::*;

    fn adam(store: &ParamStore, lr: f64) -> Optimizer {
        let cfg = Algorithm::Adam(AdamConfig {
            lr,
            ..Default::default()
        });
        Optimizer::new(store.trainable_vars(), cfg.into()).unwrap()
    }

    fn accuracy(logits: &Tensor, labels: &[u32]) -> f64 {
        let pred: Vec<u32> = logits.argmax(1).unwrap().to_vec1().unwrap();
        pred.iter().zip(labels).filter(|(p, l)| p == l).count() as f64 / labels.len() as f64
    }

    #[test]
    fn mlp_learns_xor_where_a_perceptron_cannot() {
        let dev = Device::Cpu;
        let x = Tensor::new(&[[0f32, 0.], [0., 1.], [1., 0.], [1., 1.]], &dev).unwrap();
        let y = Tensor::new(&[[0f32], [1.], [1.], [0.]], &dev).unwrap();
        let train = |hidden: Vec<usize>| {
            let store = store32(0);
            let cfg = MlpConfig {
                hidden,
                activation: Activation::Tanh,
                ..Default::default()
            };
            let net = mlp(2, 1, &cfg, store.var_builder()).unwrap();
            let mut opt = adam(&store, 0.05);
            for _ in 0..300 {
                let loss = mse_loss(&net.forward(&x).unwrap(), &y).unwrap();
                opt.backward_step(&loss).unwrap();
            }
            let out: Vec<f32> = net
                .forward(&x)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let correct = out
                .iter()
                .zip([0., 1., 1., 0.])
                .filter(|(o, t)| ((**o > 0.5) as u8 as f32) == *t)
                .count();
            let loss = mse_loss(&net.forward(&x).unwrap(), &y)
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            (correct, loss)
        };
        let (correct, loss) = train(vec![8]);
        assert_eq!(correct, 4);
        assert!(loss < 0.01, "mlp loss {loss}");
        // A single linear unit: the best it can do on XOR is 0.5 everywhere, loss 0.25, and no
        // threshold separates the classes.
        let (correct, loss) = train(vec![]);
        assert!(correct <= 3, "perceptron got {correct}/4");
        assert!(loss >= 0.249, "perceptron loss {loss}");
    }

    /// 12×12 images with either a straight bar (9 pixels, horizontal or vertical) or a cross
    /// (two 5-pixel arms, 9 pixels), at a random position, on weak noise. Equal pixel counts,
    /// so only the shape tells them apart. Label 0 = bar, 1 = cross.
    fn bars_and_crosses(n: usize, seed: u64) -> (Tensor, Vec<u32>) {
        let mut rng = EnvRng::seed_from_u64(seed);
        let mut pixels = vec![0f32; n * 144];
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let img = &mut pixels[i * 144..(i + 1) * 144];
            for p in img.iter_mut() {
                *p = 0.2 * rng.next_f64() as f32;
            }
            let label = rng.below(2) as u32;
            if label == 0 {
                let (along, across) = (rng.below(12 - 8), rng.below(12));
                let vertical = rng.below(2) == 1;
                for k in 0..9 {
                    let (r, c) = if vertical {
                        (along + k, across)
                    } else {
                        (across, along + k)
                    };
                    img[r * 12 + c] = 1.0;
                }
            } else {
                let (r0, c0) = (2 + rng.below(8), 2 + rng.below(8));
                for k in 0..5 {
                    img[(r0 + k - 2) * 12 + c0] = 1.0;
                    img[r0 * 12 + c0 + k - 2] = 1.0;
                }
            }
            labels.push(label);
        }
        (
            Tensor::from_vec(pixels, (n, 1, 12, 12), &Device::Cpu).unwrap(),
            labels,
        )
    }

    #[test]
    fn cnn_tells_bars_from_crosses() {
        let (train_x, train_y) = bars_and_crosses(512, 1);
        let (test_x, test_y) = bars_and_crosses(256, 2);
        let cfg: CnnConfig = toml::from_str(
            r#"layers = [
                 { type = "conv", channels = 8, kernel = 3, padding = 1 },
                 { type = "max_pool", kernel = 2 },
                 { type = "conv", channels = 16, kernel = 3, padding = 1 },
                 { type = "global_avg_pool" } ]"#,
        )
        .unwrap();
        let store = store32(3);
        let torso = cnn((1, 12, 12), &cfg, store.var_builder().pp("cnn")).unwrap();
        let head = linear(16, 2, true, store.var_builder().pp("head")).unwrap();
        let net = |x: &Tensor| head.forward(&torso.forward(x)?);
        let mut opt = adam(&store, 1e-2);
        let labels = Tensor::new(train_y.as_slice(), &Device::Cpu).unwrap();
        for step in 0..150 {
            let i = (step * 32) % 512;
            let loss = cross_entropy(
                &net(&train_x.narrow(0, i, 32).unwrap()).unwrap(),
                &labels.narrow(0, i, 32).unwrap(),
            )
            .unwrap();
            opt.backward_step(&loss).unwrap();
        }
        let acc = accuracy(&net(&test_x).unwrap(), &test_y);
        assert!(acc >= 0.95, "held-out accuracy {acc}");
    }

    /// Delayed recall: a cue of ±1 at the first step, then weak noise (uniform in ±0.1) for
    /// the remaining steps; the label is the cue's sign, asked for after the last step. Only
    /// a network that carries the cue through the whole sequence beats chance.
    fn recall_batch(rng: &mut EnvRng, n: usize, t: usize) -> (Tensor, Vec<u32>) {
        let mut xs = vec![0f32; n * t];
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let label = rng.below(2) as u32;
            xs[i * t] = if label == 1 { 1.0 } else { -1.0 };
            for s in 1..t {
                xs[i * t + s] = 0.2 * (rng.next_f64() as f32 - 0.5);
            }
            labels.push(label);
        }
        (
            Tensor::from_vec(xs, (n, t, 1), &Device::Cpu).unwrap(),
            labels,
        )
    }

    #[test]
    fn lstm_and_gru_recall_across_24_steps_where_a_feed_forward_net_cannot() {
        const T: usize = 24;
        for kind in [CellKind::Lstm, CellKind::Gru] {
            let store = store32(4);
            let cfg = RecurrentConfig {
                cell: kind,
                hidden: 16,
                ..Default::default()
            };
            let rnn = recurrent(1, &cfg, store.var_builder().pp("rnn")).unwrap();
            let head = linear(16, 2, true, store.var_builder().pp("head")).unwrap();
            let net = |x: &Tensor| -> candle_core::Result<Tensor> {
                let (_, state) = rnn.forward_seq(x, None)?;
                head.forward(&state.h.get(0)?)
            };
            let mut opt = adam(&store, 1e-2);
            let mut rng = EnvRng::seed_from_u64(5);
            for _ in 0..150 {
                let (x, y) = recall_batch(&mut rng, 32, T);
                let loss = cross_entropy(
                    &net(&x).unwrap(),
                    &Tensor::new(y.as_slice(), &Device::Cpu).unwrap(),
                )
                .unwrap();
                opt.backward_step(&loss).unwrap();
            }
            let (x, y) = recall_batch(&mut EnvRng::seed_from_u64(6), 256, T);
            let acc = accuracy(&net(&x).unwrap(), &y);
            assert!(acc >= 0.95, "{kind:?} held-out accuracy {acc}");
        }
        // The baseline: the same training for an MLP that sees one step at a time, read at the
        // last step. The first element is independent of the last, so it stays near chance.
        let store = store32(4);
        let ff = mlp(
            1,
            2,
            &MlpConfig {
                hidden: vec![16],
                ..Default::default()
            },
            store.var_builder(),
        )
        .unwrap();
        let mut opt = adam(&store, 1e-2);
        let mut rng = EnvRng::seed_from_u64(5);
        let last = |x: &Tensor| x.narrow(1, T - 1, 1).unwrap().squeeze(1).unwrap();
        for _ in 0..150 {
            let (x, y) = recall_batch(&mut rng, 32, T);
            let loss = cross_entropy(
                &ff.forward(&last(&x)).unwrap(),
                &Tensor::new(y.as_slice(), &Device::Cpu).unwrap(),
            )
            .unwrap();
            opt.backward_step(&loss).unwrap();
        }
        let (x, y) = recall_batch(&mut EnvRng::seed_from_u64(6), 256, T);
        let acc = accuracy(&ff.forward(&last(&x)).unwrap(), &y);
        assert!(acc < 0.6, "feed-forward held-out accuracy {acc}");
    }

    #[test]
    fn forget_bias_shifts_only_fresh_weights() {
        for (kind, gates) in [(CellKind::Lstm, 4), (CellKind::Gru, 3)] {
            let plain = store64(1);
            let biased = store64(1);
            recurrent_cell(kind, 2, 3, 0.0, "", plain.var_builder()).unwrap();
            let cell = recurrent_cell(kind, 2, 3, 1.5, "", biased.var_builder()).unwrap();
            let a: Vec<f64> = plain.get("bias_ih").unwrap().to_vec1().unwrap();
            let b: Vec<f64> = biased.get("bias_ih").unwrap().to_vec1().unwrap();
            assert_eq!(a.len(), 3 * gates);
            for j in 0..a.len() {
                let shift = if j / 3 == 1 { 1.5 } else { 0.0 };
                assert!((b[j] - a[j] - shift).abs() < 1e-12, "{kind:?} entry {j}");
            }
            // Building again on existing weights (as when loading) leaves them alone.
            recurrent_cell(kind, 2, 3, 1.5, "", biased.var_builder()).unwrap();
            let c: Vec<f64> = biased.get("bias_ih").unwrap().to_vec1().unwrap();
            assert_eq!(b, c);
            assert_eq!(cell.kind(), kind);
        }
    }

    #[test]
    fn causal_attention_ignores_the_future() {
        let store = store64(7);
        let causal = TransformerConfig {
            heads: 2,
            causal: true,
            ..Default::default()
        };
        let block = transformer_block(8, &causal, store.var_builder().pp("causal")).unwrap();
        let open = TransformerConfig {
            causal: false,
            ..causal
        };
        let open_block = transformer_block(8, &open, store.var_builder().pp("open")).unwrap();
        let x = uniform(&[2, 6, 8], 8, DType::F64);
        for t in 0..5 {
            // Change every input after position t.
            let tail = uniform(&[2, 5 - t, 8], 9 + t as u64, DType::F64);
            let x2 = Tensor::cat(&[x.narrow(1, 0, t + 1).unwrap(), tail], 1).unwrap();
            let diff = |b: &TransformerBlock| -> f64 {
                let y1 = b.forward(&x).unwrap().narrow(1, 0, t + 1).unwrap();
                let y2 = b.forward(&x2).unwrap().narrow(1, 0, t + 1).unwrap();
                (y1 - y2)
                    .unwrap()
                    .abs()
                    .unwrap()
                    .max_all()
                    .unwrap()
                    .to_scalar::<f64>()
                    .unwrap()
            };
            assert_eq!(diff(&block), 0.0, "causal output up to {t} changed");
            assert!(
                diff(&open_block) > 1e-3,
                "the non-causal block should see the change"
            );
        }
    }

    /// Token sequences; the target at position t ≥ 1 is the token at t − 1.
    fn previous_token_batch(
        rng: &mut EnvRng,
        n: usize,
        t: usize,
        vocab: usize,
    ) -> (Tensor, Vec<u32>) {
        let mut tokens = Vec::with_capacity(n * t);
        for _ in 0..n * t {
            tokens.push(rng.below(vocab) as u32);
        }
        let mut one_hot = vec![0f32; n * t * vocab];
        for (i, &tok) in tokens.iter().enumerate() {
            one_hot[i * vocab + tok as usize] = 1.0;
        }
        let mut targets = Vec::with_capacity(n * (t - 1));
        for i in 0..n {
            targets.extend_from_slice(&tokens[i * t..i * t + t - 1]);
        }
        (
            Tensor::from_vec(one_hot, (n, t, vocab), &Device::Cpu).unwrap(),
            targets,
        )
    }

    #[test]
    fn transformer_learns_to_recall_the_previous_token() {
        const T: usize = 8;
        const V: usize = 8;
        const E: usize = 32;
        let store = store32(10);
        let vb = store.var_builder();
        let embed = linear(V, E, false, vb.pp("embed")).unwrap();
        let pos = learned_positional_encoding(E, T, vb.pp("pos")).unwrap();
        let cfg = TransformerConfig {
            heads: 2,
            causal: true,
            ..Default::default()
        };
        let block = transformer_block(E, &cfg, vb.pp("block")).unwrap();
        let out = linear(E, V, true, vb.pp("out")).unwrap();
        // Logits for positions 1..T, flattened to (N·(T−1), V).
        let net = |x: &Tensor| -> candle_core::Result<Tensor> {
            let h = block.forward(&pos.forward(&embed.forward(x)?)?)?;
            let logits = out.forward(&h.narrow(1, 1, T - 1)?)?;
            logits.reshape(((), V))
        };
        let mut opt = adam(&store, 3e-3);
        let mut rng = EnvRng::seed_from_u64(11);
        for _ in 0..200 {
            let (x, y) = previous_token_batch(&mut rng, 32, T, V);
            let loss = cross_entropy(
                &net(&x).unwrap(),
                &Tensor::new(y.as_slice(), &Device::Cpu).unwrap(),
            )
            .unwrap();
            opt.backward_step(&loss).unwrap();
        }
        let (x, y) = previous_token_batch(&mut EnvRng::seed_from_u64(12), 128, T, V);
        let acc = accuracy(&net(&x).unwrap(), &y);
        assert!(acc >= 0.95, "held-out accuracy {acc}");
    }
}

/// The same networks and optimizers on a CUDA GPU, against the CPU. Built only with the `cuda`
/// feature, and then they need a GPU: `tools/cuda_build.sh` builds them, `tools/cuda_check.sh`
/// runs them where one is present. CI builds without the feature.
#[cfg(feature = "cuda")]
mod cuda {
    use super::*;

    fn gpu() -> Device {
        Device::new_cuda(0).expect("the `cuda` feature's tests need a CUDA GPU")
    }

    /// `max |a − b| / max(max |b|, 1e-3)` over two tensors of one shape, on any devices.
    fn rel_err(a: &Tensor, b: &Tensor) -> f64 {
        let v = |t: &Tensor| -> Vec<f64> {
            let t = t
                .to_device(&Device::Cpu)
                .unwrap()
                .to_dtype(DType::F64)
                .unwrap();
            t.flatten_all().unwrap().to_vec1().unwrap()
        };
        let (a, b) = (v(a), v(b));
        assert_eq!(a.len(), b.len());
        let scale = b.iter().fold(1e-3f64, |m, x| m.max(x.abs()));
        let diff = a
            .iter()
            .zip(&b)
            .fold(0f64, |m, (x, y)| m.max((x - y).abs()));
        diff / scale
    }

    #[test]
    fn cuda_and_auto_choose_the_gpu() {
        assert!(DeviceConfig::Cuda.resolve().unwrap().is_cuda());
        assert!(DeviceConfig::Auto.resolve().unwrap().is_cuda());
        assert!(gpu().is_cuda());
    }

    /// Every torso and head: the same seed gives the same weights on both devices (drawn on
    /// the CPU, then copied), and the Q-values and every parameter's gradient of a probe loss
    /// agree to single precision. The CPU's MLP takes the fused kernel, the GPU cuBLAS, so the
    /// sums run in different orders: equality to the bit is not expected.
    #[test]
    fn every_q_network_computes_on_the_gpu_what_it_computes_on_the_cpu() {
        let cases: [(&str, &[usize], Option<usize>); 7] = [
            (r#"torso = { type = "mlp", hidden = [64, 64] }"#, &[4], None),
            (
                r#"torso = { type = "mlp", hidden = [16], activation = "tanh", layer_norm = true }
                   head = { type = "dueling", hidden = [8] }"#,
                &[5],
                None,
            ),
            (
                r#"torso = { type = "mlp", hidden = [16], activation = "gelu" }"#,
                &[5],
                None,
            ),
            (
                r#"torso = { type = "cnn", fc = [16], layers = [
                     { type = "conv", channels = 8, kernel = 3, padding = 1 },
                     { type = "conv", channels = 8, kernel = 3, stride = 2 } ] }"#,
                &[5, 6, 6],
                None,
            ),
            (
                r#"torso = { type = "lstm", hidden = 16, fc = [16] }"#,
                &[2],
                Some(6),
            ),
            (
                r#"torso = { type = "gru", hidden = 16 }
                   head = { type = "dueling" }"#,
                &[2],
                Some(6),
            ),
            (
                r#"torso = { type = "attention", k = 8, dim = 16, heads = 2, ff_dim = 32 }"#,
                &[8, 2],
                None,
            ),
        ];
        for (text, obs_shape, seq_len) in cases {
            let mut runs = Vec::new();
            for device in [Device::Cpu, gpu()] {
                let cfg: QNetworkConfig = toml::from_str(text).unwrap();
                let (net, store) = QNetwork::new(obs_shape, 3, &cfg, 5, &device).unwrap();
                let mut shape = vec![32];
                shape.extend(seq_len);
                shape.extend(obs_shape);
                let x = uniform(&shape, 6, DType::F32)
                    .to_device(store.device())
                    .unwrap();
                let q = match seq_len {
                    Some(_) => net.forward_seq(&x, None, None).unwrap().0,
                    None => net.forward(&x).unwrap(),
                };
                let grads = probe_loss(&q, 7).unwrap().backward().unwrap();
                let grads: Vec<(String, Tensor)> = store
                    .named_vars()
                    .into_iter()
                    .filter(|(n, _)| !qlab_nn::store::is_buffer(n))
                    .map(|(n, v)| (n, grads.get(v.as_tensor()).unwrap().clone()))
                    .collect();
                assert_eq!(q.device().is_cuda(), device.is_cuda(), "{text}");
                runs.push((q, grads));
            }
            let ((q_gpu, g_gpu), (q_cpu, g_cpu)) = (&runs[1], &runs[0]);
            let e = rel_err(q_gpu, q_cpu);
            assert!(e < 1e-4, "{text}: Q-values differ by {e:e}");
            assert!(!g_cpu.is_empty());
            for ((name, g), (_, c)) in g_gpu.iter().zip(g_cpu) {
                let e = rel_err(g, c);
                assert!(e < 1e-4, "{text}: gradient of {name} differs by {e:e}");
            }
        }
    }

    /// On the GPU the optimizers run as tensor ops (the fused kernel is the CPU's): five steps
    /// of each in `f64` match PyTorch's as the CPU's do.
    #[test]
    fn every_optimizer_steps_on_the_gpu_as_pytorch_does() {
        super::optim::assert_matches_pytorch(DType::F64, false, &gpu(), 1e-12);
    }
}
