#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Checkpoints and the fine-tuned model folder.
///
/// A checkpoint is a folder: `weights.safetensors` (every tensor, as `file:name`),
/// `optimizer.safetensors` (AdamW's moments; the used embedding rows' ids and moments) and
/// `state.json` (steps taken and a fingerprint of the model, data and options). It is written
/// beside its final name and then renamed into place, so a process killed at any moment leaves
/// the previous checkpoint or the new one, never a torn one.
extension Trainer {
    private struct CheckpointState: Codable {
        var step: Int
        var fingerprint: String
    }

    /// What a checkpoint must match to resume this run: the base model, the examples and the options
    /// that decide the steps (not the learning rate, which a run stopped by a diverging loss resumes
    /// with a lower one).
    var fingerprint: String {
        var hasher = SHA256()
        hasher.update(Array(folder.path.utf8))
        var options = options
        options.learningRate = 0
        hasher.update(Array("\(options)".utf8))
        for example in examples {
            for text in [example.anchor, example.positive, example.negative ?? ""] {
                hasher.update(Array(text.utf8))
                hasher.update([0])
            }
        }
        return hasher.finalizeHex()
    }

    /// Writes a checkpoint of the current state to the folder `path`.
    func saveCheckpoint(to path: String) throws(TrainingError) {
        let fm = FileManager.default
        let partial = path + ".partial", old = path + ".old"
        do {
            try? fm.removeItem(atPath: partial)
            try fm.createDirectory(atPath: partial, withIntermediateDirectories: true)
            try SafeTensorsFileWriter.write(weights.tensors.map { t in
                SafeTensorsFileWriter.Entry(name: t.file + ":" + t.name, shape: t.shape, values: t.values)
            }, to: partial + "/weights.safetensors")
            var entries: [SafeTensorsFileWriter.Entry] = []
            for (index, moment) in optimizer.moments.enumerated() {
                guard let moment else { continue }
                let t = weights[index]
                entries.append(.init(name: "m:" + t.file + ":" + t.name, shape: t.shape, values: moment.m.pointer))
                entries.append(.init(name: "v:" + t.file + ":" + t.name, shape: t.shape, values: moment.v.pointer))
            }
            let h = weights.config.hiddenSize
            let slots = optimizer.rowSlots.sorted { $0.value < $1.value }
            let rows = slots.map { Float($0.key) }   // row ids < 2²⁴ are exact in float32
            try rows.withUnsafeBufferPointer { ids throws(EmbeddingGemmaError) in
                try optimizer.rowM.withUnsafeBufferPointer { m throws(EmbeddingGemmaError) in
                    try optimizer.rowV.withUnsafeBufferPointer { v throws(EmbeddingGemmaError) in
                        var all = entries
                        if let ip = ids.baseAddress, let mp = m.baseAddress, let vp = v.baseAddress {
                            all.append(.init(name: "embedding.rows", shape: [rows.count], values: ip))
                            all.append(.init(name: "embedding.m", shape: [rows.count, h], values: mp))
                            all.append(.init(name: "embedding.v", shape: [rows.count, h], values: vp))
                        }
                        try SafeTensorsFileWriter.write(all, to: partial + "/optimizer.safetensors")
                    }
                }
            }
            let state = try JSONEncoder().encode(CheckpointState(step: optimizer.step, fingerprint: fingerprint))
            try state.write(to: URL(fileURLWithPath: partial + "/state.json"))
            try? fm.removeItem(atPath: old)
            if fm.fileExists(atPath: path) { try fm.moveItem(atPath: path, toPath: old) }
            try fm.moveItem(atPath: partial, toPath: path)
            try? fm.removeItem(atPath: old)
        } catch let error as EmbeddingGemmaError {
            throw .model(error)
        } catch {
            throw .invalidCheckpoint(path: path, reason: "cannot be written: \(error.localizedDescription)")
        }
    }

    /// Whether a checkpoint exists at `path` (or its previous copy, left by a process killed while replacing it).
    public static func checkpointExists(at path: String) -> Bool {
        FileManager.default.fileExists(atPath: path + "/state.json") || FileManager.default.fileExists(atPath: path + ".old/state.json")
    }

