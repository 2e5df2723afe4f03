import XCTest
import L2CTensor

/// A blocked-layout layer seen through plain NCHW tensors, so gradient checks and comparisons with the
/// reference layers can feed it plain inputs. A bf16 layer (`element: .bfloat16`) is fed its input and output
/// gradient rounded to bf16, and its outputs and gradients are seen widened to fp32.
final class BlockedView: Layer {
    let inner: any Layer
    let blockedInput: Bool
    let element: TensorElement
    private var outputElement: TensorElement?

    init(_ inner: any Layer, blockedInput: Bool = true, element: TensorElement = .float32) {
        self.inner = inner
        self.blockedInput = blockedInput
        self.element = element
    }

    func forward(_ x: Tensor, _ pass: Pass) -> Tensor {
        let y = inner.forward(blockedInput ? BlockedLayout.toBlocked(x, element: element) : x, pass)
        outputElement = y.shape.count == 4 ? y.element : nil
        return outputElement != nil ? BlockedLayout.toPlain(y) : y
    }

    func backward(_ dy: Tensor) -> Tensor {
        let dx = inner.backward(outputElement.map { BlockedLayout.toBlocked(dy, element: $0) } ?? dy)
        return blockedInput ? BlockedLayout.toPlain(dx) : dx.clone()
    }

    var parameters: [(name: String, parameter: Parameter)] { inner.parameters }
}

/// Two layers fed the same input and output gradient give the same outputs and gradients.
enum LayerComparison {
    static func assertSame(_ a: any Layer, _ b: any Layer, input: Tensor, pass: Pass = Pass(training: true),
                           tolerance: Float = 1e-4, seed: UInt64 = 11, comparesInputGradient: Bool = true, file: StaticString = #filePath, line: UInt = #line) -> (output: Float, input: Float, parameters: Float) {
        let ya = a.forward(input, pass).clone()
        let yb = b.forward(input, pass).clone()
        precondition(ya.shape == yb.shape, "outputs \(ya.shape) vs \(yb.shape)")
        let dy = GradientCheck.random(ya.shape, seed: seed)
        for (_, p) in a.parameters + b.parameters { p.gradient.zero() }
        let dxa = a.backward(dy.clone()).clone()
        let dxb = b.backward(dy.clone()).clone()
        let outputError = relativeError(ya, yb)
        let inputError = relativeError(dxa, dxb)
        var parameterError: Float = 0
        for ((name, pa), (_, pb)) in zip(a.parameters, b.parameters) {
            let e = relativeError(pa.gradient, pb.gradient)
            parameterError = max(parameterError, e)
            XCTAssertLessThanOrEqual(e, tolerance, "d/d\(name)", file: file, line: line)
        }
        XCTAssertLessThanOrEqual(outputError, tolerance, "output", file: file, line: line)
        if comparesInputGradient { XCTAssertLessThanOrEqual(inputError, tolerance, "input gradient", file: file, line: line) }
        return (outputError, inputError, parameterError)
    }

    /// max |a − b| / max |b|.
    static func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        precondition(a.count == b.count)
        var worst: Float = 0
        for i in 0..<a.count { worst = max(worst, abs(a[i] - b[i])) }
        return worst / max(b.maxAbs, 1e-6)
    }
}
