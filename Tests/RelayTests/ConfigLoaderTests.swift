import RedisPublisher
import Testing
@testable import Relay

@Suite("Configuration loading and precedence")
struct ConfigLoaderTests {
    static let minimal = "symbols: [AAPL]\n"

    func load(_ yaml: String, env: [String: String] = [:], flags: [String: String] = [:]) -> ConfigurationReport {
        ConfigurationLoader.load(yaml: yaml, environment: env, overrides: flags)
    }

    @Test func defaultsMatchTheContract() throws {
        let report = load(Self.minimal, env: ["ALPHAVANTAGE_API_KEY": "k"])
        #expect(report.problems.isEmpty)
        let c = try #require(report.configuration)
        #expect(c.worker.id == "quote-relay-1")
        #expect(c.ib.host == "127.0.0.1")
        #expect(c.ib.port == 4002)
        #expect(c.ib.clientID == 17)
        #expect(c.ib.clientIDPool == [])
        #expect(c.ib.connectTimeout == .seconds(5))
        #expect(c.ib.heartbeatInterval == .seconds(10))
        #expect(c.ib.marketDataType == .live)
        #expect(c.ib.maxMarketDataLines == 100)
        #expect(c.ib.maxRequestsPerSecond == 40)
        #expect(c.ib.reconnect.initialDelay == .milliseconds(500))
        #expect(c.ib.reconnect.maxDelay == .milliseconds(30_000))
        #expect(c.ib.reconnect.multiplier == 2.0)
        #expect(c.redis.url == RedisURL(host: "127.0.0.1", port: 6379, database: 0))
        #expect(c.redis.keyPrefix == "mkt")
        #expect(c.redis.quoteTTL == .seconds(300))
        #expect(c.redis.optionTTL == .seconds(300))
        #expect(c.redis.chainTTL == .seconds(86_400))
        #expect(c.redis.streamEnabled == false)
        #expect(c.redis.streamMaxLength == 100_000)
        #expect(c.redis.scriptsDirectory == "lua")
        #expect(c.symbols == [SymbolSpec(symbol: "AAPL")])
        #expect(c.failover.maxReconnectAttempts == 5)
        #expect(c.failover.staleness == .seconds(60))
        #expect(c.failover.checkInterval == .seconds(5))
        #expect(c.failover.failbackStable == .seconds(30))
        #expect(c.alphaVantage.baseURL == "https://www.alphavantage.co/query")
        #expect(c.alphaVantage.apiKey == "k")
        #expect(c.alphaVantage.requestsPerMinute == 5)
        #expect(c.alphaVantage.requestsPerDay == 25)
        #expect(c.alphaVantage.entitlement == .none)
        #expect(c.alphaVantage.bulkQuotes == false)
        #expect(c.alphaVantage.options == false)
        #expect(c.http.host == "127.0.0.1")
        #expect(c.http.port == 9464)
        #expect(c.log.level == .info)
        #expect(c.log.format == .text)
    }

    @Test func flagBeatsEnvironmentBeatsFileBeatsDefault() throws {
        let yaml = "ib:\n  port: 4001\n  host: gw.local\n  client_id: 3\nsymbols: [AAPL]\n"
        let report = load(yaml, env: ["IB_PORT": "4003", "IB_HOST": "env-host"], flags: ["ib.port": "4004"])
        let c = try #require(report.configuration)
        #expect(c.ib.port == 4004)
        #expect(c.ib.host == "env-host")
        #expect(c.ib.clientID == 3)
        #expect(c.ib.connectTimeout == .seconds(5))
        let sources = Dictionary(uniqueKeysWithValues: report.settings.filter { $0.keyPath != "symbols" }.map { ($0.keyPath, $0.source) })
        #expect(sources["ib.port"] == .flag)
        #expect(sources["ib.host"] == .environment("IB_HOST"))
        #expect(sources["ib.client_id"] == .file)
        #expect(sources["ib.connect_timeout_seconds"] == .defaultValue)
    }

