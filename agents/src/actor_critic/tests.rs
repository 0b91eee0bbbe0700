//! The actor-critic agents on one-step tasks, and their checkpoints.

use super::*;
use crate::a2c::A2cConfig;
use crate::rollout::Coefficient;

/// Plays `steps` steps of a one-step task: every env observes `x`, each action `a` earns
/// `reward(a)` and ends its episode. What each training measured.
fn one_step_task(
    agent: &mut ActorCriticAgent,
    x: f32,
    steps: usize,
    reward: impl Fn(&[f32]) -> f64,
) -> Vec<UpdateStats> {
    let n = agent.common.n_envs;
    let obs = vec![x; n];
    let (terminated, truncated) = (vec![true; n], vec![false; n]);
    let mut trained = Vec::new();
    for _ in 0..steps {
        let rewards: Vec<f64> = agent
            .act(&obs)
            .unwrap()
            .iter()
            .map(|s| reward(&s.action))
            .collect();
        let step = VecStep {
            rewards: &rewards,
            terminated: &terminated,
            truncated: &truncated,
            final_obs: &obs,
            next_obs: &obs,
        };
        trained.extend(agent.observe(&step).unwrap());
    }
    trained
}

/// A two-armed bandit with one observation: PPO moves the policy to the arm that pays.
#[test]
fn ppo_learns_a_bandit_and_reruns_bit_identically() {
    let run = |seed: u64| -> (f32, Vec<f32>) {
        let config = PpoConfig {
            n_envs: 2,
            n_steps: 16,
            batch_size: 8,
            n_epochs: 4,
            learning_rate: Coefficient::Constant(3e-3),
            ..Default::default()
        };
        let config = OnPolicyConfig::Ppo(config);
        let mut agent =
            ActorCriticAgent::new(1, ActionKind::Discrete(2), &config, 2000, seed).unwrap();
        let trained = one_step_task(&mut agent, 1.0, 500, |a| a[0] as f64);
        let losses = trained.iter().map(|s| s.loss as f32).collect();
        let greedy = agent.greedy(&[1.0]).unwrap()[0];
        (greedy, losses)
    };
    let (greedy, losses) = run(3);
    assert_eq!(greedy, 1.0, "the paying arm");
    assert_eq!(losses.len(), 500 / 16);
    assert_eq!(run(3).1, losses, "bit-identical rerun");
    assert_ne!(run(4).1, losses);
}

/// A one-step task with a Box action, reward `−(a − 1)²`: PPO with gSDE moves the mean
/// action toward 1.
#[test]
fn ppo_with_gsde_learns_a_continuous_bandit() {
    let config = OnPolicyConfig::Ppo(PpoConfig {
        n_envs: 4,
        n_steps: 16,
        batch_size: 16,
        n_epochs: 4,
        learning_rate: Coefficient::Constant(3e-3),
        use_sde: true,
        sde_sample_freq: 4,
        ..Default::default()
    });
    let mut agent = ActorCriticAgent::new(1, ActionKind::Continuous(1), &config, 8000, 1).unwrap();
    let before = agent.greedy(&[0.5]).unwrap()[0];
    one_step_task(&mut agent, 0.5, 1000, |a| -((a[0] as f64 - 1.0).powi(2)));
    let after = agent.greedy(&[0.5]).unwrap()[0];
    assert!(before.abs() < 0.1, "{before}");
    assert!((after - 1.0).abs() < 0.2, "{after}");
    let discrete = ActorCriticAgent::new(1, ActionKind::Discrete(2), &config, 8000, 1);
    assert!(discrete.unwrap_err().to_string().contains("use_sde"));
}

/// A two-armed bandit with one observation: A2C moves the policy to the arm that pays, one
/// step per rollout.
#[test]
fn a2c_learns_a_bandit_and_reruns_bit_identically() {
    let run = |seed: u64| -> (f32, Vec<f32>) {
        let config = OnPolicyConfig::A2c(A2cConfig {
            n_envs: 2,
            n_steps: 4,
            learning_rate: Coefficient::Constant(3e-3),
            ..Default::default()
        });
        let mut agent =
            ActorCriticAgent::new(1, ActionKind::Discrete(2), &config, 2000, seed).unwrap();
        let trained = one_step_task(&mut agent, 1.0, 600, |a| a[0] as f64);
        assert!(trained.iter().all(|s| s.gradient_steps == 1));
        let losses = trained.iter().map(|s| s.loss as f32).collect();
        let greedy = agent.greedy(&[1.0]).unwrap()[0];
        (greedy, losses)
    };
    let (greedy, losses) = run(3);
    assert_eq!(greedy, 1.0, "the paying arm");
    assert_eq!(losses.len(), 600 / 4);
    assert_eq!(run(3).1, losses, "bit-identical rerun");
    assert_ne!(run(4).1, losses);
}

