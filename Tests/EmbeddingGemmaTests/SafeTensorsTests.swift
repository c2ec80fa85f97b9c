import Foundation
import Testing
@testable import EmbeddingGemma
import EmbeddingGemmaTestSupport

@Suite("safetensors reader")
struct SafeTensorsTests {
    let scratch = ScratchDirectory("st")

    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        try scratch.write(bytes, to: name)
    }

    @Test func readsFloat32AndBFloat16() throws {
        let values: [Float] = [1, -2.5, 0.375, 1024, -0.0, 3]
        let f32 = try SafeTensorsFile(path: try write(SafeTensorsWriter.bytes([("w", [2, 3], values)]), "f32.safetensors"))
        #expect(Array(try f32.floats("w", shape: [2, 3]).values) == values)
        let bf16 = try SafeTensorsFile(path: try write(SafeTensorsWriter.bytes([("w", [6], values)], dtype: "BF16"), "bf16.safetensors"))
        let decoded = Array(try bf16.floats("w", shape: [6]).values)
        #expect(decoded == values, "\(decoded)")
    }

    @Test func halfFloatConversion() {
        #expect(HalfFloat.toFloat(0x3C00) == 1)
        #expect(HalfFloat.toFloat(0xC000) == -2)
        #expect(HalfFloat.toFloat(0x7BFF) == 65504)
        #expect(HalfFloat.toFloat(0x0001) == Float(sign: .plus, exponent: -24, significand: 1))
        #expect(HalfFloat.toFloat(0x7C00) == .infinity)
        #expect(HalfFloat.toFloat(0x7E00).isNaN)
    }

    @Test func wrongShapeOrMissingTensorIsAnError() throws {
        let file = try SafeTensorsFile(path: try write(SafeTensorsWriter.bytes([("w", [2, 3], [1, 2, 3, 4, 5, 6])]), "s.safetensors"))
        #expect(throws: EmbeddingGemmaError.self) { try file.floats("w", shape: [3, 2]) }
        #expect(throws: EmbeddingGemmaError.self) { try file.floats("v", shape: [2, 3]) }
    }

    @Test func corruptFilesAreErrors() throws {
        let good = SafeTensorsWriter.bytes([("w", [2, 3], [1, 2, 3, 4, 5, 6])])
        var hugeHeader = good
        hugeHeader[7] = 0x7F
        let badJSON = [UInt8](good.prefix(8)) + Array(repeating: UInt8(ascii: "x"), count: good.count - 8)
        let overrun = Array(String(decoding: good, as: UTF8.self).replacingOccurrences(of: "[0,24]", with: "[0,28]").utf8)
        let overflow = Array(String(decoding: good, as: UTF8.self).replacingOccurrences(of: "[2,3]", with: "[4611686018427387904,4]").utf8)
        let int8 = Array(String(decoding: good, as: UTF8.self).replacingOccurrences(of: "\"F32\"", with: "\"I8\" ").utf8)
        let cases: [(String, [UInt8])] = [
            ("empty", []), ("short", [1, 2, 3]), ("truncated", Array(good.prefix(good.count - 4))),
            ("huge header", hugeHeader), ("bad json", badJSON), ("overrun", overrun), ("overflow", overflow), ("int8", int8),
        ]
        for (name, bytes) in cases {
            let path = try write(bytes, name + ".safetensors")
            #expect(throws: EmbeddingGemmaError.self, "\(name)") {
                let file = try SafeTensorsFile(path: path)
                _ = try file.floats("w", shape: [2, 3])
            }
        }
    }

    @Test func randomByteFlipsNeverCrash() throws {
        let good = SafeTensorsWriter.bytes([("a", [4], [1, 2, 3, 4]), ("b", [2, 2], [5, 6, 7, 8])])
        var seed: UInt64 = 1234
        var errors = 0
        for round in 0..<300 {
            var bytes = good
            for _ in 0..<(1 + round % 4) {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1
                let position = Int(seed >> 33) % bytes.count
                seed = seed &* 6_364_136_223_846_793_005 &+ 1
                bytes[position] = UInt8(truncatingIfNeeded: seed >> 40)
            }
            let path = try write(bytes, "flip.safetensors")
            do {
                let file = try SafeTensorsFile(path: path)
                _ = try file.floats("a", shape: [4])
                _ = try file.floats("b", shape: [2, 2])
            } catch {
                errors += 1
            }
        }
        #expect(errors > 0, "corruption should be detected at least sometimes")
    }
}

