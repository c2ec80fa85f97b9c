import GemmaAnswering

extension AnswerError {
    /// The error as the CLI reports it, with the command or option that fixes it where there is one.
    var cliError: CLIError {
        switch self {
        case .search(let error):
            return error.cliError
        case .noSources(let path):
            return CLIError("the index \(path) holds no passages to answer from: index some files first with `gemma-embed index PATH...`")
        case .chatServer(let endpoint, .connectionRefused):
            return CLIError("generator: cannot reach \(endpoint): nothing is listening there (connection refused); start the server or check --generator")
        case .generator, .invalidServerURL, .unknownServerAPI, .chatServer, .generatorUnavailable:
            return CLIError(description)
        }
    }
}
