import Foundation
import Testing

/// The streaming path (above `--full-attention-limit`) on the families issue 26 added: rotary
/// positions (DINOv3 in both libraries, timm's mixed RoPE, Perception Encoder), RMSNorm
/// (AIMv2) and NaFlex's per-image position tables. Above the limit the forward runs tiled and
/// each kept row is recomputed from the queries and keys the layer observed, so a rotation
/// applied in one place and not the other, or a table resized differently, would show here as
/// rows that differ from the full matrices of the same run below the limit.
@Suite struct RotaryHighResolutionTests {
  static let families = ["timm_dinov3", "hf_dinov3", "timm_rope_mixed", "timm_pe_core", "timm_aimv2", "timm_naflex", "hf_siglip2_vision"]

  func dump(_ family: String, _ options: [String], to path: String) throws -> DumpFile {
    let folder = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/\(family)")
    // NaFlex SigLIP-2 is sized by its processor (the default fit); the others keep their pixels.
    let resize = family.hasPrefix("hf_siglip2") ? [] : ["--resize", "none"]
    let result = try CommandRunner.run([folder + "/input.png", "--weights", folder, "--query", "0.6,0.4", "--dump", path] + resize + options)
    #expect(result.status == 0, "\(family): \(result.error)")
    return try DumpFile(path: path)
  }

  @Test(arguments: families) func keptRowsMatchTheFullMatrices(family: String) throws {
    let scratch = ScratchFolder()
    // 2 layers x 2-4 heads x ~200² tokens is above 10,000 values: the streaming path.
    let rows = try dump(family, ["--full-attention-limit", "10000", "--map", "rollout"], to: scratch.file("rows.safetensors"))
    let full = try dump(family, ["--map", "rollout"], to: scratch.file("full.safetensors"))
    #expect(rows.metadata["attention-dump"] == "rows" && full.metadata["attention-dump"] == "full", "\(family)")
    let tokens = try #require(rows.tensors["attn_rows.tokens"]).map { Int($0) }
    let shape = try #require(full.shapes["attn.0"])
    let (heads, t) = (shape[0], shape[1])
    #expect(!tokens.isEmpty)
    var layer = 0
    while let kept = rows.tensors["attn_rows.\(layer)"] {
      let matrix = try #require(full.tensors["attn.\(layer)"])
      for head in 0..<heads {
        for (r, token) in tokens.enumerated() {
          let got = kept[((head * tokens.count + r) * t)..<((head * tokens.count + r + 1) * t)]
          let want = matrix[((head * t + token) * t)..<((head * t + token + 1) * t)]
          let error = zip(got, want).map { abs($0 - $1) }.max() ?? .infinity
          // The tiled forward and the row recomputation against the plain path: float rounding.
          #expect(error < 1e-5, "\(family) layer \(layer) head \(head) token \(token): rows differ by \(error)")
        }
      }
      layer += 1
    }
    #expect(layer == 2, "\(family): \(layer) layers of rows")
    // Rollout carried down the layers as one row against the full product's row of the same token.
    let row = try #require(rows.tensors["rollout_row"]), matrix = try #require(full.tensors["rollout"]), first = tokens[0]
    let error = zip(row, matrix[(first * t)..<((first + 1) * t)]).map { abs($0 - $1) }.max() ?? .infinity
    #expect(error < 1e-5, "\(family) rollout row: differs by \(error)")
  }
}