    @Test func nestedKeysMapToUnderscoredEnvironmentNames() throws {
        let env = [
            "IB_RECONNECT_INITIAL_DELAY_MS": "100",
            "FAILOVER_STALENESS_SECONDS": "2.5",
            "REDIS_STREAM_ENABLED": "true",
            "REDIS_URL": "redis://:pw@10.0.0.5:6380/2",
            "ALPHAVANTAGE_API_KEY": "secret-key",
            "IB_CLIENT_ID_POOL": "18, 19",
            "SYMBOLS": "SPY,QQQ",
            "LOG_FORMAT": "json",
        ]
        let c = try #require(load(Self.minimal, env: env).configuration)
        #expect(c.ib.reconnect.initialDelay == .milliseconds(100))
        #expect(c.failover.staleness == .milliseconds(2500))
        #expect(c.redis.streamEnabled)
        #expect(c.redis.url == RedisURL(host: "10.0.0.5", port: 6380, password: "pw", database: 2))
        #expect(c.alphaVantage.apiKey == "secret-key")
        #expect(c.ib.clientIDPool == [18, 19])
        #expect(c.symbols.map(\.symbol) == ["SPY", "QQQ"])
        #expect(c.log.format == .json)
    }

    @Test func symbolsMayBeStringsOrMaps() throws {
        let yaml = """
            symbols:
              - AAPL
              - symbol: SPX
                sec_type: ind
                exchange: cboe
                options: {expirations: 3, strikes_around_atm: 4}
              - symbol: SPY
                primary_exchange: arca
                currency: usd
                options: true
            """
        let c = try #require(load(yaml).configuration)
        #expect(c.symbols == [
            SymbolSpec(symbol: "AAPL"),
            SymbolSpec(symbol: "SPX", secType: .index, exchange: "CBOE", options: .init(expirations: 3, strikesAroundATM: 4)),
            SymbolSpec(symbol: "SPY", primaryExchange: "ARCA", options: .init(expirations: 2, strikesAroundATM: 5)),
        ])
    }

    @Test func nullValuesMeanDefault() throws {
        let yaml = "ib:\n  host: ~\n  port:\nalphavantage:\n  api_key:\nsymbols: [AAPL]\n"
        let c = try #require(load(yaml).configuration)
        #expect(c.ib.host == "127.0.0.1")
        #expect(c.ib.port == 4002)
        #expect(c.alphaVantage.apiKey == nil)
    }

    @Test func unknownKeysAreProblemsWithASuggestion() throws {
        let yaml = """
            ib:
              prot: 4001
            logg:
              level: debug
            symbols:
              - AAPL
              - symbol: SPY
                primary_exchang: ARCA
                options: {expiration: 2}
            """
        let report = load(yaml, env: ["ALPHAVANTAGE_API_KEY": "k"])
        #expect(!report.isValid)
        #expect(report.configuration == nil)
        #expect(Set(report.problems.map(\.description)) == [
            "ib.prot = \"4001\" (from file): unknown key (did you mean 'ib.port'?)",
            "logg (from file): unknown key (did you mean 'log'?)",
            "symbols[1].primary_exchang = \"ARCA\" (from file): unknown key (did you mean 'primary_exchange'?)",
            "symbols[1].options.expiration = \"2\" (from file): unknown key (did you mean 'expirations'?)",
        ])
        #expect(report.warnings.isEmpty)
    }

    @Test func unknownFlagKeyIsAProblem() {
        let report = load(Self.minimal, flags: ["ib.prot": "1"])
        #expect(report.problems.map(\.description) == ["ib.prot = \"1\" (from flag): unknown key (did you mean 'ib.port'?)"])
        #expect(report.configuration == nil)
    }

    @Test func missingFileIsAProblemNamingThePath() {
        let report = ConfigurationLoader.load(filePath: "/nonexistent/q.yaml", environment: [:])
        #expect(report.problems.map(\.description) == ["(file) = \"/nonexistent/q.yaml\" (from flag): configuration file not found"])
    }

    @Test func malformedYAMLIsAProblem() {
        let report = load("ib: [unclosed\n")
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.keyPath == "(file)")
        #expect(report.problems.first?.reason.hasPrefix("not valid YAML") == true)
    }

    @Test func overridesParseKeyEqualsValue() {
        let parsed = ConfigurationLoader.parseOverrides(["ib.port=4001", "redis.url=redis://h:1/0?x=y", "oops"])
        #expect(parsed.overrides == ["ib.port": "4001", "redis.url": "redis://h:1/0?x=y"])
        #expect(parsed.problems.map(\.keyPath) == ["oops"])
    }

    @Test func throwingLoaderCarriesAllProblems() {
        #expect(throws: ConfigurationError.self) {
            _ = try RelayConfiguration.load(filePath: "/nonexistent/q.yaml", environment: [:])
        }
    }
}
