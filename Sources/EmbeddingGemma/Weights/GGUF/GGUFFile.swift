/// A memory-mapped GGUF file (the format of llama.cpp and Ollama), versions 2 and 3.
///
/// Every count, length, offset and size read from the file is checked against what is left of
/// the file before it is used, so a truncated or malformed file raises
/// ``EmbeddingGemmaError/corruptModelFile(path:reason:)`` instead of crashing or allocating
/// without bound.
public struct GGUFFile: Sendable {
    /// One tensor's description.
    public struct TensorInfo: Sendable, Equatable {
        /// Tensor name (`token_embd.weight`, `blk.0.attn_q.weight`, ...).
        public let name: String
        /// Dimensions, innermost first (ggml order: `[columns, rows]` for a matrix).
        public let dimensions: [Int]
        /// Element type.
        public let type: GGMLType
        /// Byte range within the file.
        public let range: Range<Int>

        /// Number of elements.
        public var elementCount: Int { dimensions.reduce(1, *) }
    }

    /// The path the file was read from.
    public let path: String
    /// Format version (2 or 3).
    public let version: UInt32
    /// Metadata by key, in file order in ``metadataKeys``. Arrays of more than
    /// ``largeArrayThreshold`` elements (a vocabulary) are not materialised here: read them with
    /// ``numbers(_:)`` and ``forEachString(_:_:)``.
    public let metadata: [String: GGUFValue]
    /// Large arrays by key: element type, count and byte range of the elements.
    private let largeArrays: [String: (elementType: UInt32, count: Int, range: Range<Int>)]
    /// Arrays longer than this stay in the file until read.
    public static let largeArrayThreshold = 4096
    /// Metadata keys in the order the file lists them.
    public let metadataKeys: [String]
    /// Tensors in file order.
    public let tensors: [TensorInfo]
    /// Alignment of the tensor data (`general.alignment`, default 32).
    public let alignment: Int
    private let file: MappedFile

    /// The GGUF magic, "GGUF".
    static let magic: [UInt8] = Array("GGUF".utf8)
    /// Bounds on counts that no real file comes near, checked before any allocation.
    static let maximumTensors = 1 << 20
    static let maximumMetadata = 1 << 20
    static let maximumDimensions = 4

    /// Maps and validates the file at `path`.
    public init(path: String) throws(EmbeddingGemmaError) {
        self.path = path
        file = try MappedFile(path: path)
        var reader = Reader(bytes: file.bytes)
        do {
            guard try reader.bytes(4) == Self.magic else { throw Reader.Failure("not a GGUF file (bad magic)") }
            version = try reader.u32()
            guard version == 2 || version == 3 else { throw Reader.Failure("unsupported GGUF version \(version)") }
            let tensorCount = try reader.count(limit: Self.maximumTensors, what: "tensor count")
            let metadataCount = try reader.count(limit: Self.maximumMetadata, what: "metadata count")
            var metadata: [String: GGUFValue] = [:]
            var large: [String: (elementType: UInt32, count: Int, range: Range<Int>)] = [:]
            var keys: [String] = []
            for _ in 0..<metadataCount {
                let key = try reader.string()
                guard metadata[key] == nil, large[key] == nil else { throw Reader.Failure("duplicate metadata key \(key)") }
                let type = try reader.u32()
                if type == 9, let array = try reader.largeArray(threshold: Self.largeArrayThreshold) {
                    large[key] = array
                } else {
                    metadata[key] = try reader.value(type: type, depth: 0)
                }
                keys.append(key)
            }
            largeArrays = large
            var alignment = 32
            if let value = metadata["general.alignment"] {
                guard let a = value.intValue, a > 0, a <= 1 << 16, a & (a - 1) == 0 else {
                    throw Reader.Failure("general.alignment must be a power of two")
                }
                alignment = a
            }
            var infos: [(name: String, dims: [Int], type: GGMLType, offset: Int, size: Int)] = []
            var names = Set<String>()
            for _ in 0..<tensorCount {
                let name = try reader.string()
                guard names.insert(name).inserted else { throw Reader.Failure("duplicate tensor \(name)") }
                let dimensionCount = Int(try reader.u32())
                guard dimensionCount <= Self.maximumDimensions else {
                    throw Reader.Failure("tensor \(name) has \(dimensionCount) dimensions (at most \(Self.maximumDimensions))")
                }
                var dims: [Int] = []
                var elements = 1
                for _ in 0..<dimensionCount {
                    let d = try reader.count(limit: Int(Int32.max), what: "dimension of \(name)")
                    let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                    guard !overflow else { throw Reader.Failure("tensor \(name) is too large") }
                    elements = product
                    dims.append(d)
                }
                let rawType = try reader.u32()
                guard let type = GGMLType(rawValue: rawType) else {
                    throw Reader.Failure("tensor \(name) has unsupported ggml type \(rawType)")
                }
                guard let rowBytes = type.rowBytes(elements: dims.first ?? 1) else {
                    throw Reader.Failure("tensor \(name): \(dims.first ?? 1) columns is not a multiple of \(type)'s block of \(type.blockSize)")
                }
                let rows = dims.count > 1 ? elements / max(dims[0], 1) : 1
                let (size, overflow) = rowBytes.multipliedReportingOverflow(by: dims.isEmpty || dims[0] == 0 ? 0 : rows)
                guard !overflow else { throw Reader.Failure("tensor \(name) is too large") }
                let offset = try reader.count(limit: Int.max, what: "offset of \(name)")
                guard offset % alignment == 0 else { throw Reader.Failure("tensor \(name) offset \(offset) is not aligned to \(alignment)") }
                infos.append((name, dims, type, offset, size))
            }
            let headerEnd = reader.position
            let (padded, overflow) = headerEnd.addingReportingOverflow(alignment - 1)
            guard !overflow else { throw Reader.Failure("header too large") }
            let dataStart = padded / alignment * alignment
            let dataSize = max(0, file.count - dataStart)
            var tensors: [TensorInfo] = []
            for info in infos {
                let (end, overflow) = info.offset.addingReportingOverflow(info.size)
                guard !overflow, end <= dataSize else {
                    throw Reader.Failure("tensor \(info.name) (bytes \(info.offset)..<\(info.offset &+ info.size) of the data) runs past the end of the file (truncated?)")
                }
                tensors.append(TensorInfo(name: info.name, dimensions: info.dims, type: info.type,
                                          range: (dataStart + info.offset)..<(dataStart + end)))
            }
            self.metadata = metadata
            metadataKeys = keys
            self.tensors = tensors
            self.alignment = alignment
        } catch let failure as Reader.Failure {
            throw .corruptModelFile(path: path, reason: failure.message + " at byte \(reader.position)")
        } catch {
            throw .corruptModelFile(path: path, reason: "\(error)")
        }
    }

