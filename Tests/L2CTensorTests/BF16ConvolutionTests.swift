import L2CComm
import L2CTensor
import XCTest

/// Convolutions on bf16 operands agree with fp32 within bf16's rounding, where the CPU runs bf16 natively;
/// elsewhere `--precision bf16` is refused with the missing ISA named.
final class BF16ConvolutionTests: XCTestCase {
    /// bf16 keeps 8 significant bits: each operand is off by up to 2⁻⁸ relative, so a dot product of n random-sign
    /// terms is off by about 2⁻⁸·√n·|term|, well under 1% of the largest output for these sizes.
    static let tolerance: Float = 1e-2

    private func pair(_ inC: Int, _ outC: Int, kernel: Int, stride: Int, padding: Int, seed: UInt64) -> (bf16: DNNLConv2d, fp32: DNNLConv2d) {
        var rng = RandomGenerator(seed: seed)
        let reference = Conv2d(inC, outC, kernel: kernel, stride: stride, padding: padding, bias: false, rng: &rng)
        let make = { (precision: Precision) in
            DNNLConv2d(inC, outC, kernel: kernel, stride: stride, padding: padding, weight: reference.weight.value.clone(),
                       pool: TensorPool(), precision: precision)
        }
        return (make(.bf16), make(.fp32))
    }

    func testBF16ConvolutionForwardAndBackwardMatchFP32WithinBF16Rounding() throws {
        try requireNativeBF16()
        for (k, s, p) in [(3, 1, 1), (3, 2, 1), (1, 1, 0), (1, 2, 0)] {
            let (bf16, fp32) = pair(32, 32, kernel: k, stride: s, padding: p, seed: UInt64(10 * k + s))
            let errors = LayerComparison.assertSame(BlockedView(bf16, element: .bfloat16), BlockedView(fp32), input: GradientCheck.random([4, 32, 12, 10], seed: 3),
                                                    tolerance: Self.tolerance)
            XCTAssertTrue(bf16.runsBF16, "\(k)×\(k)/\(s) ran fp32 kernels")
            // Really bf16: the difference is rounding of 8-bit mantissas, not float32's.
            XCTAssertGreaterThan(errors.output, 1e-5, "\(k)×\(k)/\(s)")
        }
    }

    /// ‖a − b‖ / ‖b‖ of each parameter's gradient.
    private func gradientDivergence(_ a: Sequential, _ b: Sequential) -> [(name: String, divergence: Double)] {
        zip(a.parameters, b.parameters).map { pa, pb in
            var (difference, norm) = (0.0, 0.0)
            for i in 0..<pa.parameter.gradient.count {
                let (x, y) = (Double(pa.parameter.gradient[i]), Double(pb.parameter.gradient[i]))
                difference += (x - y) * (x - y)
                norm += y * y
            }
            return (pa.name, (difference / max(norm, 1e-30)).squareRoot())
        }
    }

    private func trunk(_ precision: Precision, roundingWeightsToBF16: Bool = false) -> Sequential {
        var rng = RandomGenerator(seed: 31)
        let network = ResNet.resnet18.trunk(stem: .small, precision: precision, rng: &rng, communicator: nil)
        if roundingWeightsToBF16 {
            for (_, p) in network.parameters {
                for i in 0..<p.value.count { p.value[i] = Float(bitPattern: (p.value[i].bitPattern &+ 0x7fff &+ ((p.value[i].bitPattern >> 16) & 1)) & 0xffff_0000) }
            }
        }
        return network
    }

