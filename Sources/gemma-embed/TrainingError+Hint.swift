import Foundation
import EmbeddingGemma

extension TrainingError {
    /// The error as the CLI reports it.
    var cliError: CLIError { CLIError(hint) }

    /// The library's message in the CLI's words: which flag helps, where one does.
    var hint: String {
        switch self {
        case .tooFewExamples:
            return description.replacingOccurrences(of: "use a smaller batch size", with: "use a smaller --batch-size")
        case let .insufficientMemory(_, _, _, fitting) where fitting > 0:
            return description + " (--batch-size \(fitting))"
        case .outputExists:
            return description + ": pass --overwrite, or another --output"
        case .diverged:
            return description + " (--learning-rate; --resume with a lower one continues from the saved weights)"
        case let .cancelled(_, checkpoint?):
            return "training stopped; run the same command with --resume to continue from \(checkpoint)"
        case .model(let error):
            return error.hint
        default:
            return description
        }
    }
}
