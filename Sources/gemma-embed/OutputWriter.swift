import Foundation

/// Buffered output to standard output or a file.
final class OutputWriter {
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    /// Writes to `path`, or standard output when nil.
    init(path: String?) throws {
        if let path {
            guard FileManager.default.createFile(atPath: path, contents: nil),
                  let handle = FileHandle(forWritingAtPath: path) else {
                throw CLIError("cannot write output file \(path)")
            }
            self.handle = handle
        } else {
            handle = FileHandle.standardOutput
        }
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
        handle.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
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
    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }
}
