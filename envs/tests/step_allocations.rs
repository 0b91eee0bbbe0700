//! The concrete classic-control and toy-text envs step without allocating (the rule for hot
//! paths), inside their registered time limits, as `qlab bench` and an embedding crate step
//! them. A counting allocator counts the allocations of this thread during `step` alone.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use qlab_envs::acrobot::{Acrobot, AcrobotConfig};
use qlab_envs::blackjack::{Blackjack, BlackjackConfig};
use qlab_envs::mountain_car::{MountainCar, MountainCarContinuous};
use qlab_envs::pendulum::{Pendulum, PendulumConfig};
use qlab_envs::taxi::Taxi;
use qlab_envs::wrappers::TimeLimit;
use qlab_envs::{Env, EnvRng, Params, SpaceAction, registry};
use rand::SeedableRng;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; it only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Allocations made inside `step` over `steps` random steps (resets not counted).
fn step_allocations<E: Env>(env: &mut E, steps: u64) -> u64
where
    E::Action: SpaceAction,
{
    let space = env.action_space().clone();
    let mut rng = EnvRng::seed_from_u64(7);
    env.reset(Some(7));
    let mut counted = 0;
    for _ in 0..steps {
        let action = E::Action::sample(&space, &mut rng).expect("an action of the space");
        let before = allocations();
        let step = env.step(action).expect("a valid step");
        counted += allocations() - before;
        if step.terminated || step.truncated {
            env.reset(None);
        }
    }
    counted
}

#[test]
fn the_new_envs_step_without_allocating() {
    // The counter works: a Vec allocates once.
    let before = allocations();
    std::hint::black_box(vec![0u8; 16]);
    assert_eq!(allocations() - before, 1);

    let params = Params::new();
    let steps = 5_000;
    let mc = registry::mountain_car_config("MountainCar-v0", &params).unwrap();
    let limit = mc.max_episode_steps;
    let mut env = TimeLimit::new(MountainCar::new(mc), limit);
    assert_eq!(step_allocations(&mut env, steps), 0, "MountainCar-v0");

    let mcc = registry::mountain_car_config("MountainCarContinuous-v0", &params).unwrap();
    let limit = mcc.max_episode_steps;
    let mut env = TimeLimit::new(MountainCarContinuous::new(mcc), limit);
    assert_eq!(
        step_allocations(&mut env, steps),
        0,
        "MountainCarContinuous-v0"
    );

    let acrobot = AcrobotConfig::default();
    let limit = acrobot.max_episode_steps;
    let mut env = TimeLimit::new(Acrobot::new(acrobot), limit);
    assert_eq!(step_allocations(&mut env, steps), 0, "Acrobot-v1");

    let pendulum = PendulumConfig::default();
    let limit = pendulum.max_episode_steps;
    let mut env = TimeLimit::new(Pendulum::new(pendulum), limit);
    assert_eq!(step_allocations(&mut env, steps), 0, "Pendulum-v1");

    let taxi = registry::taxi_config("Taxi-v4", &params).unwrap();
    let limit = taxi.max_episode_steps;
    let mut env = TimeLimit::new(Taxi::new(taxi).unwrap(), limit);
    assert_eq!(step_allocations(&mut env, steps), 0, "Taxi-v4");

    let mut env = Blackjack::new(BlackjackConfig::default());
    assert_eq!(step_allocations(&mut env, steps), 0, "Blackjack-v1");
}
