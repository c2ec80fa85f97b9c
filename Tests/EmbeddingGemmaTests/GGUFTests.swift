import Foundation
import Testing
@testable import EmbeddingGemma
import EmbeddingGemmaTestSupport

/// Builds GGUF files byte by byte for the reader's tests.
private struct GGUFBuilder {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
    mutating func string(_ s: String) {
        u64(UInt64(s.utf8.count))
        bytes.append(contentsOf: s.utf8)
    }

    /// A valid file: header, metadata of every type, one F32 [4 × 2] and one Q8_0 [32 × 2] tensor.
    static func sample(alignment: UInt32 = 32) -> (bytes: [UInt8], floats: [Float]) {
        var b = GGUFBuilder()
        b.bytes.append(contentsOf: "GGUF".utf8)
        b.u32(3)
        b.u64(2) // tensors
        b.u64(15) // metadata
        b.string("general.architecture"); b.u32(8); b.string("gemma-embedding")
        b.string("general.alignment"); b.u32(4); b.u32(alignment)
        b.string("k.u8"); b.u32(0); b.u8(200)
        b.string("k.i8"); b.u32(1); b.u8(0xFF)
        b.string("k.u16"); b.u32(2); b.u8(0x34); b.u8(0x12)
        b.string("k.i16"); b.u32(3); b.u8(0xFE); b.u8(0xFF)
        b.string("k.i32"); b.u32(5); b.u32(UInt32(bitPattern: -7))
        b.string("k.f32"); b.u32(6); b.u32(Float(0.5).bitPattern)
        b.string("k.bool"); b.u32(7); b.u8(1)
        b.string("k.u64"); b.u32(10); b.u64(1 << 40)
        b.string("k.i64"); b.u32(11); b.u64(UInt64(bitPattern: -3))
        b.string("k.f64"); b.u32(12); b.u64(Double(2.25).bitPattern)
        b.string("tokenizer.ggml.tokens"); b.u32(9); b.u32(8); b.u64(3); b.string("<pad>"); b.string("▁hi"); b.string("")
        b.string("k.nested"); b.u32(9); b.u32(9); b.u64(1); b.u32(4); b.u64(2); b.u32(1); b.u32(2)
        b.string("gemma-embedding.block_count"); b.u32(4); b.u32(24)
        // Tensor infos.
        b.string("a.weight"); b.u32(2); b.u64(4); b.u64(2); b.u32(0); b.u64(0)
        b.string("b.weight"); b.u32(2); b.u64(32); b.u64(2); b.u32(8); b.u64(UInt64(alignment))
        while b.bytes.count % Int(alignment) != 0 { b.u8(0) }
        let floats: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        for f in floats { b.u32(f.bitPattern) }
        while b.bytes.count % Int(alignment) != 0 { b.u8(0) }
        for block in 0..<2 {
            b.u8(0x00); b.u8(0x3C) // f16 scale 1.0
            for i in 0..<32 { b.u8(UInt8(bitPattern: Int8(i - 16 + block))) }
        }
        return (b.bytes, floats)
    }
}

@Suite("GGUF reader")
struct GGUFTests {
    let scratch = ScratchDirectory("gguf")

    func write(_ bytes: [UInt8], _ name: String = "m.gguf") throws -> String {
        try scratch.write(bytes, to: name)
    }

