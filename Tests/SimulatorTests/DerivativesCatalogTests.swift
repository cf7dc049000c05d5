import Testing
import TWSProtocol
@testable import Simulators

/// The simulated gateway's indexes, futures, FOP and FX as IB answers for them.
@Suite struct DerivativesCatalogTests {
    @Test func spxAnswersTwoClassesOnTwoExchangesAndESItsFOPClassesOnCME() throws {
        var h = EngineHarness()
        let (id, _) = h.connect(clientId: 1)
        let spx = h.send(.reqSecDefOptParams(reqId: 1, underlyingSymbol: "SPX", futFopExchange: "", underlyingSecType: "IND", underlyingConId: 416_904), from: id)
        let params = spx.compactMap { if case .optionParameters(let p) = $0 { p } else { nil } }
        #expect(Set(params.map { "\($0.tradingClass)@\($0.exchange)" }) == ["SPX@SMART", "SPX@CBOE", "SPXW@SMART", "SPXW@CBOE"])
        #expect(params.allSatisfy { $0.multiplier == "100" && $0.underlyingConId == 416_904 })
        let spxw = try #require(params.first { $0.tradingClass == "SPXW" })
        // Monday 2026-06-01: 0DTE exists, the dailies run Mon-Fri.
        #expect(Array(spxw.expirations.prefix(5)) == ["20260601", "20260602", "20260603", "20260604", "20260605"])
        #expect(params.first { $0.tradingClass == "SPX" }?.expirations.first == "20260619", "SPX monthly: third Friday")
        #expect(spx.last == .optionParametersEnd(reqId: 1))

        let futures = h.send(.reqContractDetails(reqId: 2, contract: Contract(symbol: "ES", secType: "FUT", exchange: "CME"), includeExpired: false), from: id)
        let months = futures.compactMap { if case .contractData(_, let d) = $0 { d } else { nil } }
        #expect(months.map(\.contract.localSymbol) == ["ESM6", "ESU6", "ESZ6", "ESH7"])
        #expect(months.allSatisfy { $0.contract.multiplier == "50" && $0.contract.exchange == "CME" && $0.minTick == 0.25 })
        #expect(months.first?.contract.lastTradeDateOrContractMonth == "20260619" && months.first?.contractMonth == "202606")
        let front = try #require(months.first?.contract)
        let fop = h.send(.reqSecDefOptParams(reqId: 3, underlyingSymbol: "ES", futFopExchange: "CME", underlyingSecType: "FUT", underlyingConId: front.conId), from: id)
        let classes = fop.compactMap { if case .optionParameters(let p) = $0 { p } else { nil } }
        #expect(classes.allSatisfy { $0.exchange == "CME" && $0.multiplier == "50" && $0.underlyingConId == front.conId })
        #expect(classes.first { $0.tradingClass == "ES" }?.expirations == ["20260619"])
        #expect(Set(classes.map(\.tradingClass)).isSuperset(of: ["ES", "EW1", "EW2"]))
        // Another exchange lists no FOP for it.
        let other = h.send(.reqSecDefOptParams(reqId: 4, underlyingSymbol: "ES", futFopExchange: "CBOT", underlyingSecType: "FUT", underlyingConId: front.conId), from: id)
        #expect(other == [.optionParametersEnd(reqId: 4)])
    }

    @Test func indexAndFXTickSetsFollowIB() {
        var h = EngineHarness()
        let (id, _) = h.connect(clientId: 1)
        let index = h.send(.reqMktData(reqId: 5, contract: Contract(symbol: "SPX", secType: "IND", exchange: "CBOE"), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: id)
        let indexTypes = Set(index.compactMap { if case .tickPrice(_, let t, _, _, _) = $0 { t } else { nil } })
        #expect(indexTypes.contains(4) && !indexTypes.contains(1) && !indexTypes.contains(2))
        #expect(!index.contains { if case .tickSize = $0 { true } else { false } }, "no sizes or volume for an index")
        let fx = h.send(.reqMktData(reqId: 6, contract: Contract(symbol: "EUR", secType: "CASH", exchange: "IDEALPRO", currency: "USD"), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: id)
        let fxPrices = Dictionary(fx.compactMap { if case .tickPrice(_, let t, let p, _, _) = $0 { (t, p) } else { nil } }, uniquingKeysWith: { a, _ in a })
        #expect(fxPrices[1] != nil && fxPrices[2] != nil && fxPrices[4] == nil)
        let sizes = Dictionary(fx.compactMap { if case .tickSize(_, let t, let s) = $0 { (t, s) } else { nil } }, uniquingKeysWith: { a, _ in a })
        #expect((sizes[0] ?? 0) ?? 0 >= 1_000_000 && sizes[8] == nil)
        // SMART does not route FX.
        let smart = h.send(.reqMktData(reqId: 7, contract: Contract(symbol: "EUR", secType: "CASH", exchange: "SMART", currency: "USD"), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: id)
        #expect(smart.contains { if case .error(let e) = $0 { e.code == 200 } else { false } })
    }
}
