import Foundation
import Testing
import VAImageIO

/// `--map rf` by value, through the command: the dumped theoretical field against the
/// Distill closed form (Araujo et al. 2019, "Computing Receptive Fields of Convolutional
/// Neural Networks", eqs. 2 and 9) recomputed from the layer spec, the dumped effective field
/// against a brute-force backpropagation written here (a dictionary of input positions, one
/// tap at a time, nothing of the library's running sums), and the figure's panel and box
/// against both. The preset vgg16 and a small custom stack with stride, padding, pooling and
/// dilation are run, on inputs the model takes unresized (so the query is a model pixel).
@Suite(.serialized) struct ReceptiveFieldMapValueTests {
  /// One layer as the spec grammar writes it (`conv3s2p1d2`, `pool2s2`): only what the
  /// field depends on.
  struct Layer {
    var kernel: Int
    var stride = 1
    var padding = 0
    var dilation = 1
  }

  /// vgg16's 13 convolutions and 5 pools, as torchvision builds it.
  static let vgg16 = "conv3p1,conv3p1,pool2s2,conv3p1,conv3p1,pool2s2,conv3p1,conv3p1,conv3p1,pool2s2,conv3p1,conv3p1,conv3p1,pool2s2,conv3p1,conv3p1,conv3p1,pool2s2"

  /// Reads a comma-separated spec, with a parser of the test's own.
  static func layers(_ spec: String) -> [Layer] {
    spec.split(separator: ",").map { text in
      var layer = Layer(kernel: 0)
      var key: Character = "k", digits = ""
      func flush() {
        let value = Int(digits)!
        switch key {
        case "k": layer.kernel = value
        case "s": layer.stride = value
        case "p": layer.padding = value
        default: layer.dilation = value
        }
        digits = ""
      }
      for c in text.dropFirst(4) {
        if c.isNumber {
          digits.append(c)
        } else {
          flush()
          key = c
        }
      }
      flush()
      return layer
    }
  }

  /// The field after the first `n` layers by the closed form: size `Σ (k′ₗ − 1) Πᵢ₍ᵢ₌₁…ₗ₋₁₎ sᵢ + 1`
  /// with `k′ = d(k − 1) + 1`, stride `Π sᵢ`, padding `Σ pₗ Πᵢ₍ᵢ₌₁…ₗ₋₁₎ sᵢ`.
  static func distill(_ layers: [Layer], first n: Int) -> (size: Int, stride: Int, padding: Int) {
    func product(_ upTo: Int) -> Int { layers[..<upTo].reduce(1) { $0 * $1.stride } }
    let size = (0..<n).reduce(1) { $0 + layers[$1].dilation * (layers[$1].kernel - 1) * product($1) }
    let padding = (0..<n).reduce(0) { $0 + layers[$1].padding * product($1) }
    return (size, product(n), padding)
  }

  /// The gradient of output unit `unit` along one axis with respect to every input position
  /// (all weights equal, average pooling counting padding), normalised to sum 1: one-hot
  /// at the unit, each layer's taps scattered back one at a time.
  static func bruteForceProfile(_ layers: [Layer], unit: Int) -> [Int: Double] {
    var gradient = [unit: 1.0]
    for layer in layers.reversed() {
      var below: [Int: Double] = [:]
      for (o, g) in gradient {
        for t in 0..<layer.kernel { below[o * layer.stride - layer.padding + t * layer.dilation, default: 0] += g / Double(layer.kernel) }
      }
      gradient = below
    }
    let total = gradient.values.reduce(0, +)
    return gradient.mapValues { $0 / total }
  }

  /// The output unit whose field is centred nearest pixel `x` (queries here avoid ties).
  static func nearestUnit(_ field: (size: Int, stride: Int, padding: Int), pixel x: Int) -> Int {
    let centre = { (u: Int) in Double(u * field.stride - field.padding) + Double(field.size - 1) / 2 }
    return (-100...1000).min { abs(centre($0) - Double(x)) < abs(centre($1) - Double(x)) }!
  }

