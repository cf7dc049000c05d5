import AlphaVantage
import Foundation
import MarketModel
import Relay
import Simulators
import Testing

/// Issue 13 §5, FX: with `alphavantage.fx` on, an FX pair IB cannot deliver is served from
/// Alpha Vantage's CURRENCY_EXCHANGE_RATE under its own key (IB Gateway simulator over TCP,
/// Alpha Vantage simulator over HTTP, a real redis-server); off, its key is flagged stale with
/// the reason and never filled with another instrument.
@Suite(.serialized)
struct FXFailoverIntegrationTests {
    static let eurUsd = SymbolSpec(symbol: "EUR", secType: .cash, exchange: "IDEALPRO", currency: "USD")

    static func options(fx: Bool) -> WorkerHarness.Options {
        var o = WorkerHarness.Options()
        o.symbols = [eurUsd, SymbolSpec(symbol: "AAPL")]
        o.quickFailover()
        o.alphaVantageFX = fx
        return o
    }

    /// The rate, bid and ask of the simulator's last CURRENCY_EXCHANGE_RATE answer, as text.
    static func served(_ sim: AlphaVantageSimulator) -> (rate: String, bid: String, ask: String)? {
        guard let body = sim.stats.lastBody, body.contains("Realtime Currency Exchange Rate"),
            let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            let fields = object["Realtime Currency Exchange Rate"] as? [String: String],
            fields["1. From_Currency Code"] == "EUR", fields["3. To_Currency Code"] == "USD",
            let rate = fields["5. Exchange Rate"].flatMap(Double.init), let bid = fields["8. Bid Price"].flatMap(Double.init),
            let ask = fields["9. Ask Price"].flatMap(Double.init)
        else { return nil }
        guard let r = DecimalFormat.string(rate), let b = DecimalFormat.string(bid), let a = DecimalFormat.string(ask) else { return nil }
        return (r, b, a)
    }

    @Test func eurUsdFailsOverToAlphaVantageFXAndBack() async throws {
        let h = try await WorkerHarness.start(Self.options(fx: true))
        let av = try #require(h.av)
        // Generous first waits: CI starts every suite at once on two cores.
        #expect(await h.wait(.seconds(30)) { h.hash("quote:EUR.USD")["bid"] != nil && h.hash("quote:AAPL")["bid"] != nil })
        let ib = h.hash("quote:EUR.USD")
        #expect(ib["source"] == "ib" && ib["last"] == nil)
        let conId = try #require(ib["con_id"])

        #expect(await h.ib.control("stall").hasPrefix("OK"))
        #expect(await h.wait(.seconds(20)) { h.hash("quote:EUR.USD")["source"] == "alphavantage" })
        let q = h.hash("quote:EUR.USD")
        #expect(q["symbol"] == "EUR.USD" && q["sec_type"] == "CASH" && q["currency"] == "USD" && q["local_symbol"] == "EUR.USD")
        #expect(q["con_id"] == conId, "the same pair IB quoted")
        #expect(q["data_type"] == "alphavantage_realtime" && q["stale"] == "0")
        #expect(q["volume"] == nil && q["bid_size"] == nil && q["ask_size"] == nil, "Alpha Vantage sends no sizes or volume for FX")
        #expect(q["last_trade_ms"] != nil)
        let bid = try #require(Double(q["bid"] ?? "")), ask = try #require(Double(q["ask"] ?? "")), last = try #require(Double(q["last"] ?? ""))
        #expect(bid < ask && bid <= last && last <= ask && abs(last - 1.085) < 0.01)
        // The key holds exactly what Alpha Vantage served (polled continuously: compare the
        // hash with the latest answer until they are seen together).
        let same = await h.wait(.seconds(5)) {
            guard let s = Self.served(av) else { return false }
            let now = h.hash("quote:EUR.USD")
            return now["last"] == s.rate && now["bid"] == s.bid && now["ask"] == s.ask
        }
        #expect(same, "quote:EUR.USD \(h.hash("quote:EUR.USD")) vs served \(String(describing: Self.served(av)))")
        #expect((av.stats.byFunction["CURRENCY_EXCHANGE_RATE"] ?? 0) > 0)
        // The stock fails over beside it, in the same poller's round (its turn may come later).
        #expect(await h.wait(.seconds(15)) { h.hash("quote:AAPL")["source"] == "alphavantage" })
        #expect(await h.wait(.seconds(10)) {
            let status = h.status()
            return status["state"] == "failover" && (status["symbols_failover"] ?? "").contains("EUR.USD")
        })
        let status = h.status()
        #expect(status["symbols_stale_no_fallback"] == nil)

        #expect(await h.ib.control("resume").hasPrefix("OK"))
        #expect(await h.wait(.seconds(15)) { h.hash("quote:EUR.USD")["source"] == "ib" })
        let back = h.hash("quote:EUR.USD")
        #expect(back["last"] == nil && back["data_type"] == "live", "IB's record again: no last on IDEALPRO")
        #expect(back["bid_size"] != nil)
        try await h.stop()
    }

    @Test func withoutTheFXSwitchTheKeyIsFlaggedStaleWithTheReason() async throws {
        let h = try await WorkerHarness.start(Self.options(fx: false))
        let av = try #require(h.av)
        // Generous first waits: CI starts every suite at once on two cores.
        #expect(await h.wait(.seconds(30)) { h.hash("quote:EUR.USD")["bid"] != nil && h.hash("quote:AAPL")["bid"] != nil })
        #expect(await h.ib.control("stall").hasPrefix("OK"))
        #expect(await h.wait(.seconds(20)) { h.hash("quote:AAPL")["source"] == "alphavantage" })
        #expect(await h.wait(.seconds(8)) { h.hash("quote:EUR.USD")["stale"] == "1" })
        let q = h.hash("quote:EUR.USD")
        #expect(q["source"] == "ib" && q["last"] == nil && q["data_type"] == "live", "IB's last values, flagged stale, nothing else")
        #expect(await h.wait(.seconds(5)) { (h.status()["symbols_stale_no_fallback"] ?? "").contains("EUR.USD") })
        #expect((h.status()["symbols_stale_no_fallback"] ?? "").contains("alphavantage.fx"))
        #expect(av.stats.byFunction["CURRENCY_EXCHANGE_RATE"] == nil, "the FX endpoint is not called")
        try await h.stop()
    }
}
