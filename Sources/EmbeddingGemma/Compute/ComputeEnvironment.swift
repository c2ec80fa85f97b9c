import CEmbeddingGemmaKernels
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(COpenBLAS)
import COpenBLAS
#endif
import Dispatch

/// What the engine computes with on this machine: the CPU's vector features, the BLAS library's
/// choice of kernels, and which kernel each kind of product runs. `gemma-embed bench` prints it.
public enum ComputeEnvironment {
    /// The CPU model name with its family and model numbers (`/proc/cpuinfo` on Linux), e.g.
    /// "AMD EPYC (family 26 model 2)": virtual machines often report only a brand name, which does not
    /// tell a first-generation Zen from a fifth.
    public static var cpuModel: String {
        guard let info = cpuinfo else { return "unknown CPU" }
        return cpuModel(cpuinfo: info)
    }

    /// The CPU description ``cpuModel`` makes of a `/proc/cpuinfo` text (its first processor).
    static func cpuModel(cpuinfo: String) -> String {
        let fields = firstProcessor(cpuinfo: cpuinfo)
        let name = fields["model name"] ?? "unknown CPU"
        guard let family = fields["cpu family"], let model = fields["model"] else { return name }
        return "\(name) (family \(family) model \(model))"
    }

    /// The vector features that matter to the kernels, as the kernel reports them (`/proc/cpuinfo` names).
    public static var cpuFeatures: [String] {
        guard let info = cpuinfo, let flags = firstProcessor(cpuinfo: info)["flags"] else {
            var features: [String] = []
            if eg_avx2_fma_available() != 0 { features += ["avx2", "fma"] }
            if eg_avx512_available() != 0 { features.append("avx512f") }
            return features
        }
        let wanted: Set<Substring> = ["avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni",
                                      "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16"]
        return flags.split(separator: " ").filter { wanted.contains($0) }.map(String.init)
    }

    /// The text of `/proc/cpuinfo`, nil where there is none (macOS).
    private static var cpuinfo: String? { try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) }

    /// The `key : value` fields of the first processor's block of a `/proc/cpuinfo` text.
    static func firstProcessor(cpuinfo: String) -> [String: String] {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        var fields: [String: String] = [:]
        for line in cpuinfo.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { break }  // the end of the first processor's block
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            var key = parts[0]
            while let last = key.last, blank(last) { key.removeLast() }
            fields[String(key)] = String(parts[1].drop(while: blank))
        }
        return fields
    }

    /// The core type OpenBLAS picked for its kernels (`openblas_get_corename()`), nil elsewhere.
    public static var blasCore: String? {
        #if canImport(COpenBLAS)
        guard let name = openblas_get_corename() else { return nil }
        return String(cString: name)
        #else
        return nil
        #endif
    }

    /// Whether the BLAS library runs pre-AVX2 kernels on a CPU that has AVX2 (OpenBLAS 0.3.21 falls
    /// back to its generic Prescott kernels on CPU models it does not know): large float32
    /// products then go to this engine's kernels instead.
    public static var blasIsGeneric: Bool { isGeneric(blasCore: blasCore) }

    /// Whether an OpenBLAS core name is below AVX2 class.
    static func isGeneric(blasCore: String?) -> Bool {
        guard let core = blasCore?.lowercased() else { return false }
        let avx2Class = ["haswell", "zen", "skylakex", "cooperlake", "sapphirerapids", "excavator"]
        return !avx2Class.contains(where: { core.contains($0) })
    }

    /// Whether the BLAS library runs AVX-512 kernels (OpenBLAS's SkylakeX, Cooperlake or
    /// SapphireRapids core types).
    public static var blasUsesAVX512: Bool { usesAVX512(blasCore: blasCore) }

    /// Whether an OpenBLAS core name is of AVX-512 class.
    static func usesAVX512(blasCore: String?) -> Bool {
        guard let core = blasCore?.lowercased() else { return false }
        return ["skylakex", "cooperlake", "sapphirerapids"].contains(where: { core.contains($0) })
    }

    /// The float32 multiply-add peak of this machine's widest vector unit on `threads` threads, in
    /// GFLOP/s, measured by a register-only probe (no memory traffic): the ceiling any matrix product
    /// can approach. The best of `trials` runs of about `seconds` each, so that a neighbour's burst on
    /// a shared machine lowers one trial, not the ceiling. Nil without AVX2.
    public static func measurePeakGFLOPS(threads: Int? = nil, seconds: Double = 0.25, trials: Int = 4) -> Double? {
        let threads = threads ?? Parallel.threadCount
        let wide = Matmul.useAVX512Kernels
        guard wide || Matmul.useAVX2Kernels else { return nil }
        let flopsPerStep = wide ? 512.0 : 192.0
        func run(_ steps: Int) -> Float { wide ? eg_fma_probe_avx512(steps) : eg_fma_probe_avx2(steps) }
        // Calibrate the step count on one thread, then run every thread at once.
        var steps = 1 << 16
        while true {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = run(steps)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if elapsed > seconds / 4 || steps > 1 << 30 {
                steps = Int(Double(steps) * seconds / max(elapsed, 1e-6))
                break
            }
            steps *= 4
        }
        var best = 0.0
        for _ in 0..<max(1, trials) {
            let start = DispatchTime.now().uptimeNanoseconds
            Parallel.forEachChunk(threads, grain: 1) { range in
                for _ in range { _ = run(steps) }
            }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, Double(threads) * Double(steps) * flopsPerStep / elapsed / 1e9)
        }
        return best
    }

    /// Which kernel each kind of product runs, which loops the element-wise steps run, and what
    /// became of the AMX tiles (``AMXTiles/status``).
    public static var kernels: String {
        let elementwise = switch Kernels.fastest {
        case .avx512: "AVX-512 loops"
        case .avx2: "AVX2 loops"
        case .portable: "portable Swift loops"
        }
        return Matmul.kernelDescription + "; RMSNorm, RoPE, softmax, GELU: \(elementwise); AMX int8 tiles: \(AMXTiles.status)"
    }

    /// What the products of an embedding model with `quantization`'s weights compute in on this
    /// machine: "bf16 products, float32 sums" for bf16 weights on an AVX512-BF16 CPU; "int8 activations
    /// per block of 32, int32 sums" for Q8_0/Q4_0/mixed weights on a VNNI CPU; else "float32 activations".
    public static func precision(for quantization: QuantizationType) -> String {
        if quantization == .bf16, Matmul.useBF16Kernel { return "bf16 products, float32 sums" }
        if [.q8_0, .q4_0, .mixed].contains(quantization), Matmul.int8Kernel != nil { return "int8 activations per block of 32, int32 sums" }
        return "float32 activations"
    }
}
