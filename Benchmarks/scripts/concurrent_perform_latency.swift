// How long DispatchQueue.concurrentPerform(iterations: 2) takes for two equal halves of work,
// against one half on the calling thread, with an idle gap between calls as between the ops
// of a forward; and how often both halves ran on the same thread.
//   swiftc -O Benchmarks/scripts/concurrent_perform_latency.swift -o /tmp/cpl && /tmp/cpl
// Why the parallel regions run on a spinning pool instead (Sources/CVAKernels/thread_pool.c).
import Dispatch
import Foundation
let buf = UnsafeMutablePointer<Double>.allocate(capacity: 4096)
for i in 0..<4096 { buf[i] = Double(i) }
func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
@inline(never) func spin(_ n: Int, _ seed: Double) -> Double { var x = seed; for _ in 0..<n { x = x * 0.999999 + 1e-9 }; return x }
for work in [0, 10000, 50000] {
  var times: [Double] = []
  var serial: [Double] = []
  var same = 0
  for _ in 0..<1000 {
    let t1 = now(); buf[100] = spin(work, buf[1]); serial.append(Double(now() - t1) / 1000)
    let t0 = now()
    let b = Int(bitPattern: buf)
    DispatchQueue.concurrentPerform(iterations: 2) { i in
      let q = UnsafeMutablePointer<Double>(bitPattern: b)!
      q[i * 16] = spin(work, q[i * 16 + 1])
      q[64 + i] = Double(pthread_self())
    }
    if buf[64] == buf[65] { same += 1 }
    times.append(Double(now() - t0) / 1000)
    buf[200] = spin(20000, buf[3])
  }
  times.sort(); serial.sort()
  print("work \(work): one-iteration \(serial[500]) us; concurrentPerform(2) median \(times[500]) us, p10 \(times[100]), p90 \(times[900]); same thread \(same)/1000")
}
