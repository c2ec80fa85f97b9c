import Testing
import EmbeddingGemma

@Suite("UTF-8 validation")
struct UTF8ValidationTests {
    @Test("well-formed text decodes; overlong forms, surrogates, truncation and stray bytes do not")
    func validation() {
        #expect(UTF8Validation.string(from: Array("héllo ▁ 日本 🤖".utf8)) == "héllo ▁ 日本 🤖")
        #expect(UTF8Validation.string(from: [UInt8]()) == "")
        for bad: [UInt8] in [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0x80], [0xFF], [0x61, 0xF4, 0x90, 0x80, 0x80]] {
            #expect(UTF8Validation.string(from: bad) == nil, "\(bad)")
            #expect(!UTF8Validation.isValid(bad))
        }
    }
}
