import Foundation
import Logging
import MarketModel

/// Writes records, the status hash and events into Redis from its own thread, batching
/// naturally: a write starts as soon as the writer is idle (low latency at low load), and
/// whatever arrives while a write is in flight is coalesced per key (latest wins) and
/// pipelined into the next round trip (high throughput at high load).
///
/// Producers (the IB session, the Alpha Vantage poller) never block on Redis: `publish`,
/// `publishEvent` and `setStatus` only take a short lock. When Redis goes away the writer
/// reconnects with backoff, reloads the scripts and then writes the latest value of every key
/// that changed meanwhile; memory stays bounded by the number of keys plus `maxPendingEvents`.
public final class Publisher: Sendable {
    public let configuration: PublisherConfiguration
    let scripts: LuaScripts
    let logger: Logger
    let shared: PublisherShared

    /// Reads the Lua scripts from `configuration.scriptsDirectory`; a missing folder or script
    /// throws `RedisError.Code.scriptsMissing` (exit 1). Redis being down is not an error
    /// here: the writer keeps retrying once started.
    public convenience init(configuration: PublisherConfiguration, logger: Logger) throws(RedisError) {
        let scripts = try LuaScripts(directory: configuration.scriptsDirectory)
        self.init(configuration: configuration, scripts: scripts, logger: logger)
    }

    public init(configuration: PublisherConfiguration, scripts: LuaScripts, logger: Logger) {
        self.configuration = configuration
        self.scripts = scripts
        self.logger = logger
        self.shared = PublisherShared(maxEvents: configuration.maxPendingEvents)
    }

    /// The writer thread holds only the shared state, so a publisher dropped without `stop()`
    /// still ends its thread.
    deinit {
        stop()
    }

    /// Starts the writer thread (idempotent). It connects at once and keeps retrying.
    public func start() {
        let shouldStart = shared.locked { s -> Bool in
            guard !s.started else { return false }
            s.started = true
            return true
        }
        guard shouldStart else { return }
        // The writer is created on its thread and never leaves it.
        let (configuration, scripts, logger, shared) = (configuration, scripts, logger, shared)
        let thread = Thread {
            Writer(configuration: configuration, scripts: scripts, logger: logger, shared: shared).run()
        }
        thread.name = "redis-publisher"
        thread.start()
        if let sentinel = configuration.sentinel, !sentinel.sentinels.isEmpty {
            let url = configuration.url
            let watcher = Thread {
                SentinelWatcher(configuration: sentinel, dataURL: url, shared: shared, logger: logger).run()
            }
            watcher.name = "redis-sentinel-watch"
            watcher.start()
        }
    }

    /// Starts the writer and returns when it has stopped (ServiceLifecycle-friendly); task
    /// cancellation stops it. Call `flush` first for a graceful shutdown.
    public func run() async {
        start()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = shared.locked { s -> Bool in
                    if s.finished { return true }
                    s.runWaiters.append(continuation)
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            stop()
        }
    }

    /// Queues the complete new state of `record.key`. Never blocks on Redis; a value not yet
    /// written is replaced by this one (latest wins).
    public func publish(_ record: Record) {
        let nanos = MonotonicClock.nanos()
        shared.locked { s in
            s.pending.add(record, nanos: nanos)
            s.signalWriterIfWaiting()
        }
    }

    /// Queues a worker event (JSON text) for `PUBLISH P:events`. When the bounded queue is
    /// full the event is dropped and counted in `stats.eventsDropped`.
    public func publishEvent(_ json: String) {
        shared.locked { s in
            if s.pending.addEvent(json) { s.signalWriterIfWaiting() }
        }
    }

    /// Replaces the worker status hash `P:worker:ID` with `fields` and sets its TTL, in one
    /// MULTI/EXEC (fields not given are removed; empty values count as unknown, so absent).
    /// Only the latest call not yet written matters.
    public func setStatus(_ fields: [(String, String)], ttl: Duration) {
        let known = fields.filter { !$0.1.isEmpty }
        shared.locked { s in
            s.status = PendingStatus(fields: known, ttlMs: max(1, ttl.milliseconds))
            s.signalWriterIfWaiting()
        }
    }

