//! Recurrent networks: Elman RNN, LSTM and GRU cells, and a multi-layer, optionally
//! bidirectional sequence runner whose hidden state is passed in and returned explicitly
//! (DRQN carries it across environment steps).
//!
//! Weights follow PyTorch's layout and names (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`,
//! gates stacked in PyTorch's order), so parameters move between the two unchanged.

use candle_core::{D, Module, Result, Tensor};
use candle_nn::{Init, VarBuilder};
use serde::{Deserialize, Serialize};

use super::activation::sigmoid;

/// The kind of recurrent cell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CellKind {
    /// Elman RNN: `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`.
    Rnn,
    /// Long short-term memory (Hochreiter & Schmidhuber, 1997), without peepholes.
    #[default]
    Lstm,
    /// Gated recurrent unit (Cho et al., 2014), PyTorch's formulation.
    Gru,
}

impl CellKind {
    /// Number of stacked gate blocks in the weights: 1, 4 or 3.
    pub fn gates(self) -> usize {
        match self {
            CellKind::Rnn => 1,
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
        }
    }
}

/// The state of one cell: `h` `(N, H)`, and for an LSTM also the cell state `c` `(N, H)`.
#[derive(Clone, Debug)]
pub struct CellState {
    /// The hidden state (the cell's output).
    pub h: Tensor,
    /// The LSTM cell state; `None` for RNN and GRU cells.
    pub c: Option<Tensor>,
}

/// One recurrent cell of any [`CellKind`], stepping a batch `(N, I)` one time step.
///
/// Parameters (PyTorch's names and layout, `G` = [`CellKind::gates`]): `weight_ih`
/// `(G·H, I)`, `weight_hh` `(G·H, H)`, `bias_ih` and `bias_hh` `(G·H)`, all uniform in
/// `±1/√H`. Gate order: LSTM input, forget, cell, output; GRU reset, update, new.
#[derive(Clone, Debug)]
pub struct RecurrentCell {
    kind: CellKind,
    hidden: usize,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor,
    bias_hh: Tensor,
}

/// Builds a [`RecurrentCell`] from `input` features to `hidden` units.
///
/// `suffix` is appended to every parameter name (PyTorch's `_l0`, `_l1_reverse`, …); pass `""`
/// for a standalone cell. `forget_bias` is added, when the weights are first created (not when
/// they are loaded), to the `bias_ih` entries of the gate that keeps the state: the LSTM's
/// forget gate, the GRU's update gate (see [`RecurrentConfig::forget_bias`]).
pub fn recurrent_cell(
    kind: CellKind,
    input: usize,
    hidden: usize,
    forget_bias: f64,
    suffix: &str,
    vb: VarBuilder,
) -> Result<RecurrentCell> {
    if hidden == 0 {
        candle_core::bail!("a recurrent cell needs at least 1 hidden unit, got 0")
    }
    let g = kind.gates() * hidden;
    let bound = 1.0 / (hidden as f64).sqrt();
    let init = Init::Uniform {
        lo: -bound,
        up: bound,
    };
    let bias_ih_name = format!("bias_ih{suffix}");
    let fresh = !vb.contains_tensor(&bias_ih_name);
    let weight_ih = vb.get_with_hints((g, input), &format!("weight_ih{suffix}"), init)?;
    let weight_hh = vb.get_with_hints((g, hidden), &format!("weight_hh{suffix}"), init)?;
    let bias_ih = vb.get_with_hints(g, &bias_ih_name, init)?;
    let bias_hh = vb.get_with_hints(g, &format!("bias_hh{suffix}"), init)?;
    // Gate 1 is the LSTM's forget gate (order i, f, g, o) and the GRU's update gate (r, z, n).
    if fresh && forget_bias != 0.0 && kind != CellKind::Rnn && bias_ih.is_variable() {
        let shift: Vec<f64> = (0..g)
            .map(|j| if j / hidden == 1 { forget_bias } else { 0.0 })
            .collect();
        let shift = Tensor::from_vec(shift, g, bias_ih.device())?.to_dtype(bias_ih.dtype())?;
        let shifted = (bias_ih.detach() + shift)?;
        candle_core::Var::from_tensor(&bias_ih)?.set(&shifted)?;
    }
    Ok(RecurrentCell {
        kind,
        hidden,
        weight_ih,
        weight_hh,
        bias_ih,
        bias_hh,
    })
}

