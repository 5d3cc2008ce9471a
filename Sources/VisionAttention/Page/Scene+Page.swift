import Foundation

/// The page as a file: the payload (`Scene+Inspector.swift`) written into the template.
extension Scene {
  /// The interactive page for this scene (`vit-attend --html`), one self-contained file.
  public func page(input: String) throws -> [UInt8] {
    try InspectorPage.html(title: "vit-attend: \((input as NSString).lastPathComponent)", payload: inspectorPayload(input: input))
  }
}
