import ArgumentParser
import EmbeddingGemma

/// `gemma-embed tokenize`: one JSON line `{"ids":[...]}` per input (special tokens included, no prompt).
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print token ids; one JSON line {\"ids\":[...]} per input, <bos> and <eos> included."
    )

    @OptionGroup var inputs: InputOptions
    @OptionGroup var modelOptions: ModelOptions

    func run() throws {
        let records = try inputs.read()
        let location = try ModelLocation.resolve(modelOptions.model)
        let isFolder = ModelLocation.isFolder(location)
        // A folder's tokenizer.json is read alone; a GGUF file carries the vocabulary in its header.
        let tokenizer = isFolder
            ? try GemmaTokenizer(contentsOf: location + "/tokenizer.json")
            : try modelOptions.load().tokenizer
        let writer = try OutputWriter(path: nil)
        for record in records {
            writer.writeLine("{\"ids\":" + OutputWriter.jsonArray(tokenizer.encode(record.text)) + "}")
        }
        writer.flush()
    }
}
