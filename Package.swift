// swift-tools-version:6.1
import PackageDescription

// Release builds target x86-64-v3 (AVX2/FMA) so that pointer loops vectorise; every HPC node of the last decade has it.
#if arch(x86_64)
let fastMath: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"], .when(configuration: .release))]
#else
let fastMath: [SwiftSetting] = []
#endif

let package = Package(
    name: "L2C",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "l2c", targets: ["l2c"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C libraries
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c"),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas"),
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng"),
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG"),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto"),
        // Peak-rate kernels, each compiled for its own vector ISA and run only where the CPU has it.
        .target(name: "CPeak", cSettings: [.unsafeFlags(["-O2"])]),
        // fp32 → bf16 conversion at vector width.
        .target(name: "CBFloat16", dependencies: ["CPeak"], cSettings: [.unsafeFlags(["-O2"])]),
        // Collectives: the protocol and the single-process implementation; the MPI implementation beside it.
        .target(name: "L2CComm", swiftSettings: fastMath),
        .target(name: "L2CMPI", dependencies: ["CMPI", "L2CComm"], swiftSettings: fastMath),
        // Tensors, layers, models, optimisers.
        .target(name: "L2CTensor", dependencies: ["CBLAS", "CBFloat16", "CDNNL", "CPeak", "L2CComm"], swiftSettings: fastMath),
        // The clustering science: pairwise losses, metrics.
        .target(name: "L2CCluster", dependencies: ["L2CTensor", "L2CComm"], swiftSettings: fastMath),
        // The data layer: formats, streamed and in-memory sources, sharded sampling, safetensors files.
        .target(name: "L2CData", dependencies: ["CCrypto", "CZlib", "CPNG", "CTurboJPEG", "L2CTensor", "L2CComm"], swiftSettings: fastMath),
        // The run lifecycle: configs, phases, the training loop, states and resume, signals, the watchdog, the step
        // timer, the gradient exchange, optimisation settings, logs.
        .target(name: "L2CRun", dependencies: ["L2CCluster", "L2CData", "L2CTensor", "L2CComm"], swiftSettings: fastMath),
        // The experiments: train, cross-task transfer (classes or alphabets; train-spn and cluster as its phases),
        // adapt, acol, eval, and what they score with.
        .target(name: "L2CExperiments", dependencies: ["L2CRun", "L2CCluster", "L2CData", "L2CTensor", "L2CComm"], swiftSettings: fastMath),
        // Benchmarks and the scaling study with its model.
        .target(name: "L2CBench", dependencies: ["L2CExperiments", "L2CRun", "L2CCluster", "L2CData", "L2CTensor", "L2CComm"], swiftSettings: fastMath),
        .executableTarget(
            name: "l2c",
            dependencies: ["L2CBench", "L2CExperiments", "L2CRun", "L2CData", "L2CMPI", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: fastMath),
        .testTarget(name: "L2CTensorTests", dependencies: ["L2CTensor", "L2CComm"], swiftSettings: fastMath),
        .testTarget(name: "L2CClusterTests", dependencies: ["L2CCluster", "L2CTensor", "L2CComm"], swiftSettings: fastMath),
        .testTarget(name: "L2CDataTests", dependencies: ["L2CData", "L2CRun", "L2CTensor"], swiftSettings: fastMath),
        .testTarget(name: "L2CExperimentsTests", dependencies: ["L2CBench", "L2CExperiments", "L2CRun", "L2CData", "L2CTensor", "L2CComm"], swiftSettings: fastMath),
        .testTarget(name: "L2CMPITests", dependencies: ["L2CBench", "L2CExperiments", "L2CRun", "L2CData", "L2CCluster", "L2CTensor", "L2CComm"], swiftSettings: fastMath),
    ],
    swiftLanguageModes: [.v5]
)
