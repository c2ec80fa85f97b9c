import Foundation

/// Test fixtures shared by the test targets.
///
/// A tiny EmbeddingGemma-shaped model written to a temporary folder: random weights, a toy
/// tokenizer, the sentence-transformers layout. Lets the fast tests run every code path of
/// loading and the forward pass without the real weights.
public enum TinyModel {
    /// Width of the residual stream.
    public static let hidden = 16
    /// Width of the feed-forward layer.
    public static let intermediate = 24
    /// Query heads (one key/value head).
    public static let heads = 2
    /// Width of a head.
    public static let headDim = 8
    /// Layers: sliding, full, sliding.
    public static let layers = 3
    /// Window 8: sliding layers see |i − j| ≤ 4.
    public static let slidingWindow = 8
    /// Longest input in tokens.
    public static let maxPositions = 96

    /// Toy vocabulary: specials, 256 byte tokens, then pieces.
    public static let pieces = ["▁", "a", "b", "c", "h", "i", "ab", "abc", "▁a", "hi", "<tag>", "aa", "▁▁"]
    /// Merge rules, by rank.
    public static let merges: [(String, String)] = [("a", "b"), ("ab", "c"), ("▁", "a"), ("h", "i"), ("a", "a"), ("▁", "▁")]

    /// The id of a piece or special token of the toy vocabulary.
    public static func pieceId(_ piece: String) -> Int {
        if let index = pieces.firstIndex(of: piece) { return 4 + 256 + index }
        switch piece {
        case "<pad>": return 0
        case "<eos>": return 1
        case "<bos>": return 2
        default: return 3
        }
    }

    /// Number of ids: 4 specials, 256 byte tokens, the pieces.
    public static var vocabularySize: Int { 4 + 256 + pieces.count }

    /// The toy tokenizer in the `tokenizer.json` format of Gemma (Replace normalizer, BPE with byte fallback).
    public static func tokenizerJSON() -> String {
        func quoted(_ s: String) -> String {
            var out = "\""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        var vocab: [String] = ["\"<pad>\": 0", "\"<eos>\": 1", "\"<bos>\": 2", "\"<unk>\": 3"]
        for b in 0..<256 { vocab.append("\"<0x\(String(format: "%02X", b))>\": \(4 + b)") }
        for (i, piece) in pieces.enumerated() { vocab.append("\(quoted(piece)): \(4 + 256 + i)") }
        let mergeList = merges.map { "[\(quoted($0.0)), \(quoted($0.1))]" }.joined(separator: ", ")
        func added(_ content: String, _ special: Bool) -> String {
            "{\"id\": \(pieceId(content)), \"content\": \(quoted(content)), \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": \(special)}"
        }
        return """
        {"version": "1.0", "truncation": null, "padding": null,
         "added_tokens": [\(added("<pad>", true)), \(added("<eos>", true)), \(added("<bos>", true)), \(added("<unk>", true)), \(added("<tag>", false))],
         "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
         "pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious", "invert": false},
         "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "fuse_unk": true, "byte_fallback": true, "ignore_merges": false,
                   "vocab": {\(vocab.joined(separator: ", "))},
                   "merges": [\(mergeList)]}}
        """
    }