impl RecurrentCell {
    /// The cell kind.
    pub fn kind(&self) -> CellKind {
        self.kind
    }

    /// Number of hidden units `H`.
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// The all-zeros state for a batch of `n`.
    pub fn zero_state(&self, n: usize) -> Result<CellState> {
        let h = Tensor::zeros(
            (n, self.hidden),
            self.weight_hh.dtype(),
            self.weight_hh.device(),
        )?;
        let c = (self.kind == CellKind::Lstm).then(|| h.clone());
        Ok(CellState { h, c })
    }

    /// `W_ih x + b_ih` for inputs of any leading shape `(…, I)` → `(…, G·H)`. Computing it
    /// for a whole sequence at once is one large product instead of one per step.
    pub fn input_projection(&self, xs: &Tensor) -> Result<Tensor> {
        let dims = xs.dims();
        let (lead, i) = dims.split_at(dims.len() - 1);
        let rows: usize = lead.iter().product();
        let mut out = lead.to_vec();
        out.push(self.weight_ih.dim(0)?);
        xs.reshape((rows, i[0]))?
            .matmul(&self.weight_ih.t()?)?
            .broadcast_add(&self.bias_ih)?
            .reshape(out)
    }

    /// One step from an input `(N, I)`.
    pub fn step(&self, x: &Tensor, state: &CellState) -> Result<CellState> {
        self.step_projected(&self.input_projection(x)?, state)
    }

    /// One step from an already projected input `W_ih x + b_ih`, shape `(N, G·H)`.
    pub fn step_projected(&self, gx: &Tensor, state: &CellState) -> Result<CellState> {
        let hdim = self.hidden;
        let gh = state
            .h
            .matmul(&self.weight_hh.t()?)?
            .broadcast_add(&self.bias_hh)?;
        match self.kind {
            CellKind::Rnn => Ok(CellState {
                h: (gx + gh)?.tanh()?,
                c: None,
            }),
            CellKind::Lstm => {
                let Some(c) = &state.c else {
                    candle_core::bail!("an LSTM step needs a cell state `c`, got none")
                };
                let gates = (gx + gh)?;
                // One sigmoid over all four blocks (the cell block's is unused): a quarter of
                // the ops of three, the same values.
                let s = sigmoid(&gates)?;
                let i = s.narrow(D::Minus1, 0, hdim)?;
                let f = s.narrow(D::Minus1, hdim, hdim)?;
                let g = gates.narrow(D::Minus1, 2 * hdim, hdim)?.tanh()?;
                let o = s.narrow(D::Minus1, 3 * hdim, hdim)?;
                let c = ((f * c)? + (i * g)?)?;
                let h = (o * c.tanh()?)?;
                Ok(CellState { h, c: Some(c) })
            }
            CellKind::Gru => {
                // The reset gate multiplies W_hn h + b_hn, as PyTorch does (not h itself).
                let rz = sigmoid(
                    &(gx.narrow(D::Minus1, 0, 2 * hdim)? + gh.narrow(D::Minus1, 0, 2 * hdim)?)?,
                )?;
                let r = rz.narrow(D::Minus1, 0, hdim)?;
                let z = rz.narrow(D::Minus1, hdim, hdim)?;
                let n = (gx.narrow(D::Minus1, 2 * hdim, hdim)?
                    + (r * gh.narrow(D::Minus1, 2 * hdim, hdim)?)?)?
                .tanh()?;
                // h' = (1 − z)·n + z·h = n + z·(h − n)
                let h = (&n + (z * (&state.h - &n)?)?)?;
                Ok(CellState { h, c: None })
            }
        }
    }
}

