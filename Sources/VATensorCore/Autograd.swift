/// Whether operations record backward nodes. Task-local, so concurrent tasks (and the threads that
/// run them) each see their own setting and no global mutable state is shared.
public enum GradientMode {
  /// `true` (the default) when operations on tensors that require gradients record a node.
  @TaskLocal public static var isEnabled = true
}

/// Runs `body` with gradient recording disabled: no node is created and no tape allocated, so
/// inference pays only for the forward kernels (as `torch.no_grad()`).
public func withGradientsDisabled<R>(_ body: () throws -> R) rethrows -> R {
  try GradientMode.$isEnabled.withValue(false, operation: body)
}

/// Runs `body` with gradient recording enabled (e.g. inside `withGradientsDisabled`).
public func withGradientsEnabled<R>(_ body: () throws -> R) rethrows -> R {
  try GradientMode.$isEnabled.withValue(true, operation: body)
}

/// One recorded operation: its inputs and a closure mapping the output gradient to the inputs'.
///
/// The closure returns one entry per input, `nil` where that input needs no gradient.
final class GradNode {
  let inputs: [Tensor]
  let backward: ([Float]) -> [[Float]?]
  init(inputs: [Tensor], backward: @escaping ([Float]) -> [[Float]?]) {
    self.inputs = inputs
    self.backward = backward
  }
}

/// `true` when an op over `x` must record a node. The cheap `requiresGrad` test runs first so
/// inference on plain tensors never reads the task-local. (Fixed arities, not variadic: a variadic
/// call would allocate an array on every op.)
@inline(__always) func shouldRecord(_ x: Tensor) -> Bool {
  x.requiresGrad && GradientMode.isEnabled
}

/// `true` when an op over `a` and `b` must record a node.
@inline(__always) func shouldRecord(_ a: Tensor, _ b: Tensor) -> Bool {
  (a.requiresGrad || b.requiresGrad) && GradientMode.isEnabled
}

extension Tensor {
  /// Attaches a backward node to this freshly computed output and marks it as requiring grad.
  @discardableResult
  func recording(_ inputs: [Tensor], _ backward: @escaping ([Float]) -> [[Float]?]) -> Tensor {
    node = GradNode(inputs: inputs, backward: backward)
    requiresGrad = true
    return self
  }

  /// Reverse-mode differentiation from this tensor.
  ///
  /// Seeds the output gradient with `gradient` (ones when `nil`, which needs a one-element
  /// tensor), walks the recorded graph in reverse topological order and **adds** each leaf's
  /// gradient to its `grad` (call `zeroGradients` between steps). Intermediate gradients are
  /// freed as soon as they have been propagated. Complexity: one backward closure per node.
  public func backward(gradient: Tensor? = nil) {
    precondition(requiresGrad, "backward() on a tensor that does not require gradients (shape \(shape))")
    let seed: [Float]
    if let gradient {
      precondition(gradient.shape == shape, "gradient shape \(gradient.shape) != tensor shape \(shape)")
      seed = gradient.scalars
    } else {
      precondition(count == 1, "backward() without a gradient needs a scalar, shape is \(shape)")
      seed = [1]
    }
    // Iterative post-order DFS: recursion would overflow on deep graphs (long training tapes).
    var order: [Tensor] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(Tensor, Bool)] = [(self, false)]
    while let (t, expanded) = stack.popLast() {
      if expanded { order.append(t); continue }
      guard visited.insert(ObjectIdentifier(t)).inserted else { continue }
      stack.append((t, true))
      for input in t.node?.inputs ?? [] where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
        stack.append((input, false))
      }
    }
    var grads: [ObjectIdentifier: [Float]] = [ObjectIdentifier(self): seed]
    for t in order.reversed() {
      guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
      guard let node = t.node else {
        t.accumulateGrad(g)
        continue
      }
      if t.retainsGrad { t.accumulateGrad(g) }
      let inputGrads = node.backward(g)
      precondition(inputGrads.count == node.inputs.count, "backward returned \(inputGrads.count) grads for \(node.inputs.count) inputs")
      for (input, gi) in zip(node.inputs, inputGrads) where input.requiresGrad {
        guard let gi else { continue }
        precondition(gi.count == input.count, "gradient of \(gi.count) elements for input of shape \(input.shape)")
        let key = ObjectIdentifier(input)
        if var existing = grads.removeValue(forKey: key) {
          addInPlace(&existing, gi)
          grads[key] = existing
        } else {
          grads[key] = gi
        }
      }
    }
  }

  /// Asks `backward()` to also store this non-leaf tensor's gradient in `grad` (as PyTorch's
  /// `retain_grad()`), e.g. to inspect ∂loss/∂attention-weights. Leaves always keep theirs.
  public func retainGrad() {
    precondition(requiresGrad, "retainGrad() on a tensor that does not require gradients (shape \(shape))")
    retainsGrad = true
  }

  /// Adds `g` to `grad`, creating it on first use.
  func accumulateGrad(_ g: [Float]) {
    if let grad {
      addInPlace(&grad.scalars, g)
    } else {
      grad = Tensor(shape: shape, scalars: g)
    }
  }
}

/// `a += b` element-wise.
@inline(__always) func addInPlace(_ a: inout [Float], _ b: [Float]) {
  precondition(a.count == b.count, "addInPlace count mismatch \(a.count) vs \(b.count)")
  a.withUnsafeMutableBufferPointer { pa in
    b.withUnsafeBufferPointer { pb in
      for i in 0..<pa.count { pa[i] += pb[i] }
    }
  }
}
