import Foundation
import Testing
@testable import EmbeddingGemma
import EmbeddingGemmaTestSupport

@Suite("Encoder on a tiny random model")
struct TinyModelTests {
    static let folder: String = {
        // Force-unwrapping is acceptable in tests: a failure here fails the suite.
        try! TinyModel.write()
    }()

    /// A straightforward re-implementation of the forward pass (token by token, no blocking,
    /// explicit masks) to check the packed, blocked encoder against.
    static func naiveForward(_ tokens: [Int], weights: [String: [Float]]) -> [[Float]] {
        let h = TinyModel.hidden, hd = TinyModel.headDim, heads = TinyModel.heads, inter = TinyModel.intermediate
        func w(_ name: String) -> [Float] { weights[name] ?? [] }
        func norm(_ x: [Float], _ weight: [Float]) -> [Float] {
            let ms = x.reduce(Float(0)) { $0 + $1 * $1 } / Float(x.count)
            let inv = 1 / (ms + 1e-6).squareRoot()
            return x.enumerated().map { $0.element * inv * (1 + weight[$0.offset]) }
        }
        func linear(_ x: [Float], _ weight: [Float], out: Int) -> [Float] {
            (0..<out).map { o in (0..<x.count).reduce(Float(0)) { $0 + x[$1] * weight[o * x.count + $1] } }
        }
        func rope(_ v: [Float], position: Int, base: Double) -> [Float] {
            var r = v
            let half = hd / 2
            for i in 0..<half {
                let angle = Double(Float(position) * Float(1.0 / pow(base, Double(2 * i) / Double(hd))))
                let c = Float(cos(angle)), s = Float(sin(angle))
                r[i] = v[i] * c - v[i + half] * s
                r[i + half] = v[i + half] * c + v[i] * s
            }
            return r
        }
        let scale = Float(Double(h).squareRoot())
        let embed = w("embed_tokens.weight")
        var x = tokens.map { t in (0..<h).map { embed[t * h + $0] * scale } }
        let n = tokens.count
        for l in 0..<TinyModel.layers {
            let p = "layers.\(l)."
            let full = TinyModel.layerTypes[l] == "full_attention"
            let base = full ? 1_000_000.0 : 10_000.0
            let normed = x.map { norm($0, w(p + "input_layernorm.weight")) }
            var q: [[[Float]]] = [], k: [[Float]] = [], v: [[Float]] = []
            for t in 0..<n {
                let qt = linear(normed[t], w(p + "self_attn.q_proj.weight"), out: heads * hd)
                q.append((0..<heads).map { hh in rope(norm(Array(qt[(hh * hd)..<((hh + 1) * hd)]), w(p + "self_attn.q_norm.weight")), position: t, base: base) })
                k.append(rope(norm(linear(normed[t], w(p + "self_attn.k_proj.weight"), out: hd), w(p + "self_attn.k_norm.weight")), position: t, base: base))
                v.append(linear(normed[t], w(p + "self_attn.v_proj.weight"), out: hd))
            }
            for t in 0..<n {
                var attended: [Float] = []
                for hh in 0..<heads {
                    let allowed = (0..<n).filter { full || abs($0 - t) <= TinyModel.slidingWindow / 2 }
                    let logits = allowed.map { j in (0..<hd).reduce(Float(0)) { $0 + q[t][hh][$1] * k[j][$1] } / Float(hd).squareRoot() }
                    let m = logits.max() ?? 0
                    let e = logits.map { expf($0 - m) }
                    let sum = e.reduce(0, +)
                    var out = [Float](repeating: 0, count: hd)
                    for (idx, j) in allowed.enumerated() {
                        for d in 0..<hd { out[d] += e[idx] / sum * v[j][d] }
                    }
                    attended += out
                }
                let o = linear(attended, w(p + "self_attn.o_proj.weight"), out: h)
                let post = norm(o, w(p + "post_attention_layernorm.weight"))
                x[t] = zip(x[t], post).map(+)
            }
            for t in 0..<n {
                let hn = norm(x[t], w(p + "pre_feedforward_layernorm.weight"))
                let g = linear(hn, w(p + "mlp.gate_proj.weight"), out: inter)
                let u = linear(hn, w(p + "mlp.up_proj.weight"), out: inter)
                let act = zip(g, u).map { gv, uv in 0.5 * gv * (1 + tanhf(0.7978845608 * (gv + 0.044715 * gv * gv * gv))) * uv }
                let d = norm(linear(act, w(p + "mlp.down_proj.weight"), out: h), w(p + "post_feedforward_layernorm.weight"))
                x[t] = zip(x[t], d).map(+)
            }
        }
        return x.map { norm($0, w("norm.weight")) }
    }

