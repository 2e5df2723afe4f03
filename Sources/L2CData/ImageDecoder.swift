import CPNG
import CTurboJPEG
import Foundation
import L2CComm

/// An 8-bit RGB image, row by row, three bytes a pixel.
public struct RGBImage {
    public var pixels: [UInt8]
    public let width: Int
    public let height: Int

    public init(pixels: [UInt8], width: Int, height: Int) {
        precondition(pixels.count == width * height * 3, "\(pixels.count) bytes for a \(width)×\(height) RGB image")
        self.pixels = pixels
        self.width = width
        self.height = height
    }
}

/// Decodes JPEG (libjpeg-turbo's TurboJPEG API) and PNG (libpng) files to RGB, told apart by their first bytes.
///
/// One decoder per thread (a TurboJPEG handle is not thread-safe). JPEGs can be decoded at 1/2, 1/4 or 1/8
/// scale in the DCT, which is how a crop much larger than the network's input is read cheaply.
public final class ImageDecoder {
    private let handle: tjhandle

    public init() {
        guard let h = tjInitDecompress() else { fatalError("TurboJPEG: tjInitDecompress failed") }
        handle = h
    }

    deinit { tjDestroy(handle) }

    /// The image's width and height without decoding it (refused when no file of this size could hold it).
    public func size(_ bytes: [UInt8], path: String) throws -> (width: Int, height: Int) {
        if isPNG(bytes) { return try DecodeLimit.check(try PNGHeader.size(bytes, path: path), fileBytes: bytes.count, path: path) }
        guard isJPEG(bytes) else { throw InputError(path, "not a JPEG or PNG file (starts with \(hexPrefix(bytes)))") }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let status = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt(bytes.count), &width, &height, &subsampling, &colorspace)
        }
        guard status == 0 else { throw InputError(path, "corrupt JPEG header: \(errorString)") }
        return try DecodeLimit.check((Int(width), Int(height)), fileBytes: bytes.count, path: path)
    }

    /// Decodes, with the JPEG DCT scaled so that the result is still at least `minimumScale` of full size
    /// (1 = full size). PNGs are always decoded at full size. `size`, when the caller has read it already,
    /// saves parsing the header again.
    public func decode(_ bytes: [UInt8], path: String, size known: (width: Int, height: Int)? = nil,
                       minimumScale: Double = 1) throws -> RGBImage {
        if isPNG(bytes) { return try decodePNG(bytes, path: path) }
        let (width, height) = try known ?? size(bytes, path: path)
        // TurboJPEG's scaled sizes are ceil(size·s); pick the smallest of 1, 1/2, 1/4, 1/8 that is large enough.
        var denominator = 1
        while denominator < 8 && 1 / Double(denominator * 2) >= minimumScale { denominator *= 2 }
        let w = (width + denominator - 1) / denominator, h = (height + denominator - 1) / denominator
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        let status = bytes.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(handle, src.baseAddress, UInt(bytes.count), dst.baseAddress, Int32(w), 0, Int32(h),
                              Int32(TJPF_RGB.rawValue), Int32(TJFLAG_FASTDCT))
            }
        }
        // Warnings (status −1 with a non-fatal error) still give a usable image, as in libjpeg.
        guard status == 0 || tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue) else {
            throw InputError(path, "corrupt JPEG data: \(errorString)")
        }
        return RGBImage(pixels: pixels, width: w, height: h)
    }

    private var errorString: String { String(cString: tjGetErrorStr2(handle)) }

    private func isJPEG(_ b: [UInt8]) -> Bool { b.count > 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF }
    private func isPNG(_ b: [UInt8]) -> Bool { b.count > 8 && b[0] == 0x89 && b[1] == 0x50 && b[2] == 0x4E && b[3] == 0x47 }
    private func hexPrefix(_ b: [UInt8]) -> String { b.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ") }

    private func decodePNG(_ bytes: [UInt8], path: String) throws -> RGBImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard begun != 0 else {
            png_image_free(&image)
            throw InputError(path, "corrupt PNG header")
        }
        image.format = UInt32(PNG_FORMAT_RGB)
        let (width, height) = (Int(image.width), Int(image.height))
        do { _ = try DecodeLimit.check((width, height), fileBytes: bytes.count, path: path) } catch { png_image_free(&image); throw error }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let ok = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        guard ok != 0 else {
            png_image_free(&image)
            throw InputError(path, "corrupt PNG data")
        }
        return RGBImage(pixels: pixels, width: width, height: height)
    }
}

/// What a compressed image file can hold: deflate expands at most ~1,032:1 and a 1-bit PNG packs 8 pixels a
/// byte, and a flat JPEG stays above a few bits per 8×8 block, so a header that declares more than
/// 8,300 pixels per byte of file is corrupt. The check runs before any pixel buffer is allocated.
enum DecodeLimit {
    static let pixelsPerFileByte = 8_300
    /// 2^28 pixels (a 16k × 16k image): larger inputs are refused outright.
    static let maximumPixels = 1 << 28

    static func check(_ size: (width: Int, height: Int), fileBytes: Int, path: String) throws -> (width: Int, height: Int) {
        guard size.width >= 1, size.height >= 1 else { throw InputError(path, "image size \(size.width)×\(size.height): expected at least 1×1") }
        let pixels = size.width.multipliedReportingOverflow(by: size.height)
        guard !pixels.overflow, pixels.partialValue <= maximumPixels, pixels.partialValue <= pixelsPerFileByte * max(fileBytes, 1) else {
            throw InputError(path, "image size \(size.width)×\(size.height): more pixels than a \(fileBytes)-byte file can hold (corrupt header?)")
        }
        return size
    }
}

/// Width and height from a PNG's IHDR chunk.
enum PNGHeader {
    static func size(_ b: [UInt8], path: String) throws -> (width: Int, height: Int) {
        guard b.count >= 24 else { throw InputError(path, "truncated PNG header") }
        func be32(_ o: Int) -> Int { Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]) }
        return (be32(16), be32(20))
    }
}
