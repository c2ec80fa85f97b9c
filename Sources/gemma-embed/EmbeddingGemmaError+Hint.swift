import ArgumentParser
import EmbeddingGemma

extension EmbeddingGemmaError {
    /// The engine's message in the CLI's words: which flag or verb helps, where one does.
    var hint: String {
        switch self {
        case .modelNotFound(let path, _):
            return "model not found at \(path). Fetch it with scripts/fetch-model.sh (or point --model / EMBEDDINGGEMMA_MODEL at a "
                + "sentence-transformers folder of google/embeddinggemma-300m)."
        case .missingDenseHead(let path, let missing):
            return "\(path) lacks the sentence-transformers Dense head (missing tensors: \(missing.joined(separator: ", "))), so it "
                + "cannot produce EmbeddingGemma embeddings. Convert with convert_hf_to_gguf.py --sentence-transformers-dense-modules "
                + "or `gemma-embed quantize`, or pass --raw-pooled to use the mean-pooled hidden state instead"
        case .corruptModelFile(let path, let reason) where !(path.hasSuffix(".safetensors") || path.hasSuffix(".json")):
            return "model file \(path) is unusable: \(reason). Write it again (gemma-embed quantize) or fetch it again."
        default:
            return description
        }
    }
}

extension GemmaEmbed {
    /// Runs the command; the engine's errors are reported with the CLI's hints.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as EmbeddingGemmaError {
            exit(withError: CLIError(error.hint))
        } catch {
            exit(withError: error)
        }
    }
}