    @Test("packed, blocked, banded attention equals the naive forward pass")
    func matchesNaiveForward() throws {
        let file = try SafeTensorsFile(path: Self.folder + "/model.safetensors")
        let config = try ModelFolder(path: Self.folder).config
        var encoder = try GemmaEncoder(file: file, config: config)
        encoder.attentionBlock = 5 // several query blocks and partial bands
        var weights: [String: [Float]] = [:]
        for (name, _, values) in TinyModel.backboneTensors() { weights[name] = values }
        var seed: UInt64 = 3
        let lengths = [1, 4, 13, 29]
        let sequences = lengths.map { length in
            TinyModel.random(length, seed: &seed, scale: 1).map { Int(abs($0) * Float(TinyModel.vocabularySize - 1)) }
        }
        let hidden = encoder.forward(tokens: sequences.flatMap { $0.map(Int32.init) }, lengths: lengths)
        var offset = 0
        for sequence in sequences {
            let expected = Self.naiveForward(sequence, weights: weights)
            for t in 0..<sequence.count {
                for i in 0..<TinyModel.hidden {
                    let got = hidden[(offset + t) * TinyModel.hidden + i]
                    #expect(abs(got - expected[t][i]) <= 1e-4 * max(1, abs(expected[t][i])), "token \(t) dim \(i)")
                }
            }
            offset += sequence.count
        }
    }

    @Test("a batch gives the same vectors as one text at a time; vectors are unit length")
    func batchEqualsSingle() throws {
        let model = try EmbeddingModel(path: Self.folder)
        let texts = ["abc", "hi hi hi hi hi hi hi hi hi hi hi hi", "", "ab c aa", String(repeating: "abc hi ", count: 9)]
        let batched = try model.encode(texts, prompt: .named("query"))
        for (text, vector) in zip(texts, batched) {
            let single = try model.encode(text, prompt: .named("query"))
            #expect(single.count == TinyModel.hidden)
            for i in 0..<single.count { #expect(abs(single[i] - vector[i]) <= 1e-5) }
            #expect(abs(VectorMath.dot(single, single) - 1) < 1e-5)
        }
    }

    @Test("concurrent callers get the same results")
    func concurrentCallers() async throws {
        let model = try EmbeddingModel(path: Self.folder)
        let expected = try model.encode("abc hi abc hi", prompt: .named("STS"))
        try await withThrowingTaskGroup(of: [Float].self) { group in
            for _ in 0..<8 {
                group.addTask { try model.encode("abc hi abc hi", prompt: .named("STS")) }
            }
            for try await vector in group { #expect(vector == expected) }
        }
    }

    @Test("prompts, dimensions and truncation are validated")
    func validation() throws {
        let model = try EmbeddingModel(path: Self.folder)
        #expect(throws: EmbeddingGemmaError.unknownPrompt(name: "nope", available: ["STS", "document", "query"])) {
            try model.encode("a", prompt: .named("nope"))
        }
        // The tiny model is 16 wide: no Matryoshka size fits.
        #expect(throws: EmbeddingGemmaError.self) { try model.encode("a", dimensions: 768) }
        let long = String(repeating: "é", count: 60) // 120 byte tokens > 96 positions
        let result = try model.embed([long], prompts: [.none])[0]
        #expect(result.tokenCount == TinyModel.maxPositions)
        #expect(result.wasTruncated)
        #expect(throws: EmbeddingGemmaError.inputTooLong(index: 0, tokens: 122, limit: TinyModel.maxPositions)) {
            try model.embed([long], prompts: [.none], truncation: .error)
        }
        #expect(try model.tokenize(long).count == TinyModel.maxPositions)
        #expect(try model.tokenize(long).last == 1, "truncation keeps <eos> last")
        #expect(throws: EmbeddingGemmaError.inputTooLong(index: 0, tokens: 122, limit: TinyModel.maxPositions)) {
            try model.tokenize(long, truncation: .error)
        }
        #expect(throws: EmbeddingGemmaError.invalidInput("cannot compare vectors of 2 and 3 dimensions")) {
            try model.similarity([[1, 0]], [[1, 0, 0]])
        }
    }

    @Test("a folder that is missing or incomplete is a clear error")
    func missingFiles() throws {
        #expect(throws: EmbeddingGemmaError.self) { try EmbeddingModel(path: "/nonexistent/model") }
        let copy = ScratchDirectory("tiny-copy").path + "/model"
        try FileManager.default.copyItem(atPath: Self.folder, toPath: copy)
        try FileManager.default.removeItem(atPath: copy + "/model.safetensors")
        #expect(throws: EmbeddingGemmaError.self) { try EmbeddingModel(path: copy) }
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.folder + "/model.safetensors"))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: copy + "/model.safetensors"))
        #expect(throws: EmbeddingGemmaError.self) { try EmbeddingModel(path: copy) }
    }
}
