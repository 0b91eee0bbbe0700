//! [`Wrapper`]: an env around another, written as what it changes.

use std::fmt;

use crate::{Env, Frame, Model, Reset, Result, Space, Step};

/// The observation type of the env inside `W`.
pub type InnerObs<W> = <<W as Wrapper>::Inner as Env>::Obs;

/// The action type of the env inside `W` (and of `W` itself: a wrapper keeps the actions).
pub type InnerAction<W> = <<W as Wrapper>::Inner as Env>::Action;

/// An env built around another env, written as what it changes; everything else is the inner
/// env's. Every `Wrapper` is an [`Env`], through one blanket impl:
///
/// | [`Env`] method | the wrapper's | by default |
/// |---|---|---|
/// | `reset`, `step`, `set_state` | [`Wrapper::reset`], [`Wrapper::step`], [`Wrapper::set_state`] | the inner env's, its observation through [`Wrapper::observation`] |
/// | `observation_space` | [`Wrapper::observation_space`] | the inner env's |
/// | `action_space`, `render_ansi`, `render_rgb`, `name` | the same names | the inner env's |
/// | `model` | [`Wrapper::model`] | the inner env's |
/// | `rng_state`, `set_rng_state` | the same names | the inner env's |
///
/// The actions are the inner env's (`Env::Action = InnerAction<Self>`); the observations are
/// `Self::Obs`. The one required method besides the accessors is
/// [`observation`](Wrapper::observation), Gymnasium's `ObservationWrapper.observation`: what
/// the wrapper shows for an observation of the env inside (the observation itself, for a
/// wrapper that keeps them). A wrapper that does more than map observations — counts steps,
/// keeps a history — overrides [`reset`](Wrapper::reset) or [`step`](Wrapper::step). The
/// blanket impl only calls through, inlined, so a wrapper costs what its own code costs.
///
/// # Contract
/// An implementor keeps the [`Env`] contract for the env it presents. In particular:
/// - a wrapper whose observations are not the inner env's overrides
///   [`observation_space`](Wrapper::observation_space), and [`model`](Wrapper::model) unless
///   the inner model's states are still what it observes; every value
///   [`observation`](Wrapper::observation) returns lies in that space;
/// - a wrapper that keeps state of its own across episodes that changes what later episodes
///   look like (running statistics, say) overrides [`rng_state`](Wrapper::rng_state) to
///   return `None` and [`set_rng_state`](Wrapper::set_rng_state) to refuse: forwarding them
///   would promise a resume that the inner env's stream alone cannot give.
///
/// # Why `this`
/// The methods that mirror [`Env`]'s take `this: &Self` rather than `self` (as `Box::leak`
/// does), so they are never candidates for method-call syntax: with both traits in scope,
/// `env.step(a)` is still [`Env::step`], not ambiguous. Implement them with `this` and call
/// them as `env.step(a)`.
///
/// ```
/// use qlab_envs::wrappers::{TimeLimit, Wrapper};
/// use qlab_envs::{Env, Params, Result, Step};
/// # fn main() -> qlab_envs::Result<()> {
/// /// Doubles every reward; the rest is the inner env's.
/// struct Double<E>(E);
///
/// impl<E: Env> Wrapper for Double<E> {
///     type Inner = E;
///     type Obs = E::Obs;
///     fn inner(&self) -> &E {
///         &self.0
///     }
///     fn inner_mut(&mut self) -> &mut E {
///         &mut self.0
///     }
///     fn into_inner(self) -> E {
///         self.0
///     }
///     fn observation(_: &mut Self, obs: E::Obs) -> E::Obs {
///         obs
///     }
///     fn step(this: &mut Self, action: E::Action) -> Result<Step<E::Obs>> {
///         let mut step = this.0.step(action)?;
///         step.reward *= 2.0;
///         Ok(step)
///     }
/// }
///
/// let qlab_envs::AnyEnv::Discrete(inner) = qlab_envs::make("CliffWalking-v1", &Params::new())?
/// else { unreachable!() };
/// let mut env = Double(TimeLimit::new(inner, 10));
/// env.reset(Some(0));
/// assert_eq!(env.step(0)?.reward, -2.0); // up from the start: −1, doubled
/// assert_eq!(env.name(), "CliffWalking-v1"); // forwarded
/// assert_eq!(env.inner().elapsed(), 1);
/// # Ok(())
/// # }
/// ```
pub trait Wrapper {
    /// The wrapped env.
    type Inner: Env + ?Sized;
    /// The observation this wrapper presents.
    type Obs: Clone + fmt::Debug;

