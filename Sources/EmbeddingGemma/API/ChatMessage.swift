/// One message of a conversation with an instruction-tuned generator.
public struct ChatMessage: Sendable, Hashable, Codable {
    /// Who wrote a message.
    public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
        case system, user, assistant
    }

    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }

    /// A user message.
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: .user, content: content) }

    /// `messages` in Gemma's turn format, as Gemma 3's chat template writes them: Gemma has no
    /// system turn, so system messages open the first user turn (followed by a blank line); the
    /// assistant is the `model` turn; contents are trimmed; the prompt ends by opening the model's
    /// turn unless the last message is the assistant's (then it continues that turn).
    ///
    /// ```
    /// <start_of_turn>user
    /// Be brief.
    ///
    /// What is RAG?<end_of_turn>
    /// <start_of_turn>model
    /// ```
    public static func gemmaPrompt(_ messages: [ChatMessage]) -> String {
        let system = messages.filter { $0.role == .system }.map { String($0.content.trimmingWhitespace()) }.filter { !$0.isEmpty }
        var prefix = system.isEmpty ? "" : system.joined(separator: "\n\n") + "\n\n"
        var prompt = ""
        let turns = messages.filter { $0.role != .system }
        for (offset, message) in turns.enumerated() {
            let isLast = offset == turns.count - 1
            switch message.role {
            case .user, .system:
                prompt += "<start_of_turn>user\n" + prefix + String(message.content.trimmingWhitespace()) + "<end_of_turn>\n"
                prefix = ""
            case .assistant:
                prompt += "<start_of_turn>model\n" + String(message.content.trimmingWhitespace()) + (isLast ? "" : "<end_of_turn>\n")
            }
        }
        if !prefix.isEmpty {
            // Only system messages: they form the user turn.
            prompt += "<start_of_turn>user\n" + String(prefix.trimmingWhitespace()) + "<end_of_turn>\n"
        }
        if turns.last?.role != .assistant { prompt += "<start_of_turn>model\n" }
        return prompt
    }
}

extension StringProtocol {
    /// The text without leading and trailing white space (`Character.isWhitespace`): Gemma's chat
    /// template trims each message, and the search layer trims passages, titles and answers the same way.
    package func trimmingWhitespace() -> SubSequence {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}
