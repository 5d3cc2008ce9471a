/// Receptive field of the units after a conv/pool stack (Araujo, Norris & Sim, "Computing
/// Receptive Fields of Convolutional Neural Networks", Distill 2019), in input pixels.
///
/// Layer by layer, with `k′ = d(k − 1) + 1`:
/// `r ← r + (k′ − 1)·j`, `P ← P + p·j`, `j ← j·s`, starting from `r = 1, j = 1, P = 0`.
/// Output unit `u` then sees input pixels `u·j − P … u·j − P + r − 1`, centred at
/// `u·j − P + (r − 1)/2`.
public struct ReceptiveField: Sendable, Equatable {
  /// Side of the field, in input pixels.
  public var size: Int
  /// Effective stride (jump): input pixels between neighbouring output units.
  public var stride: Int
  /// Effective padding: how far before pixel 0 the field of unit 0 starts.
  public var padding: Int

  /// The largest field size, stride or padding a stack may reach, in pixels: 100,000, far
  /// beyond any image this toolkit reads, and small enough that the effective field of a
  /// stack (O(layers · size)) takes well under a second.
  public static let maximumExtent = 100_000

  /// The field after every layer of `stack`, in order (`result[i]` is after layer i).
  ///
  /// Precondition: `stack` is within `maximumExtent` (`ConvStack(parsing:)` checks this;
  /// use `checkedPerLayer` for stacks built in code).
  public static func perLayer(_ stack: ConvStack) -> [ReceptiveField] {
    do {
      return try checkedPerLayer(stack)
    } catch {
      preconditionFailure("\(stack.name): \(error)")
    }
  }

  /// `perLayer`, with checked arithmetic: throws `ConvSpecError.fieldTooLarge` naming the
  /// first layer whose field size, stride or padding exceeds `maximumExtent`.
  public static func checkedPerLayer(_ stack: ConvStack) throws(ConvSpecError) -> [ReceptiveField] {
    var field = ReceptiveField(size: 1, stride: 1, padding: 0)
    var fields: [ReceptiveField] = []
    fields.reserveCapacity(stack.layers.count)
    for (index, layer) in stack.layers.enumerated() {
      func checked(_ value: (partialValue: Int, overflow: Bool), _ quantity: String) throws(ConvSpecError) -> Int {
        guard !value.overflow, value.partialValue <= maximumExtent else {
          throw .fieldTooLarge(index: index, text: layer.description, quantity: quantity, limit: maximumExtent)
        }
        return value.partialValue
      }
      let growth = try checked((layer.dilatedKernel - 1).multipliedReportingOverflow(by: field.stride), "field size")
      field.size = try checked(field.size.addingReportingOverflow(growth), "field size")
      let shift = try checked(layer.padding.multipliedReportingOverflow(by: field.stride), "padding")
      field.padding = try checked(field.padding.addingReportingOverflow(shift), "padding")
      field.stride = try checked(field.stride.multipliedReportingOverflow(by: layer.stride), "stride")
      fields.append(field)
    }
    return fields
  }

  /// The field of the whole stack.
  public static func of(_ stack: ConvStack) -> ReceptiveField {
    perLayer(stack).last ?? ReceptiveField(size: 1, stride: 1, padding: 0)
  }

  /// First input pixel seen by output unit `unit` (may be negative: padding).
  public func start(ofUnit unit: Int) -> Int { unit * stride - padding }

  /// Centre of output unit `unit`'s field, in input pixels (pixel centres at integers).
  public func center(ofUnit unit: Int) -> Double { Double(start(ofUnit: unit)) + Double(size - 1) / 2 }

  /// The output unit whose field is centred nearest to input pixel `x` (not clamped to the
  /// output's extent).
  public func nearestUnit(toPixel x: Int) -> Int {
    Int(((Double(x) - Double(size - 1) / 2 + Double(padding)) / Double(stride)).rounded())
  }

  /// The square of input pixels seen by the unit nearest to pixel `(x, y)`, as
  /// `(x, y, width, height)`; it may extend past the image (the field counts padding).
  public func box(aroundPixel x: Int, _ y: Int) -> (x: Int, y: Int, width: Int, height: Int) {
    (start(ofUnit: nearestUnit(toPixel: x)), start(ofUnit: nearestUnit(toPixel: y)), size, size)
  }
}
