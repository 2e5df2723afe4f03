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

    /// Runs the benchmark on batches from `input` (nil: one fixed synthetic batch).
    public static func run(_ options: Options, input: (any PhaseInput)? = nil, communicator comm: any Communicator,
                           log: (String) -> Void) throws -> [String: Any] {
        guard options.batchSize % comm.size == 0 else {
            throw InputError("--batch-size", "global batch \(options.batchSize) is not divisible by the \(comm.size) ranks")
        }
        guard options.steps > 0 else { throw InputError("--steps", "needs at least one timed step, got \(options.steps)") }
        try options.exchange.validate()
        guard options.imageSize >= 8 else { throw InputError("--image-size", "needs at least 8 pixels, got \(options.imageSize)") }
        let local = options.batchSize / comm.size
        let stem = ResNet.Stem.forImageSize(options.imageSize)
        // The network, optimiser and step of `l2c train --loss ce` on a ResNet: SGD with momentum and weight decay.
        var optimization = Optimization()
        (optimization.optimizer, optimization.learningRate, optimization.momentum, optimization.weightDecay) = (.sgd, 0.01, 0.9, 1e-4)
        (optimization.precision, optimization.synchronizedBatchNorm) = (options.precision, options.synchronizedBatchNorm)
        let architecture = Architecture(rawValue: options.model.rawValue)!
        let precision = try optimization.resolvedPrecision(architecture, communicator: comm)
        let built = try optimization.build(architecture, channels: 3, height: options.imageSize, width: options.imageSize, outputs: options.classes,
                                           seed: options.seed, communicator: comm)
        // With --profile each top-level layer (each residual block) is timed on its own; the computation is the same.
        let layers = flatten(built).map { (name: $0.name, layer: options.profile ? TimedLayer($0.layer) as any Layer : $0.layer) }
        let model = options.profile ? Sequential(layers.map { ($0.name, $0.layer) }) : built
        let parameters = model.parameters
        let step = TrainingStep(parameters: parameters, overlapping: model, optimizer: optimization.makeOptimizer(), exchange: options.exchange,
                                controls: 0, communicator: comm)
        defer { step.close() }
        let source = input ?? SyntheticInput(batch: local, size: options.imageSize, classes: options.classes, seed: options.seed, communicator: comm)
        var read: (images: Tensor, globalLabels: [Int])?
        let body = Phase.step(model, CrossEntropyObjective(), communicator: comm) { batch in
            (read!.images, ObjectiveTargets(batch.pass, labels: Array(comm.share(of: read!.globalLabels))))
        }

        var stepTimes: [Double] = []
        var waitTimes: [Double] = []
        var timers: [StepTimer] = [], threadCPU: [Double] = []
        for index in 0..<(options.warmupSteps + options.steps) {
            let timed = index >= options.warmupSteps
            if index == options.warmupSteps { for case let layer as TimedLayer in layers.map(\.layer) { layer.reset() } }
            comm.barrier()
            let waitStart = now()
            let timer = StepTimer()
            let batch = StepBatch(step: index, epoch: 0, localIndices: [], globalIndices: [],
                                  pass: Pass(training: true, sampleOffset: comm.rank * local, step: index), timer: timer)
            read = try source.batch(batch, communicator: comm)
            let start = now()
            let done = try step.run(batch, learningRate: optimization.learningRate, body)
            threadCPU.append(done.exchange.threadCPUSeconds)
            if timed { timers.append(timer) }
            comm.barrier()
            if timed {
                stepTimes.append(now() - start)
                waitTimes.append(start - waitStart)
            }
        }
        let reducer = step.reducer

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
            let timed = layers.map { $0.layer as! TimedLayer }
            log(profileTable(layers.map(\.name) + ["allreduce (exposed)", "optimizer"], timed.map(\.forwardSeconds) + [0, 0],
                             timed.map(\.backwardSeconds) + [total(.allReduceExposed), total(.optimizer)], steps: options.steps))
        }
        // The step's breakdown: medians per step of each part.
        var breakdown: [String: Any] = ["allreduce_thread_cpu_seconds": JSONLine.round(Self.median(threadCPU), digits: 4)]
        for part in StepTimer.Part.allCases where part != .input && part != .compute && part != .checkpoint {
            breakdown["\(part.rawValue)_seconds"] = JSONLine.round(Self.median(timers.map { $0.seconds[part] ?? 0 }), digits: 4)
        }
        return breakdown.merging(["model": options.model.rawValue, "stem": stem.rawValue, "image_size": options.imageSize,
                "batch_size": options.batchSize, "ranks": comm.size, "hosts": hosts, "threads": threads, "steps": options.steps,
                "batchnorm": options.synchronizedBatchNorm ? "global" : "local",
                "input": source is SyntheticInput ? "synthetic" : "images",
                "step_seconds_median": JSONLine.round(median, digits: 4),
                "overlap": reducer.overlap, "bucket_mb": options.exchange.bucketMegabytes, "allreduce_precision": options.exchange.precision.rawValue, "buckets": reducer.buckets.count,

                "input_wait_seconds_mean": JSONLine.round(meanWait, digits: 4),
                "forward_gflop_per_image": JSONLine.round(forwardFlops / 1e9, digits: 4),
                "parameters": parameters.map { $0.parameter.value.count }.reduce(0, +),
                "batchnorm_layers": model.buffers.filter { $0.name.hasSuffix("running_mean") }.count,
                "images_per_sec": JSONLine.round(imagesPerSecond, digits: 4),
                "gflops": JSONLine.round(gflops, digits: 4),
                "peak_gflops": JSONLine.round(peak, digits: 4),
                "peak_fraction": JSONLine.round(gflops / peak, digits: 3),
                "peak_isa": CPUFeatures.detected.widestFMA, "precision": precision.rawValue,
                "peak_fp32_gflops": JSONLine.round(peakFP32, digits: 4),
                "peak_bf16_gflops": peakBF16.map { JSONLine.round($0, digits: 4) } ?? NSNull(),
                "peak_rss_mb": Int(peakMemory)]) { a, _ in a }
    }

    // MARK: the input pipeline alone

    /// Throughput of the input pipeline alone: batches pulled as fast as the workers deliver them.
    public static func runInput(_ options: Options, input: any PhaseInput, communicator comm: any Communicator) throws -> [String: Any] {
        func read(_ index: Int) throws {
            _ = try input.batch(StepBatch(step: index, epoch: 0, localIndices: [], globalIndices: [], pass: Pass(training: true, step: index),
                                          timer: StepTimer()), communicator: comm)
        }
        for index in 0..<options.warmupSteps { try read(index) }
        comm.barrier()
        let start = now()
        for index in options.warmupSteps..<(options.warmupSteps + options.steps) { try read(index) }
        comm.barrier()
        let seconds = now() - start
        return ["input": "images", "image_size": options.imageSize, "batch_size": options.batchSize, "ranks": comm.size,
                "steps": options.steps, "images_per_sec": JSONLine.round(Double(options.batchSize * options.steps) / seconds, digits: 4),
                "peak_rss_mb": Int(comm.max(Int64(LossBenchmark.peakResidentMegabytes())))]
    }

    // MARK: layers, tables, clocks

    /// Top-level layers, with each residual stage opened into its blocks ("layer1.0", …).
    static func flatten(_ network: Sequential) -> [(name: String, layer: any Layer)] {
        network.layers.flatMap { entry -> [(name: String, layer: any Layer)] in
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

/// One fixed random batch of RGB images on every rank (each rank its own): the input pipeline taken out of the
/// measurement.
final class SyntheticInput: PhaseInput {
    let images: Tensor
    let globalLabels: [Int]
    let size: Int

    init(batch: Int, size: Int, classes: Int, seed: UInt64, communicator comm: any Communicator) {
        self.size = size
        var rng = RandomGenerator(seed: seed &+ UInt64(comm.rank))
        images = Tensor(shape: [batch, 3, size, size])
        for i in 0..<images.count { images[i] = rng.normal() }
        // Every rank's labels, each from its own stream, so that each rank knows the whole global batch's.
        globalLabels = (0..<comm.size).flatMap { rank in
            var labelRNG = RandomGenerator(seed: seed &+ UInt64(rank), stream: 1)
            return (0..<batch).map { _ in Int(labelRNG.next() % UInt64(classes)) }
        }
    }

    var count: Int { globalLabels.count }
    var labels: [Int] { globalLabels }
    var channels: Int { 3 }
    var height: Int { size }
    var width: Int { size }
    var source: String { "synthetic" }

    func batch(_ step: StepBatch, communicator: any Communicator) throws -> (images: Tensor, globalLabels: [Int]) { (images, globalLabels) }
}

/// A layer with its forward and backward time summed, for `l2c bench --profile`.
final class TimedLayer: Layer {
    let inner: any Layer
    private(set) var forwardSeconds = 0.0
    private(set) var backwardSeconds = 0.0

    init(_ inner: any Layer) { self.inner = inner }

    func reset() { (forwardSeconds, backwardSeconds) = (0, 0) }

    func forward(_ x: Tensor, _ pass: Pass) -> Tensor {
        let start = ModelBenchmark.now()
        defer { forwardSeconds += ModelBenchmark.now() - start }
        return inner.forward(x, pass)
    }

    func backward(_ dy: Tensor) -> Tensor {
        let start = ModelBenchmark.now()
        defer { backwardSeconds += ModelBenchmark.now() - start }
        return inner.backward(dy)
    }

    var parameters: [(name: String, parameter: Parameter)] { inner.parameters }
    var buffers: [(name: String, tensor: Tensor)] { inner.buffers }
}
