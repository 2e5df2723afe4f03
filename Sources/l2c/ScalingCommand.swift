import ArgumentParser
import Foundation
import L2CBench
import L2CComm
import L2CExperiments
import L2CRun
import L2CTensor

extension ScalingStudy.Mode: ExpressibleByArgument {}

struct ScalingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaling",
        abstract: "Run a weak- or strong-scaling study of ResNet training over rank counts and hosts; write OUT/scaling.csv and OUT/scaling.html.",
        discussion: """
        Run it directly, not under mpirun: for each --ranks count it launches `mpirun -np R … l2c bench` (over \
        --hostfile, or the hosts of the Slurm allocation it runs in, ranks spread over the hosts with --map-by node), \
        and appends a row to OUT/scaling.csv: images/s, efficiency against the smallest run, the step's time \
        breakdown and the communication model's prediction. The network is measured first with `l2c bench-comm` \
        on the most ranks (or read from --comm-model). OUT/scaling.html draws throughput, efficiency and the \
        breakdown against ranks, measured beside predicted. Each run's log is kept in OUT/runs/.
        """)

    @Option(help: "Rank counts to run, comma-separated (e.g. 1,2,4,8).")
    var ranks: String

    @Option(help: "weak: --batch-size per rank at every rank count; strong: --batch-size is the global batch of every run.")
    var mode: ScalingStudy.Mode = .weak

    @Option(help: "resnet18, resnet34 or resnet50.")
    var model: ResNet = .resnet18

    @Option(help: "Square input side (under 64: the small-image stem).")
    var imageSize: Int = 224

    @Option(help: "Images per rank (weak) or per step over all ranks (strong).")
    var batchSize: Int = 32

    @Option(help: "Timed steps per run.")
    var steps: Int = 5

    @Option(help: "Untimed warm-up steps per run.")
    var warmup: Int = 2

    @Option(help: "Compute threads per rank.")
    var threads: Int = 1

    @Option(help: "Hostfile for mpirun (default: the Slurm allocation, or this host).")
    var hostfile: String?

    @Option(help: "Extra arguments for every mpirun, as one string after an equals sign (e.g. --mpirun-args=\"--mca btl tcp,self --oversubscribe\").")
    var mpirunArgs: String = ""

    @Option(help: "A comm-model.json from `l2c bench-comm --out` to predict with, instead of measuring the network first.")
    var commModel: String?

    @Option(help: "All ranks share this many cores (fake hosts on one machine): the prediction slows compute when they are crowded.")
    var sharedCores: Int?

    @Flag(name: .customLong("local-batchnorm"), help: "BatchNorm statistics per rank instead of over the global batch.")
    var localBatchNorm = false

    @OptionGroup(title: "Gradient exchange")
    var exchange: ExchangeOptions

    @Option(help: "Folder for scaling.csv, scaling.html, comm-model.json and the runs' logs.")
    var out: String

    func run() throws { try LocalRun.run(study) }

    private func study() throws {
        let counts = try parseCounts(ranks, option: "--ranks", what: "rank")
        if mode == .strong, let r = counts.first(where: { batchSize % $0 != 0 }) {
            throw InputError("--batch-size", "strong scaling splits the global batch \(batchSize) over the ranks: not divisible by \(r)")
        }
        if let hostfile, !FileManager.default.fileExists(atPath: hostfile) { throw InputError("--hostfile", "\(hostfile) does not exist") }
        let runsFolder = (out as NSString).appendingPathComponent("runs")
        try FileManager.default.createDirectory(atPath: runsFolder, withIntermediateDirectories: true)

        var study = ScalingStudy(model: model.rawValue, imageSize: imageSize, mode: mode, overlap: exchange.overlap == .on)
        let network: CommModelReport?
        if let commModel {
            network = try CommModelReport.load(commModel)
        } else if let most = counts.max(), most > 1 {
            let path = (out as NSString).appendingPathComponent("comm-model.json")
            note("measuring the network on \(most) ranks (l2c bench-comm)")
            _ = try launch(ranks: most, ["bench-comm", "--max-mb", "64", "--out", out], log: runsFolder + "/bench-comm.log")
            network = try CommModelReport.load(path)
        } else {
            network = nil
        }
        for r in counts.sorted() {
            let global = mode == .weak ? batchSize * r : batchSize
            var arguments = ["bench", "--model", model.rawValue, "--image-size", "\(imageSize)", "--batch-size", "\(global)",
                             "--steps", "\(steps)", "--warmup", "\(warmup)", "--threads", "\(threads)",
                             "--overlap", exchange.overlap.rawValue, "--bucket-mb", "\(exchange.bucketMegabytes)",
                             "--allreduce-precision", exchange.precision.rawValue]
            if localBatchNorm { arguments.append("--local-batchnorm") }
            let json = try launch(ranks: r, arguments, log: runsFolder + "/ranks-\(r).log")
            guard let run = ScalingRun(bench: json, hosts: (json["hosts"] as? NSNumber)?.intValue ?? 1) else {
                throw InputError("--ranks", "the \(r)-rank run's summary lacks fields (see \(runsFolder)/ranks-\(r).log)")
            }
            study.runs.append(run)
            if let network, let base = study.baseline {
                study.prediction = ScalingPrediction(baseline: base, network: network, mode: mode, overlap: study.overlap, sharedCores: sharedCores)
            }
            // Written after every run: a study cut short keeps what it measured.
            try write(study)
            note(String(format: "%d rank(s) on %d host(s): %.2f images/s, efficiency %.3f, all-reduce %.4f s (exposed %.4f s)", r, run.hosts,
                        run.imagesPerSecond, study.efficiency(imagesPerSecond: run.imagesPerSecond, ranks: r),
                        run.seconds["allreduce"] ?? 0, run.seconds["allreduce_exposed"] ?? 0))
        }
        let last = study.runs.max { $0.ranks < $1.ranks }!
        print(JSONLine.encode(["csv": out + "/scaling.csv", "html": out + "/scaling.html", "runs": study.runs.count, "mode": mode.rawValue,
                               "max_ranks": last.ranks, "efficiency": JSONLine.round(study.efficiency(imagesPerSecond: last.imagesPerSecond, ranks: last.ranks), digits: 4)]))
    }

    private func write(_ study: ScalingStudy) throws {
        try study.csv().write(toFile: out + "/scaling.csv", atomically: true, encoding: .utf8)
        let title = "\(study.mode == .weak ? "Weak" : "Strong") scaling of \(study.model) at \(imageSize)×\(imageSize)"
        try ScalingReport.html(study, title: title).write(toFile: out + "/scaling.html", atomically: true, encoding: .utf8)
    }

    /// `mpirun -np ranks … l2c arguments…`; its output goes to `log`; returns the JSON of its last stdout line.
    private func launch(ranks: Int, _ arguments: [String], log: String) throws -> [String: Any] {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var mpirun = ["mpirun", "-np", "\(ranks)", "--map-by", "node", "--bind-to", "none"]
        // As root, mpirun refuses to start without this (or OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1).
        if geteuid() == 0 { mpirun.append("--allow-run-as-root") }
        if let hostfile { mpirun += ["--hostfile", hostfile] }
        mpirun += mpirunArgs.split(separator: " ").map(String.init)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = mpirun + [executable] + arguments
        FileManager.default.createFile(atPath: log, contents: nil)
        let stdout = Pipe()
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = stdout
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        logHandle.write(output)
        try logHandle.close()
        let lastLine = String(decoding: output, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard process.terminationStatus == 0,
              let json = try? JSONSerialization.jsonObject(with: Data(lastLine.utf8)) as? [String: Any] else {
            let reason = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").last(where: { $0.contains("error") }).map(String.init)
            throw InputError("--ranks", "the \(ranks)-rank run failed (exit \(process.terminationStatus)): \(reason ?? "see \(log)")")
        }
        return json
    }

    private func note(_ text: String) { FileHandle.standardError.write(Data("l2c: scaling: \(text)\n".utf8)) }
}
