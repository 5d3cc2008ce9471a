import Foundation
import Testing

/// Every public declaration of the modules a library user touches carries a `///` comment.
///
/// The modules are read as source text (by path from this file), so the check needs no
/// symbol graph. `Scripts/doc_coverage.py` applies the same rules and prints the share for
/// every module; keep the two in step.
@Suite struct DocumentationCoverageTests {
  /// The modules held to full coverage: every one under Sources/ with a public declaration
  /// (the C shims export no Swift API; `vit-attend` is `main.swift` alone). A new module is
  /// one more name here.
  static let documentedModules = [
    "VAModels", "VALayers", "VASafetensors", "VAInspection", "VisionAttention", "VitAttendCLI",
    "VATensorCore", "VAImageIO", "VARendering",
  ]

  @Test(arguments: documentedModules)
  func everyPublicDeclarationIsDocumented(module: String) throws {
    let declarations = try DocumentationScan.declarations(inModule: module)
    let missing = declarations.filter { !$0.documented }
    let documented = Double(declarations.count - missing.count)
    let share = declarations.isEmpty ? 100 : Int((100 * documented / Double(declarations.count)).rounded())
    #expect(
      missing.count == 0,
      """
      \(module): \(declarations.count - missing.count) of \(declarations.count) public declarations \
      documented (\(share)%). Undocumented:
      \(missing.map { "\($0.file):\($0.line): \($0.text)" }.joined(separator: "\n"))
      """)
    // A scan that finds nothing has lost its way (a moved folder), not proved coverage.
    // (VitAttendCLI has only 7, so the floor is one, not a guess at a module's size.)
    #expect(!declarations.isEmpty, "\(module): no public declarations found")
  }

  /// The scanner sees what it must: public members, enum cases, protocol requirements,
  /// members of a public extension; and skips what it must: internal types, function bodies,
  /// braces and keywords inside strings and comments.
  @Test func scannerFindsExactlyThePublicDeclarations() {
    let source = #"""
      /// Documented.
      public struct A {
        public var undocumented: Int  // a trailing comment is not documentation
        /// Yes.
        @inlinable public func f() { let s = "{ public var inString = 1"; _ = s }
        func internalMember() {}
        /* public var inComment = 1 { */
      }
      struct Hidden {
        public var skipped: Int
      }
      public enum E {
        case one, two
        /// Documented case.
        case three
      }
      public protocol P {
        func requirement()
      }
      public extension A {
        func implicitlyPublic() {}
        private func notPublic() {}
      }
      extension A {
        public func explicit() {
          public struct Local {}
        }
      }
      """#
    let found = DocumentationScan.declarations(in: source, file: "t.swift")
    #expect(found.map(\.line) == [2, 3, 5, 12, 13, 15, 17, 18, 21, 25])
    #expect(found.map(\.documented) == [true, false, true, false, false, true, false, false, false, false])
  }

  /// A multi-line string's line continuation (`\` at a line's end) does not shift the lines
  /// that follow, so each declaration is checked against the comment above it.
  @Test func lineContinuationKeepsLineNumbers() {
    let source = #"""
      let s = """
        a \
        b
        """
      /// Documented.
      public var x = 1
      public var y = 2
      """#
    let found = DocumentationScan.declarations(in: source, file: "t.swift")
    #expect(found.map(\.line) == [6, 7])
    #expect(found.map(\.documented) == [true, false])
  }
}

/// A public declaration found in the source text.
struct ScannedDeclaration {
  let file: String
  let line: Int
  let text: String
  let documented: Bool
}

/// A line scanner for Swift declarations, sufficient for this repository's style.
///
/// Rules (shared with Scripts/doc_coverage.py): a declaration is visible outside its module
/// when it is `public`/`open` and every enclosing type is too, when it is a case of a public
/// enum, a requirement of a public protocol, or a member of a `public extension` without its
/// own access modifier. Anything inside a function or property body is skipped. It is
/// documented when the nearest line above, skipping attribute lines, is a `///` comment or the
/// end of a `/** */` comment.
enum DocumentationScan {
  static let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  static func declarations(inModule module: String) throws -> [ScannedDeclaration] {
    let folder = repositoryRoot.appendingPathComponent("Sources/\(module)")
    guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
    let files = walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.sorted()
    return try files.flatMap { name in
      let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
      return declarations(in: text, file: "Sources/\(module)/\(name)")
    }
  }

  private static let modifiers: Set<String> = [
    "public", "open", "internal", "private", "fileprivate", "package", "static", "class", "final",
    "override", "mutating", "nonmutating", "convenience", "required", "lazy", "weak", "unowned",
    "nonisolated", "indirect", "dynamic", "optional", "prefix", "postfix", "infix", "consuming",
    "borrowing", "distributed",
  ]
  private static let keywords: Set<String> = [
    "struct", "class", "enum", "protocol", "actor", "func", "init", "subscript", "var", "let",
    "typealias", "case", "associatedtype", "extension",
  ]
  private static let typeKinds: Set<String> = ["struct", "class", "enum", "protocol", "actor", "extension"]
  private static let hiddenAccess: Set<String> = ["internal", "private", "fileprivate", "package"]

  private enum ScopeKind: Equatable { case type(String), body }
  private struct Scope { let kind: ScopeKind; let isPublic: Bool }

  static func declarations(in source: String, file: String) -> [ScannedDeclaration] {
    let raw = source.components(separatedBy: "\n")
    let code = codeLines(source)
    var found: [ScannedDeclaration] = []
    var scopes: [Scope] = []
    var pending: Scope?
    for (index, line) in code.enumerated() {
      if let (modifiers, keyword) = declarationHead(line.trimmingCharacters(in: .whitespaces)) {
        let access = modifiers.first { $0 == "public" || $0 == "open" || hiddenAccess.contains($0) }
        let visible = isVisible(scopes, keyword: keyword, access: access)
        if visible && keyword != "extension" {
          let text = raw[index].trimmingCharacters(in: .whitespaces)
          found.append(ScannedDeclaration(file: file, line: index + 1, text: text, documented: hasDoc(raw, above: index)))
        }
        if typeKinds.contains(keyword) {
          let isPublic = keyword == "extension" ? (access == "public" || access == "open") : visible
          pending = Scope(kind: .type(keyword), isPublic: isPublic)
        } else if keyword != "case" {
          pending = Scope(kind: .body, isPublic: false)
        }
      }
      for character in line {
        if character == "{" {
          scopes.append(pending ?? Scope(kind: .body, isPublic: false))
          pending = nil
        } else if character == "}", !scopes.isEmpty {
          scopes.removeLast()
        }
      }
    }
    return found
  }

  /// The modifiers and the declaration keyword a line starts with, after any attributes.
  private static func declarationHead(_ line: String) -> (modifiers: [String], keyword: String)? {
    var rest = Substring(line)
    while rest.hasPrefix("@") {  // @inlinable, @available(macOS 14, *)
      var end = rest.index(after: rest.startIndex)
      while end < rest.endIndex, rest[end].isLetter || rest[end].isNumber || rest[end] == "_" || rest[end] == "." {
        end = rest.index(after: end)
      }
      if end < rest.endIndex, rest[end] == "(" {
        guard let close = rest[end...].firstIndex(of: ")") else { return nil }
        end = rest.index(after: close)
      }
      rest = rest[end...].drop { $0 == " " }
    }
    var modifiers: [String] = []
    while true {
      let word = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
      guard !word.isEmpty else { return nil }
      var after = rest.dropFirst(word.count)
      if Self.modifiers.contains(word), after.hasPrefix("("), let close = after.firstIndex(of: ")") {
        after = after[after.index(after: close)...]  // private(set), nonisolated(unsafe)
      }
      let next = String(after.drop { $0 == " " }.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
      // `class func` is a modifier; `class Foo` is a declaration.
      if word == "class", ["func", "var", "let", "subscript"].contains(next) {
        modifiers.append(word)
      } else if keywords.contains(word) {
        return after.first.map { $0.isLetter || $0.isNumber || $0 == "_" } == true ? nil : (modifiers, word)
      } else if Self.modifiers.contains(word), after.first == " " {
        modifiers.append(word)
      } else {
        return nil
      }
      rest = after.drop { $0 == " " }
    }
  }

  private static func isVisible(_ scopes: [Scope], keyword: String, access: String?) -> Bool {
    if let access, hiddenAccess.contains(access) { return false }
    guard let innermost = scopes.last else { return access == "public" || access == "open" }
    guard case .type(let kind) = innermost.kind else { return false }
    for scope in scopes where scope.kind != .type("extension") {
      if scope.kind == .body || !scope.isPublic { return false }
    }
    switch kind {
    case "protocol": return innermost.isPublic
    case "enum" where keyword == "case": return innermost.isPublic
    case "extension": return access != nil || (innermost.isPublic && keyword != "case")
    default: return innermost.isPublic && access != nil
    }
  }

  private static func hasDoc(_ raw: [String], above index: Int) -> Bool {
    var line = index - 1
    while line >= 0, raw[line].trimmingCharacters(in: .whitespaces).hasPrefix("@") { line -= 1 }
    guard line >= 0 else { return false }
    let above = raw[line].trimmingCharacters(in: .whitespaces)
    if above.hasPrefix("///") { return true }
    guard above.hasSuffix("*/") else { return false }
    while line >= 0, !raw[line].contains("/*") { line -= 1 }
    return line >= 0 && raw[line].contains("/**")
  }

  /// Each line with comments removed and string contents dropped, so that braces and
  /// keywords are only those of the code.
  static func codeLines(_ source: String) -> [String] {
    enum State { case code(parens: Int), string, multilineString, blockComment }
    let text = Array(source.unicodeScalars)
    var lines: [String] = []
    var line = String.UnicodeScalarView()
    var stack: [State] = [.code(parens: 0)]
    var i = 0
    func starts(_ literal: String) -> Bool {
      let scalars = Array(literal.unicodeScalars)
      return i + scalars.count <= text.count && Array(text[i..<i + scalars.count]) == scalars
    }
    while i < text.count {
      let c = text[i]
      if c == "\n" {
        lines.append(String(line))
        line = String.UnicodeScalarView()
        i += 1
        continue
      }
      switch stack[stack.count - 1] {
      case .blockComment:
        if starts("*/") { stack.removeLast(); i += 2 } else if starts("/*") { stack.append(.blockComment); i += 2 } else { i += 1 }
      case .string, .multilineString:
        let multiline = if case .multilineString = stack[stack.count - 1] { true } else { false }
        if starts("\\(") {
          stack.append(.code(parens: 0)); i += 2
        } else if c == "\\" {
          // An escaped newline (a multi-line string's line continuation) still ends the line.
          i += i + 1 < text.count && text[i + 1] == "\n" ? 1 : 2
        } else if multiline, starts("\"\"\"") {
          stack.removeLast(); line.append(contentsOf: "\"\"\"".unicodeScalars); i += 3
        } else if !multiline, c == "\"" {
          stack.removeLast(); line.append(c); i += 1
        } else {
          i += 1
        }
      case .code(let parens):
        if starts("//") {
          while i < text.count, text[i] != "\n" { i += 1 }
        } else if starts("/*") {
          stack.append(.blockComment); i += 2
        } else if starts("\"\"\"") {
          stack.append(.multilineString); line.append(contentsOf: "\"\"\"".unicodeScalars); i += 3
        } else if c == "\"" {
          stack.append(.string); line.append(c); i += 1
        } else if c == "(" {
          stack[stack.count - 1] = .code(parens: parens + 1); line.append(c); i += 1
        } else if c == ")" {
          if parens == 0, stack.count > 1 { stack.removeLast() } else { stack[stack.count - 1] = .code(parens: parens - 1) }
          line.append(c); i += 1
        } else {
          line.append(c); i += 1
        }
      }
    }
    lines.append(String(line))
    return lines
  }
}
