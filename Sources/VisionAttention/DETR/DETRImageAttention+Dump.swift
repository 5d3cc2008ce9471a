import Foundation
import VAModels
import VASafetensors

/// `--dump` of a DETR run: the numbers behind Figures 3 and 6.
extension DETRImageAttention {
  /// Writes the dump to `path` tensor by tensor (through a temporary file and a rename):
  /// `input` `[3, H, W]` (DETR's normalisation), `detr.logits` `[Q, C+1]`, `detr.boxes`
  /// `[Q, 4]` (cx, cy, w, h as fractions of the input), `detr.encoder.{l}` `[heads, S, S]`,
  /// `detr.decoder_self.{l}` `[heads, Q, Q]`, `detr.decoder_cross.{l}` `[heads, Q, S]`, with
  /// `S` = feature rows × columns, row-major. `metadata` is added to `metadata(input:)`.
  public func writeDump(to path: String, input: String, metadata extra: [String: String] = [:]) throws {
    typealias Entry = SafetensorsStreamWriter.Entry
    let tensors = [("input", self.input)] + output.namedTensors.map { ($0.name, $0.tensor) }
    let metadata = metadata(input: input).merging(extra) { _, given in given }
    let writer = try SafetensorsStreamWriter(path: path, entries: tensors.map { Entry($0.0, shape: $0.1.shape) }, metadata: metadata)
    for (_, tensor) in tensors { try writer.write(tensor.scalars) }
    try writer.finish()
  }

  /// What maps the tensors back to the input file: `feature_height`, `feature_width` (memory
  /// index `s` is cell `(s / feature_width, s % feature_width)`), `feature_stride` (32: a cell
  /// covers 32×32 input pixels from the top left), `original_width`, `original_height` (the
  /// file), `input_width`, `input_height` (the model input; file pixel `x` is input pixel
  /// `x · input_width / original_width`), `mean`, `std` (the normalisation), `labels` (class
  /// names in index order, comma-separated), `input`, `model` and `Software`.
  public func metadata(input: String) -> [String: String] {
    let preprocessing = model.imported.preprocessing
    let labels = (0..<model.imported.model.classes).map(label)
    return [
      "Software": "vit-attend", "input": input, "model": model.path,
      "feature_height": String(output.featureHeight), "feature_width": String(output.featureWidth),
      "feature_stride": String(output.featureStride),
      "original_width": String(originalWidth), "original_height": String(originalHeight),
      "input_width": String(image.width), "input_height": String(image.height),
      "mean": preprocessing.mean.map { String($0) }.joined(separator: ","),
      "std": preprocessing.std.map { String($0) }.joined(separator: ","),
      "labels": labels.joined(separator: ","),
    ]
  }
}
