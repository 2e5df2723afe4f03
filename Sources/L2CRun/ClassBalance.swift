/// Class-balanced batches: `classes` classes × `samples` samples of each.
public struct ClassBalance: Encodable, Sendable, Equatable {
    public var classes: Int
    public var samples: Int
    public init(classes: Int, samples: Int) { (self.classes, self.samples) = (classes, samples) }
    public var batch: Int { classes * samples }
}
