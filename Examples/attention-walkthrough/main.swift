// Self-attention on an image, step by step, in the lecture's matrix form:
// patches become vectors, positions are added, Q = X·W_q, K = X·W_k, V = X·W_v,
// A = softmax(Q·Kᵀ / √d), output = A·V; then several heads, then a local window.
//
// Usage: swift run -c release attention-walkthrough [IMAGE]   (default images/cat.png)
import Foundation
import VAImageIO
import VALayers
import VATensorCore

let path = CommandLine.arguments.dropFirst().first ?? "images/cat.png"
let image: Image
do {
  image = try Image(contentsOfFile: path).rgb()
} catch {
  FileHandle.standardError.write(Data("attention-walkthrough: \(error)\n".utf8))
  exit(1)
}

// 1. An image becomes a set of vectors: 16x16 patches, each flattened to 3·16·16 numbers.
let patch = 16
let width = 192, height = max(patch, image.height * width / image.width / patch * patch)
let small = image.resized(width: width, height: image.height * width / image.width, filter: .bicubic)
  .cropped(x: 0, y: 0, width: width, height: height)
let pixels = Tensor(shape: [3, height, width], scalars: small.planarFloats(mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]))
let patches = Patchifier.patchify(pixels, patchSize: patch)
let (gridWidth, gridHeight) = (width / patch, height / patch)
print("1. \(path): \(width)x\(height) pixels -> \(patches.shape[0]) patches of \(patches.shape[1]) numbers (a \(gridWidth)x\(gridHeight) grid)")

// 2. Embed each patch to d = 64 channels and add 2D sin-cos positions, so attention can
//    tell where a patch is, not only what it looks like.
var rng = SplitMix64(seed: 0)
let d = 64
let embed = Linear(inputs: patches.shape[1], outputs: d, using: &rng)
let positions = Tensor(shape: [patches.shape[0], d], scalars: SinCosPositionalEncoding.twoDimensional(gridWidth: gridWidth, gridHeight: gridHeight, dimension: d))
let x = embed(patches) + positions
print("2. X = patches · W_e + positions: \(x.shape)")

// 3. The matrix form of one head: every patch compares itself with every other at once.
let scale: Float = 3  // random projections give flat attention; scaled, they show structure
let wq = Tensor.randomNormal([d, d], std: scale / Float(d).squareRoot(), using: &rng)
let wk = Tensor.randomNormal([d, d], std: scale / Float(d).squareRoot(), using: &rng)
let wv = Tensor.randomNormal([d, d], std: 1 / Float(d).squareRoot(), using: &rng)
let q = matmul(x, wq), k = matmul(x, wk), v = matmul(x, wv)
let a = softmax(matmul(q, k, transposeB: true) * (1 / Float(d).squareRoot()))
let out = matmul(a, v)
let n = patches.shape[0]
let rowSums = (0..<n).map { row in a.scalars[(row * n)..<((row + 1) * n)].reduce(0, +) }
print("3. Q, K, V: \(q.shape); A = softmax(Q·Kᵀ/√d): \(a.shape), rows sum to \(String(format: "%.4f", rowSums.min()!))...\(String(format: "%.4f", rowSums.max()!)); output A·V: \(out.shape)")
let query = (gridHeight / 2) * gridWidth + gridWidth / 2
let strongest = (0..<n).sorted { a.scalars[query * n + $0] > a.scalars[query * n + $1] }.prefix(3)
print("   patch (\(query % gridWidth),\(query / gridWidth)) attends most to " + strongest.map { "(\($0 % gridWidth),\($0 / gridWidth)) \(String(format: "%.2f", a.scalars[query * n + $0]))" }.joined(separator: ", "))

// 4. Multi-head attention: the same computation in h smaller subspaces, side by side.
let heads = 4
let attention = MultiHeadSelfAttention(qkv: Linear(weight: concat([wq, wk, wv].map { $0.transposed(0, 1) }, axis: 0), bias: nil), projection: Linear(inputs: d, outputs: d, using: &rng), headCount: heads)
let (_, weights) = attention(x, record: true)
print("4. \(heads) heads of \(d / heads) channels: attention weights \(weights!.shape)")

// 5. Truncated self-attention: a patch may only look within one patch of itself, like a 3x3
//    convolution's window; everything else gets exactly zero weight.
let window = AttentionMask.window(radius: 1).allowed(prefixTokens: 0, gridWidth: gridWidth, gridHeight: gridHeight)!
let (_, local) = attention(x, mask: Tensor.attentionMask(allowed: window, shape: [n, n]), record: true)
let nonZero = local!.scalars.filter { $0 > 0 }.count
print("5. window radius 1: \(nonZero) non-zero weights of \(heads * n * n) (at most 9 per query per head: \(heads * n * 9))")
