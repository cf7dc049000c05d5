import Essentials
import Logging
import MarketModel

/// One round trip's worth of work, taken from the shared backlog under the lock.
struct Batch {
    var records: [PendingRecord] = []
    var events: [String] = []
    var status: PendingStatus?
    var staleness: [StalenessRequest] = []
    var leases: [LeaseRequest] = []
    /// `worker.group`: the token the data writes carry (nil: unfenced, or nothing to write).
    var fenceToken: String?
    /// `PublisherShared.fenceGeneration` when the batch was taken.
    var fenceGeneration: UInt64 = 0

    var isEmpty: Bool { records.isEmpty && events.isEmpty && status == nil && staleness.isEmpty && leases.isEmpty }
}

/// The publisher's writer thread: owns the connection and does all blocking I/O.
///
/// Lives only on its own thread (created there, never shared), so it needs no locking of its
/// own; it touches `shared` only under its lock.
final class Writer {
    let configuration: PublisherConfiguration
    let scripts: LuaScripts
    let logger: Logger
    let shared: PublisherShared
    let backoff: BackoffPolicy

    var connection: RedisConnection?
    var digests: LuaScripts.Loaded?
    var buffer = RESPBuffer(reservingCapacity: 1 << 20)
    /// Scratch space for one pub/sub payload, reused for every write.
    var payload: [UInt8] = []
    /// Consecutive failed connects; 0 while connected.
    var failedAttempts = 0
    /// What Redis holds as far as we know, to write again when the server changes.
    var written = WrittenRecords()
    /// `run_id` of the server last connected to; a different one means its data is gone.
    var serverRunID: String?
    /// The staleness threshold of the last staleness check (ms), so a value written with an
    /// `updated_ms` already older than it (a key written again after a Redis restart or a
    /// refusal, an old answer) carries `stale=1` at once instead of until the next check.
    var stalenessThresholdMs: Int64?
    /// Consecutive batches with a transient refusal (READONLY, OOM, ...); 0 once Redis accepts
    /// a write again. Drives the pause before retrying, so a refusing server is not spun on.
    var refusalStreak = 0
    /// The refusal last logged, so the log says each change once.
    var loggedRefusal: WriteRefusal?
    /// The fence generation `written` belongs to; a new token means a new term.
    var fenceGeneration: UInt64 = 0
    /// Fenced writes seen in this term were logged once.
    var loggedFence = false

    // Prefixed names, computed once.
    let updatedKey: String
    let streamKey: String
    let staleKey: String
    let eventsKey: String
    let statusKey: String
    let prefixWithSeparator: String
    /// `worker.group`'s lease key, with prefix; nil without a group (no fence).
    let leaseKey: String?

    init(configuration: PublisherConfiguration, scripts: LuaScripts, logger: Logger, shared: PublisherShared) {
        self.configuration = configuration
        self.scripts = scripts
        self.logger = logger
        self.shared = shared
        self.backoff = BackoffPolicy(initial: configuration.reconnectInitialDelay, max: configuration.reconnectMaxDelay)
        updatedKey = configuration.prefixed(Keys.updated)
        streamKey = configuration.prefixed(Keys.stream)
        staleKey = configuration.prefixed(PublisherKeys.stale)
        eventsKey = configuration.prefixed(Keys.events)
        statusKey = configuration.prefixed(Keys.worker(configuration.workerID))
        prefixWithSeparator = configuration.keyPrefix.isEmpty ? "" : configuration.keyPrefix + ":"
        leaseKey = configuration.leaseKey
    }