    @Test("reads metadata of every type and tensor descriptions", arguments: [32, 64])
    func readsSample(alignment: Int) throws {
        let sample = GGUFBuilder.sample(alignment: UInt32(alignment))
        let file = try GGUFFile(path: try write(sample.bytes))
        #expect(file.version == 3)
        #expect(file.alignment == alignment)
        #expect(file.metadata["general.architecture"]?.stringValue == "gemma-embedding")
        #expect(file.metadata["k.u8"] == .uint8(200))
        #expect(file.metadata["k.i8"] == .int8(-1))
        #expect(file.metadata["k.u16"] == .uint16(0x1234))
        #expect(file.metadata["k.i16"] == .int16(-2))
        #expect(file.metadata["k.i32"] == .int32(-7))
        #expect(file.metadata["k.f32"] == .float32(0.5))
        #expect(file.metadata["k.bool"] == .bool(true))
        #expect(file.metadata["k.u64"]?.intValue == 1 << 40)
        #expect(file.metadata["k.i64"] == .int64(-3))
        #expect(file.metadata["k.f64"]?.doubleValue == 2.25)
        #expect(file.metadata["tokenizer.ggml.tokens"] == .array([.string("<pad>"), .string("▁hi"), .string("")]))
        #expect(file.metadata["k.nested"] == .array([.array([.uint32(1), .uint32(2)])]))
        #expect(file.metadata["gemma-embedding.block_count"]?.intValue == 24)
        #expect(file.metadataKeys.first == "general.architecture")
        let a = try #require(file.tensor(named: "a.weight"))
        #expect(a.dimensions == [4, 2] && a.type == .f32 && a.range.count == 32 && a.range.lowerBound % alignment == 0)
        let floats = file.withBytes(of: a) { raw in (0..<8).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) } }
        #expect(floats == sample.floats)
        let b = try #require(file.tensor(named: "b.weight"))
        #expect(b.dimensions == [32, 2] && b.type == .q8_0 && b.range.count == 68)
        #expect(file.withBytes(of: b) { $0[2] } == UInt8(bitPattern: -16))
    }

    @Test("every truncation of a valid file is an error")
    func truncations() throws {
        let full = GGUFBuilder.sample().bytes
        for length in 0..<full.count {
            let path = try write(Array(full.prefix(length)), "t.gguf")
            #expect(throws: EmbeddingGemmaError.self, "length \(length)") { try GGUFFile(path: path) }
        }
    }

    @Test("absurd counts, sizes, types and offsets are errors, not allocations or crashes")
    func malformedFields() throws {
        let good = GGUFBuilder.sample().bytes
        func patched(_ offset: Int, _ values: [UInt8]) -> [UInt8] {
            var bytes = good
            for (i, v) in values.enumerated() { bytes[offset + i] = v }
            return bytes
        }
        let huge: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0x40]
        let firstKeyLength = 24 // after magic, version, two counts
        let cases: [(String, [UInt8])] = [
            ("bad magic", patched(0, Array("GGUG".utf8))),
            ("bad version", patched(4, [9, 0, 0, 0])),
            ("huge tensor count", patched(8, huge)),
            ("huge metadata count", patched(16, huge)),
            ("huge string length", patched(firstKeyLength, huge)),
            ("unknown value type", patched(firstKeyLength + 8 + "general.architecture".utf8.count, [99, 0, 0, 0])),
        ]
        for (name, bytes) in cases {
            let path = try write(bytes, "c.gguf")
            #expect(throws: EmbeddingGemmaError.self, "\(name)") { try GGUFFile(path: path) }
        }
        // Fields of the first tensor info, found by its name.
        let name = Array("a.weight".utf8)
        let at = try #require((0...(good.count - name.count)).first { Array(good[$0..<($0 + name.count)]) == name })
        let dims = at + name.count, type = dims + 4 + 16, offset = type + 4
        let tensorCases: [(String, [UInt8])] = [
            ("too many dimensions", patched(dims, [9, 0, 0, 0])),
            ("huge dimension", patched(dims + 4, huge)),
            ("unknown ggml type", patched(type, [77, 0, 0, 0])),
            ("misaligned offset", patched(offset, [4, 0, 0, 0, 0, 0, 0, 0])),
            ("offset past the end", patched(offset, [0, 0, 0, 0, 1, 0, 0, 0])),
        ]
        for (name, bytes) in tensorCases {
            let path = try write(bytes, "c.gguf")
            #expect(throws: EmbeddingGemmaError.self, "\(name)") { try GGUFFile(path: path) }
        }
    }

    @Test("large arrays stay in the file, read back exactly, and every truncation or overlong length is an error")
    func largeArrays() throws {
        var b = GGUFBuilder()
        b.bytes += Array("GGUF".utf8)
        b.u32(3)
        b.u64(0)
        b.u64(2)
        let count = GGUFFile.largeArrayThreshold + 5
        b.string("tokenizer.ggml.tokens")
        b.u32(9); b.u32(8); b.u64(UInt64(count))
        var lastLength = 0
        for i in 0..<count {
            lastLength = b.bytes.count
            b.string("t\(i)▁")
        }
        b.string("tokenizer.ggml.scores")
        b.u32(9); b.u32(6); b.u64(UInt64(count))
        for i in 0..<count { b.u32(Float(-i).bitPattern) }
        let valid = b.bytes
        let file = try GGUFFile(path: try write(valid, "large.gguf"))
        #expect(file.metadata["tokenizer.ggml.tokens"] == nil, "large arrays are not materialised")
        var seen = 0
        let found = try file.forEachString("tokenizer.ggml.tokens") { index, bytes in
            if String(decoding: bytes, as: UTF8.self) == "t\(index)▁" { seen += 1 }
        }
        #expect(found && seen == count)
        #expect(file.numbers("tokenizer.ggml.scores") == (0..<count).map { -Double($0) })
        #expect(file.numbers("tokenizer.ggml.tokens") == nil)
        // The last string of the last metadata entry (no tensors follow) claims 4 bytes more than the
        // file has: within the 8 bytes of its own length field, the case a bound taken before reading
        // the length lets through, and which would make forEachString read past the mapping.
        var tokensOnly = Array(valid.prefix(lastLength + 8 + Array("t\(count - 1)▁".utf8).count))
        tokensOnly[4 + 4 + 8] = 1 // one metadata entry
        let past = UInt64(Array("t\(count - 1)▁".utf8).count + 4)
        for i in 0..<8 { tokensOnly[lastLength + i] = UInt8(truncatingIfNeeded: past >> (8 * UInt64(i))) }
        #expect(throws: EmbeddingGemmaError.self) { try GGUFFile(path: try write(tokensOnly, "overlong.gguf")) }
        for cut in stride(from: 0, to: valid.count, by: 997) {
            #expect(throws: EmbeddingGemmaError.self) { try GGUFFile(path: try write(Array(valid.prefix(cut)), "cut.gguf")) }
        }
    }

    @Test("random byte flips give a valid file or an error, never a crash")
    func randomFlips() throws {
        let good = GGUFBuilder.sample().bytes
        var seed: UInt64 = 99
        var rejected = 0
        for round in 0..<500 {
            var bytes = good
            for _ in 0..<(1 + round % 3) {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes[Int(seed >> 33) % bytes.count] = UInt8(truncatingIfNeeded: seed >> 17)
            }
            let path = try write(bytes, "f.gguf")
            do {
                let file = try GGUFFile(path: path)
                for tensor in file.tensors { _ = file.withBytes(of: tensor) { $0.reduce(0, &+) } }
            } catch {
                rejected += 1
            }
        }
        #expect(rejected > 50)
    }

    @Test("a file written by the gguf Python package (llama.cpp's writer) reads back exactly")
    func referenceWriter() throws {
        // Made by scripts/make-gguf-fixture.py.
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/gguf-py-sample.gguf").path
        let file = try GGUFFile(path: path)
        #expect(file.metadata["general.architecture"]?.stringValue == "gemma-embedding")
        #expect(file.metadata["gemma-embedding.block_count"]?.intValue == 24)
        #expect(file.metadata["gemma-embedding.attention.sliding_window"]?.intValue == 512)
        #expect(file.metadata["gemma-embedding.rope.freq_base"]?.doubleValue == 1_000_000)
        #expect(file.metadata["general.sample.flag"] == .bool(true))
        #expect(file.metadata["tokenizer.ggml.tokens"]?.arrayValue?.compactMap(\.stringValue) == ["<pad>", "<eos>", "<bos>", "▁hi"])
        #expect(file.metadata["tokenizer.ggml.scores"]?.arrayValue?.compactMap(\.doubleValue) == [0, 0, 0, -1.5])

        let a = try #require(file.tensor(named: "a.f32"))
        #expect(a.type == .f32 && a.dimensions == [8, 2])
        let floats = file.withBytes(of: a) { raw in (0..<16).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) } }
        #expect(floats == (0..<16).map { Float($0) / 4 })

        let b = try #require(file.tensor(named: "b.f16"))
        #expect(b.type == .f16 && b.dimensions == [32, 2])
        let halves = file.withBytes(of: b) { raw in (0..<64).map { HalfFloat.toFloat(raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) } }
        #expect(halves == (0..<64).map { Float($0) / 8 })

        let c = try #require(file.tensor(named: "c.q8_0"))
        #expect(c.type == .q8_0 && c.dimensions == [32, 2] && c.range.count == 2 * 34)
        let dequantized: [Float] = file.withBytes(of: c) { raw in
            (0..<64).map { i in
                let block = i / 32
                let scale = HalfFloat.toFloat(raw.loadUnaligned(fromByteOffset: block * 34, as: UInt16.self))
                return scale * Float(Int8(bitPattern: raw[block * 34 + 2 + i % 32]))
            }
        }
        for (i, value) in dequantized.enumerated() {
            let expected = -1 + 2 * Float(i) / 63
            #expect(abs(value - expected) <= 1.0 / 127 + 1e-3, "element \(i): \(value) vs \(expected)")
        }
    }

    @Test("Q8_0 and Q4_0 quantization matches the gguf package byte for byte")
    func quantizationMatchesReference() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/gguf-py-sample.gguf").path
        let file = try GGUFFile(path: path)
        let source = try #require(file.tensor(named: "q.source"))
        let values = file.withBytes(of: source) { raw in
            (0..<source.elementCount).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }
        }
        // ggml's C code and the gguf package may differ in the sign of a zero scale (a block of ±0.0):
        // both decode to zeros, so compare with zero scales made positive.
        func unsignedZeroScales(_ bytes: [UInt8], blockBytes: Int) -> [UInt8] {
            var copy = bytes
            for base in stride(from: 0, to: copy.count, by: blockBytes) where copy[base] == 0 && copy[base + 1] == 0x80 {
                copy[base + 1] = 0
            }
            return copy
        }
        for (name, type, quantize) in [("q.q8_0", GGMLType.q8_0, BlockQuantization.quantizeQ8_0),
                                       ("q.q4_0", GGMLType.q4_0, BlockQuantization.quantizeQ4_0)] {
            let reference = try #require(file.tensor(named: name))
            let expected = file.withBytes(of: reference) { Array($0) }
            #expect(unsignedZeroScales(try quantize(values), blockBytes: type.blockBytes)
                == unsignedZeroScales(expected, blockBytes: type.blockBytes), "\(name)")
        }
        // Dequantized values stay within half a step of the source (Q4_0: one step, since codes
        // opposite in sign to the block's extreme value are clipped at 15).
        let q8 = try BlockQuantization.quantizeQ8_0(values)
        let back8 = try q8.withUnsafeBytes { try BlockQuantization.dequantizeQ8_0($0, count: values.count) }
        let q4 = try BlockQuantization.quantizeQ4_0(values)
        let back4 = try q4.withUnsafeBytes { try BlockQuantization.dequantizeQ4_0($0, count: values.count) }
        #expect(throws: EmbeddingGemmaError.self) { try BlockQuantization.quantizeQ8_0([1, 2, 3]) }
        #expect(throws: EmbeddingGemmaError.self) { try q8.withUnsafeBytes { try BlockQuantization.dequantizeQ4_0($0, count: values.count) } }
        for block in 0..<(values.count / 32) {
            let slice = values[(block * 32)..<((block + 1) * 32)]
            let amax = slice.map(abs).max() ?? 0
            for i in slice.indices {
                #expect(abs(back8[i] - values[i]) <= amax / 127 * 0.5 + amax * 1e-3)
                #expect(abs(back4[i] - values[i]) <= amax / 8 + amax * 2e-3)
            }
        }
    }

    @Test("float16 encoding rounds to nearest even and round-trips every half value")
    func halfEncoding() {
        for bits in UInt16(0)...UInt16.max where (bits & 0x7C00) != 0x7C00 {
            #expect(HalfFloat.fromFloat(HalfFloat.toFloat(bits)) == bits)
        }
        #expect(HalfFloat.fromFloat(1 + 1.0 / 2048) == 0x3C00) // tie goes to even
        #expect(HalfFloat.fromFloat(1 + 3.0 / 2048) == 0x3C02)
        #expect(HalfFloat.fromFloat(70_000) == 0x7C00)
        #expect(HalfFloat.fromFloat(-0.0) == 0x8000)
    }
}
