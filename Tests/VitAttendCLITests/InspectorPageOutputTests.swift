import Foundation
import VAImageIO
import VAModels
import VATensorCore
import Testing

/// `vit-attend --html` as files and pixels: the screenshot, batches, size. Speed:
/// Benchmarks/scripts/page_timings.py.
@Suite(.serialized) struct InspectorPageOutputTests {
  let cat = CommandRunner.repositoryFile("images/cat.png")

  /// With an opaque gray overlay, the brightest patch on screen is the map's maximum.
  @Test(.needsBrowser) func screenshotShowsTheMapsMaximumBrightest() throws {
    let scratch = ScratchFolder()
    let page = scratch.file("cat.html"), shot = scratch.file("shot.png")
    let result = try CommandRunner.run([cat, "--html", page])
    #expect(result.status == 0, "\(result.error)")
    let browser = try HeadlessBrowser.find()
    let fragment = "map=query&layer=0&head=1&query=21,8&fuse=none&cmap=gray&alpha=1&grid=0&smooth=0"
    let map = try browser.currentMap(page: page, fragment: fragment)
    try browser.screenshot(page: page, fragment: fragment, to: shot)
    let image = try Image(contentsOfFile: shot)
    let (columns, rows) = (30, 19)
    #expect(map.values.count == columns * rows && map.overlayBox.count == 4)
    let (left, top, width, height) = (map.overlayBox[0], map.overlayBox[1], map.overlayBox[2], map.overlayBox[3])
    // Brightness at each patch's centre, away from the query marker's border.
    var brightness: [Int] = []
    for row in 0..<rows {
      for column in 0..<columns {
        let x = Int(left + (Double(column) + 0.5) * width / Double(columns)), y = Int(top + (Double(row) + 0.5) * height / Double(rows))
        let p = (y * image.width + x) * image.channels
        brightness.append(Int(image.pixels[p]) + Int(image.pixels[p + 1]) + Int(image.pixels[p + 2]))
      }
    }
    let brightest = brightness.indices.max { brightness[$0] < brightness[$1] }!
    let maximum = map.values.max()!
    // Gray has 256 levels over the map's range, so the brightest patch is within one of them.
    let (low, high) = (map.values.min()!, maximum)
    #expect(map.values[brightest] >= maximum - (high - low) / 255, "brightest patch \(brightest) holds \(map.values[brightest]), maximum \(maximum)")
    #expect(brightness[brightest] >= 3 * 250, "the maximum should be white in gray at opacity 1, got \(brightness[brightest])")
  }

  /// `bench=K` redraws K hovers and reports its timings, then restores the view. How fast
  /// is measured by Benchmarks/scripts/page_timings.py (ready < 1 s, hover < 16.7 ms), not here:
  /// timed assertions flake on a shared machine.
  @Test(.needsBrowser) func benchModeRedrawsAndReportsTimings() throws {
    let scratch = ScratchFolder()
    let page = scratch.file("cat.html")
    let result = try CommandRunner.run([cat, "--html", page])
    #expect(result.status == 0, "\(result.error)")
    let map = try HeadlessBrowser.find().currentMap(page: page, fragment: "map=query&query=7,5&bench=60")
    #expect(map.timings["hovers"] == 60)
    let ready = try #require(map.timings["ready"]), median = try #require(map.timings["hoverMedian"]), worst = try #require(map.timings["hoverMax"])
    #expect(ready >= 0 && median >= 0 && median <= worst)
    #expect(map.state["query"] as? [Int] == [7, 5], "the view after the bench is the one the fragment named")
  }

  /// A ViT-S/16-shaped page at 224x224 stays under 6 MB and follows `--help`'s formula.
  /// The page's size depends on layers, heads and tokens, not on the width, so a 12-layer,
  /// 6-head model of width 48 stands in for ViT-S (a checkpoint of 2 MB instead of 88 MB).
  @Test(.needsBrowser) func aViTSShapedPageStaysUnderSixMegabytes() throws {
    let scratch = ScratchFolder()
    var rng = SplitMix64(seed: 9)
    let configuration = ViTConfiguration(patchSize: 16, embedDimension: 48, depth: 12, headCount: 6)
    try VisionTransformer(configuration, using: &rng).save(to: scratch.file("vit-s-shaped"))
    let page = scratch.file("astronaut.html")
    // astronaut.png is 512x512: fitted to 224x224, 14x14 patches, T = 197.
    let result = try CommandRunner.run([CommandRunner.repositoryFile("images/astronaut.png"), "--weights", scratch.file("vit-s-shaped"), "--html", page])
    #expect(result.status == 0, "\(result.error)")
    let size = try #require(try FileManager.default.attributesOfItem(atPath: page)[.size] as? Int)
    let (l, h, t, n, c) = (12, 6, 197, 196, 28 * 28)
    let data = 4 * (l * h * t * (t + 4) + 3 * (t + 4) + n * (c + 4)) / 3
    // Beyond the data: the input as PNG (at most its raw 224·224·3 bytes, in base64) and
    // the 35 kB of script, style and colour tables.
    #expect(size > data && size < data + 4 * 224 * 224 * 3 / 3 + 40_000, "\(size) bytes, formula's data \(data)")
    #expect(size < 6_000_000)
    let map = try HeadlessBrowser.find().currentMap(page: page, fragment: "map=query")
    #expect(map.values.count == n && map.state["fuse"] as? String == "mean")
    #expect(map.timings["ready"] != nil, "\(map.timings)")
  }

  /// `--out-dir DIR --format html`: one page per image, named after it, and the run's index.
  @Test func batchesWriteOnePagePerImage() throws {
    let scratch = ScratchFolder()
    let coffee = CommandRunner.repositoryFile("images/coffee.png")
    let result = try CommandRunner.run([cat, coffee, "--out-dir", scratch.file("pages"), "--format", "html", "--weights", CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_basic")])
    #expect(result.status == 0, "\(result.error)")
    let pages = try FileManager.default.contentsOfDirectory(atPath: scratch.file("pages")).sorted()
    #expect(pages == ["cat.html", "coffee.html", "index.jsonl"])
    let text = try String(contentsOfFile: scratch.file("pages/coffee.html"), encoding: .utf8)
    #expect(text.hasPrefix("<!DOCTYPE html>") && text.contains("id=\"current-map\""))
    // Self-contained: nothing fetched from anywhere.
    for reference in ["http://", "https://", "<link", "src=\"", "@import", "url("] {
      #expect(!text.contains(reference), "page refers to something outside itself: \(reference)")
    }
  }

  @Test func pageOptionsAreCheckedLikeTheOthers() throws {
    let scratch = ScratchFolder()
    for (options, mention) in [
      (["--html", scratch.file("a.html"), "--out-dir", scratch.file("d")], "--format html"),
      (["--format", "html", "--out", scratch.file("a.png")], "--format chooses what --out-dir holds"),
    ] {
      let result = try CommandRunner.run([cat] + options)
      #expect(result.status == 64 && result.error.contains(mention), "\(result.error)")
    }
    let two = try CommandRunner.run([cat, CommandRunner.repositoryFile("images/coffee.png"), "--html", scratch.file("a.html")])
    #expect(two.status == 1 && two.error.contains("--html"), "\(two.error)")
    #expect(scratch.contents.isEmpty)
  }
}
