/// A residual block: convolutions each followed by BatchNorm (+ReLU), the last BatchNorm adding the
/// shortcut before its ReLU: y = relu(bnₖ(convₖ(…relu(bn₁(conv₁ x))…)) + shortcut(x)).
///
/// Basic blocks (ResNet-18/34) have two 3×3 convolutions; bottlenecks (ResNet-50) 1×1 → 3×3 → 1×1 with the
/// stride on the 3×3. The shortcut is the identity, or a strided 1×1 convolution + BatchNorm
/// ("downsample") when the shape changes. Parameter names follow torchvision.
public final class ResidualBlock: Layer {
    let convolutions: [any Layer]
    let norms: [any NormActivation]
    let downsample: (convolution: any Layer, norm: any NormActivation)?
    private let factory: ResNetBackend.Factory

    init(convolutions: [any Layer], norms: [any NormActivation], downsample: (any Layer, any NormActivation)?,
         factory: ResNetBackend.Factory) {
        self.convolutions = convolutions
        self.norms = norms
        self.downsample = downsample.map { (convolution: $0.0, norm: $0.1) }
        self.factory = factory
    }

    /// The BatchNorm whose γ may start at zero, so that the block starts as the identity.
    public var lastNorm: any NormActivation { norms[norms.count - 1] }

    public func forward(_ x: Tensor, _ pass: Pass) -> Tensor {
        var h = x
        for i in 0..<(convolutions.count - 1) { h = norms[i].forward(convolutions[i].forward(h, pass), pass) }
        let shortcut = downsample.map { $0.norm.forward($0.convolution.forward(x, pass), pass) } ?? x
        let y = lastNorm.forward(convolutions[convolutions.count - 1].forward(h, pass), residual: shortcut, pass)
        // The downsample BatchNorm's output served only this addition (its backward needs its input).
        if downsample != nil { factory.release(shortcut) }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        var g = lastNorm.backward(dy)
        guard let shortcutGradient = lastNorm.residualGradient else { preconditionFailure("ResidualBlock: no residual gradient") }
        g = convolutions[convolutions.count - 1].backward(g)
        for i in (0..<(convolutions.count - 1)).reversed() {
            g = convolutions[i].backward(norms[i].backward(g))
        }
        let s = downsample.map { $0.convolution.backward($0.norm.backward(shortcutGradient)) } ?? shortcutGradient
        factory.accumulate(g, s)
        return g
    }

    public var parameters: [(name: String, parameter: Parameter)] {
        named.flatMap { entry in entry.layer.parameters.map { (name: "\(entry.name).\($0.name)", parameter: $0.parameter) } }
    }

    public var buffers: [(name: String, tensor: Tensor)] {
        named.flatMap { entry in entry.layer.buffers.map { (name: "\(entry.name).\($0.name)", tensor: $0.tensor) } }
    }

    private var named: [(name: String, layer: any Layer)] {
        var list: [(name: String, layer: any Layer)] = []
        for i in convolutions.indices {
            list.append(("conv\(i + 1)", convolutions[i]))
            list.append(("bn\(i + 1)", norms[i]))
        }
        if let downsample {
            list.append(("downsample.0", downsample.convolution))
            list.append(("downsample.1", downsample.norm))
        }
        return list
    }
}
