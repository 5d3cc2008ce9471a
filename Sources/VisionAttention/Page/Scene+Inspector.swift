import Foundation
import VAImageIO
import VAInspection

/// The interactive page's data, from the same run and settings as the PNG figures.
extension Scene {
  /// The map the page opens on: `--map` when the page has it, else what the default figure
  /// shows (the model's readout when no `--query` was given).
  func initialPageMap() -> String {
    // The model's own readout: the class token, else an attention-pooling head; without
    // either the page opens on the query's map (and for --map cls says why, `note`).
    let readout = attention.hasClassToken ? MapRegistry.cls : attention.pool != nil ? MapRegistry.pool : MapRegistry.query
    let spec = MapRegistry.spec(settings.map)
    switch spec.page.opens {
    case .itself: return spec.name
    case .readout: return readout.name
    case .readoutUnlessQuery: return settings.query == nil ? readout.name : MapRegistry.query.name
    // The page always shows the CNN views and every head; these figures have no page view.
    case .query: return MapRegistry.query.name
    }
  }

  /// The maps of the tokens the page offers (`pca` as `--map pca` draws it, `norms` of the
  /// patches per layer), or why it offers none: the run kept no tokens (the built-in model).
  /// - Throws: what `--map pca` would throw when `--map pca` was asked for.
  func pageTokenMaps() throws(VisionAttentionError) -> (maps: InspectorPayload.TokenMaps?, note: String) {
    guard let features = run.features else {
      let why = model is CheckpointModel ? "this run kept no tokens (ImageAttention's features: true keeps them)" : "the built-in descriptor model has no tokens (give --weights)"
      return (nil, why)
    }
    let result: PatchPCAResult
    do {
      result = try patchPCA().result
    } catch {
      if settings.map == .pca { throw error }
      return (nil, "no PCA: \(error.description)")
    }
    let n = attention.patchCount, p = attention.prefixTokens
    let norms = features.norms.flatMap { $0[p...] }
    let maps = InspectorPayload.TokenMaps(pca: QuantisedRows(result.colours, rowLength: n), norms: QuantisedRows(norms, rowLength: n))
    return (maps, "")
  }

  /// The class-specific maps the page offers, or why it offers none: the model cannot be
  /// differentiated (the built-in one), has no classifier and no --target-embedding, or the
  /// image is above --full-attention-limit (the backward pass keeps every layer's L·H·T²).
  /// - Throws: when `--map` asked for a gradient map, or `--class`/`--target-embedding` does
  ///   not fit the model, what the PNG figure would throw (a map asked for is computed at
  ///   any size, as the figure computes it).
  func pageAttribution() throws(VisionAttentionError) -> (maps: InspectorPayload.PageAttribution?, note: String) {
    let a: Attribution
    if MapRegistry.spec(settings.map).needsGradients {
      a = try attribution()
    } else {
      guard attention.isFull else {
        return (nil, "gradient maps are not computed above --full-attention-limit \(settings.fullAttentionLimit)")
      }
      guard model is any AttributableModel else {
        return (nil, "no gradient maps: the built-in model is untrained and has no classifier (give --weights)")
      }
      do {
        a = try attribution()
      } catch .noClassifier where settings.target == .topClass {
        // Optional: a tower without a target; a --class or --target-embedding that does
        // not fit the model is the user's error and stops the run as a figure's would.
        return (nil, "no gradient maps: \(VisionAttentionError.noClassifier.description)")
      }
    }
    let n = a.gridWidth * a.gridHeight
    var maps: [String: QuantisedRows] = [:]
    for view in MapRegistry.pageViews {
      if let rows = view.page.attributionRows { maps[view.name] = QuantisedRows(rows(a), rowLength: n) }
    }
    return (.init(target: Self.describeTarget(a, names: model.classNames), maps: maps), "")
  }

