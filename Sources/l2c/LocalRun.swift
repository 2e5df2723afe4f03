import ArgumentParser
import Foundation

/// Runs a command that does not start MPI itself (it launches or reads runs): an error becomes one line on
/// standard error and exit code 1, like the MPI commands' errors.
enum LocalRun {
    static func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            FileHandle.standardError.write(Data("l2c: error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
