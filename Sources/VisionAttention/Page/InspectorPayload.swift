import Foundation
import VAInspection
import VARendering

/// Everything the HTML page draws from, embedded in it as one JSON object: the model input,
/// every layer's and head's attention, rollout, the CNN's view, and the first view to show.
///
/// Shapes (T tokens = prefix + N patches, N = gridWidth · gridHeight, row-major patches):
/// `attention` is `[layers, heads, T, T]` (row = query token, as in `--dump`'s `attn.{l}`),
/// `rollout[fusion]` is `[T, T]`, `sagan` is `[N, C]`: for each patch, the SAGAN row of the
/// 8-pixel feature cell under the patch's centre, over all C cells.
///
/// Above `--full-attention-limit` (L·H·T² values) the page embeds no matrices: `attention` is
/// nil and `queriesKeys` holds every layer's queries and keys at 8 bits, from which the page
/// recomputes the rows of the hovered patch (T·2C bytes per layer instead of H·T²);
/// `rollout[fusion]` holds the rows of `rolloutTokens` only (the class token's, else the
/// first query's), and `sagan` is computed on the image scaled down to at most
/// `Scene.saganMaximumCells` cells, one row per patch or per cell (`byCell`), whichever is
/// fewer. `note` says so on the page.
struct InspectorPayload: Encodable {
  /// Lets the page refuse data it does not understand.
  var version = 1
  var model: String
  var input: String
  var image: EmbeddedImage
  var patchSize: Int
  var gridWidth: Int
  var gridHeight: Int
  var prefixTokens: Int
  var hasClassToken: Bool
  var layers: Int
  var heads: Int
  var tokens: Int
  /// Names of heads with meanings (the built-in model's), else empty.
  var headNames: [String]
  /// Every weight, when the page holds the full matrices.
  var attention: QuantisedRows?
  /// Queries and keys to recompute rows from, when it does not.
  var queriesKeys: QuantisedQueriesKeys?
  /// What the page recomputes or leaves out at this size, shown under its title; empty when
  /// it holds every matrix.
  var note: String
  var rolloutDiscardRatio: Double
  /// Keyed by `HeadFusion.rawValue`.
  var rollout: [String: QuantisedRows]
  /// The query tokens of the rollout rows, or nil when row `i` is token `i` (or the class
  /// token's alone).
  var rolloutTokens: [Int]?
  /// The attention-pooling head's query over the patches, `[heads, N]`; nil without such a head.
  var pool: QuantisedRows?
  /// The class-specific maps for the run's target; nil when there are none, and then
  /// `attributionNote` says why.
  var attribution: PageAttribution?
  var attributionNote: String
  /// The maps of the tokens; nil when the run kept none, and then `tokenMapsNote` says why.
  var tokenMaps: TokenMaps?
  var tokenMapsNote: String
  var sagan: SAGANRows
  var cnn: CNNField
  /// Keyed by `Colormap.rawValue`: 256 RGB triples, base64.
  var colormaps: [String: String]
  /// The views the page offers, in its menu's order (`MapRegistry.pageViews`).
  var maps: [PageMap] = PageMap.all
  var initial: ViewState

  /// `Attribution`'s maps over the patches (prefix tokens dropped, as the PNG figures show
  /// them), one key per page view that `requires` the attribution (`gradrollout` and
  /// `gradcam` `[1, N]`, `attngrad` `[layers, N]`), beside `target`.
  struct PageAttribution: Encodable {
    /// "star (class 3), p = 0.92", as the PNG figure's caption says it.
    var target: String
    /// Keyed by the view's name.
    var maps: [String: QuantisedRows]

    private struct Key: CodingKey {
      var stringValue: String
      var intValue: Int? { nil }
      init(stringValue: String) { self.stringValue = stringValue }
      init?(intValue: Int) { nil }
    }

