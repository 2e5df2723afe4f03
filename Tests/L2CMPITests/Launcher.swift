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
        try RunningJob(executable, arguments).wait(timeout: timeout)
    }

    /// `mpirun -np ranks l2c arguments…` started in the background, for tests that signal or kill it.
    static func start(ranks: Int, _ arguments: [String], executable: String? = nil) throws -> RunningJob {
        try RunningJob("/usr/bin/mpirun", ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-x", "OMPI_MCA_btl_vader_single_copy_mechanism=none",
                                          "-np", "\(ranks)", executable ?? l2c] + arguments + ["--threads", "1"])
    }
}

/// A launched process whose output goes to files, waited for with a time limit.
final class RunningJob {
    let process = Process()
    let folder = NSTemporaryDirectory() + "l2c-launch-\(UUID().uuidString)"
    let start = Date()
    let description: String

    init(_ executable: String, _ arguments: [String]) throws {
        description = ([executable] + arguments).joined(separator: " ")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: folder + "/out", contents: nil)
        FileManager.default.createFile(atPath: folder + "/err", contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") }
        process.standardOutput = FileHandle(forWritingAtPath: folder + "/out")
        process.standardError = FileHandle(forWritingAtPath: folder + "/err")
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    var pid: Int32 { process.processIdentifier }

    /// The l2c ranks this job started (children of mpirun), once all `count` of them are up.
    func ranks(_ count: Int, timeout: Double = 30) -> [Int32] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let children = ((try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? "")
                .split(separator: " ").compactMap { Int32($0) }
            let ranks = children.filter { ((try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8)) ?? "").hasPrefix("l2c") }
            if ranks.count == count { return ranks.sorted() }
            usleep(20_000)
        }
        return []
    }

    /// Blocks until `condition` holds or `timeout` passes; false on timeout.
    @discardableResult
    static func poll(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return false
    }

    func wait(timeout: Double) -> Launch {
        while process.isRunning && Date().timeIntervalSince(start) < timeout { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            if !RunningJob.poll(timeout: 5, { !process.isRunning }) { kill(pid, SIGKILL) }
            process.waitUntilExit()
            XCTFail("\(description) still running after \(timeout) s: killed")
        }
        process.waitUntilExit()
        let read = { (name: String) in (try? String(contentsOfFile: self.folder + "/" + name, encoding: .utf8)) ?? "" }
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