    /// A ResNet-18 forward and backward (small stem, 16 images of 32×32), bf16 convolutions against fp32 from the
    /// same weights. Outputs agree within bf16 rounding. A randomly initialised ResNet's gradients are chaotic
    /// (ReLU masks flip, small-batch BatchNorm amplifies): merely rounding fp32's weights to bf16 moves them by
    /// tens of percent. So the spec is relative: bf16 arithmetic moves each gradient no more than twice as far as
    /// that rounding alone (the arithmetic also rounds activations and output gradients).
    func testResNet18StepInBF16StaysWithinBF16RoundingOfFP32() throws {
        try requireNativeBF16()
        let input = GradientCheck.random([16, 3, 32, 32], seed: 32)
        let (bf16, fp32, rounded) = (trunk(.bf16), trunk(.fp32), trunk(.fp32, roundingWeightsToBF16: true))
        let dy = GradientCheck.random([16, 512], seed: 33)
        var outputs: [Tensor] = []
        for network in [bf16, fp32, rounded] {
            outputs.append(network.forward(input, Pass(training: true)).clone())
            for (_, p) in network.parameters { p.gradient.zero() }
            _ = network.backward(dy.clone())
        }
        XCTAssertLessThanOrEqual(LayerComparison.relativeError(outputs[0], outputs[1]), 3 * Self.tolerance, "outputs")
        XCTAssertGreaterThan(LayerComparison.relativeError(outputs[0], outputs[1]), 1e-5, "really bf16")
        let reference = Dictionary(uniqueKeysWithValues: gradientDivergence(rounded, fp32).map { ($0.name, $0.divergence) })
        for (name, divergence) in gradientDivergence(bf16, fp32) {
            XCTAssertLessThanOrEqual(divergence, 2 * max(reference[name]!, 0.01), "d/d\(name): bf16 \(divergence), fp32 with bf16-rounded weights \(reference[name]!)")
        }
    }

    /// Round to nearest, ties to even, on the 16 bits kept; infinities stay, NaN stays NaN; any length.
    func testConversionToBF16RoundsToNearestEven() {
        var rng = RandomGenerator(seed: 5)
        var values: [Float] = (0..<3001).map { _ in rng.normal() * 100 }
        values[0] = 1 + 1.0 / 256          // a tie: stays 1 (even)
        values[1] = 1 + 3.0 / 256          // a tie: up to 1 + 4/256 (even)
        values[2] = .infinity
        values[3] = -.infinity
        values[4] = .nan
        values[5] = -0.0
        var bits = [UInt16](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { from in
            bits.withUnsafeMutableBytes { BFloat16Conversion.convert(from.baseAddress!, to: $0.baseAddress!, count: values.count) }
        }
        func float(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }
        XCTAssertEqual(float(bits[0]), 1)
        XCTAssertEqual(float(bits[1]), 1 + 4.0 / 256)
        XCTAssertEqual(float(bits[2]), .infinity)
        XCTAssertEqual(float(bits[3]), -.infinity)
        XCTAssertTrue(float(bits[4]).isNaN)
        XCTAssertEqual(bits[5], 0x8000)
        for i in 6..<values.count {
            let u = values[i].bitPattern
            XCTAssertEqual(bits[i], UInt16((u &+ 0x7fff &+ ((u >> 16) & 1)) >> 16), "value \(i): \(values[i])")
        }
    }

    func testBF16WithoutNativeSupportIsRefusedNamingTheMissingISA() {
        let avx2 = CPUFeatures(avx2FMA: true, avx512: false, avx512BF16: false, amxBF16: false)
        XCTAssertThrowsError(try Precision.resolve(.bf16, features: avx2, oneDNNISA: "avx2")) { error in
            XCTAssertEqual("\(error)", "--precision bf16: this machine lacks the AVX512_BF16 or AMX-BF16 instructions (this CPU's widest is avx2); use --precision fp32 or auto")
        }
        let zen = CPUFeatures(avx2FMA: true, avx512: true, avx512BF16: true, amxBF16: false)
        XCTAssertThrowsError(try Precision.resolve(.bf16, features: zen, oneDNNISA: "avx512_core")) { error in
            XCTAssertTrue("\(error)".contains("oneDNN dispatching to avx512_core_bf16 (it uses avx512_core"), "\(error)")
        }
        XCTAssertEqual(try Precision.resolve(.bf16, features: zen, oneDNNISA: "avx512_core_bf16").precision, .bf16)
    }

    func testAutoPicksBF16OnlyWhereItIsNative() throws {
        let avx2 = CPUFeatures(avx2FMA: true, avx512: false, avx512BF16: false, amxBF16: false)
        let amx = CPUFeatures(avx2FMA: true, avx512: true, avx512BF16: true, amxBF16: true)
        XCTAssertEqual(try Precision.resolve(.auto, features: avx2, oneDNNISA: "avx2").precision, .fp32)
        XCTAssertEqual(try Precision.resolve(.auto, features: amx, oneDNNISA: "avx512_core_amx").precision, .bf16)
        XCTAssertTrue(try Precision.resolve(.auto, features: avx2, oneDNNISA: "avx2").reason.contains("no native bf16"))
        XCTAssertEqual(try Precision.resolve(.fp32, features: amx, oneDNNISA: "avx512_core_amx").precision, .fp32)
    }
}
