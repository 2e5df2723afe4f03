import CDNNL

/// The process's oneDNN CPU engine and stream, and small helpers over the C API.
///
/// oneDNN handles are not Sendable; L2C drives them from one thread per rank (oneDNN itself fans out over
/// OpenMP), so the shared engine and stream live in one non-isolated final class.
public final class DNNL: @unchecked Sendable {
    public static let shared = DNNL()
    public let engine: dnnl_engine_t
    public let stream: dnnl_stream_t

    private init() {
        var e: dnnl_engine_t?
        DNNL.check(dnnl_engine_create(&e, dnnl_cpu, 0), "engine_create")
        engine = e!
        var s: dnnl_stream_t?
        DNNL.check(dnnl_stream_create(&s, engine, dnnl_stream_default_flags.rawValue), "stream_create")
        stream = s!
    }

    /// A failed oneDNN call is a programming error (unsupported shape or format): stop with its name.
    static func check(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
        precondition(status == dnnl_success, "oneDNN \(what()) failed with status \(status.rawValue)")
    }

    /// A memory descriptor for `dims` of `type` (float32 by default) in `tag` (dnnl_format_tag_any lets a primitive choose).
    static func descriptor(_ dims: [Int], _ tag: dnnl_format_tag_t, _ type: dnnl_data_type_t = dnnl_f32) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let d = dims.map(Int64.init)
        check(dnnl_memory_desc_init_by_tag(&md, Int32(d.count), d, type, tag), "memory_desc_init_by_tag \(dims)")
        return md
    }

    static func equal(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
        var a = a, b = b
        return dnnl_memory_desc_equal(&a, &b) != 0
    }

    static func bytes(_ md: dnnl_memory_desc_t) -> Int {
        var md = md
        return dnnl_memory_desc_get_size(&md)
    }

    /// Creates a primitive descriptor from an operation descriptor (conv, pooling, …).
    static func primitiveDescriptor<Op>(_ op: inout Op, hint: dnnl_primitive_desc_t? = nil,
                                        attributes: dnnl_primitive_attr_t? = nil, _ what: String) -> dnnl_primitive_desc_t {
        var pd: dnnl_primitive_desc_t?
        withUnsafePointer(to: &op) { opPointer in
            check(dnnl_primitive_desc_create(&pd, UnsafeRawPointer(opPointer), attributes, shared.engine, hint), what)
        }
        return pd!
    }

    static func query(_ pd: dnnl_primitive_desc_t, _ what: dnnl_query_t) -> dnnl_memory_desc_t {
        dnnl_primitive_desc_query_md(pd, what, 0)!.pointee
    }

    /// Whether oneDNN fell back to its reference (unoptimised) implementation for this descriptor.
    static func isReference(_ pd: dnnl_primitive_desc_t) -> Bool {
        var name: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) == dnnl_success, let name else { return false }
        return String(cString: name).hasPrefix("ref")
    }

    static func primitive(_ pd: dnnl_primitive_desc_t) -> dnnl_primitive_t {
        var p: dnnl_primitive_t?
        check(dnnl_primitive_create(&p, pd), "primitive_create")
        return p!
    }
}

/// A primitive with its memory objects, one per argument; handles are pointed at tensors per call.
final class DNNLPrimitive {
    let descriptor: dnnl_primitive_desc_t
    let primitive: dnnl_primitive_t
    private var memories: [(argument: Int32, memory: dnnl_memory_t)] = []

    init(_ descriptor: dnnl_primitive_desc_t, arguments: [(Int32, dnnl_memory_desc_t)]) {
        self.descriptor = descriptor
        primitive = DNNL.primitive(descriptor)
        for (argument, md) in arguments {
            var md = md
            var memory: dnnl_memory_t?
            // DNNL_MEMORY_NONE: handles are set at each execution.
            DNNL.check(dnnl_memory_create(&memory, &md, DNNL.shared.engine, nil), "memory_create")
            memories.append((argument, memory!))
        }
    }

    deinit {
        for m in memories { dnnl_memory_destroy(m.memory) }
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(descriptor)
    }

    /// Runs the primitive on these buffers, in the order the arguments were declared.
    func execute(_ buffers: [UnsafeMutableRawPointer]) {
        precondition(buffers.count == memories.count)
        var args = [dnnl_exec_arg_t]()
        args.reserveCapacity(buffers.count)
        for (i, m) in memories.enumerated() {
            DNNL.check(dnnl_memory_set_data_handle(m.memory, buffers[i]), "memory_set_data_handle")
            args.append(dnnl_exec_arg_t(arg: m.argument, memory: m.memory))
        }
        DNNL.check(dnnl_primitive_execute(primitive, DNNL.shared.stream, Int32(args.count), args), "primitive_execute")
        DNNL.check(dnnl_stream_wait(DNNL.shared.stream), "stream_wait")
    }
}

/// A cached reorder between two layouts of the same tensor; `accumulate` adds into the destination.
final class DNNLReorder {
    let source: dnnl_memory_desc_t
    let destination: dnnl_memory_desc_t
    private let reorder: DNNLPrimitive

    init(from source: dnnl_memory_desc_t, to destination: dnnl_memory_desc_t, accumulate: Bool = false) {
        self.source = source
        self.destination = destination
        var attributes: dnnl_primitive_attr_t?
        if accumulate {
            DNNL.check(dnnl_primitive_attr_create(&attributes), "primitive_attr_create")
            var postOps: dnnl_post_ops_t?
            DNNL.check(dnnl_post_ops_create(&postOps), "post_ops_create")
            DNNL.check(dnnl_post_ops_append_sum(postOps, 1), "post_ops_append_sum")
            DNNL.check(dnnl_primitive_attr_set_post_ops(attributes, postOps), "primitive_attr_set_post_ops")
            dnnl_post_ops_destroy(postOps)
        }
        var s = source, d = destination
        var pd: dnnl_primitive_desc_t?
        DNNL.check(dnnl_reorder_primitive_desc_create(&pd, &s, DNNL.shared.engine, &d, DNNL.shared.engine, attributes), "reorder")
        if let attributes { dnnl_primitive_attr_destroy(attributes) }
        reorder = DNNLPrimitive(pd!, arguments: [(Int32(DNNL_ARG_FROM), source), (Int32(DNNL_ARG_TO), destination)])
    }

    func callAsFunction(_ from: UnsafeMutableRawPointer, _ to: UnsafeMutableRawPointer) {
        reorder.execute([from, to])
    }
}
