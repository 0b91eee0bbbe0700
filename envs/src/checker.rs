//! An env checker: does an env keep the [`Env`] contract? (Gymnasium's `check_env`.)

use std::fmt;

use rand::SeedableRng;

use crate::{Env, EnvRng, Error, Space, SpaceAction};

/// An observation whose membership in a [`Space`] can be checked.
pub trait SpaceMember {
    /// Whether `self` lies in `space`.
    fn is_in(&self, space: &Space) -> bool;
}

impl SpaceMember for usize {
    fn is_in(&self, space: &Space) -> bool {
        matches!(space, Space::Discrete(d) if d.contains(*self))
    }
}

impl<const N: usize> SpaceMember for [f32; N] {
    fn is_in(&self, space: &Space) -> bool {
        matches!(space, Space::Box(b) if b.contains(self))
    }
}

impl SpaceMember for Vec<f32> {
    fn is_in(&self, space: &Space) -> bool {
        matches!(space, Space::Box(b) if b.contains(self))
    }
}

/// What [`check_env`] found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckFailure {
    /// The env's name.
    pub env: String,
    /// The broken rule.
    pub problem: String,
}

impl fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.env, self.problem)
    }
}

impl std::error::Error for CheckFailure {}

/// One recorded transition, for comparing two runs.
#[derive(Debug, PartialEq)]
struct Record<O> {
    obs: O,
    reward: f64,
    terminated: bool,
    truncated: bool,
}