    /// The toy vocabulary as a SentencePiece `tokenizer.model` (protocol buffer): the same ids, with
    /// scores that rank the merge results in the order of ``merges`` and the piece types GGUF uses.
    public static func sentencePieceModel() -> [UInt8] {
        func varint(_ v: UInt64, _ out: inout [UInt8]) {
            var v = v
            while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
            out.append(UInt8(v))
        }
        var model: [UInt8] = []
        func piece(_ text: String, score: Float, type: UInt64) {
            var body: [UInt8] = [0x0A]
            varint(UInt64(text.utf8.count), &body)
            body += Array(text.utf8)
            body.append(0x15)
            withUnsafeBytes(of: score.bitPattern.littleEndian) { body += $0 }
            body.append(0x18)
            varint(type, &body)
            model.append(0x0A)
            varint(UInt64(body.count), &model)
            model += body
        }
        piece("<pad>", score: 0, type: 3)
        piece("<eos>", score: 0, type: 3)
        piece("<bos>", score: 0, type: 3)
        piece("<unk>", score: 0, type: 2)
        for b in 0..<256 { piece("<0x\(String(format: "%02X", b))>", score: 0, type: 6) }
        for (i, text) in pieces.enumerated() {
            if text == "<tag>" {
                piece(text, score: 0, type: 4)
            } else if let rank = merges.firstIndex(where: { $0.0 + $0.1 == text }) {
                piece(text, score: -Float(rank + 1), type: 1)
            } else {
                piece(text, score: -Float(100 + i), type: 1)
            }
        }
        // A trainer_spec field (number 2) that readers must skip.
        model += [0x12, 0x02, 0x08, 0x01]
        return model
    }

