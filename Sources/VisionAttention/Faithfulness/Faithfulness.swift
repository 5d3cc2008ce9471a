import Foundation
import VATensorCore

/// Deletion and insertion curves (Petsiuk et al. 2018, "RISE", §4.2): how fast the target
/// class's probability (or, for a model without a classifier, the similarity to a target
/// embedding) falls as the patches a map ranks highest are removed, and how fast it rises as
/// they are inserted into a blurred copy. A faithful map has a low deletion AUC and
/// a high insertion AUC.
///
/// Conventions (the committed numpy reference, Scripts/reference/attribution_fixtures.py,
/// does the same): patches are taken in the map's order, highest first, ties by index
/// (a stable sort); each step moves one patch row's worth (grid width) of patches, so a
/// curve has `⌈N / width⌉ + 1` points from none to all; removing sets a patch to 0 in the
/// normalised input (the data set's mean colour); inserting copies it from the input into
/// the blurred copy; the AUC is the trapezoid rule on [0, 1].
public struct FaithfulnessCurves: Sendable, Equatable {
  /// Target probability (or similarity) after removing 0, w, 2w, … patches.
  public var deletion: [Double]
  /// Target probability (or similarity) after inserting 0, w, 2w, … patches into the blurred copy.
  public var insertion: [Double]

  /// Curves from their sampled points, each from 0 patches moved to all of them.
  public init(deletion: [Double], insertion: [Double]) {
    self.deletion = deletion
    self.insertion = insertion
  }

  /// Area under `deletion` on [0, 1] (`area`); lower is more faithful.
  public var deletionAUC: Double { Self.area(deletion) }
  /// Area under `insertion` on [0, 1] (`area`); higher is more faithful.
  public var insertionAUC: Double { Self.area(insertion) }

  /// Trapezoid rule over equally spaced points on [0, 1] (RISE's `auc`).
  public static func area(_ curve: [Double]) -> Double {
    guard curve.count > 1 else { return curve.first ?? 0 }
    return (curve.reduce(0, +) - curve[0] / 2 - curve[curve.count - 1] / 2) / Double(curve.count - 1)
  }
}

/// The perturbed inputs behind the curves.
public enum Faithfulness {
  /// Blur substrate for insertion: a separable Gaussian of 11 taps, σ = 5 pixels, zero
  /// padding, per channel, on the normalised input `[3, H, W]`, after RISE's `blur`
  /// (`klen = 11`, `nsig = 5`, `conv2d(padding = klen // 2)` on the normalised tensor; RISE
  /// builds its kernel with scipy's `gaussian_filter` of a delta, which reflects at the 11×11
  /// border, so its kernel is slightly flatter than this plain Gaussian). O(22·3·H·W).
  public static func blurred(_ input: [Float], width w: Int, height h: Int, taps: Int = 11, sigma: Double = 5) -> [Float] {
    precondition(input.count == 3 * w * h, "input has \(input.count) values, expected 3x\(h)x\(w)")
    let half = taps / 2
    var g = (0..<taps).map { i -> Double in
      let offset = Double(i - half)
      return exp(-offset * offset / (2 * sigma * sigma))
    }
    let total = g.reduce(0, +)
    g = g.map { $0 / total }
    var rows = [Double](repeating: 0, count: input.count), out = [Float](repeating: 0, count: input.count)
    for c in 0..<3 {
      let base = c * w * h
      for y in 0..<h {
        for x in 0..<w {
          var s = 0.0
          for i in 0..<taps where x + i - half >= 0 && x + i - half < w { s += g[i] * Double(input[base + y * w + x + i - half]) }
          rows[base + y * w + x] = s
        }
      }
      for y in 0..<h {
        for x in 0..<w {
          var s = 0.0
          for i in 0..<taps where y + i - half >= 0 && y + i - half < h { s += g[i] * rows[base + (y + i - half) * w + x] }
          out[base + y * w + x] = Float(s)
        }
      }
    }
    return out
  }

  /// Patch indices from the highest map value to the lowest, ties by index.
  public static func order(_ map: [Float]) -> [Int] {
    map.indices.sorted { map[$0] > map[$1] || (map[$0] == map[$1] && $0 < $1) }
  }

  /// Patches moved per step and the number of points of a curve over a grid.
  public static func steps(gridWidth: Int, gridHeight: Int) -> (step: Int, points: Int) {
    let n = gridWidth * gridHeight, step = max(gridWidth, 1)
    return (step, (n + step - 1) / step + 1)
  }

