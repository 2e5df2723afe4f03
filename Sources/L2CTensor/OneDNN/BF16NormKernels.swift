import CBFloat16

/// `BlockedBatchNorm`'s passes over a bf16 nChw16c tensor, one plane (sample, 16-channel block) at a time, split
/// over the compute threads. Same formulas as the fp32 kernels; values widen to fp32 on load and round on store.
/// Backward recomputes the ReLU-masked gradient g in its second pass instead of storing it: reading dy and y again
/// (4 bytes an element) costs less than writing and reading g.
enum BF16NormKernels {
    private static func u16(_ t: Tensor?) -> UnsafeMutablePointer<UInt16>? { t?.bfloat16 }

    /// Σx at [c] and Σx² at [channels + c], workers `width` apart; the total ends in the first row.
    static func sums(_ x: Tensor, _ g: BlockGeometry, _ sums: UnsafeMutablePointer<Double>, width: Int) {
        let xs = x.bfloat16
        perPlane(g, sums, width: width) { plane, s1, s2 in
            cbf16_plane_sums(xs + plane * g.pixels * 16, g.pixels, s1, s2)
        }
    }

    static func normalize(_ x: Tensor, _ residual: Tensor?, _ y: Tensor, _ scale: UnsafePointer<Float>, _ shift: UnsafePointer<Float>,
                          relu: Bool, _ g: BlockGeometry) {
        let (xs, rs, ys) = (x.bfloat16, u16(residual), y.bfloat16)
        parallelRanges(g.planes) { range, _ in
            for plane in range {
                let (at, c0) = (plane * g.pixels * 16, (plane % g.blocks) * 16)
                cbf16_plane_normalize(xs + at, rs.map { $0 + at }, ys + at, g.pixels, scale + c0, shift + c0, relu ? 1 : 0)
            }
        }
    }

    /// Σg at [c] and Σg·x at [channels + c], g = dy masked by the ReLU output y (nil: no ReLU); g is stored in
    /// `residualGradient` when given.
    static func backwardSums(_ x: Tensor, _ y: Tensor?, _ dy: Tensor, residualGradient: Tensor?, _ g: BlockGeometry,
                             _ sums: UnsafeMutablePointer<Double>, width: Int) {
        let (xs, ys, dys, gs) = (x.bfloat16, u16(y), dy.bfloat16, u16(residualGradient))
        perPlane(g, sums, width: width) { plane, s1, s2 in
            let at = plane * g.pixels * 16
            cbf16_plane_backward_sums(xs + at, ys.map { $0 + at }, dys + at, gs.map { $0 + at }, g.pixels, s1, s2)
        }
    }

    /// dx = a·g + c₁ + c₂·x.
    static func inputGradient(_ x: Tensor, _ y: Tensor?, _ dy: Tensor, _ dx: Tensor, _ a: UnsafePointer<Float>,
                              _ c1: UnsafePointer<Float>, _ c2: UnsafePointer<Float>, _ g: BlockGeometry) {
        let (xs, ys, dys, dxs) = (x.bfloat16, u16(y), dy.bfloat16, dx.bfloat16)
        parallelRanges(g.planes) { range, _ in
            for plane in range {
                let (at, c0) = (plane * g.pixels * 16, (plane % g.blocks) * 16)
                cbf16_plane_input_gradient(xs + at, ys.map { $0 + at }, dys + at, dxs + at, g.pixels, a + c0, c1 + c0, c2 + c0)
            }
        }
    }

    /// Per-plane sums into each worker's row of `sums` (Σ₁ at [c], Σ₂ at [channels + c]), merged into the first row.
    private static func perPlane(_ g: BlockGeometry, _ sums: UnsafeMutablePointer<Double>, width: Int,
                                 _ body: (Int, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void) {
        let channels = g.blocks * 16
        parallelRanges(g.planes) { range, worker in
            let mine = sums + worker * width
            for plane in range {
                let c0 = (plane % g.blocks) * 16
                body(plane, mine + c0, mine + channels + c0)
            }
        }
        for w in 1..<g.workers {
            for i in 0..<width { sums[i] += sums[w * width + i] }
        }
    }
}
