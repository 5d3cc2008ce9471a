/// Errors of drawing attention (geometry, options that do not fit the model, page
/// resources); errors of the modules below (images, weights) pass through with their own
/// messages. The messages name `vit-attend`'s options, the facade's settings of the same names.
public enum VisionAttentionError: Error, Equatable, CustomStringConvertible {
  /// An image too thin to enlarge to one patch per side (see `InputGeometry`).
  case imageTooSmall(width: Int, height: Int, patchSize: Int)
  /// A folder given as input that holds no `.png`, `.jpg` or `.jpeg` file.
  case noImages(folder: String)
  /// An input path that names no file or folder.
  case notFound(path: String)
  /// An output path that is one of the input images; nothing is written over an input.
  case wouldOverwriteInput(path: String)
  /// Two inputs (`first`, `second`) whose outputs would land on the same path `output`.
  case duplicateOutputName(output: String, first: String, second: String)
  /// A `--query` pixel outside the `width`×`height` input file.
  case queryOutsideImage(x: Int, y: Int, width: Int, height: Int)
  /// `crop` says how the image was cropped ("the image resized to 480x360 is cropped to 480x352").
  case queryInCroppedStrip(x: Int, y: Int, keptX: ClosedRange<Int>, keptY: ClosedRange<Int>, crop: String)
  /// A `--layer` index not in `0..<layers`.
  case layerOutOfRange(layer: Int, layers: Int)
  /// A `--head` index not in `0..<heads`.
  case headOutOfRange(head: Int, heads: Int)
  /// A map read from the class token's row (`cls`, for one) asked of a model without a class token.
  case needsClassToken(map: String)
  /// An output file that could not be written; `reason` is the system's message.
  case writeFailed(path: String, reason: String)
  /// `--out`, `--html` or `--dump` (single-file outputs) given with `images` inputs; several need
  /// `--out-dir`.
  case needsOneImage(images: Int)
  /// A page resource (script, style sheet, template) missing from or damaged in the module bundle.
  case missingResource(name: String)
  /// `--style bare` asked for a map that is not a single overlay (only the default figure's,
  /// `query`, `cls` or `rollout` are).
  case bareNeedsOneMap(map: String)
  /// Shards that do not belong to one run (another model or map, or a different shard count).
  case summariesDiffer(first: String, second: String)
  /// A map (`what`, such as rollout) that needs every layer's full `[heads, T, T]` matrix, `values`
  /// values here, above `--full-attention-limit` (`limit`).
  case needsFullAttention(what: String, values: Int, limit: Int)
  /// A merge over a folder that holds no `index.K-of-N.jsonl` or `summary.K-of-N.json` shard file.
  case nothingToMerge(folder: String)
  /// A line of a shard's `index.jsonl` that does not decode as an `IndexRecord`.
  case malformedIndex(path: String, line: Int, reason: String)
  /// A gradient map or curve that needs a class, asked of a model without a classification head and
  /// without a `--target-embedding`.
  case noClassifier
  /// A `--class` index not in `0..<classes` of the ViT's classifier.
  case classOutOfRange(class: Int, classes: Int)
  /// A `--target-embedding` whose length `got` differs from the model's image-embedding width
  /// `expected`.
  case embeddingSizeMismatch(got: Int, expected: Int)
  /// A gradient map (Grad-CAM, attention × gradient, ...) asked of the built-in model, which is
  /// untrained and has no classifier.
  case targetNeedsCheckpoint(map: String)
  /// `--faithfulness` without a class to follow: neither a classifier's `--class` nor a
  /// `--target-embedding`.
  case faithfulnessNeedsClass
  /// A `--target-embedding` file without one usable vector (`[D]` or `[1, D]`, finite, not all
  /// zeros).
  case badTargetEmbedding(path: String, reason: String)
  /// `--class` beyond the outputs of the `--cnn-weights` CNN.
  case cnnClassOutOfRange(class: Int, classes: Int, folder: String)
  /// `--map pca` or `--map norms` on a model that does not give its tokens (the built-in
  /// descriptor model).
  case needsTokens(map: String)
  /// `--map pca` over fewer than 4 patches (or foreground patches), or tokens of fewer than 3
  /// channels: three principal components need more.
  case tooFewForPCA(what: String, count: Int, needed: Int)
  /// `--pca-from` a fit whose dimension is not the tokens'.
  case pcaDimensionMismatch(path: String, fit: Int, tokens: Int)
  /// `--pca-from` a file that is not a saved fit (`pca.safetensors`).
  case badPCAFile(path: String, reason: String)
  /// An option or map that a model family does not have (a class token's map on Swin,
  /// `--map encoder` on a ViT): `what` names it, `family` is "ViT", "Swin" or "DETR".
  case notForFamily(what: String, family: String, reason: String)

