import L2CTensor
import XCTest

extension XCTestCase {
    /// Skips a bf16 test where the CPU (or oneDNN's ISA cap) has no native bf16: bf16 runs are refused there.
    func requireNativeBF16() throws {
        try XCTSkipUnless(Precision.nativeBF16(features: .detected, oneDNNISA: ComputeThreads.oneDNNISA), "this CPU has no native bf16")
    }
}
