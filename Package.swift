// swift-tools-version: 6.0
import PackageDescription

// Module graph (dependencies flow one way):
//   CImageCodecs ← ImageIO ← Rendering
//   CKernels ← TensorCore
//   Safetensors
//   TensorCore ← Layers ← Models ← Inspection (receptive fields of ConvNet configurations)
// Later layers (Layers, Models, the vit-attend CLI) build on these.

/// Optimisations that matter for numeric code even in debug test builds of C.
let kernelCSettings: [CSetting] = [.unsafeFlags(["-O3"])]

let package = Package(
  name: "VisionAttention",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "vit-attend", targets: ["vit-attend"]),
    .executable(name: "vit-bench", targets: ["vit-bench"]),
    .executable(name: "patch-classify", targets: ["patch-classify"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    // C shim over the system libpng and libjpeg-turbo; exports no Swift API.
    .target(
      name: "CImageCodecs",
      cSettings: kernelCSettings,
      linkerSettings: [.linkedLibrary("png"), .linkedLibrary("jpeg")]
    ),
    // C micro-kernels with run-time CPU dispatch; exports no Swift API.
    .target(name: "CKernels", cSettings: kernelCSettings),

    .target(name: "TensorCore", dependencies: ["CKernels"]),
    .target(name: "ImageIO", dependencies: ["CImageCodecs"]),
    .target(name: "Safetensors"),
    .target(name: "Rendering", dependencies: ["ImageIO"]),
    .target(name: "Inspection", dependencies: ["TensorCore", "Models"]),
    .target(name: "Layers", dependencies: ["TensorCore"]),
    .target(name: "Models", dependencies: ["Layers", "TensorCore", "Safetensors"]),

    .target(
      name: "VitAttendCLI",
      dependencies: [
        "ImageIO", "Inspection", "Layers", "Models", "Rendering", "Safetensors", "TensorCore",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      // The --html page's template, script and style, read through Bundle.module.
      resources: [.copy("Resources")]
    ),
    .executableTarget(name: "vit-attend", dependencies: ["VitAttendCLI"]),
    .executableTarget(
      name: "attention-walkthrough", dependencies: ["ImageIO", "Layers", "TensorCore"],
      path: "Examples/attention-walkthrough", exclude: ["README.md"]),
    .target(
      name: "PatchClassifyKit", dependencies: ["ImageIO", "Inspection", "Models", "Rendering", "Safetensors", "TensorCore"],
      path: "Examples/patch-classify/Sources/PatchClassifyKit"),
    .executableTarget(
      name: "patch-classify",
      dependencies: ["PatchClassifyKit", "TensorCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
      path: "Examples/patch-classify/Sources/patch-classify"),
    .executableTarget(
      name: "vit-bench",
      dependencies: ["TensorCore", "Models", "Inspection", .product(name: "ArgumentParser", package: "swift-argument-parser")]
    ),

    .target(name: "TestSupport", dependencies: ["TensorCore"], path: "Tests/TestSupport"),
    .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"]),
    .testTarget(name: "ImageIOTests", dependencies: ["ImageIO"], resources: [.copy("Fixtures")]),
    .testTarget(name: "SafetensorsTests", dependencies: ["Safetensors"], resources: [.copy("Fixtures")]),
    .testTarget(name: "RenderingTests", dependencies: ["Rendering", "ImageIO"]),
    .testTarget(name: "InspectionTests", dependencies: ["Inspection", "Models"], resources: [.copy("Fixtures")]),
    .testTarget(name: "VitAttendCLITests", dependencies: ["VitAttendCLI", "vit-attend", "attention-walkthrough", "patch-classify", "ImageIO", "Inspection", "Models", "TensorCore"]),
    .testTarget(name: "LayersTests", dependencies: ["Layers", "TensorCore", "TestSupport"]),
    .testTarget(name: "PatchClassifyTests", dependencies: ["PatchClassifyKit", "Models", "TensorCore", "ImageIO"]),
    .testTarget(name: "ModelsTests", dependencies: ["Models", "Layers", "TestSupport", "Safetensors"], resources: [.copy("Fixtures")]),
  ]
)
