import Foundation
import IBSession
import MarketModel
import RedisPublisher

extension Worker {
    func statusLoop() async {
        while !Task.isCancelled {
            writeStatus()
            recordPublisherMetrics()
            try? await clock.sleep(for: configuration.statusInterval)
        }
    }

    /// `P:worker:ID` (CONTRACT §3) plus documented extensions: `symbols_failover`,
    /// `problems` (symbols IB cannot serve and why), `lines_left_out`.
    func writeStatus() {
        let s = session.status
        let failover = core.engine.status
        var fields: [(String, String)] = [
            ("state", core.state.rawValue),
            // CONTRACT §3 allows `ib` or `alphavantage`: any symbol on Alpha Vantage makes the
            // worker's source `alphavantage`; `symbols_failover` says which.
            ("source", core.source),
            ("ib_host", configuration.gateway.host),
            ("ib_port", String(configuration.gateway.port)),
            ("client_id", String(s.clientId)),
            // Consecutive failed attempts while not connected; 0 once the session is up (the
            // session keeps its own count longer, until the connection proved healthy, to size
            // the backoff after a flap).
            ("reconnect_attempts", String(s.state.isSessionUp ? 0 : s.reconnectAttempts)),
            ("symbols", order.joined(separator: ",")),
            ("version", configuration.version),
            ("pid", String(getpid())),
            ("updated_ms", String(nowMs())),
        ]
        if let v = s.serverVersion { fields.append(("server_version", String(v))) }
        if let since = s.connectedSinceMs { fields.append(("connected_since_ms", String(since))) }
        if let e = s.lastError, !e.isEmpty { fields.append(("last_error", e)) }
        if let reason = failover.failoverReason { fields.append(("failover_reason", reason)) }
        if let since = failover.failoverSinceMs { fields.append(("failover_since_ms", String(wallMs(fromMono: since)))) }
        if let t = lastTickMs { fields.append(("last_tick_ms", String(t))) }
        if !failedOver.isEmpty { fields.append(("symbols_failover", order.filter { failedOver.contains($0) }.joined(separator: ","))) }
        let problems = order.compactMap { sym in symbols[sym]?.problem.map { "\(sym): \($0)" } }
        if !problems.isEmpty { fields.append(("problems", problems.joined(separator: "; "))) }
        let warnings = order.compactMap { sym in symbols[sym]?.warning.map { "\(sym): \($0)" } }
        if !warnings.isEmpty { fields.append(("warnings", warnings.joined(separator: "; "))) }
        let stranded = order.compactMap { sym in core.noFallback[sym].map { "\(sym): \($0)" } }
        if !stranded.isEmpty { fields.append(("symbols_stale_no_fallback", stranded.joined(separator: "; "))) }
        if let refusal = core.writeRefusal { fields.append(("redis_write_error", refusal.description)) }
        if let leftOut { fields.append(("lines_left_out", leftOut)) }
        if let group = configuration.group {
            // worker.group (README "A standby pair"): this worker's role and who holds the lease.
            fields.append(("group", group))
            fields.append(("role", role.rawValue))
            if let holder = role == .active ? configuration.workerID : leaseHolder { fields.append(("lease_holder", holder)) }
            fields.append(("lease_ttl_ms", String(configuration.leaseTiming.ttlMs)))
        }
        publisher.setStatus(fields, ttl: configuration.gateway.heartbeatInterval * 3)
        metrics.dataSource(failedOver.count == order.count && !order.isEmpty ? "alphavantage" : "ib")
    }

    /// Mirrors the publisher's and the session's counters into metrics (neither knows
    /// swift-metrics; both count on their own threads).
    func recordPublisherMetrics() {
        let stats = publisher.stats
        let last = lastPublisherStats
        if stats.writes > last.writes { metrics.redisWrites.increment(by: Int64(stats.writes - last.writes)) }
        if stats.writeErrors > last.writeErrors { metrics.redisWriteErrors.increment(by: Int64(stats.writeErrors - last.writeErrors)) }
        if stats.reconnects > last.reconnects { metrics.redisReconnects.increment(by: Int64(stats.reconnects - last.reconnects)) }
        if stats.fencedWrites > last.fencedWrites { metrics.redisWritesFenced.increment(by: Int64(stats.fencedWrites - last.fencedWrites)) }
        if stats.eventsDropped > last.eventsDropped { metrics.eventsDropped.increment(by: Int64(stats.eventsDropped - last.eventsDropped)) }
        for (nanos, count) in stats.latency.recorded(since: last.latency) {
            for _ in 0..<count { metrics.redisWriteLatency.recordNanoseconds(Int64(clamping: nanos)) }
        }
        metrics.redisConnected.record(stats.connected ? 1 : 0)
        readiness.setRedisReachable(stats.connected)
        // A transient refusal (READONLY, OOM, ...) at once; a permanent one when it is every
        // write, several intervals in a row (a single key owned by someone else is not that).
        let rejection = writeRejections.observe(stats)
        let refusal = stats.writeRefusal ?? rejection
        readiness.setRedisWriteRefusal(refusal.map { "Redis refuses writes (\($0.errorClass)): \($0.message)" })
        for (errorClass, count) in stats.refusedWrites {
            let before = last.refusedWrites[errorClass] ?? 0
            if count > before { metrics.redisWritesRefused(errorClass: errorClass, count: Int64(count - before)) }
        }
        feed(.publisherRefusal(refusal))
        lastPublisherStats = stats
        let now = session.status
        let before = lastSessionStatus
        if now.skippedMessages > before.skippedMessages { metrics.ibMessagesSkipped(reason: "unknown", count: now.skippedMessages - before.skippedMessages) }
        if now.undecodableMessages > before.undecodableMessages { metrics.ibMessagesSkipped(reason: "undecodable", count: now.undecodableMessages - before.undecodableMessages) }
        if now.droppedTicks > before.droppedTicks { metrics.ibMessagesSkipped(reason: "late", count: now.droppedTicks - before.droppedTicks) }
        if now.pacingDelays > before.pacingDelays { metrics.ibPacingDelays.increment(by: Int64(now.pacingDelays - before.pacingDelays)) }
        lastSessionStatus = now
    }
}

extension Worker {
    /// A monotonic instant of this process, as wall-clock epoch ms (for the status hash).
    func wallMs(fromMono mono: Int64) -> Int64 {
        nowMs() - (monoMs() - mono)
    }
}
