import Logging
import MarketModel

extension Writer {
    /// Which reply belongs to what.
    enum Slot {
        case record(Int)
        case event(Int)
        /// EVALSHA status.lua: 1.
        case status
        case staleness(Int)
        case lease(Int)
    }

    /// What became of each part of a batch.
    struct Outcome {
        /// `fenced`: refused by the lease fence (worker.group), dropped and counted apart.
        enum State: UInt8 { case unanswered, done, retry, failed, fenced }
        var records: [State]
        var events: [State]
        var status: State = .unanswered
        var staleness: [Result<StalenessChange, RedisError>?]
        var leases: [Result<LeaseReply, RedisError>?]
        var needsReload = false
        /// A write hit a replica (`READONLY`): the primary moved; writes are retried on the
        /// primary the sentinels name next.
        var readOnly: String?
        var failure: RedisError?
        /// The first transient refusal (READONLY, OOM, ...) in this batch.
        var refusal: WriteRefusal?
        /// Refusals by error class, for the stats.
        var refusals: [String: UInt64] = [:]
        /// Some write of this batch was accepted.
        var accepted = false
        /// The last data write refused with an error no retry can fix (`WRONGTYPE ...`).
        var rejection: String?

        mutating func refused(_ error: String) -> WriteRefusal {
            let r = WriteRefusal(reply: error)
            refusals[r.errorClass, default: 0] += 1
            if refusal == nil, r.isTransient { refusal = r }
            return r
        }

        init(_ batch: Batch, failure: RedisError? = nil) {
            records = Array(repeating: .unanswered, count: batch.records.count)
            events = Array(repeating: .unanswered, count: batch.events.count)
            staleness = Array(repeating: nil, count: batch.staleness.count)
            leases = Array(repeating: nil, count: batch.leases.count)
            self.failure = failure
        }
    }

    /// A batch on the wire, with what each of its replies belongs to.
    struct InFlight {
        var batch: Batch
        var slots: [Slot]
    }

    /// Encodes the batch and writes it to the socket without waiting for replies. nil when
    /// the connection failed (the batch is then settled, to be retried after reconnecting).
    func send(_ batch: Batch) -> InFlight? {
        guard let connection, let digests else {
            settle(batch, Outcome(batch, failure: RedisError(.notConnected, "Redis is not connected")))
            return nil
        }
        buffer.removeAll()
        var slots: [Slot] = []
        slots.reserveCapacity(batch.records.count + batch.events.count + 5 + batch.staleness.count)
        let wallNowMs = configuration.wallClockMs()
        let fence = leaseKey.map { ($0, batch.fenceToken ?? "") }
        for (i, pending) in batch.records.enumerated() {
            encodePublish(pending.record, sha: digests.publish, wallNowMs: wallNowMs, fence: fence)
            slots.append(.record(i))
        }
        for (i, event) in batch.events.enumerated() {
            buffer.beginCommand(argumentCount: 3)
            buffer.argument("PUBLISH")
            buffer.argument(eventsKey)
            buffer.argument(event)
            slots.append(.event(i))
        }
        if let status = batch.status {
            encodeStatus(status, sha: digests.status)
            slots.append(.status)
        }
        for (i, request) in batch.staleness.enumerated() {
            stalenessThresholdMs = request.thresholdMs
            buffer.beginCommand(argumentCount: fence == nil ? 7 : 9)
            buffer.argument("EVALSHA")
            buffer.argument(digests.staleness)
            buffer.argument(fence == nil ? 2 : 3)
            buffer.argument(updatedKey)
            buffer.argument(staleKey)
            if let (leaseKey, _) = fence { buffer.argument(leaseKey) }
            buffer.argument(request.thresholdMs)
            buffer.argument(prefixWithSeparator)
            if let (_, token) = fence { buffer.argument(token) }
            slots.append(.staleness(i))
        }
        if let leaseKey {
            for (i, request) in batch.leases.enumerated() {
                // lua/lease.lua: EVALSHA sha 1 <lease key> <op> <token> <ttl ms>
                buffer.beginCommand(argumentCount: 7)
                buffer.argument("EVALSHA")
                buffer.argument(digests.lease)
                buffer.argument(1)
                buffer.argument(leaseKey)
                buffer.argument(request.request.rawValue)
                buffer.argument(request.token)
                buffer.argument(request.ttlMs)
                slots.append(.lease(i))
            }
        }
        do throws(RedisError) {
            try connection.append(buffer)
            try connection.flush()
        } catch {
            connectionLost(error)
            settle(batch, Outcome(batch, failure: error))
            return nil
        }
        return InFlight(batch: batch, slots: slots)
    }

