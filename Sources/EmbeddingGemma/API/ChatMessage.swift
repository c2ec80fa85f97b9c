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
        let system = messages.filter { $0.role == .system }.map { $0.content.trimmedForTurn }.filter { !$0.isEmpty }
        var prefix = system.isEmpty ? "" : system.joined(separator: "\n\n") + "\n\n"
        var prompt = ""
        let turns = messages.filter { $0.role != .system }
        for (offset, message) in turns.enumerated() {
            let isLast = offset == turns.count - 1
            switch message.role {
            case .user, .system:
                prompt += "<start_of_turn>user\n" + prefix + message.content.trimmedForTurn + "<end_of_turn>\n"
                prefix = ""
            case .assistant:
                prompt += "<start_of_turn>model\n" + message.content.trimmedForTurn + (isLast ? "" : "<end_of_turn>\n")
            }
        }
        if !prefix.isEmpty {
            // Only system messages: they form the user turn.
            prompt += "<start_of_turn>user\n" + prefix.trimmedForTurn + "<end_of_turn>\n"
        }
        if turns.last?.role != .assistant { prompt += "<start_of_turn>model\n" }
        return prompt
    }
}

extension String {
    /// The content without surrounding white space (Gemma's template trims each message).
    var trimmedForTurn: String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }
}
