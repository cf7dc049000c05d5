import MarketModel

/// The last value written of every data key whose TTL has not run out: what Redis holds,
/// as far as this worker knows.
///
/// A restarted (or replaced) Redis server has lost every key. Keys that tick are written
/// again by the next tick, but a quiet symbol, a closed market's quotes, option keys
/// between trades and the option chain (written once a day) would stay missing until they
/// change, so after a server change the writer writes these values again (CONTRACT §3: the
/// layout is the API; a restart must not leave holes in it). Pure value type; the writer
/// owns it on its thread.
struct WrittenRecords: Sendable {
    private var entries: [String: Entry] = [:]
    /// Above this many keys, `remember` prunes the expired ones first (amortised: the
    /// threshold doubles with the live set, so pruning is O(1) per write on average).
    private var pruneThreshold = 1024

    struct Entry: Sendable {
        var record: Record
        /// Monotonic nanoseconds of the successful write.
        var writtenNanos: UInt64
    }

    var count: Int { entries.count }

    mutating func remember(_ record: Record, writtenNanos: UInt64, ttl: (Record.Kind) -> Duration) {
        entries[record.key] = Entry(record: record, writtenNanos: writtenNanos)
        if entries.count > pruneThreshold {
            prune(now: writtenNanos, ttl: ttl)
            pruneThreshold = max(1024, 2 * entries.count)
        }
    }

    /// The records whose TTL has not run out at `now`, oldest write first; forgets the others
    /// (Redis has expired them too: writing them again would resurrect, say, an option that
    /// left the window hours ago).
    mutating func alive(now: UInt64, ttl: (Record.Kind) -> Duration) -> [Record] {
        prune(now: now, ttl: ttl)
        return entries.values.sorted { $0.writtenNanos < $1.writtenNanos }.map(\.record)
    }

    private mutating func prune(now: UInt64, ttl: (Record.Kind) -> Duration) {
        entries = entries.filter { _, entry in
            let age = now > entry.writtenNanos ? now - entry.writtenNanos : 0
            return age < UInt64(max(0, ttl(entry.record.kind).milliseconds)) * 1_000_000
        }
    }
}
