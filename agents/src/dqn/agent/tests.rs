use super::*;

fn small(extra: impl FnOnce(&mut DqnConfig)) -> DqnConfig {
    let mut c = DqnConfig {
        learning_starts: 20,
        batch_size: 8,
        buffer_size: 64,
        train_freq: 4,
        gradient_steps: 2,
        target_update_interval: 10,
        learning_rate: 1e-3,
        network: crate::nn::QNetworkConfig {
            torso: TorsoConfig::Mlp {
                hidden: vec![8],
                activation: Default::default(),
                layer_norm: false,
                dropout: 0.0,
            },
            ..Default::default()
        },
        ..Default::default()
    };
    extra(&mut c);
    c
}

/// A NaN gradient behind a finite loss stops training as a divergence named for the
/// gradient norm and the env step, and changes no weight.
#[test]
fn a_nan_gradient_is_a_divergence_that_changes_nothing() {
    let mut a = Dqn::new(&[5], 2, &small(|_| {}), 1_000, 0).unwrap();
    play(&mut a, 40);
    let before = a.params().to_bytes().unwrap();
    let mut grads = candle_core::backprop::GradStore::default();
    for (_, v) in a.params().named_vars() {
        grads.insert(v.as_tensor(), v.as_tensor().ones_like().unwrap());
    }
    let (_, v) = &a.params().named_vars()[0];
    grads.insert(
        v.as_tensor(),
        (v.as_tensor().ones_like().unwrap() * f64::NAN).unwrap(),
    );
    let err = a.optimizer_step(&grads).unwrap_err();
    assert_eq!(
        err.to_string(),
        "training diverged at env step 40: the gradient norm is NaN"
    );
    assert_eq!(a.params().to_bytes().unwrap(), before);
}

/// A chain of 5 states, one-hot observations, action 1 steps right; reaching the end
/// terminates with reward 1, episodes are truncated at 8 steps.
fn play(agent: &mut Dqn, steps: usize) -> Vec<f64> {
    let mut losses = Vec::new();
    let (mut s, mut t) = (0usize, 0);
    let one_hot = |s: usize| {
        let mut o = [0.0f32; 5];
        o[s] = 1.0;
        o
    };
    for _ in 0..steps {
        let obs = one_hot(s);
        let a = agent.act(&obs).unwrap();
        let next = if a == 1 { s + 1 } else { s.saturating_sub(1) };
        t += 1;
        let terminated = next == 4;
        let truncated = !terminated && t == 8;
        let r = if terminated { 1.0 } else { 0.0 };
        if let Some(st) = agent
            .observe(&obs, a, r, &one_hot(next), terminated, truncated)
            .unwrap()
        {
            losses.push(st.loss);
            losses.push(st.mean_q);
        }
        if terminated || truncated {
            (s, t) = (0, 0);
        } else {
            s = next;
        }
    }
    losses
}

#[test]
fn a_seeded_run_is_bit_identical() {
    for variant in [
        small(|_| {}),
        small(|c| {
            c.double = true;
            c.n_step = 3;
            c.prioritized = true;
            c.tau = 0.5;
            c.network.head = crate::nn::HeadConfig::Dueling {
                hidden: vec![],
                activation: Default::default(),
            };
        }),
    ] {
        let mut a = Dqn::new(&[5], 2, &variant, 200, 3).unwrap();
        let mut b = Dqn::new(&[5], 2, &variant, 200, 3).unwrap();
        let (la, lb) = (play(&mut a, 200), play(&mut b, 200));
        assert!(!la.is_empty());
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&la), bits(&lb));
        assert_eq!(
            a.params().to_bytes().unwrap(),
            b.params().to_bytes().unwrap()
        );
        let mut c = Dqn::new(&[5], 2, &variant, 200, 4).unwrap();
        assert_ne!(bits(&play(&mut c, 200)), bits(&la));
    }
}

