import Foundation
import Testing
@testable import EmbeddingGemma

@Suite("Tokenizer against the reference", .enabled(if: Golden.available, "model or ../shared/golden missing"))
struct TokenizerGoldenTests {
    @Test("tokenizer_cases.jsonl: every text gives the reference ids")
    func tokenizerCases() throws {
        let model = try Golden.loadModel()
        let cases = try Golden.jsonLines("tokenizer_cases.jsonl")
        #expect(cases.count > 1000)
        var mismatches: [String] = []
        for item in cases {
            let text = try #require(item["text"] as? String)
            let expected = try #require(item["input_ids"] as? [Int])
            let ids = model.tokenizer.encode(text)
            if ids != expected { mismatches.append(text) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(cases.count) differ, e.g. \(mismatches.prefix(3))")
    }

    @Test("tokenizer.model pieces and scores (what GGUF files carry) give the reference ids")
    func sentencePieceVocabulary() throws {
        let model = try Golden.loadModel()
        let spm = try SentencePieceModel(path: model.folder.path + "/tokenizer.model")
        #expect(spm.count == model.folder.config.vocabSize)
        let tokenizer = try GemmaTokenizer(sentencePiece: spm, source: "tokenizer.model")
        var mismatches: [String] = []
        var count = 0
        for item in try Golden.jsonLines("tokenizer_cases.jsonl") + Golden.jsonLines("corpus.jsonl") {
            let text = try #require(item["text"] as? String)
            let prompt = (item["prompt"] as? String) ?? ""
            count += 1
            if tokenizer.encode(prompt + text) != model.tokenizer.encode(prompt + text) { mismatches.append(text) }
        }
        #expect(count > 1000)
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(count) differ, e.g. \(mismatches.prefix(3).map { $0.prefix(80) })")
    }

    @Test("corpus.jsonl: prompt + text gives the reference ids, truncated to 2048 with <eos> last")
    func corpusIds() throws {
        let model = try Golden.loadModel()
        var truncatedSeen = 0
        for item in try Golden.jsonLines("corpus.jsonl") {
            let text = try #require(item["text"] as? String)
            let prompt = (item["prompt"] as? String) ?? ""
            let expected = try #require(item["input_ids"] as? [Int])
            let ids = try model.tokenize(text, prompt: .literal(prompt))
            #expect(ids == expected, "ids differ for \(text.prefix(60).debugDescription)")
            if model.tokenizer.encode(prompt + text).count > 2048 {
                truncatedSeen += 1
                #expect(ids.count == 2048 && ids.last == model.tokenizer.eosTokenId)
            }
        }
        #expect(truncatedSeen > 0, "the corpus should exercise truncation")
    }

    @Test("decode inverts encode on real text")
    func roundTrip() throws {
        let model = try Golden.loadModel()
        for text in ["Hello world", "  two  spaces ", "emoji 🤖🚀 done", "日本語のテキストです。", "\u{0} nul \u{7} bell", "tabs\tand\nnewlines"] {
            let ids = model.tokenizer.encode(text, addSpecialTokens: false)
            #expect(model.tokenizer.decode(ids) == text)
        }
        #expect(model.tokenizer.decode(model.tokenizer.encode("hi"), skipSpecialTokens: true) == "hi")
        #expect(model.tokenizer.decode(model.tokenizer.encode("hi")) == "<bos>hi<eos>")
    }
}
