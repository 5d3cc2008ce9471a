import Foundation
import VASafetensors
import VATensorCore

/// Errors while saving or resuming a training run.
public enum CheckpointStoreError: Error, CustomStringConvertible {
  case noCheckpoint(runDirectory: String)
  case unreadable(path: String, reason: String)
  case mismatch(path: String, reason: String)
  case writeFailed(path: String, reason: String)

  public var description: String {
    switch self {
    case .noCheckpoint(let dir): "\(dir): no checkpoint to resume from (expected \(dir)/checkpoint/)"
    case .unreadable(let path, let reason): "\(path): \(reason)"
    case .mismatch(let path, let reason): "\(path): does not fit this run: \(reason)"
    case .writeFailed(let path, let reason): "cannot write \(path): \(reason)"
    }
  }
}

/// What a resumed run needs besides the weights.
public struct TrainerProgress: Codable, Sendable, Equatable {
  /// Optimiser steps completed.
  public var step: Int
  public var history: TrainingHistory
  /// Wall seconds of the training loop so far (a resumed run keeps counting).
  public var trainSeconds: Double
  /// Of those, the seconds spent in training steps (batching, forward, backward, update).
  public var stepSeconds: Double
  /// The configuration the run started with; resuming under another one is refused.
  public var configuration: TrainingConfiguration
}

/// A run's checkpoint folder, `runDirectory/checkpoint/`:
/// `model.safetensors` and `config.json` (the model's own layout, for a ViT timm's, so
/// `vit-attend --weights` and timm load it) plus `trainer_state.safetensors` (AdamW moments
/// as `m.<name>` and `v.<name>`, batch-norm buffers, and the step and history as metadata).
///
/// Saving writes a complete new folder beside the old one and swaps them with renames, so a
/// crash at any moment leaves a whole checkpoint (`checkpoint/`, or `checkpoint.old/` during
/// the swap, which `resume` also accepts): an interrupted run loses at most the steps since.
public struct CheckpointStore: Sendable {
  public let runDirectory: String

  public init(runDirectory: String) { self.runDirectory = runDirectory }

  public var folder: String { path("checkpoint") }
  private func path(_ name: String) -> String { (runDirectory as NSString).appendingPathComponent(name) }

  /// Saves `model`, the optimiser's state for its parameters, and `progress`.
  public func save(_ model: some ImageClassifier, optimizer: AdamW, progress: TrainerProgress) throws(CheckpointStoreError) {
    let manager = FileManager.default
    let staging = path("checkpoint.new"), old = path("checkpoint.old")
    do {
      try? manager.removeItem(atPath: staging)
      try manager.createDirectory(atPath: staging, withIntermediateDirectories: true)
      try model.save(to: staging)
      var state = SafetensorsWriter()
      state.metadata["progress"] = String(decoding: try JSONEncoder().encode(progress), as: UTF8.self)
      for (name, tensor) in model.namedParameters {
        guard let s = optimizer.state(of: tensor) else { continue }
        state.add("m.\(name)", shape: tensor.shape, values: s.m)
        state.add("v.\(name)", shape: tensor.shape, values: s.v)
        state.metadata["step.\(name)"] = String(s.step)
      }
      for (name, tensor) in model.namedBuffers { state.add("buffer.\(name)", shape: tensor.shape, values: tensor.scalars) }
      try Data(state.serialized()).write(to: URL(fileURLWithPath: (staging as NSString).appendingPathComponent("trainer_state.safetensors")))
      // The swap: checkpoint -> checkpoint.old, checkpoint.new -> checkpoint, drop the old.
      try? manager.removeItem(atPath: old)
      if manager.fileExists(atPath: folder) { try manager.moveItem(atPath: folder, toPath: old) }
      try manager.moveItem(atPath: staging, toPath: folder)
      try? manager.removeItem(atPath: old)
    } catch {
      throw .writeFailed(path: folder, reason: "\(error)")
    }
  }

  /// Whether there is a checkpoint to resume from.
  public var exists: Bool { existingFolder != nil }

  private var existingFolder: String? {
    [folder, path("checkpoint.old")].first { FileManager.default.fileExists(atPath: ($0 as NSString).appendingPathComponent("trainer_state.safetensors")) }
  }

  /// The training configuration the checkpoint's run started with, or nil without one.
  public func storedConfiguration() throws(CheckpointStoreError) -> TrainingConfiguration? {
    guard let folder = existingFolder else { return nil }
    let statePath = (folder as NSString).appendingPathComponent("trainer_state.safetensors")
    guard let state = try? SafetensorsFile(path: statePath), let json = state.metadata["progress"],
      let progress = try? JSONDecoder().decode(TrainerProgress.self, from: Data(json.utf8))
    else {
      throw .mismatch(path: statePath, reason: "no readable training progress in its metadata")
    }
    return progress.configuration
  }

  /// Loads the latest checkpoint into `model` (every parameter and buffer by name, element
  /// counts checked) and `optimizer`, and returns the progress to continue from.
  public func restore(into model: inout some ImageClassifier, optimizer: inout AdamW, expecting expected: TrainingConfiguration) throws(CheckpointStoreError) -> TrainerProgress {
    guard let folder = existingFolder else { throw .noCheckpoint(runDirectory: runDirectory) }
    let weightsPath = (folder as NSString).appendingPathComponent("model.safetensors")
    let statePath = (folder as NSString).appendingPathComponent("trainer_state.safetensors")
    do {
      let weights = try SafetensorsFile(path: weightsPath), state = try SafetensorsFile(path: statePath)
      for (name, tensor) in model.namedParameters {
        tensor.scalars = try Self.values(weights, name, count: tensor.count)
        if let step = state.metadata["step.\(name)"].flatMap(Int.init) {
          optimizer.setState(
            AdamW.ParameterState(
              step: step, m: try Self.values(state, "m.\(name)", count: tensor.count), v: try Self.values(state, "v.\(name)", count: tensor.count)), of: tensor)
        }
      }
      for (name, tensor) in model.namedBuffers { tensor.scalars = try Self.values(state, "buffer.\(name)", count: tensor.count) }
      guard let json = state.metadata["progress"], let progress = try? JSONDecoder().decode(TrainerProgress.self, from: Data(json.utf8)) else {
        throw CheckpointStoreError.mismatch(path: statePath, reason: "no readable training progress in its metadata")
      }
      guard progress.configuration == expected else {
        throw CheckpointStoreError.mismatch(path: statePath, reason: "it was trained with other settings (\(progress.configuration)); resume with the same options")
      }
      return progress
    } catch let error as CheckpointStoreError {
      throw error
    } catch {
      throw .unreadable(path: folder, reason: "\(error)")
    }
  }

  private static func values(_ file: SafetensorsFile, _ name: String, count: Int) throws -> [Float] {
    guard file.info(name) != nil else { throw CheckpointStoreError.mismatch(path: file.path, reason: "no tensor '\(name)'") }
    let values = try file.floats(name)
    guard values.count == count else {
      throw CheckpointStoreError.mismatch(path: file.path, reason: "'\(name)' has \(values.count) values, the model needs \(count)")
    }
    return values
  }
}