    /// The wrapped env.
    fn inner(&self) -> &Self::Inner;

    /// The wrapped env, mutably. Stepping or resetting it directly bypasses the wrapper.
    fn inner_mut(&mut self) -> &mut Self::Inner;

    /// Unwraps.
    fn into_inner(self) -> Self::Inner
    where
        Self: Sized,
        Self::Inner: Sized;

    /// What this wrapper observes when the env inside observes `obs` — Gymnasium's
    /// `ObservationWrapper.observation`. The provided [`reset`](Wrapper::reset),
    /// [`step`](Wrapper::step) and [`set_state`](Wrapper::set_state) pass each observation of
    /// the env inside through it, once. A wrapper that keeps the observations returns `obs`.
    fn observation(this: &mut Self, obs: InnerObs<Self>) -> Self::Obs;

    /// [`Env::reset`] of the wrapped env: the inner env's reset, its observation through
    /// [`observation`](Wrapper::observation).
    #[inline]
    fn reset(this: &mut Self, seed: Option<u64>) -> Reset<Self::Obs> {
        // Taken apart rather than `map_obs`: measured, this inlines to fewer instructions.
        let Reset { obs, info } = this.inner_mut().reset(seed);
        let obs = Self::observation(this, obs);
        Reset { obs, info }
    }

    /// [`Env::step`] of the wrapped env: the inner env's step, its observation through
    /// [`observation`](Wrapper::observation). An error leaves the wrapper as it was.
    #[inline]
    fn step(this: &mut Self, action: InnerAction<Self>) -> Result<Step<Self::Obs>> {
        let Step {
            obs,
            reward,
            terminated,
            truncated,
            info,
        } = this.inner_mut().step(action)?;
        let obs = Self::observation(this, obs);
        Ok(Step {
            obs,
            reward,
            terminated,
            truncated,
            info,
        })
    }

    /// [`Env::set_state`] of the wrapped env: the inner env's, its observation through
    /// [`observation`](Wrapper::observation).
    fn set_state(this: &mut Self, state: &[f64]) -> Result<Self::Obs> {
        let obs = this.inner_mut().set_state(state)?;
        Ok(Self::observation(this, obs))
    }

    /// [`Env::observation_space`] of the wrapped env: the inner env's by default.
    #[inline]
    fn observation_space(this: &Self) -> &Space {
        this.inner().observation_space()
    }

    /// [`Env::action_space`]: the inner env's by default.
    #[inline]
    fn action_space(this: &Self) -> &Space {
        this.inner().action_space()
    }

    /// [`Env::render_ansi`]: the inner env's by default.
    fn render_ansi(this: &Self) -> String {
        this.inner().render_ansi()
    }

    /// [`Env::render_rgb`]: the inner env's by default.
    fn render_rgb(this: &Self) -> Frame {
        this.inner().render_rgb()
    }

    /// [`Env::name`]: the inner env's by default.
    fn name(this: &Self) -> String {
        this.inner().name()
    }

    /// [`Env::model`]: the inner env's by default.
    fn model(this: &Self) -> Option<&dyn Model> {
        this.inner().model()
    }

    /// [`Env::rng_state`]: the inner env's by default (see the contract on [`Wrapper`]).
    fn rng_state(this: &Self) -> Option<[u64; 4]> {
        this.inner().rng_state()
    }

    /// [`Env::set_rng_state`]: the inner env's by default (see the contract on [`Wrapper`]).
    fn set_rng_state(this: &mut Self, state: [u64; 4]) -> Result<()> {
        this.inner_mut().set_rng_state(state)
    }

    /// [`Env::clips_actions`]: the inner env's by default.
    fn clips_actions(this: &Self) -> bool {
        this.inner().clips_actions()
    }
}

impl<W: Wrapper> Env for W {
    type Obs = W::Obs;
    type Action = InnerAction<W>;

    #[inline]
    fn observation_space(&self) -> &Space {
        W::observation_space(self)
    }

