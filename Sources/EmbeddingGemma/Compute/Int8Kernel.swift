import CEmbeddingGemmaKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Matmul {
    /// The int8 kernels of ``int8Linear(_:weight:into:)``: each quantizes the input rows to the same
    /// bytes and returns the same floats as the portable `eg_gemm_int8_reference`.
    enum Int8Kernel: Sendable {
        /// 512-bit `vpdpbusd`, 16-column panels (Intel Cascade Lake and later Xeons, AMD Zen 4 and later).
        case avx512VNNI
        /// 256-bit VEX `vpdpbusd`, 8-column panels (Intel Alder Lake and later client cores without AVX-512).
        case avxVNNI
        /// AMX int8 tiles (`tdpbsud`) on the AVX-512 VNNI kernel's panels, for 16 rows or more (Intel
        /// Sapphire Rapids and later Xeons); fewer rows take the AVX-512 VNNI kernel. See ``AMXTiles``.
        case amx

        /// The name `bench` prints.
        var name: String {
            switch self {
            case .avx512VNNI: "AVX-512 VNNI int8 kernel"
            case .avxVNNI: "AVX-VNNI int8 kernel"
            case .amx: "AMX int8 tiles (under 16 rows: AVX-512 VNNI)"
            }
        }

        /// Quantizes rows for this kernel (`eg_quantize_int8_*`'s arguments).
        func quantize(_ x: UnsafePointer<Float>, _ ldx: Int, _ m: Int32, _ k: Int32, _ weightType: Int32, _ out: UnsafeMutableRawPointer) {
            switch self {
            case .avx512VNNI, .amx: eg_quantize_int8_avx512vnni(x, ldx, m, k, weightType, out)
            case .avxVNNI: eg_quantize_int8_avxvnni(x, ldx, m, k, weightType, out)
            }
        }

        /// The product (`eg_gemm_int8_*`'s arguments and result: 0 for a block type or length it does not take).
        func product(_ xq: UnsafeRawPointer, _ m: Int32, _ w: UnsafeRawPointer, _ weightType: Int32, _ rowBytes: Int, _ n: Int32, _ k: Int32,
                     _ y: UnsafeMutablePointer<Float>, _ ldy: Int) -> Int32 {
            switch self {
            case .avx512VNNI: eg_gemm_int8_avx512vnni(xq, m, w, weightType, rowBytes, n, k, y, ldy)
            case .avxVNNI: eg_gemm_int8_avxvnni(xq, m, w, weightType, rowBytes, n, k, y, ldy)
            case .amx: eg_gemm_int8_amx(xq, m, w, weightType, rowBytes, n, k, y, ldy)
            }
        }
    }

    /// The int8 kernel that Q8_0/Q4_0 products with ``ActivationCoding/int8WhereFaster`` use on this
    /// CPU — chosen by its features: AVX-512 VNNI (or AMX tiles where ``AMXTiles/status`` is on), else
    /// AVX-VNNI; nil without VNNI (the Zen 1 class, where the byte products of plain AVX2 measured slower
    /// than widening to float32), and when `EMBEDDINGGEMMA_DISABLE_INT8=1`. `EMBEDDINGGEMMA_DISABLE_AVX512=1`
    /// leaves the AVX-VNNI kernel.
    static let int8Kernel: Int8Kernel? = {
        if getenv("EMBEDDINGGEMMA_DISABLE_INT8").map({ String(cString: $0) }) == "1" { return nil }
        if useAVX512Kernels, eg_avx512vnni_available() != 0 { return AMXTiles.status == .on ? .amx : .avx512VNNI }
        if useAVX2Kernels, eg_avxvnni_available() != 0 { return .avxVNNI }
        return nil
    }()
}
