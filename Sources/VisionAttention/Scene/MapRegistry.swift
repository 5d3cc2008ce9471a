import VAInspection

/// Every map, each declared once (`MapSpec`): the `--map` figures (`MapKind`), the default
/// figure, the page's attention-pooling view and `--faithfulness`' random baseline. Adding a
/// map is one entry here plus its drawing code; `MapRegistryTests` fails for a `MapKind`
/// without an entry or an entry a consumer cannot use.
public enum MapRegistry {
  /// In the order the page's menu and `--maps` list them.
  public static let all: [MapSpec] = [
    defaultFigure, query, cls, rollout, mask, pool, heads, rf, distance, posembed, sagan, gradrollout, gradcam, attngrad, pca, norms, encoder, random,
  ]

  /// The entry of `--map kind` (nil: the default figure).
  public static func spec(_ kind: MapKind?) -> MapSpec {
    guard let kind else { return defaultFigure }
    switch kind {
    case .query: return query
    case .cls: return cls
    case .rollout: return rollout
    case .mask: return mask
    case .heads: return heads
    case .rf: return rf
    case .distance: return distance
    case .posembed: return posembed
    case .sagan: return sagan
    case .gradrollout: return gradrollout
    case .gradcam: return gradcam
    case .attngrad: return attngrad
    case .pca: return pca
    case .norms: return norms
    case .encoder: return encoder
    }
  }

  /// The entry named `name`, nil for none.
  public static func spec(named name: String) -> MapSpec? { all.first { $0.name == name } }

  /// The page's views, in its menu's order; the payload sends this list (`maps`).
  public static var pageViews: [MapSpec] { all.filter(\.page.isView) }

  // MARK: - The entries

  /// No `--map`: input, the model's readout (or the query's map), SAGAN and the receptive field.
  static let defaultFigure = MapSpec(
    .figure(nil), reads: [.layer, .head, .fuse, .query, .cnn, .cnnWeights], dumpTensors: ["cnn_gradcam"], perHead: true,
    page: PageRole(opens: .readoutUnlessQuery),
    figure: { scene throws(VisionAttentionError) in try scene.defaultFigure() },
    overlay: { scene throws(VisionAttentionError) in scene.readoutOverlay() })

  static let query = MapSpec(
    .figure(.query), reads: [.layer, .head, .fuse, .query], perHead: true,
    page: PageRole(label: "query patch", opens: .itself),
    figure: { scene throws(VisionAttentionError) in scene.queryFigure() },
    overlay: { scene throws(VisionAttentionError) in scene.queryOverlay() })

  static let cls = MapSpec(
    .figure(.cls), reads: [.layer, .head, .fuse], perHead: true, datasetSummary: true,
    page: PageRole(label: "class token", opens: .readout, requires: .classToken),
    faithfulness: FaithfulnessRole(byDefault: true, score: FaithfulnessRun.classTokenScore),
    figure: { scene throws(VisionAttentionError) in try scene.classTokenFigure() },
    overlay: { scene throws(VisionAttentionError) in try scene.classTokenOverlay() })

  static let rollout = MapSpec(
    .figure(.rollout), reads: [.fuse, .query, .discardRatio], needs: .queriesKeys, dumpTensors: ["rollout", "rollout_row"],
    datasetSummary: true, page: PageRole(label: "rollout", opens: .itself),
    faithfulness: FaithfulnessRole(byDefault: true) { record, _ in .success(record.attribution.patchMap(of: record.run.rollout(.mean))) },
    figure: { scene throws(VisionAttentionError) in scene.rolloutFigure() },
    overlay: { scene throws(VisionAttentionError) in scene.rolloutOverlay() })

  static let mask = MapSpec(
    .figure(.mask), reads: [.layer, .head, .fuse, .query, .keep],
    page: PageRole(label: "keep-mass mask", opens: .itself),
    figure: { scene throws(VisionAttentionError) in try scene.maskFigure() })

  /// The attention-pooling head's query over the patches: a page view of its own; the
  /// figures draw it for `--map cls` (and the default figure) on a model without a class token.
  static let pool = MapSpec(.pageView("pool"), page: PageRole(label: "attention-pooling head", opens: .itself, requires: .pool))

  static let heads = MapSpec(
    .figure(.heads), reads: [.query],
    figure: { scene throws(VisionAttentionError) in scene.headsFigure() })

  static let rf = MapSpec(
    .figure(.rf), reads: [.query, .cnn], dumpTensors: ["rf.size", "rf.stride", "rf.padding", "erf"],
    figure: { scene throws(VisionAttentionError) in scene.receptiveFieldFigure() })

