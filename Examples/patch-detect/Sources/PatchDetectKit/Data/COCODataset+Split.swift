import VATensorCore

extension COCODataset {
  /// Holds out `round(fraction · n)` images (at least one, and at least one left to train on),
  /// chosen by a Fisher–Yates shuffle seeded with `seed`: the same seed gives the same split.
  /// Both parts keep the file's order; issues stay with the training part.
  /// - Throws: `COCOError.invalid` when `fraction` is not in (0, 1) or fewer than 2 images are usable.
  public func split(validationFraction fraction: Double, seed: UInt64) throws(COCOError) -> (train: COCODataset, validation: COCODataset) {
    guard fraction > 0, fraction < 1 else { throw .invalid(path: path, reason: "a validation fraction must be between 0 and 1 (exclusive), got \(fraction)") }
    let n = images.count
    guard n >= 2 else { throw .invalid(path: path, reason: "\(n) usable image\(n == 1 ? "" : "s"): too few to hold out a validation split") }
    var order = Array(0..<n)
    var rng = SplitMix64(seed: seed)
    for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
    let count = min(n - 1, max(1, Int((fraction * Double(n)).rounded())))
    let held = Set(order.prefix(count))
    let train = images.indices.filter { !held.contains($0) }.map { images[$0] }
    let validation = images.indices.filter { held.contains($0) }.map { images[$0] }
    return (
      COCODataset(path: path, categories: categories, images: train, issues: issues),
      COCODataset(path: path, categories: categories, images: validation, issues: [])
    )
  }

  /// Checks that `other` (a second annotations file used for validation) has the same
  /// categories, ids, names and order, so class `k` means the same in both.
  /// - Throws: `COCOError.invalid` naming both files and the first difference.
  public func checkSameCategories(as other: COCODataset) throws(COCOError) {
    guard categories != other.categories else { return }
    let mine = categories.map { "\($0.id) \($0.name)" }, theirs = other.categories.map { "\($0.id) \($0.name)" }
    throw .invalid(
      path: other.path,
      reason: "its categories [\(theirs.joined(separator: ", "))] differ from \(path)'s [\(mine.joined(separator: ", "))]; class indices would not agree")
  }
}
