import MarketModel

/// A record waiting to be written, with the time it was handed over (for write latency).
struct PendingRecord: Sendable {
    var record: Record
    /// Monotonic nanoseconds of the `publish` call that supplied this (latest) value.
    var enqueuedNanos: UInt64
}

/// The writer's backlog: the latest value of every key not yet written, in first-touched
/// order, and a bounded queue of events. Pure value type: the publisher keeps it behind its
/// lock, tests drive it directly.
///
/// Memory is bounded by the number of distinct keys plus `maxEvents`, however long Redis is
/// away: a newer value of a key replaces the older one (latest wins), and events beyond the
/// bound are dropped and counted.
struct PendingWrites: Sendable {
    private(set) var records: [String: PendingRecord] = [:]
    /// Keys of `records` in the order they became pending; each pending key exactly once.
    private var order: [String] = []
    private var orderHead = 0

    private(set) var events: [String] = []
    private var eventsHead = 0
    let maxEvents: Int

    /// Updates that replaced a pending value of the same key instead of adding a write.
    private(set) var coalesced: UInt64 = 0
    private(set) var eventsDropped: UInt64 = 0

    init(maxEvents: Int) {
        self.maxEvents = max(0, maxEvents)
    }

    var recordCount: Int { records.count }
    var eventCount: Int { events.count - eventsHead }
    var isEmpty: Bool { records.isEmpty && eventCount == 0 }

    /// Adds or replaces the pending value of `record.key`. Returns true when it replaced one.
    @discardableResult
    mutating func add(_ record: Record, nanos: UInt64) -> Bool {
        if records.updateValue(PendingRecord(record: record, enqueuedNanos: nanos), forKey: record.key) != nil {
            coalesced &+= 1
            return true
        }
        order.append(record.key)
        return false
    }

    /// Removes and returns up to `limit` records, oldest-pending key first.
    mutating func takeRecords(limit: Int) -> [PendingRecord] {
        var batch: [PendingRecord] = []
        batch.reserveCapacity(min(limit, records.count))
        while batch.count < limit, orderHead < order.count {
            let key = order[orderHead]
            orderHead += 1
            if let pending = records.removeValue(forKey: key) { batch.append(pending) }
        }
        compactOrder()
        return batch
    }

    /// Puts back records whose write failed, unless a newer value of the key arrived
    /// meanwhile (then the newer one is written and the failed one is simply superseded).
    /// Returns how many were put back.
    @discardableResult
    mutating func restore(_ failed: [PendingRecord]) -> Int {
        var restored = 0
        for pending in failed where records[pending.record.key] == nil {
            records[pending.record.key] = pending
            order.append(pending.record.key)
            restored += 1
        }
        return restored
    }

    /// Queues an event; false (and counted) when the queue is full.
    @discardableResult
    mutating func addEvent(_ json: String) -> Bool {
        guard eventCount < maxEvents else {
            eventsDropped &+= 1
            return false
        }
        events.append(json)
        return true
    }

    mutating func takeEvents(limit: Int) -> [String] {
        let end = min(events.count, eventsHead + limit)
        let batch = Array(events[eventsHead..<end])
        eventsHead = end
        if eventsHead == events.count {
            events.removeAll(keepingCapacity: true)
            eventsHead = 0
        } else if eventsHead > 1024, eventsHead * 2 > events.count {
            events.removeFirst(eventsHead)
            eventsHead = 0
        }
        return batch
    }

    /// Puts back events whose PUBLISH did not happen, ahead of newer ones, as far as the bound
    /// allows; the rest are dropped and counted.
    mutating func restoreEvents(_ failed: [String]) {
        guard !failed.isEmpty else { return }
        let room = max(0, maxEvents - eventCount)
        let kept = failed.prefix(room)
        eventsDropped &+= UInt64(failed.count - kept.count)
        events.replaceSubrange(0..<eventsHead, with: kept)
        eventsHead = 0
    }

    private mutating func compactOrder() {
        if orderHead == order.count {
            order.removeAll(keepingCapacity: true)
            orderHead = 0
        } else if orderHead > 1024, orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
    }
}
