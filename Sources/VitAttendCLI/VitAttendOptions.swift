import ArgumentParser
import Foundation
import VisionAttention

// Each struct is one section of `--help` (`@OptionGroup(title:)` in `VitAttend`), in the
// order of the flow: input, model, map, appearance, output, folder runs. The long
// explanations are `vit-attend help TOPIC` pages (HelpTopic+Pages.swift).

/// Where `vit-attend` writes.
struct OutputOptions: ParsableArguments {
  @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Figure to write (PNG), for one image.", valueName: "png"))
  var out: String?

  @Option(name: .customLong("out-dir"), help: ArgumentHelp("Folder for one figure (or page, --format html) per image, named after each image.", valueName: "dir"))
  var outDir: String?

  @Option(help: "Interactive HTML page to write, for one image (vit-attend help page).")
  var html: String?

  @Option(help: "What --out-dir holds per image: a PNG figure or an interactive HTML page.")
  var format: OutputFormat = .png

  @Option(help: ArgumentHelp("Also write the raw numbers to this safetensors file, for one image (vit-attend help dump).", valueName: "safetensors"))
  var dump: String?

  @Option(name: .customLong("dump-attention"), help: "What --dump keeps of the attention (default: full while L·H·T² stays under --full-attention-limit, rows above; rows for --map pca and norms, which read no attention).")
  var dumpAttention: DumpAttention?

  @Option(name: .customLong("dump-dir"), help: ArgumentHelp("Folder for one safetensors dump per image, mirroring the input tree; the metadata maps tokens to input pixels.", valueName: "dir"))
  var dumpDir: String?

  @Option(help: "full: panels with title, captions and colour bar; bare: the overlay alone, at the model input's size.")
  var style: FigureStyle = .full

  @Flag(name: .customLong("per-head"), help: "Also write one figure per head beside each figure, NAME-head<h>.png (as DINO's visualize_attention.py does); for the default figure, --map query and --map cls.")
  var perHead = false
}

/// Which model runs, and on how many threads.
struct ModelOptions: ParsableArguments {
  @Option(
    name: [.customShort("w"), .long],
    help: ArgumentHelp("Checkpoint: a .safetensors file or a folder holding one, in timm, Hugging Face or this toolkit's layout (config.json and preprocessor_config.json beside it are read). Default: the built-in model.", valueName: "path"))
  var weights: String?

  @Option(
    name: .customLong("cnn-weights"),
    help: ArgumentHelp(
      "A CNN patch-classify trained (its RUN/checkpoint folder, --model cnn or cnn-sagan): the default figure and --map gradcam add the CNN's Grad-CAM for --class K (default: the CNN's own top-1), --dump adds it as cnn_gradcam.", valueName: "dir"))
  var cnnWeights: String?

  @Option(name: .customLong("head-count"), help: ArgumentHelp("Attention heads of a checkpoint without a config (default: its width / 64, with a warning).", valueName: "n"))
  var headCount: Int?

  @Option(help: ArgumentHelp("Input normalisation mean R,G,B of a checkpoint without one in its config (default: 0.5,0.5,0.5, with a warning).", valueName: "r,g,b"))
  var mean: ChannelValues?

  @Option(help: ArgumentHelp("Input normalisation std R,G,B of a checkpoint without one in its config (default: 0.5,0.5,0.5, with a warning).", valueName: "r,g,b"))
  var std: ChannelValues?

  @Option(help: ArgumentHelp("Compute threads (default: the processors this process may run on, or VISION_ATTENTION_THREADS).", valueName: "n"))
  var threads: Int?

  @Option(name: .customLong("batch-size"), help: ArgumentHelp("Images per model pass on folders (default: from the model's size, up to 16).", valueName: "n"))
  var batchSize: Int?

  @Option(
    name: .customLong("full-attention-limit"),
    help: ArgumentHelp("Largest L·H·T² (layers x heads x tokens²) kept as full attention matrices; above it attention runs tiled and only the rows a map needs are kept (vit-attend help high-resolution).", valueName: "values"))
  var fullAttentionLimit = 256 << 20
}

/// What is drawn.
struct MapOptions: ParsableArguments {
  @Option(name: [.customShort("m"), .long], help: "What to draw; the default figure when left out.")
  var map: MapKind?

  @Option(help: ArgumentHelp("A DETR checkpoint's figure and index show the objects whose class probability is above this (default 0.7, as DETR's notebook).", valueName: "p"))
  var score: Double?

  @Option(help: "Layer for cls, query, mask, attngrad and pca maps, counted from 0 (default: last; for pca the final tokens after the final norm, else block L's output).")
  var layer: Int?

  @Option(help: "One head, counted from 0 (default: the model's own choice, or --fuse).")
  var head: Int?

  @Option(help: "Combine heads: mean, max or min.")
  var fuse: HeadFusion?

  // .unconditional: "--query -5,10" is a value (refused as outside the image), not an option.
  @Option(
    name: [.customShort("q"), .long], parsing: .unconditional,
    help: ArgumentHelp(
      "Query point X,Y: pixels of the input file (170,113), or fractions of its width and height when written with a decimal point (0.4,0.3) (default: the image centre).",
      valueName: "x,y"), transform: { try QueryPoint.parse($0) })
  var query: QueryPoint?

