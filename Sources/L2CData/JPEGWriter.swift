import CTurboJPEG
import Foundation
import L2CComm

/// RGB images to JPEG files through TurboJPEG (tests and generated data).
public enum JPEGWriter {
    public static func write(_ path: String, _ image: RGBImage, quality: Int = 90) throws {
        guard let handle = tjInitCompress() else { throw InputError(path, "TurboJPEG: tjInitCompress failed") }
        defer { tjDestroy(handle) }
        var buffer: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = image.pixels.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(image.width), 0, Int32(image.height), Int32(TJPF_RGB.rawValue),
                        &buffer, &size, Int32(TJSAMP_420.rawValue), Int32(quality), 0)
        }
        defer { tjFree(buffer) }
        guard status == 0, let buffer else { throw InputError(path, "JPEG encoding failed: \(String(cString: tjGetErrorStr2(handle)))") }
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes: buffer, count: Int(size))) else {
            throw InputError(path, "cannot be written")
        }
    }
}
