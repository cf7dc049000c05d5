import Essentials
import RedisPublisher
import Testing
@testable import Relay

@Suite("Configuration validation")
struct ConfigValidationTests {
    func problems(_ yaml: String, env: [String: String] = [:]) -> [String] {
        let report = ConfigurationLoader.load(yaml: yaml, environment: env)
        #expect((report.configuration == nil) == !report.problems.isEmpty)
        return report.problems.map(\.description)
    }

    @Test func everyProblemIsReportedAtOnce() {
        let yaml = """
            worker:
              id: ""
            ib:
              port: 70000
              client_id: abc
              connect_timeout_seconds: 0
              market_data_type: realtime
              reconnect:
                initial_delay_ms: 1000
                max_delay_ms: 500
                multiplier: 0.5
            redis:
              url: http://localhost:6379
              quote_ttl_seconds: 1.5
              stream:
                enabled: maybe
            symbols: []
            failover:
              max_reconnect_attempts: 0
            alphavantage:
              base_url: ftp://example.com
              requests_per_minute: 10
              requests_per_day: 5
              entitlement: gold
            http:
              listen: localhost
            log:
              level: loud
              format: xml
            """
        #expect(problems(yaml) == [
            "worker.id = \"\" (from file): must not be empty",
            "ib.port = \"70000\" (from file): must be between 1 and 65535",
            "ib.client_id = \"abc\" (from file): expected a whole number",
            "ib.connect_timeout_seconds = \"0\" (from file): must be a positive number of seconds",
            "ib.market_data_type = \"realtime\" (from file): must be one of live|frozen|delayed|delayed_frozen",
            "ib.reconnect.multiplier = \"0.5\" (from file): must be at least 1",
            "ib.reconnect.max_delay_ms = \"500\" (from file): must be at least ib.reconnect.initial_delay_ms (1000)",
            "redis.url = \"http://localhost:6379\" (from file): the scheme must be redis:// or rediss:// (TLS) (expected redis[s]://[user:password@]host:port/db)",
            "redis.quote_ttl_seconds = \"1.5\" (from file): must be a whole number of seconds (Redis TTLs are whole seconds)",
            "redis.stream.enabled = \"maybe\" (from file): expected true or false",
            "symbols (from file): at least one symbol is required",
            "failover.max_reconnect_attempts = \"0\" (from file): must be at least 1",
            "alphavantage.base_url = \"ftp://example.com\" (from file): must start with http:// or https://",
            "alphavantage.requests_per_day = \"5\" (from file): must be at least alphavantage.requests_per_minute (10)",
            "alphavantage.entitlement = \"gold\" (from file): must be one of none|delayed|realtime",
            "http.listen = \"localhost\" (from file): expected host:port, e.g. 127.0.0.1:9464",
            "log.level = \"loud\" (from file): must be one of trace|debug|info|notice|warning|error|critical",
            "log.format = \"xml\" (from file): must be one of text|json",
        ])
    }

    @Test func tlsKeysNeedARediSSURLAndReadableFiles() {
        #expect(problems("redis:\n  url: redis://h:1/0\n  tls:\n    ca_file: /etc/hostname\nsymbols: [A]\n") == [
            "redis.tls.ca_file = \"/etc/hostname\" (from file): TLS settings need a rediss:// redis.url (the URL is redis://, which never uses TLS)",
        ])
        #expect(problems("redis:\n  url: rediss://h:1/0\n  tls:\n    ca_file: /nonexistent/ca.pem\n    cert_file: /etc/hostname\nsymbols: [A]\n") == [
            "redis.tls.key_file: mutual TLS needs both the certificate and its key",
            "redis.tls.ca_file = \"/nonexistent/ca.pem\" (from file): the file does not exist or is not readable",
        ])
        let report = ConfigurationLoader.load(
            yaml: "redis:\n  url: rediss://h:6380/0\nsymbols: [A]\n",
            environment: ["REDIS_TLS_CA_FILE": "/etc/hostname", "REDIS_TLS_SERVER_NAME": "redis.internal", "REDIS_TLS_VERIFY": "true"])
        #expect(report.problems.isEmpty)
        #expect(report.decoded.redis.url.tls == RedisTLSOptions(caFile: "/etc/hostname", serverName: "redis.internal"))
        #expect(ConfigurationLoader.load(yaml: "redis:\n  url: rediss://h/0\nsymbols: [A]\n", environment: [:]).decoded.redis.url.tls == RedisTLSOptions())
    }

    @Test func sentinelKeys() {
        let report = ConfigurationLoader.load(
            yaml: "redis:\n  sentinels: [10.0.0.7:26379, \"sentinel-b\"]\n  master_name: quotes\nsymbols: [A]\n",
            environment: ["REDIS_SENTINEL_PASSWORD": "SENTINEL-SECRET"])
        #expect(report.problems.isEmpty)
        #expect(report.decoded.redis.sentinel == SentinelConfiguration(
            sentinels: [.init(host: "10.0.0.7", port: 26379), .init(host: "sentinel-b", port: 26379)],
            masterName: "quotes", password: "SENTINEL-SECRET"))
        #expect(!report.renderedSettings().contains("SENTINEL-SECRET"))
        #expect(problems("redis:\n  sentinels: [\"h:x\", \"h:1\"]\nsymbols: [A]\n") == [
            "redis.sentinels = \"h:x\" (from file): expected host:port (e.g. 10.0.0.7:26379)",
            "redis.master_name: must be set with redis.sentinels (the name in the sentinels' `sentinel monitor <name> ...`)",
        ])
        #expect(ConfigurationLoader.load(yaml: "symbols: [A]\n", environment: [:]).decoded.redis.sentinel == nil)
    }

    /// Symbols are upper-cased (IB's are): `aapl` is AAPL's key, and listing both is a duplicate.
    @Test func symbolsAreUpperCasedAndCaseDuplicatesRefused() throws {
        let report = ConfigurationLoader.load(yaml: "symbols: [aapl, {symbol: msft}]\n", environment: [:])
        let configuration = try #require(report.configuration)
        #expect(configuration.symbols.map(\.symbol) == ["AAPL", "MSFT"])
        let duplicate = problems("symbols: [AAPL, aapl]\n")
        #expect(duplicate.contains { $0.contains("AAPL is listed twice") }, "\(duplicate)")
    }

    @Test func environmentProblemsNameTheVariable() {
        #expect(problems("symbols: [AAPL]\n", env: ["IB_PORT": "0", "FAILOVER_STALENESS_SECONDS": "soon"]) == [
            "ib.port = \"0\" (from env IB_PORT): must be between 1 and 65535",
            "failover.staleness_seconds = \"soon\" (from env FAILOVER_STALENESS_SECONDS): expected a number of seconds",
        ])
    }

    @Test func aListWhereAValueBelongsIsAProblem() {
        #expect(problems("ib:\n  port: [1, 2]\nsymbols: [AAPL]\n") == [
            "ib.port (from file): expected a single value, got a list",
        ])
    }

    @Test func aMapWhereAValueBelongsIsAProblem() {
        #expect(problems("ib:\n  host: {a: 1}\nsymbols: [AAPL]\n") == ["ib.host (from file): expected a value, got a map"])
    }

    @Test func symbolEntriesAreCheckedField_by_field() {
        let yaml = """
            symbols:
              - "AA:PL"
              - symbol: EURUSD
                sec_type: CASH
                currency: EURO
                options: {expirations: 0, strikes_around_atm: 99}
              - sec_type: STK
              - symbol: ES
                sec_type: FUT
                options: true
              - AAPL
              - AAPL
            """
        #expect(problems(yaml) == [
            "symbols[0] = \"AA:PL\" (from file): symbol may contain only letters, digits, space, '.', '-', '/', '^'",
            "symbols[1].currency = \"EURO\" (from file): must be a three-letter currency code such as USD",
            "symbols[1].symbol = \"EURUSD\" (from file): sec_type CASH needs the base currency (EUR) or the pair (EUR.USD)",
            "symbols[1].options.expirations = \"0\" (from file): must be a whole number between 1 and 24",
            "symbols[1].options.strikes_around_atm = \"99\" (from file): must be a whole number between 1 and 50",
            "symbols[1].options (from file): IB lists no option chains for sec_type CASH; options are followed on STK and IND (OPT) and FUT (FOP)",
            "symbols[2].symbol (from file): is required in a map entry",
            "symbols[3].last_trade_date_or_contract_month (from file): sec_type FUT needs the contract: set last_trade_date_or_contract_month: YYYYMM (e.g. 202612) for one contract month, or front_month: true to follow the front month (rolled 5 days before its last trading day; front_month: {roll_days_before_expiry: N} to change that)",
            "symbols[3].exchange (from file): sec_type FUT needs the exchange that lists the future (e.g. CME for ES, NYMEX for CL); IB does not route futures through SMART",
            "symbols = \"AAPL\" (from file): instrument AAPL is listed twice (its Redis keys would collide)",
        ])
    }

    @Test func clientIDPoolMustNotRepeat() {
        #expect(problems("ib:\n  client_id: 5\n  client_id_pool: [6, 5, 6, x]\nsymbols: [A]\n") == [
            "ib.client_id_pool = \"5\" (from file): client id 5 appears twice (ib.client_id and the pool must all differ)",
            "ib.client_id_pool = \"6\" (from file): client id 6 appears twice (ib.client_id and the pool must all differ)",
            "ib.client_id_pool = \"x\" (from file): every client id must be a whole number between 0 and 2147483647",
        ])
    }

    @Test func requesterMaximumPrioritiesAreRequesterEqualsN() {
        #expect(problems("symbols: [A]\nleases:\n  requester_max_priority: [trader=8, 'bad name=3', x, ops=1001, ops=2, ops=3]\n") == [
            "leases.requester_max_priority = \"bad name=3\" (from file): each item is REQUESTER=N, the requester 1-64 of A-Z a-z 0-9 _ . - (e.g. trader=8)",
            "leases.requester_max_priority = \"x\" (from file): each item is REQUESTER=N, the requester 1-64 of A-Z a-z 0-9 _ . - (e.g. trader=8)",
            "leases.requester_max_priority = \"ops=1001\" (from file): the maximum priority must be a whole number between 0 and 1000",
            "leases.requester_max_priority = \"ops=3\" (from file): requester 'ops' appears twice",
        ])
    }

    @Test func secretsNeverAppearInProblemsOrSettings() throws {
        let env = ["REDIS_URL": "redis://user:hunter2@h:99999/0", "ALPHAVANTAGE_API_KEY": "SUPERSECRET"]
        let report = ConfigurationLoader.load(yaml: "symbols: [AAPL]\n", environment: env)
        let text = report.problems.map(\.description).joined() + report.renderedSettings()
        #expect(!text.contains("hunter2"))
        #expect(!text.contains("SUPERSECRET"))
        #expect(report.problems.map(\.description) == [
            "redis.url = \"redis://user:***@h:99999/0\" (from env REDIS_URL): the port must be 1-65535 (expected redis[s]://[user:password@]host:port/db)",
        ])
        let good = ConfigurationLoader.load(yaml: "symbols: [AAPL]\n", environment: ["REDIS_URL": "redis://u:hunter2@h:1/0", "ALPHAVANTAGE_API_KEY": "SUPERSECRET"])
        let lines = good.renderedSettings().split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines.contains("redis.url = redis://u:***@h:1/0 (env REDIS_URL)"))
        #expect(lines.contains("alphavantage.api_key = *** (env ALPHAVANTAGE_API_KEY)"))
        #expect(!good.renderedSettings().contains("hunter2"))
        #expect(!good.renderedSettings().contains("SUPERSECRET"))
    }

    @Test func warningsForValidButDoubtfulSettings() {
        let yaml = """
            ib:
              max_market_data_lines: 10
            failover:
              staleness_seconds: 2
              check_interval_seconds: 5
            symbols:
              - symbol: SPY
                options: {expirations: 2, strikes_around_atm: 5}
            """
        let report = ConfigurationLoader.load(yaml: yaml, environment: [:])
        #expect(report.isValid)
        #expect(report.warnings == [
            "failover.check_interval_seconds is longer than failover.staleness_seconds: staleness is noticed late",
            "alphavantage.api_key is not set (ALPHAVANTAGE_API_KEY): failover to Alpha Vantage will be refused by the service",
            "symbols want 45 market data lines but ib.max_market_data_lines is 10: the farthest option strikes will not be subscribed",
        ])
    }

    @Test(arguments: [
        ("localhost:6379", "the scheme must be redis:// or rediss:// (TLS) (expected redis[s]://[user:password@]host:port/db)"),
        ("redis://", "the host is missing (expected redis[s]://[user:password@]host:port/db)"),
        ("redis://h:0", "the port must be 1-65535 (expected redis[s]://[user:password@]host:port/db)"),
    ])
    func badRedisURLsAreExplained(text: String, reason: String) {
        #expect(problems("symbols: [A]\n", env: ["REDIS_URL": text]) == ["redis.url = \"\(text)\" (from env REDIS_URL): \(reason)"])
    }

    @Test func redisURLRedaction() {
        #expect(Redaction.url("redis://bare@h:1") == "redis://***@h:1")
        #expect(Redaction.url("https://x/query?function=GLOBAL_QUOTE&apikey=K123") == "https://x/query?function=GLOBAL_QUOTE&apikey=***")
    }

    @Test func workerGroupAndLeaseTiming() throws {
        // Absent: no group, the worker always publishes.
        let plain = try #require(ConfigurationLoader.load(yaml: "symbols: [A]\n", environment: [:]).configuration)
        #expect(plain.worker.group == nil)
        #expect(plain.worker.leaseTTL == .seconds(5))
        #expect(WorkerConfiguration(plain).publisher.leaseKey == nil)

        let yaml = "worker:\n  id: relay-b\n  group: spx-pair\nredis:\n  key_prefix: p1\nsymbols: [A]\n"
        let grouped = try #require(ConfigurationLoader.load(yaml: yaml, environment: [:]).configuration)
        #expect(grouped.worker.group == "spx-pair")
        // Renewed every third of the TTL unless set.
        #expect(grouped.worker.leaseRenewInterval == .milliseconds(1666) || grouped.worker.leaseRenewInterval == .seconds(5) / 3)
        let worker = WorkerConfiguration(grouped)
        #expect(worker.publisher.leaseKey == "p1:group:spx-pair:lease")
        #expect(worker.leaseTiming.ttlMs == 5_000 && worker.leaseTiming.renewIntervalMs == 1_666)

        let timed = try #require(ConfigurationLoader.load(
            yaml: "symbols: [A]\n", environment: ["WORKER_GROUP": "g", "WORKER_LEASE_TTL_SECONDS": "2", "WORKER_LEASE_RENEW_SECONDS": "0.5"]
        ).configuration)
        #expect(timed.worker.group == "g" && timed.worker.leaseTTL == .seconds(2) && timed.worker.leaseRenewInterval == .milliseconds(500))

        #expect(problems("worker:\n  group: \"a b\"\nsymbols: [A]\n") == [
            "worker.group = \"a b\" (from file): may contain only letters, digits, '.', '_' and '-'",
        ])
        #expect(problems("worker:\n  group: \"g:1\"\nsymbols: [A]\n") == [
            "worker.group = \"g:1\" (from file): may contain only letters, digits, '.', '_' and '-'",
        ])
        #expect(problems("worker:\n  group: \"\"\nsymbols: [A]\n") == [
            "worker.group = \"\" (from file): must not be empty (leave the key out for a worker without a group)",
        ])
        #expect(problems("worker:\n  group: g\n  lease_ttl_seconds: 2\n  lease_renew_seconds: 2\nsymbols: [A]\n") == [
            "worker.lease_renew_seconds = \"2\" (from file): must be less than worker.lease_ttl_seconds (2): the lease must be renewed before it expires",
        ])
        #expect(problems("worker:\n  lease_ttl_seconds: 0.05\nsymbols: [A]\n") == [
            "worker.lease_ttl_seconds = \"0.05\" (from file): must be at least 0.1 seconds",
        ])
        #expect(problems("worker:\n  lease_ttl_seconds: -1\nsymbols: [A]\n") == [
            "worker.lease_ttl_seconds = \"-1\" (from file): must be a positive number of seconds",
        ])
    }

    @Test func shippedConfigFilesAreValid() throws {
        let root = try #require(RepositoryRoot.path)
        for name in ["quote-relay.yaml", "demo.yaml"] {
            let report = ConfigurationLoader.load(filePath: "\(root)/config/\(name)", environment: ["ALPHAVANTAGE_API_KEY": "k"])
            #expect(report.problems.isEmpty, "\(name): \(report.problems)")
            #expect(report.warnings.isEmpty, "\(name): \(report.warnings)")
        }
    }
}
