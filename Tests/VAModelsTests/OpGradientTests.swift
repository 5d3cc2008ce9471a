import Foundation
import Testing
import VALayers
import VASafetensors
import VATensorCore
@testable import VAModels

// Written by Scripts/reference/op_gradient_fixtures.py (torch 2.15, timm 1.0.31), whose
// docstring names every tensor. Regenerate: python3 Scripts/reference/op_gradient_fixtures.py

/// The backward of the attention variants the families add, op by op against PyTorch autograd
/// on timm's own modules (the finite-difference checks in VALayersTests are loose, 1e-2):
/// EVA-02's rotary attention with its inner LayerNorm, BEiT's relative position bias and
/// SigLIP's attention-pooling head. Each runs L = Σ output ⊙ cotangent backward on the composed
/// path and compares every gradient, and the recorded attention's ∂L/∂A (what gradient
/// attribution reads), within 1e-5 of the reference's largest magnitude.
struct OpGradientTests {
  /// Every tensor within this fraction of its reference's largest magnitude.
  static let tolerance: Float = 1e-5

  /// The fixture's tensors, read by name as leaves that record gradients.
  struct Reference {
    /// op_gradients.safetensors.
    let file: SafetensorsFile
    /// The case: `rope`, `beit` or `pool`.
    let prefix: String

    /// Opens the fixture for one case.
    init(_ prefix: String) throws {
      file = try SafetensorsFile(path: fixturePath("op_gradients.safetensors"))
      self.prefix = prefix
    }

    /// `<prefix>.<name>`'s values.
    func values(_ name: String) throws -> [Float] { try file.floats("\(prefix).\(name)") }

    /// `<prefix>.<name>` as a leaf that records its gradient.
    func leaf(_ name: String) throws -> Tensor {
      let info = try #require(file.info("\(prefix).\(name)"), "\(prefix).\(name)")
      return Tensor(shape: info.shape, scalars: try values(name), requiresGrad: true)
    }

    /// `<name>.weight` and `<name>.bias` as a layer of leaves.
    func linear(_ name: String) throws -> Linear { Linear(weight: try leaf(name + ".weight"), bias: try leaf(name + ".bias")) }

    /// Expects `tensor`'s gradient to be the reference's `grad.<name>`.
    func expectGradient(_ tensor: Tensor, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
      let got = try #require(tensor.grad, "\(prefix): no gradient for \(name)", sourceLocation: sourceLocation).scalars
      let error = peakRelativeError(got, try values("grad." + name))
      #expect(error < OpGradientTests.tolerance, "\(prefix) grad.\(name): \(error) of its largest value", sourceLocation: sourceLocation)
    }
  }

  /// One attention layer (`rope` or `beit`) forward and backward, checked against the reference.
  /// With `record` the layer runs the composed path (the recorded weights are in the graph);
  /// without, the fused attention and its hand-written backward (`fusedSelfAttentionOutput`).
  func checkAttention(_ r: Reference, bias: Tensor?, rotary: RotaryEmbedding?, innerNorm: LayerNorm?, record: Bool = true) throws {
    var layer = MultiHeadSelfAttention(qkv: try r.linear("qkv"), projection: try r.linear("proj"), headCount: 2)
    layer.innerNorm = innerNorm
    let x = try r.leaf("x")
    let (output, weights) = withGradientsEnabled { layer(x, bias: bias, rotary: rotary, record: record) }
    #expect(peakRelativeError(output.scalars, try r.values("output")) < Self.tolerance, "\(r.prefix) output")
    if record {
      let attention = try #require(weights)
      attention.retainGrad()
      #expect(peakRelativeError(attention.scalars, try r.values("attn")) < Self.tolerance, "\(r.prefix) attention")
    } else {
      #expect(weights == nil)
    }
    let cotangent = Tensor(shape: output.shape, scalars: try r.values("cotangent"))
    withGradientsEnabled { (output * cotangent).sum().backward() }
    try r.expectGradient(x, "x")
    try r.expectGradient(layer.qkv.weight, "qkv.weight")
    try r.expectGradient(layer.projection.weight, "proj.weight")
    // The k slot of timm's bias is a zero buffer, not a parameter (its reference gradient is
    // written as 0): the q and v slots are compared.
    let got = try #require(layer.qkv.bias?.grad).scalars, want = try r.values("grad.qkv.bias")
    let d = want.count / 3
    let slots = { (v: [Float]) in Array(v[0..<d]) + Array(v[(2 * d)...]) }
    #expect(peakRelativeError(slots(got), slots(want)) < Self.tolerance, "\(r.prefix) grad.qkv.bias (q and v)")
    if let weights, record { try r.expectGradient(weights, "attn") }
    if let bias, bias.requiresGrad { try r.expectGradient(bias, "bias") }
    if let norm = layer.innerNorm { try r.expectGradient(norm.weight, "norm.weight") }
  }