    /// Reads the batch's replies and settles it. Returns true when Redis did not know a
    /// script (NOSCRIPT): the caller reloads the scripts once nothing else is on the wire.
    func receive(_ flight: InFlight) -> Bool {
        var outcome = Outcome(flight.batch)
        if let connection {
            do throws(RedisError) {
                for slot in flight.slots {
                    record(try connection.readReply(), for: slot, in: &outcome)
                }
            } catch {
                outcome.failure = error
                connectionLost(error)
            }
        } else {
            outcome.failure = RedisError(.notConnected, "the connection to Redis was lost")
        }
        if let readOnly = outcome.readOnly, outcome.failure == nil {
            connectionLost(RedisError(.readOnly, readOnly))
        }
        settle(flight.batch, outcome)
        return outcome.needsReload && outcome.failure == nil && outcome.readOnly == nil
    }

    /// SCRIPT LOAD again after NOSCRIPT (Redis restarted without us noticing, or SCRIPT FLUSH).
    func reloadScripts() {
        guard let connection else { return }
        do throws(RedisError) {
            digests = try scripts.load(into: connection)
            shared.locked { $0.stats.scriptReloads += 1 }
            logger.notice("Redis did not know the Lua scripts (restart or SCRIPT FLUSH); reloaded them")
        } catch {
            connectionLost(error)
        }
    }

    private func record(_ reply: RedisReply, for slot: Slot, in outcome: inout Outcome) {
        let error: String? = if case .error(let message) = reply { message } else { nil }
        if let error, error.hasPrefix("FENCED") {
            // The lease key holds another token (or none): this worker's term is over. The
            // write is dropped, never retried; the worker learns it from `fencedWrites`.
            switch slot {
            case .record(let i): outcome.records[i] = .fenced
            case .staleness(let i): outcome.staleness[i] = .failure(RedisError(.fenced, error))
            default: break
            }
            return
        }
        var noScript = error?.hasPrefix("NOSCRIPT") ?? false
        if noScript { outcome.needsReload = true }
        if let error, error.hasPrefix("READONLY"), configuration.sentinel != nil {
            // Behind Sentinel: the node is no longer the primary. Retried like NOSCRIPT after
            // asking the sentinels again. Without Sentinel there is nothing to rediscover: the
            // refusal path below keeps the values and retries with a pause.
            if outcome.readOnly == nil { outcome.readOnly = error }
            _ = outcome.refused(error)
            noScript = true
            if case .status = slot { return }  // written again on the primary
        }
        switch slot {
        case .record(let i):
            if let error, !noScript {
                // A transient refusal keeps the value for a retry (latest per key); the writer
                // logs the refusal once per change, not per write.
                let refusal = outcome.refused(error)
                outcome.records[i] = refusal.isTransient ? .retry : .failed
                if !refusal.isTransient {
                    outcome.rejection = error
                    logger.error("Redis refused a data write; the value is dropped", metadata: ["error": "\(error)"])
                }
            } else {
                outcome.records[i] = error == nil ? .done : .retry
                if error == nil { outcome.accepted = true }
            }
        case .event(let i):
            outcome.events[i] = error == nil ? .done : noScript ? .unanswered : .failed
        case .status:
            if noScript { return }  // unanswered: written again after the reload
            if let error {
                // A transient refusal (READONLY, NOPERM, ...) keeps the status for the next try,
                // unless a newer one is waiting by then.
                outcome.status = outcome.refused(error).isTransient ? .retry : .failed
            } else {
                outcome.status = .done
                outcome.accepted = true
            }
        case .staleness(let i):
            if noScript { return }  // retried after the reload
            if let error {
                let refusal = outcome.refused(error)
                outcome.staleness[i] = .failure(RedisError(.server, refusal.description))
            } else {
                do throws(RedisError) {
                    outcome.staleness[i] = .success(try StalenessChange(reply: reply))
                } catch {
                    outcome.staleness[i] = .failure(error)
                }
            }
        case .lease(let i):
            if noScript { return }  // retried after the reload
            if let error {
                let refusal = outcome.refused(error)
                outcome.leases[i] = .failure(RedisError(.server, refusal.description))
            } else {
                do throws(RedisError) {
                    outcome.leases[i] = .success(try LeaseReply(reply: reply))
                } catch {
                    outcome.leases[i] = .failure(error)
                }
            }
        }
    }

