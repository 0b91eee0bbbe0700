//! Typed spaces: the set of valid actions or observations of an env.

use std::fmt;

use rand::Rng;

/// A finite set of integers `{0, 1, …, n-1}` — Gymnasium's `Discrete(n)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Discrete {
    /// The number of elements; always at least 1.
    pub n: usize,
}

impl Discrete {
    /// The space `{0, …, n-1}`.
    pub const fn new(n: usize) -> Self {
        Self { n }
    }

    /// Whether `x` is an element.
    #[inline]
    pub fn contains(&self, x: usize) -> bool {
        x < self.n
    }

    /// A uniformly random element.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        rng.random_range(0..self.n)
    }
}

impl fmt::Display for Discrete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Discrete({})", self.n)
    }
}

/// A box of `f32` values `low[i] ≤ x[i] ≤ high[i]` with a shape — Gymnasium's `Box`.
///
/// Bounds may be infinite. `low` and `high` are stored flat, in row-major order of `shape`.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BoxSpace {
    low: Vec<f32>,
    high: Vec<f32>,
    shape: Vec<usize>,
}

impl BoxSpace {
    /// A box with the given flat bounds and shape.
    ///
    /// # Panics
    /// If `low` and `high` differ in length, their length is not the product of `shape`, or
    /// some `low[i] > high[i]`. These are programming errors in an env definition.
    pub fn new(low: Vec<f32>, high: Vec<f32>, shape: Vec<usize>) -> Self {
        assert_eq!(low.len(), high.len(), "box bounds differ in length");
        assert_eq!(
            low.len(),
            shape.iter().product::<usize>(),
            "box bounds do not match the shape {shape:?}"
        );
        assert!(
            low.iter().zip(&high).all(|(l, h)| l <= h),
            "box has low > high"
        );
        Self { low, high, shape }
    }

    /// A one-dimensional box.
    pub fn from_bounds(low: Vec<f32>, high: Vec<f32>) -> Self {
        let n = low.len();
        Self::new(low, high, vec![n])
    }

    /// A box with the same bounds `[low, high]` in every element.
    pub fn uniform(low: f32, high: f32, shape: Vec<usize>) -> Self {
        let n = shape.iter().product();
        Self::new(vec![low; n], vec![high; n], shape)
    }

    /// Lower bounds, flat.
    pub fn low(&self) -> &[f32] {
        &self.low
    }

    /// Upper bounds, flat.
    pub fn high(&self) -> &[f32] {
        &self.high
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of elements (the product of the shape).
    pub fn len(&self) -> usize {
        self.low.len()
    }

    /// Whether the box has no elements.
    pub fn is_empty(&self) -> bool {
        self.low.is_empty()
    }

    /// Whether `x` has the right length and every element lies inside its bounds (NaN does not).
    pub fn contains(&self, x: &[f32]) -> bool {
        x.len() == self.low.len()
            && x.iter()
                .zip(self.low.iter().zip(&self.high))
                .all(|(v, (l, h))| *l <= *v && *v <= *h)
    }

    /// Fills `out` with a random element, as Gymnasium samples a box: uniform where both bounds
    /// are finite, `low + Exp(1)` or `high − Exp(1)` where one is, standard normal where neither.
    ///
    /// # Panics
    /// If `out.len() != self.len()`.
    pub fn sample_into<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f32]) {
        assert_eq!(out.len(), self.len(), "sample buffer has the wrong length");
        for (o, (&l, &h)) in out.iter_mut().zip(self.low.iter().zip(&self.high)) {
            *o = match (l.is_finite(), h.is_finite()) {
                (true, true) => {
                    if l == h {
                        l
                    } else {
                        // Rounding can land on `h`; the box is closed so that is allowed.
                        (l as f64 + rng.random::<f64>() * (h as f64 - l as f64)) as f32
                    }
                }
                (true, false) => l + exponential(rng) as f32,
                (false, true) => h - exponential(rng) as f32,
                (false, false) => standard_normal(rng) as f32,
            };
        }
    }

    /// A random element as a new vector (see [`BoxSpace::sample_into`]).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f32> {
        let mut out = vec![0.0; self.len()];
        self.sample_into(rng, &mut out);
        out
    }
}

fn exponential<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    // 1 - U lies in (0, 1], so the log is finite.
    -(1.0 - rng.random::<f64>()).ln()
}

fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    // Box–Muller.
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// One bound, printed as Gymnasium prints it (`inf`, `-inf`).
struct Bound(f32);

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            x if x == f32::INFINITY => write!(f, "inf"),
            x if x == f32::NEG_INFINITY => write!(f, "-inf"),
            x => write!(f, "{x}"),
        }
    }
}

fn fmt_bound(f: &mut fmt::Formatter<'_>, v: &[f32]) -> fmt::Result {
    write!(f, "[")?;
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            write!(f, ", ")?;
        }
        write!(f, "{}", Bound(*x))?;
    }
    write!(f, "]")
}

impl fmt::Display for BoxSpace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shape: Vec<String> = self.shape.iter().map(|d| d.to_string()).collect();
        let uniform = |v: &[f32]| v.windows(2).all(|w| w[0] == w[1]);
        write!(f, "Box(")?;
        if uniform(&self.low) && uniform(&self.high) && !self.low.is_empty() {
            write!(f, "{}, {}", Bound(self.low[0]), Bound(self.high[0]))?;
        } else {
            fmt_bound(f, &self.low)?;
            write!(f, ", ")?;
            fmt_bound(f, &self.high)?;
        }
        let trailing = if shape.len() == 1 { "," } else { "" };
        write!(f, ", ({}{trailing}), float32)", shape.join(", "))
    }
}

/// Any space: what an env's `observation_space` and `action_space` return.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Space {
    /// A finite set of integers.
    Discrete(Discrete),
    /// A box of `f32` values.
    Box(BoxSpace),
}

impl Space {
    /// `Discrete(n)`.
    pub const fn discrete(n: usize) -> Self {
        Space::Discrete(Discrete::new(n))
    }

    /// The discrete space, if this is one.
    pub fn as_discrete(&self) -> Option<Discrete> {
        match self {
            Space::Discrete(d) => Some(*d),
            Space::Box(_) => None,
        }
    }

    /// The box, if this is one.
    pub fn as_box(&self) -> Option<&BoxSpace> {
        match self {
            Space::Box(b) => Some(b),
            Space::Discrete(_) => None,
        }
    }

    /// The number of elements of a discrete space, or the flat length of a box.
    pub fn flat_dim(&self) -> usize {
        match self {
            Space::Discrete(d) => d.n,
            Space::Box(b) => b.len(),
        }
    }
}

impl fmt::Display for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Space::Discrete(d) => d.fmt(f),
            Space::Box(b) => b.fmt(f),
        }
    }
}

impl From<Discrete> for Space {
    fn from(d: Discrete) -> Self {
        Space::Discrete(d)
    }
}

impl From<BoxSpace> for Space {
    fn from(b: BoxSpace) -> Self {
        Space::Box(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EnvRng;
    use rand::SeedableRng;

    #[test]
    fn discrete_contains_and_samples_inside() {
        let d = Discrete::new(3);
        assert!(d.contains(2));
        assert!(!d.contains(3));
        let mut rng = EnvRng::seed_from_u64(0);
        assert!((0..100).all(|_| d.contains(d.sample(&mut rng))));
    }

    #[test]
    fn box_samples_inside_for_every_kind_of_bound() {
        let inf = f32::INFINITY;
        let b = BoxSpace::from_bounds(vec![-1.0, 0.0, -inf, -inf], vec![1.0, inf, 2.0, inf]);
        let mut rng = EnvRng::seed_from_u64(0);
        for _ in 0..1000 {
            let x = b.sample(&mut rng);
            assert!(b.contains(&x), "{x:?}");
        }
        assert!(!b.contains(&[2.0, 0.0, 0.0, 0.0]));
        assert!(!b.contains(&[0.0, 0.0, 0.0]));
        assert!(!b.contains(&[f32::NAN, 0.0, 0.0, 0.0]));
    }

    #[test]
    fn display_matches_gymnasium_style() {
        assert_eq!(Space::discrete(4).to_string(), "Discrete(4)");
        let b = BoxSpace::from_bounds(vec![-1.0, f32::NEG_INFINITY], vec![1.0, f32::INFINITY]);
        assert_eq!(b.to_string(), "Box([-1, -inf], [1, inf], (2,), float32)");
        assert_eq!(
            BoxSpace::uniform(0.0, 1.0, vec![2, 3]).to_string(),
            "Box(0, 1, (2, 3), float32)"
        );
    }
}
