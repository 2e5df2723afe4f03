/// 2-D convolution on NCHW tensors by im2col + GEMM (the reference path; oneDNN replaces it on the hot path).
///
/// Weight layout [outChannels][inChannels][kernel][kernel]. Per sample:
/// col = im2col(x) [(C·k·k) × (Ho·Wo)], y = W·col + b; backward: dW += dy·colᵀ, dcol = Wᵀ·dy, dx = col2im(dcol).
public final class Conv2d: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let weight: Parameter
    public let bias: Parameter?
    private var input: Tensor?
    private var output: Tensor?
    private var gradInput: Tensor?
    private var columns: Tensor?
    private var gradColumns: Tensor?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, rng: inout RandomGenerator) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        let fanIn = inChannels * kernel * kernel
        let bound = 1 / Float(fanIn).squareRoot()
        let w = Tensor(shape: [outChannels, inChannels, kernel, kernel])
        for i in 0..<w.count { w[i] = (rng.uniform() * 2 - 1) * bound }
        weight = Parameter(w, decays: true)
        if bias {
            let b = Tensor(shape: [outChannels])
            for i in 0..<b.count { b[i] = (rng.uniform() * 2 - 1) * bound }
            self.bias = Parameter(b, decays: false)
        } else {
            self.bias = nil
        }
    }

    public var parameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func outputSize(_ inputSize: Int) -> Int { (inputSize + 2 * padding - kernel) / stride + 1 }

    public func forward(_ x: Tensor, _ pass: Pass) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] == inChannels, "Conv2d(\(inChannels)→\(outChannels)) got input \(x.shape)")
        input = x
        let (batch, height, width) = (x.shape[0], x.shape[2], x.shape[3])
        let (outH, outW) = (outputSize(height), outputSize(width))
        let y = Tensor.reuse(&output, shape: [batch, outChannels, outH, outW])
        let col = Tensor.reuse(&columns, shape: [inChannels * kernel * kernel, outH * outW])
        let plane = outH * outW
        for n in 0..<batch {
            im2col(x.data + n * inChannels * height * width, height: height, width: width, into: col.data, outH: outH, outW: outW)
            let yn = y.data + n * outChannels * plane
            if let bias {
                for o in 0..<outChannels { (yn + o * plane).update(repeating: bias.value[o], count: plane) }
            }
            gemm(weight.value.data, col.data, yn, m: outChannels, n: plane, k: col.rows, beta: bias == nil ? 0 : 1)
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input, let col = columns else { preconditionFailure("Conv2d.backward before forward") }
        let (batch, height, width) = (x.shape[0], x.shape[2], x.shape[3])
        let (outH, outW) = (dy.shape[2], dy.shape[3])
        let plane = outH * outW
        let dx = Tensor.reuse(&gradInput, shape: x.shape)
        let dcol = Tensor.reuse(&gradColumns, shape: col.shape)
        for n in 0..<batch {
            let dyn = dy.data + n * outChannels * plane
            im2col(x.data + n * inChannels * height * width, height: height, width: width, into: col.data, outH: outH, outW: outW)
            gemm(dyn, col.data, transposeB: true, weight.gradient.data, m: outChannels, n: col.rows, k: plane, beta: 1)
            if let bias {
                for o in 0..<outChannels {
                    var s: Float = 0
                    let row = dyn + o * plane
                    for p in 0..<plane { s += row[p] }
                    bias.gradient[o] += s
                }
            }
            gemm(weight.value.data, transposeA: true, dyn, dcol.data, m: col.rows, n: plane, k: outChannels)
            col2im(dcol.data, height: height, width: width, into: dx.data + n * inChannels * height * width, outH: outH, outW: outW)
        }
        return dx
    }

    /// col[(c·k + ky)·k + kx][oy·outW + ox] = x[c][oy·s − p + ky][ox·s − p + kx] (0 outside the image).
    private func im2col(_ x: UnsafePointer<Float>, height: Int, width: Int, into col: UnsafeMutablePointer<Float>, outH: Int, outW: Int) {
        var row = 0
        for c in 0..<inChannels {
            let xc = x + c * height * width
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let dst = col + row * outH * outW
                    for oy in 0..<outH {
                        let iy = oy * stride - padding + ky
                        let d = dst + oy * outW
                        if iy < 0 || iy >= height { d.update(repeating: 0, count: outW); continue }
                        let src = xc + iy * width
                        for ox in 0..<outW {
                            let ix = ox * stride - padding + kx
                            d[ox] = (ix >= 0 && ix < width) ? src[ix] : 0
                        }
                    }
                    row += 1
                }
            }
        }
    }

    /// The adjoint of im2col: dx[c][iy][ix] = Σ of the col entries that read it.
    private func col2im(_ col: UnsafePointer<Float>, height: Int, width: Int, into dx: UnsafeMutablePointer<Float>, outH: Int, outW: Int) {
        dx.update(repeating: 0, count: inChannels * height * width)
        var row = 0
        for c in 0..<inChannels {
            let dxc = dx + c * height * width
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let src = col + row * outH * outW
                    for oy in 0..<outH {
                        let iy = oy * stride - padding + ky
                        if iy < 0 || iy >= height { continue }
                        let d = dxc + iy * width
                        let s = src + oy * outW
                        for ox in 0..<outW {
                            let ix = ox * stride - padding + kx
                            if ix >= 0 && ix < width { d[ix] += s[ox] }
                        }
                    }
                    row += 1
                }
            }
        }
    }
}