    /// The loop: take what is pending, send it, and while the server works on it, take and
    /// send the next batch before reading the first one's replies, so preparing a batch in
    /// Swift and executing one in Redis overlap (two batches on the wire at most).
    func run() {
        logger.info("redis publisher started", metadata: ["redis": "\(configuration.url)"])
        var inFlight: InFlight?
        while true {
            if connection == nil {
                // Nothing is in flight here: a lost connection settles everything outstanding.
                guard connect() else {
                    failedAttempts += 1
                    failStalenessRequests(RedisError(.notConnected, "Redis is not connected"))
                    let delay = backoff.delay(forAttempt: failedAttempts, unit: Double.random(in: 0..<1))
                    let nanos = UInt64(max(0, delay.milliseconds)) * 1_000_000
                    guard shared.locked({ $0.sleep(nanos: nanos) }) else { break }
                    continue
                }
            }
            let waitIfIdle = inFlight == nil
            var primaryMoved = false
            let batch: Batch? = shared.locked { s in
                if waitIfIdle {
                    guard s.waitForWork() else { return nil }
                } else if s.stopping || !s.hasWork {
                    return nil
                }
                if s.primaryMoved {
                    // Sentinel moved the primary: nothing more goes to this connection.
                    s.primaryMoved = false
                    primaryMoved = true
                    return nil
                }
                s.inFlight += 1
                if s.fenceGeneration != fenceGeneration {
                    // A new term (lease won or lost): what was written under the old token is
                    // not ours to write again.
                    fenceGeneration = s.fenceGeneration
                    written = WrittenRecords()
                    loggedFence = false
                }
                var batch = Batch(
                    records: s.pending.takeRecords(limit: configuration.maxBatch),
                    events: s.pending.takeEvents(limit: configuration.maxBatch),
                    status: s.status.take(),
                    staleness: s.stalenessRequests.drain(),
                    leases: s.leaseRequests.drain(),
                    fenceToken: s.fenceToken,
                    fenceGeneration: s.fenceGeneration
                )
                if leaseKey != nil, s.fenceToken == nil, !batch.records.isEmpty {
                    // Standby: data writes are not ours to make.
                    s.stats.fencedWrites += UInt64(batch.records.count)
                    batch.records = []
                }
                return batch
            }
            if primaryMoved {
                if let previous = inFlight { _ = receive(previous) }
                inFlight = nil
                if connection != nil { connectionLost(RedisError(.notConnected, "Sentinel announced a new primary")) }
                continue
            }
            if batch == nil && inFlight == nil { break }  // stopping

            var sent = batch.flatMap { send($0) }
            if let previous = inFlight {
                let needsReload = receive(previous)
                if refusalStreak > 0, connection != nil {
                    // Redis refuses writes: read what is on the wire, then wait before the next
                    // try (50 ms doubling to 2 s); the refused values wait in the backlog.
                    if let next = sent { _ = receive(next); sent = nil }
                    let pause = BackoffPolicy(initial: .milliseconds(50), max: .seconds(2)).cap(forAttempt: refusalStreak)
                    let nanos = UInt64(max(0, pause.milliseconds)) * 1_000_000
                    guard shared.locked({ $0.sleep(nanos: nanos) }) else { inFlight = nil; break }
                }
                if let next = sent, connection == nil || needsReload {
                    // Settle the next batch before anything else is said on this connection:
                    // as failed if the connection died, or read normally before SCRIPT LOAD.
                    _ = receive(next)
                    sent = nil
                }
                if needsReload, connection != nil { reloadScripts() }
            }
            inFlight = sent
        }
        finish()
    }

