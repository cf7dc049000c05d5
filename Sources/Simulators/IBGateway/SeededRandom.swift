import Foundation

/// SplitMix64: a tiny, fast generator whose whole state is one `UInt64`.
///
/// The simulator promises the same prices for the same seed on every machine, so it cannot
/// use the system generator; SplitMix64 is fully specified, passes BigCrush, and lets every
/// instrument own an independent stream derived from (seed, conId) so that one symbol's walk
/// does not depend on which other symbols happen to be subscribed.
struct SeededRandom: RandomNumberGenerator, Sendable {
    private(set) var state: UInt64

    init(seed: UInt64) { state = seed }

    /// A stream for one purpose, derived from a seed and a salt (e.g. a conId).
    init(seed: UInt64, salt: UInt64) {
        var mixer = SeededRandom(seed: seed ^ (salt &* 0x9E37_79B9_7F4A_7C15))
        state = mixer.next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Uniform integer in the closed range (uses the generator's own bits so the sequence
    /// does not depend on the standard library's sampling algorithm).
    mutating func int(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound + 1)
        return range.lowerBound + Int(next() % span)
    }

    /// Standard normal via Box-Muller (one value per call; determinism beats speed here).
    mutating func normal() -> Double {
        let u1 = max(unit(), 1e-300)
        let u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

/// FNV-1a, used to turn symbols into stable salts and synthetic conIds.
func stableHash(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
    }
    return hash
}
