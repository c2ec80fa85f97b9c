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

        q4_0 and mixed are calibrated by default: the float32 model first runs over calibration text \
        (built-in synthetic text from the model's vocabulary, or --calibration FILE), then GPTQ rounds \
        each matrix so that its outputs, not its weights, stay closest to float32. This takes about \
        1.5 minutes on two cores; --no-calibration rounds each block to nearest in seconds (ggml's \
        own Q4_0, less faithful). The blocks are ordinary Q4_0 / Q8_0 either way.
        """
    )

    @Option(name: .long, help: "Source model: a sentence-transformers folder or a GGUF file (defaults as for every command).")
    var model: String?

    @Option(name: .long, help: "Weight encoding: f32, f16, bf16, q8_0, q4_0 or mixed.")
    var type: String

    @Option(name: .long, help: "Output GGUF file.")
    var output: String

    @Option(name: .long, help: ArgumentHelp(
        "Calibration text, one text per line ('-' for standard input), instead of the built-in synthetic text (q8_0, q4_0, mixed).",
        discussion: "Text like the text you will embed, at least 5 000 tokens (a few hundred lines)."))
    var calibration: String?

    @Flag(name: .long, help: "Round to nearest without calibration (fast; q4_0 and mixed are less faithful).")
    var noCalibration = false

    func run() throws {
        guard let quantization = QuantizationType(rawValue: type.lowercased()) else {
            throw ValidationError("unknown type '\(type)'; choose one of \(QuantizationType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let calibrating = try Self.calibrates(quantization, file: calibration, disabled: noCalibration)
        let start = Date()
        let loaded = try EmbeddingModel(path: model)
        if ![.f32, .f16, .bf16, quantization].contains(loaded.quantization) {
            Diagnostics.warn("re-encoding weights that are already \(loaded.quantization.rawValue); quality is best from the float32 checkpoint")
        }
        try loaded.checkCanConvert(to: quantization)
        var importance: ImportanceMatrix?
        if calibrating {
            let texts = try calibration.map { path in try InputReader.lines(from: path).map(\.text).filter { !$0.isEmpty } }
            if let texts, texts.isEmpty {
                throw ValidationError("the calibration file \(calibration ?? "") holds no text")
            }
            Diagnostics.note("calibrating on \(texts.map { "\($0.count) texts of \(calibration ?? "")" } ?? "built-in synthetic text") "
                + "(about 5 s per 1 000 tokens; --no-calibration skips this)...")
            let matrix = try loaded.importanceMatrix(calibration: texts)
            if matrix.tokenCount < Self.recommendedCalibrationTokens {
                Diagnostics.warn("the calibration text has only \(matrix.tokenCount) tokens; below \(Self.recommendedCalibrationTokens) GPTQ over-fits it and the result can be worse than the built-in calibration")
            }
            print("calibrated on \(matrix.tokenCount) tokens of \(texts == nil ? "built-in synthetic text" : calibration ?? "") in \(Date().timeIntervalSince(start).fixed(1)) s")
            importance = matrix
        }
        try loaded.converted(to: quantization, importance: importance).writeGGUF(to: output)
        var status = stat()
        let size = stat(output, &status) == 0 ? Int(status.st_size) : 0
        print("wrote \(output) (\(quantization.rawValue), \((Double(size) / 1e6).fixed(1)) MB) in \(Date().timeIntervalSince(start).fixed(1)) s")
    }

    /// Fewer calibration tokens than this over-fit (measured: 376 tokens gave Q4_0 a mean cosine of 0.961,
    /// 8 800 gave 0.974).
    static let recommendedCalibrationTokens = 5_000

    /// Whether quantizing to `quantization` runs a calibration: by default for the 4-bit types,
    /// always with a calibration file (which only block-quantized types can use).
    static func calibrates(_ quantization: QuantizationType, file: String?, disabled: Bool) throws -> Bool {
        let blockQuantized: Set<QuantizationType> = [.q8_0, .q4_0, .mixed]
        if disabled {
            if file != nil { throw ValidationError("--calibration and --no-calibration exclude each other") }
            return false
        }
        if file != nil {
            guard blockQuantized.contains(quantization) else {
                throw ValidationError("--calibration applies to q8_0, q4_0 and mixed, not \(quantization.rawValue)")
            }
            return true
        }
        return quantization == .q4_0 || quantization == .mixed
    }
}
