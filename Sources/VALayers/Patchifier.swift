import VATensorCore

/// Turns an image into a set of vectors: one per non-overlapping `P × P` patch.
///
/// `patchify`: `[3, H, W]` → `[N, 3·P·P]` with `N = (H/P)·(W/P)` patches in row-major order and
/// each vector flattened channel, row, column, the order of a PyTorch `Conv2d(3, D, P, P)`
/// weight, so the embedding is one matmul with that weight reshaped to `[D, 3·P·P]`. Grids
/// need not be square. A batch `[B, 3, H, W]` becomes `[B, N, 3·P·P]`.
public enum Patchifier {
  /// The patches of `image` as rows: `[3, H, W]` → `[N, 3·P·P]`, or `[B, 3, H, W]` →
  /// `[B, N, 3·P·P]`; preconditions check that `P` divides `H` and `W`.
  public static func patchify(_ image: Tensor, patchSize p: Int) -> Tensor {
    precondition(image.rank == 3 || image.rank == 4, "patchify needs [C, H, W] or [B, C, H, W], got \(image.shape)")
    let batch = image.rank == 4 ? [image.shape[0]] : []
    let (c, h, w) = (image.shape[image.rank - 3], image.shape[image.rank - 2], image.shape[image.rank - 1])
    precondition(h % p == 0 && w % p == 0, "image \(h)x\(w) is not a multiple of the patch size \(p)")
    // [B, C, gh, P, gw, P] -> [B, gh, gw, C, P, P]
    return image.reshaped([batch.first ?? 1, c, h / p, p, w / p, p]).permuted([0, 2, 4, 1, 3, 5])
      .reshaped(batch + [(h / p) * (w / p), c * p * p])
  }

  /// The inverse of `patchify`: `[N, C·P·P]` → `[C, gridHeight·P, gridWidth·P]`.
  public static func unpatchify(_ patches: Tensor, patchSize p: Int, gridWidth: Int, gridHeight: Int) -> Tensor {
    let c = patches.shape[1] / (p * p)
    precondition(patches.shape == [gridWidth * gridHeight, c * p * p], "patches \(patches.shape) do not fit a \(gridWidth)x\(gridHeight) grid of \(p)-pixel patches")
    return patches.reshaped([gridHeight, gridWidth, c, p, p]).permuted([2, 0, 3, 1, 4]).reshaped([c, gridHeight * p, gridWidth * p])
  }
}
