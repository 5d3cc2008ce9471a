import Foundation
import VAImageIO
import VAModels
import VARendering

/// The interactive page of a DETR run (`--html`, `--out-dir --format html`): one HTML file,
/// no network, that shows the model input with every detection above the score boxed; hovering
/// a detection (in the list or its box) shows its query's cross-attention (Figure 6), hovering
/// anywhere else the encoder's self-attention at that cell (Figure 3), heads averaged.
extension DETRImageAttention {
  /// What the page's script reads (JSON in `<script id="payload">`).
  struct PagePayload: Encodable {
    /// One detection: label, score, box in model-input pixels, query, its cross-attention.
    struct Detection: Encodable {
      var label: String
      var score: Float
      var box: [Float]
      var query: Int
      /// `[h·w]` row-major, each value / `peak` · 255 rounded, base64.
      var cross: String
      var peak: Float
    }
    var title: String
    /// The model input as PNG, base64.
    var image: String
    var width: Int, height: Int
    var featureWidth: Int, featureHeight: Int, stride: Int
    var score: Float
    var encoderLayer: Int, decoderLayer: Int
    var detections: [Detection]
    /// `[S·S]` (row `s` is the attention from cell `s`), each row / its peak · 255, base64.
    var encoder: String
    /// Each encoder row's largest value, `[S]`.
    var encoderPeaks: [Float]
    /// 256 RGB triples, base64.
    var colormap: String
    var alpha: Float

    enum CodingKeys: String, CodingKey {
      case title, image, width, height, score, detections, encoder, colormap, alpha, stride
      case featureWidth = "feature_width", featureHeight = "feature_height", encoderLayer = "encoder_layer"
      case decoderLayer = "decoder_layer", encoderPeaks = "encoder_peaks"
    }
  }

  /// The page's HTML for detections above `threshold`, decoder layer `decoderLayer` and
  /// encoder layer `encoderLayer` (default: the last of each).
  public func page(threshold: Float, decoderLayer: Int? = nil, encoderLayer: Int? = nil, colormap: Colormap = .inferno, alpha: Float = 0.6) throws -> [UInt8] {
    let dl = decoderLayer ?? output.decoderCrossAttention.count - 1
    let el = encoderLayer ?? output.encoderAttention.count - 1
    let (sx, sy) = (Float(image.width) / Float(originalWidth), Float(image.height) / Float(originalHeight))
    let detections = detections(threshold: threshold).map { d in
      let map = output.crossAttentionMap(query: d.query, layer: dl).scalars
      let (bytes, peak) = Self.quantised(map)
      return PagePayload.Detection(
        label: label(d.label), score: d.score, box: [d.minX * sx, d.minY * sy, d.maxX * sx, d.maxY * sy], query: d.query,
        cross: Data(bytes).base64EncodedString(), peak: peak)
    }
    let s = output.featureHeight * output.featureWidth
    var encoder: [UInt8] = []
    var peaks: [Float] = []
    encoder.reserveCapacity(s * s)
    for cell in 0..<s {
      let (bytes, peak) = Self.quantised(output.encoderAttentionMap(row: cell / output.featureWidth, column: cell % output.featureWidth, layer: el).scalars)
      encoder += bytes
      peaks.append(peak)
    }
    let payload = PagePayload(
      title: modelCaption, image: Data(try image.pngData()).base64EncodedString(), width: image.width, height: image.height,
      featureWidth: output.featureWidth, featureHeight: output.featureHeight, stride: output.featureStride, score: threshold,
      encoderLayer: el, decoderLayer: dl, detections: detections, encoder: Data(encoder).base64EncodedString(), encoderPeaks: peaks,
      colormap: InspectorPayload.colormapTable(colormap), alpha: alpha)
    let json = try InspectorPayload.scriptJSON(payload)
    return Array(Self.pageTemplate.replacingOccurrences(of: "{{PAYLOAD}}", with: json).utf8)
  }

  /// `values` / their largest · 255, rounded, and that largest value. Not `QuantisedRows`:
  /// that one multiplies by `255 / peak`, which rounds a few values to the other byte, and
  /// skips non-finite values for the peak, so sharing it would change the pages' bytes.
  static func quantised(_ values: [Float]) -> (bytes: [UInt8], peak: Float) {
    let peak = values.max() ?? 0
    guard peak > 0 else { return ([UInt8](repeating: 0, count: values.count), 0) }
    return (values.map { UInt8(max(0, min(255, ($0 / peak * 255).rounded()))) }, peak)
  }

