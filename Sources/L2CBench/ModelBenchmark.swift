import Foundation
import L2CCluster
import L2CComm
import L2CData
import L2CExperiments
import L2CRun
import L2CTensor

/// Throughput of a ResNet training step: forward, cross-entropy, backward, gradient all-reduce (several
/// ranks), SGD with momentum — what one step of `l2c train` on images costs.
public enum ModelBenchmark {
    public struct Options {
        public var model: ResNet
        public var imageSize: Int
        /// The global batch, split evenly across ranks.
        public var batchSize: Int
        public var steps: Int
        public var warmupSteps: Int
        public var classes: Int
        public var profile: Bool
        public var seed: UInt64
        public var exchange = GradientExchange()
        /// BatchNorm statistics over the global batch (false: per rank).
        public var synchronizedBatchNorm = true
        public var precision: Precision.Choice = .fp32

        public init(model: ResNet, imageSize: Int, batchSize: Int, steps: Int, warmupSteps: Int = 2, classes: Int = 1000,
                    profile: Bool = false, seed: UInt64 = 1) {
            self.model = model
            self.imageSize = imageSize
            self.batchSize = batchSize
            self.steps = steps
            self.warmupSteps = warmupSteps
            self.classes = classes
            self.profile = profile
            self.seed = seed
        }
    }