/// Hyperparameters of a [`Recurrent`] sequence encoder.
///
/// | field           | default  | valid | meaning                                   |
/// |-----------------|----------|-------|-------------------------------------------|
/// | `cell`          | `"lstm"` | `"rnn"`, `"lstm"`, `"gru"` | the cell kind    |
/// | `hidden`        | `64`     | `≥ 1` | hidden units per direction                |
/// | `layers`        | `1`      | `≥ 1` | stacked layers; layer `l+1` reads layer `l`'s outputs |
/// | `bidirectional` | `false`  |       | also run each layer backwards in time and concatenate |
/// | `forget_bias`   | `1.0`    | finite | added at initialisation to the bias of the gate that keeps the state (LSTM forget gate, GRU update gate) |
///
/// `forget_bias = 1` follows Jozefowicz et al. (2015) and Keras' `unit_forget_bias`: with
/// PyTorch's zero-mean initialisation the forget gate starts near ½, the state halves every
/// step, and a cue 20 steps back reaches the loss through a factor of about 10⁻⁶. Set it to 0
/// for PyTorch's initialisation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecurrentConfig {
    /// The cell kind.
    pub cell: CellKind,
    /// Hidden units per direction.
    pub hidden: usize,
    /// Number of stacked layers.
    pub layers: usize,
    /// Run each layer in both directions.
    pub bidirectional: bool,
    /// Initial bias towards keeping the state.
    pub forget_bias: f64,
}

impl Default for RecurrentConfig {
    fn default() -> Self {
        Self {
            cell: CellKind::Lstm,
            hidden: 64,
            layers: 1,
            bidirectional: false,
            forget_bias: 1.0,
        }
    }
}

impl RecurrentConfig {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> crate::Result<()> {
        if self.hidden == 0 {
            return Err(crate::Error::config("hidden", 0, "at least 1"));
        }
        if self.layers == 0 {
            return Err(crate::Error::config("layers", 0, "at least 1"));
        }
        if !self.forget_bias.is_finite() {
            return Err(crate::Error::config(
                "forget_bias",
                self.forget_bias,
                "a finite number",
            ));
        }
        Ok(())
    }

    /// Number of directions: 2 when bidirectional, else 1.
    pub fn directions(&self) -> usize {
        if self.bidirectional { 2 } else { 1 }
    }
}

/// The state of a whole [`Recurrent`] stack, PyTorch's layout: `h` of shape
/// `(layers · directions, N, H)`, and for LSTMs `c` of the same shape. Entry
/// `l · directions + d` belongs to layer `l`, direction `d` (0 forward, 1 backward).
#[derive(Clone, Debug)]
pub struct RecurrentState {
    /// Hidden states.
    pub h: Tensor,
    /// LSTM cell states; `None` for RNN and GRU.
    pub c: Option<Tensor>,
}

impl RecurrentState {
    /// A detached copy, for carrying the state across training batches without
    /// backpropagating into earlier ones (truncated backpropagation through time).
    pub fn detach(&self) -> Self {
        Self {
            h: self.h.detach(),
            c: self.c.as_ref().map(Tensor::detach),
        }
    }
}

/// A multi-layer, optionally bidirectional recurrent network over sequences
/// `(N, T, I)` (batch first), returning the top layer's outputs `(N, T, directions · H)` and
/// the final state of every layer and direction.
///
/// Parameter names follow PyTorch's `nn.LSTM`: `weight_ih_l{l}`, `weight_hh_l{l}`,
/// `bias_ih_l{l}`, `bias_hh_l{l}`, with suffix `_reverse` for the backward direction.
#[derive(Clone, Debug)]
pub struct Recurrent {
    /// `cells[l * directions + d]`.
    cells: Vec<RecurrentCell>,
    config: RecurrentConfig,
}

/// Builds a [`Recurrent`] network over `input` features.
pub fn recurrent(
    input: usize,
    config: &RecurrentConfig,
    vb: VarBuilder,
) -> crate::Result<Recurrent> {
    config.validate()?;
    let dirs = config.directions();
    let mut cells = Vec::with_capacity(config.layers * dirs);
    for l in 0..config.layers {
        let layer_in = if l == 0 { input } else { dirs * config.hidden };
        for d in 0..dirs {
            let suffix = if d == 0 {
                format!("_l{l}")
            } else {
                format!("_l{l}_reverse")
            };
            cells.push(recurrent_cell(
                config.cell,
                layer_in,
                config.hidden,
                config.forget_bias,
                &suffix,
                vb.clone(),
            )?);
        }
    }
    Ok(Recurrent {
        cells,
        config: *config,
    })
}

impl Recurrent {
    /// The configuration.
    pub fn config(&self) -> &RecurrentConfig {
        &self.config
    }

    /// Features of each output step: `directions · hidden`.
    pub fn output_dim(&self) -> usize {
        self.config.directions() * self.config.hidden
    }

