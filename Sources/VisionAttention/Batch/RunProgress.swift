import Foundation

/// How far a run of several images has got, in words.
public enum RunProgress {
  /// "120/1000 images, 8.3 images/s, 1m46s left" after `seconds` of a run.
  public static func line(done: Int, total: Int, seconds: Double) -> String {
    let rate = seconds > 0 ? Double(done) / seconds : 0
    var text = "\(done)/\(total) images, \(String(format: "%.1f", rate)) images/s"
    if rate > 0 {
      let left = Int((Double(total - done) / rate).rounded())
      text += ", " + (left >= 60 ? "\(left / 60)m\(left % 60)s" : "\(left)s") + " left"
    }
    return text
  }
}
