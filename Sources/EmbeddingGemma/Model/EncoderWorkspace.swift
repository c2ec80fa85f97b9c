/// The activation buffers of one encoder pass over `tokens` packed tokens, allocated together
/// and freed together. Each pass owns its workspace, so concurrent passes never share memory.
final class EncoderWorkspace {
    /// Residual stream `[tokens × hidden]`.
    let hidden: UnsafeMutablePointer<Float>
    /// Normalised input of the next product, or a product's output `[tokens × max(hidden, heads·headDim)]`.
    let normed: UnsafeMutablePointer<Float>
    /// Queries `[tokens × heads·headDim]`.
    let query: UnsafeMutablePointer<Float>
    /// Keys `[tokens × kvHeads·headDim]`.
    let key: UnsafeMutablePointer<Float>
    /// Values `[tokens × kvHeads·headDim]`.
    let value: UnsafeMutablePointer<Float>
    /// Attention output `[tokens × heads·headDim]`.
    let attention: UnsafeMutablePointer<Float>
    /// Feed-forward gate, then `gelu(gate)·up` `[tokens × intermediate]`.
    let gate: UnsafeMutablePointer<Float>
    /// Feed-forward up projection `[tokens × intermediate]`.
    let up: UnsafeMutablePointer<Float>
    /// Room to decode one quantized weight matrix to float32 for a batch product.
    let weightScratch: UnsafeMutablePointer<Float>
    /// Position of each token within its sequence.
    let positions: UnsafeMutablePointer<Int32>
    private let allocations: [UnsafeMutablePointer<Float>]

    /// - Parameter scratch: floats of ``weightScratch`` (0 when every weight is float32).
    init(tokens: Int, config: GemmaConfig, scratch: Int = 0) {
        let n = max(tokens, 1)
        let qWidth = config.numAttentionHeads * config.headDim
        let kvWidth = config.numKeyValueHeads * config.headDim
        func buffer(_ width: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: n * width)
            pointer.initialize(repeating: 0, count: n * width)
            return pointer
        }
        hidden = buffer(config.hiddenSize)
        normed = buffer(max(config.hiddenSize, qWidth))
        query = buffer(qWidth)
        key = buffer(kvWidth)
        value = buffer(kvWidth)
        attention = buffer(qWidth)
        gate = buffer(config.intermediateSize)
        up = buffer(config.intermediateSize)
        positions = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        positions.initialize(repeating: 0, count: n)
        weightScratch = UnsafeMutablePointer<Float>.allocate(capacity: max(scratch, 1))
        allocations = [hidden, normed, query, key, value, attention, gate, up, weightScratch]
    }

    deinit {
        for pointer in allocations { pointer.deallocate() }
        positions.deallocate()
    }
}
