import Foundation
import Testing

/// The page says what a fragment asked for that the model cannot show, instead of falling
/// back silently; and it counts in the singular where there is one.
@Suite(.serialized, .needsBrowser) struct InspectorNoteTests {
  let cat = CommandRunner.repositoryFile("images/cat.png")

  /// The built-in model: one layer, four heads, no class token.
  @Test func fragmentsTheModelCannotShowAreNotedOnThePage() throws {
    let scratch = ScratchFolder()
    let page = scratch.file("cat.html")
    let result = try CommandRunner.run([cat, "--html", page])
    #expect(result.status == 0, "\(result.error)")
    let browser = try HeadlessBrowser.find()

    let plain = try browser.currentMap(page: page, fragment: "map=query&layer=0")
    #expect(plain.note.isEmpty)
    #expect(plain.dom.contains("<p id=\"note\" role=\"status\" hidden=\"\">"))
    #expect(plain.dom.contains("| 1 layer, 4 heads, grid 30x19"), "singular layer")

    let heads = try browser.currentMap(page: page, fragment: "map=heads")
    #expect(heads.note.contains("#map=heads is not a map this page draws (it draws query, rollout, mask)"), "\(heads.note)")
    #expect(heads.dom.contains("<p id=\"note\" role=\"status\">#map=heads"), "the note is shown")

    let cls = try browser.currentMap(page: page, fragment: "map=cls&layer=3")
    #expect(cls.state["map"] as? String == "query")
    #expect(cls.note.contains("#map=cls needs a class token, and this model has none"), "\(cls.note)")
    #expect(cls.note.contains("#layer=3: the model has 1 layer (0 to 0); showing layer 0."), "\(cls.note)")
  }
}
