#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered output to standard output or a file, written with `write(2)`.
final class OutputWriter {
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []

    /// Writes to `path` (created or truncated), or standard output when nil.
    init(path: String?) throws {
        if let path {
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else {
                throw CLIError("cannot write output file \(path): \(String(cString: strerror(errno)))")
            }
            descriptor = fd
            ownsDescriptor = true
        } else {
            descriptor = 1
            ownsDescriptor = false
        }
    }

    deinit {
        flush()
        if ownsDescriptor { close(descriptor) }
    }

    /// Appends `line` and a newline.
    func writeLine(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count > 1 << 16 { flush() }
    }

    /// Writes out what is buffered.
    func flush() {
        guard !buffer.isEmpty else { return }
        Self.writeAll(buffer, to: descriptor)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes every byte of `bytes` to `descriptor`, retrying short and interrupted writes.
    static func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
        bytes.withUnsafeBytes { raw in
            guard var pointer = raw.baseAddress else { return }
            var remaining = raw.count
            while remaining > 0 {
                let written = write(descriptor, pointer, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                pointer += written
                remaining -= written
            }
        }
    }

    /// `[a,b,...]` with each float printed in its shortest form that reads back to the same value.
    static func jsonArray(_ values: [Float]) -> String {
        "[" + values.map { $0.description }.joined(separator: ",") + "]"
    }

    /// `[a,b,...]` of integers.
    static func jsonArray(_ values: [Int]) -> String {
        "[" + values.map(String.init).joined(separator: ",") + "]"
    }
}

/// Messages for the user on standard error.
enum Diagnostics {
    /// Prints `warning: message` on standard error.
    static func warn(_ message: String) {
        OutputWriter.writeAll(Array("warning: \(message)\n".utf8), to: 2)
    }

    /// Prints `message` on standard error (progress of a long step; standard output stays the result).
    static func note(_ message: String) {
        OutputWriter.writeAll(Array("\(message)\n".utf8), to: 2)
    }
}