    /// Runs the benchmark on batches from `source` (nil: one fixed synthetic batch).
    public static func run(_ options: Options, source: (any BatchSource)? = nil, communicator comm: any Communicator,
                           log: (String) -> Void) throws -> [String: Any] {
        guard options.batchSize % comm.size == 0 else {
            throw InputError("--batch-size", "global batch \(options.batchSize) is not divisible by the \(comm.size) ranks")
        }
        guard options.steps > 0 else { throw InputError("--steps", "needs at least one timed step, got \(options.steps)") }
        try options.exchange.validate()
        guard options.imageSize >= 8 else { throw InputError("--image-size", "needs at least 8 pixels, got \(options.imageSize)") }
        let local = options.batchSize / comm.size
        let stem = ResNet.Stem.forImageSize(options.imageSize)
        var optimization = Optimization()
        optimization.precision = options.precision
        let precision = try optimization.resolvedPrecision(Architecture(rawValue: options.model.rawValue)!, communicator: comm)
        var rng = RandomGenerator(seed: options.seed)
        let trunk = options.model.trunk(stem: stem, precision: precision, rng: &rng,
                                        communicator: options.synchronizedBatchNorm ? TimedCommunicator(comm, into: .batchNorm) : nil)
        let head = Linear(options.model.features, options.classes, rng: &rng)
        let layers = flatten(trunk) + [("fc", head)]
        let parameters = trunk.parameters + head.parameters.map { (name: "fc.\($0.name)", parameter: $0.parameter) }
        let optimizer = SGD(learningRate: 0.01, momentum: 0.9, weightDecay: 1e-4)
        let synthetic = SyntheticBatch(batch: local, channels: 3, size: options.imageSize, classes: options.classes, seed: options.seed &+ UInt64(comm.rank))
        let source = source ?? synthetic

        var forwardTime = [Double](repeating: 0, count: layers.count)
        var backwardTime = [Double](repeating: 0, count: layers.count)
        var stepTimes: [Double] = []
        var waitTimes: [Double] = []
        let flat = FlatParameters(parameters)
        let reducer = GradientReducer(flat: flat, parameters: parameters, communicator: comm, exchange: options.exchange)
        defer { reducer.close() }
        reducer.watch(layers.map(\.layer))
        var timers: [StepTimer] = [], threadCPU: [Double] = []
        for step in 0..<(options.warmupSteps + options.steps) {
            let timed = step >= options.warmupSteps
            comm.barrier()
            let waitStart = now()
            let (images, labels) = try comm.checked("reading the input batch") { try source.next() }
            let start = now()
            let timer = StepTimer()
            var x = images
            for (i, entry) in layers.enumerated() {
                let t = now()
                x = entry.layer.forward(x, Pass(training: true, step: step))
                if timed { forwardTime[i] += now() - t }
            }
            timer.lap(.forward)
            let (_, gradLogits) = CrossEntropy.evaluate(logits: x, labels: labels, communicator: comm)
            timer.lap(.loss)
            var g = gradLogits
            for (i, entry) in layers.enumerated().reversed() {
                let t = now()
                g = entry.layer.backward(g)
                if timed { backwardTime[i] += now() - t }
                reducer.backwardFinished(entry.layer)
            }
            timer.lap(.backward)
            var noControl: [Float] = []
            let exchange = reducer.finish(control: &noControl)
            timer.add(.allReduce, exchange.allReduceSeconds)
            timer.add(.allReduceExposed, exchange.exposedSeconds)
            threadCPU.append(exchange.threadCPUSeconds)
            timer.start()
            optimizer.step(parameters)
            flat.zeroGradients()
            timer.lap(.optimizer)
            if timed { timers.append(timer) }
            comm.barrier()
            if timed {
                stepTimes.append(now() - start)
                waitTimes.append(start - waitStart)
            }
        }

        let median = Self.median(stepTimes)
        let meanStep = stepTimes.reduce(0, +) / Double(stepTimes.count)
        let meanWait = waitTimes.reduce(0, +) / Double(waitTimes.count)
        // Throughput over the whole loop, input waits included: what a training run would see.
        let imagesPerSecond = Double(options.batchSize) / (meanStep + meanWait)
        // FLOPs per image: forward multiply-adds × 2, training step ≈ 3 × forward (the usual convention).
        let forwardFlops = 2 * (options.model.forwardMultiplyAdds(imageSize: options.imageSize, stem: stem)
                                + Double(options.model.features * options.classes))
        let gflops = imagesPerSecond * 3 * forwardFlops / 1e9
        let threads = ComputeThreads.count
        let peakFP32 = MachinePeak.measure(threads: threads) * Double(comm.size)
        let peakBF16 = MachinePeak.measureBF16(threads: threads).map { $0 * Double(comm.size) }
        // The denominator is the peak of the arithmetic the convolutions run in.
        let peak = precision == .bf16 ? peakBF16 ?? peakFP32 : peakFP32
        let peakMemory = comm.max(Int64(LossBenchmark.peakResidentMegabytes()))
        let hosts = comm.hostCount()
        if options.profile && comm.rank == 0 {
            let total = { (part: StepTimer.Part) in timers.map { $0.seconds[part] ?? 0 }.reduce(0, +) }
            log(profileTable(layers.map(\.name) + ["allreduce (exposed)", "optimizer"], forwardTime + [0, 0],
                             backwardTime + [total(.allReduceExposed), total(.optimizer)], steps: options.steps))
        }
        // The step's breakdown: medians per step of each part.
        var breakdown: [String: Any] = ["allreduce_thread_cpu_seconds": JSONLine.round(Self.median(threadCPU), digits: 4)]
        for part in StepTimer.Part.allCases where part != .input && part != .compute && part != .checkpoint {
            breakdown["\(part.rawValue)_seconds"] = JSONLine.round(Self.median(timers.map { $0.seconds[part] ?? 0 }), digits: 4)
        }
        return breakdown.merging(["model": options.model.rawValue, "stem": stem.rawValue, "image_size": options.imageSize,
                "batch_size": options.batchSize, "ranks": comm.size, "hosts": hosts, "threads": threads, "steps": options.steps,
                "batchnorm": options.synchronizedBatchNorm ? "global" : "local",
                "input": source is SyntheticBatch ? "synthetic" : "images",
                "step_seconds_median": JSONLine.round(median, digits: 4),
                "overlap": reducer.overlap, "bucket_mb": options.exchange.bucketMegabytes, "allreduce_precision": options.exchange.precision.rawValue, "buckets": reducer.buckets.count,

                "input_wait_seconds_mean": JSONLine.round(meanWait, digits: 4),
                "forward_gflop_per_image": JSONLine.round(forwardFlops / 1e9, digits: 4),
                "parameters": parameters.map { $0.parameter.value.count }.reduce(0, +),
                "batchnorm_layers": trunk.buffers.filter { $0.name.hasSuffix("running_mean") }.count,
                "images_per_sec": JSONLine.round(imagesPerSecond, digits: 4),
                "gflops": JSONLine.round(gflops, digits: 4),
                "peak_gflops": JSONLine.round(peak, digits: 4),
                "peak_fraction": JSONLine.round(gflops / peak, digits: 3),
                "peak_isa": CPUFeatures.detected.widestFMA, "precision": precision.rawValue,
                "peak_fp32_gflops": JSONLine.round(peakFP32, digits: 4),
                "peak_bf16_gflops": peakBF16.map { JSONLine.round($0, digits: 4) } ?? NSNull(),
                "peak_rss_mb": Int(peakMemory)]) { a, _ in a }
    }

