import Foundation

/// Median wall time in seconds of `body` over `repetitions` runs after `warmup` runs.
func medianSeconds(repetitions: Int, warmup: Int = 2, _ body: () -> Void) -> Double {
  for _ in 0..<warmup { body() }
  var times: [Double] = []
  for _ in 0..<repetitions {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
  }
  times.sort()
  return times[times.count / 2]
}

/// Peak resident memory of this process so far, in MiB (Linux: VmHWM).
func peakMemoryMiB() -> Double {
  guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
  for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
    let kib = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
    return kib / 1024
  }
  return 0
}

func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }
