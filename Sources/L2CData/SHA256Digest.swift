import CCrypto
import Foundation

/// SHA-256 through OpenSSL's libcrypto (SHA-NI where the CPU has it).
public enum SHA256Digest {
    public static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        _ = digest.withUnsafeMutableBufferPointer { out in
            SHA256(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, out.baseAddress!)
        }
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    /// The digest of a file's bytes (nil if it cannot be read).
    public static func ofFile(_ path: String) -> String? {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else { return nil }
        return data.withUnsafeBytes { hex($0) }
    }
}
