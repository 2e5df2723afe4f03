/// BatchNorm, then an optional residual added, then an optional ReLU: y = relu(bn(x) + r).
///
/// The unit a ResNet is made of after each convolution. `backward` returns dL/dx and leaves dL/dr (the
/// gradient after the ReLU mask) in `residualGradient` when the forward pass had a residual.
public protocol NormActivation: Layer {
    func forward(_ x: Tensor, residual: Tensor?, _ pass: Pass) -> Tensor
    var residualGradient: Tensor? { get }
    var gamma: Parameter { get }
}

extension NormActivation {
    public func forward(_ x: Tensor, _ pass: Pass) -> Tensor { forward(x, residual: nil, pass) }
}
