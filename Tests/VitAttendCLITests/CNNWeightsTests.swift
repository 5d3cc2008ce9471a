import Foundation
import Testing
import VAImageIO
@testable import VisionAttention

/// `vit-attend --cnn-weights DIR`: the Grad-CAM of a CNN patch-classify trained, beside the
/// ViT's maps. The map itself is checked against PyTorch in VAInspectionTests
/// (ConvNetGradCAMTests); here, that the command draws and dumps the library's map for the
/// class asked, loads what patch-classify writes, and refuses bad input with one line.
@Suite(.serialized) struct CNNWeightsTests {
  static let cat = CommandRunner.repositoryFile("images/cat.png")
  static let vit = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_basic")
  static let cnn = CommandRunner.repositoryFile("Tests/VAInspectionTests/Fixtures/cnn_gradcam/resnet")

  /// The library's Grad-CAM of the CNN for the scene `vit-attend` makes of images/cat.png.
  func libraryGradCAM(_ target: AttributionTarget) throws -> ConvNetGradCAM {
    let result = try ImageAttention(contentsOfFile: Self.cat, model: try CheckpointModel(path: Self.vit))
    var settings = FigureSettings()
    (settings.cnnWeights, settings.target) = (try ConvNet.load(fromCheckpointFolder: Self.cnn), target)
    return try #require(try result.scene(settings).cnnGradCAM()).cam
  }

  func largestDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
  }

  @Test func figuresAndDumpsCarryTheCNNsGradCAMForTheClassAsked() throws {
    let scratch = ScratchFolder()
    let plain = try CommandRunner.run([Self.cat, "-w", Self.vit, "-o", scratch.file("plain.png")])
    #expect(plain.status == 0, "\(plain.error)")
    let top = try CommandRunner.run([Self.cat, "-w", Self.vit, "--cnn-weights", Self.cnn, "-o", scratch.file("top.png"), "--dump", scratch.file("top.safetensors")])
    #expect(top.status == 0 && top.error.isEmpty, "\(top.error)")
    // The default figure gains a fifth panel.
    #expect(try Image(contentsOfFile: scratch.file("top.png")).width > Image(contentsOfFile: scratch.file("plain.png")).width + 200)
    let dump = try DumpFile(path: scratch.file("top.safetensors"))
    let expected = try libraryGradCAM(.topClass)
    #expect(dump.shapes["cnn_gradcam"] == [4, 4] && expected.targetClass == 1)
    #expect(largestDifference(try #require(dump.tensors["cnn_gradcam"]), expected.map) <= 1e-6 * expected.map.max()!)
    #expect(dump.metadata["cnn-class"] == "top-1" && dump.metadata["cnn-weights"] == Self.cnn)

    // --class K: the ViT's Grad-CAM and the CNN's, both for class 3 (not the CNN's top-1).
    let asked = try CommandRunner.run([
      Self.cat, "-w", Self.vit, "--cnn-weights", Self.cnn, "--map", "gradcam", "--class", "3",
      "-o", scratch.file("three.png"), "--dump", scratch.file("three.safetensors"),
    ])
    #expect(asked.status == 0 && asked.error.isEmpty, "\(asked.error)")
    let three = try DumpFile(path: scratch.file("three.safetensors"))
    let wanted = try libraryGradCAM(.classIndex(3))
    #expect(wanted.targetClass == 3 && three.metadata["cnn-class"] == "3" && three.shapes["gradcam"] != nil)
    #expect(largestDifference(try #require(three.tensors["cnn_gradcam"]), wanted.map) <= 1e-6 * wanted.map.max()!)
    #expect(largestDifference(wanted.map, expected.map) > 1e-2 * expected.map.max()!)
  }

  /// What `patch-classify --model cnn` writes is what `--cnn-weights` reads.
  @Test func aCheckpointPatchClassifyWroteLoads() throws {
    let scratch = ScratchFolder()
    let train = try CommandRunner.run(
      [
        "--model", "cnn", "--train-size", "12", "--val-size", "6", "--batch-size", "6", "--image-size", "32",
        "--epochs", "1", "--run-dir", scratch.file("run"),
      ], executable: "patch-classify")
    #expect(train.status == 0, "\(train.error)")
    let attend = try CommandRunner.run([
      Self.cat, "-w", Self.vit, "--cnn-weights", scratch.file("run/checkpoint"),
      "-o", scratch.file("f.png"), "--dump", scratch.file("f.safetensors"),
    ])
    #expect(attend.status == 0, "\(attend.error)")
    // 32 pixels through the stem's pooling and three stride-2 stages: a 2x2 map.
    #expect(try DumpFile(path: scratch.file("f.safetensors")).shapes["cnn_gradcam"] == [2, 2])
  }

  @Test func badCNNWeightsGetOneLineAndWriteNothing() throws {
    let scratch = ScratchFolder()
    func fails(_ extra: [String], mentioning text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
      let result = try CommandRunner.run([Self.cat, "-w", Self.vit, "-o", scratch.file("o.png"), "--dump", scratch.file("o.safetensors")] + extra)
      #expect(result.status == 1, "exit \(result.status): \(result.error)", sourceLocation: sourceLocation)
      #expect(result.error.contains(text) && result.error.split(separator: "\n").count == 1, "\(result.error)", sourceLocation: sourceLocation)
      #expect(scratch.contents.isEmpty, sourceLocation: sourceLocation)
    }
    try fails(["--cnn-weights", Self.vit], mentioning: "--cnn-weights: \(Self.vit)/config.json: not a CNN checkpoint: architecture 'vit_custom'")
    try fails(["--cnn-weights", scratch.file("none")], mentioning: "no such checkpoint folder")
    try fails(["--cnn-weights", Self.cnn, "--class", "4"], mentioning: "--class 4 is out of range for the CNN of --cnn-weights \(Self.cnn): it has 4 outputs (0...3)")
    let usage = try CommandRunner.run([Self.cat, "-w", Self.vit, "-o", scratch.file("o.png"), "--cnn-weights", Self.cnn, "--class", "-1"])
    #expect(usage.status == 64 && scratch.contents.isEmpty, "\(usage.error)")
  }

  /// Where nothing would show the CNN, the option is warned about and not even loaded.
  @Test func ignoredWhereNothingShowsIt() throws {
    let scratch = ScratchFolder()
    let result = try CommandRunner.run([Self.cat, "-w", Self.vit, "--map", "rollout", "--cnn-weights", scratch.file("none"), "-o", scratch.file("o.png")])
    #expect(result.status == 0 && result.error.contains("warning: --cnn-weights adds the CNN's Grad-CAM to PNG figures"), "\(result.error)")
  }
}
