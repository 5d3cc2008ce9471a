import VAImageIO
import VAModels
import VATensorCore

/// How DETR reads an image (transformers' `DetrImageProcessor`): resized to
/// `DETRPreprocessing.resizedSize` (bilinear; no resize when the size already fits), scaled
/// to [0, 1], normalised per channel. Returns `[3, h, w]`.
///
/// transformers resizes with PIL; the images patch-detect trains on already have the model's
/// size, so neither library resizes them and the two inputs agree exactly.
public func detrInput(_ image: Image, preprocessing: DETRPreprocessing) -> Tensor {
  let (h, w) = preprocessing.resizedSize(height: image.height, width: image.width)
  let sized = (h, w) == (image.height, image.width) ? image : image.resized(width: w, height: h, filter: .bilinear)
  let c = sized.channels
  var scalars = [Float](repeating: 0, count: 3 * h * w)
  for y in 0..<h {
    for x in 0..<w {
      for k in 0..<3 {
        // A grey image repeats its one channel.
        let v = Float(sized.pixels[(y * w + x) * c + (c >= 3 ? k : 0)]) / 255
        scalars[(k * h + y) * w + x] = (v - preprocessing.mean[k]) / preprocessing.std[k]
      }
    }
  }
  return Tensor(shape: [3, h, w], scalars: scalars)
}