  /// Runs `--map rf` at `query` and checks dump and figure against the recomputation.
  /// The input is a `width × height` pattern of colours (never gray, so no part of it reads
  /// as the gray panel) of a size the built-in model takes as it is: the query is a model pixel.
  func check(size: (width: Int, height: Int), query: (x: Int, y: Int), cnn: String?, spec: String) throws {
    let scratch = ScratchFolder()
    let (input, png, file) = (scratch.file("in.png"), scratch.file("f.png"), scratch.file("d.safetensors"))
    let pattern = (0..<(size.width * size.height)).flatMap { i -> [UInt8] in
      let v = UInt8((i * 37 + i / size.width * 11) % 200)
      return [v, 255 - v, UInt8(40 + v / 4)]
    }
    try Image(width: size.width, height: size.height, channels: 3, pixels: pattern).writePNG(to: input)
    let cnnArguments = cnn.map { ["--cnn", $0] } ?? []
    let result = try CommandRunner.run(
      [input, "-m", "rf", "-q", "\(query.x),\(query.y)", "-o", png, "--dump", file] + FamilyMapValueTests.gray + cnnArguments)
    try #require(result.status == 0, "\(result.error)")
    let dump = try DumpFile(path: file)
    let layers = Self.layers(spec)
    let (w, h) = (size.width, size.height)

    // 1. The theoretical field after every layer, and the whole stack's.
    try #require(dump.shapes["rf.size"] == [layers.count] && dump.shapes["erf"] == [h, w], "\(spec): \(dump.shapes)")
    for n in 1...layers.count {
      let expected = Self.distill(layers, first: n)
      let got = [dump.tensors["rf.size"]![n - 1], dump.tensors["rf.stride"]![n - 1], dump.tensors["rf.padding"]![n - 1]].map { Int($0) }
      #expect(got == [expected.size, expected.stride, expected.padding], "\(spec) after layer \(n): \(got), closed form \(expected)")
    }
    let field = Self.distill(layers, first: layers.count)
    let unit = (x: Self.nearestUnit(field, pixel: query.x), y: Self.nearestUnit(field, pixel: query.y))
    let box = (x: unit.x * field.stride - field.padding, y: unit.y * field.stride - field.padding)

    // The effective field: the outer product of the two axes' brute-force profiles, inside the image.
    let (px, py) = (Self.bruteForceProfile(layers, unit: unit.x), Self.bruteForceProfile(layers, unit: unit.y))
    // The gradient's support is the theoretical box, one side `size` pixels from its start.
    #expect(px.keys.min() == box.x && px.keys.max() == box.x + field.size - 1, "\(spec): support \(px.keys.min()!)…\(px.keys.max()!)")
    let erf = try #require(dump.tensors["erf"])
    var expected = [Double](repeating: 0, count: w * h)
    for y in 0..<h { for x in 0..<w { expected[y * w + x] = (px[x] ?? 0) * (py[y] ?? 0) } }
    let peak = expected.max()!
    let worst = zip(erf, expected).map { abs(Double($0) - $1) }.max()!
    #expect(worst < 1e-5 * peak, "\(spec): erf off by \(worst / peak) of its peak")
    // Symmetric about the box's centre (uniform kernels are), which lies within half a
    // stride of the query: the field is the query's.
    // (`centre` is twice the centre, so that it stays an integer.)
    let centre = (x: 2 * box.x + field.size - 1, y: 2 * box.y + field.size - 1)
    var asymmetric: [[Int]] = []
    for y in 0..<h where (0..<h).contains(centre.y - y) {
      for x in 0..<w where (0..<w).contains(centre.x - x) {
        if abs(erf[y * w + x] - erf[(centre.y - y) * w + centre.x - x]) > Float(1e-5 * peak) { asymmetric.append([x, y]) }
      }
    }
    #expect(asymmetric.isEmpty, "\(spec): erf differs from its mirror at \(asymmetric.count) pixels, first \(asymmetric.prefix(5))")
    #expect(abs(centre.x - 2 * query.x) <= field.stride && abs(centre.y - 2 * query.y) <= field.stride, "\(spec): box centred at \(centre) / 2")

    // 2. The panel: the normalised field in gray at every input pixel (enlarged `s` times)
    // away from the box outline and the query's marker (at most 10 pixels across).
    let figure = try Image(contentsOfFile: png).rgb()
    let s = max(1, 256 / w), cell = 8
    let (gw, gh) = (w / cell, h / cell)
    func nearBox(_ v: Int, _ start: Int, _ other: Int, _ otherStart: Int) -> Bool {
      let inside = other >= otherStart - 3 && other <= otherStart + field.size + 2
      return inside && (abs(v - start) <= 3 || abs(v - (start + field.size - 1)) <= 3)
    }
    let nearMarks = { (x: Int, y: Int) -> Bool in
      nearBox(x, box.x, y, box.y) || nearBox(y, box.y, x, box.x) || (abs(x - query.x) <= 8 / s + 2 && abs(y - query.y) <= 8 / s + 2)
    }
    // The ERF panel is black outside the field and may repeat with the stride, so it is found
    // by its corner: the input panel (the pattern, found by value) and the ERF panel share
    // their top row, and the ERF panel's left column is the first black one to the right.
    let colour = { (i: Int) -> [Int] in
      let (x, y) = (i % gw * cell + cell / 2, i / gw * cell + cell / 2)
      return pattern[((y * w + x) * 3)..<((y * w + x) * 3 + 3)].map(Int.init)
    }
    let nearQuery = { (i: Int) in abs(i % gw * cell + cell / 2 - query.x) <= 16 && abs(i / gw * cell + cell / 2 - query.y) <= 16 }
    let found = FigureReader.locate(in: figure, gridWidth: gw, gridHeight: gh, block: (cell * s, cell * s), skip: nearQuery, expected: colour)
    let inputAt = try #require(found, "no input panel")
    let black = { (x: Int) in (0..<3).allSatisfy { figure.pixels[(inputAt.y * figure.width + x) * 3 + $0] == 0 } }
    let left = try #require(((inputAt.x + w)..<(figure.width - w * s)).first { x in (x..<(x + 16)).allSatisfy(black) }, "no black panel")
    let at = (x: left, y: inputAt.y)
    // Every input pixel's displayed block, read at its centre.
    var misread: [[Int]] = []
    for y in 0..<h {
      for x in 0..<w where !nearMarks(x, y) {
        let p = ((at.y + y * s + s / 2) * figure.width + at.x + x * s + s / 2) * 3
        let level = (expected[y * w + x] / peak * 255).rounded()
        if (0..<3).contains(where: { abs(Double(figure.pixels[p + $0]) - level) > 3 }) { misread.append([x, y]) }
      }
    }
    #expect(misread.isEmpty, "\(spec): \(misread.count) pixels of the ERF panel differ from the normalised erf, first \(misread.prefix(5))")

    // The box: coloured (not gray) pixels along a row and a column a quarter into it start
    // and end on its edges, `s` display pixels per input pixel.
    func coloured(_ x: Int, _ y: Int) -> Bool {
      let p = (y * figure.width + x) * 3
      let (r, g, b) = (Int(figure.pixels[p]), Int(figure.pixels[p + 1]), Int(figure.pixels[p + 2]))
      return max(abs(r - g), abs(g - b), abs(r - b)) > 24
    }
    let row = at.y + (box.y + field.size / 4) * s, column = at.x + (box.x + field.size / 4) * s
    let across = (at.x..<(at.x + w * s)).filter { coloured($0, row) }.map { ($0 - at.x) }
    let down = (at.y..<(at.y + h * s)).filter { coloured(column, $0) }.map { ($0 - at.y) }
    let edges = [box.x * s, (box.x + field.size) * s - 1]
    #expect(across.first.map { abs($0 - edges[0]) <= 2 } == true && across.last.map { abs($0 - edges[1]) <= 2 } == true, "\(spec): box across \(across), expected \(edges)")
    let vertical = [box.y * s, (box.y + field.size) * s - 1]
    #expect(down.first.map { abs($0 - vertical[0]) <= 2 } == true && down.last.map { abs($0 - vertical[1]) <= 2 } == true, "\(spec): box down \(down), expected \(vertical)")
  }

  /// The default stack (vgg16: 212 px, stride 32, padding 90) on a 480x480 input.
  @Test func vgg16FieldAndFigureByValue() throws {
    try check(size: (480, 480), query: (250, 230), cnn: nil, spec: Self.vgg16)
  }

  /// A small custom stack (59 px, stride 8, padding 29) on a 480x480 input.
  @Test func customStackFieldAndFigureByValue() throws {
    let spec = "conv7s2p3,pool3s2p1,conv3p1,conv3s2p1,conv3d2p2"
    try check(size: (480, 480), query: (125, 133), cnn: spec, spec: spec)
  }
}
