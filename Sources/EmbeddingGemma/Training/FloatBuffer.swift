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
