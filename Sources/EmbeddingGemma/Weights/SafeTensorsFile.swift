/// A memory-mapped `.safetensors` file.
///
/// The header is validated before any tensor is touched: its length, its JSON, every dtype,
/// shape and byte range (inside the data area, matching the shape). A truncated or corrupt
/// file raises ``EmbeddingGemmaError/corruptModelFile(path:reason:)`` instead of crashing.
struct SafeTensorsFile: Sendable {
    /// What the header says about one tensor.
    struct TensorInfo: Sendable {
        let dtype: TensorDType
        let shape: [Int]
        /// Byte range relative to the start of the data area.
        let range: Range<Int>
    }

    let path: String
    private let file: MappedFile
    private let dataStart: Int
    /// Tensors by name.
    let tensors: [String: TensorInfo]

    /// Upper bound on the header size, far above any real file, to reject garbage lengths early.
    static let maximumHeaderSize = 100_000_000

    init(path: String) throws(EmbeddingGemmaError) {
        self.path = path
        file = try MappedFile(path: path)
        let bytes = file.bytes
        guard bytes.count >= 8 else {
            throw .corruptModelFile(path: path, reason: "file is \(bytes.count) bytes, too short for a safetensors header")
        }
        var headerSize: UInt64 = 0
        for i in 0..<8 { headerSize |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard headerSize <= UInt64(Self.maximumHeaderSize), Int(headerSize) <= bytes.count - 8 else {
            throw .corruptModelFile(path: path, reason: "header length \(headerSize) exceeds the file size \(bytes.count) (truncated or not a safetensors file)")
        }
        dataStart = 8 + Int(headerSize)
        let dataSize = bytes.count - dataStart
        let header = UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart])
        do {
            tensors = try Self.parseHeader(header, dataSize: dataSize)
        } catch let failure as JSONScanner.Failure {
            throw .corruptModelFile(path: path, reason: "invalid header JSON: \(failure)")
        } catch let invalid as HeaderError {
            throw .corruptModelFile(path: path, reason: invalid.reason)
        } catch {
            throw .corruptModelFile(path: path, reason: "\(error)")
        }
    }

    private struct HeaderError: Error {
        let reason: String
    }

    private static func parseHeader(_ header: UnsafeRawBufferPointer, dataSize: Int) throws -> [String: TensorInfo] {
        var scanner = JSONScanner(header)
        var result: [String: TensorInfo] = [:]
        var problem: String?
        try scanner.readObject { (s: inout JSONScanner, key: [UInt8]) throws(JSONScanner.Failure) in
            let name = String(decoding: key, as: UTF8.self)
            if name == "__metadata__" {
                try s.skipValue()
                return
            }
            var dtypeName: String?
            var shape: [Int]?
            var offsets: [Int] = []
            var scratch: [UInt8] = []
            try s.readObject { (s: inout JSONScanner, field: [UInt8]) throws(JSONScanner.Failure) in
                switch String(decoding: field, as: UTF8.self) {
                case "dtype":
                    try s.readString(into: &scratch)
                    dtypeName = String(decoding: scratch, as: UTF8.self)
                case "shape":
                    var dims: [Int] = []
                    try s.readArray { (s: inout JSONScanner) throws(JSONScanner.Failure) in dims.append(try s.readInteger()) }
                    shape = dims
                case "data_offsets":
                    try s.readArray { (s: inout JSONScanner) throws(JSONScanner.Failure) in offsets.append(try s.readInteger()) }
                default:
                    try s.skipValue()
                }
            }
            guard problem == nil else { return }
            guard let dtypeName, let shape, offsets.count == 2 else {
                problem = "tensor \(name) lacks dtype, shape or data_offsets"
                return
            }
            guard let dtype = TensorDType(rawValue: dtypeName) else {
                problem = "tensor \(name) has dtype \(dtypeName); supported: F32, F16, BF16, I64"
                return
            }
            var elements = 1
            for dim in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
                guard dim >= 0, !overflow else {
                    problem = "tensor \(name) has an invalid shape \(shape)"
                    return
                }
                elements = product
            }
            let (byteCount, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
            let begin = offsets[0], end = offsets[1]
            guard !overflow, begin >= 0, end >= begin, end <= dataSize, end - begin == byteCount else {
                problem = "tensor \(name) has byte range \(begin)..<\(end), which does not fit shape \(shape) of \(dtypeName) within \(dataSize) data bytes (truncated or corrupt file)"
                return
            }
            result[name] = TensorInfo(dtype: dtype, shape: shape, range: begin..<end)
        }
        guard scanner.isAtEnd() else { throw scanner.failure("trailing characters after header") }
        if let problem { throw HeaderError(reason: problem) }
        return result
    }

    /// The tensor `name` as float32, checked against `shape`.
    /// Float32 data is used in place when aligned; other types are converted.
    func floats(_ name: String, shape expected: [Int]) throws(EmbeddingGemmaError) -> FloatStorage {
        guard let info = tensors[name] else {
            throw .corruptModelFile(path: path, reason: "tensor \(name) is missing")
        }
        guard info.shape == expected else {
            throw .corruptModelFile(path: path, reason: "tensor \(name) has shape \(info.shape), expected \(expected)")
        }
        let count = info.range.count / info.dtype.byteSize
        guard let base = file.baseAddress else {
            throw .corruptModelFile(path: path, reason: "file is empty")
        }
        let start = base + dataStart + info.range.lowerBound
        switch info.dtype {
        case .int64:
            throw .corruptModelFile(path: path, reason: "tensor \(name) holds integers, not floats")
        case .float32:
            if Int(bitPattern: start) % MemoryLayout<Float>.alignment == 0 {
                return FloatStorage(mapped: file, pointer: start.assumingMemoryBound(to: Float.self), count: count)
            }
            return FloatStorage(count: count) { out in
                for i in 0..<count {
                    out[i] = Float(bitPattern: start.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self).littleEndian)
                }
            }
        case .bfloat16:
            return FloatStorage(count: count) { out in
                for i in 0..<count {
                    let bits = start.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self).littleEndian
                    out[i] = BlockQuantization.float(brainFloat: bits)
                }
            }
        case .float16:
            return FloatStorage(count: count) { out in
                for i in 0..<count {
                    out[i] = HalfFloat.toFloat(start.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self).littleEndian)
                }
            }
        }
    }

    /// The integer tensor `name` (I64) as `Int`s, whatever its shape.
    func integers(_ name: String) throws(EmbeddingGemmaError) -> [Int] {
        guard let info = tensors[name], info.dtype == .int64 else {
            throw .corruptModelFile(path: path, reason: "no I64 tensor \(name)")
        }
        guard let base = file.baseAddress else { throw .corruptModelFile(path: path, reason: "file is empty") }
        let start = base + dataStart + info.range.lowerBound
        return (0..<(info.range.count / 8)).map { Int(Int64(littleEndian: start.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) }
    }
}