  /// The message as `vit-attend` prints it: names the option and the observed and allowed values.
  public var description: String {
    switch self {
    case .imageTooSmall(let w, let h, let p):
      "image is \(w)x\(h) pixels: enlarged to one \(p)-pixel patch across its shorter side, its longer side would pass \(InputGeometry.longestEnlargedSide) pixels"
    case .noImages(let folder):
      "\(folder): folder holds no .png, .jpg or .jpeg files"
    case .notFound(let path):
      "\(path): no such file or folder"
    case .wouldOverwriteInput(let path):
      "\(path): refusing to write over an input image"
    case .duplicateOutputName(let output, let first, let second):
      "\(first) and \(second) would both be written to \(output); rename one or run them separately"
    case .queryOutsideImage(let x, let y, let w, let h):
      "--query \(x),\(y) is outside the \(w)x\(h) image (x from 0 to \(w - 1), y from 0 to \(h - 1))"
    case .queryInCroppedStrip(let x, let y, let keptX, let keptY, let crop):
      "--query \(x),\(y) lies in a strip that cropping removes (\(crop)); the model sees x \(keptX.lowerBound)...\(keptX.upperBound) and y \(keptY.lowerBound)...\(keptY.upperBound) of the input"
    case .layerOutOfRange(let layer, let layers):
      "--layer \(layer) is out of range: the model has \(plural(layers, "layer")) (0...\(layers - 1))"
    case .headOutOfRange(let head, let heads):
      "--head \(head) is out of range: the model has \(plural(heads, "head")) (0...\(heads - 1))"
    case .needsClassToken(let map):
      "--map \(map) needs a model with a class token; this model has none (try --map query or rollout)"
    case .needsOneImage(let images):
      "--out, --html and --dump take one image, got \(images); use --out-dir for several"
    case .missingResource(let name):
      "\(name): the page resource compiled into vit-attend is damaged; rebuild it"
    case .bareNeedsOneMap(let map):
      "--style bare draws one overlay: the default figure's, --map query, cls or rollout, not \(map == "default" ? "the default figure" : "--map " + map)"
    case .needsFullAttention(let what, let values, let limit):
      "\(what) needs every layer's full attention matrix, \(values) values here, above the \(limit) kept in full (raise --full-attention-limit, or use a smaller image)"
    case .summariesDiffer(let first, let second):
      "cannot merge summaries of different runs: \(first) and \(second)"
    case .nothingToMerge(let folder):
      "\(folder): holds no shard files (index.K-of-N.jsonl, summary.K-of-N.json) to merge"
    case .malformedIndex(let path, let line, let reason):
      "\(path):\(line): not an index record: \(reason)"
    case .noClassifier:
      "this model has no classifier, so a gradient map has no class to explain: give a checkpoint with a classification head, or --target-embedding FILE.safetensors"
    case .classOutOfRange(let k, let classes):
      "--class \(k) is out of range: the classifier has \(classes) outputs (0...\(classes - 1))"
    case .embeddingSizeMismatch(let got, let expected):
      "--target-embedding has \(got) values; the model's image embedding has \(expected)"
    case .targetNeedsCheckpoint(let map):
      "\(map) needs gradients of a classifier: give --weights with a ViT checkpoint that has one (the built-in model is untrained and has no classifier)"
    case .faithfulnessNeedsClass:
      "--faithfulness follows a class's probability, or for a model without a classifier the cosine similarity to --target-embedding FILE.safetensors: give one of them"
    case .badTargetEmbedding(let path, let reason):
      "\(path): not a target embedding: \(reason)"
    case .cnnClassOutOfRange(let k, let classes, let folder):
      "--class \(k) is out of range for the CNN of --cnn-weights \(folder): it has \(classes) outputs (0...\(classes - 1))"
    case .writeFailed(let path, let reason):
      "\(path): could not write: \(reason)"
    case .needsTokens(let map):
      "--map \(map) reads the model's tokens: give --weights with a ViT checkpoint (the built-in descriptor model has no tokens)"
    case .tooFewForPCA(let what, let count, let needed):
      "--map pca needs at least \(needed) \(what) for three principal components, got \(count)"
    case .pcaDimensionMismatch(let path, let fit, let tokens):
      "--pca-from \(path): the fit is over \(fit)-channel tokens but this model's tokens have \(tokens) channels"
    case .badPCAFile(let path, let reason):
      "--pca-from \(path): not a saved PCA fit (mean [D], components [3, D], explained_variance [3]): \(reason)"
    case .notForFamily(let what, let family, let reason):
      "\(what) does not apply to a \(family) checkpoint: \(reason)"
    }
  }
}
