import ArgumentParser
import EmbeddingGemma
import Foundation
import GemmaSearch

/// `gemma-embed index`: builds or updates the search index over files and folders.
struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Index files and folders for `gemma-embed search` (incremental: only new and changed files are embedded).",
        discussion: """
        Folders are walked recursively, skipping hidden entries, paths excluded by .gitignore / .ignore files, \
        binary files and files over --max-file-mb. Text, Markdown, source code, HTML and (with pdftotext from \
        poppler-utils) PDF files are split into chunks of about --chunk-tokens model tokens and embedded with the \
        document prompt. Ctrl-C stops after the batch in flight; run the command again to continue.
        """
    )

    @Argument(help: "Files and folders to index.")
    var paths: [String] = []

    @OptionGroup var indexOptions: IndexOptionGroup
    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .customLong("chunk-tokens"), help: "Most model tokens per chunk, default 512 (a new or rebuilt index only).")
    var chunkTokens: Int?

    @Option(name: .long, help: "Matryoshka width of the stored vectors: 768, 512, 256 or 128 (a new or rebuilt index only).")
    var dimensions: Int?

    @Option(name: .customLong("max-file-mb"), help: "Leave out files larger than this many MiB (PDFs: 8 times as much).")
    var maxFileMB = 16

    @Flag(name: .long, help: "Empty the index and embed everything again (to change model, width or chunking).")
    var rebuild = false

    @Flag(name: .long, help: "Remove the given paths from the index instead of indexing them.")
    var remove = false

    @Flag(name: .long, help: "Print what the index holds and exit.")
    var stats = false

    @Flag(name: .shortAndLong, help: "List every file left out, with the reason.")
    var verbose = false

    @Flag(name: .long, help: "After indexing, keep watching the paths and apply changes as they are saved, until Ctrl-C.")
    var watch = false

    @Option(name: .customLong("rescan-seconds"), help: "With --watch: how often to rescan where file notifications are not available.")
    var rescanSeconds = 30.0

    func validate() throws {
        if paths.isEmpty, !stats { throw ValidationError("give the files or folders to index (or --stats)") }
        if let chunkTokens, chunkTokens < 16 { throw ValidationError("--chunk-tokens must be at least 16") }
        if maxFileMB < 1 { throw ValidationError("--max-file-mb must be at least 1") }
        if watch, stats || remove { throw ValidationError("--watch keeps paths indexed; it does not go with --stats or --remove") }
        if !(rescanSeconds >= 0.5) { throw ValidationError("--rescan-seconds must be at least 0.5") }
        do {
            _ = try EmbeddingModel.validate(dimensions: dimensions)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        let indexPath = indexOptions.path
        do {
            if stats || remove {
                if remove {
                    let removed = try SemanticIndex.remove(paths, fromIndexAt: indexPath)
                    Diagnostics.note("removed \(removed) file\(removed == 1 ? "" : "s") from \(PostgresLocation.redacted(indexPath))")
                }
                if stats { printStatistics(try SemanticIndex.statistics(ofIndexAt: indexPath), path: PostgresLocation.redacted(indexPath)) }
                return
            }
            for path in paths where !FileManager.default.fileExists(atPath: path) {
                throw SearchError.pathNotFound(path)
            }
            let options = IndexOptions(chunkTokens: chunkTokens, dimensions: dimensions, maxFileBytes: Int64(maxFileMB) << 20)
            let index = try SemanticIndex(path: indexPath, model: try model(), options: options, rebuild: rebuild)
            if watch {
                try watchPaths(index)
                return
            }
            let flag = SignalFlag(message: "stopping after the batch in flight (finished files are kept; Ctrl-C again to quit now)")
            let bar = ProgressBar()
            let summary = try index.update(paths, options: options, progress: { bar.update($0) }, shouldStop: { flag.isRaised })
            bar.finish()
            report(summary, index: index)
            if summary.interrupted { throw ExitCode(130) }
        } catch let error as SearchError {
            throw error.cliError
        }
    }

    /// The model: `--model` (or `--quantization`) loaded now, else the one the index was built
    /// with (a new or rebuilt index: the default).
    private func model() throws -> IndexModel {
        if modelOptions.model != nil || modelOptions.quantization != nil { return .given(try modelOptions.load()) }
        let rawPooled = modelOptions.rawPooled
        return .recorded(orNew: { () throws(EmbeddingGemmaError) in try EmbeddingModel(allowMissingHead: rawPooled) })
    }

    private func report(_ summary: UpdateSummary, index: SemanticIndex) {
        let seconds = summary.seconds
        let rate = seconds > 0 ? Int(Double(summary.tokensEmbedded) / seconds) : 0
        var line = summary.interrupted ? "interrupted: " : ""
        line += "\(summary.filesFound) files: \(summary.filesAdded) new, \(summary.filesChanged) changed, "
        line += "\(summary.filesUnchanged) unchanged, \(summary.filesRemoved) removed; \(summary.chunksEmbedded) chunks, "
        line += "\(summary.tokensEmbedded) tokens in \(seconds.fixed(1)) s (\(rate) tokens/s)"
        if !summary.skipped.isEmpty {
            var counts: [String: Int] = [:]
            for skipped in summary.skipped { counts[skipped.reason.category, default: 0] += 1 }
            line += "; left out \(summary.skipped.count): " + counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        }
        Diagnostics.note(line)
        let shown = verbose ? summary.skipped : summary.skipped.filter { $0.reason.category != "binary" }
        for skipped in shown.prefix(verbose ? Int.max : 20) {
            Diagnostics.note("  left out \(skipped.path): \(skipped.reason)")
        }
        if shown.count > 20, !verbose { Diagnostics.note("  ... and \(shown.count - 20) more (--verbose lists them all)") }
        for path in summary.decodedAsLatin1.prefix(verbose ? Int.max : 5) {
            Diagnostics.note("  \(path): not UTF-8, read as Latin-1")
        }
        if summary.interrupted { Diagnostics.note("run the same command again to continue") }
    }

    private func printStatistics(_ statistics: IndexStatistics, path: String) {
        let meta = statistics.metadata
        print("index: \(path)")
        print("files: \(statistics.files) (\(statistics.skippedFiles) more left out), chunks: \(statistics.chunks), tokens: \(statistics.tokens)")
        print("size on disk: \((Double(statistics.bytesOnDisk) / 1_048_576).fixed(1)) MiB")
        print("model: \(meta.modelPath) (\(meta.quantization), fingerprint \(meta.modelFingerprint)), \(meta.dimensions) dimensions")
        print("chunks of \(meta.chunkTokens) tokens, overlap \(meta.overlapTokens); document prompt '\(meta.documentPrompt)'")
    }
}
