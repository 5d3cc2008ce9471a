import CVAKernels
import Dispatch
import Foundation
import Synchronization
import Testing
@testable import VATensorCore

/// parallelFor (CVAKernels' spinning pool) runs every index exactly once, whichever thread
/// claims it, on every call: many short jobs in a row are what the pool is for, and a lost
/// wake-up or a late worker claiming an index of the next job would show here as a count off.
@Test func everyIndexRunsExactlyOnceAcrossManyShortJobs() {
  let counts = [1, 2, 3, 7, 64, 1000]
  for threads in [2, 3, 8] {
    for round in 0..<300 {
      let count = counts[round % counts.count]
      let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
      defer { hits.deallocate() }
      hits.initialize(repeating: 0)
      let used = parallelFor(count, threads: threads) { hits[$0] += 1 }
      #expect(hits.allSatisfy { $0 == 1 }, "threads \(threads), round \(round), count \(count)")
      // Never more threads than processors to run them (spinning workers would starve the rest).
      #expect(used <= max(1, min(count, Int(cva_usable_cpus()))), "\(used) threads for \(count) iterations")
      // A pause now and then, well past the workers' 2 ms spin, lets them sleep, so the
      // wake-up path runs too.
      if round % 50 == 49 { usleep(20_000) }
    }
  }
}

/// The work really is shared, and a sleeping worker wakes: with two threads and iterations
/// that wait for each other, both must be running at once (the caller and a worker). A pool
/// that ran everything on the caller, or lost a wake-up, would fail here. Tests run in
/// parallel, so another test may own the pool (then the call runs inline and says so); the
/// check is made on the first call that got the pool.
@Test(.enabled(if: cva_usable_cpus() >= 2, "this process may run on one processor only"))
func twoIterationsRunAtTheSameTime() {
  for _ in 0..<50 {
    // A job (so the worker exists), then a pause well past the workers' 2 ms spin: the worker
    // is asleep, so this checks the wake-up too. With the wake-up removed from thread_pool.c
    // this test fails (with a 5 ms pause it did not: the worker was still awake).
    parallelFor(2, threads: 2) { _ in }
    usleep(20_000)
    let arrived = Atomic<Int>(0)
    let met = Atomic<Bool>(true)
    let used = parallelFor(2, threads: 2) { _ in
      arrived.add(1, ordering: .sequentiallyConsistent)
      let deadline = Date().addingTimeInterval(2)
      while arrived.load(ordering: .sequentiallyConsistent) < 2 {
        if Date() > deadline {
          met.store(false, ordering: .sequentiallyConsistent)
          return
        }
      }
    }
    guard used == 2 else { continue }
    let bothRan = met.load(ordering: .sequentiallyConsistent)
    #expect(bothRan)
    return
  }
  Issue.record("the pool was busy on 50 tries")
}

/// A call from inside an iteration runs inline (no deadlock waiting for a busy pool), and
/// calls from several threads at once each finish with every index run once.
@Test func nestedAndConcurrentCallsFinish() {
  let outer = 4, inner = 50
  let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: outer * inner)
  defer { hits.deallocate() }
  hits.initialize(repeating: 0)
  parallelFor(outer, threads: 2) { i in
    parallelFor(inner, threads: 2) { j in hits[i * inner + j] += 1 }
  }
  #expect(hits.allSatisfy { $0 == 1 })

  // Callers on their own threads: one owns the pool at a time, the others run inline.
  let callers = 4, perCaller = 200, rounds = 20
  let results = UnsafeMutableBufferPointer<Int>.allocate(capacity: callers * perCaller)
  defer { results.deallocate() }
  results.initialize(repeating: 0)
  let finished = DispatchSemaphore(value: 0)
  nonisolated(unsafe) let shared = results
  for caller in 0..<callers {
    Thread {
      for round in 1...rounds {
        parallelFor(perCaller, threads: 2) { j in shared[caller * perCaller + j] += round }
      }
      finished.signal()
    }.start()
  }
  for _ in 0..<callers { finished.wait() }
  #expect(results.allSatisfy { $0 == rounds * (rounds + 1) / 2 })
}

/// The parts `forEachElementChunk` and the row-splitting kernels give their workers cover
/// `0..<count` exactly once, in order, for more workers than items too: `--threads 7` on ten
/// rows used to give the last worker the range 12..<10 and crash.
@Test func workerRangesPartitionTheItems() {
  for count in 0...40 {
    for workers in 1...12 {
      let parts = (0..<workers).map { workerRange($0, of: workers, count: count) }
      #expect(parts.flatMap { Array($0) } == Array(0..<count), "count \(count), workers \(workers)")
      #expect(parts.allSatisfy { $0.count <= (count + workers - 1) / workers })
    }
  }
}
