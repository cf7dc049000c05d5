import MarketModel
import Testing
@testable import RedisPublisher

@Suite("PendingWrites")
struct PendingWritesTests {
    func record(_ key: String, _ value: String) -> Record {
        Record(kind: .quote, key: key, source: .ib, updatedMs: 1, fields: [Field("bid", value, isNumber: true)])
    }

    @Test func coalescesPerKeyKeepingFirstTouchedOrder() {
        var p = PendingWrites(maxEvents: 10)
        #expect(p.add(record("a", "1"), nanos: 1) == false)
        #expect(p.add(record("b", "1"), nanos: 2) == false)
        #expect(p.add(record("a", "2"), nanos: 3) == true)
        #expect(p.add(record("a", "3"), nanos: 4) == true)
        #expect(p.coalesced == 2)
        #expect(p.recordCount == 2)
        let first = p.takeRecords(limit: 1)
        #expect(first.map(\.record.key) == ["a"])
        #expect(first[0].record.value("bid") == "3")
        #expect(first[0].enqueuedNanos == 4)
        #expect(p.takeRecords(limit: 10).map(\.record.key) == ["b"])
        #expect(p.isEmpty)
    }

    @Test func restoreNeverOverwritesANewerValue() {
        var p = PendingWrites(maxEvents: 10)
        p.add(record("a", "1"), nanos: 1)
        p.add(record("b", "1"), nanos: 1)
        let failed = p.takeRecords(limit: 10)
        p.add(record("a", "2"), nanos: 2)
        p.restore(failed)
        let again = p.takeRecords(limit: 10)
        #expect(again.map(\.record.key) == ["a", "b"])
        #expect(again.map { $0.record.value("bid") } == ["2", "1"])
    }

    @Test func eventsAreBoundedAndOverflowIsCounted() {
        var p = PendingWrites(maxEvents: 3)
        for i in 0..<5 { p.addEvent("e\(i)") }
        #expect(p.eventCount == 3)
        #expect(p.eventsDropped == 2)
        let taken = p.takeEvents(limit: 2)
        #expect(taken == ["e0", "e1"])
        p.addEvent("e5")
        p.addEvent("e6")
        #expect(p.eventCount == 3)
        // A failed PUBLISH goes back in front, as far as the bound allows: here not at all.
        p.restoreEvents(taken)
        #expect(p.eventsDropped == 4)
        #expect(p.takeEvents(limit: 10) == ["e2", "e5", "e6"])
        p.restoreEvents(["x", "y"])
        p.addEvent("z")
        #expect(p.takeEvents(limit: 10) == ["x", "y", "z"])
    }

    @Test func manyKeysStayConsistentAcrossCompaction() {
        var p = PendingWrites(maxEvents: 0)
        for i in 0..<5000 { p.add(record("k\(i)", "0"), nanos: 0) }
        var seen: [String] = []
        while !p.isEmpty {
            let batch = p.takeRecords(limit: 700)
            seen += batch.map(\.record.key)
            if seen.count == 2100 { p.add(record("k0", "1"), nanos: 0) }
        }
        #expect(seen.count == 5001)
        #expect(Array(seen.prefix(3)) == ["k0", "k1", "k2"])
        #expect(seen.last == "k0")
        #expect(p.addEvent("x") == false)
        #expect(p.eventsDropped == 1)
    }
}