    /// Deterministic pseudo-random values in [-scale, scale].
    public static func random(_ count: Int, seed: inout UInt64, scale: Float) -> [Float] {
        (0..<count).map { _ in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Float(seed >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
    }

    /// The tensors of the backbone, by name.
    public static func backboneTensors() -> [(String, [Int], [Float])] {
        var seed: UInt64 = 7
        var tensors: [(String, [Int], [Float])] = []
        tensors.append(("embed_tokens.weight", [vocabularySize, hidden], random(vocabularySize * hidden, seed: &seed, scale: 0.5)))
        for l in 0..<layers {
            let p = "layers.\(l)."
            for norm in ["input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"] {
                tensors.append((p + norm + ".weight", [hidden], random(hidden, seed: &seed, scale: 0.3)))
            }
            tensors.append((p + "self_attn.q_norm.weight", [headDim], random(headDim, seed: &seed, scale: 0.3)))
            tensors.append((p + "self_attn.k_norm.weight", [headDim], random(headDim, seed: &seed, scale: 0.3)))
            tensors.append((p + "self_attn.q_proj.weight", [heads * headDim, hidden], random(heads * headDim * hidden, seed: &seed, scale: 0.4)))
            tensors.append((p + "self_attn.k_proj.weight", [headDim, hidden], random(headDim * hidden, seed: &seed, scale: 0.4)))
            tensors.append((p + "self_attn.v_proj.weight", [headDim, hidden], random(headDim * hidden, seed: &seed, scale: 0.4)))
            tensors.append((p + "self_attn.o_proj.weight", [hidden, heads * headDim], random(hidden * heads * headDim, seed: &seed, scale: 0.4)))
            tensors.append((p + "mlp.gate_proj.weight", [intermediate, hidden], random(intermediate * hidden, seed: &seed, scale: 0.4)))
            tensors.append((p + "mlp.up_proj.weight", [intermediate, hidden], random(intermediate * hidden, seed: &seed, scale: 0.4)))
            tensors.append((p + "mlp.down_proj.weight", [hidden, intermediate], random(hidden * intermediate, seed: &seed, scale: 0.4)))
        }
        tensors.append(("norm.weight", [hidden], random(hidden, seed: &seed, scale: 0.3)))
        return tensors
    }

    /// `layer_types` of the config.
    public static var layerTypes: [String] { (0..<layers).map { $0 == 1 ? "full_attention" : "sliding_attention" } }

    /// `config.json` of the tiny Gemma 3 backbone.
    public static func configJSON() -> String {
        let types = layerTypes.map { "\"\($0)\"" }.joined(separator: ", ")
        return """
        {"architectures": ["Gemma3TextModel"], "model_type": "gemma3_text", "hidden_size": \(hidden), "intermediate_size": \(intermediate),
         "num_hidden_layers": \(layers), "num_attention_heads": \(heads), "num_key_value_heads": 1, "head_dim": \(headDim),
         "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0, "sliding_window": \(slidingWindow),
         "layer_types": [\(types)], "query_pre_attn_scalar": \(headDim), "vocab_size": \(vocabularySize),
         "max_position_embeddings": \(maxPositions), "hidden_activation": "gelu_pytorch_tanh", "attn_logit_softcapping": null,
         "use_bidirectional_attention": true}
        """
    }

    /// Writes the whole folder and returns its path.
    public static func write() throws -> String {
        let dir = ScratchDirectory("tiny-gemma").path
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/1_Pooling", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: dir + "/2_Dense", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: dir + "/3_Dense", withIntermediateDirectories: true)
        try configJSON().write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        try tokenizerJSON().write(toFile: dir + "/tokenizer.json", atomically: true, encoding: .utf8)
        try Data(sentencePieceModel()).write(to: URL(fileURLWithPath: dir + "/tokenizer.model"))
        try """
        {"prompts": {"query": "task: search result | query: ", "document": "title: none | text: ", "STS": "task: sentence similarity | query: "}, "default_prompt_name": null}
        """.write(toFile: dir + "/config_sentence_transformers.json", atomically: true, encoding: .utf8)
        try """
        [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
         {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
         {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
         {"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"},
         {"idx": 4, "name": "4", "path": "4_Normalize", "type": "sentence_transformers.models.Normalize"}]
        """.write(toFile: dir + "/modules.json", atomically: true, encoding: .utf8)
        try """
        {"word_embedding_dimension": \(hidden), "pooling_mode_cls_token": false, "pooling_mode_mean_tokens": true, "pooling_mode_max_tokens": false, "include_prompt": true}
        """.write(toFile: dir + "/1_Pooling/config.json", atomically: true, encoding: .utf8)
        try """
        {"in_features": \(hidden), "out_features": 32, "bias": false, "activation_function": "torch.nn.modules.linear.Identity"}
        """.write(toFile: dir + "/2_Dense/config.json", atomically: true, encoding: .utf8)
        try """
        {"in_features": 32, "out_features": \(hidden), "bias": false, "activation_function": "torch.nn.modules.linear.Identity"}
        """.write(toFile: dir + "/3_Dense/config.json", atomically: true, encoding: .utf8)
        var seed: UInt64 = 99
        try SafeTensorsWriter.write(backboneTensors(), to: dir + "/model.safetensors")
        try SafeTensorsWriter.write([("linear.weight", [32, hidden], random(32 * hidden, seed: &seed, scale: 0.3))], to: dir + "/2_Dense/model.safetensors")
        try SafeTensorsWriter.write([("linear.weight", [hidden, 32], random(32 * hidden, seed: &seed, scale: 0.3))], to: dir + "/3_Dense/model.safetensors")
        return dir
    }
}

/// Writes float32 safetensors files for tests.
public enum SafeTensorsWriter {
    /// The bytes of a safetensors file holding `tensors` (name, shape, values) as F32 or BF16.
    public static func bytes(_ tensors: [(String, [Int], [Float])], dtype: String = "F32") -> [UInt8] {
        var header = "{"
        var offset = 0
        let size = dtype == "F32" ? 4 : 2
        for (i, (name, shape, values)) in tensors.enumerated() {
            let end = offset + values.count * size
            header += "\(i == 0 ? "" : ",")\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        header += "}"
        while (8 + header.utf8.count) % 8 != 0 { header += " " }
        var out: [UInt8] = []
        let length = UInt64(header.utf8.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(i)))) }
        out += Array(header.utf8)
        for (_, _, values) in tensors {
            for v in values {
                if dtype == "F32" {
                    let bits = v.bitPattern
                    for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt32(i)))) }
                } else {
                    let bits = UInt16(truncatingIfNeeded: v.bitPattern >> 16) // bfloat16 by truncation
                    out.append(UInt8(truncatingIfNeeded: bits))
                    out.append(UInt8(truncatingIfNeeded: bits >> 8))
                }
            }
        }
        return out
    }

    /// Writes `tensors` as a safetensors file at `path`.
    public static func write(_ tensors: [(String, [Int], [Float])], to path: String, dtype: String = "F32") throws {
        try Data(bytes(tensors, dtype: dtype)).write(to: URL(fileURLWithPath: path))
    }
}
