import Foundation

/// What a user does on a `--html` page, replayed in `HeadlessBrowser` by a script added to a
/// copy of the page after its own: pointer events go to the element the browser finds at
/// the point (hit testing, as a real pointer's would), keys to the focused element.
enum PageAction: Encodable {
  /// The pointer over the centre of patch (`column`, `row`) of the ViT heat map.
  case hover(column: Int, row: Int)
  /// A click there (mousemove, mousedown, mouseup, click).
  case click(column: Int, row: Int)
  /// A key press (`KeyboardEvent.key`, e.g. "ArrowDown"), with or without Shift.
  case key(String, shift: Bool = false)
  /// A click on the thumbnail of `head`.
  case clickThumbnail(head: Int)

  private enum Keys: String, CodingKey { case type, column, row, key, shift, head }
  func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    switch self {
    case .hover(let column, let row), .click(let column, let row):
      try c.encode(self.isClick ? "click" : "hover", forKey: .type)
      try c.encode(column, forKey: .column)
      try c.encode(row, forKey: .row)
    case .key(let key, let shift):
      try c.encode("key", forKey: .type)
      try c.encode(key, forKey: .key)
      try c.encode(shift, forKey: .shift)
    case .clickThumbnail(let head):
      try c.encode("thumbnail", forKey: .type)
      try c.encode(head, forKey: .head)
    }
  }
  private var isClick: Bool { if case .click = self { true } else { false } }
}

/// The page after one action: `#current-map`'s contract attributes and every thumbnail's
/// pixels.
struct PageSnapshot {
  var values: [Double]
  var state: [String: Any]
  /// Whether the ViT stage shows the query as pinned (its `pinned` class).
  var pinned: Bool
  /// Each head's thumbnail, RGB bytes row-major, one pixel per patch.
  var thumbnails: [[UInt8]]
  var query: [Int] { state["query"] as? [Int] ?? [] }
}

extension HeadlessBrowser {
  enum ReplayError: Error, CustomStringConvertible {
    case noLog
    case script(String)
    var description: String {
      switch self {
      case .noLog: "the replay script left no log (did the page's script fail?)"
      case .script(let message): "replay: \(message)"
      }
    }
  }

  /// Opens `page#fragment` with `actions` replayed after the page's script ran, and returns
  /// the page before the first action and after each one.
  /// - Parameter grid: the page's patch grid (columns, rows), to aim the pointer.
  func replay(_ actions: [PageAction], page: String, fragment: String, grid: (width: Int, height: Int)) throws -> [PageSnapshot] {
    let html = try String(contentsOfFile: page, encoding: .utf8)
    guard let end = html.range(of: "</body>", options: .backwards) else { throw ReplayError.noLog }
    let actionsJSON = String(decoding: try JSONEncoder().encode(actions), as: UTF8.self)
    let script = Self.replayScript
      .replacingOccurrences(of: "ACTIONS", with: actionsJSON)
      .replacingOccurrences(of: "GRID", with: "[\(grid.width), \(grid.height)]")
    let copy = (page as NSString).deletingPathExtension + "-replay-\(UUID().uuidString).html"
    try (html.replacingCharacters(in: end, with: "<script>\(script)</script>\n</body>")).write(toFile: copy, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: copy) }
    let dom = String(decoding: try run(["--dump-dom"], page: copy, fragment: fragment), as: UTF8.self)
    guard let open = dom.range(of: "data-replay=\""), let close = dom[open.upperBound...].firstIndex(of: "\""),
      let data = Data(base64Encoded: String(dom[open.upperBound..<close])),
      let log = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { throw ReplayError.noLog }
    if let error = log["error"] as? String { throw ReplayError.script(error) }
    return (log["snapshots"] as? [[String: Any]] ?? []).map { s in
      PageSnapshot(
        values: (s["values"] as? [NSNumber] ?? []).map(\.doubleValue), state: s["state"] as? [String: Any] ?? [:],
        pinned: s["pinned"] as? Bool ?? false,
        thumbnails: (s["thumbs"] as? [[NSNumber]] ?? []).map { $0.map(\.uint8Value) })
    }
  }

  /// The page's colour table for `colormap` (256 RGB triples), read from its payload.
  static func colormap(_ name: String, page: String) throws -> [[UInt8]] {
    let html = try String(contentsOfFile: page, encoding: .utf8)
    guard let open = html.range(of: "id=\"payload\">"), let close = html[open.upperBound...].range(of: "</script>"),
      let payload = try JSONSerialization.jsonObject(with: Data(html[open.upperBound..<close.lowerBound].utf8)) as? [String: Any],
      let tables = payload["colormaps"] as? [String: String], let table = tables[name].flatMap({ Data(base64Encoded: $0) }),
      table.count == 768
    else { throw ReplayError.script("no colormap \(name) in the page's payload") }
    return stride(from: 0, to: 768, by: 3).map { Array(table[$0..<($0 + 3)]) }
  }

  /// Runs in the page after its own script; leaves its log, base64 JSON, on `<body data-replay>`.
  private static let replayScript = #"""
    "use strict";
    (function () {
      const actions = ACTIONS, [GW, GH] = GRID, log = { snapshots: [] };
      const current = document.getElementById("current-map");
      function snapshot() {
        const thumbs = Array.from(document.querySelectorAll("#thumbs canvas")).map((canvas) => {
          const rgba = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data, rgb = [];
          for (let i = 0; i < rgba.length; i += 4) rgb.push(rgba[i], rgba[i + 1], rgba[i + 2]);
          return rgb;
        });
        log.snapshots.push({
          values: JSON.parse(current.getAttribute("data-values")), state: JSON.parse(current.getAttribute("data-state")),
          pinned: document.getElementById("vit-stage").classList.contains("pinned"), thumbs: thumbs,
        });
      }
      // Mouse events at client point (x, y), to whatever the browser finds there.
      function pointer(types, x, y) {
        const target = document.elementFromPoint(x, y);
        if (!target) throw new Error("no element at (" + x + ", " + y + ")");
        for (const type of types) {
          target.dispatchEvent(new MouseEvent(type, { bubbles: true, cancelable: true, view: window, clientX: x, clientY: y }));
        }
      }
      function atPatch(types, c, r) {
        const overlay = document.querySelector("#vit-stage .overlay");
        overlay.scrollIntoView({ block: "center" });
        const box = overlay.getBoundingClientRect();
        pointer(types, box.left + ((c + 0.5) * box.width) / GW, box.top + ((r + 0.5) * box.height) / GH);
      }
      const click = ["mousemove", "mousedown", "mouseup", "click"];
      try {
        snapshot();
        for (const a of actions) {
          if (a.type === "hover") atPatch(["mousemove"], a.column, a.row);
          else if (a.type === "click") atPatch(click, a.column, a.row);
          else if (a.type === "key") {
            const target = document.activeElement || document.body;
            for (const type of ["keydown", "keyup"]) {
              target.dispatchEvent(new KeyboardEvent(type, { key: a.key, shiftKey: a.shift, bubbles: true, cancelable: true }));
            }
          } else if (a.type === "thumbnail") {
            const button = document.querySelectorAll("#thumbs .thumb")[a.head];
            if (!button) throw new Error("no thumbnail for head " + a.head);
            button.scrollIntoView({ block: "center" });
            const box = button.getBoundingClientRect();
            pointer(click, box.left + box.width / 2, box.top + box.height / 2);
          }
          snapshot();
        }
      } catch (e) {
        log.error = String(e && e.stack || e);
      }
      document.body.setAttribute("data-replay", btoa(unescape(encodeURIComponent(JSON.stringify(log)))));
    })();
    """#
}