    /// Updates the backlog and the stats, then answers waiters outside the lock. Writes that
    /// got no answer (connection lost) or hit NOSCRIPT go back into the backlog unless a newer
    /// value of the same key is already waiting.
    private func settle(_ batch: Batch, _ outcome: Outcome) {
        let now = MonotonicClock.nanos()
        var retryRecords: [PendingRecord] = []
        var retryEvents: [String] = []
        var written: UInt64 = 0
        var failed: UInt64 = 0
        var fenced: UInt64 = 0
        for (i, state) in outcome.records.enumerated() {
            switch state {
            case .done:
                written += 1
                self.written.remember(batch.records[i].record, writtenNanos: now, ttl: configuration.ttl(for:))
            case .failed: failed += 1
            case .fenced: fenced += 1
            case .unanswered, .retry: retryRecords.append(batch.records[i])
            }
        }
        for (i, state) in outcome.events.enumerated() where state == .unanswered {
            retryEvents.append(batch.events[i])
        }
        let eventsPublished = UInt64(outcome.events.lazy.filter { $0 == .done }.count)
        var answers: [(StalenessRequest, Result<StalenessChange, RedisError>)] = []
        var retryStaleness: [StalenessRequest] = []
        for (i, request) in batch.staleness.enumerated() {
            if let result = outcome.staleness[i] {
                answers.append((request, result))
            } else if outcome.failure == nil {
                retryStaleness.append(request)  // NOSCRIPT: run again with the reloaded script
            } else {
                answers.append((request, .failure(RedisError(.notConnected, "the connection to Redis was lost: \(outcome.failure!.message)"))))
            }
        }
        var leaseAnswers: [(LeaseRequest, Result<LeaseReply, RedisError>)] = []
        var retryLeases: [LeaseRequest] = []
        for (i, request) in batch.leases.enumerated() {
            if let result = outcome.leases[i] {
                leaseAnswers.append((request, result))
            } else if outcome.failure == nil, leaseKey != nil {
                retryLeases.append(request)  // NOSCRIPT: run again with the reloaded script
            } else {
                let reason = outcome.failure?.message ?? "no lease key configured"
                leaseAnswers.append((request, .failure(RedisError(.notConnected, "the connection to Redis was lost: \(reason)"))))
            }
        }
        if fenced > 0, !loggedFence {
            loggedFence = true
            logger.warning("Redis refused data writes: this worker no longer holds the group's lease (fence)", metadata: [
                "lease_key": "\(leaseKey ?? "")", "refused": "\(fenced)",
            ])
        }

        let flushWaiters = shared.locked { s -> [CheckedContinuation<Bool, Never>] in
            s.inFlight -= 1
            if outcome.failure == nil { s.stats.batches += 1 }
            s.stats.writes += written
            s.stats.writeErrors += failed
            if let rejection = outcome.rejection { s.stats.lastRejection = rejection }
            s.stats.fencedWrites += fenced
            if fenced > 0, batch.fenceGeneration == s.fenceGeneration { s.fenceRefusedGeneration = s.fenceGeneration }
            s.stats.eventsPublished += eventsPublished
            for (i, state) in outcome.records.enumerated() where state == .done {
                let enqueued = batch.records[i].enqueuedNanos
                s.stats.latency.record(nanos: now > enqueued ? now - enqueued : 0)
            }
            s.pending.restore(retryRecords)
            s.pending.restoreEvents(retryEvents)
            if let status = batch.status {
                if outcome.status == .done {
                    s.stats.statusWrites += 1
                } else if outcome.status == .unanswered || outcome.status == .retry, s.status == nil {
                    s.status = status
                }
            }
            s.stalenessRequests.insert(contentsOf: retryStaleness, at: 0)
            s.leaseRequests.insert(contentsOf: retryLeases, at: 0)
            for (errorClass, n) in outcome.refusals { s.stats.refusedWrites[errorClass, default: 0] += n }
            if let refusal = outcome.refusal {
                s.stats.writeRefusal = refusal
                s.stats.lastError = refusal.description
            } else if outcome.accepted {
                s.stats.writeRefusal = nil
            }
            return s.takeFlushWaitersIfIdle()
        }
        noteRefusal(outcome)
        for (request, result) in answers {
            request.continuation.resume(with: result.mapError { $0 as any Error })
        }
        for (request, result) in leaseAnswers {
            request.continuation.resume(with: result.mapError { $0 as any Error })
        }
        for waiter in flushWaiters { waiter.resume(returning: true) }
    }