/// Checks that the envs built by `make` keep the [`Env`] contract.
///
/// `make` must build a fresh env each call. The checker plays seeded random episodes of at most
/// `max_steps` steps each, with actions drawn from the action space by
/// [`SpaceAction::sample`] (uniform over `Discrete(n)`, as the box samples over a `Box`), and
/// fails on the first broken rule:
/// - the action space has an element of the action type (`Discrete(n)` with `n ≥ 1` for
///   `usize`, a box of the array's length for `[f32; N]`), and the spaces do not change;
/// - `step` before `reset` is [`Error::NotReset`];
/// - every observation lies in the observation space and every reward is finite;
/// - the same seed and actions give the same observations, rewards and flags, also across the
///   unseeded resets that follow;
/// - every invalid action of [`SpaceAction::outside`] — `n` for `Discrete(n)`; a value past a
///   bound, NaN, infinity and (for `Vec<f32>`) a wrong length for a box — is
///   [`Error::InvalidAction`] and leaves the env unchanged; except, for an env that
///   [clips its actions](Env::clips_actions), a finite value past a bound, which must step
///   to an observation in the space with a finite reward;
/// - once an episode has ended, `step` is [`Error::EpisodeEnded`] (checked when an episode
///   ends within `max_steps`);
/// - both render modes produce output: non-empty text, and a non-empty frame of
///   `height × width × 3` bytes.
pub fn check_env<E, F>(make: F, seed: u64, max_steps: usize) -> Result<(), CheckFailure>
where
    E: Env,
    E::Action: SpaceAction,
    E::Obs: SpaceMember + PartialEq,
    F: Fn() -> E,
{
    let mut env = make();
    let fail = |problem: String| CheckFailure {
        env: make().name(),
        problem,
    };
    let act_space = env.action_space().clone();
    let sample = |rng: &mut EnvRng| {
        E::Action::sample(&act_space, rng).ok_or_else(|| {
            fail(format!(
                "action space {act_space} has no element of the action type {}",
                std::any::type_name::<E::Action>()
            ))
        })
    };
    let first_action = sample(&mut EnvRng::seed_from_u64(seed))?;
    if !matches!(env.step(first_action), Err(Error::NotReset)) {
        return Err(fail("step before reset is not Error::NotReset".into()));
    }

    let run = |env: &mut E| -> Result<Vec<Record<E::Obs>>, CheckFailure> {
        let mut actions = EnvRng::seed_from_u64(seed ^ 0x5EED);
        let mut records = Vec::new();
        for episode in 0..3 {
            let reset = env.reset((episode == 0).then_some(seed));
            records.push(Record {
                obs: reset.obs,
                reward: 0.0,
                terminated: false,
                truncated: false,
            });
            for _ in 0..max_steps {
                let action = sample(&mut actions)?;
                let step = env
                    .step(action.clone())
                    .map_err(|e| fail(format!("a valid action {action:?} failed: {e}")))?;
                let done = step.done();
                records.push(Record {
                    obs: step.obs,
                    reward: step.reward,
                    terminated: step.terminated,
                    truncated: step.truncated,
                });
                if done {
                    match env.step(action) {
                        Err(Error::EpisodeEnded) => {}
                        other => {
                            return Err(fail(format!(
                                "step after the episode ended gave {other:?}, not EpisodeEnded"
                            )));
                        }
                    }
                    break;
                }
            }
        }
        Ok(records)
    };

    let obs_space = env.observation_space().clone();
    let first = run(&mut env)?;
    for (i, r) in first.iter().enumerate() {
        if !r.obs.is_in(&obs_space) {
            return Err(fail(format!(
                "observation {i} {:?} is not in {obs_space}",
                r.obs
            )));
        }
        if !r.reward.is_finite() {
            return Err(fail(format!("reward {i} is {}", r.reward)));
        }
    }
    if env.observation_space() != &obs_space || env.action_space() != &act_space {
        return Err(fail("the spaces changed while stepping".into()));
    }
    let mut again = make();
    let second = run(&mut again)?;
    if first != second {
        let at = first.iter().zip(&second).position(|(a, b)| a != b);
        return Err(fail(format!(
            "same seed, different trajectory (first difference at record {at:?})"
        )));
    }

    // An env that clips its actions takes a finite action past a bound: a step whose
    // observation lies in the space and whose reward is finite. (Its arithmetic may differ
    // from the clipped action's in the last bits, as Gymnasium's MountainCarContinuous's
    // does, and its reward may charge the action as given.)
    let clips = env.clips_actions();
    let outside = E::Action::outside(&act_space);
    if clips {
        for bad in outside
            .iter()
            .filter(|bad| bad.clipped(&act_space).is_some())
        {
            let mut e = make();
            e.reset(Some(seed));
            match e.step(bad.clone()) {
                Ok(step) if step.obs.is_in(&obs_space) && step.reward.is_finite() => {}
                other => {
                    return Err(fail(format!(
                        "an env that clips its actions stepped {bad:?} as {other:?}"
                    )));
                }
            }
        }
    }

    // Invalid actions in the middle of an episode must change nothing.
    let invalid: Vec<E::Action> = outside
        .into_iter()
        .filter(|bad| !clips || bad.clipped(&act_space).is_none())
        .collect();
    let mut probe = make();
    let mut actions = EnvRng::seed_from_u64(seed ^ 0x5EED);
    probe.reset(Some(seed));
    let mut k = 1;
    loop {
        for bad in &invalid {
            match probe.step(bad.clone()) {
                Err(Error::InvalidAction { .. }) => {}
                other => {
                    return Err(fail(format!(
                        "action {bad:?} outside {act_space} gave {other:?}, not InvalidAction"
                    )));
                }
            }
        }
        let action = sample(&mut actions)?;
        let step = probe
            .step(action.clone())
            .map_err(|e| fail(format!("a valid action {action:?} failed: {e}")))?;
        let same = first.get(k).is_some_and(|r| {
            r.obs == step.obs
                && r.reward == step.reward
                && r.terminated == step.terminated
                && r.truncated == step.truncated
        });
        if !same {
            return Err(fail(format!(
                "an invalid action changed the env (step {k} differs)"
            )));
        }
        if step.done() || k >= max_steps.min(20) {
            break;
        }
        k += 1;
    }

    let text = env.render_ansi();
    if text.trim().is_empty() {
        return Err(fail("render_ansi produced no text".into()));
    }
    let frame = env.render_rgb();
    if frame.height == 0 || frame.width == 0 || frame.data.len() != frame.height * frame.width * 3 {
        return Err(fail(format!(
            "render_rgb produced a {}×{} frame with {} bytes",
            frame.height,
            frame.width,
            frame.data.len()
        )));
    }
    Ok(())
}

