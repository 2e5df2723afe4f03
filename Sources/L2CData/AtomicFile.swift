import Foundation
import L2CComm

/// Write-to-temporary, fsync, rename, fsync of the folder: the target is either the old file or the complete new one.
public enum AtomicFile {
    /// The parts one after another, as one file.
    public static func write(_ parts: [UnsafeRawBufferPointer], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let temporary = folder + "/.\(url.lastPathComponent).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw InputError(temporary, "cannot create: \(String(cString: strerror(errno)))") }
        var ok = true
        for raw in parts where ok && raw.count > 0 {
            var written = 0
            while written < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + written, raw.count - written)
                if n <= 0 { ok = false; break }
                written += n
            }
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok else {
            unlink(temporary)
            throw InputError(path, "writing failed: \(String(cString: strerror(errno)))")
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw InputError(path, "cannot rename the finished file into place: \(String(cString: strerror(errno)))")
        }
        // Make the rename itself durable.
        let dirfd = open(folder, O_RDONLY)
        if dirfd >= 0 { fsync(dirfd); close(dirfd) }
    }
}
