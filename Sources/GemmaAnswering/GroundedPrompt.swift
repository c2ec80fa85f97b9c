import EmbeddingGemma
import GemmaSearch

/// The message of a grounded answer: an instruction to answer only from the numbered sources,
/// the sources (each passage shortened when they would not fit the generator's context with the
/// answer), and the question. The generator frames it (a user turn, or a completion prompt).
struct GroundedPrompt {
    let body: String
    let sources: [AnswerSource]

    static let instruction = "Answer the question using only the numbered sources below. Cite the sources you use as [n]. "
        + "If the sources do not contain the answer, say that you do not know."

    init(question: String, hits: [SearchHit], generator: any AnswerGenerator, answerTokens: Int) {
        let tokenizer = generator.tokenizer
        func tokens(_ text: String) -> Int { tokenizer.encode(text, addSpecialTokens: false).count }
        let head = Self.instruction + "\n\n"
        let tail = "Question: \(question)\n"
        // Room for the passages: the context minus the answer, the frame and a margin for joins.
        let frame = tokens(generator.frame(head + tail)) + 2
        var budget = max(0, generator.contextLength - answerTokens - frame - 8)
        var blocks: [String] = []
        var sources: [AnswerSource] = []
        for (offset, hit) in hits.enumerated() {
            let number = offset + 1
            let label = "[\(number)] \(hit.path):\(hit.startLine)-\(hit.endLine)" + (hit.title.map { " (\($0))" } ?? "") + "\n"
            let labelTokens = tokens(label) + 2
            // Later sources share what is left evenly with the ones still to come.
            let share = budget / (hits.count - offset)
            guard share > labelTokens + 16 else { break }
            var passage = String(hit.text.trimmingWhitespace())
            var truncated = false
            let ids = tokenizer.encode(passage, addSpecialTokens: false)
            if ids.count > share - labelTokens {
                passage = tokenizer.decode(Array(ids.prefix(share - labelTokens))) + " …"
                truncated = true
            }
            let block = label + passage + "\n\n"
            budget -= tokens(block)
            blocks.append(block)
            sources.append(AnswerSource(number: number, path: hit.path, line: hit.line, startLine: hit.startLine, endLine: hit.endLine,
                                        score: hit.score, title: hit.title, truncated: truncated))
        }
        body = head + blocks.joined() + tail
        self.sources = sources
    }
}
