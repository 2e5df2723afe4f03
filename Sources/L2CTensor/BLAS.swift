import CBLAS
import CDNNL

/// C ← α·op(A)·op(B) + β·C for row-major matrices; op(X) = Xᵀ when `transposeX`.
/// A is m×k after op, B is k×n after op, C is m×n.
@inline(__always)
public func gemm(
    _ a: UnsafePointer<Float>, transposeA: Bool = false,
    _ b: UnsafePointer<Float>, transposeB: Bool = false,
    _ c: UnsafeMutablePointer<Float>,
    m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0,
    lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil
) {
    guard m > 0, n > 0 else { return }
    if k == 0 {
        if beta == 0 { c.update(repeating: 0, count: m * n) }
        return
    }
    cblas_sgemm(
        CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha,
        a, Int32(lda ?? (transposeA ? m : k)),
        b, Int32(ldb ?? (transposeB ? k : n)),
        beta, c, Int32(ldc ?? n))
}

/// Threads used by OpenBLAS and oneDNN (OpenMP) in this process.
public enum ComputeThreads {
    /// The count last set; Swift loops (blocked BatchNorm) split their work into this many parts.
    nonisolated(unsafe) public private(set) static var count = 1

    public static func set(_ count: Int) {
        self.count = max(count, 1)
        openblas_set_num_threads(Int32(count))
        omp_set_num_threads(Int32(count))
    }

    public static var openBLASConfig: String { openblas_get_config().map { String(cString: $0) } ?? "unknown" }
    public static var openBLASThreads: Int { Int(openblas_get_num_threads()) }

    public static var oneDNNVersion: String {
        guard let v = dnnl_version() else { return "unknown" }
        return "\(v.pointee.major).\(v.pointee.minor).\(v.pointee.patch)"
    }

    /// The instruction set oneDNN's kernels dispatch to on this CPU (its own detection, capped by
    /// ONEDNN_MAX_CPU_ISA when set).
    public static var oneDNNISA: String {
        switch dnnl_get_effective_cpu_isa() {
        case dnnl_cpu_isa_sse41: return "sse41"
        case dnnl_cpu_isa_avx: return "avx"
        case dnnl_cpu_isa_avx2: return "avx2"
        case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni"
        case dnnl_cpu_isa_avx512_core: return "avx512_core"
        case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx"
        case let other: return "0x" + String(other.rawValue, radix: 16)
        }
    }
}