  /// The page: the payload, a canvas and a list; the script draws the map under the pointer.
  static let pageTemplate = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>DETR attention</title>
    <style>
    body { font: 14px system-ui, sans-serif; margin: 16px; color: #1e1e1e; }
    #view { display: flex; gap: 16px; align-items: flex-start; }
    canvas { image-rendering: auto; border: 1px solid #ccc; max-width: 75vw; }
    li { cursor: pointer; padding: 2px 4px; } li.on { background: #eee; }
    .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; }
    </style></head><body>
    <script type="application/json" id="payload">{{PAYLOAD}}</script>
    <h3 id="title"></h3>
    <p id="note"></p>
    <div id="view"><canvas id="canvas"></canvas><ol id="list"></ol></div>
    <script>
    const P = JSON.parse(document.getElementById('payload').textContent);
    const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const table = bytes(P.colormap), encoder = bytes(P.encoder);
    const colours = ['#009e73', '#e69f00', '#56b4e9', '#f0e442', '#0072b2', '#d55e00', '#cc79a7'];
    const canvas = document.getElementById('canvas'), ctx = canvas.getContext('2d');
    canvas.width = P.width; canvas.height = P.height;
    // A small input is shown enlarged (at least 480 pixels wide, at most 4x).
    canvas.style.width = Math.max(P.width, Math.min(480, 4 * P.width)) + 'px';
    const image = new Image();
    const cells = document.createElement('canvas');
    cells.width = P.feature_width; cells.height = P.feature_height;
    let state = { kind: 'none' };
    window.detrState = () => state;
    document.getElementById('title').textContent = P.title;
    function note(text) { document.getElementById('note').textContent = text; }
    // A map [h*w] of bytes, colour-mapped over the image; each cell covers stride x stride
    // input pixels from the top left, as the backbone's convolutions do.
    function drawMap(values) {
      const data = cells.getContext('2d').createImageData(P.feature_width, P.feature_height);
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        data.data.set([table[3 * v], table[3 * v + 1], table[3 * v + 2], 255], 4 * i);
      }
      cells.getContext('2d').putImageData(data, 0, 0);
      ctx.globalAlpha = P.alpha;
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(cells, 0, 0, P.feature_width * P.stride, P.feature_height * P.stride);
      ctx.globalAlpha = 1;
    }
    function drawBoxes(only) {
      P.detections.forEach((d, i) => {
        if (only !== undefined && only !== i) return;
        ctx.strokeStyle = colours[i % colours.length]; ctx.lineWidth = 2;
        ctx.strokeRect(d.box[0], d.box[1], d.box[2] - d.box[0], d.box[3] - d.box[1]);
      });
    }
    function show(kind, index) {
      ctx.drawImage(image, 0, 0);
      document.querySelectorAll('li').forEach((li, i) => li.classList.toggle('on', kind === 'detection' && i === index));
      if (kind === 'detection') {
        const d = P.detections[index];
        drawMap(bytes(d.cross)); drawBoxes(index);
        state = { kind, index, query: d.query };
        note(`${d.label} ${d.score.toFixed(2)}: query ${d.query}'s cross-attention, decoder layer ${P.decoder_layer}, heads averaged (peak ${d.peak.toPrecision(3)})`);
      } else if (kind === 'encoder') {
        const s = P.feature_width * P.feature_height;
        drawMap(encoder.subarray(index * s, (index + 1) * s)); drawBoxes();
        const column = index % P.feature_width, row = Math.floor(index / P.feature_width);
        ctx.strokeStyle = '#fff'; ctx.strokeRect(column * P.stride, row * P.stride, P.stride, P.stride);
        state = { kind, index, column, row };
        note(`encoder layer ${P.encoder_layer} self-attention at cell (${column},${row}), heads averaged (peak ${P.encoder_peaks[index].toPrecision(3)})`);
      } else {
        drawBoxes(); state = { kind: 'none' };
        note(`${P.detections.length} detections above ${P.score}; hover one, or any point for the encoder's attention there`);
      }
    }
    const list = document.getElementById('list');
    P.detections.forEach((d, i) => {
      const li = document.createElement('li');
      li.innerHTML = `<span class="swatch" style="background:${colours[i % colours.length]}"></span>`;
      li.append(`${d.label} ${d.score.toFixed(2)}`);
      li.onmouseenter = () => show('detection', i);
      list.append(li);
    });
    canvas.onmousemove = (e) => {
      const r = canvas.getBoundingClientRect();
      const x = (e.clientX - r.left) * P.width / r.width, y = (e.clientY - r.top) * P.height / r.height;
      const hit = P.detections.findIndex((d) => x >= d.box[0] && x <= d.box[2] && y >= d.box[1] && y <= d.box[3]);
      if (e.shiftKey || hit < 0) {
        const column = Math.min(P.feature_width - 1, Math.floor(x / P.stride)), row = Math.min(P.feature_height - 1, Math.floor(y / P.stride));
        show('encoder', row * P.feature_width + column);
      } else show('detection', hit);
    };
    canvas.onmouseleave = () => show('none');
    image.onload = () => show('none');
    image.src = 'data:image/png;base64,' + P.image;
    </script></body></html>

    """
}
