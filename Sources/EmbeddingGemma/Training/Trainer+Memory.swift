#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Trainer {
    /// Checks that the run fits in memory and returns the activation budget it may use.
    ///
    /// The fixed part is the float32 weights, the dense gradients and AdamW's two moments (the token
    /// embeddings have sparse gradients and moments); the largest step then needs its activations
    /// with recomputation (every layer's input and one layer's tape). Tapes of every layer are kept
    /// when they fit in what is left and in the options' budget.
    static func checkMemory(config: GemmaConfig, sequences: [[[Int32]]], schedule: [[[Int]]],
                            options: TrainingOptions, available: Int = availableMemory()) throws(TrainingError) -> Int {
        let h = config.hiddenSize, qWidth = config.numAttentionHeads * config.headDim
        let kvWidth = config.numKeyValueHeads * config.headDim
        let perLayer = 2 * h * qWidth + 2 * h * kvWidth + 3 * h * config.intermediateSize + 4 * h + 2 * config.headDim
        let dense = config.numHiddenLayers * perLayer + h + 2 * h * 3072
        let fixed = 4 * config.vocabSize * h + 16 * dense + 400_000_000
        var worst: [Int] = []
        for steps in schedule {
            for batch in steps {
                let lengths = batch.flatMap { sequences[$0].map(\.count) }
                if lengths.reduce(0, +) > worst.reduce(0, +) { worst = lengths }
            }
        }
        let activations = TrainingPass.activationBytes(lengths: worst, config: config, keepingTapes: false)
        if fixed + activations > available {
            let perExample = Double(activations) / Double(options.batchSize)
            let fitting = Int((Double(available - fixed) / perExample).rounded(.down))
            throw .insufficientMemory(neededBytes: fixed + activations, availableBytes: available, batchSize: options.batchSize,
                                      fittingBatchSize: fitting >= 2 ? min(fitting, options.batchSize - 1) : 0)
        }
        let withTapes = TrainingPass.activationBytes(lengths: worst, config: config, keepingTapes: true)
        return min(options.activationBudget, max(0, available - fixed - (withTapes - activations) / 4))
    }

    /// Memory the system can give this process: `MemAvailable` on Linux, else the physical memory.
    static func availableMemory() -> Int {
        #if os(Linux)
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
           let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) {
            return kilobytes * 1024
        }
        #endif
        return Int(ProcessInfo.processInfo.physicalMemory)
    }
}
