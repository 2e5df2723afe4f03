import ArgumentParser
import Foundation
import L2CBench
import L2CComm
import L2CExperiments
import L2CRun

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict step time and scaling efficiency on a cluster you do not have: nodes × efficiency from one measured run and a network's α and β.",
        discussion: """
        The compute of a step comes from one run of `l2c bench` (its JSON line, --bench), divided by --speedup (how \
        much faster one node computes than that run: e.g. 64 cores at 75% parallel efficiency over a 1-thread run \
        is 48). The network is --alpha-us and --gbits (a ring all-reduce of the gradients: 2(p−1)·α + \
        2(p−1)/p·n·β), or the models `l2c bench-comm --out` measured (--comm-model). With overlap the all-reduce \
        hides behind backward; synchronised BatchNorm adds 2 small all-reduces per layer. With --clusters K, a \
        pairwise loss (KCL, MCL) adds the all-gather and reduce-scatter of the N×K probabilities of the global \
        batch and N_local·N·K pair terms computed at --pair-gflops (8 FLOPs a term: two GEMMs forward, two \
        backward). Weak scaling: the batch per node of the measured run. Prints CSV, then one JSON line.
        """)

    @Option(help: "A file holding the JSON line of a 1-rank `l2c bench` run (the compute baseline).")
    var bench: String

    @Option(help: "Node counts, comma-separated.")
    var nodes: String = "2,4,8,16,32,64,128,256,512,1024,2048,4096"

    @Option(help: "Compute speed of one node relative to the measured run.")
    var speedup: Double = 1

    @Option(name: .customLong("alpha-us"), help: "Network latency α per message in µs (with --gbits; instead of --comm-model).")
    var alphaMicroseconds: Double?

    @Option(help: "Network bandwidth in Gbit/s (with --alpha-us).")
    var gbits: Double?

    @Option(help: "A comm-model.json from `l2c bench-comm --out`.")
    var commModel: String?

    @Option(help: "Overlap the all-reduce with backward: on or off.")
    var overlap: ExchangeOptions.Switch = .on

    @Option(name: .customLong("allreduce-precision"), help: "Gradients on the wire: fp32, or bf16 (half the bytes).")
    var precision: WirePrecision = .fp32

    @Option(help: "Clusters K of a pairwise loss to add (0: none).")
    var clusters: Int = 0

    @Option(name: .customLong("pair-gflops"), help: "GFLOP/s one node computes pair terms at (GEMMs).")
    var pairGflops: Double = 1000

    func run() throws { try LocalRun.run(predict) }

    private func predict() throws {
        guard let text = try? String(contentsOfFile: bench, encoding: .utf8),
              let line = text.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let json = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              var baseline = ScalingRun(bench: json, hosts: 1) else {
            throw InputError("--bench", "\(bench): expected the JSON line of an `l2c bench` run")
        }
        guard speedup > 0 else { throw InputError("--speedup", "must be positive, got \(speedup)") }
        for part in ["forward", "loss", "backward", "optimizer"] { baseline.seconds[part] = (baseline.seconds[part] ?? 0) / speedup }
        let network: CommModelReport
        if let commModel {
            network = try CommModelReport.load(commModel)
        } else if let alphaMicroseconds, let gbits, gbits > 0 {
            let link = HockneyModel(alpha: alphaMicroseconds * 1e-6, beta: 8 / (gbits * 1e9))
            network = CommModelReport(ranks: 0, hosts: 0, models: Dictionary(uniqueKeysWithValues: HockneyModel.Collective.allCases.map { ($0, link) }))
        } else {
            throw InputError("--gbits", "give the network as --alpha-us and --gbits, or --comm-model")
        }
        if precision == .bf16 { baseline.parameters /= 2 }   // half the bytes on the wire
        let counts = try parseCounts(nodes, option: "--nodes", what: "node")
        let prediction = ScalingPrediction(baseline: baseline, network: network, mode: .weak, overlap: overlap == .on)
        let single = prediction.stepSeconds(ranks: 1)
        let perNode = baseline.globalBatch / max(baseline.ranks, 1)
        print("nodes,global_batch,step_seconds,allreduce_seconds,allreduce_exposed_seconds,batchnorm_sync_seconds,efficiency,images_per_sec"
              + (clusters > 0 ? ",pairwise_seconds,efficiency_with_pairwise" : ""))
        var last: [String: Any] = [:]
        for n in [1] + counts {
            let parts = prediction.parts(ranks: n)
            let step = prediction.stepSeconds(ranks: n)
            var row = "\(n),\(perNode * n),\(fmt(step)),\(fmt(parts["allreduce"] ?? 0)),\(fmt(parts["allreduce_exposed"] ?? 0)),\(fmt(parts["batchnorm_sync"] ?? 0)),\(fmt(single / step)),\(fmt(Double(perNode * n) / step))"
            last = ["nodes": n, "efficiency": JSONLine.round(single / step, digits: 4)]
            if clusters > 0 {
                let rate = pairGflops * 1e9 / 8
                let pairwise = prediction.pairwiseSeconds(ranks: n, globalBatch: perNode * n, clusters: clusters, pairRate: rate)
                let pairwiseSingle = prediction.pairwiseSeconds(ranks: 1, globalBatch: perNode, clusters: clusters, pairRate: rate)
                let efficiency = (single + pairwiseSingle) / (step + pairwise)
                row += ",\(fmt(pairwise)),\(fmt(efficiency))"
                last["efficiency_with_pairwise"] = JSONLine.round(efficiency, digits: 4)
            }
            print(row)
        }
        print(JSONLine.encode(last))
    }

    private func fmt(_ v: Double) -> String { String(format: "%.4g", v) }
}
