import GemmaClassify

extension ClassifyError {
    /// The error as the CLI reports it.
    var cliError: CLIError { CLIError(hint) }

    /// The library's message in the CLI's words: which command or flag helps, where one does.
    var hint: String {
        switch self {
        case .modelMismatch(let stored, let given):
            return "made with \(stored), not with \(given); pass that model with --model (and --quantization), "
                + "or train again with `gemma-embed classify train`"
        case .model(nil, .unsupportedDimensions(let value, let supported)):
            return "--dimensions \(value) is not supported; choose one of \(supported.map(String.init).joined(separator: ", "))"
        case .model(nil, .unknownPrompt(let name, let available)):
            return "the model has no prompt named '\(name)' (it has: \(available.joined(separator: ", "))); choose one with --prompt, or give one with --prompt-text"
        case .model(nil, let error):
            return error.hint
        case .oneClass, .tooFewExamples, .noExamples:
            return description + " (in the --examples file)"
        default:
            return description
        }
    }
}
