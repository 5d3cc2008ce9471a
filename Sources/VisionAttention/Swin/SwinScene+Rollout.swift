import VAImageIO
import VAInspection
import VARendering

/// The query's effective field through windows, shifts and patch merging: attention rollout
/// (Abnar & Zuidema 2020) carried over Swin's changing maps.
///
/// Definition. Block `l` attends over a map of `N_l` cells. Its matrix `A_l` `[N_l, N_l]` holds,
/// for every window and every query slot and key slot of it that read real cells (the cells
/// `SwinBlockGeometry.sourceCells()` gives, which undoes the cyclic shift; padding slots are
/// dropped), the head-selected weight (`--head`, or the `--fuse` fusion, mean by default) at
/// (query cell, key cell); pairs in different windows are 0. Each block contributes
/// `R_l = rownorm(A_l + I)` (the identity for the residual path, rows rescaled to sum 1). A patch
/// merging from a `H × W` map to `⌈H/2⌉ × ⌈W/2⌉` is `M` `[N_coarse, N_fine]`, `M[c', c] = 1/|c'|`
/// for the (up to four) fine cells `c` of coarse cell `c'`'s 2 × 2 group. The field of block
/// `l`'s cell `q` over the first map is row `q` of `R_l · … · M · … · R_0` (every block from `l`
/// down to 0, a merging between stages): a distribution over the patch grid that sums to 1.
/// `Scripts/reference/swin_maps.py` computes the same with full numpy matrices.
extension SwinScene {
  /// The field of the query's cell at block `l` (the last by default) over block 0's map,
  /// `[height₀ · width₀]`; O(Σ_l windows · N²) with a row vector carried down the blocks.
  public func effectiveField(fromBlock last: Int? = nil) -> [Float] {
    let last = last ?? blocks.count - 1
    var v = [Double](repeating: 0, count: blocks[last].height * blocks[last].width)
    v[queryCell(last)] = 1
    for l in stride(from: last, through: 0, by: -1) {
      let g = blocks[l], n = g.tokensPerWindow
      let sources = g.sourceCells()
      // v ← v · rownorm(A + I): each query cell's mass spreads over its row.
      var next = [Double](repeating: 0, count: v.count)
      for w in 0..<g.windowCount {
        for i in 0..<n {
          guard let q = sources[w * n + i], v[q] != 0 else { continue }
          var row: [(cell: Int, weight: Double)] = [(q, 1)]
          for j in 0..<n {
            guard let k = sources[w * n + j] else { continue }
            row.append((k, Double(weight(l, window: w, query: i, key: j, selection))))
          }
          let total = row.reduce(0) { $0 + $1.weight }
          for (k, a) in row { next[k] += v[q] * a / total }
        }
      }
      v = next
      if l > 0, blocks[l - 1].stage != g.stage {
        // v ← v · M: a coarse cell's mass split evenly over its fine cells.
        let fine = blocks[l - 1]
        var spread = [Double](repeating: 0, count: fine.height * fine.width)
        for c in v.indices where v[c] != 0 {
          let (y, x) = (c / g.width, c % g.width)
          let members = [(0, 0), (1, 0), (0, 1), (1, 1)].map { (2 * y + $0.0, 2 * x + $0.1) }.filter { $0.0 < fine.height && $0.1 < fine.width }
          for (fy, fx) in members { spread[fy * fine.width + fx] += v[c] / Double(members.count) }
        }
        v = spread
      }
    }
    return v.map { Float($0) }
  }

  /// The field as a panel over the first map's cells, and its dump tensor `rollout`.
  func effectiveFieldPanel() -> (panel: Panel, tensor: (name: String, shape: [Int], values: [Float])) {
    let g = blocks[0], last = blocks.count - 1
    let field = effectiveField()
    let (picture, bar) = cellImage(field, gridWidth: g.width, gridHeight: g.height, cell: cellPixels(0), marked: true)
    let caption = [
      "effective field of the query's last-stage cell (\(cellPixels(last)) px): rollout through \(blocks.count) blocks' windows, shifts and mergings",
      "\(describe(selection)), identity added per block (Abnar & Zuidema)",
    ]
    return (Panel(image: picture, caption: caption, colorBar: bar), ("rollout", [g.height, g.width], field))
  }

  /// `--map rollout`: the effective field beside the input.
  func rolloutFigure() -> RenderedFigure {
    let (panel, tensor) = effectiveFieldPanel()
    return RenderedFigure(
      image: Figure.sideBySide([inputPanel(), panel], title: "what the query's last-stage token can see | \(modelCaption)"), tensors: [tensor])
  }
}