/// Active tiles lie in `Discrete(memory_size)` when every index does.
impl SpaceMember for crate::wrappers::Tiles {
    fn is_in(&self, space: &Space) -> bool {
        matches!(space, Space::Discrete(d) if self.iter().all(|&i| d.contains(i)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrappers::test_envs::Chain;
    use crate::wrappers::{TimeLimit, Wrapper, inner_env_in};

    /// A step of `E` that breaks the contract.
    type BadStep<E> = fn(&mut E, <E as Env>::Action) -> crate::Result<crate::Step<<E as Env>::Obs>>;

    /// `env` with a `step` that breaks the contract, under another name; the rest is `env`'s.
    struct Broken<E: Env> {
        env: E,
        name: &'static str,
        step: BadStep<E>,
    }

    impl<E: Env> Wrapper for Broken<E> {
        type Inner = E;
        type Obs = E::Obs;
        inner_env_in!(env);
        fn observation(_: &mut Self, obs: E::Obs) -> E::Obs {
            obs
        }
        fn step(this: &mut Self, action: E::Action) -> crate::Result<crate::Step<E::Obs>> {
            (this.step)(&mut this.env, action)
        }
        fn name(this: &Self) -> String {
            this.name.into()
        }
    }

    #[test]
    fn a_conforming_env_passes() {
        check_env(|| Chain::new(5), 3, 50).unwrap();
        check_env(|| TimeLimit::new(Chain::new(9), 4), 3, 50).unwrap();
    }

    #[test]
    fn a_box_action_env_passes_and_one_that_clamps_bad_actions_fails() {
        use crate::point_mass::PointMass;
        check_env(PointMass::new, 1, 40).unwrap();
        // Clamping an out-of-bounds force instead of refusing it breaks the contract.
        let lax = || Broken {
            env: PointMass::new(),
            name: "Lax",
            step: |env, a| env.step([a[0].clamp(-1.0, 1.0)]),
        };
        let failure = check_env(lax, 1, 40).unwrap_err().to_string();
        assert!(
            failure.starts_with("Lax: action [2.0] outside Box(-1, 1, (1,), float32) gave Ok(")
                && failure.ends_with("not InvalidAction"),
            "{failure}"
        );
    }

    #[test]
    fn an_action_type_that_cannot_hold_the_action_space_fails() {
        let make = || {
            let mut env = Chain::new(3);
            env.act_space = crate::BoxSpace::uniform(0.0, 1.0, vec![1]).into();
            env
        };
        let failure = check_env(make, 0, 10).unwrap_err();
        assert_eq!(
            failure.problem,
            "action space Box(0, 1, (1,), float32) has no element of the action type usize"
        );
    }

    #[test]
    fn an_observation_outside_the_space_fails() {
        let make = || {
            let mut env = Chain::new(5);
            env.obs_space = Space::discrete(3);
            env
        };
        let failure = check_env(make, 0, 50).unwrap_err();
        assert!(
            failure.problem.contains("is not in Discrete(3)"),
            "{failure}"
        );
    }

    #[test]
    fn an_env_that_forgets_to_end_fails() {
        // An env that keeps stepping after its episode ended breaks the contract.
        let forgetful = || Broken {
            env: Chain::new(3),
            name: "Forgetful",
            step: |env, action| match env.step(action) {
                Err(Error::EpisodeEnded) => env.step(action).or(Ok(crate::Step {
                    obs: 0,
                    reward: 0.0,
                    terminated: false,
                    truncated: false,
                    info: Default::default(),
                })),
                other => other,
            },
        };
        let failure = check_env(forgetful, 0, 50).unwrap_err();
        assert!(failure.problem.contains("not EpisodeEnded"), "{failure}");
    }
}
