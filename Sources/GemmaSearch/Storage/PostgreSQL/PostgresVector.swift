import EmbeddingGemma
import NIOCore
import PostgresNIO

/// pgvector's types in PostgreSQL's binary wire format, written and read here: a `vector` is
/// `int16 dimensions, int16 0, float4 × dimensions`, a `halfvec` the same with float16 values,
/// all big-endian. Their type OIDs belong to the database (pgvector is an extension, created in
/// each database), so they are looked up when a store connects (``PostgresVectorTypes``).
struct PostgresVector: PostgresDynamicTypeEncodable, Sendable {
    var values: [Float]
    var half: Bool
    let psqlType: PostgresDataType
    var psqlFormat: PostgresFormat { .binary }

    init(_ values: [Float], types: PostgresVectorTypes, half: Bool = false) {
        self.values = values
        self.half = half
        psqlType = half ? types.halfvec : types.vector
    }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        Self.write(values, half: half, into: &buffer)
    }

    static func write(_ values: [Float], half: Bool, into buffer: inout ByteBuffer) {
        buffer.writeInteger(Int16(truncatingIfNeeded: values.count))
        buffer.writeInteger(Int16(0))
        if half {
            for value in values { buffer.writeInteger(HalfFloat.fromFloat(value)) }
        } else {
            for value in values { buffer.writeInteger(value.bitPattern) }
        }
    }

    /// Reads a `vector` (or, with `half`, a `halfvec`) value in binary form; nil when the bytes are not one.
    static func read(_ buffer: ByteBuffer, half: Bool = false) -> [Float]? {
        var buffer = buffer
        guard let count = buffer.readInteger(as: Int16.self), count >= 0, buffer.readInteger(as: Int16.self) != nil,
              buffer.readableBytes == Int(count) * (half ? 2 : 4) else { return nil }
        var values = [Float](repeating: 0, count: Int(count))
        for index in values.indices {
            if half {
                guard let bits = buffer.readInteger(as: UInt16.self) else { return nil }
                values[index] = HalfFloat.toFloat(bits)
            } else {
                guard let bits = buffer.readInteger(as: UInt32.self) else { return nil }
                values[index] = Float(bitPattern: bits)
            }
        }
        return values
    }
}

/// A one-dimensional array of `vector` values in binary form (for inserting many rows through
/// `unnest` in one statement).
struct PostgresVectorArray: PostgresDynamicTypeEncodable, Sendable {
    var vectors: [[Float]]
    let elementType: PostgresDataType
    let psqlType: PostgresDataType
    var psqlFormat: PostgresFormat { .binary }

    init(_ vectors: [[Float]], types: PostgresVectorTypes) {
        self.vectors = vectors
        elementType = types.vector
        psqlType = types.vectorArray
    }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        // Dimensions, has-nulls flag, element type, then each dimension's length and lower bound.
        buffer.writeInteger(Int32(1))
        buffer.writeInteger(Int32(0))
        buffer.writeInteger(elementType.rawValue)
        buffer.writeInteger(Int32(vectors.count))
        buffer.writeInteger(Int32(1))
        for vector in vectors {
            buffer.writeInteger(Int32(4 + 4 * vector.count))
            PostgresVector.write(vector, half: false, into: &buffer)
        }
    }
}

/// The OIDs of pgvector's types in one database.
struct PostgresVectorTypes: Sendable, Hashable {
    var vector: PostgresDataType
    var vectorArray: PostgresDataType
    var halfvec: PostgresDataType
}
