/// A read-only float32 array, either viewed directly in a memory-mapped file (float32 weights,
/// no copy) or owned (weights converted from float16/bfloat16, or derived at load).
final class FloatStorage: @unchecked Sendable {
    /// First element.
    let pointer: UnsafePointer<Float>
    /// Number of elements.
    let count: Int
    private let owner: AnyObject?
    private let owned: UnsafeMutablePointer<Float>?

    /// A view into `file`, which stays mapped while this storage lives.
    init(mapped file: MappedFile, pointer: UnsafePointer<Float>, count: Int) {
        self.pointer = pointer
        self.count = count
        owner = file
        owned = nil
    }

    /// Owned storage filled by `initialize`, which receives an uninitialized buffer of `count` floats.
    init(count: Int, initialize: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let memory = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        initialize(UnsafeMutableBufferPointer(start: memory, count: count))
        pointer = UnsafePointer(memory)
        self.count = count
        owner = nil
        owned = memory
    }

    /// A view of `count` floats at `pointer`, which `owner` keeps alive (training weights read in
    /// place by an inference model).
    init(viewing pointer: UnsafePointer<Float>, count: Int, owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        self.owner = owner
        owned = nil
    }

    deinit {
        owned?.deallocate()
    }

    /// A copy of the elements (the storage stays alive for the copy).
    var values: [Float] {
        withExtendedLifetime(self) { Array(UnsafeBufferPointer(start: pointer, count: count)) }
    }
}