/// An agent restored from a checkpoint taken between rollouts continues bit for bit as the
/// agent that wrote it: PPO with gSDE and both normalizations (generator, optimizer moments,
/// statistics, gSDE weights drawn anew), and A2C with RMSprop.
#[test]
fn a_checkpoint_between_rollouts_continues_bit_identically() {
    let dir = std::env::temp_dir().join(format!("qlab-ac-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ppo = OnPolicyConfig::Ppo(PpoConfig {
        n_envs: 2,
        n_steps: 8,
        batch_size: 8,
        n_epochs: 2,
        learning_rate: Coefficient::Constant(3e-3),
        use_sde: true,
        sde_sample_freq: 4,
        normalize: crate::normalize::Normalize {
            norm_obs: true,
            norm_reward: true,
        },
        ..Default::default()
    });
    let a2c = OnPolicyConfig::A2c(A2cConfig {
        n_envs: 2,
        n_steps: 4,
        learning_rate: Coefficient::Constant(3e-3),
        ..Default::default()
    });
    for (name, config, kind) in [
        ("ppo", ppo, ActionKind::Continuous(1)),
        ("a2c", a2c, ActionKind::Discrete(2)),
    ] {
        let reward = |a: &[f32]| -((a[0] as f64 - 1.0).powi(2));
        let mut whole = ActorCriticAgent::new(1, kind, &config, 4000, 5).unwrap();
        one_step_task(&mut whole, 0.5, 40, reward);
        let path = dir.join(format!("{name}.agent"));
        whole.save_checkpoint(&path).unwrap();
        let mut resumed = ActorCriticAgent::new(1, kind, &config, 4000, 99).unwrap();
        resumed.load_checkpoint(&path).unwrap();
        let a = one_step_task(&mut whole, 0.5, 40, reward);
        let b = one_step_task(&mut resumed, 0.5, 40, reward);
        let losses = |s: &[UpdateStats]| s.iter().map(|s| s.loss.to_bits()).collect::<Vec<_>>();
        assert!(!a.is_empty(), "{name}");
        assert_eq!(losses(&a), losses(&b), "{name}");
        assert_eq!(whole.steps(), resumed.steps(), "{name}");
        assert_eq!(whole.normalizer(), resumed.normalizer(), "{name}");
        // Mid-rollout there is nothing to checkpoint from.
        whole.act(&[0.5, 0.5]).unwrap();
        let e = whole.save_checkpoint(&path).unwrap_err().to_string();
        assert!(e.contains("between rollouts"), "{e}");
        // A file of another agent's shape is refused, naming it.
        let other = ActorCriticAgent::new(3, kind, &config, 4000, 5).unwrap();
        let e = resumed.load_checkpoint(&path).map(|_| ()).and_then(|_| {
            other.save_checkpoint(&path)?;
            resumed.load_checkpoint(&path)
        });
        let e = e.unwrap_err().to_string();
        assert!(e.contains(&path.display().to_string()), "{name}: {e}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The attacks' view of a categorical policy: its logits at the raw observation, read
/// through the agent's observation statistics. Its greedy action is the agent's, and its
/// gradient with respect to the raw observation (the one the attacks ascend) matches central
/// finite differences of the attacked loss, the statistics' scaling included.
#[test]
fn policy_logits_are_the_policy_and_differentiate_through_the_normalization() {
    use crate::adversarial::{QFunction, attacked_loss, input_gradient};
    use crate::normalize::{Normalize, RunningMeanStd};
    use candle_core::Tensor;
    let config = OnPolicyConfig::Ppo(PpoConfig {
        normalize: Normalize {
            norm_obs: true,
            norm_reward: false,
        },
        policy: crate::nn::ActorCriticConfig {
            ortho_init: false,
            ..Default::default()
        },
        ..Default::default()
    });
    let mut agent = ActorCriticAgent::new(2, ActionKind::Discrete(3), &config, 1000, 4).unwrap();
    let mut norm = agent.normalizer().clone();
    // Scales far from 1, so that a gradient missing them is seen.
    norm.obs = Some(RunningMeanStd {
        mean: vec![0.5, -1.0],
        var: vec![9.0, 0.04],
        count: 10.0,
    });
    agent.set_normalizer(norm).unwrap();
    let q = PolicyLogits::new(&agent).unwrap();
    let mut rng = EnvRng::seed_from_u64(8);
    let obs: Vec<f32> = (0..16)
        .map(|i| match i % 2 {
            0 => 0.5 + 6.0 * (rng.next_f64() as f32 - 0.5),
            _ => -1.0 + 0.4 * (rng.next_f64() as f32 - 0.5),
        })
        .collect();
    let device = Device::Cpu;
    let x = Tensor::from_slice(&obs, (8, 2), &device).unwrap();
    let logits: Vec<Vec<f32>> = q.q_values(&x).unwrap().to_vec2().unwrap();
    for (row, l) in obs.chunks(2).zip(&logits) {
        let greedy = agent.greedy(row).unwrap()[0] as usize;
        assert_eq!(crate::nn::argmax(l), greedy, "{row:?}: {l:?}");
    }
    let labels: Vec<u32> = logits.iter().map(|l| crate::nn::argmax(l) as u32).collect();
    let labels = Tensor::from_slice(&labels, 8, &device).unwrap();
    let (_, grad) = input_gradient(&q, &x, &labels, false).unwrap();
    let grad: Vec<f32> = grad.flatten_all().unwrap().to_vec1().unwrap();
    let loss_at = |o: &[f32]| -> f64 {
        let t = Tensor::from_slice(o, (8, 2), &device).unwrap();
        let l = attacked_loss(&q.q_values(&t).unwrap(), &labels, false).unwrap();
        l.sum_all().unwrap().to_scalar::<f32>().unwrap() as f64
    };
    let mut worst: f64 = 0.0;
    for i in 0..obs.len() {
        // A step a hundredth of the element's scale.
        let h = if i % 2 == 0 { 0.03 } else { 0.002 };
        let (mut plus, mut minus) = (obs.clone(), obs.clone());
        plus[i] += h;
        minus[i] -= h;
        let numeric = (loss_at(&plus) - loss_at(&minus)) / (2.0 * h as f64);
        let analytic = grad[i] as f64;
        let rel = (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(1e-2);
        worst = worst.max(rel);
    }
    assert!(worst < 1e-2, "worst relative error {worst}");
    // Box actions have no preferences to push on.
    let gaussian = ActorCriticAgent::new(2, ActionKind::Continuous(1), &config, 1000, 4).unwrap();
    assert!(PolicyLogits::new(&gaussian).is_err());
}
