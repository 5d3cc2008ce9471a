import VAImageIO
import VAModels
import VATensorCore

/// How DETR reads an image (transformers' `DetrImageProcessor`): resized to
/// `DETRPreprocessing.resizedSize` (torchvision's antialiased bilinear, as `DETRDetector` and
/// `vit-attend` resize; no resize when the size already fits), scaled to [0, 1], normalised
/// per channel. Returns `[3, h, w]`: training, evaluation and the saved model's readers all
/// give a non-square image the same input.
public func detrInput(_ image: Image, preprocessing: DETRPreprocessing) -> Tensor {
  let (h, w) = preprocessing.resizedSize(height: image.height, width: image.width)
  let sized = (h, w) == (image.height, image.width) ? image : image.torchvisionResized(width: w, height: h, filter: .bilinear)
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