  @Test(arguments: [true, false]) func rotaryAttentionMatchesAutograd(record: Bool) throws {
    let r = try Reference("rope")
    let rotary = RotaryEmbedding(cos: try r.values("cos"), sin: try r.values("sin"), headDimension: 4, prefixTokens: 1)
    let norm = LayerNorm(weight: try r.leaf("norm.weight"), bias: try r.leaf("norm.bias"), eps: 1e-5)
    try checkAttention(r, bias: nil, rotary: rotary, innerNorm: norm, record: record)
  }

  @Test func relativePositionBiasMatchesAutograd() throws {
    let r = try Reference("beit")
    let table = RelativePositionBias(table: try r.leaf("table"), windowHeight: 2, windowWidth: 3)
    let gathered = table.bias(gridWidth: 3, gridHeight: 2)
    // The gathered bias is timm's _get_rel_pos_bias(), exactly (an index copy).
    #expect(gathered.scalars == (try r.values("bias")))
    let bias = Tensor(shape: gathered.shape, scalars: gathered.scalars, requiresGrad: true)
    try checkAttention(r, bias: bias, rotary: nil, innerNorm: nil)
  }

  /// The same layer with its bias held constant runs the fused attention and its backward:
  /// every other gradient is unchanged, so the reference's still holds.
  @Test func constantRelativePositionBiasTakesTheFusedBackward() throws {
    let r = try Reference("beit")
    try checkAttention(r, bias: Tensor(shape: [2, 7, 7], scalars: try r.values("bias")), rotary: nil, innerNorm: nil, record: false)
  }

  @Test func attentionPoolHeadMatchesAutograd() throws {
    let r = try Reference("pool")
    let head = AttentionPoolHead(
      latent: try r.leaf("latent"), query: try r.linear("q"), keyValue: try r.linear("kv"), projection: try r.linear("proj"),
      norm: LayerNorm(weight: try r.leaf("norm.weight"), bias: try r.leaf("norm.bias"), eps: 1e-5),
      mlp: Mlp(fc1: try r.linear("fc1"), fc2: try r.linear("fc2")), headCount: 2)
    let x = try r.leaf("x")
    let (pooled, _) = withGradientsEnabled { head(x) }
    #expect(peakRelativeError(pooled.scalars, try r.values("output")) < Self.tolerance, "pool output")
    let cotangent = Tensor(shape: pooled.shape, scalars: try r.values("cotangent"))
    withGradientsEnabled { (pooled * cotangent).sum().backward() }
    try r.expectGradient(x, "x")
    try r.expectGradient(head.latent, "latent")
    for (name, linear) in [("q", head.query), ("kv", head.keyValue), ("proj", head.projection), ("fc1", head.mlp.fc1), ("fc2", head.mlp.fc2)] {
      try r.expectGradient(linear.weight, name + ".weight")
      try r.expectGradient(try #require(linear.bias), name + ".bias")
    }
    try r.expectGradient(head.norm.weight, "norm.weight")
    try r.expectGradient(try #require(head.norm.bias), "norm.bias")
  }
}
