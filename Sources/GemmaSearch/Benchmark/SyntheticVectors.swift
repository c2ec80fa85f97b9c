import EmbeddingGemma
/// Deterministic clustered unit vectors for benchmarks: `clusterSize` vectors around each of
/// `count / clusterSize` random unit centroids (a centroid plus Gaussian noise of the same norm,
/// so members of a cluster have cosines of about 0.5 with one another and near 0 with the rest —
/// many near-ties among the nearest neighbours, a hard case for compressed first stages). Any
/// vector can be made again from its number alone, so exact answers need no stored copy.
public struct SyntheticVectors: Sendable {
    public let count: Int
    public let dimensions: Int
    public let clusterSize: Int
    public let seed: UInt64

    public init(count: Int, dimensions: Int = 768, clusterSize: Int = 100, seed: UInt64 = 1) {
        self.count = count
        self.dimensions = dimensions
        self.clusterSize = max(1, clusterSize)
        self.seed = seed
    }

    /// Vector `n` (0-based), of unit length.
    public func vector(_ n: Int) -> [Float] {
        let centroid = gaussian(stream: UInt64(n / clusterSize) &* 0x9E37_79B9 &+ 1)
        let noise = gaussian(stream: UInt64(n) &* 0x85EB_CA6B &+ 0x1_0000_0000)
        return Self.normalized(zip(centroid, noise).map { $0 + $1 })
    }

    /// Query `n`: a cluster's centroid (cluster `n` spread over the clusters) plus noise, so its
    /// nearest vectors are that cluster's members.
    public func query(_ n: Int) -> [Float] {
        let clusters = max(1, count / clusterSize)
        let cluster = (n &* 7919) % clusters
        let centroid = gaussian(stream: UInt64(cluster) &* 0x9E37_79B9 &+ 1)
        let noise = gaussian(stream: UInt64(n) &* 0xC2B2_AE35 &+ 0x2_0000_0000)
        return Self.normalized(zip(centroid, noise).map { $0 + 0.8 * $1 })
    }

    /// `dimensions` standard normal values of one random stream, scaled to unit expected norm.
    private func gaussian(stream: UInt64) -> [Float] {
        var generator = SplitMix64(seed: seed ^ stream)
        var values = [Float](repeating: 0, count: dimensions)
        let scale = 1 / Float(dimensions).squareRoot()
        var i = 0
        while i < dimensions {
            // Box–Muller: two normal values from two uniform ones.
            let u1 = max(Float(generator.next() >> 40) / Float(1 << 24), 1e-7)
            let u2 = Float(generator.next() >> 40) / Float(1 << 24)
            let radius = (-2 * logf(u1)).squareRoot()
            values[i] = radius * cosf(2 * .pi * u2) * scale
            if i + 1 < dimensions { values[i + 1] = radius * sinf(2 * .pi * u2) * scale }
            i += 2
        }
        return values
    }

    static func normalized(_ v: [Float]) -> [Float] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? v.map { $0 / norm } : v
    }
}


#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
