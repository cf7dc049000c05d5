import IBSession
import MarketModel
import TWSProtocol

extension Worker {
    /// A keep-alive snapshot of a quiet line (`WorkerCore.keepAlive` decides which): the
    /// answer is merged and written, which refreshes `updated_ms` and the key's TTL. Only
    /// values confirm: an acknowledgement (81) or an empty snapshot leaves the key to go stale
    /// and expire, as it should.
    func keepAlive(_ id: SubscriptionID, _ contract: Contract) async {
        defer { feed(.keepAliveEnded(id)) }
        guard let messages = try? await session.snapshot(contract, timeout: configuration.probeTimeout),
            messages.contains(where: \.carriesMarketData), book.contains(id)
        else { return }
        for message in messages {
            if let tick = Tick(message) { _ = book.apply(tick, to: id) }
        }
        book.lastIBDataMs[id] = monoMs()
        writeIB(id, nowMs: nowMs())
    }
}
