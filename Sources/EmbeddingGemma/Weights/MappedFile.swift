#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only file mapped into memory. Pages are loaded on first touch, so a large
/// embedding table costs resident memory only for the rows that are read.
///
/// The mapping is immutable after creation and unmapped when the last reference goes away,
/// which makes sharing it across threads safe.
final class MappedFile: @unchecked Sendable {
    /// The path the file was opened from, for error messages.
    let path: String
    /// Number of bytes in the file.
    let count: Int
    /// Start of the mapping; `nil` for an empty file.
    let baseAddress: UnsafeRawPointer?

    /// Maps the whole file at `path` read-only.
    init(path: String) throws(EmbeddingGemmaError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw .modelNotFound(path: path, hint: "The file cannot be opened (errno \(errno)).")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw .corruptModelFile(path: path, reason: "cannot stat the file (errno \(errno))")
        }
        let size = Int(info.st_size)
        count = size
        if size == 0 {
            baseAddress = nil
            return
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw .corruptModelFile(path: path, reason: "cannot memory-map the file (errno \(errno))")
        }
        baseAddress = UnsafeRawPointer(mapped)
    }

    deinit {
        if let baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: baseAddress), count)
        }
    }

    /// The mapped bytes as a buffer (empty for an empty file).
    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: baseAddress, count: count)
    }
}