  static let distance = MapSpec(
    .figure(.distance), reads: [.cnn], needs: .queriesKeys, dumpTensors: ["distance"], datasetSummary: true,
    page: PageRole(opens: .readoutUnlessQuery),
    figure: { scene throws(VisionAttentionError) in scene.distanceFigure() })

  static let posembed = MapSpec(
    .figure(.posembed), page: PageRole(opens: .readoutUnlessQuery),
    figure: { scene throws(VisionAttentionError) in scene.positionFigure() })

  static let sagan = MapSpec(
    .figure(.sagan), reads: [.query], dumpTensors: ["sagan.attn"],
    figure: { scene throws(VisionAttentionError) in scene.saganFigure() })

  static let gradrollout = gradientMap(.gradrollout, label: "gradient rollout", byDefault: true, Scene.gradRollout)
  static let gradcam = gradientMap(.gradcam, label: "Grad-CAM", byDefault: true, reads: .cnnWeights, extraTensors: ["cnn_gradcam"], Scene.gradCAM)
  static let attngrad = gradientMap(.attngrad, label: "attention \u{D7} gradient", byDefault: false, reads: .layer, Scene.attentionGradient)

  /// The patch tokens of `--layer` (the final tokens without it) on their first three
  /// principal components; reads no attention.
  static let pca = MapSpec(
    .figure(.pca), reads: [.layer, .pca], needs: .tokens, dumpTensors: ["features", "pca", "foreground", "foreground_threshold"],
    page: PageRole(label: "PCA of patch features", opens: .itself, requires: .tokens),
    figure: { scene throws(VisionAttentionError) in try scene.pcaFigure() },
    bare: { scene throws(VisionAttentionError) in try scene.pcaBareFigure() })

  /// Every token's norm after each block, high-norm tokens marked; reads no attention.
  static let norms = MapSpec(
    .figure(.norms), reads: .normFactor, needs: .tokens, dumpTensors: ["norms"],
    page: PageRole(label: "token norms", opens: .itself, requires: .tokens),
    figure: { scene throws(VisionAttentionError) in try scene.normsFigure() })

  /// DETR's encoder map (`DETRPipeline` draws it); a ViT's scene refuses it by name.
  static let encoder = MapSpec(
    .figure(.encoder), reads: [.layer, .query],
    figure: { _ throws(VisionAttentionError) in
      throw .notForFamily(what: "--map encoder", family: "vision transformer", reason: "it draws a DETR checkpoint's encoder self-attention (DETR's Figure 3); a ViT's patch-to-patch attention is --map query")
    })

  /// A random order of the patches: the baseline every map should beat.
  static let random = MapSpec(.baseline("random"), faithfulness: FaithfulnessRole(byDefault: true, score: FaithfulnessRun.randomScore))

  /// A class-specific map from `Attribution`: a figure, a bare overlay, a page view from the
  /// payload's `attribution`, and a faithfulness score at the last layer. `--cnn-weights`
  /// adds the CNN's Grad-CAM beside `gradcam` only.
  private static func gradientMap(
    _ kind: MapKind, label: String, byDefault: Bool, reads: MapReads = [], extraTensors: [String] = [],
    _ draw: @escaping @Sendable (Attribution, _ layer: Int) -> Scene.GradientMap
  ) -> MapSpec {
    MapSpec(
      // The query is not read, but giving one has never been warned about (and it moves the
      // centre patch in PNG text), so it stays declared.
      .figure(kind), reads: reads.union([.target, .query]), needs: .gradients,
      dumpTensors: [kind.rawValue] + extraTensors,
      page: PageRole(
        label: label, opens: .itself, requires: .attribution,
        attributionRows: { a in
          // A map of one layer keeps every layer's row, so the page's layer slider moves it.
          reads.contains(.layer) ? a.attentionGradient.indices.flatMap { draw(a, $0).values } : draw(a, 0).values
        }),
      faithfulness: FaithfulnessRole(byDefault: byDefault) { record, _ in
        .success(draw(record.attribution, record.attribution.attentionGradient.count - 1).values)
      },
      figure: { scene throws(VisionAttentionError) in try scene.gradientFigure(draw) },
      overlay: { scene throws(VisionAttentionError) in try scene.gradientOverlay(draw) })
  }
}

extension MapKind {
  /// This map's registry entry.
  public var spec: MapSpec { MapRegistry.spec(self) }
}
