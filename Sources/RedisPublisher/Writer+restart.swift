import Logging
import MarketModel

extension Writer {
    /// `INFO server`'s `run_id`: random per server process, so a new one after a reconnect
    /// means Redis restarted (or another server took over) and every key is gone.
    static func runID(of connection: RedisConnection) throws(RedisError) -> String? {
        guard let text = try connection.command(["INFO", "server"]).checked().string else { return nil }
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("run_id:") {
            return String(line.dropFirst("run_id:".count))
        }
        return nil
    }

    /// After connecting: if the server is not the one we wrote to before, queues the last
    /// value of every key that should still exist, behind any newer value already pending
    /// (latest wins). The values keep their `updated_ms`: they were not confirmed again, so
    /// the staleness check judges them as before.
    func noteServer(runID: String?) {
        defer { if let runID { serverRunID = runID } }
        guard let previous = serverRunID, let runID, runID != previous else { return }
        restoreLiveKeys(because: "Redis restarted (new run_id)")
    }

    /// Queues the last value of every key that should still exist, behind any newer pending
    /// value (latest wins). After a restart, and after a period of refused writes: a server made
    /// a replica (READONLY) resynchronises from its primary and loses our keys.
    func restoreLiveKeys(because reason: String) {
        let now = MonotonicClock.nanos()
        let records = written.alive(now: now, ttl: configuration.ttl(for:))
        guard !records.isEmpty else { return }
        let restored = shared.locked { s -> Int in
            let n = s.pending.restore(records.map { PendingRecord(record: $0, enqueuedNanos: now) })
            s.stats.keysRestored += UInt64(n)
            return n
        }
        logger.notice("\(reason): writing every live key again", metadata: ["keys": "\(restored)"])
    }
}