    /// Connects, loads the scripts and reports the outcome in the stats.
    private func connect() -> Bool {
        do throws(RedisError) {
            let c = if let sentinel = configuration.sentinel, !sentinel.sentinels.isEmpty {
                try Sentinel.connectToPrimary(sentinel, dataURL: configuration.url,
                                              connectTimeout: configuration.connectTimeout, ioTimeout: configuration.ioTimeout)
            } else {
                try RedisConnection(url: configuration.url, connectTimeout: configuration.connectTimeout, ioTimeout: configuration.ioTimeout)
            }
            digests = try scripts.load(into: c)
            connection = c
            noteServer(runID: (try? Self.runID(of: c)) ?? nil)
        } catch {
            connection = nil
            let attempt = failedAttempts + 1
            shared.locked { s in
                s.stats.connected = false
                s.stats.connectFailures += 1
                s.stats.lastError = error.description
            }
            // The first failure of an outage is news; the retries are noise, so they are logged
            // at a lower level, with a periodic reminder.
            if attempt == 1 || attempt % 20 == 0 {
                logger.warning("cannot connect to Redis; retrying with backoff", metadata: [
                    "redis": "\(configuration.url)", "error": "\(error)", "attempt": "\(attempt)",
                ])
            } else {
                logger.debug("Redis connect attempt failed", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
            }
            return false
        }
        let behindSentinel = configuration.sentinel.map { !$0.sentinels.isEmpty } ?? false
        let primary = connection.map { SentinelConfiguration.Address(host: $0.url.host, port: $0.url.port) }
        let reconnected = shared.locked { s -> Bool in
            s.connectedPrimary = behindSentinel ? primary : nil
            s.stats.connected = true
            let again = s.everConnected
            if again { s.stats.reconnects += 1 }
            s.everConnected = true
            return again
        }
        logger.info(reconnected ? "reconnected to Redis" : "connected to Redis", metadata: [
            "redis": "\(connection?.url ?? configuration.url)", "failed_attempts": "\(failedAttempts)",
        ])
        failedAttempts = 0
        return true
    }

    /// Drops a connection that failed mid-conversation; the loop reconnects at once.
    func connectionLost(_ error: RedisError) {
        connection?.close()
        connection = nil
        shared.locked { s in
            s.connectedPrimary = nil
            s.stats.connected = false
            s.stats.lastError = error.description
        }
        logger.warning("lost the connection to Redis; reconnecting", metadata: ["error": "\(error)"])
    }

    /// Counts refusals and logs a change of the refusal state once (entering, changing class,
    /// ending), not every write.
    func noteRefusal(_ outcome: Outcome) {
        if let refusal = outcome.refusal {
            refusalStreak += 1
            if refusal.errorClass != loggedRefusal?.errorClass {
                logger.error("Redis refuses writes; the latest value of every key waits until it accepts them", metadata: [
                    "error_class": "\(refusal.errorClass)", "error": "\(refusal.message)",
                ])
                loggedRefusal = refusal
            }
        } else if outcome.accepted {
            refusalStreak = 0
            if let previous = loggedRefusal {
                logger.notice("Redis accepts writes again", metadata: ["was": "\(previous.errorClass)"])
                loggedRefusal = nil
                restoreLiveKeys(because: "Redis accepts writes again after \(previous.errorClass)")
            }
        }
    }

    func failStalenessRequests(_ error: RedisError) {
        let (requests, leases) = shared.locked { ($0.stalenessRequests.drain(), $0.leaseRequests.drain()) }
        for r in requests { r.continuation.resume(throwing: error) }
        for r in leases { r.continuation.resume(throwing: error) }
    }

    /// The writer is leaving: everyone waiting is answered.
    private func finish() {
        connection?.close()
        connection = nil
        let (requests, flushWaiters, runWaiters) = shared.locked { s in
            s.finished = true
            s.stats.connected = false
            let f = Array(s.flushWaiters.values)
            s.flushWaiters.removeAll()
            return (s.stalenessRequests.drain(), f, s.runWaiters.drain())
        }
        let leases = shared.locked { $0.leaseRequests.drain() }
        let idle = shared.locked { $0.isIdle }
        for r in requests { r.continuation.resume(throwing: RedisError(.stopped, "the publisher stopped")) }
        for r in leases { r.continuation.resume(throwing: RedisError(.stopped, "the publisher stopped")) }
        for w in flushWaiters { w.resume(returning: idle) }
        for w in runWaiters { w.resume() }
        logger.info("redis publisher stopped")
    }
}

/// Keys this module adds to the layout (documented in the README as contract extensions).
public enum PublisherKeys {
    /// `P:stale`: the set of `P:updated` members whose `stale` flag staleness.lua has set, so
    /// keys that became fresh again are found without scanning the index.
    public static let stale = "stale"

    /// `P:group:GROUP:lease` (worker.group): the group's lease, a string holding the active
    /// worker's owner token (`worker.id#random`), with a TTL of `worker.lease_ttl_seconds`.
    public static func lease(group: String) -> String { "group:\(group):lease" }
}

extension Array {
    /// All elements, leaving the array empty.
    mutating func drain() -> [Element] {
        defer { self = [] }
        return self
    }
}
