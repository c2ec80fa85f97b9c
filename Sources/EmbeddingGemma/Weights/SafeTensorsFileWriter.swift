#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes float32 tensors as a safetensors file (the format sentence-transformers and
/// transformers load): an 8-byte little-endian header length, a JSON header naming each tensor's
/// dtype, shape and byte range (with `"__metadata__": {"format": "pt"}`), then the data. The
/// values are streamed from memory, and the file appears under its name only once complete.
enum SafeTensorsFileWriter {
    /// One tensor to write: its name, shape and `shape.product` values.
    struct Entry {
        let name: String
        let shape: [Int]
        let values: UnsafePointer<Float>
    }

    static func write(_ entries: [Entry], to path: String) throws(EmbeddingGemmaError) {
        var header = "{\"__metadata__\":{\"format\":\"pt\"}"
        var offset = 0
        for entry in entries {
            let bytes = entry.shape.reduce(1, *) * 4
            header += ",\(jsonString(entry.name)):{\"dtype\":\"F32\",\"shape\":[\(entry.shape.map(String.init).joined(separator: ","))],"
                + "\"data_offsets\":[\(offset),\(offset + bytes)]}"
            offset += bytes
        }
        header += "}"
        while (8 + header.utf8.count) % 8 != 0 { header += " " }
        let partial = path + ".partial"
        guard let file = fopen(partial, "wb") else {
            throw .invalidInput("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        var failed = false
        var length = UInt64(header.utf8.count).littleEndian
        failed = failed || fwrite(&length, 8, 1, file) != 1
        let headerBytes = Array(header.utf8)
        failed = failed || fwrite(headerBytes, 1, headerBytes.count, file) != headerBytes.count
        for entry in entries where !failed {
            let count = entry.shape.reduce(1, *)
            // Little-endian hosts (every platform Swift targets here) write the floats as they are.
            failed = fwrite(entry.values, 4, count, file) != count
        }
        failed = fflush(file) != 0 || failed
        failed = fsync(fileno(file)) != 0 || failed
        fclose(file)
        guard !failed, rename(partial, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(partial)
            throw .invalidInput("cannot write \(path): \(reason)")
        }
    }

    private static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 {
                    out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
