import Testing
@testable import Relay

/// Instrument identity in the configuration (issue 10 §3, issue 13 §1): every entry names one
/// instrument, its key symbol names it unambiguously, and the Alpha Vantage fallback is the
/// same instrument or none.
@Suite("Instrument identity")
struct InstrumentIdentityTests {
    func load(_ yaml: String) -> (specs: [SymbolSpec], problems: [String]) {
        let report = ConfigurationLoader.load(yaml: yaml, environment: [:])
        return (report.configuration?.symbols ?? [], report.problems.map(\.description))
    }

    @Test func aFutureWithoutContractMonthIsRefusedWithTheFix() {
        // Issue 10 §3's input: check-config must exit 2 (a problem) naming the key path.
        let (_, problems) = load("""
            symbols: [{symbol: ES, sec_type: FUT, exchange: CME}, AAPL]
            """)
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("symbols[0].last_trade_date_or_contract_month (from file): sec_type FUT needs the contract") == true)
        #expect(problems.first?.contains("front_month: true") == true)
    }

    @Test func keyGrammarPerSecType() throws {
        let (specs, problems) = load("""
            symbols:
              - AAPL
              - "BRK B"
              - {symbol: SPX, sec_type: IND, exchange: CBOE}
              - {symbol: ES, sec_type: FUT, exchange: CME, last_trade_date_or_contract_month: 202612, multiplier: 50}
              - {symbol: ES, sec_type: FUT, exchange: CME, last_trade_date_or_contract_month: 202703}
              - {symbol: NQ, sec_type: FUT, exchange: CME, front_month: {roll_days_before_expiry: 8}}
              - {symbol: EUR.USD, sec_type: CASH}
              - {symbol: GBP, sec_type: CASH, currency: JPY, exchange: IDEALPRO}
            """)
        #expect(problems == [])
        #expect(specs.map(\.keySymbol) == ["AAPL", "BRK B", "SPX", "ES.202612", "ES.202703", "NQ.FRONT", "EUR.USD", "GBP.JPY"])
        let eur = try #require(specs.first { $0.keySymbol == "EUR.USD" })
        #expect(eur.symbol == "EUR" && eur.currency == "USD" && eur.exchange == "IDEALPRO")
        #expect(specs[3].contractMonth == .fixed("202612") && specs[3].multiplier == "50")
        #expect(specs[5].contractMonth == .front(rollDaysBeforeExpiry: 8))
    }

    @Test func identityProblemsNameTheFix() {
        let (_, problems) = load("""
            symbols:
              - {symbol: SPX, sec_type: IND}
              - {symbol: ES, sec_type: FUT, exchange: SMART, last_trade_date_or_contract_month: 202613}
              - {symbol: CL, sec_type: FUT, exchange: NYMEX, last_trade_date_or_contract_month: 202701, front_month: true}
              - {symbol: AAPL, last_trade_date_or_contract_month: 202612}
              - {symbol: EUR.USD, sec_type: CASH, exchange: SMART}
              - {symbol: USD, sec_type: CASH}
              - {symbol: ES, sec_type: FUT, exchange: CME, front_month: true, multiplier: -5}
            """)
        #expect(problems == [
            "symbols[0].exchange (from file): sec_type IND needs the exchange that publishes the index (CBOE for SPX and VIX, NASDAQ for NDX, RUSSELL for RUT)",
            "symbols[1].last_trade_date_or_contract_month = \"202613\" (from file): must be a contract month YYYYMM (e.g. 202612) or a last trading day YYYYMMDD",
            "symbols[1].exchange = \"SMART\" (from file): sec_type FUT needs the exchange that lists the future (e.g. CME for ES, NYMEX for CL); IB does not route futures through SMART",
            "symbols[2].front_month (from file): set either last_trade_date_or_contract_month or front_month, not both",
            "symbols[3].last_trade_date_or_contract_month (from file): only sec_type FUT has a contract month (this entry is STK)",
            "symbols[4].exchange = \"SMART\" (from file): IB quotes FX pairs on IDEALPRO, not SMART",
            "symbols[5].currency = \"USD\" (from file): an FX pair needs two different currencies",
            "symbols[6].multiplier = \"-5\" (from file): must be a positive number such as 50 (IB's contract multiplier)",
        ])
    }

    @Test func twoEntriesForTheSameKeyAreRefused() {
        let (_, problems) = load("""
            symbols:
              - {symbol: ES, sec_type: FUT, exchange: CME, last_trade_date_or_contract_month: 202612}
              - {symbol: ES, sec_type: FUT, exchange: CME, last_trade_date_or_contract_month: 202612}
            """)
        #expect(problems == ["symbols = \"ES.202612\" (from file): instrument ES.202612 is listed twice (its Redis keys would collide)"])
    }

    @Test func optionWindowByCountOrDaysToExpiryAndClasses() throws {
        let (specs, problems) = load("""
            symbols:
              - {symbol: SPX, sec_type: IND, exchange: CBOE, options: {min_days_to_expiry: 0, max_days_to_expiry: 0, trading_classes: [SPXW], strikes_around_atm: 3}}
              - {symbol: ES, sec_type: FUT, exchange: CME, last_trade_date_or_contract_month: 202612, options: {expirations: 1}}
              - {symbol: QQQ, options: {max_days_to_expiry: 7, expirations: 3}}
            """)
        #expect(problems == [])
        let spx = try #require(specs.first?.options)
        #expect(spx.daysToExpiry == 0...0 && spx.tradingClasses == ["SPXW"] && spx.expirations == 24 && spx.strikesAroundATM == 3)
        #expect(specs[1].options == SymbolSpec.OptionWindow(expirations: 1))
        #expect(specs[2].options?.daysToExpiry == 0...7 && specs[2].options?.expirations == 3)
        let (_, bad) = load("""
            symbols: [{symbol: SPX, sec_type: IND, exchange: CBOE, options: {min_days_to_expiry: 9, max_days_to_expiry: 2}}]
            """)
        #expect(bad == ["symbols[0].options.min_days_to_expiry = \"9\" (from file): is above max_days_to_expiry (2)"])
    }

    @Test func alphaVantageFallbackIsTheSameInstrumentOrNone() {
        let aapl = SymbolSpec(symbol: "AAPL")
        #expect(aapl.alphaVantageFallback(fxEnabled: false) == .globalQuote(symbol: "AAPL"))
        #expect(aapl.alphaVantageOptionsSymbol(fxEnabled: false) == "AAPL")
        #expect(SymbolSpec(symbol: "BRK B").alphaVantageFallback(fxEnabled: false) == .globalQuote(symbol: "BRK.B"))
        // Issue 10 §3: ES at IB is a CME future; GLOBAL_QUOTE ES is a stock. No fallback.
        let es = SymbolSpec(symbol: "ES", secType: .future, exchange: "CME", contractMonth: .fixed("202612"))
        let esFallback = es.alphaVantageFallback(fxEnabled: true)
        #expect(esFallback.unavailableReason?.contains("future ES.202612 has no Alpha Vantage equivalent") == true)
        #expect(es.alphaVantageOptionsSymbol(fxEnabled: true) == nil)
        let spx = SymbolSpec(symbol: "SPX", secType: .index, exchange: "CBOE")
        #expect(spx.alphaVantageFallback(fxEnabled: true).unavailableReason != nil)
        #expect(spx.alphaVantageOptionsSymbol(fxEnabled: true) == nil)
        // Only the user's explicit mapping makes another type fall back.
        var mapped = spx
        mapped.alphaVantageMapping = .symbol("SPXL")
        #expect(mapped.alphaVantageFallback(fxEnabled: false) == .globalQuote(symbol: "SPXL"))
        #expect(mapped.alphaVantageOptionsSymbol(fxEnabled: false) == nil)
        // FX via the FX endpoint only when enabled.
        let eur = SymbolSpec(symbol: "EUR", secType: .cash, exchange: "IDEALPRO", currency: "USD")
        #expect(eur.alphaVantageFallback(fxEnabled: true) == .exchangeRate(from: "EUR", to: "USD"))
        #expect(eur.alphaVantageFallback(fxEnabled: false).unavailableReason?.contains("alphavantage.fx") == true)
        // A stock in another currency is not assumed to be the US listing.
        #expect(SymbolSpec(symbol: "SAP", currency: "EUR").alphaVantageFallback(fxEnabled: false).unavailableReason != nil)
        var off = aapl
        off.alphaVantageMapping = SymbolSpec.AlphaVantageMapping.none
        #expect(off.alphaVantageFallback(fxEnabled: false).unavailableReason == "alphavantage_symbol is none for AAPL")
    }

    @Test func explicitMappingIsReadFromTheFile() {
        let (specs, problems) = load("""
            symbols:
              - {symbol: VIX, sec_type: IND, exchange: CBOE, alphavantage_symbol: none}
              - {symbol: "BRK B", alphavantage_symbol: brk.b}
            """)
        #expect(problems == [])
        #expect(specs.map(\.alphaVantageMapping) == [SymbolSpec.AlphaVantageMapping.none, .symbol("BRK.B")])
    }
}
