import Foundation
import Testing
import VAImageIO
import VATensorCore

/// The command-line ergonomics: version, threads, short names, bare and
/// per-head figures, captions with the prediction, and warnings for options that do not apply.
@Suite struct OptionTests {
  let cat = CommandRunner.repositoryFile("images/cat.png")
  let classifier = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/hf_classifier")

  @Test func versionIsTheLibrarysVersion() throws {
    let result = try CommandRunner.run(["--version"])
    #expect(result.status == 0)
    #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0.2.0")
  }

  @Test func theThreeToolsShareOneVersionAndOneNamingScheme() throws {
    for tool in ["vit-attend", "patch-classify", "vit-bench"] {
      let result = try CommandRunner.run(["--version"], executable: tool)
      #expect(result.status == 0 && result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0.2.0", "\(tool)")
    }
    let training = try CommandRunner.run(["--help"], executable: "patch-classify")
    let bench = try CommandRunner.run(["train", "--help"], executable: "vit-bench")
    let attend = try CommandRunner.run(["--help"])
    for help in [training.output, bench.output] {
      #expect(help.contains("--head-count") && help.contains("--patch-size"))
    }
    #expect(attend.output.contains("--head-count") && !attend.output.contains("--heads "))
  }

  // The sections of --help: HelpTests. The short names are listed with the long ones.
  @Test func helpListsTheShortNames() throws {
    let result = try CommandRunner.run(["--help"])
    #expect(result.status == 0)
    for short in ["-o, --out", "-w, --weights", "-m, --map", "-q, --query"] {
      #expect(result.output.contains(short), "missing \(short)")
    }
  }

  @Test func shortNamesMeanTheLongOnes() throws {
    let scratch = ScratchFolder()
    let short = try CommandRunner.run([cat, "-w", classifier, "-m", "query", "-q", "170,113", "-o", scratch.file("s.png")])
    let long = try CommandRunner.run([cat, "--weights", classifier, "--map", "query", "--query", "170,113", "--out", scratch.file("l.png")])
    #expect(short.status == 0 && long.status == 0, "\(short.error) \(long.error)")
    #expect(try pngText(scratch.file("s.png")) == pngText(scratch.file("l.png")))
    let a = try Image(contentsOfFile: scratch.file("s.png")), b = try Image(contentsOfFile: scratch.file("l.png"))
    #expect(a.pixels == b.pixels)
  }

  /// On a 160x128 crop of the cat at its own size the Hugging Face classifier (width 64, 4
  /// heads of 16, patch 8) has 321 tokens, so its projections ([321, 64] · [64, 192] and the
  /// MLP's) are past sgemm's threshold and split over both threads, and its 4 heads' attention
  /// products go to the two threads in turn (sgemmBatched); every weight and logit is the
  /// one-thread run's within 1e-6.
  @Test func threadsChangeNothingButSpeed() throws {
    let scratch = ScratchFolder()
    let crop = scratch.file("crop.png")
    try Image(contentsOfFile: cat).rgb().cropped(x: 120, y: 40, width: 160, height: 128).writePNG(to: crop)
    for (m, n, k) in [(321, 192, 64), (321, 128, 64), (321, 64, 128)] {
      #expect(sgemmPartition(m: m, n: n, k: k, threads: 2).parts.count == 2, "[\(m), \(k)] · [\(k), \(n)] is not split")
    }
    for threads in ["1", "2"] {
      let result = try CommandRunner.run([crop, "-w", classifier, "--resize", "none", "--threads", threads, "--dump", scratch.file("t\(threads).safetensors")])
      #expect(result.status == 0, "\(result.error)")
    }
    let one = try DumpFile(path: scratch.file("t1.safetensors")), two = try DumpFile(path: scratch.file("t2.safetensors"))
    #expect(one.shapes["attn.1"] == [4, 321, 321])
    for tensor in ["attn.0", "attn.1", "logits"] {
      let a = try #require(one.tensors[tensor]), b = try #require(two.tensors[tensor])
      #expect(a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(tensor)")
    }
    let refused = try CommandRunner.run([cat, "--threads", "0", "-o", scratch.file("x.png")])
    #expect(refused.status == 64 && refused.error.contains("--threads"))
  }

