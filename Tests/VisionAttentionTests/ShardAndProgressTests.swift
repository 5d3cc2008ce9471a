import Testing
import VisionAttention

/// The folder run's pieces that need no model: progress lines and `--shard` parsing.
struct ShardAndProgressTests {
  @Test func progressLinesGiveCountRateAndTimeLeft() {
    #expect(RunProgress.line(done: 120, total: 1000, seconds: 14.5) == "120/1000 images, 8.3 images/s, 1m46s left")
    #expect(RunProgress.line(done: 0, total: 10, seconds: 0) == "0/10 images, 0.0 images/s")
  }

  @Test func shardsAreParsedStrictly() {
    #expect(Shard(parsing: "2/3") == Shard(index: 2, count: 3))
    for bad in ["0/3", "4/3", "3", "a/b", "1/0", "-1/2", "1/2/3"] { #expect(Shard(parsing: bad) == nil, "\(bad)") }
  }
}