/// A planned phase draws the batches that sampling batch by batch draws, leaves the
/// generator where they leave it, and holds the target network's `max_a Q(s', a)` of each
/// drawn transition with the bits of its tensor forward pass.
#[test]
fn a_planned_phase_holds_the_batches_and_values_of_batch_by_batch_sampling() {
    // 16 batches of 8 from a buffer of at most 64: most draws repeat.
    let config = small(|c| {
        c.gradient_steps = 16;
        c.n_step = 2;
    });
    let mut planned = Dqn::new(&[5], 2, &config, 300, 5).unwrap();
    let mut sampled = Dqn::new(&[5], 2, &config, 300, 5).unwrap();
    play(&mut planned, 30);
    play(&mut sampled, 30);
    let plan = planned
        .plan_phase(16)
        .unwrap()
        .expect("the plan applies here");
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for k in 0..16 {
        sampled
            .replay
            .sample_uniform(&mut sampled.batch, &mut sampled.rng);
        let (indices, values) = plan.batch(k);
        assert_eq!(indices, &sampled.batch.indices[..], "batch {k}");
        let next = Tensor::from_slice(&sampled.batch.next_obs, (8, 5), &Device::Cpu).unwrap();
        let want = sampled.target.forward(&next).unwrap().max(1).unwrap();
        assert_eq!(
            bits(values),
            bits(&want.to_vec1::<f32>().unwrap()),
            "batch {k}"
        );
    }
    assert_eq!(planned.rng.state(), sampled.rng.state());
    let double = small(|c| c.double = true);
    let mut d = Dqn::new(&[5], 2, &double, 300, 5).unwrap();
    play(&mut d, 30);
    assert!(
        d.plan_phase(2).unwrap().is_none(),
        "Double DQN reads the online network"
    );
}

/// The bootstrap values of a batch are the target network's tensor forward pass: its
/// maximum, or with Double DQN its value at the online network's greedy action.
#[test]
fn bootstrap_values_are_the_networks_forward_passes() {
    for double in [false, true] {
        let mut a = Dqn::new(&[5], 2, &small(|c| c.double = double), 300, 2).unwrap();
        play(&mut a, 40);
        a.replay.sample_uniform(&mut a.batch, &mut a.rng);
        let next = Tensor::from_slice(&a.batch.next_obs, (8, 5), &Device::Cpu).unwrap();
        let target = a.target.forward(&next).unwrap();
        let want = if double {
            let best = a.online.forward(&next).unwrap().argmax_keepdim(1).unwrap();
            target.gather(&best, 1).unwrap().squeeze(1).unwrap()
        } else {
            target.max(1).unwrap()
        };
        let got = a.bootstrap_values().unwrap();
        assert_eq!(got, want.to_vec1::<f32>().unwrap(), "double {double}");
    }
}

#[test]
fn training_and_target_updates_follow_env_steps() {
    let mut a = Dqn::new(&[5], 2, &small(|_| {}), 1000, 0).unwrap();
    let obs = [0.0f32; 5];
    let mut trained_at = Vec::new();
    for _ in 0..40 {
        let before = a.target_params().to_bytes().unwrap();
        let act = a.act(&obs).unwrap();
        if let Some(s) = a.observe(&obs, act, 1.0, &obs, false, false).unwrap() {
            trained_at.push(s.step);
            assert_eq!(s.gradient_steps, 2);
        }
        let changed = a.target_params().to_bytes().unwrap() != before;
        // The target changes only on multiples of 10, and only once the online network
        // has moved away from it (training starts after step 20).
        if changed {
            assert_eq!(a.steps() % 10, 0, "target updated at step {}", a.steps());
        }
        if a.steps() == 30 || a.steps() == 40 {
            assert!(changed, "no target update at step {}", a.steps());
        }
    }
    // Training on multiples of train_freq = 4 strictly past learning_starts = 20.
    assert_eq!(trained_at, vec![24, 28, 32, 36, 40]);
    assert_eq!(a.updates(), 10);
}

#[test]
fn learns_the_chain() {
    let c = small(|c| {
        c.exploration_fraction = 0.5;
        c.gamma = 0.9;
        c.learning_rate = 1e-2;
        c.target_update_interval = 20;
    });
    let mut a = Dqn::new(&[5], 2, &c, 2000, 1).unwrap();
    play(&mut a, 2000);
    for s in 0..4 {
        let mut o = [0.0f32; 5];
        o[s] = 1.0;
        assert_eq!(a.greedy(&o).unwrap(), 1, "state {s}");
    }
    // Q(s3, right) = 1, Q(s2, right) = γ.
    let q3 = a.q_values(&[0.0, 0.0, 0.0, 1.0, 0.0]).unwrap()[1];
    assert!((q3 - 1.0).abs() < 0.1, "{q3}");
}

