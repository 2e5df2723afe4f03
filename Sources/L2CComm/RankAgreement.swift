/// Fail-fast checks that keep ranks from hanging when one of them cannot go on.
///
/// A rank that fails a step alone would leave the others blocked in their next collective.
/// `checked` runs the step on every rank, then all ranks vote: if any failed, every rank throws,
/// the failing ones with their own error and the others naming the failing rank.
public struct PeerFailure: Error, CustomStringConvertible {
    public let stage: String
    public let failedRank: Int
    public var description: String { "rank \(failedRank) failed during \(stage) (see its message)" }
}

/// Ranks that disagree about something they must share (configuration, dataset size, parameter shapes).
public struct RankDisagreement: Error, CustomStringConvertible {
    public let what: String
    public let values: [Int64]
    public var description: String {
        "ranks disagree about \(what): " + values.enumerated().map { "rank \($0.offset)=\($0.element)" }.joined(separator: ", ")
    }
}

extension Communicator {
    /// Runs `body` on every rank; rethrows on every rank if it failed on any.
    public func checked<T>(_ stage: String, _ body: () throws -> T) throws -> T {
        var result: Result<T, Error>
        do { result = .success(try body()) } catch { result = .failure(error) }
        var failed = Int64(-1)
        if case .failure = result { failed = Int64(rank) }
        let firstFailure = max(failed)
        switch result {
        case .success(let value):
            if firstFailure >= 0 { throw PeerFailure(stage: stage, failedRank: Int(firstFailure)) }
            return value
        case .failure(let error):
            throw error
        }
    }

    /// Throws on every rank unless all ranks hold the same value.
    public func requireAgreement(_ what: String, _ value: Int64) throws {
        let values = gather(value)
        if values.contains(where: { $0 != values[0] }) { throw RankDisagreement(what: what, values: values) }
    }
}

/// A stable 64-bit FNV-1a hash, for comparing configurations across ranks.
public func stableHash(_ text: String) -> Int64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
    }
    return Int64(bitPattern: hash)
}
