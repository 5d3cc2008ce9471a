import Synchronization

/// Float buffers reused between calls for an inference path's per-thread temporaries.
///
/// A forward that needs a score block per worker thread takes one buffer per worker here
/// and gives it back when the worker is done, so the second and every later forward of the
/// same sizes allocates nothing: the pool then holds as many buffers as threads ran at
/// once, each as large as the largest request it served. A taken buffer belongs to its
/// caller until given back. Thread-safe (one lock around the pool). Buffers are freed with
/// the arena; `shared` lives as long as the process.
public final class ScratchArena: Sendable {
  /// A pooled buffer.
  private struct Block: @unchecked Sendable {
    var base: UnsafeMutablePointer<Float>
    var capacity: Int
  }

  private let pool = Mutex<[Block]>([])
  private let allocationCounter = Atomic<Int>(0)

  /// The arena inference paths use unless given another.
  public static let shared = ScratchArena()

  /// An empty arena.
  public init() {}

  deinit {
    pool.withLock { blocks in for block in blocks { block.base.deallocate() } }
  }

  /// Buffers this arena has allocated (a grown buffer counts once more): constant across
  /// calls once every caller's sizes have been seen.
  public var allocations: Int { allocationCounter.load(ordering: .relaxed) }

  /// Runs `body` with a buffer of at least `count` floats, uninitialised, valid during the
  /// call. Takes the largest pooled buffer, grows it if it is too small, and gives it back.
  public func withBuffer<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
    var block = pool.withLock { blocks -> Block? in
      guard let largest = blocks.indices.max(by: { blocks[$0].capacity < blocks[$1].capacity }) else { return nil }
      return blocks.remove(at: largest)
    }
    if block == nil || block!.capacity < count {
      block.map { $0.base.deallocate() }
      // Rounded up to 4 KiB so a slightly longer sequence usually still fits.
      let capacity = (Swift.max(count, 1) + 1023) / 1024 * 1024
      block = Block(base: .allocate(capacity: capacity), capacity: capacity)
      allocationCounter.add(1, ordering: .relaxed)
    }
    let taken = block!
    defer { pool.withLock { $0.append(taken) } }
    return try body(taken.base)
  }
}