  @Test func bareStyleIsTheOverlayAtTheModelInputsSize() throws {
    let scratch = ScratchFolder()
    let result = try CommandRunner.run([cat, "-q", "170,113", "--style", "bare", "-o", scratch.file("b.png"), "--dump", scratch.file("b.safetensors")])
    #expect(result.status == 0, "\(result.error)")
    let image = try Image(contentsOfFile: scratch.file("b.png"))
    let dump = try DumpFile(path: scratch.file("b.safetensors"))
    // No panels, title or colour bar: exactly the model input's size.
    #expect([3, image.height, image.width] == dump.shapes["input"])
    let refused = try CommandRunner.run([cat, "-m", "heads", "--style", "bare", "-o", scratch.file("h.png")])
    #expect(refused.status == 1 && refused.error.contains("--style bare"))
    #expect(!FileManager.default.fileExists(atPath: scratch.file("h.png")))
  }

  @Test func perHeadWritesOneFigurePerHead() throws {
    let scratch = ScratchFolder()
    let result = try CommandRunner.run([cat, "-w", classifier, "-m", "cls", "--per-head", "--style", "bare", "-o", scratch.file("c.png")])
    #expect(result.status == 0, "\(result.error)")
    // The fixture has 4 heads.
    #expect(scratch.contents == ["c-head0.png", "c-head1.png", "c-head2.png", "c-head3.png", "c.png"])
    #expect(try pngText(scratch.file("c-head2.png"))["head"] == "2")
    let heads = try (0..<4).map { try Image(contentsOfFile: scratch.file("c-head\($0).png")).pixels }
    #expect(Set(heads.map(\.hashValue)).count == 4, "each head draws its own map")
    let refused = try CommandRunner.run([cat, "-m", "rollout", "--per-head", "-o", scratch.file("r.png")])
    #expect(refused.status == 64 && refused.error.contains("--per-head"))
  }

  @Test func captionsCarryThePredictedClass() throws {
    let scratch = ScratchFolder()
    let result = try CommandRunner.run([cat, "-w", classifier, "-o", scratch.file("p.png")])
    #expect(result.status == 0, "\(result.error)")
    let prediction = try #require(try pngText(scratch.file("p.png"))["prediction"])
    #expect(prediction.hasPrefix("predicted: ") && prediction.contains("p = 0."))
    // The built-in model has no classifier, so no prediction.
    let builtIn = try CommandRunner.run([cat, "-o", scratch.file("b.png")])
    let builtInText = try pngText(scratch.file("b.png"))
    #expect(builtIn.status == 0 && builtInText["prediction"] == nil)
  }

  @Test(arguments: [
    (["-m", "query", "--keep", "0.5"], "--keep"),
    (["-m", "cls", "--discard-ratio", "0.5"], "--discard-ratio"),
    (["-m", "distance", "--layer", "0"], "--layer"),
    (["-m", "posembed", "--head", "0"], "--head"),
    (["-m", "cls", "-q", "10,10"], "--query"),
    (["-m", "query", "--cnn", "alexnet"], "--cnn"),
    (["--head-count", "3"], "--head-count"),
    (["--mean", "0.4,0.4,0.4"], "--mean"),
    (["--threads", "1024"], "--threads"),
  ])
  func optionsThatDoNotApplyAreNamedOnStderr(arguments: [String], option: String) throws {
    let scratch = ScratchFolder()
    var command = [cat, "-o", scratch.file("w.png")] + arguments
    if arguments.contains("cls") { command += ["-w", classifier] }
    let result = try CommandRunner.run(command)
    #expect(result.status == 0, "\(result.error)")
    #expect(result.error.contains("warning: \(option) "), "stderr: \(result.error)")
  }

  @Test func optionsThatApplyAreNotWarnedAbout() throws {
    let scratch = ScratchFolder()
    let result = try CommandRunner.run([cat, "-m", "mask", "--keep", "0.5", "--layer", "0", "-o", scratch.file("m.png")])
    #expect(result.status == 0 && !result.error.contains("warning"), "\(result.error)")
  }

  @Test func nonASCIINamesAreStoredAsUTF8() throws {
    let scratch = ScratchFolder()
    let input = scratch.file("chat-été-猫.png")
    try FileManager.default.copyItem(atPath: cat, toPath: input)
    let result = try CommandRunner.run([input, "-o", scratch.file("u.png")])
    #expect(result.status == 0, "\(result.error)")
    #expect(try pngText(scratch.file("u.png"))["input"] == input)
  }
}
