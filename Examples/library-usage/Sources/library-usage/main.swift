import VisionAttention

// The built-in model needs no weights; `CheckpointModel(path:)` loads a timm or Hugging
// Face ViT the same way.
let model = BuiltInModel()
let arguments = CommandLine.arguments.dropFirst()
let input = arguments.first ?? "images/cat.png"
let output = arguments.dropFirst().first ?? "cat-overlay.png"

// Decode, resize and run the image; the result knows how tokens map back to its pixels.
let result = try ImageAttention(contentsOfFile: input, model: model)

// Where does the patch under the cat's left eye (pixel 170,113 of the file) look?
let query = result.patch(atX: 170, y: 113)
let map = result.queryMap(x: 170, y: 113)
let top = result.peak(of: map, excluding: query)
print("patch (\(query.column),\(query.row)) attends most, after itself, to patch (\(top.column),\(top.row)) around pixel (\(Int(top.x)),\(Int(top.y))): weight \(top.value)")

// The map as a heat overlay on the image, written through a temporary file and a rename.
try result.overlay(map).writePNG(to: output)
print("wrote \(output)")
