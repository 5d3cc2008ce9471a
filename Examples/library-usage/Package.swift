// swift-tools-version: 6.2
// A package that uses VisionAttention as a library, as the README's "Use as a library"
// shows: one dependency line and one product.
import PackageDescription

let package = Package(
  name: "library-usage",
  platforms: [.macOS(.v14)],
  dependencies: [
    // In your own package: .package(url: "<this repository>", from: "0.2.0").
    .package(name: "VisionAttention", path: "../..")
  ],
  targets: [
    .executableTarget(
      name: "library-usage",
      dependencies: [.product(name: "VisionAttention", package: "VisionAttention")]
    )
  ]
)