    /// The all-zeros state for a batch of `n`.
    pub fn zero_state(&self, n: usize) -> Result<RecurrentState> {
        let c0 = &self.cells[0];
        let h = Tensor::zeros(
            (self.cells.len(), n, self.config.hidden),
            c0.weight_hh.dtype(),
            c0.weight_hh.device(),
        )?;
        let c = (self.config.cell == CellKind::Lstm).then(|| h.clone());
        Ok(RecurrentState { h, c })
    }

    /// Runs the whole sequence `xs` `(N, T, I)` from `state` (zeros when `None`); returns the
    /// outputs `(N, T, directions · H)` and the final state.
    pub fn forward_seq(
        &self,
        xs: &Tensor,
        state: Option<&RecurrentState>,
    ) -> Result<(Tensor, RecurrentState)> {
        self.forward_episodes(xs, state, None)
    }

    /// [`forward_seq`](Self::forward_seq) over sequences that may hold the start of an
    /// episode: `starts` `(N, T)`, 1 where an episode starts at that step and 0 elsewhere,
    /// zeroes each layer's state just before the steps it marks, so that the outputs from
    /// there on are those of a fresh sequence (DRQN's burn-in crosses episode starts so).
    ///
    /// Only forward-running networks take `starts`: a bidirectional layer's backward pass
    /// would carry the next episode into this one.
    pub fn forward_episodes(
        &self,
        xs: &Tensor,
        state: Option<&RecurrentState>,
        starts: Option<&Tensor>,
    ) -> Result<(Tensor, RecurrentState)> {
        let (n, t, _) = xs.dims3()?;
        if starts.is_some() && self.config.bidirectional {
            candle_core::bail!(
                "episode starts need a forward-only network, not a bidirectional one"
            )
        }
        // The factor each step's incoming state is multiplied by: 0 at a start, else 1.
        let keep = match starts {
            Some(s) => Some((1.0 - s.to_dtype(xs.dtype())?)?),
            None => None,
        };
        let zero;
        let state = match state {
            Some(s) => s,
            None => {
                zero = self.zero_state(n)?;
                &zero
            }
        };
        let dirs = self.config.directions();
        let mut layer_in = xs.clone();
        let mut final_h = Vec::with_capacity(self.cells.len());
        let mut final_c = Vec::with_capacity(self.cells.len());
        for l in 0..self.config.layers {
            let mut dir_outputs = Vec::with_capacity(dirs);
            for d in 0..dirs {
                let k = l * dirs + d;
                let cell = &self.cells[k];
                let gx = cell.input_projection(&layer_in)?;
                let mut s = CellState {
                    h: state.h.get(k)?,
                    c: match &state.c {
                        Some(c) => Some(c.get(k)?),
                        None => None,
                    },
                };
                let mut outs = vec![None; t];
                for step in 0..t {
                    let ti = if d == 0 { step } else { t - 1 - step };
                    if let Some(keep) = &keep {
                        let k = keep.narrow(1, ti, 1)?;
                        s.h = s.h.broadcast_mul(&k)?;
                        s.c = match &s.c {
                            Some(c) => Some(c.broadcast_mul(&k)?),
                            None => None,
                        };
                    }
                    s = cell.step_projected(&gx.narrow(1, ti, 1)?.squeeze(1)?, &s)?;
                    outs[ti] = Some(s.h.clone());
                }
                let outs: Vec<Tensor> = outs.into_iter().flatten().collect();
                dir_outputs.push(Tensor::stack(&outs, 1)?);
                final_h.push(s.h);
                if let Some(c) = s.c {
                    final_c.push(c);
                }
            }
            layer_in = if dirs == 1 {
                dir_outputs.pop().expect("one direction")
            } else {
                Tensor::cat(&dir_outputs, D::Minus1)?
            };
        }
        let h = Tensor::stack(&final_h, 0)?;
        let c = if final_c.is_empty() {
            None
        } else {
            Some(Tensor::stack(&final_c, 0)?)
        };
        Ok((layer_in, RecurrentState { h, c }))
    }
}

impl Module for Recurrent {
    /// The outputs `(N, T, directions · H)` from a zero state.
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        Ok(self.forward_seq(xs, None)?.0)
    }
}