    /// EVALSHA publish.lua with the argument layout documented at the top of the script.
    /// `fence`: the lease key and token (worker.group): KEYS[4] and the last argument.
    private func encodePublish(_ record: Record, sha: String, wallNowMs: Int64, fence: (key: String, token: String)?) {
        let key = configuration.prefixed(record.key)
        let tracked = record.kind != .chain
        // `seq` and `stale` belong to the scripts; a producer's copy would be overwritten anyway.
        let fieldCount = record.fields.count - record.fields.lazy.filter { $0.name == "seq" || $0.name == "stale" }.count
        buffer.beginCommand(argumentCount: 16 + 2 * fieldCount + (fence == nil ? 0 : 2))
        buffer.argument("EVALSHA")
        buffer.argument(sha)
        buffer.argument(fence == nil ? 3 : 4)
        buffer.argument(key)
        buffer.argument(updatedKey)
        buffer.argument(streamKey)
        if let fence { buffer.argument(fence.key) }
        buffer.argument(tracked ? record.key : "")
        buffer.argument(record.updatedMs)
        buffer.argument(max(1, configuration.ttl(for: record.kind).milliseconds))
        PayloadEncoder.encode(record, prefixedKey: key, into: &payload)
        buffer.argument(bytes: payload)
        buffer.argument(configuration.streamEnabled ? max(1, configuration.streamMaxLen) : 0)
        // age_ms, so the freshness index is scored on Redis' clock (lua/publish.lua).
        let ageMs = tracked ? max(0, wallNowMs - record.updatedMs) : 0
        buffer.argument(ageMs)
        buffer.argument("stale")
        // Values older than the staleness threshold are stale when written (lua/publish.lua).
        buffer.argument(tracked && stalenessThresholdMs.map { ageMs > $0 } == true ? "1" : "0")
        buffer.argument("seq")
        buffer.argument("0")
        for field in record.fields where field.name != "seq" && field.name != "stale" {
            buffer.argument(field.name)
            buffer.argument(field.value)
        }
        if let fence { buffer.argument(fence.token) }
    }

    /// `EVALSHA status.lua 1 P:worker:ID ttl_ms name value ...`: the status hash is replaced
    /// as a whole (fields no longer known disappear), never exists without its TTL, and is
    /// written even when Redis is out of memory (the script's `allow-oom` flag).
    private func encodeStatus(_ status: PendingStatus, sha: String) {
        buffer.beginCommand(argumentCount: 5 + 2 * status.fields.count)
        buffer.argument("EVALSHA")
        buffer.argument(sha)
        buffer.argument(1)
        buffer.argument(statusKey)
        buffer.argument(status.ttlMs)
        for (name, value) in status.fields {
            buffer.argument(name)
            buffer.argument(value)
        }
    }
}
