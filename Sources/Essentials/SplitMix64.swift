/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
/// OOPSLA 2014; the reference C is Vigna's `splitmix64.c`): a tiny, fast generator whose whole
/// state is one `UInt64`, fully specified, so the same seed gives the same sequence on every
/// machine and Swift version.
///
/// The one seeded generator of the project: state machines draw their jitter from it (a test
/// passes a constant seed, production ``init()`` seeds from the system generator), the
/// simulators derive an independent stream per instrument from (seed, salt), and tests replay
/// fuzz-style sequences from a seed. Not for secrets: tokens use `SystemRandomNumberGenerator`.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    /// The whole state; the next output is a function of it alone.
    public private(set) var state: UInt64

    /// The golden-ratio increment of SplitMix64 (also used to spread salts).
    public static let golden: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// A generator whose first output is SplitMix64's first output for `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// A stream for one purpose, derived from a seed and a salt (e.g. a conId or a
    /// ``StableHash/fnv1a(_:)`` of a symbol), so one instrument's stream does not depend on
    /// which other instruments exist: seeded with the first output of
    /// `SplitMix64(seed: seed ^ (salt &* golden))`.
    public init(seed: UInt64, salt: UInt64) {
        var mixer = SplitMix64(seed: seed ^ (salt &* Self.golden))
        state = mixer.next()
    }

    /// Seeded from the system generator: for production, where only the distribution matters.
    public init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= Self.golden
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1): the top 53 bits of ``next()`` times 2^-53 (every double in the range
    /// is a multiple of 2^-53, so the result is exact and the same on every machine).
    public mutating func unit() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A uniform integer in the closed range, computed from the generator's own bits
    /// (`lowerBound + next() % span`) so the sequence does not depend on the standard library's
    /// sampling algorithm. The modulo bias is below 2^-40 for spans under 2^24.
    /// - Precondition: the range spans fewer than 2^64 values.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound + 1)
        return range.lowerBound + Int(next() % span)
    }
}

/// Stable 64-bit hashes of text, the same in every process and on every machine (unlike
/// `Hasher`, which is seeded per process): salts for ``SplitMix64/init(seed:salt:)`` and
/// synthetic identifiers in the simulators.
public enum StableHash {
    /// FNV-1a, 64 bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3), over the UTF-8
    /// bytes of `text`.
    public static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