    /// Throughput of the input pipeline alone: batches pulled as fast as the workers deliver them.
    public static func runInput(_ options: Options, source: any BatchSource, communicator comm: any Communicator) throws -> [String: Any] {
        for _ in 0..<options.warmupSteps { _ = try source.next() }
        comm.barrier()
        let start = now()
        for _ in 0..<options.steps { _ = try source.next() }
        comm.barrier()
        let seconds = now() - start
        return ["input": "images", "image_size": options.imageSize, "batch_size": options.batchSize, "ranks": comm.size,
                "steps": options.steps, "images_per_sec": JSONLine.round(Double(options.batchSize * options.steps) / seconds, digits: 4),
                "peak_rss_mb": Int(comm.max(Int64(LossBenchmark.peakResidentMegabytes())))]
    }

    /// Top-level layers, with each residual stage opened into its blocks ("layer1.0", …).
    static func flatten(_ trunk: Sequential) -> [(name: String, layer: any Layer)] {
        trunk.layers.flatMap { entry -> [(name: String, layer: any Layer)] in
            guard let stage = entry.layer as? Sequential else { return [entry] }
            return stage.layers.map { (name: "\(entry.name).\($0.name)", layer: $0.layer) }
        }
    }

    static func profileTable(_ names: [String], _ forward: [Double], _ backward: [Double], steps: Int) -> String {
        let total = forward.reduce(0, +) + backward.reduce(0, +)
        var lines = ["layer           forward ms  backward ms   share"]
        for (i, name) in names.enumerated() {
            let f = forward[i] / Double(steps) * 1000, b = backward[i] / Double(steps) * 1000
            lines.append(name.padding(toLength: 14, withPad: " ", startingAt: 0)
                         + String(format: "%12.1f %12.1f %6.1f%%", f, b, (forward[i] + backward[i]) / total * 100))
        }
        lines.append("total".padding(toLength: 14, withPad: " ", startingAt: 0)
                     + String(format: "%12.1f %12.1f", forward.reduce(0, +) / Double(steps) * 1000, backward.reduce(0, +) / Double(steps) * 1000))
        return lines.joined(separator: "\n")
    }

    static func median(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.sorted()[values.count / 2] }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}

/// One fixed random batch: the input pipeline taken out of the measurement.
final class SyntheticBatch: BatchSource {
    let images: Tensor
    let labels: [Int]

    init(batch: Int, channels: Int, size: Int, classes: Int, seed: UInt64) {
        var rng = RandomGenerator(seed: seed)
        images = Tensor(shape: [batch, channels, size, size])
        for i in 0..<images.count { images[i] = rng.normal() }
        labels = (0..<batch).map { _ in Int(rng.next() % UInt64(classes)) }
    }

    func next() throws -> (images: Tensor, labels: [Int]) { (images, labels) }
}
