/// What a training run logged, written as JSON beside the model.
public struct DetectionLossHistory: Sendable, Codable, Equatable {
  /// One logged optimiser step: the training batch's loss (all decoder layers and query groups,
  /// weighted) and its last layer's unweighted terms.
  public struct Step: Sendable, Codable, Equatable {
    public var step: Int
    public var epoch: Int
    /// Seconds since training started.
    public var seconds: Double
    public var loss: Double
    /// Last layer's cross-entropy, Σ L1 / N and Σ (1 − GIoU) / N (summed over groups).
    public var classification: Double, boxL1: Double, giou: Double
    public var learningRate: Double
    /// Ground-truth boxes in the batch, and how many the last layer's first group left unmatched.
    public var boxes: Int, unmatched: Int
  }

  /// One epoch's end: the validation loss (first query group, inference mode, the last decoder
  /// layer's weighted terms averaged over the validation images), when there is validation data.
  public struct Epoch: Sendable, Codable, Equatable {
    public var epoch: Int
    public var seconds: Double
    public var validationLoss: Double?
  }

  public var steps: [Step] = []
  public var epochs: [Epoch] = []
  /// The schedule, in words ("12 epochs of 375 steps, set by the 20-minute budget").
  public var plan: String = ""
  /// The convergence aid used, with its reference.
  public var convergenceAid: String = ""

  public init() {}
}
