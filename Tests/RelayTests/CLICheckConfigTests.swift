import Foundation
import Testing

/// Runs the real `quote-relay` binary: exit codes, output shape, and that secrets never leave
/// the process.
@Suite("quote-relay check-config (binary)")
struct CLICheckConfigTests {
    let binary: String
    let directory: URL

    init() throws {
        binary = try #require(RepositoryRoot.binary, "build the quote-relay binary first (swift build)")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("qr-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func write(_ yaml: String) throws -> String {
        let path = directory.appendingPathComponent("config-\(UUID().uuidString).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A clean environment: the test runner's own variables (REDIS_URL on a CI box ...) must not
    /// leak into the child as overrides.
    func run(_ arguments: [String], env: [String: String] = [:]) async throws -> ProcessResult {
        var environment = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        environment.merge(env) { _, new in new }
        return try await ChildProcess.run(binary, arguments, environment: environment)
    }

    /// Issue 10 §3's input: a future without its contract is refused (exit 2) with the key path
    /// and the fix; named instruments print their key symbol.
    @Test func aFutureWithoutItsContractExitsTwoWithTheFix() async throws {
        let bad = try write("symbols: [{symbol: ES, sec_type: FUT, exchange: CME}, AAPL]\n")
        let refused = try await run(["check-config", "--config", bad])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("symbols[0].last_trade_date_or_contract_month"))
        #expect(refused.stderr.contains("front_month: true"))
        let good = try write("symbols: [{symbol: ES, sec_type: FUT, exchange: CME, last_trade_date_or_contract_month: 202612}, {symbol: EUR.USD, sec_type: CASH}]\n")
        let accepted = try await run(["check-config", "--config", good])
        #expect(accepted.status == 0)
        let lines = accepted.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines.contains("symbols = ES FUT CME USD contract 202612 key ES.202612 (file)"), "\(lines)")
        #expect(lines.contains("symbols = EUR CASH IDEALPRO USD key EUR.USD (file)"), "\(lines)")
    }

    @Test func validFileExitsZeroAndPrintsEffectiveValuesWithProvenance() async throws {
        let path = try write("ib:\n  port: 4001\nsymbols: [AAPL, MSFT]\n")
        let result = try await run(["check-config", "--config", path], env: ["IB_HOST": "gw", "ALPHAVANTAGE_API_KEY": "k"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines.contains("ib.port = 4001 (file)"))
        #expect(lines.contains("ib.host = gw (env IB_HOST)"))
        #expect(lines.contains("ib.client_id = 17 (default)"))
        #expect(lines.contains("symbols = AAPL STK SMART USD (file)"))
        #expect(lines.contains("symbols = MSFT STK SMART USD (file)"))
        #expect(lines.last == "\(path): configuration is valid")
        #expect(result.stderr == "")
    }

    @Test func invalidFileExitsTwoWithOneProblemPerLine() async throws {
        let path = try write("ib:\n  port: 0\n  market_data_type: fast\nlog:\n  format: xml\nsymbols: [AAPL]\n")
        let result = try await run(["check-config", "--config", path], env: ["FAILOVER_STALENESS_SECONDS": "-1", "ALPHAVANTAGE_API_KEY": "k"])
        #expect(result.status == 2)
        #expect(result.stdout == "")
        #expect(result.stderr.split(separator: "\n").map(String.init) == [
            "\(path): invalid configuration (4 problems):",
            "  ib.port = \"0\" (from file): must be between 1 and 65535",
            "  ib.market_data_type = \"fast\" (from file): must be one of live|frozen|delayed|delayed_frozen",
            "  failover.staleness_seconds = \"-1\" (from env FAILOVER_STALENESS_SECONDS): must be a positive number of seconds",
            "  log.format = \"xml\" (from file): must be one of text|json",
        ])
    }

    @Test func missingFileExitsTwo() async throws {
        let path = directory.appendingPathComponent("absent.yaml").path
        let result = try await run(["check-config", "--config", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("(file) = \"\(path)\" (from flag): configuration file not found"))
    }

    @Test func secretsAreNeverPrinted() async throws {
        let path = try write("alphavantage:\n  api_key: FILE-SECRET-KEY\nredis:\n  url: redis://admin:FILEPASS@127.0.0.1:6379/0\nsymbols: [AAPL]\n")
        let valid = try await run(["check-config", "--config", path])
        #expect(valid.status == 0)
        let envOverride = try await run(
            ["check-config", "--config", path],
            env: ["ALPHAVANTAGE_API_KEY": "ENV-SECRET-KEY", "REDIS_URL": "redis://:ENVPASS@127.0.0.1:1/0"]
        )
        #expect(envOverride.status == 0)
        #expect(envOverride.stdout.contains("redis://:***@127.0.0.1:1/0"))
        let invalid = try await run(
            ["check-config", "--config", path, "--set", "ib.port=x"],
            env: ["REDIS_URL": "redis://u:ENVPASS@h:99999/0"]
        )
        #expect(invalid.status == 2)
        for result in [valid, envOverride, invalid] {
            let all = result.stdout + result.stderr
            for secret in ["FILE-SECRET-KEY", "FILEPASS", "ENV-SECRET-KEY", "ENVPASS"] {
                #expect(!all.contains(secret), "\(secret) printed:\n\(all)")
            }
        }
    }

    @Test func flagsOverrideEnvironment() async throws {
        let path = try write("ib:\n  port: 1\nsymbols: [AAPL]\n")
        let result = try await run(
            ["check-config", "--config", path, "--set", "ib.port=4100"],
            env: ["IB_PORT": "4200", "ALPHAVANTAGE_API_KEY": "k"]
        )
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines.contains("ib.port = 4100 (flag)"))
        #expect(result.stderr == "")
    }

    /// Issue 16 item 4: a misspelt key must not pass, neither in `check-config` nor in `run`
    /// (the systemd unit's pre-start check), and the message names the key it probably meant.
    @Test func unknownKeysAreErrorsWithASuggestion() async throws {
        let path = try write("failover:\n  stalenes_seconds: 5\nsymbols: [AAPL]\n")
        let expected = [
            "\(path): invalid configuration (1 problem):",
            "  failover.stalenes_seconds = \"5\" (from file): unknown key (did you mean 'failover.staleness_seconds'?)",
        ]
        let check = try await run(["check-config", "--quiet", "--config", path], env: ["ALPHAVANTAGE_API_KEY": "k"])
        #expect(check.status == 2)
        #expect(check.stdout == "")
        #expect(check.stderr.split(separator: "\n").map(String.init) == expected)
        // `run` refuses before it connects to anything (no Redis, no gateway is reachable here).
        let runResult = try await run(
            ["run", "--config", path],
            env: ["ALPHAVANTAGE_API_KEY": "k", "REDIS_URL": "redis://127.0.0.1:1/0", "IB_PORT": "1"]
        )
        #expect(runResult.status == 2)
        #expect(runResult.stderr.contains("failover.stalenes_seconds = \"5\" (from file): unknown key (did you mean 'failover.staleness_seconds'?)"))
    }

    @Test func shippedFilesPassTheBinary() async throws {
        let root = try #require(RepositoryRoot.path)
        for name in ["quote-relay.yaml", "demo.yaml"] {
            let result = try await run(["check-config", "--config", "\(root)/config/\(name)"], env: ["ALPHAVANTAGE_API_KEY": "k"])
            #expect(result.status == 0, "\(name): \(result.stderr)")
        }
    }
}
