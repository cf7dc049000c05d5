/// The instruments of a benchmark run: the simulator lists them, both targets subscribe to
/// them. Ten well-known tickers (real conIds and price levels) and synthetic ones after.
public enum BenchUniverse {
    static let known = ["AAPL", "MSFT", "SPY", "QQQ", "NVDA", "AMZN", "TSLA", "GOOGL", "META", "IWM"]

    /// `count` distinct symbols: the known ones first, then `XAA`, `XAB`, ...
    public static func symbols(count: Int) -> [String] {
        var result = Array(known.prefix(count))
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        var i = 0
        while result.count < count {
            result.append("X" + String(letters[(i / 26) % 26]) + String(letters[i % 26]))
            i += 1
        }
        return result
    }
}

/// Which system a run measures.
public enum TargetKind: String, Codable, Sendable, CaseIterable {
    case quoteRelay = "quote-relay"
    case peer

    /// Key prefix in Redis: the two never share keys or channels.
    public var prefix: String { self == .quoteRelay ? "qr" : "peer" }
    public var clientId: Int32 { self == .quoteRelay ? 17 : 91 }
}

/// Options subscribed by the worker in the memory measurement: `expirations` nearest expiries
/// x (2 x `strikesAroundATM` + 1) strikes x call/put, per underlying.
public struct OptionLoad: Sendable, Hashable {
    public var underlyings: Int
    public var expirations: Int
    public var strikesAroundATM: Int

    public init(underlyings: Int, expirations: Int, strikesAroundATM: Int) {
        self.underlyings = underlyings
        self.expirations = expirations
        self.strikesAroundATM = strikesAroundATM
    }

    public var optionCount: Int { underlyings * expirations * (2 * strikesAroundATM + 1) * 2 }
}

/// The option-lines scenario (issue 13 §6): SPX (an index with two trading classes, SPX
/// monthly and SPXW weekly/daily) and two stock underlyings, with windows sized so that the
/// worker holds at least 1,000 option lines plus the three underlyings' quotes.
///
/// Lines requested = 2 rights x strikes x (SPX expirations + SPXW expirations + stock
/// expirations per stock): with 25 strikes (12 each side of the money), SPX's 3 listed
/// monthlies, 6 SPXW expirations and 6 for each stock: 2 x 25 x (3 + 6 + 6 + 6) = 1,050. Like
/// IB, the simulator does not list every strike on every expiry (error 200 at qualification,
/// the worker leaves those out), so about 2-3% fewer are live: a little over 1,000.
public struct OptionLinesScenario: Sendable, Hashable {
    /// The index entry (`sec_type: IND`, `exchange: CBOE`) and its options per class.
    public var index = "SPX"
    public var indexExpirations = 6
    /// Expirations the simulator lists for the index's monthly class (SPX: 3 third Fridays),
    /// so the count per class is min(this, `indexExpirations`).
    public var indexMonthlyListed = 3
    public var stocks = ["AAPL", "MSFT"]
    public var stockExpirations = 6
    public var strikesAroundATM = 12

    public init() {}

    public var strikes: Int { 2 * strikesAroundATM + 1 }
    public var lineCount: Int {
        2 * strikes * (min(indexMonthlyListed, indexExpirations) + indexExpirations + stocks.count * stockExpirations)
    }
    /// Streaming lines at the simulator once everything is subscribed: options + underlyings.
    public var expectedLines: Int { lineCount + 1 + stocks.count }

    /// The worker's `symbols:` entries.
    public var yamlSymbols: [String] {
        var lines = [
            "  - symbol: \(index)",
            "    sec_type: IND",
            "    exchange: CBOE",
            "    alphavantage_symbol: none",
            "    options:",
            "      expirations: \(indexExpirations)",
            "      strikes_around_atm: \(strikesAroundATM)",
        ]
        for stock in stocks {
            lines += [
                "  - symbol: \(stock)",
                "    options:",
                "      expirations: \(stockExpirations)",
                "      strikes_around_atm: \(strikesAroundATM)",
            ]
        }
        return lines
    }
}

/// quote-relay's configuration for a benchmark run (CONTRACT §2 keys only). Everything that
/// is not under test is set so that it cannot interfere: no failover during the quiet
/// phases between runs, no stream, a log level that does not log per tick.
public enum WorkerConfig {
    /// Everything but the symbols, ending with `symbols:`. `ttlSeconds` is the quote and
    /// option TTL (the replay sets it long so no keep-alive snapshot lands between replays).
    public static func header(
        comment: String, workerID: String, simPort: Int, redisPort: Int, luaDir: String, httpPort: Int, maxLines: Int,
        ttlSeconds: Int = 300
    ) -> [String] {
        [
            "# \(comment)",
            "worker:",
            "  id: \(workerID)",
            "ib:",
            "  host: 127.0.0.1",
            "  port: \(simPort)",
            "  client_id: \(TargetKind.quoteRelay.clientId)",
            "  market_data_type: live",
            "  max_market_data_lines: \(maxLines)",
            "redis:",
            "  url: redis://127.0.0.1:\(redisPort)/0",
            "  key_prefix: \(TargetKind.quoteRelay.prefix)",
            "  quote_ttl_seconds: \(ttlSeconds)",
            "  option_ttl_seconds: \(ttlSeconds)",
            "  stream:",
            "    enabled: false",
            "  scripts_dir: \(luaDir)",
            "failover:",
            "  max_reconnect_attempts: 1000",
            "  staleness_seconds: 3600",
            "  check_interval_seconds: 5",
            "alphavantage:",
            // A closed loopback port: the benchmark must never leave the machine.
            "  base_url: http://127.0.0.1:9/query",
            "  api_key: bench",
            "http:",
            "  listen: 127.0.0.1:\(httpPort)",
            "log:",
            "  level: warning",
            "  format: text",
            "symbols:",
        ]
    }

    public static func yaml(
        simPort: Int, redisPort: Int, symbols: [String], options: OptionLoad?, luaDir: String, httpPort: Int,
        maxLines: Int, scenario: OptionLinesScenario? = nil
    ) -> String {
        var lines = header(
            comment: "Written by bench-e2e for one benchmark run; see benchmarks/e2e/README.md.", workerID: "bench",
            simPort: simPort, redisPort: redisPort, luaDir: luaDir, httpPort: httpPort, maxLines: maxLines)
        if let scenario {
            return (lines + scenario.yamlSymbols).joined(separator: "\n") + "\n"
        }
        for (i, symbol) in symbols.enumerated() {
            if let options, i < options.underlyings {
                lines += [
                    "  - symbol: \(symbol)",
                    "    options:",
                    "      expirations: \(options.expirations)",
                    "      strikes_around_atm: \(options.strikesAroundATM)",
                ]
            } else {
                lines.append("  - \(symbol)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
