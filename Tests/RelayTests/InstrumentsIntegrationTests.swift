import Foundation
import MarketModel
import Relay
import Simulators
import Testing
import TWSProtocol

/// Issue 13's "done when": index options with several trading classes, a future with its FOP
/// window, and an FX pair, from the IB Gateway simulator through the worker into a real Redis,
/// each under the key that names it (README "Key grammar") and with the fields IB sent.
@Suite(.serialized)
struct InstrumentsIntegrationTests {
    /// Hash fields of every key matching `pattern`, by key without the prefix.
    func hashes(_ h: WorkerHarness, _ pattern: String) -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        for key in h.keys(pattern) {
            let short = String(key.dropFirst(h.prefix.count + 1))
            out[short] = h.hash(short)
        }
        return out
    }

    func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map(String.init)
    }

    /// No IB sentinel or "not computed" marker reaches Redis.
    func expectClean(_ fields: [String: String], _ key: String) {
        for (field, value) in fields {
            let numeric = value.first.map { $0.isNumber || $0 == "-" } ?? false
            #expect(!value.isEmpty && value != "-1" && value != "-2" && value != "2147483647", "\(key) \(field)=\(value)")
            #expect(!numeric || !value.lowercased().contains("e"), "\(key) \(field)=\(value): plain decimal")
        }
    }

    /// The last value the simulator sent for a computation tick type on the worker's line.
    func sentComputation(_ h: WorkerHarness, _ sub: SubscriptionInfo, _ tickType: Int32) async -> OptionComputation? {
        let sent = await h.ib.sentTicks(clientId: sub.clientId, reqId: sub.reqId)
        guard case .optionComputation(let c)? = sent[tickType]?.last else { return nil }
        return c
    }

    @Test func spxYieldsSPXAndSPXWKeysWithMultipliersExpiriesAndAllFourComputations() async throws {
        var o = WorkerHarness.Options()
        o.symbols = [SymbolSpec(
            symbol: "SPX", secType: .index, exchange: "CBOE", options: .init(expirations: 2, strikesAroundATM: 2))]
        let h = try await WorkerHarness.start(o)
        // 2 classes x 2 expirations x 5 strikes x 2 rights. The index moves, so the windows
        // re-centre; once the keys are there the market is frozen (`rate 0`: no updates, no
        // re-centring, while a line still being added gets its current state, unlike `stall`)
        // and the lines settle. Keys of strikes a window left stay until their TTL, so the
        // lines are what is counted.
        #expect(await h.wait(.seconds(20)) { h.keys("option:SPX:*").count >= 20 && h.keys("option:SPXW:*").count >= 20 })
        #expect(await h.ib.control("rate 0").hasPrefix("OK"))
        func optionLines() async -> [SubscriptionInfo] { await h.ib.subscriptions().filter { $0.clientId == 5 && $0.secType == "OPT" } }
        let deadline = ContinuousClock.now + .seconds(20)
        var lines: [SubscriptionInfo] = []
        while ContinuousClock.now < deadline {
            lines = await optionLines()
            if lines.filter({ $0.tradingClass == "SPX" }).count == 20 && lines.filter({ $0.tradingClass == "SPXW" }).count == 20 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(lines.count == 40, "lines by class: \(Dictionary(grouping: lines, by: { $0.tradingClass ?? "-" }).mapValues(\.count))")
        let quote = h.hash("quote:SPX")
        #expect(quote["sec_type"] == "IND" && quote["last"] != nil && quote["con_id"] == "416904")
        #expect(quote["bid"] == nil && quote["ask"] == nil && quote["volume"] == nil, "IB quotes no bid/ask/volume for an index")
        // Generic ticks 100/101 on the underlying: its options' volume and open interest per right.
        for field in ["option_call_open_interest", "option_put_open_interest", "option_call_volume", "option_put_volume"] {
            #expect(Double(quote[field] ?? "").map { $0 > 0 } == true, "quote:SPX \(field)")
        }
        let chain = h.hash("chain:SPX")
        #expect(chain["trading_classes"] == "SPX,SPXW")
        #expect(chain["trading_class"] == "SPX" && chain["multiplier"] == "100")
        #expect(chain["multiplier:SPX"] == "100" && chain["multiplier:SPXW"] == "100")
        #expect(chain["key_root:SPXW"] == "SPXW")
        let spxExpiries = list(chain["expirations:SPX"])
        let spxwExpiries = list(chain["expirations:SPXW"])
        #expect(spxExpiries.count >= 2 && spxwExpiries.count > spxExpiries.count, "SPXW lists dailies and weeklies")
        #expect(chain["expirations"] == chain["expirations:SPX"])
        // Every option is tagged with its class and multiplier, and its expiry is one of the
        // two nearest of ITS class.
        #expect(await h.wait(.seconds(15)) {
            hashes(h, "option:SPX*").values.allSatisfy { $0["iv"] != nil && $0["bid_iv"] != nil && $0["ask_iv"] != nil }
        })
        for (key, fields) in hashes(h, "option:SPX*") {
            let tradingClass = key.hasPrefix("option:SPXW:") ? "SPXW" : "SPX"
            let nearest = Array((tradingClass == "SPX" ? spxExpiries : spxwExpiries).prefix(2))
            #expect(fields["trading_class"] == tradingClass, "\(key)")
            #expect(fields["multiplier"] == "100", "\(key)")
            #expect(fields["symbol"] == "SPX", "\(key)")
            #expect(nearest.contains(fields["expiry"] ?? ""), "\(key) expiry \(fields["expiry"] ?? "-") not in \(nearest)")
            expectClean(fields, key)
        }
        // The four computation ticks each land in their fields, with the values IB sent.
        // Wait until every line of the windows is open (requests are paced; a window may move).
        #expect(await h.waitAsync(.seconds(10)) { await optionLines().count == 40 })
        try await Task.sleep(for: .milliseconds(800))
        let subs = await optionLines()
        // A re-centre in progress briefly holds one or two lines fewer (cancel before add).
        #expect(subs.count <= 40 && subs.count >= 36, "\(subs.count) option lines")
        var checkedLast = 0
        for sub in subs {
            let root = sub.tradingClass == "SPXW" ? "SPXW" : "SPX"
            let key = Keys.option(root, expiry: sub.expiry ?? "", strike: sub.strike ?? 0, right: OptionRight(text: sub.right ?? "") ?? .call)
            let fields = h.hash(key)
            let bid = await sentComputation(h, sub, 10)
            let ask = await sentComputation(h, sub, 11)
            let last = await sentComputation(h, sub, 12)
            let model = try #require(await sentComputation(h, sub, 13), "\(key): model computation sent")
            #expect(fields["bid_iv"] == bid?.impliedVol.flatMap(DecimalFormat.string), "\(key) bid_iv")
            #expect(fields["ask_iv"] == ask?.impliedVol.flatMap(DecimalFormat.string), "\(key) ask_iv")
            #expect(fields["last_iv"] == last?.impliedVol.flatMap(DecimalFormat.string), "\(key) last_iv")
            if last?.impliedVol != nil { checkedLast += 1 }
            #expect(fields["iv"] == model.impliedVol.flatMap(DecimalFormat.string), "\(key) iv")
            #expect(fields["delta"] == model.delta.flatMap(DecimalFormat.string), "\(key) delta")
            #expect(fields["gamma"] == model.gamma.flatMap(DecimalFormat.string), "\(key) gamma")
            #expect(fields["vega"] == model.vega.flatMap(DecimalFormat.string), "\(key) vega")
            #expect(fields["theta"] == model.theta.flatMap(DecimalFormat.string), "\(key) theta")
            #expect(fields["model_price"] == model.optPrice.flatMap(DecimalFormat.string), "\(key) model_price")
            #expect(fields["und_price"] == model.undPrice.flatMap(DecimalFormat.string), "\(key) und_price")
        }
        #expect(checkedLast > 0, "some options traded, so tick 12 carried an IV")
        try await h.stop()
    }

    @Test func esFrontMonthFutureAndItsFOPWindow() async throws {
        var o = WorkerHarness.Options()
        o.symbols = [SymbolSpec(
            symbol: "ES", secType: .future, exchange: "CME", options: .init(expirations: 1, strikesAroundATM: 1, tradingClasses: ["ES", "EW"]),
            contractMonth: .front(rollDaysBeforeExpiry: 5))]
        let h = try await WorkerHarness.start(o)
        #expect(await h.wait(.seconds(15)) { h.hash("quote:ES.FRONT")["last"] != nil })
        let quote = h.hash("quote:ES.FRONT")
        #expect(quote["sec_type"] == "FUT" && quote["multiplier"] == "50" && quote["symbol"] == "ES.FRONT")
        let month = try #require(quote["contract_month"])
        #expect(month.count == 6 && quote["local_symbol"]?.hasPrefix("ES") == true)
        #expect(quote["bid"] != nil && quote["ask"] != nil && quote["volume"] != nil)
        // Prices on ES's 0.25 grid.
        let last = try #require(Double(quote["last"] ?? ""))
        #expect((last * 4).rounded() == last * 4)
        expectClean(quote, "quote:ES.FRONT")

        #expect(await h.wait(.seconds(15)) { h.hash("chain:ES.FRONT")["trading_classes"] != nil })
        let chain = h.hash("chain:ES.FRONT")
        let classes = list(chain["trading_classes"])
        #expect(classes.first == "ES" && Set(classes).isSubset(of: ["ES", "EW"]))
        #expect(chain["exchange"] == "CME" && chain["multiplier"] == "50" && chain["key_root:ES"] == "ES.\(month)")
        // The quarterly ES class expires with the future: one expiry, 3 strikes, 2 rights.
        #expect(await h.wait(.seconds(15)) { h.keys("option:ES.\(month):*").count >= 6 })
        for (key, fields) in hashes(h, "option:ES.\(month):*") {
            #expect(fields["trading_class"] == "ES" && fields["multiplier"] == "50", "\(key)")
            #expect(fields["expiry"] == chain["expirations:ES"], "\(key)")
            #expect(fields["symbol"] == "ES.FRONT", "\(key)")
            expectClean(fields, key)
        }
        if classes.contains("EW") {
            // At least one whole window (3 strikes x 2 rights); the window follows the future's
            // price, and keys it left keep their TTL, so there may be more.
            #expect(await h.wait(.seconds(10)) { h.keys("option:EW.\(month):*").count >= 6 }, "EW keys: \(h.keys("option:EW*"))")
        }
        #expect(await h.wait(.seconds(10)) { hashes(h, "option:ES.\(month):*").values.allSatisfy { $0["delta"] != nil } })
        try await h.stop()
    }

    @Test func eurUsdOnIdealproHasNoLastOrVolumeAndSizesInEuros() async throws {
        var o = WorkerHarness.Options()
        o.symbols = [SymbolSpec(symbol: "EUR", secType: .cash, exchange: "IDEALPRO", currency: "USD"), SymbolSpec(symbol: "AAPL")]
        let h = try await WorkerHarness.start(o)
        #expect(await h.wait(.seconds(10)) { h.hash("quote:EUR.USD")["bid"] != nil && h.hash("quote:EUR.USD")["ask"] != nil })
        try await Task.sleep(for: .milliseconds(500))
        let q = h.hash("quote:EUR.USD")
        #expect(q["symbol"] == "EUR.USD" && q["sec_type"] == "CASH" && q["currency"] == "USD" && q["local_symbol"] == "EUR.USD")
        #expect(q["last"] == nil && q["last_size"] == nil && q["volume"] == nil, "IDEALPRO sends no last or volume")
        let bid = try #require(Double(q["bid"] ?? "")), ask = try #require(Double(q["ask"] ?? ""))
        #expect(bid > 0.5 && bid < 2 && ask > bid)
        #expect((Double(q["bid_size"] ?? "") ?? 0) >= 1_000_000, "sizes in the base currency")
        expectClean(q, "quote:EUR.USD")
        // The stock beside it keeps CONTRACT §3's record exactly.
        #expect(await h.wait(.seconds(10)) { h.hash("quote:AAPL")["bid"] != nil })
        #expect(h.hash("quote:AAPL")["sec_type"] == nil)
        try await h.stop()
    }
}
