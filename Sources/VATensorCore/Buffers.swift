/// Non-trainable state saved with a model: BatchNorm's running statistics and the like.

/// A type that owns buffers: tensors that a checkpoint must save and restore but that no
/// optimiser updates (PyTorch's `register_buffer`, e.g. `running_mean`, `running_var`).
///
/// Conform by listing every buffer once, in a fixed order, with names that match the PyTorch
/// `state_dict` keys. Buffers are updated in place by the layers that own them (a `Tensor`
/// is a reference), so a forward pass in training mode changes them.
public protocol BufferContainer {
  /// Every buffer with its dotted name, in a stable order.
  var namedBuffers: [(name: String, tensor: Tensor)] { get }
}

/// A child container's buffers with `prefix.` prepended to each name (see `prefixed` for
/// parameters).
public func prefixedBuffers(_ prefix: String, _ child: some BufferContainer) -> [(name: String, tensor: Tensor)] {
  child.namedBuffers.map { ("\(prefix).\($0.name)", $0.tensor) }
}
