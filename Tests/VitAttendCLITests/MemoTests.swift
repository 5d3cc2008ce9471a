import Testing
@testable import VisionAttention

/// `Memo`, which keeps a scene's attribution (a backward pass) for the figure, the summary
/// and the page.
struct MemoTests {
  struct Failure: Error {}

  @Test func computesOnceAndKeepsNoFailure() throws {
    let memo = Memo<Int>()
    var calls = 0
    #expect(throws: Failure.self) {
      try memo.value { () throws(Failure) -> Int in
        calls += 1; throw Failure()
      }
    }
    #expect(
      try memo.value { () throws(Failure) -> Int in
        calls += 1; return 7
      } == 7)
    #expect(
      try memo.value { () throws(Failure) -> Int in
        calls += 1; return 8
      } == 7)
    #expect(calls == 2)
  }

  /// A scene's gradient figure keeps its attribution, which the bare map and the page then
  /// read instead of running the backward pass again.
  @Test func aSceneKeepsItsAttribution() throws {
    let model = try CheckpointModel(path: CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_basic"))
    var settings = FigureSettings()
    settings.map = .gradrollout
    let scene = try ImageAttention(contentsOfFile: CommandRunner.repositoryFile("images/coffee.png"), model: model).scene(settings)
    _ = try scene.figure()
    let kept = try scene.attributionMemo.value { () throws(VisionAttentionError) -> Attribution in
      Issue.record("the figure did not keep its attribution")
      return try model.attributions([scene.image], targets: [.topClass])[0]
    }
    #expect(try scene.singleMap()?.values == kept.gradRolloutMap)
  }
}
