import Foundation

/// The self-contained interactive page: `Page/Resources/inspector.html` with the style, the script
/// and the payload written into it, so the file needs nothing else to open.
///
/// The template holds four markers, each replaced once: `{{TITLE}}` (HTML-escaped text),
/// `/*{{STYLE}}*/`, `/*{{SCRIPT}}*/` (both scripts) and `{{PAYLOAD}}` (JSON inside a
/// `<script type="application/json">`).
enum InspectorPage {
  /// The resources the page is made of, compiled into the binary (`.embedInCode`), so a
  /// `vit-attend` copied anywhere alone still writes pages.
  enum Resource: String, CaseIterable {
    case template = "inspector.html"
    case style = "inspector.css"
    /// The payload's decoding and the maps (`inspectorMaps`), then the page that draws them:
    /// one script, in this order.
    case maps = "inspector-maps.js"
    case script = "inspector.js"

    var bytes: [UInt8] {
      switch self {
      case .template: PackageResources.inspector_html
      case .style: PackageResources.inspector_css
      case .maps: PackageResources.inspector_maps_js
      case .script: PackageResources.inspector_js
      }
    }
  }

  /// One resource's text.
  /// - Throws: `VisionAttentionError.missingResource` when it is not UTF-8 (a broken build).
  static func text(of resource: Resource) throws(VisionAttentionError) -> String {
    guard let text = String(validating: resource.bytes, as: UTF8.self) else { throw .missingResource(name: resource.rawValue) }
    return text
  }

  /// The page's bytes for `payload`.
  static func html(title: String, payload: InspectorPayload) throws -> [UInt8] {
    var page = try text(of: .template)
    // The payload goes in last so no marker text inside it could be replaced.
    let parts: [(String, String)] = [
      ("{{TITLE}}", escaped(title)),
      ("/*{{STYLE}}*/", try text(of: .style)),
      ("/*{{SCRIPT}}*/", try text(of: .maps) + "\n" + text(of: .script)),
      ("{{PAYLOAD}}", try payload.json()),
    ]
    for (marker, value) in parts {
      guard let range = page.range(of: marker) else { throw VisionAttentionError.missingResource(name: "\(Resource.template.rawValue) marker \(marker)") }
      page.replaceSubrange(range, with: value)
    }
    return Array(page.utf8)
  }

  /// Text safe in HTML element content and attribute values.
  static func escaped(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
  }
}
