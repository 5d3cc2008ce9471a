import Foundation
import Testing
@testable import VAInspection

/// The closed-form effective receptive field (EffectiveReceptiveField) against PyTorch
/// autograd on the same stacks: 1-channel convolutions of ones and average pooling with
/// padding counted, in float64, the gradient of one output unit. This is also what the
/// receptive-field panel and the page's CNN view draw (`--cnn`, vgg16 by default).
/// Written by Scripts/reference/cnn_fixtures.py. Regenerate: python3 Scripts/reference/cnn_fixtures.py
struct ERFReferenceTests {
  struct Reference: Decodable {
    var spec: String
    var unit: Int
    var inputSize: Int
    var profile: [Double]
    var separableError: Double
    var radius50: Double
    var radius95: Double
  }

  static let references: [Reference] = {
    let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/erf_reference.json")
    return (try? JSONDecoder().decode([Reference].self, from: Data(contentsOf: url))) ?? []
  }()

  @Test func fixtureHasEveryStack() {
    #expect(Self.references.map(\.spec).contains("vgg16") && Self.references.count == 6)
  }

  @Test(arguments: 0..<6)
  func profileAndRadiiMatchAutograd(index: Int) throws {
    let reference = try #require(Self.references.indices.contains(index) ? Self.references[index] : nil)
    let stack = try ConvStack(parsing: reference.spec)
    let field = EffectiveReceptiveField(stack: stack, unit: reference.unit)
    // The 2D gradient is the outer product of one profile with itself (uniform kernels are
    // separable), so a 1D profile is the whole field.
    #expect(reference.separableError < 1e-12)
    var placed = [Double](repeating: 0, count: reference.inputSize)
    for (i, value) in field.profile.enumerated() {
      let x = field.offset + i
      try #require(x >= 0 && x < reference.inputSize, "\(reference.spec): field leaves the reference's input at \(x)")
      placed[x] = value
    }
    let worst = zip(placed, reference.profile).map { abs($0 - $1) }.max()!
    #expect(worst < 1e-12, "\(reference.spec): profile off by \(worst)")
    #expect(abs(field.radius(holding: 0.5) - reference.radius50) < 1e-6, "\(reference.spec): r50 \(field.radius(holding: 0.5)) vs \(reference.radius50)")
    #expect(abs(field.radius(holding: 0.95) - reference.radius95) < 1e-6, "\(reference.spec): r95 \(field.radius(holding: 0.95)) vs \(reference.radius95)")
    // And the theoretical field is where the gradient is non-zero.
    let nonzero = reference.profile.indices.filter { reference.profile[$0] > 0 }
    let theoretical = ReceptiveField.of(stack)
    #expect(nonzero.first == theoretical.start(ofUnit: reference.unit) && nonzero.last! - nonzero.first! + 1 == theoretical.size)
  }
}
