import ArgumentParser
import Foundation
import VATensorCore

/// Per-op latency of the non-GEMM operations at ViT-B/16 sizes (197 tokens, 768 channels,
/// 12 heads) in no-grad mode: where a forward pass spends the time GEMM does not.
struct OpsBenchmark: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "ops", abstract: "Element-wise and attention-side op latency at ViT-B/16 sizes.")

  @Option(help: "Timed repetitions per op (median reported).")
  var repetitions = 20

  func run() {
    var rng = SplitMix64(seed: 0)
    let tokens = Tensor.randomNormal([197, 768], using: &rng)
    let hidden = Tensor.randomNormal([197, 3072], using: &rng)
    let scores = Tensor.randomNormal([12, 197, 197], using: &rng)
    let gain = Tensor.ones([768]), shift = Tensor.zeros([768])
    let qkv = Tensor.randomNormal([197, 2304], using: &rng)
    let fc1 = Tensor.randomNormal([3072, 768], std: 0.02, using: &rng), fc1Bias = Tensor.zeros([3072])
    let cases: [(String, () -> Tensor)] = [
      ("gelu exact [197, 3072]", { gelu(hidden) }),
      ("gelu tanh [197, 3072]", { gelu(hidden, approximation: .tanh) }),
      ("layerNorm [197, 768]", { layerNorm(tokens, weight: gain, bias: shift, eps: 1e-6) }),
      // A block's norm2 -> fc1 -> GELU: the norm composed, then in fc1's packing (issue 29).
      ("norm2 -> fc1 + GELU, composed", { linearGELU(layerNorm(tokens, weight: gain, bias: shift, eps: 1e-6), weight: fc1, bias: fc1Bias) }),
      (
        "norm2 -> fc1 + GELU, norm in the packing",
        { linear(layerNormed: tokens, normWeight: gain, normBias: shift, eps: 1e-6, weight: fc1, bias: fc1Bias, activation: .gelu) }
      ),
      ("softmax [12, 197, 197]", { softmax(scores) }),
      ("add residual [197, 768]", { tokens + tokens }),
      ("qkv split + permute -> [12, 197, 64]", { qkv.reshaped([197, 3, 12, 64]).permuted([1, 2, 0, 3]).chunked(3, axis: 0)[0] }),
      ("merge heads [12, 197, 64] -> [197, 768]", { scores.sliced(axis: 2, range: 0..<64).permuted([1, 0, 2]).reshaped([197, 768]) }),
    ]
    for (label, body) in cases {
      let seconds = medianSeconds(repetitions: repetitions) { _ = withGradientsDisabled(body) }
      print(pad(label, 44) + String(format: "%.3f ms", seconds * 1000))
    }
  }
}
