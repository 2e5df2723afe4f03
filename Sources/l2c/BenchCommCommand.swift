import ArgumentParser
import Foundation
import L2CBench
import L2CExperiments
import L2CRun

struct BenchCommCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-comm",
        abstract: "Measure the network between the ranks: latency α and inverse bandwidth β of ping-pong, all-reduce, all-gather and reduce-scatter.",
        discussion: """
        Launch under mpirun with the ranks (and hosts) to measure. Message sizes grow by 4× from 1 KB to --max-mb; \
        each time is the slowest rank's. Each collective is fitted to its Hockney ring model (all-reduce: \
        2(p−1)·α + 2(p−1)/p·n·β; all-gather, reduce-scatter: (p−1)·α + (p−1)/p·n·β; ping-pong: α + n·β). \
        With --out, writes OUT/comm.csv (every measurement) and OUT/comm-model.json (α, β per collective), \
        which `l2c scaling` uses for its predictions.
        """)

    @Option(name: .customLong("max-mb"), help: "Largest message in MB.")
    var maxMegabytes: Int = 256

    @Option(help: "Write comm.csv and comm-model.json into this folder.")
    var out: String?

    func run() throws {
        MPIRuntime.run(threads: 1) { comm in
            var options = CommBenchmark.Options()
            options.maxBytes = maxMegabytes << 20
            let hosts = comm.hostCount()
            let console = Console(rank: comm.rank)
            let result = try CommBenchmark.run(options, communicator: comm) { m in
                console.log(String(format: "%-15@ %12d B  %10.2f µs  %8.3f GB/s", m.collective, m.bytes, m.seconds * 1e6, Double(m.bytes) / m.seconds / 1e9))
            }
            let report = CommModelReport(ranks: comm.size, hosts: hosts, models: result.models)
            if let out, comm.isRoot {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                let rows = ["collective,bytes,seconds,repeats,ranks,hosts"]
                    + result.measurements.map { "\($0.collective),\($0.bytes),\($0.seconds),\($0.repeats),\(comm.size),\(hosts)" }
                try (rows.joined(separator: "\n") + "\n").write(toFile: out + "/comm.csv", atomically: true, encoding: .utf8)
                try report.save(out + "/comm-model.json")
            }
            var summary: [String: Any] = ["ranks": comm.size, "hosts": hosts]
            for (collective, model) in result.models {
                summary["\(collective.rawValue)_alpha_us"] = JSONLine.round(model.alpha * 1e6, digits: 4)
                summary["\(collective.rawValue)_gbytes_per_sec"] = JSONLine.round(model.beta > 0 ? 1 / model.beta / 1e9 : 0, digits: 4)
            }
            return summary
        }
    }
}
