import ArgumentParser
import EmbeddingGemma

/// `gemma-embed verify`: checks the model's weights file against its SHA-256 digest.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check model.safetensors (or a GGUF file) against the published SHA-256 (or --expected); exits non-zero on a mismatch."
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Expected SHA-256 (hex) instead of the published float32 checkpoint's.")
    var expected: String?

    func run() throws {
        let location = try ModelLocation.resolve(modelOptions.model)
        let isFolder = ModelLocation.isFolder(location)
        let path = isFolder ? location + "/model.safetensors" : location
        let digest = try SHA256.hexDigest(ofFile: path)
        guard isFolder || expected != nil else {
            print("\(path) has SHA-256 \(digest) (GGUF files have no published digest; pass --expected to compare)")
            return
        }
        let wanted = (expected ?? ModelLocation.publishedSHA256).lowercased()
        guard digest == wanted else {
            throw CLIError("\(path) has SHA-256 \(digest), expected \(wanted): the file is corrupt or a different model. \(ModelLocation.fetchHint)")
        }
        print("ok: \(path) matches SHA-256 \(digest)")
    }
}
