import Essentials
import Testing

@Suite("SplitMix64")
struct SplitMix64Tests {
    /// Reference outputs of Vigna's splitmix64.c (also the Rosetta Code "Pseudo-random numbers/
    /// Splitmix64" task for seed 1234567).
    @Test func referenceSequenceForSeed1234567() {
        var random = SplitMix64(seed: 1_234_567)
        #expect((0..<5).map { _ in random.next() } == [
            6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
            4_593_380_528_125_082_431, 16_408_922_859_458_223_821,
        ])
    }

    @Test func referenceSequenceForSeedZero() {
        var random = SplitMix64(seed: 0)
        #expect(random.next() == 0xE220_A839_7B1D_CDAF)
        #expect(random.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(random.next() == 0x06C4_5D18_8009_454F)
    }

    /// The simulators' per-instrument streams: seeded with the first output of the generator
    /// for `seed ^ (salt &* golden)`; pinned so that a simulator's prices for a seed never move.
    @Test func saltedStreamIsPinned() {
        var a = SplitMix64(seed: 42, salt: 265_598)
        #expect(a.state == 2_164_843_169_897_736_982)
        #expect((0..<3).map { _ in a.next() } == [17_578_967_809_137_313_388, 6_346_411_049_268_860_844, 4_947_690_702_097_540_644])
        var b = SplitMix64(seed: 42, salt: 265_598)
        var c = SplitMix64(seed: 43, salt: 265_598)
        var d = SplitMix64(seed: 42, salt: 265_599)
        let first = (0..<5).map { _ in b.next() }
        #expect(first != (0..<5).map { _ in c.next() })
        #expect(first != (0..<5).map { _ in d.next() })
    }

    @Test func unitIsTheTop53BitsScaled() {
        var random = SplitMix64(seed: 1_234_567)
        #expect(random.unit() == Double(6_457_827_717_110_365_317 >> 11 as UInt64) / 9_007_199_254_740_992)
        var many = SplitMix64(seed: 9)
        for _ in 0..<10_000 {
            let u = many.unit()
            #expect(u >= 0 && u < 1)
        }
    }

    @Test func intInRangeUsesTheGeneratorsOwnBits() {
        var random = SplitMix64(seed: 1_234_567)
        #expect(random.int(in: 10...19) == 10 + Int(6_457_827_717_110_365_317 % 10 as UInt64))
        var many = SplitMix64(seed: 3)
        var seen = Set<Int>()
        for _ in 0..<1000 {
            let v = many.int(in: -2...2)
            #expect((-2...2).contains(v))
            seen.insert(v)
        }
        #expect(seen == Set(-2...2))
        #expect(many.int(in: 5...5) == 5)
    }

    @Test func usableWithTheStandardLibrary() {
        var a = SplitMix64(seed: 5)
        var b = SplitMix64(seed: 5)
        #expect(Int.random(in: 0..<1000, using: &a) == Int.random(in: 0..<1000, using: &b))
        #expect([1, 2, 3, 4, 5].shuffled(using: &a) == [1, 2, 3, 4, 5].shuffled(using: &b))
    }

    @Test func systemSeededGeneratorsDiffer() {
        // 2^-64 chance of a false failure.
        #expect(SplitMix64() != SplitMix64())
    }

    /// FNV-1a 64 test vectors (Fowler, Noll, Vo: the reference test suite).
    @Test func stableHashVectors() {
        #expect(StableHash.fnv1a("") == 0xCBF2_9CE4_8422_2325)
        #expect(StableHash.fnv1a("a") == 0xAF63_DC4C_8601_EC8C)
        #expect(StableHash.fnv1a("foobar") == 0x8594_4171_F739_67E8)
    }
}
