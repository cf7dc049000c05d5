import IBSession
import MarketModel
import TWSProtocol

extension Worker {
    /// Most keep-alive snapshots in flight at once: they share the gateway's request pacing
    /// with subscriptions and probes.
    static let maxKeepAliveSnapshots = 8

    /// IB sends a tick only when a value changes, so a quiet line (an option between trades, any
    /// line while the market is closed) is never written, and its key would expire after its
    /// TTL although the worker is healthy and the value still right. A line quiet for a third
    /// of its key's TTL is therefore confirmed with a snapshot request; the answer is merged
    /// and written, which refreshes `updated_ms` and the TTL. A line whose snapshot gets no
    /// answer is left alone: its key goes stale and expires, as it should.
    func refreshQuietLines(monoMs now: Int64) {
        guard session.status.state.isSessionUp, refreshing.count < Self.maxKeepAliveSnapshots else { return }
        for (id, entry) in book.entries where !refreshing.contains(id) {
            guard refreshing.count < Self.maxKeepAliveSnapshots else { return }
            guard !failedOver.contains(entry.symbol), let contract = book.contracts[id] else { continue }
            let kind: Record.Kind = if case .quote = entry { .quote } else { .option }
            let quietLimit = configuration.publisher.ttl(for: kind) / 3
            guard let last = book.lastConfirmedMs[id], now - last >= Int64(quietLimit.components.seconds * 1000) else { continue }
            refreshing.insert(id)
            book.lastConfirmedMs[id] = now  // the next attempt is a third of the TTL away, answered or not
            Task { await self.keepAlive(id, contract) }
        }
    }

    func keepAlive(_ id: SubscriptionID, _ contract: Contract) async {
        defer { refreshing.remove(id) }
        // Only values confirm: an acknowledgement (81) or an empty snapshot leaves the key to go
        // stale and expire, as it should.
        guard let messages = try? await session.snapshot(contract, timeout: configuration.probeTimeout),
            messages.contains(where: \.carriesMarketData), book.entries[id] != nil
        else { return }
        for message in messages {
            if let tick = Tick(message) { _ = book.apply(tick, to: id) }
        }
        book.lastIBDataMs[id] = monoMs()
        writeIB(id, nowMs: nowMs())
    }
}
