#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a GGUF version 3 file: metadata, tensor descriptions, then the tensor data, each tensor
/// aligned to 32 bytes, as llama.cpp's `gguf` writer lays it out. The file is written next to
/// its destination and renamed into place when complete, so a failed write leaves nothing behind.
struct GGUFWriter {
    /// A tensor to write: its ggml dimensions (innermost first), type, and a producer of its bytes.
    struct Tensor {
        let name: String
        let dimensions: [Int]
        let type: GGMLType
        let byteCount: Int
        /// Calls its argument with the tensor's bytes, possibly in several pieces.
        let produce: ((UnsafeRawBufferPointer) -> Void) -> Void
    }

    /// Alignment of tensor data (GGUF's default).
    static let alignment = 32

    private(set) var metadata: [(key: String, value: GGUFValue)] = []
    private(set) var tensors: [Tensor] = []

    /// Adds a metadata entry (keys are written in the order they are added).
    mutating func set(_ key: String, _ value: GGUFValue) {
        metadata.append((key, value))
    }

    /// Adds a matrix as a `[columns, rows]` tensor in its own encoding.
    mutating func add(_ name: String, matrix: WeightMatrix) {
        tensors.append(Tensor(name: name, dimensions: [matrix.columns, matrix.rows], type: matrix.type,
                              byteCount: matrix.byteCount) { sink in
            withExtendedLifetime(matrix) { sink(UnsafeRawBufferPointer(start: matrix.bytes, count: matrix.byteCount)) }
        })
    }

    /// Adds a tensor from its encoded bytes.
    mutating func add(_ name: String, raw bytes: [UInt8], dimensions: [Int], type: GGMLType) {
        tensors.append(Tensor(name: name, dimensions: dimensions, type: type, byteCount: bytes.count) { sink in
            bytes.withUnsafeBytes { sink($0) }
        })
    }

    /// Adds a float32 vector.
    mutating func add(_ name: String, vector: FloatStorage) {
        tensors.append(Tensor(name: name, dimensions: [vector.count], type: .f32, byteCount: vector.count * 4) { sink in
            withExtendedLifetime(vector) { sink(UnsafeRawBufferPointer(start: vector.pointer, count: vector.count * 4)) }
        })
    }

    /// Writes the file to `path`.
    /// - Throws: ``EmbeddingGemmaError/invalidInput(_:)`` when the file cannot be written.
    func write(to path: String) throws(EmbeddingGemmaError) {
        var header: [UInt8] = []
        header.append(contentsOf: Array("GGUF".utf8))
        Self.append(UInt32(3), to: &header)
        Self.append(UInt64(tensors.count), to: &header)
        Self.append(UInt64(metadata.count), to: &header)
        for (key, value) in metadata {
            Self.append(string: key, to: &header)
            Self.append(UInt32(Self.typeCode(value)), to: &header)
            Self.append(value: value, to: &header)
        }
        var offset = 0
        for tensor in tensors {
            Self.append(string: tensor.name, to: &header)
            Self.append(UInt32(tensor.dimensions.count), to: &header)
            for d in tensor.dimensions { Self.append(UInt64(d), to: &header) }
            Self.append(tensor.type.rawValue, to: &header)
            Self.append(UInt64(offset), to: &header)
            offset += Self.padded(tensor.byteCount)
        }
        header.append(contentsOf: [UInt8](repeating: 0, count: Self.padded(header.count) - header.count))

        let temporary = path + ".partial"
        guard let file = fopen(temporary, "wb") else {
            throw .invalidInput("cannot create \(temporary) (errno \(errno))")
        }
        var failed = false
        func emit(_ bytes: UnsafeRawBufferPointer) {
            guard !failed, let base = bytes.baseAddress, bytes.count > 0 else { return }
            if fwrite(base, 1, bytes.count, file) != bytes.count { failed = true }
        }
        header.withUnsafeBytes { emit($0) }
        let zeros = [UInt8](repeating: 0, count: Self.alignment)
        for tensor in tensors {
            var written = 0
            tensor.produce { piece in
                emit(piece)
                written += piece.count
            }
            if written != tensor.byteCount { failed = true }
            zeros.withUnsafeBytes { emit(UnsafeRawBufferPointer(rebasing: $0[0..<(Self.padded(written) - written)])) }
        }
        if fclose(file) != 0 { failed = true }
        guard !failed, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw .invalidInput("cannot write \(path) (errno \(errno)); is the disk full?")
        }
    }

    private static func padded(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func append(string: String, to out: inout [UInt8]) {
        let bytes = Array(string.utf8)
        append(UInt64(bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }

    /// GGUF's metadata type code of `value` (arrays: 9; an empty array is written as an array of uint8).
    private static func typeCode(_ value: GGUFValue) -> Int {
        switch value {
        case .uint8: return 0
        case .int8: return 1
        case .uint16: return 2
        case .int16: return 3
        case .uint32: return 4
        case .int32: return 5
        case .float32: return 6
        case .bool: return 7
        case .string: return 8
        case .array: return 9
        case .uint64: return 10
        case .int64: return 11
        case .float64: return 12
        }
    }

    private static func append(value: GGUFValue, to out: inout [UInt8]) {
        switch value {
        case .uint8(let v): append(v, to: &out)
        case .int8(let v): append(v, to: &out)
        case .uint16(let v): append(v, to: &out)
        case .int16(let v): append(v, to: &out)
        case .uint32(let v): append(v, to: &out)
        case .int32(let v): append(v, to: &out)
        case .uint64(let v): append(v, to: &out)
        case .int64(let v): append(v, to: &out)
        case .float32(let v): append(v.bitPattern, to: &out)
        case .float64(let v): append(v.bitPattern, to: &out)
        case .bool(let v): out.append(v ? 1 : 0)
        case .string(let v): append(string: v, to: &out)
        case .array(let elements):
            append(UInt32(elements.first.map(typeCode) ?? 0), to: &out)
            append(UInt64(elements.count), to: &out)
            for element in elements { append(value: element, to: &out) }
        }
    }
}
