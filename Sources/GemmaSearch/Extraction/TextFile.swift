#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading whole files with POSIX calls (errors as `errno` values, no exceptions).
enum TextFile {
    /// The bytes of the file at `path`, or the `errno` of the failure.
    static func read(_ path: String) -> Result<[UInt8], ReadFailure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(ReadFailure(code: errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(ReadFailure(code: errno)) }
        var bytes = [UInt8](repeating: 0, count: max(Int(info.st_size), 0))
        var filled = 0
        while true {
            if filled == bytes.count { bytes.append(contentsOf: repeatElement(0, count: max(4096, bytes.count / 2))) }
            let got = bytes.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc_read(fd, base + filled, raw.count - filled)
            }
            if got < 0 {
                if errno == EINTR { continue }
                return .failure(ReadFailure(code: errno))
            }
            if got == 0 { break }
            filled += got
        }
        bytes.removeSubrange(filled...)
        return .success(bytes)
    }

    /// The text of a small file (a rule file), nil when missing, unreadable or over 1 MB.
    static func readSmall(_ path: String) -> String? {
        guard case .success(let bytes) = read(path), bytes.count <= 1 << 20 else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A failed read: the `errno` value.
    struct ReadFailure: Error {
        var code: Int32
        var vanished: Bool { code == ENOENT }
        var message: String { FileWalker.message(code) }
    }
}

/// `read(2)` under a name that does not clash with Swift methods called `read`.
@inline(__always)
private func Glibc_read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.read(fd, buffer, count)
    #else
    return Darwin.read(fd, buffer, count)
    #endif
}
