/// Where a tensor sits in the file.
public struct SafetensorsTensorInfo: Sendable, Equatable {
  /// The tensor's name in the header (e.g. `blocks.0.attn.qkv.weight`).
  public let name: String
  /// How each element is stored, `dtype.byteSize` bytes little-endian.
  public let dtype: SafetensorsDType
  /// The extents, outermost first (`[]` for a scalar).
  public let shape: [Int]
  /// Start of the byte range inside the data section (after the header).
  public let begin: Int
  /// End of the byte range inside the data section (exclusive).
  public let end: Int
  /// The number of elements, the product of `shape` (1 for a scalar).
  public var elementCount: Int { shape.reduce(1, *) }
}
