// The library's umbrella: `import VisionAttention` brings every module a user needs.
@_exported import VAImageIO
@_exported import VAInspection
@_exported import VALayers
@_exported import VAModels
@_exported import VARendering
@_exported import VASafetensors
@_exported import VATensorCore
