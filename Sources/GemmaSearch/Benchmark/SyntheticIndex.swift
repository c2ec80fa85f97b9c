import EmbeddingGemma
import Foundation

/// A search index filled with synthetic chunks through the real storage code, for measuring
/// search at scales no test corpus reaches: ``SyntheticVectors`` as the chunks' embeddings and
/// text of Zipf-distributed pseudo-words (so full-text search has realistic posting lists).
///
/// Chunk `n` is file `n / chunksPerFile` (`/synthetic/d<thousands>/f<file>.txt`), lines
/// `10·(n % chunksPerFile) + 1 …`, which ``chunkNumber(of:)`` reads back from a hit.
public struct SyntheticIndex: Sendable {
    public let vectors: SyntheticVectors
    public let wordsPerChunk: Int
    public let chunksPerFile: Int

    public init(vectors: SyntheticVectors, wordsPerChunk: Int = 60, chunksPerFile: Int = 20) {
        self.vectors = vectors
        self.wordsPerChunk = max(1, wordsPerChunk)
        self.chunksPerFile = max(1, chunksPerFile)
    }

    /// Makes a new index at `path` (a file or a PostgreSQL URL; replacing any) recorded as built with `model` at the
    /// vectors' width, and writes every chunk, a few hundred files per transaction.
    /// - Parameter progress: chunks written so far, after each transaction.
    public func build(at path: String, model: EmbeddingModel, progress: (Int) -> Void = { _ in }) throws(SearchError) -> SemanticIndex {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let index = try SemanticIndex(path: path, model: .given(model), options: IndexOptions(dimensions: vectors.dimensions == model.dimensions ? nil : vectors.dimensions),
                                      rebuild: true)
        let words = PseudoWords(seed: vectors.seed)
        let files = (vectors.count + chunksPerFile - 1) / chunksPerFile
        var batch: [IndexedFile] = []
        var written = 0
        for file in 0..<files {
            var chunks: [EmbeddedChunk] = []
            for ordinal in 0..<chunksPerFile {
                let n = file * chunksPerFile + ordinal
                guard n < vectors.count else { break }
                let text = words.sentence(number: n, words: wordsPerChunk)
                let chunk = TextChunk(text: text, title: nil, startLine: 10 * ordinal + 1, endLine: 10 * ordinal + 10, tokenCount: wordsPerChunk * 2)
                chunks.append(EmbeddedChunk(chunk: chunk, vector: vectors.vector(n)))
            }
            batch.append(IndexedFile(path: Self.path(file: file), size: 1, modified: 1, hash: String(file), chunks: chunks, skipped: nil))
            if batch.count == 256 || file == files - 1 {
                try index.store.commit(batch)
                written += batch.reduce(0) { $0 + $1.chunks.count }
                batch.removeAll()
                progress(written)
            }
        }
        return index
    }

    /// The path of synthetic file `file`.
    static func path(file: Int) -> String {
        "/synthetic/d\(file / 1000)/f\(file).txt"
    }

    /// The chunk number of a hit on a synthetic index, or nil for another file.
    public func chunkNumber(of hit: SearchHit) -> Int? {
        guard hit.path.hasPrefix("/synthetic/"), let dot = hit.path.lastIndex(of: "."),
              let slash = hit.path.lastIndex(of: "/"), let file = Int(hit.path[hit.path.index(slash, offsetBy: 2)..<dot]) else { return nil }
        return file * chunksPerFile + (hit.startLine - 1) / 10
    }

    /// Words for query `n`'s text: two mid-frequency words (a phrase full-text search must look up).
    public func queryText(_ n: Int) -> String {
        PseudoWords(seed: vectors.seed).phrase(number: n)
    }
}

/// A vocabulary of pronounceable pseudo-words drawn with Zipf's law (word of rank r with
/// probability ∝ 1/r), as word frequencies in real text are.
struct PseudoWords: Sendable {
    private let words: [String]
    private let cumulative: [Double]
    private let seed: UInt64

    init(seed: UInt64, size: Int = 30_000) {
        self.seed = seed
        let onsets = ["b", "c", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st", "tr", "pl", "gr"]
        let vowels = ["a", "e", "i", "o", "u", "ai", "ou"]
        var generator = SplitMix64(seed: seed &+ 17)
        var seen = Set<String>()
        var words: [String] = []
        while words.count < size {
            let syllables = 1 + Int(generator.next() % 3)
            var word = ""
            for _ in 0...syllables {
                word += onsets[Int(generator.next() % UInt64(onsets.count))] + vowels[Int(generator.next() % UInt64(vowels.count))]
            }
            if seen.insert(word).inserted { words.append(word) }
        }
        self.words = words
        var total = 0.0
        cumulative = (1...size).map { rank in
            total += 1 / Double(rank)
            return total
        }
    }

    /// A random word by Zipf's law.
    private func word(_ generator: inout SplitMix64) -> String {
        let target = Double(generator.next() >> 11) / Double(1 << 53) * (cumulative.last ?? 1)
        var low = 0, high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] < target { low = middle + 1 } else { high = middle }
        }
        return words[low]
    }

    /// Chunk text: `words` words in lines of about twelve.
    func sentence(number: Int, words count: Int) -> String {
        var generator = SplitMix64(seed: seed ^ (UInt64(number) &* 0xD6E8_FEB8_6659_FD93))
        var text = ""
        for i in 0..<count {
            if i > 0 { text += i % 12 == 0 ? "\n" : " " }
            text += word(&generator)
        }
        return text
    }

    /// Two words of rank 200–2,000 for a query.
    func phrase(number: Int) -> String {
        var generator = SplitMix64(seed: seed ^ (UInt64(number) &* 0xA076_1D64_78BD_642F))
        let a = 200 + Int(generator.next() % 1800), b = 200 + Int(generator.next() % 1800)
        return words[a] + " " + words[b]
    }
}