    /// The elements of the numeric array `key` (small or large), or nil if absent or not numeric.
    public func numbers(_ key: String) -> [Double]? {
        if let elements = metadata[key]?.arrayValue {
            var out: [Double] = []
            out.reserveCapacity(elements.count)
            for e in elements {
                guard let v = e.doubleValue else { return nil }
                out.append(v)
            }
            return out
        }
        guard let array = largeArrays[key], let size = Reader.fixedSize(array.elementType), array.elementType != 8 else { return nil }
        let bytes = file.bytes
        return withExtendedLifetime(file) {
            (0..<array.count).map { i in
                Reader.number(type: array.elementType, at: array.range.lowerBound + i * size, in: bytes)
            }
        }
    }

    /// Calls `body(index, utf8Bytes)` for each element of the string array `key`.
    /// - Returns: false if `key` is absent or not an array of strings.
    /// - Throws: ``EmbeddingGemmaError/corruptModelFile(path:reason:)`` for an element that is not UTF-8.
    public func forEachString(_ key: String, _ body: (Int, UnsafeBufferPointer<UInt8>) -> Void) throws(EmbeddingGemmaError) -> Bool {
        if let elements = metadata[key]?.arrayValue {
            for (i, e) in elements.enumerated() {
                guard let s = e.stringValue else { return false }
                Array(s.utf8).withUnsafeBufferPointer { body(i, $0) }
            }
            return true
        }
        guard let array = largeArrays[key], array.elementType == 8 else { return false }
        let bytes = file.bytes
        var position = array.range.lowerBound
        for i in 0..<array.count {
            // Lengths and bounds were checked when the file was opened.
            let length = Int(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self)))
            let element = UnsafeRawBufferPointer(rebasing: bytes[(position + 8)..<(position + 8 + length)])
            let utf8 = element.bindMemory(to: UInt8.self)
            guard UTF8Validation.isValid(utf8) else {
                throw .corruptModelFile(path: path, reason: "element \(i) of \(key) is not valid UTF-8")
            }
            withExtendedLifetime(file) { body(i, utf8) }
            position += 8 + length
        }
        return true
    }

    /// The mapping the tensors live in (owner of views into it).
    var mapping: MappedFile { file }

    /// The tensor named `name`, if present.
    public func tensor(named name: String) -> TensorInfo? {
        tensors.first { $0.name == name }
    }

    /// The raw bytes of `tensor` (valid while this file value lives).
    public func withBytes<R>(of tensor: TensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(file) {
            try body(UnsafeRawBufferPointer(rebasing: file.bytes[tensor.range]))
        }
    }

    /// A bounds-checked little-endian cursor over the mapped bytes.
    private struct Reader {
        struct Failure: Error {
            let message: String
            init(_ message: String) { self.message = message }
        }

        let bytes: UnsafeRawBufferPointer
        var position = 0

        var remaining: Int { bytes.count - position }

        mutating func bytes(_ n: Int) throws -> [UInt8] {
            guard n >= 0, n <= remaining else { throw Failure("unexpected end of file") }
            defer { position += n }
            return Array(bytes[position..<(position + n)])
        }

        mutating func load<T: FixedWidthInteger>(_: T.Type) throws -> T {
            let size = MemoryLayout<T>.size
            guard size <= remaining else { throw Failure("unexpected end of file") }
            defer { position += size }
            return T(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
        }

        mutating func u32() throws -> UInt32 { try load(UInt32.self) }

        /// A u64 count or size, rejected above `limit` (which also keeps it within `Int`).
        mutating func count(limit: Int, what: String) throws -> Int {
            let value = try load(UInt64.self)
            guard value <= UInt64(limit) else { throw Failure("\(what) \(value) is out of range") }
            return Int(value)
        }

        mutating func string() throws -> String {
            let length = try count(limit: remaining, what: "string length")
            let raw = try bytes(length)
            guard let text = UTF8Validation.string(from: raw) else { throw Failure("string is not valid UTF-8") }
            return text
        }

        /// Byte size of a fixed-size metadata type (nil for strings, arrays and unknown types).
        static func fixedSize(_ type: UInt32) -> Int? {
            switch type {
            case 0, 1, 7: return 1
            case 2, 3: return 2
            case 4, 5, 6: return 4
            case 10, 11, 12: return 8
            default: return nil
            }
        }

        /// A numeric element of `type` at `offset` (bounds already checked).
        static func number(type: UInt32, at offset: Int, in bytes: UnsafeRawBufferPointer) -> Double {
            switch type {
            case 0: return Double(bytes[offset])
            case 1: return Double(Int8(bitPattern: bytes[offset]))
            case 2: return Double(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
            case 3: return Double(Int16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int16.self)))
            case 4: return Double(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            case 5: return Double(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
            case 6: return Double(Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))))
            case 7: return Double(bytes[offset])
            case 10: return Double(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            case 11: return Double(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
            default: return Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            }
        }

        /// At an array value: if it has more than `threshold` numeric or string elements, checks
        /// its bounds, skips it and returns where its elements are; otherwise leaves the position alone.
        mutating func largeArray(threshold: Int) throws -> (elementType: UInt32, count: Int, range: Range<Int>)? {
            let start = position
            let elementType = try u32()
            let n = try count(limit: remaining, what: "array length")
            guard n > threshold, elementType == 8 || Self.fixedSize(elementType) != nil else {
                position = start
                return nil
            }
            let first = position
            if let size = Self.fixedSize(elementType) {
                guard n <= remaining / size else { throw Failure("array runs past the end of the file") }
                position += n * size
            } else {
                for _ in 0..<n {
                    let length = try count(limit: remaining, what: "string length")
                    guard length <= remaining else { throw Failure("string runs past the end of the file") }
                    position += length
                }
            }
            return (elementType, n, first..<position)
        }

        mutating func value(type: UInt32, depth: Int) throws -> GGUFValue {
            switch type {
            case 0: return .uint8(try load(UInt8.self))
            case 1: return .int8(try load(Int8.self))
            case 2: return .uint16(try load(UInt16.self))
            case 3: return .int16(try load(Int16.self))
            case 4: return .uint32(try load(UInt32.self))
            case 5: return .int32(try load(Int32.self))
            case 6: return .float32(Float(bitPattern: try load(UInt32.self)))
            case 7:
                let b = try load(UInt8.self)
                guard b <= 1 else { throw Failure("boolean value \(b)") }
                return .bool(b == 1)
            case 8: return .string(try string())
            case 9:
                guard depth < 4 else { throw Failure("arrays nested too deeply") }
                let elementType = try u32()
                // Every element takes at least one byte, so a count above what is left is corrupt.
                let n = try count(limit: remaining, what: "array length")
                var elements: [GGUFValue] = []
                elements.reserveCapacity(min(n, 1 << 16))
                for _ in 0..<n { elements.append(try value(type: elementType, depth: depth + 1)) }
                return .array(elements)
            case 10: return .uint64(try load(UInt64.self))
            case 11: return .int64(try load(Int64.self))
            case 12: return .float64(Double(bitPattern: try load(UInt64.self)))
            default: throw Failure("unknown metadata value type \(type)")
            }
        }
    }
}