    /// Restores the checkpoint at `path`, which must come from a run with the same model, data and options.
    public func resume(from path: String) throws(TrainingError) {
        let fm = FileManager.default
        let folder = fm.fileExists(atPath: path + "/state.json") ? path : path + ".old"
        guard let data = fm.contents(atPath: folder + "/state.json"),
              let state = try? JSONDecoder().decode(CheckpointState.self, from: data) else {
            throw .invalidCheckpoint(path: path, reason: "no readable state.json")
        }
        guard state.fingerprint == fingerprint else {
            throw .invalidCheckpoint(path: path, reason: "it was made from another model, other data or other options")
        }
        do {
            let saved = try SafeTensorsFile(path: folder + "/weights.safetensors")
            for t in weights.tensors {
                let values = try saved.floats(t.file + ":" + t.name, shape: t.shape)
                t.values.update(from: values.pointer, count: t.count)
            }
            let moments = try SafeTensorsFile(path: folder + "/optimizer.safetensors")
            for (index, moment) in optimizer.moments.enumerated() {
                guard let moment else { continue }
                let t = weights[index]
                moment.m.pointer.update(from: try moments.floats("m:" + t.file + ":" + t.name, shape: t.shape).pointer, count: t.count)
                moment.v.pointer.update(from: try moments.floats("v:" + t.file + ":" + t.name, shape: t.shape).pointer, count: t.count)
            }
            let h = weights.config.hiddenSize
            var slots: [Int32: Int] = [:]
            var m: [Float] = [], v: [Float] = []
            if let info = moments.tensors["embedding.rows"], let count = info.shape.first {
                let rows = try moments.floats("embedding.rows", shape: [count]).values
                for (slot, row) in rows.enumerated() { slots[Int32(row)] = slot }
                m = try moments.floats("embedding.m", shape: [count, h]).values
                v = try moments.floats("embedding.v", shape: [count, h]).values
            }
            optimizer.restore(step: state.step, rowSlots: slots, rowM: m, rowV: v)
        } catch {
            throw .invalidCheckpoint(path: path, reason: error.description)
        }
    }

    /// Removes the checkpoint at `path` (after the final model is written).
    public static func removeCheckpoint(at path: String) {
        for suffix in ["", ".old", ".partial"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// Writes the fine-tuned model as a sentence-transformers folder at `path`: the base folder's
    /// configuration and tokenizer files as they were, and the weights (float32 safetensors, the
    /// base's tensor names). The folder appears complete or not at all.
    /// - Throws: ``TrainingError/outputExists(path:)`` when `path` exists and `overwrite` is false.
    public func save(to path: String, overwrite: Bool) throws(TrainingError) {
        let fm = FileManager.default
        if fm.fileExists(atPath: path), !overwrite { throw .outputExists(path: path) }
        let partial = path + ".partial"
        do {
            try? fm.removeItem(atPath: partial)
            try fm.createDirectory(atPath: partial, withIntermediateDirectories: true)
            let weightFiles = Set(weights.tensors.map(\.file))
            // Every file of the base folder but its weights and what describes the base model only.
            let skipped: Set<String> = ["README.md", "notebook.ipynb"]
            func copy(_ relative: String) throws {
                let source = relative.isEmpty ? folder.path : folder.path + "/" + relative
                for name in try fm.contentsOfDirectory(atPath: source) where !name.hasPrefix(".") {
                    let child = relative.isEmpty ? name : relative + "/" + name
                    if ModelLocation.isFolder(folder.path + "/" + child) {
                        try fm.createDirectory(atPath: partial + "/" + child, withIntermediateDirectories: true)
                        try copy(child)
                    } else if !weightFiles.contains(child), !skipped.contains(child), !child.hasSuffix(".safetensors"),
                              !child.hasSuffix(".bin"), !child.hasSuffix(".gguf") {
                        try fm.copyItem(atPath: folder.path + "/" + child, toPath: partial + "/" + child)
                    }
                }
            }
            try copy("")
            for file in weightFiles.sorted() {
                let entries = weights.tensors.filter { $0.file == file }.map { t in
                    SafeTensorsFileWriter.Entry(name: t.name, shape: t.shape, values: t.values)
                }
                let target = partial + "/" + file
                let parent = target.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
                try fm.createDirectory(atPath: parent, withIntermediateDirectories: true)
                try SafeTensorsFileWriter.write(entries, to: target)
            }
            if fm.fileExists(atPath: path) { try fm.removeItem(atPath: path) }
            try fm.moveItem(atPath: partial, toPath: path)
        } catch let error as TrainingError {
            try? fm.removeItem(atPath: partial)
            throw error
        } catch let error as EmbeddingGemmaError {
            try? fm.removeItem(atPath: partial)
            throw .model(error)
        } catch {
            try? fm.removeItem(atPath: partial)
            throw .model(.invalidInput("cannot write \(path): \(error.localizedDescription)"))
        }
    }
}
