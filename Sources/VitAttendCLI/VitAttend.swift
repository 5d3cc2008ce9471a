import ArgumentParser
import Foundation
import VAImageIO
import VAInspection
import VARendering

extension Colormap: ExpressibleByArgument {}
extension Upsampling: ExpressibleByArgument {}
extension HeadFusion: ExpressibleByArgument {}

/// `vit-attend`: draws what self-attention looks at, beside a CNN's receptive field.
public struct VitAttend: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "vit-attend",
    abstract: "Draw a vision transformer's attention over an image, beside a CNN's receptive field.",
    discussion: """
      With no --map, the figure shows the input with the query point, the attention of the \
      patch under it, SAGAN attention over CNN feature maps at the same point, and the \
      receptive field of a CNN (--cnn) there: global and content-dependent against local and \
      fixed.

      Model: --weights loads a timm or Hugging Face ViT (for example a DINO ViT-S/16 \
      safetensors file); position embeddings are resampled to the image's grid as the \
      checkpoint's library does. Without --weights, the built-in default needs no weights. Its queries and keys are fixed \
      descriptors of each 16-pixel patch (orientation histograms and colour statistics over a \
      Gaussian window) plus 2D sin-cos positions, in four heads: appearance, colour, texture \
      and position. It is untrained: it shows which patches look alike, not what a network \
      learned.

      Resizing (--resize fit, the default): keep the aspect ratio, fit the longer side to the \
      model's size (480 pixels for the default model), then centre-crop to a multiple of the \
      patch size. --resize none uses the image at its own size, cropped down to a multiple of \
      the patch size. --query is always given in the input file's own pixels.

      --dump FILE.safetensors writes input [3,H,W], attn.{l} [heads,T,T] for every layer \
      (--dump-attention full, the default while L·H·T² stays under --full-attention-limit, \
      256 Mi values = 1 GiB) or attn_rows.{l} [heads,R,T] with attn_rows.tokens [R], the \
      token indices of the rows: 0 for the class token, then the query patch's token \
      (--dump-attention rows, the default above the limit), and metadata attention-dump \
      naming the choice; with --map rollout also rollout [T,T] (rollout_row [T] of the \
      class token, else the query's, above the limit), with --map distance also distance \
      [layers,heads], with --map rf also rf.size, rf.stride, rf.padding [layers] and erf [H,W], \
      with --map sagan also sagan.attn [queries, cells] (8-pixel cells of the feature map; \
      above --full-attention-limit the image is scaled down by the smallest whole k leaving \
      at most 2048 cells, of 8·k pixels).

      --html PAGE.html (one image) or --out-dir DIR --format html (one page per image) writes \
      an interactive page that needs no network: point at a patch to see where it looks, in \
      every layer and head, beside a CNN's view of the same point. The other options set the \
      page's first view; the page keeps its view in the URL fragment, e.g. \
      #map=query&layer=3&head=2&query=7,5&fuse=mean&cmap=inferno&alpha=0.6 (layers and heads \
      from 0, query = patch column,row). Size: every attention weight is one byte in base64, \
      so a page takes about 4/3 · (L·H·T·(T+4) + 3·R·(T+4) + N·(C+4)) bytes, plus the input as \
      PNG and 35 kB of script, style and colour tables, for L layers, H heads, T tokens, N patches, C 8-pixel cells of \
      the image, and R = 1 rollout row with a class token, else T: at 224x224 about 2.3 MB \
      for ViT-Ti/16, 4.2 MB for ViT-S/16, 8.0 MB for ViT-B/16. Above --full-attention-limit \
      the page holds each layer's queries and keys at 8 bits instead (about 4/3 · L·T·(2D + \
      8H) bytes, D = the model's width) and recomputes the hovered patch's rows in the browser \
      (weights within about 10% of their row's maximum), keeps rollout for one token, and \
      computes SAGAN on the image scaled down to at most 2048 cells; the page says so.

      High resolution: above --full-attention-limit (L·H·T² values, default 256 Mi) \
      attention runs tiled with an online softmax (no [T,T] matrix is ever held) and only \
      the rows a map needs are kept: the class token's and the query's per layer; rollout \
      and distance recompute each layer's rows from its saved queries and keys \
      (--discard-ratio then needs the full matrices and is refused).
      """)

  @Argument(help: "Input images (PNG or JPEG, recognised by content) or folders of them.")
  var inputs: [String]

  @Option(help: "Figure to write (PNG), for one image.")
  var out: String?

  @Option(name: .customLong("out-dir"), help: "Folder for one figure (or page, --format html) per image, named after each image.")
  var outDir: String?

  @Option(help: "Interactive HTML page to write, for one image (see above).")
  var html: String?

  @Option(help: "What --out-dir holds per image: a PNG figure or an interactive HTML page.")
  var format: OutputFormat = .png

  @Option(help: "Checkpoint: a .safetensors file or a folder holding one, in timm, Hugging Face or this toolkit's layout (config.json and preprocessor_config.json beside it are read). Default: the built-in model.")
  var weights: String?

  @Option(name: .customLong("head-count"), help: "Attention heads of a checkpoint without a config (default: its width / 64).")
  var headCount: Int?

  @Option(help: "What to draw; the default figure when left out.")
  var map: MapKind?

  @Option(help: "Layer for cls, query, mask maps, counted from 0 (default: last).")
  var layer: Int?

  @Option(help: "One head, counted from 0 (default: the model's own choice, or --fuse).")
  var head: Int?

  @Option(help: "Combine heads: mean, max or min.")
  var fuse: HeadFusion?

  @Option(help: "Query point X,Y in the input file's pixels (default: the image centre).")
  var query: QueryPoint?

  @Option(help: "Mass kept by --map mask, 0 to 1 (DINO's keep-mass masks).")
  var keep: Double = 0.6

  @Option(name: .customLong("discard-ratio"), help: "Fraction of the weakest weights dropped per layer by --map rollout.")
  var discardRatio: Double = 0

  @Option(help: "Colormap for heat maps.")
  var colormap: Colormap = .inferno

  @Option(help: "Heat-map opacity, 0 to 1.")
  var alpha: Double = 0.6

  @Option(help: "How patch maps are upsampled to pixels.")
  var upsample: Upsampling = .bicubic

  @Option(help: "How the input is sized (see above).")
  var resize: ResizePolicy = .fit

  @Option(help: "CNN for the receptive-field panel: \(ConvStack.presetNames.joined(separator: ", ")), or layers like conv3p1,conv3p1,pool2s2.")
  var cnn: String = "vgg16"

  @Option(help: "Also write the raw numbers to this safetensors file.")
  var dump: String?

  @Option(name: .customLong("dump-attention"), help: "What --dump keeps of the attention: full, rows or none (default: full while L·H·T² stays under --full-attention-limit, rows above).")
  var dumpAttention: DumpAttention?

  @Option(name: .customLong("full-attention-limit"), help: "Largest L·H·T² (layers x heads x tokens²) kept as full attention matrices; above it attention runs tiled and only the rows a map needs are kept.")
  var fullAttentionLimit = 256 << 20

  @Flag(name: .customLong("no-exif"), help: "Keep JPEGs as stored instead of turning them upright.")
  var noExif = false

  @Flag(name: .customLong("accept-partial"), help: "Draw damaged or truncated JPEGs as libjpeg fills them in.")
  var acceptPartial = false

  public init() {}

  public func validate() throws {
    guard out != nil || outDir != nil || dump != nil || html != nil else {
      throw ValidationError("Give --out FILE.png or --html PAGE.html (one image), --out-dir DIR (several) or --dump FILE.safetensors.")
    }
    if out != nil, outDir != nil { throw ValidationError("--out and --out-dir exclude each other.") }
    if html != nil, outDir != nil { throw ValidationError("--html names one page; for one page per image use --out-dir DIR --format html.") }
    if format != .png, outDir == nil { throw ValidationError("--format chooses what --out-dir holds; for one image use --html PAGE.html.") }
    if dump != nil, outDir != nil { throw ValidationError("--dump writes one file, so it takes one image; leave out --out-dir.") }
    guard (0...1).contains(alpha) else { throw ValidationError("--alpha must be between 0 and 1, got \(alpha).") }
    guard keep > 0, keep <= 1 else { throw ValidationError("--keep must be above 0 and at most 1, got \(keep).") }
    guard (0..<1).contains(discardRatio) else { throw ValidationError("--discard-ratio must be at least 0 and below 1, got \(discardRatio).") }
    if head != nil, fuse != nil { throw ValidationError("--head and --fuse exclude each other: one head, or a fusion of all.") }
    if let head, head < 0 { throw ValidationError("--head counts from 0, got \(head).") }
    if let layer, layer < 0 { throw ValidationError("--layer counts from 0, got \(layer).") }
    if dumpAttention != nil, dump == nil { throw ValidationError("--dump-attention chooses what --dump writes; give --dump FILE.safetensors too.") }
    guard fullAttentionLimit >= 0 else { throw ValidationError("--full-attention-limit must be at least 0, got \(fullAttentionLimit).") }
    if let headCount, headCount < 1 { throw ValidationError("--head-count must be at least 1, got \(headCount).") }
    do {
      _ = try ConvStack(parsing: cnn)
    } catch {
      throw ValidationError("--cnn: \(error)")
    }
  }

  public func run() throws {
    let plan = try OutputPlan.make(inputs: inputs, out: out, outDirectory: outDir, html: html, format: format)
    if dump != nil, plan.jobs.count > 1 {
      throw VitAttendError.needsOneImage(images: plan.jobs.count)
    }
    if let outDir {
      try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
    }
    let settings = try Settings(self)
    let model: any InspectableModel = try weights.map { try CheckpointModel(path: $0, headCount: headCount) } ?? DefaultModel()
    let pipeline = Pipeline(settings: settings, model: model)
    let progress = ProgressBar(total: plan.jobs.count)
    for (index, job) in plan.jobs.enumerated() {
      progress.update(done: index, current: job.input)
      try pipeline.process(job, dump: dump)
    }
    progress.finish()
  }
}