    #[inline]
    fn action_space(&self) -> &Space {
        W::action_space(self)
    }

    #[inline]
    fn reset(&mut self, seed: Option<u64>) -> Reset<W::Obs> {
        W::reset(self, seed)
    }

    // Inlined into training loops, as each wrapper's own `step`: a call here would copy the
    // whole step result once more.
    #[inline(always)]
    fn step(&mut self, action: Self::Action) -> Result<Step<W::Obs>> {
        W::step(self, action)
    }

    fn render_ansi(&self) -> String {
        W::render_ansi(self)
    }

    fn render_rgb(&self) -> Frame {
        W::render_rgb(self)
    }

    fn name(&self) -> String {
        W::name(self)
    }

    fn set_state(&mut self, state: &[f64]) -> Result<W::Obs> {
        W::set_state(self, state)
    }

    fn model(&self) -> Option<&dyn Model> {
        W::model(self)
    }

    fn clips_actions(&self) -> bool {
        W::clips_actions(self)
    }

    fn rng_state(&self) -> Option<[u64; 4]> {
        W::rng_state(self)
    }

    fn set_rng_state(&mut self, state: [u64; 4]) -> Result<()> {
        W::set_rng_state(self, state)
    }
}

/// A boxed env is the env inside, through the box: every method forwards.
impl<E: Env + ?Sized> Wrapper for Box<E> {
    type Inner = E;
    type Obs = E::Obs;

    #[inline]
    fn inner(&self) -> &E {
        self
    }

    #[inline]
    fn inner_mut(&mut self) -> &mut E {
        self
    }

    fn into_inner(self) -> E
    where
        E: Sized,
    {
        *self
    }

    #[inline]
    fn observation(_: &mut Self, obs: E::Obs) -> E::Obs {
        obs
    }

    #[inline]
    fn reset(this: &mut Self, seed: Option<u64>) -> Reset<E::Obs> {
        (**this).reset(seed)
    }

    #[inline(always)]
    fn step(this: &mut Self, action: E::Action) -> Result<Step<E::Obs>> {
        (**this).step(action)
    }
}

