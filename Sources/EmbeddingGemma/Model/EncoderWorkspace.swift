import CEmbeddingGemmaKernels

/// The activation buffers of one encoder pass over `tokens` packed tokens, allocated together
/// and freed together. Each pass owns its workspace, so concurrent passes never share memory.
///
/// Buffers that are never live at the same time share memory: the attention block's queries,
/// keys, values and output, and the feed-forward block's gate and up projections, take turns in
/// one region (the output overwrites the queries: each attention block reads its own query rows
/// before writing the same rows). Per token that is 3 840 floats instead of 5 888 for EmbeddingGemma.
/// When the feed-forward block runs over the rows in bands (``feedForwardRows`` below the pass's
/// tokens), the gate and up projections need room for one band only: a 2048-token pass then takes
/// 2 816 floats per token and 2 304 per band row.
final class EncoderWorkspace {
    /// Residual stream `[tokens × hidden]`.
    let hidden: UnsafeMutablePointer<Float>
    /// Normalised input of the next product, or a product's output `[tokens × max(hidden, heads·headDim)]`.
    let normed: UnsafeMutablePointer<Float>
    /// Queries `[tokens × heads·headDim]`; also the attention output, which replaces them row by row.
    let query: UnsafeMutablePointer<Float>
    /// Keys `[tokens × kvHeads·headDim]`.
    let key: UnsafeMutablePointer<Float>
    /// Values `[tokens × kvHeads·headDim]`.
    let value: UnsafeMutablePointer<Float>
    /// Attention output `[tokens × heads·headDim]`: the same memory as ``query``.
    var attention: UnsafeMutablePointer<Float> { query }
    /// Feed-forward gate, then `gelu(gate)·up` `[feedForwardRows × intermediate]` (shares memory with the attention buffers).
    let gate: UnsafeMutablePointer<Float>
    /// Feed-forward up projection `[feedForwardRows × intermediate]` (shares memory with the attention buffers).
    let up: UnsafeMutablePointer<Float>
    /// Rows the feed-forward block runs over at once (all tokens, or a band of them).
    let feedForwardRows: Int
    /// Room to decode one weight matrix to float32 for a BLAS product (one float when no product needs it).
    let weightScratch: UnsafeMutablePointer<Float>
    /// Position of each token within its sequence.
    let positions: UnsafeMutablePointer<Int32>
    private let storage: UnsafeMutablePointer<Float>
    private let storageBytes: Int
    /// Whether `storage` came from ``eg_pages_allocate`` (else from the Swift allocator).
    private let ownsPages: Bool

    /// - Parameters:
    ///   - scratch: floats of ``weightScratch`` (0 when no product decodes its weights).
    ///   - feedForwardRows: rows of the feed-forward band (nil: every token at once).
    init(tokens: Int, config: GemmaConfig, scratch: Int = 0, feedForwardRows: Int? = nil) {
        let n = max(tokens, 1)
        let band = min(max(feedForwardRows ?? n, 1), n)
        let h = config.hiddenSize
        let qWidth = config.numAttentionHeads * config.headDim
        let kvWidth = config.numKeyValueHeads * config.headDim
        let normedWidth = max(h, qWidth)
        let shared = max(n * (qWidth + 2 * kvWidth), band * 2 * config.intermediateSize)
        let total = n * (h + normedWidth) + shared + max(scratch, 1)
        // Straight from the operating system (zero-filled; see eg_pages_allocate), so that a long
        // pass's megabytes go back when the pass ends rather than stay in a thread's malloc arena.
        storageBytes = total * MemoryLayout<Float>.stride
        if let pages = eg_pages_allocate(storageBytes) {
            storage = pages.bindMemory(to: Float.self, capacity: total)
            ownsPages = true
        } else {
            storage = UnsafeMutablePointer<Float>.allocate(capacity: total)
            storage.initialize(repeating: 0, count: total)
            ownsPages = false
        }
        hidden = storage
        normed = hidden + n * h
        let region = normed + n * normedWidth
        query = region
        key = region + n * qWidth
        value = key + n * kvWidth
        gate = region
        up = region + band * config.intermediateSize
        self.feedForwardRows = band
        weightScratch = region + shared
        positions = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        positions.initialize(repeating: 0, count: n)
    }

    deinit {
        if ownsPages {
            eg_pages_free(storage, storageBytes)
        } else {
            storage.deallocate()
        }
        positions.deallocate()
    }
}
