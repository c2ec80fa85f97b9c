/// An owned, zero-initialised float32 buffer of the training pass (activations, gradients).
final class FloatBuffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(_ count: Int) {
        self.count = count
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    /// Sets every value to zero.
    func zero() { pointer.update(repeating: 0, count: count) }

    /// The values as an array.
    var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

/// Buffers handed out again from step to step: a training step's activations are a few hundred
/// buffers of tens of megabytes, and allocating them afresh costs page faults and zeroing every
/// step. A buffer taken from the pool may be larger than asked and holds old values. One training
/// loop uses a pool, from one thread at a time.
final class BufferPool: @unchecked Sendable {
    private var free: [FloatBuffer] = []

    init() {}

    /// A buffer of at least `count` floats (the smallest free one that fits, else a new one).
    func take(_ count: Int) -> FloatBuffer {
        var best: Int?
        for (index, buffer) in free.enumerated() where buffer.count >= count {
            if best.map({ buffer.count < free[$0].count }) ?? true { best = index }
        }
        if let best { return free.remove(at: best) }
        return FloatBuffer(count)
    }

    /// Returns buffers for later steps.
    func give(_ buffers: [FloatBuffer]) {
        free.append(contentsOf: buffers)
    }
}
