//! What the integration tests of the agents crate share.

use qlab_agents::nn::{QNetworkConfig, TorsoConfig};

/// A Q-network with a ReLU MLP torso of these widths (no layer norm, no dropout) and the
/// default head.
pub fn mlp(hidden: Vec<usize>) -> QNetworkConfig {
    QNetworkConfig {
        torso: TorsoConfig::Mlp {
            hidden,
            activation: Default::default(),
            layer_norm: false,
            dropout: 0.0,
        },
        ..Default::default()
    }
}
