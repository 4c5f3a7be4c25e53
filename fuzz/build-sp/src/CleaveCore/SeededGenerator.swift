/// A fast, seedable random number generator (xoshiro256**, seeded through SplitMix64).
///
/// Every random choice in Cleave takes a `seed: UInt64` and draws from this generator, so a run
/// with the same seed gives the same result on every machine and thread count.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// An independent stream for sub-task `index` (e.g. one per tree or per restart).
    public static func stream(seed: UInt64, index: Int) -> SeededGenerator {
        var mixer = SeededGenerator(seed: seed ^ (0xD6E8_FEB8_6659_FD93 &* UInt64(truncatingIfNeeded: index &+ 1)))
        return SeededGenerator(seed: mixer.next())
    }

    @inlinable static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = SeededGenerator.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = SeededGenerator.rotl(s3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform integer in `0..<bound` (bound ≥ 1), without modulo bias.
    public mutating func next(below bound: Int) -> Int {
        precondition(bound >= 1, "SeededGenerator.next(below:) needs bound >= 1, got \(bound)")
        return Int(next(upperBound: UInt64(bound)))
    }

    /// Standard normal deviate (Box–Muller).
    public mutating func nextGaussian() -> Double {
        var u = nextDouble()
        while u <= 0 { u = nextDouble() }
        let v = nextDouble()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }

    /// Poisson deviate with mean `lambda` (Knuth for small means, normal approximation above 30).
    public mutating func nextPoisson(_ lambda: Double) -> Double {
        if lambda <= 0 { return 0 }
        if lambda > 30 { return max(0, (lambda + lambda.squareRoot() * nextGaussian()).rounded()) }
        let limit = exp(-lambda)
        var k = 0.0
        var p = 1.0
        repeat { k += 1; p *= nextDouble() } while p > limit
        return k - 1
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
