import Foundation
import L2CData
import XCTest

/// Runs the built `l2c` under a real `mpirun` and collects what it printed.
struct Launch {
    let status: Int32
    let stdout: String
    let stderr: String
    let seconds: Double

    /// The JSON object on the last stdout line.
    var summary: [String: Any]? {
        guard let last = stdout.split(separator: "\n").last else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
    }
}

enum Launcher {
    /// The folder holding the test bundle and the executables built with it.
    static let buildFolder: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: exe).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("l2c").path) && url.path != "/" {
            url.deleteLastPathComponent()
        }
        return url.path
    }()

    static var l2c: String { buildFolder + "/l2c" }

    /// `mpirun -np ranks l2c arguments…`; `mpmd` adds further `: -np 1 l2c …` programs.
    static func mpirun(ranks: Int, _ arguments: [String], mpmd: [[String]] = [], timeout: Double = 240) throws -> Launch {
        var args = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-x", "OMPI_MCA_btl_vader_single_copy_mechanism=none",
                    "-np", "\(ranks)", l2c] + arguments + ["--threads", "1"]
        for program in mpmd { args += [":", "-np", "1", l2c] + program + ["--threads", "1"] }
        return try run("/usr/bin/mpirun", args, timeout: timeout)
    }

    static func run(_ executable: String, _ arguments: [String], timeout: Double) throws -> Launch {
        let folder = NSTemporaryDirectory() + "l2c-launch-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        FileManager.default.createFile(atPath: folder + "/out", contents: nil)
        FileManager.default.createFile(atPath: folder + "/err", contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") }
        process.standardOutput = FileHandle(forWritingAtPath: folder + "/out")
        process.standardError = FileHandle(forWritingAtPath: folder + "/err")
        process.standardInput = FileHandle.nullDevice
        let start = Date()
        try process.run()
        while process.isRunning && Date().timeIntervalSince(start) < timeout { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            XCTFail("\(executable) \(arguments.joined(separator: " ")) still running after \(timeout) s: killed")
        }
        process.waitUntilExit()
        let read = { (name: String) in (try? String(contentsOfFile: folder + "/" + name, encoding: .utf8)) ?? "" }
        return Launch(status: process.terminationStatus, stdout: read("out"), stderr: read("err"), seconds: Date().timeIntervalSince(start))
    }
}

/// A small learnable image dataset in MNIST IDX layout: 10 classes, each a fixed random 28×28 prototype
/// plus per-sample noise, made from a seed.
enum SyntheticDigits {
    static func write(to folder: String, train: Int = 256, test: Int = 100, seed: UInt64 = 3) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var state = seed
        func next() -> UInt8 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let prototypes = (0..<10).map { _ in (0..<784).map { _ in next() > 160 ? 220 : 20 } as [Int] }
        for (prefix, count) in [("train", train), ("t10k", test)] {
            var pixels: [UInt8] = []
            var labels: [UInt8] = []
            for i in 0..<count {
                let label = i % 10
                labels.append(UInt8(label))
                pixels += prototypes[label].map { UInt8(clamping: $0 + Int(next() % 60) - 30) }
            }
            FileManager.default.createFile(atPath: "\(folder)/\(prefix)-images-idx3-ubyte",
                                           contents: Data(IDXReader.encode(dimensions: [count, 28, 28], bytes: pixels)))
            FileManager.default.createFile(atPath: "\(folder)/\(prefix)-labels-idx1-ubyte",
                                           contents: Data(IDXReader.encode(dimensions: [count], bytes: labels)))
        }
    }
}
