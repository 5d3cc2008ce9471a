// swift-tools-version: 6.2
import PackageDescription

// Module graph (dependencies flow one way). Every module carries the `VA` prefix (C shims
// `CVA`) so that none can clash with a framework or another package's module (`ImageIO` is
// Apple's; `Models` and `Layers` are everyone's).
//   CVAImageCodecs ← VAImageIO ← VARendering
//   CVAKernels ← VATensorCore ← VALayers ← VAModels ← VAInspection
//   VASafetensors ← VAModels
//   all of the above ← VisionAttention (the library facade) ← VitAttendCLI ← vit-attend

/// Optimisations that matter for numeric code even in debug test builds of C. Tools
/// version 6.2 lets a package that is used as a versioned dependency carry unsafe flags.
let kernelCSettings: [CSetting] = [.unsafeFlags(["-O3"])]

let package = Package(
  name: "VisionAttention",
  platforms: [.macOS(.v14)],
  products: [
    .library(name: "VisionAttention", targets: ["VisionAttention"]),
    .executable(name: "vit-attend", targets: ["vit-attend"]),
    .executable(name: "vit-bench", targets: ["vit-bench"]),
    .executable(name: "patch-classify", targets: ["patch-classify"]),
    .executable(name: "patch-detect", targets: ["patch-detect"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    // `swift package generate-documentation --target VisionAttention` builds the DocC catalog.
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
  ],
  targets: [
    // C shim over the system libpng and libjpeg-turbo; exports no Swift API.
    .target(
      name: "CVAImageCodecs",
      cSettings: kernelCSettings,
      linkerSettings: [.linkedLibrary("png"), .linkedLibrary("jpeg")]
    ),
    // C micro-kernels with run-time CPU dispatch; exports no Swift API.
    .target(name: "CVAKernels", cSettings: kernelCSettings),

    .target(name: "VATensorCore", dependencies: ["CVAKernels"]),
    .target(name: "VAImageIO", dependencies: ["CVAImageCodecs"]),
    .target(name: "VASafetensors"),
    .target(name: "VARendering", dependencies: ["VAImageIO"]),
    .target(name: "VAInspection", dependencies: ["VATensorCore", "VAModels"]),
    .target(name: "VALayers", dependencies: ["VATensorCore"]),
    .target(name: "VAModels", dependencies: ["VALayers", "VATensorCore", "VASafetensors"]),

    // The library users depend on: image → model → attention record → maps → figures.
    .target(
      name: "VisionAttention",
      dependencies: ["VAImageIO", "VAInspection", "VALayers", "VAModels", "VARendering", "VASafetensors", "VATensorCore"],
      // The --html page's template, style and script, compiled in so the binary needs no
      // resource folder beside it.
      resources: [
        .embedInCode("Page/Resources/inspector.html"), .embedInCode("Page/Resources/inspector.css"),
        .embedInCode("Page/Resources/inspector-maps.js"), .embedInCode("Page/Resources/inspector.js"),
      ]
    ),

    .target(
      name: "VitAttendCLI",
      // What its files import; VisionAttention re-exports the modules below it.
      dependencies: ["VisionAttention", .product(name: "ArgumentParser", package: "swift-argument-parser")]
    ),
    .executableTarget(name: "vit-attend", dependencies: ["VitAttendCLI"]),
    .executableTarget(
      name: "attention-walkthrough", dependencies: ["VAImageIO", "VALayers", "VATensorCore"],
      path: "Examples/attention-walkthrough", exclude: ["README.md"]),
    .target(
      name: "PatchClassifyKit", dependencies: ["VAImageIO", "VAInspection", "VAModels", "VARendering", "VASafetensors", "VATensorCore"],
      path: "Examples/patch-classify/Sources/PatchClassifyKit"),
    .executableTarget(
      name: "patch-classify",
      dependencies: ["PatchClassifyKit", "VATensorCore", "VisionAttention", .product(name: "ArgumentParser", package: "swift-argument-parser")],
      path: "Examples/patch-classify/Sources/patch-classify"),
    .target(
      name: "PatchDetectKit", dependencies: ["PatchClassifyKit", "VAImageIO", "VAInspection", "VAModels", "VARendering", "VASafetensors", "VATensorCore"],
      path: "Examples/patch-detect/Sources/PatchDetectKit"),
    .executableTarget(
      name: "patch-detect",
      dependencies: ["PatchDetectKit", "VATensorCore", "VisionAttention", .product(name: "ArgumentParser", package: "swift-argument-parser")],
      path: "Examples/patch-detect/Sources/patch-detect"),
    .executableTarget(
      name: "vit-bench",
      dependencies: ["VATensorCore", "VAModels", "VAInspection", "VAImageIO", "VisionAttention", .product(name: "ArgumentParser", package: "swift-argument-parser")],
      // Benchmarks live together: this tool, the peers' scripts (scripts/) and the logs (logs/).
      path: "Benchmarks/vit-bench"
    ),

    .target(name: "VATestSupport", dependencies: ["VATensorCore"], path: "Tests/VATestSupport"),
    .testTarget(name: "VATensorCoreTests", dependencies: ["VATensorCore", "VATestSupport"]),
    .testTarget(name: "VAImageIOTests", dependencies: ["VAImageIO"], resources: [.copy("Fixtures")]),
    .testTarget(name: "VASafetensorsTests", dependencies: ["VASafetensors"], resources: [.copy("Fixtures")]),
    .testTarget(name: "VARenderingTests", dependencies: ["VARendering", "VAImageIO"]),
    .testTarget(name: "VAInspectionTests", dependencies: ["VAInspection", "VAModels", "VASafetensors", "VATensorCore"], resources: [.copy("Fixtures")]),
    .testTarget(
      name: "VitAttendCLITests",
      dependencies: [
        "VisionAttention", "VitAttendCLI", "vit-attend", "vit-bench", "attention-walkthrough", "patch-classify",
        "VAImageIO", "VAInspection", "VAModels", "VARendering", "VASafetensors", "VATensorCore", "VATestSupport",
      ],
      // Fixtures are read by path from the source tree, not bundled.
      exclude: ["Fixtures"]),
    // The library's own tests, in process (no binary run); VitAttendCLITests runs the commands.
    .testTarget(name: "VisionAttentionTests", dependencies: ["VisionAttention"]),
    .testTarget(name: "VALayersTests", dependencies: ["VALayers", "VATensorCore", "VATestSupport"]),
    // Fixtures are read by path (the CLI tests run patch-classify on them too), not bundled.
    .testTarget(name: "PatchClassifyTests", dependencies: ["PatchClassifyKit", "VAModels", "VATensorCore", "VAImageIO"], exclude: ["Fixtures"]),
    // Fixtures are read by path (scipy, torchvision, PyTorch and pycocotools references), not bundled.
    .testTarget(name: "PatchDetectTests", dependencies: ["PatchDetectKit", "patch-detect", "vit-attend", "VAModels", "VASafetensors", "VATensorCore", "VAImageIO", "VATestSupport"], exclude: ["Fixtures"]),
    .testTarget(name: "VAModelsTests", dependencies: ["VAModels", "VALayers", "VATestSupport", "VASafetensors"], resources: [.copy("Fixtures")]),
  ]
)
