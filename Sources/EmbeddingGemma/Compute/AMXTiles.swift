import CEmbeddingGemmaKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether the int8 products run on Intel's AMX tiles, and why not.
///
/// A tile instruction kills the process with SIGILL unless the OS has granted the process the tile
/// state (Linux: `arch_prctl(ARCH_REQ_XCOMP_PERM)`) and the thread has loaded a tile configuration.
/// The AMX kernel therefore runs only when the CPU has AMX-INT8, the OS grants the permission when
/// asked, and the kernel's result on a small product equals the portable reference's bit for bit;
/// each call loads its configuration on its own thread and releases the tiles when it returns.
/// Otherwise the AVX-512 VNNI kernel runs (the same floats).
///
/// Opt-in for now (`EMBEDDINGGEMMA_AMX=1`): the kernel is checked against the reference through a
/// software model of the tile instructions on every AVX-512 VNNI CPU, but no AMX CPU has measured it
/// faster than the VNNI kernel yet, and the int8 paths become defaults where they measure faster.
public enum AMXTiles {
    /// What became of the AMX kernel on this machine.
    public enum Status: Sendable, Equatable, CustomStringConvertible {
        /// The CPU has no AMX int8 tiles (or AVX-512 is disabled).
        case notOnThisCPU
        /// The CPU has them; `EMBEDDINGGEMMA_AMX=1` was not set.
        case off
        /// The OS refused the tile state.
        case refused
        /// The kernel's result differed from the reference's, so it is not used.
        case failedSelfCheck
        /// The int8 products of 16 rows or more run on the tiles.
        case on

        public var description: String {
            switch self {
            case .notOnThisCPU: "not on this CPU"
            case .off: "available, off (EMBEDDINGGEMMA_AMX=1 turns it on; not yet measured faster than AVX-512 VNNI)"
            case .refused: "refused by the OS (no tile permission), AVX-512 VNNI instead"
            case .failedSelfCheck: "failed its check against the reference, AVX-512 VNNI instead"
            case .on: "on (int8 products of 16 rows or more)"
            }
        }
    }

    /// This machine's status, decided once (the permission request runs before any tile instruction).
    public static let status: Status = decide(
        cpuHasTiles: Matmul.useAVX512Kernels && eg_amx_int8_available() != 0,
        optedIn: getenv("EMBEDDINGGEMMA_AMX").map { String(cString: $0) } == "1",
        requestPermission: { eg_amx_request_permission() != 0 },
        selfCheck: { selfCheck(eg_gemm_int8_amx) })

    /// The decision, in order: the CPU, the user's choice, the OS's permission (asked only when the
    /// first two allow it), then the check of the kernel's result (run only with the permission).
    static func decide(cpuHasTiles: Bool, optedIn: Bool, requestPermission: () -> Bool, selfCheck: () -> Bool) -> Status {
        guard cpuHasTiles else { return .notOnThisCPU }
        guard optedIn else { return .off }
        guard requestPermission() else { return .refused }
        return selfCheck() ? .on : .failedSelfCheck
    }

    /// A product with the arguments of `eg_gemm_int8_*`.
    typealias Product = (UnsafeRawPointer?, Int32, UnsafeRawPointer?, Int32, Int, Int32, Int32, UnsafeMutablePointer<Float>?, Int) -> Int32

    /// Whether `product` returns the portable reference's floats bit for bit on Q8_0 and Q4_0 weights
    /// with 37 rows (two groups of 16 and an overlapping last one) and 37 columns (a partial panel).
    /// Requires `eg_avx512vnni_available()` (for the quantizer).
    static func selfCheck(_ product: Product) -> Bool {
        let m = 37, n = 37, k = 128, blocks = k / 32
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let x = (0..<(m * k)).map { _ in Float(Int(next() % 2001) - 1000) / 250 }
        let xBytes = Int(eg_int8_row_bytes(Int32(k)))
        for (type, blockBytes) in [(Int32(8), 34), (Int32(2), 18)] {
            var quantized = [UInt8](repeating: 0, count: m * xBytes)
            x.withUnsafeBufferPointer { xb in
                quantized.withUnsafeMutableBytes { eg_quantize_int8_avx512vnni(xb.baseAddress, k, Int32(m), Int32(k), type, $0.baseAddress) }
            }
            var weights = [UInt8](repeating: 0, count: n * blocks * blockBytes)
            for block in 0..<(n * blocks) {
                let scale = UInt16(0x2C00 + next() % 0x800) // float16 scales between 0.0625 and 0.125
                weights[block * blockBytes] = UInt8(scale & 0xFF)
                weights[block * blockBytes + 1] = UInt8(scale >> 8)
                for byte in 2..<blockBytes { weights[block * blockBytes + byte] = UInt8(next() & 0xFF) }
            }
            let rowBytes = blocks * blockBytes
            var expected = [Float](repeating: 0, count: m * n), actual = [Float](repeating: .nan, count: m * n)
            let status = quantized.withUnsafeBytes { q in
                weights.withUnsafeBytes { w in
                    let reference = expected.withUnsafeMutableBufferPointer {
                        eg_gemm_int8_reference(q.baseAddress, Int32(m), w.baseAddress, type, rowBytes, Int32(n), Int32(k), $0.baseAddress, n)
                    }
                    let tested = actual.withUnsafeMutableBufferPointer {
                        product(q.baseAddress, Int32(m), w.baseAddress, type, rowBytes, Int32(n), Int32(k), $0.baseAddress, n)
                    }
                    return reference == 1 && tested == 1
                }
            }
            guard status, zip(expected, actual).allSatisfy({ $0.bitPattern == $1.bitPattern }) else { return false }
        }
        return true
    }
}
