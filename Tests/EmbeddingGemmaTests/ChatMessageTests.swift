@testable import EmbeddingGemma
import Testing

/// Gemma's turn format as Gemma 3's chat template writes it, and the stop-sequence helpers.
@Suite("Chat prompts and stop sequences")
struct ChatMessageTests {
    @Test("one user turn, a system message folded into it, several turns, a continued model turn")
    func turnFormat() {
        #expect(ChatMessage.gemmaPrompt([.user("Hi")]) == "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n")
        #expect(ChatMessage.gemmaPrompt([ChatMessage(role: .system, content: "Be brief. "), .user("  What is RAG?\n")])
            == "<start_of_turn>user\nBe brief.\n\nWhat is RAG?<end_of_turn>\n<start_of_turn>model\n")
        let turns = [ChatMessage.user("Hi"), ChatMessage(role: .assistant, content: "Hello!"), .user("Bye")]
        #expect(ChatMessage.gemmaPrompt(turns)
            == "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n")
        #expect(ChatMessage.gemmaPrompt([.user("Hi"), ChatMessage(role: .assistant, content: "Hel")])
            == "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHel")
        #expect(ChatMessage.gemmaPrompt([ChatMessage(role: .system, content: "Only this")])
            == "<start_of_turn>user\nOnly this<end_of_turn>\n<start_of_turn>model\n")
    }

    @Test("the earliest stop sequence is found; text that may begin one is held back")
    func stopSequences() throws {
        let text = "one, two, three, four"
        let cut = try #require(TextGenerator.firstStop(in: text, ["four", "two"]))
        #expect(String(text[..<cut]) == "one, ")
        #expect(TextGenerator.firstStop(in: text, ["five"]) == nil)
        #expect(TextGenerator.heldBack("one, tw", ["two"]) == 2)
        #expect(TextGenerator.heldBack("one, t", ["two", "three"]) == 1)
        #expect(TextGenerator.heldBack("one, thr", ["two", "three"]) == 3)
        #expect(TextGenerator.heldBack("one, ", ["two"]) == 0)
        #expect(TextGenerator.heldBack("x", ["\n\n"]) == 0)
        #expect(TextGenerator.heldBack("x\n", ["\n\n"]) == 1)
    }
}