  /// Quantises every layer and head, rollout for each fusion, and the SAGAN rows under every
  /// patch. Complexity: O(L·H·T²), plus O(L·T³) for the rollouts of a model without a class
  /// token. A rows record (above `--full-attention-limit`) gives queries and keys instead of
  /// weights, one rollout row per fusion and SAGAN on a scaled-down image: O(L·T·C) bytes,
  /// O(L·H·T²·d) time for the rollouts.
  func inspectorPayload(input: String) throws -> InspectorPayload {
    let record = attention
    let t = record.tokens
    var weights: QuantisedRows?, queriesKeys: QuantisedQueriesKeys?, rolloutTokens: [Int]?
    var rollouts: [String: QuantisedRows] = [:]
    var note = ""
    let sagan: InspectorPayload.SAGANRows
    if record.isFull {
      var all = QuantisedRows(rowLength: t)
      for layer in record.layers { all.append(layer) }
      weights = all
      // A class-token model's rollout map is the class token's row; without one, any patch
      // can be the query, so every row goes in.
      for fusion in HeadFusion.allCases {
        let values =
          record.hasClassToken
          ? record.rolloutRow(0, fusion, discardRatio: settings.discardRatio)
          : record.rollout(fusion, discardRatio: settings.discardRatio)
        rollouts[fusion.rawValue] = QuantisedRows(values, rowLength: t)
      }
      sagan = saganRowsUnderPatches()
    } else {
      queriesKeys = QuantisedQueriesKeys(record)
      let token = record.hasClassToken ? 0 : record.token(column: patch.column, row: patch.row)
      rolloutTokens = [token]
      // One recomputation of every layer's rows serves all three fusions (the discard ratio
      // is 0 here: AttentionPlan refuses any other above the limit).
      for (fusion, row) in zip(HeadFusion.allCases, record.rolloutRows(token, fusions: HeadFusion.allCases)) {
        rollouts[fusion.rawValue] = QuantisedRows(row, rowLength: t)
      }
      sagan = saganRowsScaled()
      let values = record.layers.count * record.heads * t * t
      note =
        "\(t) tokens: the \(values) attention weights (L·H·T²) are above --full-attention-limit \(settings.fullAttentionLimit), "
        + "so this page keeps each layer's queries and keys at 8 bits and recomputes the rows of the patch under the pointer "
        + "(8-bit rounding moves weights by up to about 10% of their row's maximum); "
        + "rollout is kept for \(record.hasClassToken ? "the class token" : "patch (\(patch.column),\(patch.row))") only; "
        + "SAGAN uses \(sagan.cell)-pixel cells."
    }

    if settings.map == .cls, !record.hasClassToken, record.pool == nil {
      note = (note.isEmpty ? "" : note + " ") + "This model has no class token, so the page opens on the query patch's map."
    }
    let (attribution, attributionNote) = try pageAttribution()
    let (tokenMaps, tokenMapsNote) = try pageTokenMaps()
    // Every head's row, so the page's head selector and its one fusion helper (`selected`
    // in inspector-maps.js, as `AttentionRecord.poolMap` fuses) have what they read.
    var pool: QuantisedRows?
    if record.pool != nil {
      pool = QuantisedRows(rowLength: record.patchCount)
      for h in 0..<record.poolHeads { pool?.append(record.poolMap(.head(h))!) }
    }

    // The page keeps a head even while it shows a fusion, so ← and → have somewhere to start.
    let (head, fuse): (Int, String) =
      switch selection {
      case .head(let h): (h, "none")
      case .fused(let fusion): (0, fusion.rawValue)
      }
    let initial = InspectorPayload.ViewState(
      map: initialPageMap(), layer: layer, head: head, fuse: fuse,
      query: [patch.column, patch.row], cmap: settings.colormap.rawValue,
      // Settings keeps alpha as a Float; rounding keeps 0.6 from reading 0.6000000238.
      alpha: (Double(settings.alpha) * 1000).rounded() / 1000, keep: settings.keep)

    return InspectorPayload(
      model: model.name, input: (input as NSString).lastPathComponent,
      image: .init(width: image.width, height: image.height, png: Data(try image.pngData()).base64EncodedString()),
      patchSize: model.patchSize, gridWidth: record.gridWidth, gridHeight: record.gridHeight,
      prefixTokens: record.prefixTokens, hasClassToken: record.hasClassToken,
      layers: record.layers.count, heads: record.heads, tokens: t,
      headNames: (0..<record.heads).compactMap { model.headName($0) },
      attention: weights, queriesKeys: queriesKeys, note: note,
      rolloutDiscardRatio: settings.discardRatio, rollout: rollouts, rolloutTokens: rolloutTokens,
      pool: pool, attribution: attribution, attributionNote: attributionNote, tokenMaps: tokenMaps, tokenMapsNote: tokenMapsNote,
      sagan: sagan, cnn: cnnField(),
      colormaps: InspectorPayload.colormapTables, initial: initial)
  }

  /// For each patch, the SAGAN attention of the feature cell under its centre.
  func saganRowsUnderPatches() -> InspectorPayload.SAGANRows {
    let sagan = saganAttention()
    let cells = sagan.gridWidth * sagan.gridHeight
    var rows = QuantisedRows(rowLength: cells)
    let p = model.patchSize
    for row in 0..<attention.gridHeight {
      for column in 0..<attention.gridWidth {
        let x = min((column * p + p / 2) / 8, sagan.gridWidth - 1), y = min((row * p + p / 2) / 8, sagan.gridHeight - 1)
        let cell = y * sagan.gridWidth + x
        rows.append(sagan.weights[(cell * cells)..<((cell + 1) * cells)])
      }
    }
    return .init(cell: 8, gridWidth: sagan.gridWidth, gridHeight: sagan.gridHeight, rows: rows)
  }

  /// SAGAN for a rows record: on the model input scaled down so at most
  /// `Scene.saganMaximumCells` cells remain (`saganAttention`), one row per patch or one per
  /// cell, whichever is fewer: O(cells · min(N, cells)) bytes however large the image, where
  /// `saganRowsUnderPatches` at full scale is O(N · cells) with cells growing like N.
  func saganRowsScaled() -> InspectorPayload.SAGANRows {
    let sagan = saganAttention()
    let cells = sagan.gridWidth * sagan.gridHeight, side = 8 * sagan.factor
    guard attention.patchCount <= cells else {
      return .init(
        cell: side, gridWidth: sagan.gridWidth, gridHeight: sagan.gridHeight, byCell: true,
        rows: QuantisedRows(sagan.weights, rowLength: cells))
    }
    var rows = QuantisedRows(rowLength: cells)
    let p = model.patchSize
    for row in 0..<attention.gridHeight {
      for column in 0..<attention.gridWidth {
        let x = min((column * p + p / 2) / side, sagan.gridWidth - 1), y = min((row * p + p / 2) / side, sagan.gridHeight - 1)
        let cell = y * sagan.gridWidth + x
        rows.append(sagan.weights[(cell * cells)..<((cell + 1) * cells)])
      }
    }
    return .init(cell: side, gridWidth: sagan.gridWidth, gridHeight: sagan.gridHeight, rows: rows)
  }

  /// `--cnn`'s fields, in the form the page evaluates at any pixel.
  func cnnField() -> InspectorPayload.CNNField {
    let field = ReceptiveField.of(settings.cnn)
    let erf = EffectiveReceptiveField(stack: settings.cnn, unit: 0)
    return .init(
      name: settings.cnn.name, size: field.size, stride: field.stride, padding: field.padding,
      profile: erf.profile, profileOffset: erf.offset,
      radius50: erf.radius(holding: 0.5), radius95: erf.radius(holding: 0.95))
  }
}
