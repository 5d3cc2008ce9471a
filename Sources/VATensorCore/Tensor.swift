/// An n-dimensional array of `Float` with optional reverse-mode gradient tracking.
///
/// Storage is contiguous and row-major (the last axis varies fastest). `Tensor` is a class so that
/// a leaf's `grad` accumulates across uses, as in PyTorch; the element buffer itself is a Swift
/// array, so `reshaped` shares it copy-on-write in O(1) while `permuted`/`transposed` return
/// contiguous copies in O(n) (a single layout keeps every kernel simple and GEMM-friendly).
///
/// Thread safety: a tensor may be read from many threads at once; mutation (`scalars`, `grad`,
/// `requiresGrad`, `backward()`) must not race. That is the contract behind `@unchecked Sendable`.
public final class Tensor: @unchecked Sendable {
  /// Extent of each axis; `[]` is a scalar holding one element.
  public let shape: [Int]
  /// Elements in row-major order; `scalars.count == shape.reduce(1, *)`.
  /// Optimisers update it in place.
  public var scalars: [Float] {
    didSet {
      precondition(scalars.count == count, "scalars.count \(scalars.count) != shape \(shape) product \(count)")
    }
  }
  /// Whether operations on this tensor record a backward node (when gradients are enabled).
  public var requiresGrad: Bool
  /// Accumulated gradient of the last `backward()` root with respect to this leaf, same shape.
  public var grad: Tensor?
  /// The operation that produced this tensor, or `nil` for a leaf.
  var node: GradNode?
  /// Whether `backward()` stores this non-leaf's gradient too (see `retainGrad()`).
  var retainsGrad = false

  /// Creates a tensor from a shape and row-major elements.
  ///
  /// - Precondition: every extent is non-negative and `scalars.count` equals their product.
  public init(shape: [Int], scalars: [Float], requiresGrad: Bool = false) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
    let count = shape.reduce(1, *)
    precondition(scalars.count == count, "scalars.count \(scalars.count) != product of shape \(shape) (\(count))")
    self.shape = shape
    self.scalars = scalars
    self.requiresGrad = requiresGrad
  }

  /// Creates a tensor with every element equal to `value`.
  public convenience init(repeating value: Float, shape: [Int], requiresGrad: Bool = false) {
    self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)), requiresGrad: requiresGrad)
  }

  /// Creates a rank-0 tensor holding `value`.
  public convenience init(_ value: Float, requiresGrad: Bool = false) {
    self.init(shape: [], scalars: [value], requiresGrad: requiresGrad)
  }

  /// A tensor of zeros with the given shape.
  public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
    Tensor(repeating: 0, shape: shape, requiresGrad: requiresGrad)
  }

  /// A tensor of ones with the given shape.
  public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
    Tensor(repeating: 1, shape: shape, requiresGrad: requiresGrad)
  }

  /// `[start, start + 1, …, end - 1]` as a rank-1 tensor.
  public static func arange(_ range: Range<Int>) -> Tensor {
    Tensor(shape: [range.count], scalars: range.map(Float.init))
  }

  /// Number of elements (product of `shape`).
  @inlinable public var count: Int { scalars.count }
  /// Number of axes.
  public var rank: Int { shape.count }
  /// The single element of a one-element tensor.
  public var item: Float {
    precondition(count == 1, "item needs exactly one element, shape is \(shape)")
    return scalars[0]
  }
  /// `true` when this tensor was produced by a recorded operation (it has a backward node).
  public var isRecorded: Bool { node != nil }

  /// A tensor sharing these values but cut from the graph (no node, `requiresGrad == false`).
  /// O(1): the buffer is shared copy-on-write.
  public func detached() -> Tensor { Tensor(shape: shape, scalars: scalars) }

  /// Normalises a possibly negative axis (`-1` is the last) and checks it is in range.
  public func normalizedAxis(_ axis: Int) -> Int {
    let a = axis < 0 ? axis + rank : axis
    precondition(a >= 0 && a < rank, "axis \(axis) out of range for rank \(rank) (shape \(shape))")
    return a
  }

  /// Element at a multi-index (slow; for tests and debugging).
  public subscript(_ index: Int...) -> Float {
    precondition(index.count == rank, "index \(index) has \(index.count) axes, shape \(shape) has \(rank)")
    var offset = 0
    for (i, (x, n)) in zip(index, shape).enumerated() {
      precondition(x >= 0 && x < n, "index \(x) out of range 0..<\(n) on axis \(i)")
      offset = offset * n + x
    }
    return scalars[offset]
  }
}

extension Tensor: Equatable {
  /// Value equality: same shape and bit-for-bit equal elements (`requiresGrad`, `grad` and the
  /// graph are ignored). For results of GEMMs or reductions compare with a tolerance instead.
  public static func == (a: Tensor, b: Tensor) -> Bool {
    a.shape == b.shape && a.scalars == b.scalars
  }
}

extension Tensor: CustomStringConvertible {
  /// `Tensor([2, 3], [0.1, …])` with at most eight elements shown.
  public var description: String {
    let shown = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
    return "Tensor(\(shape), [\(shown)\(count > 8 ? ", …" : "")]\(requiresGrad ? ", requiresGrad" : ""))"
  }
}

/// Row-major strides of `shape` (in elements).
@usableFromInline func contiguousStrides(_ shape: [Int]) -> [Int] {
  var strides = [Int](repeating: 1, count: shape.count)
  var s = 1
  for i in stride(from: shape.count - 1, through: 0, by: -1) {
    strides[i] = s
    s *= shape[i]
  }
  return strides
}

/// Builds a `[Float]` of `count` elements whose contents `body` fully writes, skipping the zero-fill.
@inline(__always) func makeBuffer(
  _ count: Int, _ body: (UnsafeMutableBufferPointer<Float>) -> Void
) -> [Float] {
  [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
    body(buffer)
    initialized = count
  }
}
