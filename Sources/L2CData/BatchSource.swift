import L2CTensor

/// Where a training step's images and labels come from, one batch (this rank's shard) per call.
public protocol BatchSource: AnyObject {
    func next() throws -> (images: Tensor, labels: [Int])
}