    /// Runs staleness.lua: flags keys of `P:updated` older than `thresholdMs` (by Redis'
    /// clock) as stale and un-flags those that are fresh again. Throws `.notConnected` at
    /// once while Redis is unreachable, so a failover decision is never held up by Redis.
    public func checkStaleness(thresholdMs: Int64) async throws -> StalenessChange {
        try await withCheckedThrowingContinuation { continuation in
            let failure = shared.locked { s -> RedisError? in
                if s.stopping || s.finished { return RedisError(.stopped, "the publisher is stopped") }
                guard s.stats.connected else { return RedisError(.notConnected, "Redis is not connected") }
                s.stalenessRequests.append(StalenessRequest(thresholdMs: thresholdMs, continuation: continuation))
                s.signalWriterIfWaiting()
                return nil
            }
            if let failure { continuation.resume(throwing: failure) }
        }
    }

    /// `worker.group`: the owner token every data write carries from now on (the fence), or
    /// nil when this worker does not hold the lease. Changing it drops the data writes still
    /// pending (they were meant for the old term) and makes the writer forget what it wrote,
    /// so nothing of an old term is ever written again.
    public func setFenceToken(_ token: String?) {
        shared.locked { s in
            guard s.fenceToken != token else { return }
            s.fenceToken = token
            s.fenceGeneration &+= 1
            let dropped = s.pending.takeRecords(limit: Int.max).count
            s.stats.fencedWrites += UInt64(dropped)
            s.signalWriterIfWaiting()
        }
    }

    /// `worker.group`: Redis refused a write carrying the current token (`FENCED`): the lease
    /// key holds another token or none, so this worker no longer holds the lease. Refusals of
    /// writes sent under an earlier token do not count.
    public var refusedByFence: Bool {
        shared.locked { s in s.fenceToken != nil && s.fenceRefusedGeneration == s.fenceGeneration }
    }

    /// Runs lua/lease.lua on the group's lease key (`configuration.leaseKey`): `acquire`
    /// (SET NX PX), `renew` or `release` (both only with the owner `token`). Throws
    /// `.notConnected` at once while Redis is unreachable, and `.server` for an error reply.
    public func lease(_ request: LeaseStateMachine.Request, token: String, ttlMs: Int64) async throws -> LeaseReply {
        guard configuration.leaseKey != nil else { throw RedisError(.unexpectedReply, "no worker.group: there is no lease key") }
        return try await withCheckedThrowingContinuation { continuation in
            let failure = shared.locked { s -> RedisError? in
                if s.stopping || s.finished { return RedisError(.stopped, "the publisher is stopped") }
                guard s.stats.connected else { return RedisError(.notConnected, "Redis is not connected") }
                s.leaseRequests.append(LeaseRequest(request: request, token: token, ttlMs: max(1, ttlMs), continuation: continuation))
                s.signalWriterIfWaiting()
                return nil
            }
            if let failure { continuation.resume(throwing: failure) }
        }
    }

    /// Waits until everything queued so far is written (true), or `timeout` passes (false),
    /// e.g. Redis is down at shutdown. Cancelling the calling task ends the wait at once (false).
    public func flush(timeout: Duration) async -> Bool {
        let id = shared.locked { s -> UInt64 in
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
        let shared = self.shared
        return await withTaskGroup(of: Void.self) { group in
            let flushed = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let idle = shared.locked { s -> Bool in
                    if s.isIdle || s.finished { return true }
                    s.flushWaiters[id] = continuation
                    return false
                }
                if idle {
                    continuation.resume(returning: shared.locked { $0.isIdle })
                    return
                }
                // The deadline, a child task started once the waiter is registered: it answers
                // false unless the writer answered first; cancelled when the flush is answered.
                group.addTask {
                    try? await Task.sleep(for: timeout)
                    let expired = shared.locked { $0.flushWaiters.removeValue(forKey: id) }
                    expired?.resume(returning: false)
                }
            }
            group.cancelAll()
            return flushed
        }
    }

    /// Stops the writer after the round trip in flight; what is still pending is not written
    /// (call `flush` first). Pending staleness checks fail with `.stopped`.
    public func stop() {
        shared.locked { s in
            s.stopping = true
            s.broadcast()
        }
    }

    /// A snapshot of the counters.
    public var stats: PublisherStats {
        shared.locked { s in
            var stats = s.stats
            stats.coalesced = s.pending.coalesced
            stats.eventsDropped = s.pending.eventsDropped
            stats.pendingKeys = s.pending.recordCount
            stats.pendingEvents = s.pending.eventCount
            return stats
        }
    }
}
