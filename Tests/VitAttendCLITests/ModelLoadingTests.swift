import Foundation
import Testing
import VisionAttention

/// Every path loads its model the one way (`ModelSource.load()`): `--faithfulness` honours the
/// model options and says what the loader guessed, as the figures do.
@Suite struct ModelLoadingTests {
  let timm = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_basic")
  let cat = CommandRunner.repositoryFile("images/cat.png")

  /// The image entry's curves of `map` in a report.
  func curves(_ report: String, _ map: String) throws -> (deletion: [Double], insertion: [Double]) {
    let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
    let image = try #require((json["images"] as? [[String: Any]])?.first)
    let entry = try #require((image["maps"] as? [String: [String: Any]])?[map])
    return (try #require(entry["deletion"] as? [Double]), try #require(entry["insertion"] as? [Double]))
  }

  /// `--mean`/`--std` change the report (the checkpoint's config has ImageNet's), to what the
  /// library gives with the same normalisation.
  @Test func faithfulnessHonoursMeanAndStd() throws {
    let scratch = ScratchFolder()
    let plain = try CommandRunner.run([cat, "-w", timm, "--faithfulness", scratch.file("a.json"), "--maps", "cls,rollout"])
    #expect(plain.status == 0, "\(plain.error)")
    let normalised = try CommandRunner.run([
      cat, "-w", timm, "--mean", "0.5,0.5,0.5", "--std", "0.25,0.25,0.25", "--faithfulness", scratch.file("b.json"), "--maps", "cls,rollout",
    ])
    #expect(normalised.status == 0, "\(normalised.error)")

    let overrides = CheckpointOverrides(mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25])
    let model = try #require(try ModelSource(weights: timm, overrides: overrides).load().attributable)
    let scored = ["cls", "rollout"].compactMap(FaithfulnessMap.init(rawValue:))
    let library = try FaithfulnessRun(model: model, maps: scored).run([cat])
    for map in ["cls", "rollout"] {
      let (a, b) = (try curves(scratch.file("a.json"), map), try curves(scratch.file("b.json"), map))
      // The input changed, so the probabilities did: by more than rounding.
      let change = zip(a.deletion + a.insertion, b.deletion + b.insertion).map { abs($0 - $1) }.max() ?? 0
      #expect(change > 1e-3, "\(map): \(a) vs \(b)")
      let expected = try #require(library.images.first?.maps[map])
      #expect(b.deletion.count == expected.deletion.count && zip(b.deletion, expected.deletion).allSatisfy { abs($0 - $1) < 1e-6 }, "\(map)")
      #expect(b.insertion.count == expected.insertion.count && zip(b.insertion, expected.insertion).allSatisfy { abs($0 - $1) < 1e-6 }, "\(map)")
    }
  }

  /// A config-less checkpoint: `--faithfulness` warns of the same guesses as a figure, and
  /// `--head-count`, `--mean` and `--std` silence those they set.
  @Test func faithfulnessWarnsWhatTheLoaderInferred() throws {
    let scratch = ScratchFolder()
    let fixture = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_registers_nonsquare")
    try FileManager.default.copyItem(atPath: fixture + "/model.safetensors", toPath: scratch.file("model.safetensors"))
    let weights = scratch.file("model.safetensors")
    func guesses(_ stderr: String) -> [String] {
      stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("vit-attend: warning: ") && $0.contains("inferred") }
    }
    let figure = try CommandRunner.run([cat, "-w", weights, "--out", scratch.file("a.png")])
    #expect(figure.status == 0, "\(figure.error)")
    // The model has no class token: score maps it has, so no line is about a skipped map.
    let scored = try CommandRunner.run([cat, "-w", weights, "--faithfulness", scratch.file("r.json"), "--maps", "rollout,random"])
    #expect(scored.status == 0, "\(scored.error)")
    for guess in ["heads inferred as width / 64 = 1", "normalisation inferred as mean 0.5, std 0.5", "input size inferred as 64x64"] {
      #expect(guesses(scored.error).contains { $0.contains(guess) }, "\(scored.error)")
    }
    #expect(guesses(scored.error) == guesses(figure.error))
    let given = try CommandRunner.run([
      cat, "-w", weights, "--head-count", "2", "--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225",
      "--faithfulness", scratch.file("s.json"), "--maps", "rollout,random",
    ])
    #expect(given.status == 0, "\(given.error)")
    #expect(guesses(given.error).count == 1 && guesses(given.error)[0].contains("input size inferred"), "\(given.error)")
    // Two heads instead of one, and ImageNet's normalisation: the rollout's curves move.
    let (one, two) = (try curves(scratch.file("r.json"), "rollout"), try curves(scratch.file("s.json"), "rollout"))
    #expect(zip(one.deletion, two.deletion).contains { abs($0 - $1) > 1e-4 })
  }

  /// Figure options `--faithfulness` never reads are named once each on stderr, and leave
  /// the report as it is without them.
  @Test func faithfulnessWarnsOfFigureOptions() throws {
    let scratch = ScratchFolder()
    let plain = try CommandRunner.run([cat, "-w", timm, "--faithfulness", scratch.file("a.json"), "--maps", "cls,random"])
    #expect(plain.status == 0 && !plain.error.contains("warning"), "\(plain.error)")
    let extra = try CommandRunner.run([
      cat, "-w", timm, "--faithfulness", scratch.file("b.json"), "--maps", "cls,random", "--layer", "0", "--head", "1", "--keep", "0.3",
    ])
    #expect(extra.status == 0, "\(extra.error)")
    for option in ["--layer", "--head"] {
      #expect(extra.error.contains("warning: \(option) does not apply to --faithfulness"), "\(extra.error)")
    }
    #expect(extra.error.components(separatedBy: "warning: --keep ").count == 2, "\(extra.error)")
    let (a, b) = (try curves(scratch.file("a.json"), "cls"), try curves(scratch.file("b.json"), "cls"))
    #expect(a.deletion.count == b.deletion.count && zip(a.deletion + a.insertion, b.deletion + b.insertion).allSatisfy { abs($0 - $1) < 1e-7 })
  }

  /// `loadFamily()` picks Swin and DETR by their tensor names (vit-attend then draws them
  /// through `SwinPipeline` and `DETRPipeline`: SwinCLITests, DETRFigureTests); the ViT-only
  /// `load()` (what `--faithfulness` and the ViT's gradient maps take) refuses them by name.
  @Test(arguments: ["timm_swin", "hf_swinv2", "detr_timm_v4", "detr_hf_v5"]) func swinAndDETRAreLoadedAsTheirFamily(fixture: String) throws {
    let source = ModelSource(weights: CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/\(fixture)"))
    let family = fixture.hasPrefix("detr") ? "DETR" : "Swin"
    #expect(try source.loadFamily().familyName == family)
    #expect {
      try source.load()
    } throws: { error in
      "\(error)".contains("a \(family) checkpoint, where a vision transformer is needed")
    }
  }
}