/// Writes a wrapper's three accessors, [`Wrapper::inner`], [`Wrapper::inner_mut`] and
/// [`Wrapper::into_inner`], for the field that holds the env inside: inside an
/// `impl Wrapper for …` block, `inner_env_in!(env);`. Field access only, no control flow:
/// it spares each wrapper the same nine lines.
macro_rules! inner_env_in {
    ($field:tt) => {
        #[inline]
        fn inner(&self) -> &Self::Inner {
            &self.$field
        }

        #[inline]
        fn inner_mut(&mut self) -> &mut Self::Inner {
            &mut self.$field
        }

        fn into_inner(self) -> Self::Inner {
            self.$field
        }
    };
}
pub(crate) use inner_env_in;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::gridworld::{GridPixels, GridWorld, PixelMode};
    use crate::wrappers::test_envs::{Chain, Walk};
    use crate::wrappers::{
        Discretize, EpisodeStats, FrameStackObservation, NormalizeObservation, OneHot, TileCoding,
        TimeLimit,
    };

    /// Two episodes of `actions` from unseeded resets, as (observation, reward) pairs.
    fn episodes<E: Env>(env: &mut E, actions: &[E::Action]) -> Vec<(E::Obs, f64)> {
        let mut out = Vec::new();
        for _ in 0..2 {
            out.push((env.reset(None).obs, 0.0));
            for a in actions {
                match env.step(a.clone()) {
                    Ok(step) => out.push((step.obs, step.reward)),
                    Err(_) => break,
                }
            }
        }
        out
    }

    /// Saves the RNG state mid-stream, plays on, restores it and plays the same again.
    fn resumes<E: Env>(mut env: E, actions: &[E::Action])
    where
        E::Obs: PartialEq,
    {
        env.reset(Some(11));
        let _ = env.step(actions[0].clone());
        let saved = env.rng_state().expect("the state is forwarded");
        let first = episodes(&mut env, actions);
        let _ = episodes(&mut env, actions);
        env.set_rng_state(saved).unwrap();
        assert_eq!(env.rng_state(), Some(saved));
        assert_eq!(episodes(&mut env, actions), first, "{}", env.name());
    }

    #[test]
    fn wrappers_forward_the_rng_state_of_the_env_inside() {
        // Walk draws `y` from its stream at every reset and step.
        let walk = || Walk::new(3.0);
        let acts = [1, 0, 0, 1, 1];
        resumes(walk(), &acts);
        resumes(TimeLimit::new(walk(), 3), &acts);
        resumes(EpisodeStats::new(walk()), &acts);
        resumes(Discretize::new(walk(), &[6, 5]).unwrap(), &acts);
        resumes(TileCoding::new(walk(), 4, &[3, 3], 64).unwrap(), &acts);
        resumes(FrameStackObservation::new(walk(), 3).unwrap(), &acts);
        resumes(
            crate::wrappers::TransformReward::affine(walk(), -2.0, 0.5).unwrap(),
            &acts,
        );
        let boxed: Box<dyn Env<Obs = [f32; 2], Action = usize>> = Box::new(walk());
        resumes(boxed, &acts);
        // A slippery grid world draws every move.
        let lake = GridWorld::from_map("S...\n.H.H\n...G").unwrap();
        let mut config = lake.config().clone();
        config.success_rate = 1.0 / 3.0;
        resumes(OneHot::new(GridWorld::new(config).unwrap()).unwrap(), &acts);
    }

    #[test]
    fn normalize_observation_refuses_to_forward_the_rng_state() {
        let mut env = NormalizeObservation::new(Walk::new(3.0), None).unwrap();
        env.reset(Some(0));
        assert_eq!(env.rng_state(), None);
        let e = env.set_rng_state([1, 2, 3, 4]).unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }));
        assert_eq!(
            e.to_string(),
            "Walk does not support set_rng_state under NormalizeObservation, whose running \
             statistics cross episodes (save them with mean, var and count)"
        );
        // Nor did it reach the env inside.
        assert_ne!(env.inner().rng_state(), Some([1, 2, 3, 4]));
    }

    #[test]
    fn an_env_without_a_state_says_so_through_every_wrapper() {
        // Chain keeps a stream but does not hand it out: the defaults.
        let mut env = TimeLimit::new(EpisodeStats::new(Chain::new(3)), 5);
        assert_eq!(env.rng_state(), None);
        let e = env.set_rng_state([1, 2, 3, 4]).unwrap_err().to_string();
        assert_eq!(e, "Chain3 does not support set_rng_state");
    }

    #[test]
    fn wrappers_that_change_the_observation_drop_the_model_and_the_others_keep_it() {
        let grid = || GridWorld::from_map("S.\n.G").unwrap();
        assert!(TimeLimit::new(grid(), 5).model().is_some());
        assert!(EpisodeStats::new(grid()).model().is_some());
        assert!(OneHot::new(grid()).unwrap().model().is_some());
        let boxed: Box<dyn Env<Obs = usize, Action = usize>> = Box::new(grid());
        assert!(boxed.model().is_some());
        // An image of a grid world has the grid's model; the wrappers that change what is
        // observed do not pass it on.
        let pixels = || GridPixels::new(grid(), PixelMode::Planes);
        assert!(pixels().model().is_some());
        let dims = pixels().observation_space().flat_dim();
        assert!(
            Discretize::new(pixels(), &vec![2; dims])
                .unwrap()
                .model()
                .is_none()
        );
        let tiles = TileCoding::new(pixels(), 2, &vec![1; dims], 64).unwrap();
        assert!(tiles.model().is_none());
        assert!(
            NormalizeObservation::new(pixels(), None)
                .unwrap()
                .model()
                .is_none()
        );
        assert!(
            FrameStackObservation::new(pixels(), 2)
                .unwrap()
                .model()
                .is_none()
        );
    }

    #[test]
    fn a_box_forwards_everything_and_unwraps() {
        let mut env: Box<Chain> = Box::new(Chain::new(4));
        assert_eq!(Env::name(&env), "Chain4");
        env.reset(Some(0));
        assert_eq!(env.step(1).unwrap().obs, 1);
        assert_eq!(env.set_state(&[2.0]).unwrap(), 2);
        assert_eq!(env.render_ansi(), "2/4");
        assert_eq!(env.inner().pos, 2);
        assert_eq!(env.into_inner().pos, 2);
    }
}