  @Option(help: "Mass kept by --map mask, 0 to 1 (DINO's keep-mass masks; default 0.6).")
  var keep: Double?

  @Option(name: .customLong("discard-ratio"), help: "Fraction of the weakest weights dropped per layer by --map rollout (default 0).")
  var discardRatio: Double?

  @Option(
    help:
      "CNN for the receptive-field views: \(ConvStack.presetNames.joined(separator: ", ")), or layers like conv3p1,conv3p1,pool2s2 (at most \(ConvStack.maximumLayers) layers, a field of at most \(ReceptiveField.maximumExtent) pixels; default vgg16)."
  )
  var cnn: String?

  @Option(name: .customLong("class"), help: ArgumentHelp("Class the gradient maps (gradrollout, gradcam, attngrad) and --faithfulness explain: an index into the classifier's outputs (default: the top-1 class).", valueName: "k"))
  var targetClass: Int?

  @Option(
    name: .customLong("target-embedding"),
    help: ArgumentHelp(
      "For a model without a classifier: a safetensors file holding one vector (e.g. a text embedding); the gradient maps explain the cosine similarity between it and the model's pooled image embedding (--dump writes that embedding as `embedding`, and a --dump file works here too: its `embedding` is the target).",
      valueName: "safetensors"))
  var targetEmbedding: String?

  // .unconditional: "--foreground -0.5" is a threshold, not an option.
  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Which patches --map pca colours: none (all), auto (Otsu's threshold on the first component) or a threshold T on it; the patches below are black and the PCA is refitted on the rest (DINOv2's two-step recipe; with a shared or --pca-from fit they are only blacked out).",
      valueName: "none|auto|t"),
    transform: { argument in
      guard let foreground = PCAForeground(argument: argument) else { throw ValidationError("--foreground takes none, auto or a number, got '\(argument)'.") }
      return foreground
    })
  var foreground: PCAForeground?

  @Option(
    name: .customLong("pca-from"),
    help: ArgumentHelp("--map pca projects with this saved fit (a folder run's pca.safetensors) instead of fitting its own, so colours agree with that run.", valueName: "safetensors"))
  var pcaFrom: String?

  @Option(name: .customLong("norm-factor"), help: ArgumentHelp("--map norms marks tokens whose norm is above this many times their layer's median (default 4).", valueName: "x"))
  var normFactor: Double?

  // Last in the section: --faithfulness and --maps choose maps to score instead of drawing.
  @Option(help: ArgumentHelp("Instead of figures: score maps by deletion and insertion (Petsiuk et al. 2018) over the input images and write REPORT.json and the curves, REPORT.png (vit-attend help faithfulness).", valueName: "json"))
  var faithfulness: String?

  @Option(
    name: .customLong("maps"),
    help: "Maps --faithfulness scores, comma-separated, from \(FaithfulnessMap.allCases.map(\.rawValue).joined(separator: ", ")) (default \(FaithfulnessMap.defaults.map(\.rawValue).joined(separator: ",")); what the model lacks is skipped).")
  var faithfulnessMaps: String?

  /// `--maps` parsed, or the default list.
  func scoredMaps() throws -> [FaithfulnessMap] {
    guard let list = faithfulnessMaps else { return FaithfulnessMap.defaults }
    var seen: [FaithfulnessMap] = []
    for name in list.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
      guard let kind = FaithfulnessMap(rawValue: name) else {
        throw ValidationError("--maps: unknown map '\(name)'; choose from \(FaithfulnessMap.allCases.map(\.rawValue).joined(separator: ", ")).")
      }
      if !seen.contains(kind) { seen.append(kind) }
    }
    return seen
  }
}

/// How maps look.
struct AppearanceOptions: ParsableArguments {
  @Option(help: "Colormap for heat maps.")
  var colormap: Colormap = .inferno

  @Option(help: "Heat-map opacity, 0 to 1.")
  var alpha: Double = 0.6

  @Option(help: "How patch maps are upsampled to pixels.")
  var upsample: Upsampling = .bicubic
}

/// How images are read and sized.
struct InputOptions: ParsableArguments {
  @Option(help: "How the input is sized: fit to the model's size, or the image's own size; both crop to a multiple of the patch size (vit-attend help resizing).")
  var resize: ResizePolicy = .fit

  @Flag(name: .customLong("no-exif"), help: "Keep JPEGs as stored instead of turning them upright.")
  var noExif = false

  @Flag(name: .customLong("accept-partial"), help: "Draw damaged or truncated JPEGs as libjpeg fills them in.")
  var acceptPartial = false
}

/// A run over folders: failures, resuming, shards.
struct FolderRunOptions: ParsableArguments {
  @Flag(name: .customLong("keep-going"), help: "Record an image that fails in the index and go on; the run then exits with status 2.")
  var keepGoing = false

  @Flag(name: .customLong("skip-existing"), help: "Skip images whose outputs all exist, so a killed run resumes.")
  var skipExisting = false

  @Option(help: ArgumentHelp("Run shard K of N (K/N, 1 <= K <= N): image i of the sorted list goes to shard i mod N + 1, and the index is index.K-of-N.jsonl.", valueName: "k/n"))
  var shard: Shard?

  @Option(help: ArgumentHelp("Merge the shard indexes and summaries in this folder into index.jsonl and summary.json, and exit (vit-attend help folders).", valueName: "dir"))
  var merge: String?
}
