import Foundation
import L2CComm
import L2CExperiments
import L2CRun

/// What `l2c bench-comm` measured, saved for predictions: α and β per collective, and where.
public struct CommModelReport: Codable, Equatable {
    public var ranks: Int
    public var hosts: Int
    public var models: [String: HockneyModel]

    public init(ranks: Int, hosts: Int, models: [HockneyModel.Collective: HockneyModel]) {
        self.ranks = ranks
        self.hosts = hosts
        self.models = Dictionary(uniqueKeysWithValues: models.map { ($0.key.rawValue, $0.value) })
    }

    public func model(_ collective: HockneyModel.Collective) -> HockneyModel? { models[collective.rawValue] }

    public func save(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    public static func load(_ path: String) throws -> CommModelReport {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw InputError("--comm-model", "cannot read \(path)") }
        do { return try JSONDecoder().decode(CommModelReport.self, from: data) } catch {
            throw InputError("--comm-model", "\(path): expected the comm-model.json written by l2c bench-comm")
        }
    }
}
