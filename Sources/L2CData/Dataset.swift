/// Samples as float32 images [count][channels][height][width] with integer class labels.
public struct Dataset: Sendable {
    public let images: [Float]
    public let labels: [Int]
    public let channels: Int
    public let height: Int
    public let width: Int
    /// Where it came from, for messages.
    public let source: String

    public init(images: [Float], labels: [Int], channels: Int, height: Int, width: Int, source: String) {
        precondition(images.count == labels.count * channels * height * width, "image data does not match \(labels.count) samples")
        self.images = images
        self.labels = labels
        self.channels = channels
        self.height = height
        self.width = width
        self.source = source
    }

    public var count: Int { labels.count }
    public var sampleSize: Int { channels * height * width }
    public var classes: [Int] { Array(Set(labels)).sorted() }

    /// The samples whose label is in `keep`, in their original order.
    public func filter(labels keep: Set<Int>) -> Dataset {
        var images: [Float] = []
        var labels: [Int] = []
        for i in 0..<count where keep.contains(self.labels[i]) {
            images.append(contentsOf: self.images[(i * sampleSize)..<((i + 1) * sampleSize)])
            labels.append(self.labels[i])
        }
        return Dataset(images: images, labels: labels, channels: channels, height: height, width: width, source: source)
    }
}
