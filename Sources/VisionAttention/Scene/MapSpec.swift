import VAInspection

/// One map, declared once in `MapRegistry`: its name, what it reads and needs, and where it
/// appears (the PNG figure, the bare overlay, the page, `--faithfulness`). Every consumer
/// (figures, `AttentionPlan`, the page payload, faithfulness, `vit-attend`'s warnings) reads
/// this instead of keeping its own list of maps.
public struct MapSpec: Sendable {
  /// Where the map comes from.
  public enum Role: Sendable, Equatable {
    /// A figure: `--map` names it (nil: the default figure, no `--map`).
    case figure(MapKind?)
    /// A view of the interactive page only.
    case pageView(String)
    /// A baseline `--faithfulness` scores, drawn nowhere.
    case baseline(String)
  }

  /// A figure, a page view or a baseline, with the name it goes by.
  public let role: Role
  /// The options the map reads besides `--map`.
  public let reads: MapReads
  /// What the run keeps for the map.
  public let needs: MapNeeds
  /// The names of the tensors the map adds to a dump (beside `input`, `logits` and the
  /// attention), each when it applies: `rollout` or `rollout_row`, `cnn_gradcam` with a
  /// trained CNN.
  public let dumpTensors: [String]
  /// `--per-head` draws one figure per head of it.
  public let perHead: Bool
  /// A folder run keeps a data-set summary of it (`summary.json`, `DatasetSummary`).
  public let datasetSummary: Bool
  /// How the interactive page shows it.
  public let page: PageRole
  /// How `--faithfulness` scores it; nil when it does not.
  public let faithfulness: FaithfulnessRole?
  /// The styled PNG figure (`--style full`); nil for a map that is not a figure.
  let figure: (@Sendable (Scene) throws(VisionAttentionError) -> RenderedFigure)?
  /// The one patch-grid map `--style bare` overlays, with the tensors a dump adds; nil for a
  /// figure of several maps or none (`heads`, `mask`, plots).
  let overlay: (@Sendable (Scene) throws(VisionAttentionError) -> (values: [Float], tensors: [NamedTensor]))?
  /// The `--style bare` picture of a map that is a picture rather than one heat map over the
  /// patches (`pca`'s RGB); nil for the others.
  let bare: (@Sendable (Scene) throws(VisionAttentionError) -> RenderedFigure)?

  /// A tensor a figure adds to its dump.
  typealias NamedTensor = (name: String, shape: [Int], values: [Float])

  /// The name on the command line, in the page's URL (`#map=`), in PNG text and dump
  /// metadata (`map`), in `index.jsonl` and in the faithfulness report: `MapKind`'s raw
  /// value, `default` for the default figure.
  public var name: String {
    switch role {
    case .figure(let kind): kind?.rawValue ?? "default"
    case .pageView(let name), .baseline(let name): name
    }
  }

  /// The `--map` value, nil for the default figure and for maps `--map` does not draw.
  public var kind: MapKind? {
    if case .figure(let kind) = role { return kind }
    return nil
  }

  /// Whether it is a figure (`--map` or the default figure).
  public var isFigure: Bool {
    if case .figure = role { return true }
    return false
  }

  /// Whether `--style bare` can draw it: it is one map over the patch grid.
  public var hasBareOverlay: Bool { overlay != nil || bare != nil }

  /// Whether it explains a class (`--class`, `--target-embedding`) through the model's gradients.
  public var needsGradients: Bool { needs.contains(.gradients) }

  init(
    _ role: Role, reads: MapReads = [], needs: MapNeeds = [], dumpTensors: [String] = [],
    perHead: Bool = false, datasetSummary: Bool = false, page: PageRole = .absent, faithfulness: FaithfulnessRole? = nil,
    figure: (@Sendable (Scene) throws(VisionAttentionError) -> RenderedFigure)? = nil,
    overlay: (@Sendable (Scene) throws(VisionAttentionError) -> (values: [Float], tensors: [NamedTensor]))? = nil,
    bare: (@Sendable (Scene) throws(VisionAttentionError) -> RenderedFigure)? = nil
  ) {
    self.role = role
    self.reads = reads
    self.needs = needs
    self.dumpTensors = dumpTensors
    self.perHead = perHead
    self.datasetSummary = datasetSummary
    self.page = page
    self.faithfulness = faithfulness
    self.figure = figure
    self.overlay = overlay
    self.bare = bare
  }
}

/// The options a map reads besides `--map`. `vit-attend` warns about one given for a map
/// that does not read it (unless a page, which shows every map, is written).
public struct MapReads: OptionSet, Sendable, Hashable {
  /// One bit per member below.
  public let rawValue: Int
  /// The set whose bits are `rawValue`.
  public init(rawValue: Int) { self.rawValue = rawValue }

