import ArgumentParser
import Foundation
import VATensorCore

/// The attention kernels alone: the tiled online-softmax kernel against the plain path that
/// forms every `[T, T]` weight, at ViT-S's shape (6 heads of 64).
struct AttentionBenchmark: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "attention", abstract: "Tiled against plain attention, one layer's heads.")

  @Option(help: "Token counts, comma-separated.")
  var tokens = "197,785,3137"

  @Option(help: "Heads.")
  var heads = 6

  @Option(name: .customLong("head-dimension"), help: "Channels per head.")
  var headDimension = 64

  @Option(help: "Timed repetitions per size (median reported).")
  var repetitions = 5

  @Option(name: .customLong("query-rows"), help: "Query rows per tile.")
  var queryRows = AttentionTiles.default.queryRows

  @Option(help: "Keys per tile.")
  var keys = AttentionTiles.default.keys

  @Flag(name: .customLong("tiled-only"), help: "Skip the plain path (it needs heads·T² floats).")
  var tiledOnly = false

  func run() throws {
    AllocatorTuning.keepFreedMemoryForReuse()
    let tiles = AttentionTiles(queryRows: queryRows, keys: keys)
    for t in tokens.split(separator: ",").compactMap({ Int($0) }) {
      var rng = SplitMix64(seed: 1)
      let qkv = Tensor.randomNormal([1, t, 3 * heads * headDimension], std: 1, using: &rng)
      let flops = 4.0 * Double(heads) * Double(t) * Double(t) * Double(headDimension)
      let tiled = medianSeconds(repetitions: repetitions, warmup: 1) {
        _ = tiledSelfAttention(qkv: qkv, heads: heads, tiles: tiles)
      }
      var line = "T=\(t) tiled \(String(format: "%.1f", tiled * 1000)) ms (\(String(format: "%.0f", flops / tiled / 1e9)) GFLOP/s)"
      if !tiledOnly {
        let plain = medianSeconds(repetitions: repetitions, warmup: 1) {
          _ = fusedSelfAttention(qkv: qkv, heads: heads)
        }
        line += ", plain \(String(format: "%.1f", plain * 1000)) ms, tiled/plain \(String(format: "%.2f", tiled / plain))"
      }
      print(line + " threads=\(ComputeThreads.count)")
    }
  }

}