    // The maps sit beside `target` in one object, so the script reads `attribution[name]`.
    func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: Key.self)
      try container.encode(target, forKey: Key(stringValue: "target"))
      for (name, rows) in maps { try container.encode(rows, forKey: Key(stringValue: name)) }
    }
  }

  /// The model input as the page shows it.
  struct EmbeddedImage: Encodable {
    var width: Int
    var height: Int
    /// PNG, base64.
    var png: String
  }

  /// SAGAN attention over CNN features, one row per ViT patch.
  struct SAGANRows: Encodable {
    /// Side of a feature cell in model-input pixels.
    var cell: Int
    var gridWidth: Int
    var gridHeight: Int
    /// One row per feature cell (the page looks up the cell under a patch's centre) instead
    /// of one per patch.
    var byCell = false
    var rows: QuantisedRows
  }

  /// The theoretical and effective receptive field of `--cnn` (see `ReceptiveField` and
  /// `EffectiveReceptiveField`): unit `u` sees pixels `u·stride − padding …` over `size`
  /// pixels; its effective field is `profile ⊗ profile` starting at `u·stride + profileOffset`.
  struct CNNField: Encodable {
    var name: String
    var size: Int
    var stride: Int
    var padding: Int
    var profile: [Double]
    var profileOffset: Int
    /// Radii holding 50% and 95% of the effective field's mass, in pixels.
    var radius50: Double
    var radius95: Double
  }

  /// A view the page draws over the ViT's patch grid, one per `MapRegistry.pageViews` entry:
  /// the page's menu and `#map=` values are this list, in this order.
  struct PageMap: Encodable {
    /// The map's name (`MapSpec.name`), as `#map=` writes it.
    var name: String
    /// Its menu label.
    var label: String
    /// What the page must hold to draw it; absent when nothing.
    var requires: PageRole.Requirement?

    /// The registry's page views.
    static var all: [PageMap] {
      MapRegistry.pageViews.map { PageMap(name: $0.name, label: $0.page.label ?? $0.name, requires: $0.page.requires) }
    }
  }

  /// The maps of the tokens: `pca` `[3, N]`, each patch's colour sigmoid(2 · whitened
  /// projection) per channel (0 for a background patch), and `norms` `[layers, N]`, the
  /// patches' L2 norms after each block.
  struct TokenMaps: Encodable {
    var pca: QuantisedRows
    var norms: QuantisedRows
  }

  /// A view of the page; the same keys as its URL fragment.
  struct ViewState: Encodable {
    /// A `PageMap`'s name.
    var map: String
    var layer: Int
    var head: Int
    /// `none` for the single head `head`, else a `HeadFusion`.
    var fuse: String
    /// Patch column and row.
    var query: [Int]
    var cmap: String
    var alpha: Double
    var keep: Double
  }

  /// Every colormap's table, base64.
  static var colormapTables: [String: String] {
    Dictionary(uniqueKeysWithValues: Colormap.allCases.map { ($0.rawValue, colormapTable($0)) })
  }

  /// `map`'s 256 RGB triples, base64: what a page's script looks a byte up in.
  static func colormapTable(_ map: Colormap) -> String {
    var bytes: [UInt8] = []
    for entry in 0..<256 {
      // The middle of entry `entry`'s interval picks exactly that entry.
      let c = map.color((Float(entry) + 0.5) / 256)
      bytes += [c.r, c.g, c.b]
    }
    return Data(bytes).base64EncodedString()
  }

  /// The JSON, safe inside a `<script>` element (see `scriptJSON(_:)`).
  func json() throws -> String { try Self.scriptJSON(self) }

  /// `value`'s JSON, keys sorted, safe inside a `<script>` element: `<` only occurs inside
  /// strings, where `\u003c` means the same, so no `</script>` can end the element early.
  static func scriptJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let text = String(decoding: try encoder.encode(value), as: UTF8.self)
    return text.replacingOccurrences(of: "<", with: "\\u003c")
  }
}