  /// `--layer`: the map shows one layer (else every layer, or none).
  public static let layer = MapReads(rawValue: 1 << 0)
  /// `--head`: the map shows one head (else every head, or a fusion of all).
  public static let head = MapReads(rawValue: 1 << 1)
  /// `--fuse`: the map fuses the heads.
  public static let fuse = MapReads(rawValue: 1 << 2)
  /// `--query`: the map depends on the query point.
  public static let query = MapReads(rawValue: 1 << 3)
  /// `--keep`: the mass DINO's masks keep.
  public static let keep = MapReads(rawValue: 1 << 4)
  /// `--discard-ratio`: rollout drops the weakest weights, which needs whole matrices
  /// (`AttentionPlan` refuses it above the full-attention limit).
  public static let discardRatio = MapReads(rawValue: 1 << 5)
  /// `--cnn`: the CNN whose receptive field the map draws.
  public static let cnn = MapReads(rawValue: 1 << 6)
  /// `--cnn-weights`: a trained CNN's Grad-CAM beside the map (PNG figures and dumps).
  public static let cnnWeights = MapReads(rawValue: 1 << 7)
  /// `--class` and `--target-embedding`: what the gradients explain.
  public static let target = MapReads(rawValue: 1 << 8)
  /// `--foreground` and `--pca-from`: which patches the PCA colours, and a saved fit.
  public static let pca = MapReads(rawValue: 1 << 9)
  /// `--norm-factor`: where a token's norm counts as high.
  public static let normFactor = MapReads(rawValue: 1 << 10)
}

/// What a run must keep for a map (`AttentionPlan`).
public struct MapNeeds: OptionSet, Sendable, Hashable {
  /// One bit per member below.
  public let rawValue: Int
  /// The set whose bits are `rawValue`.
  public init(rawValue: Int) { self.rawValue = rawValue }

  /// A backward pass (an `AttributableModel`) through every attention weight: the plan keeps
  /// the full matrices at any size.
  public static let gradients = MapNeeds(rawValue: 1 << 0)
  /// Every layer's queries and keys above the full-attention limit: the map recomputes every
  /// layer's rows (rollout, mean distance), as the page does for the hovered patch.
  public static let queriesKeys = MapNeeds(rawValue: 1 << 1)
  /// The model's tokens (`ModelRun.features`: the final tokens and every block's output), and
  /// no attention beyond a few rows.
  public static let tokens = MapNeeds(rawValue: 1 << 2)
}

/// How the interactive page treats a map.
public struct PageRole: Sendable {
  /// What the page opens on when `--map` names the map.
  public enum Opening: Sendable, Equatable {
    /// The map itself (the page has a view of this name).
    case itself
    /// The model's readout: the class token's map, else the attention-pooling head's, else
    /// the query's.
    case readout
    /// The readout without `--query`, else the query's map.
    case readoutUnlessQuery
    /// The query's map: the page shows this figure in another panel (SAGAN, receptive
    /// field, the head thumbnails), or not at all.
    case query
  }

  /// What the page must hold to draw a view; the script says so when it lacks it.
  public enum Requirement: String, Sendable, Encodable {
    /// A class token.
    case classToken
    /// An attention-pooling head.
    case pool
    /// The class-specific maps (`PageAttribution`).
    case attribution
    /// The model's tokens (`InspectorPayload.TokenMaps`: `--map pca` and `--map norms`).
    case tokens
  }

  /// The label in the page's map menu when the page has a view of this name, else nil.
  public let label: String?
  /// What the page opens on when `--map` names the map.
  public let opens: Opening
  /// What the page must hold to draw the view; nil when nothing.
  public let requires: Requirement?
  /// For a view stored in the payload's `attribution`: its rows over the patches, `[1, N]`,
  /// or `[layers, N]` when the view shows one layer.
  let attributionRows: (@Sendable (Attribution) -> [Float])?

  init(label: String? = nil, opens: Opening, requires: Requirement? = nil, attributionRows: (@Sendable (Attribution) -> [Float])? = nil) {
    self.label = label
    self.opens = opens
    self.requires = requires
    self.attributionRows = attributionRows
  }

  /// A map the page has no view of: it opens on the query's map.
  static let absent = PageRole(opens: .query)

  /// Whether the page has a view of this name.
  public var isView: Bool { label != nil }
}

/// How `--faithfulness` scores a map.
public struct FaithfulnessRole: Sendable {
  /// In `--maps`' default list.
  public let byDefault: Bool
  /// The patch-grid map for one image, or why the model lacks it; `seed` is the image's
  /// position in the run.
  let score: @Sendable (AttributionRecordPair, UInt64) -> Result<[Float], FaithfulnessSkip>
}
