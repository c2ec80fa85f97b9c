import Foundation
import Testing
@testable import EmbeddingGemma
import EmbeddingGemmaTestSupport

@Suite("GGUF models on the tiny random model")
struct GGUFModelTests {
    static let folder: String = {
        // Force-unwrapping is acceptable in tests: a failure here fails the suite.
        try! TinyModel.write()
    }()

    static let texts = ["abc", "hi hi hi hi hi hi hi hi hi hi hi hi", "", "ab c aa  <tag> hé", String(repeating: "abc hi ", count: 9)]

    /// The tiny model written as a GGUF file of `type`.
    static func gguf(_ type: QuantizationType) throws -> String {
        let path = ScratchDirectory("tiny-gguf").path + "/tiny-\(type.rawValue).gguf"
        try EmbeddingModel(path: folder).converted(to: type).writeGGUF(to: path)
        return path
    }

    /// The tiny F32 GGUF file rewritten as `name`: each metadata value passed through `metadata`,
    /// and only the tensors `keep` accepts.
    static func rewritten(
        _ name: String, metadata: (String, GGUFValue) -> GGUFValue = { $1 },
        keep: (GGUFFile.TensorInfo) -> Bool = { _ in true }
    ) throws -> String {
        let source = try GGUFFile(path: try gguf(.f32))
        var writer = GGUFWriter()
        for key in source.metadataKeys {
            let value = try #require(source.metadata[key], "the tiny vocabulary is small enough to be materialised")
            writer.set(key, metadata(key, value))
        }
        for tensor in source.tensors where keep(tensor) {
            writer.add(tensor.name, raw: source.withBytes(of: tensor) { Array($0) }, dimensions: tensor.dimensions, type: tensor.type)
        }
        let path = ScratchDirectory("tiny-rewritten").path + "/" + name
        try writer.write(to: path)
        return path
    }

    @Test("tokenizer.model pieces and scores tokenize like tokenizer.json")
    func sentencePieceTokenizer() throws {
        let json = try GemmaTokenizer(contentsOf: Self.folder + "/tokenizer.json")
        let spm = try GemmaTokenizer(sentencePiece: SentencePieceModel(path: Self.folder + "/tokenizer.model"), source: "tiny")
        for text in Self.texts + ["▁a", "aaaa", "  ", "abcabc", "<bos>hi", "\u{1F600}"] {
            #expect(spm.encode(text) == json.encode(text), "\(text.debugDescription)")
        }
    }

    @Test("an F32 GGUF file gives exactly the vectors of the folder it was written from", arguments: [QuantizationType.f32, .f16, .bf16])
    func roundTrip(type: QuantizationType) throws {
        let folderModel = try EmbeddingModel(path: Self.folder)
        let inMemory = try folderModel.converted(to: type)
        let path = try Self.gguf(type)
        let fromFile = try EmbeddingModel(path: path)
        #expect(fromFile.quantization == type)
        #expect(fromFile.prompts == folderModel.prompts)
        #expect(fromFile.maxSequenceLength == folderModel.maxSequenceLength)
        let expected = try inMemory.encode(Self.texts, prompt: .named("query"))
        let got = try fromFile.encode(Self.texts, prompt: .named("query"))
        #expect(got == expected, "a GGUF file must give the vectors of the in-memory model it was written from")
        let reference = try folderModel.encode(Self.texts, prompt: .named("query"))
        for (a, b) in zip(got, reference) {
            let cosine = VectorMath.dot(a, b)
            #expect(type == .f32 ? a == b : cosine > 0.999, "\(type): cosine \(cosine)")
        }
        for text in Self.texts {
            #expect(fromFile.tokenizer.encode(text) == folderModel.tokenizer.encode(text))
        }
    }

    @Test("quantizing a model whose rows are not multiples of 32 is a clear error")
    func quantizationNeedsBlocks() throws {
        let model = try EmbeddingModel(path: Self.folder)
        #expect(throws: EmbeddingGemmaError.self) { try model.converted(to: .q8_0) }
        #expect(throws: EmbeddingGemmaError.self) { try EmbeddingModel(path: Self.folder, quantization: .q4_0) }
    }

    @Test("a file without the Dense head is refused by name, or gives pooled vectors when asked")
    func missingHead() throws {
        let path = try Self.rewritten("headless.gguf", keep: { !$0.name.hasPrefix("dense_") })
        do {
            _ = try EmbeddingModel(path: path)
            Issue.record("a headless file must be refused")
        } catch {
            #expect(error.description.contains("dense_2.weight") && error.description.contains("dense_3.weight"))
            guard case .missingDenseHead(_, let missing) = error else {
                Issue.record("expected missingDenseHead, got \(error)")
                return
            }
            #expect(missing == ["dense_2.weight", "dense_3.weight"])
            #expect(!error.description.contains("--"), "the library names no CLI flag: \(error)")
        }
        let pooled = try EmbeddingModel(path: path, allowMissingHead: true)
        #expect(pooled.dimensions == TinyModel.hidden)
        let vector = try pooled.encode("abc hi")
        #expect(abs(VectorMath.dot(vector, vector) - 1) < 1e-5)
    }

    @Test("other architectures and unsupported tensor types are clear errors")
    func wrongArchitecture() throws {
        let path = try Self.rewritten("llama.gguf", metadata: { key, value in key == "general.architecture" ? .string("llama") : value })
        do {
            _ = try EmbeddingModel(path: path)
            Issue.record("another architecture must be refused")
        } catch {
            #expect(error.description.contains("'llama'") && error.description.contains("gemma-embedding"))
        }
    }

    @Test("absurd sizes in the metadata are refused before anything is allocated from them",
          arguments: ["gemma-embedding.context_length", "gemma-embedding.block_count", "gemma-embedding.attention.key_length"])
    func absurdSizes(key: String) throws {
        let path = try Self.rewritten("absurd.gguf", metadata: { name, value in name == key ? .uint32(1 << 30) : value })
        do {
            _ = try EmbeddingModel(path: path)
            Issue.record("a size of 2^30 must be refused")
        } catch {
            #expect(error.description.contains(key), "\(error)")
        }
    }

    @Test("truncated and corrupted GGUF models are errors, never crashes")
    func corruptedFiles() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: try Self.gguf(.f16)))
        let dir = ScratchDirectory("tiny-fuzz").path
        /// Whether the model loaded and embedded; an error is fine, a crash is not.
        func loads(_ bytes: Data, _ name: String) -> Bool {
            let path = dir + "/" + name
            guard FileManager.default.createFile(atPath: path, contents: bytes) else { return false }
            do {
                let model = try EmbeddingModel(path: path)
                _ = try model.encode(["abc hi", "<tag> aa"])
                return true
            } catch {
                return false
            }
        }
        // Truncations at many points, header and data alike: all must be rejected.
        var truncationsLoaded = 0
        for cut in stride(from: 0, to: original.count, by: max(1, original.count / 300)) where loads(original.prefix(cut), "cut.gguf") {
            truncationsLoaded += 1
        }
        #expect(truncationsLoaded == 0)
        // Random byte flips: a flip in the data gives other numbers, one in the header an error.
        var seed: UInt64 = 12345
        var flipsRejected = 0
        for round in 0..<300 {
            var bytes = original
            for _ in 0..<(1 + round % 4) {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let index = Int(seed >> 33) % bytes.count
                bytes[index] ^= UInt8(truncatingIfNeeded: seed >> 8) | 1
            }
            if !loads(bytes, "flip.gguf") { flipsRejected += 1 }
        }
        #expect(flipsRejected > 0)
    }
}