  /// The deletion and insertion inputs for one map, `points` of each, `[3, H, W]` each.
  public static func perturbed(
    input: [Float], blurred: [Float], order: [Int], gridWidth gw: Int, gridHeight gh: Int, patchSize p: Int
  ) -> (deletion: [[Float]], insertion: [[Float]]) {
    let (step, points) = steps(gridWidth: gw, gridHeight: gh)
    let w = gw * p, h = gh * p, n = gw * gh
    precondition(input.count == 3 * w * h && blurred.count == input.count, "inputs must be 3x\(h)x\(w)")
    precondition(order.count == n, "an order of \(order.count) patches for a \(gw)x\(gh) grid")
    func copyPatch(_ index: Int, from source: [Float]?, into target: inout [Float]) {
      let (row, column) = index.quotientAndRemainder(dividingBy: gw)
      for c in 0..<3 {
        for y in (row * p)..<((row + 1) * p) {
          let start = c * w * h + y * w + column * p
          for x in start..<(start + p) { target[x] = source?[x] ?? 0 }
        }
      }
    }
    var deletion: [[Float]] = [], insertion: [[Float]] = []
    var removed = input, inserted = blurred
    for i in 0..<points {
      if i > 0 {
        for index in order[min((i - 1) * step, n)..<min(i * step, n)] {
          copyPatch(index, from: nil, into: &removed)
          copyPatch(index, from: input, into: &inserted)
        }
      }
      deletion.append(removed)
      insertion.append(inserted)
    }
    return (deletion, insertion)
  }

  /// Curves for several maps of one image, every distinct perturbed input through the model
  /// once, in batches of `batchSize`.
  ///
  /// A perturbed input depends only on which patches are removed (or inserted), not on the
  /// order that chose them, so maps that agree on a step's set of patches (similar maps, and
  /// often the last steps of every map) share that step's forward pass: the result is the
  /// same, with fewer passes (`plan` lists them).
  /// - Parameters:
  ///   - input: the normalised model input `[3, H, W]`, `H = gridHeight · patchSize`.
  ///   - maps: name and patch-grid map `[gridHeight · gridWidth]` each.
  ///   - target: what the curves follow.
  public static func curves(
    model: any AttributableModel, input: [Float], gridWidth gw: Int, gridHeight gh: Int, patchSize p: Int,
    maps: [(name: String, values: [Float])], target: CurveTarget, batchSize: Int = 16
  ) throws(VisionAttentionError) -> [String: FaithfulnessCurves] {
    let w = gw * p, h = gh * p
    let (inputs, slots) = plan(input: input, gridWidth: gw, gridHeight: gh, patchSize: p, maps: maps.map(\.values))
    var probabilities: [Double] = []
    var start = 0
    while start < inputs.count {
      let chunk = inputs[start..<min(start + max(batchSize, 1), inputs.count)]
      let batch = Tensor(shape: [chunk.count, 3, h, w], scalars: chunk.flatMap { $0 })
      probabilities += try model.scores(normalizedBatch: batch, following: target)
      start += chunk.count
    }
    let (original, deleted, blurredProbability) = (probabilities[0], probabilities[1], probabilities[2])
    let inner = max(steps(gridWidth: gw, gridHeight: gh).points - 2, 0)
    var out: [String: FaithfulnessCurves] = [:]
    for (m, map) in maps.enumerated() {
      let own = slots[m].map { probabilities[$0] }
      out[map.name] = FaithfulnessCurves(
        deletion: [original] + own[0..<inner] + [deleted],
        insertion: [blurredProbability] + own[inner..<(2 * inner)] + [original])
    }
    return out
  }

  /// The distinct model inputs behind several maps' curves, and per map where its inner
  /// points are among them (`curves` runs them).
  ///
  /// Every map's curves share their ends: `inputs[0]` the input (nothing deleted, everything
  /// inserted), `inputs[1]` zeros (everything deleted), `inputs[2]` the blurred copy (nothing
  /// inserted). Then each map's inner deletion and insertion steps, except those whose set of
  /// patches an earlier map already produced. `slots[m]` holds map `m`'s inner deletion
  /// points' input indices, then its inner insertion points'.
  static func plan(
    input: [Float], gridWidth gw: Int, gridHeight gh: Int, patchSize p: Int, maps: [[Float]]
  ) -> (inputs: [[Float]], slots: [[Int]]) {
    let substrate = blurred(input, width: gw * p, height: gh * p)
    let (step, points) = steps(gridWidth: gw, gridHeight: gh)
    var inputs: [[Float]] = [input, [Float](repeating: 0, count: input.count), substrate]
    var index: [PatchSet: Int] = [:]
    var slots: [[Int]] = []
    for map in maps {
      let ranked = order(map)
      let (deletion, insertion) = perturbed(input: input, blurred: substrate, order: ranked, gridWidth: gw, gridHeight: gh, patchSize: p)
      var own: [Int] = []
      for (isDeletion, steps) in [(true, deletion), (false, insertion)] {
        for i in 1..<max(points - 1, 1) {
          let key = PatchSet(deletion: isDeletion, patches: ranked.prefix(min(i * step, gw * gh)), count: gw * gh)
          if let seen = index[key] {
            own.append(seen)
          } else {
            index[key] = inputs.count
            own.append(inputs.count)
            inputs.append(steps[i])
          }
        }
      }
      slots.append(own)
    }
    return (inputs, slots)
  }

  /// Which patches a perturbed input has removed (deletion) or inserted (insertion), as bits
  /// over the grid: the input is a function of this alone.
  struct PatchSet: Hashable {
    var deletion: Bool
    var bits: [UInt64]

    init<C: Collection<Int>>(deletion: Bool, patches: C, count: Int) {
      self.deletion = deletion
      bits = [UInt64](repeating: 0, count: (count + 63) / 64)
      for patch in patches { bits[patch / 64] |= 1 << UInt64(patch % 64) }
    }
  }
}
