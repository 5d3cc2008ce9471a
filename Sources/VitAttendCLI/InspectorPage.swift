import Foundation

/// The self-contained interactive page: `Resources/inspector.html` with the style, the script
/// and the payload written into it, so the file needs nothing else to open.
///
/// The template holds four markers, each replaced once: `{{TITLE}}` (HTML-escaped text),
/// `/*{{STYLE}}*/`, `/*{{SCRIPT}}*/` and `{{PAYLOAD}}` (JSON inside a
/// `<script type="application/json">`).
enum InspectorPage {
  /// The resources the page is made of, as shipped in the package's bundle.
  enum Resource: String, CaseIterable {
    case template = "inspector.html"
    case style = "inspector.css"
    case script = "inspector.js"
  }

  /// Reads one resource's text.
  /// - Throws: `VitAttendError.missingResource` when the bundle lacks it.
  static func text(of resource: Resource) throws(VitAttendError) -> String {
    let name = resource.rawValue as NSString
    guard let url = Bundle.module.url(forResource: name.deletingPathExtension, withExtension: name.pathExtension, subdirectory: "Resources"),
          let text = try? String(contentsOf: url, encoding: .utf8)
    else { throw .missingResource(name: resource.rawValue) }
    return text
  }

  /// The page's bytes for `payload`.
  static func html(title: String, payload: InspectorPayload) throws -> [UInt8] {
    var page = try text(of: .template)
    // The payload goes in last so no marker text inside it could be replaced.
    let parts: [(String, String)] = [
      ("{{TITLE}}", escaped(title)),
      ("/*{{STYLE}}*/", try text(of: .style)),
      ("/*{{SCRIPT}}*/", try text(of: .script)),
      ("{{PAYLOAD}}", try payload.json()),
    ]
    for (marker, value) in parts {
      guard let range = page.range(of: marker) else { throw VitAttendError.missingResource(name: "\(Resource.template.rawValue) marker \(marker)") }
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