/// A run checkpointed half-way and restored into a fresh agent ends bit-identical to the
/// run that went straight through.
#[test]
fn a_restored_checkpoint_continues_exactly() {
    let c = small(|c| {
        c.n_step = 3;
        c.prioritized = true;
    });
    let mut straight = Dqn::new(&[5], 2, &c, 400, 5).unwrap();
    let first = play(&mut straight, 200);
    let (tensors, state) = straight.checkpoint().unwrap();
    let rest = play(&mut straight, 200);

    let mut resumed = Dqn::new(&[5], 2, &c, 400, 5).unwrap();
    resumed.restore(&tensors, &state).unwrap();
    assert_eq!(resumed.checkpoint().unwrap().1, state);
    let again = play(&mut resumed, 200);
    assert!(!first.is_empty() && !rest.is_empty());
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&rest), bits(&again));
    assert_eq!(
        straight.params().to_bytes().unwrap(),
        resumed.params().to_bytes().unwrap()
    );
}

/// β rises linearly from β₀ to 1 over the budget (Schaul et al., 2016, §3.4).
#[test]
fn beta_anneals_to_one_over_the_budget() {
    let c = small(|c| c.prioritized = true);
    let mut a = Dqn::new(&[5], 2, &c, 100, 0).unwrap();
    assert_eq!(a.beta(), 0.4);
    let obs = [0.0f32; 5];
    for _ in 0..50 {
        let act = a.act(&obs).unwrap();
        a.observe(&obs, act, 0.0, &obs, false, false).unwrap();
    }
    assert!((a.beta() - 0.7).abs() < 1e-12, "{}", a.beta());
    for _ in 0..60 {
        let act = a.act(&obs).unwrap();
        a.observe(&obs, act, 0.0, &obs, false, false).unwrap();
    }
    assert_eq!(a.beta(), 1.0);
}

/// A CNN torso reads `(N, 5, 6, 6)` images (the pixel GridWorld's planes) from flat
/// observations: the agent builds, acts, trains a step, and its Q-values have one entry
/// per action.
#[test]
fn a_cnn_torso_reads_image_observations() {
    let c = small(|c| {
        c.learning_starts = 4;
        c.train_freq = 4;
        c.gradient_steps = 1;
        c.batch_size = 4;
        c.network.torso = TorsoConfig::Cnn {
            layers: vec![crate::nn::CnnLayer::Conv {
                channels: 4,
                kernel: 3,
                stride: 1,
                padding: 1,
            }],
            activation: Default::default(),
            fc: vec![8],
        };
    });
    let shape = [5, 6, 6];
    let mut a = Dqn::new(&shape, 4, &c, 100, 0).unwrap();
    assert_eq!(a.obs_dim(), 180);
    let obs: Vec<f32> = (0..180).map(|i| (i % 7 == 0) as u8 as f32).collect();
    let before = a.params().to_bytes().unwrap();
    let mut trained = None;
    for _ in 0..8 {
        let act = a.act(&obs).unwrap();
        assert!(act < 4);
        if let Some(s) = a.observe(&obs, act, -1.0, &obs, false, false).unwrap() {
            trained = Some(s);
        }
    }
    let s = trained.expect("trained at step 8");
    assert_eq!((s.step, s.gradient_steps), (8, 1));
    assert!(s.loss.is_finite() && s.mean_q.is_finite());
    assert_ne!(
        a.params().to_bytes().unwrap(),
        before,
        "the update moved no weight"
    );
    assert_eq!(a.q_values(&obs).unwrap().len(), 4);
    // A CNN torso needs [C, H, W]; a flat shape is an error, not a panic.
    let err = Dqn::new(&[180], 4, &c, 100, 0).unwrap_err().to_string();
    assert!(err.contains("[C, H, W]"), "{err}");
}

/// An MLP torso flattens an image observation.
#[test]
fn an_mlp_torso_flattens_image_observations() {
    let mut a = Dqn::new(&[5, 6, 6], 4, &small(|_| {}), 100, 0).unwrap();
    let obs = [0.5f32; 180];
    let act = a.act(&obs).unwrap();
    a.observe(&obs, act, 0.0, &obs, true, false).unwrap();
    assert_eq!(a.q_values(&obs).unwrap().len(), 4);
    assert!(Dqn::new(&[5, 0, 6], 4, &small(|_| {}), 100, 0).is_err());
}

#[test]
fn a_non_finite_loss_stops_with_the_step() {
    let mut a = Dqn::new(&[5], 2, &small(|_| {}), 1000, 0).unwrap();
    let obs = [0.0f32; 5];
    let mut err = None;
    for _ in 0..30 {
        let act = a.act(&obs).unwrap();
        if let Err(e) = a.observe(&obs, act, f64::INFINITY, &obs, false, false) {
            err = Some(e.to_string());
            break;
        }
    }
    assert_eq!(
        err.as_deref(),
        Some("training diverged at env step 24: the loss is inf")
    );
}
