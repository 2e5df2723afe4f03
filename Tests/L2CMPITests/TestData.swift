import Foundation

/// The data the MPI tests train on. Each test reads only what these create: nothing depends on another
/// test having run first, or on leftovers in the temporary folder.
enum TestData {
    /// Synthetic 10-class digits in MNIST IDX layout, written once per test process into a fresh folder.
    static let syntheticDigits: String = {
        let folder = NSTemporaryDirectory() + "l2c-synthetic-digits-\(UUID().uuidString)"
        do { try SyntheticDigits.write(to: folder) } catch { fatalError("cannot write the synthetic digits to \(folder): \(error)") }
        return folder
    }()

    /// Real MNIST digits, fetched by deploy/fetch-data.sh (the test command runs it).
    static let mnist = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("data/mnist5k").path
}
