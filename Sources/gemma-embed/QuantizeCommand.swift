import ArgumentParser
import EmbeddingGemma
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `gemma-embed quantize`: writes the model as one GGUF file in the chosen encoding.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Write the model as a GGUF file (llama.cpp's gemma-embedding layout, tokenizer and prompts included).",
        discussion: """
        Types: f32 and f16/bf16 (float weights), q8_0 (8-bit blocks, ≈ 330 MB), q4_0 (4-bit blocks, ≈ 180 MB), \
        mixed (Q8_0 attention, Q4_0 embeddings, feed-forward and head). Norms stay float32. \
        The file loads with --model FILE.gguf in every command, and in llama.cpp.
        """
    )

    @Option(name: .long, help: "Source model: a sentence-transformers folder or a GGUF file (defaults as for every command).")
    var model: String?

    @Option(name: .long, help: "Weight encoding: f32, f16, bf16, q8_0, q4_0 or mixed.")
    var type: String

    @Option(name: .long, help: "Output GGUF file.")
    var output: String

    func run() throws {
        guard let quantization = QuantizationType(rawValue: type.lowercased()) else {
            throw ValidationError("unknown type '\(type)'; choose one of \(QuantizationType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let start = Date()
        let loaded = try EmbeddingModel(path: model)
        if ![.f32, .f16, .bf16, quantization].contains(loaded.quantization) {
            Diagnostics.warn("re-encoding weights that are already \(loaded.quantization.rawValue); quality is best from the float32 checkpoint")
        }
        try loaded.converted(to: quantization).writeGGUF(to: output)
        var status = stat()
        let size = stat(output, &status) == 0 ? Int(status.st_size) : 0
        print("wrote \(output) (\(quantization.rawValue), \((Double(size) / 1e6).fixed(1)) MB) in \(Date().timeIntervalSince(start).fixed(1)) s")
    }
}
