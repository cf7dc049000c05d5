import RedisPublisher
import Testing

/// Every data write rejected (WRONGTYPE on a key the worker needs) for several intervals makes
/// the worker not ready; one key's rejection among accepted writes does not.
@Suite struct WriteRejectionWatchTests {
    static func stats(writes: UInt64, errors: UInt64, wrongType: UInt64 = 0) -> PublisherStats {
        var s = PublisherStats()
        s.writes = writes
        s.writeErrors = errors
        if wrongType > 0 { s.refusedWrites["WRONGTYPE"] = wrongType }
        if errors > 0 { s.lastRejection = "WRONGTYPE Operation against a key holding the wrong kind of value" }
        return s
    }

    @Test func everyWriteRejectedForThreeIntervalsIsReported() {
        var watch = WriteRejectionWatch(intervals: 3)
        #expect(watch.observe(Self.stats(writes: 10, errors: 0)) == nil)
        #expect(watch.observe(Self.stats(writes: 10, errors: 5, wrongType: 5)) == nil)
        #expect(watch.observe(Self.stats(writes: 10, errors: 9, wrongType: 9)) == nil)
        let rejection = watch.observe(Self.stats(writes: 10, errors: 14, wrongType: 14))
        #expect(rejection?.errorClass == "WRONGTYPE")
        #expect(rejection?.message.contains("Operation against a key holding the wrong kind of value") == true)
        // Quiet intervals (nothing written) keep the verdict; one accepted write clears it.
        #expect(watch.observe(Self.stats(writes: 10, errors: 14, wrongType: 14))?.errorClass == "WRONGTYPE")
        #expect(watch.observe(Self.stats(writes: 11, errors: 15, wrongType: 15)) == nil)
        #expect(watch.rejection == nil)
    }

    @Test func oneKeyRejectedAmongAcceptedWritesIsNotReported() {
        var watch = WriteRejectionWatch(intervals: 2)
        for n in UInt64(1)...10 {
            #expect(watch.observe(Self.stats(writes: n * 100, errors: n, wrongType: n)) == nil)
        }
    }

    @Test func anErrorWithoutAClassIsERR() {
        var watch = WriteRejectionWatch(intervals: 1)
        var s = PublisherStats()
        s.writeErrors = 3
        #expect(watch.observe(s)?.errorClass == "ERR")
    }
}
