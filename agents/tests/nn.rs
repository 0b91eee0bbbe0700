//! Tests of the `nn` module: gradient checks of every block, optimizers pinned to PyTorch,
//! checkpoints, configs, and small learning tasks.

use candle_core::{D, DType, Device, Module, Tensor, Var};
use qlab_agents::nn::*;
use qlab_envs::EnvRng;
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
    let mut vars: Vec<(String, Var)> = inputs
        .iter()
        .map(|(n, v)| (n.to_string(), (*v).clone()))
        .collect();
    vars.extend(
        store
            .named_vars()
            .into_iter()
            .filter(|(n, _)| !qlab_agents::nn::store::is_buffer(n)),
    );
    let report = grad_check(
        || probe_loss(&forward()?, 99),
        &vars,
        &GradCheckConfig::default(),
    )
    .unwrap();
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
        check("layer norm", &store, &[("x", &x)], || ln.forward(x.as_tensor()));

        for training in [true, false] {
            let store = store64(7);
            let bn = batch_norm(3, BatchNormConfig::default(), store.var_builder().pp("bn")).unwrap();
            // Non-trivial running statistics for evaluation mode.
            bn.forward(&uniform(&[8, 3, 2, 2], 8, DType::F64)).unwrap();
            bn.set_training(training);
            let x = input_var(&[4, 3, 2, 2], 9);
            check(&format!("batch norm 4d training={training}"), &store, &[("x", &x)], || {
                bn.forward(x.as_tensor())
            });
            let store = store64(10);
            let bn = batch_norm(5, BatchNormConfig::default(), store.var_builder()).unwrap();
            bn.set_training(training);
            let x = input_var(&[6, 5], 11);
            check(&format!("batch norm 2d training={training}"), &store, &[("x", &x)], || {
                bn.forward(x.as_tensor())
            });
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
            check(&format!("conv2d s{stride} p{padding}"), &store, &[("x", &x)], || {
                conv.forward(x.as_tensor())
            });
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
            check(&format!("{kind:?} pool k{k} s{s}"), &store, &[("x", &x)], || {
                pool.forward(x.as_tensor())
            });
        }
        check("global avg pool", &store, &[("x", &x)], || {
            GlobalAvgPool.forward(x.as_tensor())
        });
    }

    #[test]
    fn residual_and_squeeze_excitation() {
        let store = store64(15);
        let res = residual_block(3, Activation::Relu, store.var_builder().pp("res")).unwrap();
        let x = input_var(&[2, 3, 5, 5], 16);
        check("residual block", &store, &[("x", &x)], || res.forward(x.as_tensor()));

        let store = store64(17);
        let se = squeeze_excitation(8, 4, store.var_builder().pp("se")).unwrap();
        let x = input_var(&[2, 8, 3, 3], 18);
        check("squeeze-excitation", &store, &[("x", &x)], || se.forward(x.as_tensor()));
    }

    #[test]
    fn nature_dqn_torso() {
        // The smallest frame the Nature-DQN kernels fit: 36 → 8 → 3 → 1.
        let store = store64(19);
        let net = cnn((2, 36, 36), &CnnConfig::nature_dqn(), store.var_builder()).unwrap();
        assert_eq!(net.output_dim(), 64);
        let x = input_var(&[2, 2, 36, 36], 20);
        check("nature dqn torso", &store, &[("x", &x)], || net.forward(x.as_tensor()));
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
        check("configurable cnn", &store, &[("x", &x)], || net.forward(x.as_tensor()));
    }

    #[test]
    fn recurrent_cells() {
        for kind in [CellKind::Rnn, CellKind::Lstm, CellKind::Gru] {
            let store = store64(23);
            let cell = recurrent_cell(kind, 3, 4, "", store.var_builder()).unwrap();
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
                // both, and to the state passed in.
                check(&format!("{kind:?} seq bidir={bidirectional}"), &store, &inputs, || {
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
                });
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
            check(&format!("sdpa causal={causal}"), &store, &[("q", &q), ("k", &k), ("v", &v)], || {
                scaled_dot_product_attention(q.as_tensor(), k.as_tensor(), v.as_tensor(), causal)
            });
        }
        check("softmax", &store, &[("q", &q)], || softmax(q.as_tensor(), D::Minus1));

        for causal in [false, true] {
            let store = store64(34);
            let cfg = AttentionConfig { heads: 2, causal };
            let attn = multi_head_self_attention(8, cfg, store.var_builder()).unwrap();
            let x = input_var(&[2, 5, 8], 35);
            check(&format!("mhsa causal={causal}"), &store, &[("x", &x)], || {
                attn.forward(x.as_tensor())
            });
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
        let pos = learned_positional_encoding(8, 6, store.var_builder().pp("pos")).unwrap();
        let sin = SinusoidalPositionalEncoding::new(8, 6, DType::F64, &Device::Cpu).unwrap();
        let x = input_var(&[2, 5, 8], 37);
        check("transformer block + positions", &store, &[("x", &x)], || {
            block.forward(&pos.forward(&sin.forward(x.as_tensor())?)?)
        });
    }

    #[test]
    fn heads_and_huber() {
        let store = store64(38);
        let q = q_head(5, 3, store.var_builder().pp("q")).unwrap();
        let cfg = DuelingConfig {
            hidden: vec![4],
            activation: Activation::Tanh,
        };
        let duel = dueling_head(5, 3, &cfg, store.var_builder().pp("duel")).unwrap();
        let x = input_var(&[4, 5], 39);
        check("q head + dueling head", &store, &[("x", &x)], || {
            Tensor::cat(&[q.forward(x.as_tensor())?, duel.forward(x.as_tensor())?], 1)
        });
        // Pairs inside and outside the quadratic band (|d| ≤ 1).
        let store = store64(0);
        let pred = Var::from_tensor(&(uniform(&[12], 40, DType::F64) * 3.0).unwrap()).unwrap();
        let target = Var::from_tensor(&uniform(&[12], 41, DType::F64)).unwrap();
        check("huber", &store, &[("pred", &pred), ("target", &target)], || {
            huber_loss(pred.as_tensor(), target.as_tensor(), 1.0)
        });
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
            check(&format!("q network {i}"), &store, &[("x", &x)], || net.forward(x.as_tensor()));
        }
    }
}
