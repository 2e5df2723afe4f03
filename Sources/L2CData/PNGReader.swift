import CPNG
import Foundation
import L2CComm

/// Grey-scale decoding of PNG files through libpng's simplified API (any PNG colour type is converted).
public enum PNGReader {
    /// Pixels row by row in [0, 255], with the image's width and height.
    public static func grey(_ path: String) throws -> (pixels: [UInt8], width: Int, height: Int) {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&image, path) != 0 else {
            let reason = message(&image)
            png_image_free(&image)
            throw InputError(path, "not a readable PNG: \(reason)")
        }
        image.format = UInt32(PNG_FORMAT_GRAY)
        let (width, height) = (Int(image.width), Int(image.height))
        let fileBytes = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        do { _ = try DecodeLimit.check((width, height), fileBytes: fileBytes, path: path) } catch { png_image_free(&image); throw error }
        var pixels = [UInt8](repeating: 0, count: width * height)
        let ok = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        guard ok != 0 else {
            let reason = message(&image)
            png_image_free(&image)
            throw InputError(path, "PNG data could not be decoded: \(reason)")
        }
        return (pixels, width, height)
    }

    private static func message(_ image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

/// Grey-scale PNG files through libpng's simplified API (test data and generated benchmarks).
public enum PNGWriter {
    public static func writeGrey(_ path: String, pixels: [UInt8], width: Int, height: Int) throws {
        precondition(pixels.count == width * height, "\(pixels.count) pixels for \(width)×\(height)")
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = UInt32(PNG_FORMAT_GRAY)
        let ok = pixels.withUnsafeBytes { png_image_write_to_file(&image, path, 0, $0.baseAddress, 0, nil) }
        png_image_free(&image)
        guard ok != 0 else { throw InputError(path, "could not write the PNG") }
    }
}
