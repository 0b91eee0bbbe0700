//! [`TrainMode`]: switching blocks between training and evaluation behaviour.

/// Blocks that behave differently when training and when evaluating (dropout, batch norm),
/// like PyTorch's `module.train()` / `module.eval()`.
///
/// Blocks start in training mode. Containers forward the setting to every block inside them.
/// The flag is atomic, so it can be switched through a shared reference.
pub trait TrainMode {
    /// Switches to training (`true`) or evaluation (`false`) behaviour.
    fn set_training(&self, training: bool);

    /// Whether the block is in training mode.
    fn is_training(&self) -> bool;
}
