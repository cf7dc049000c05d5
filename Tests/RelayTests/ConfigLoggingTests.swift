import Logging
import Synchronization
import Testing
@testable import Relay

@Suite("Log handlers from log.format")
struct ConfigLoggingTests {
    /// 2026-01-02T03:04:05.678Z
    static let instant: Int64 = 1_767_323_045_678

    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    func logger(_ format: LogFormat, level: Logger.Level = .info, sink: Lines) -> Logger {
        Logger(label: "quote-relay.ib") { label in
            RelayLogHandler(label: label, format: format, level: level, sink: { sink.append($0) }, clock: { Self.instant })
        }
    }

    @Test func textLineHasTimestampLevelLabelMessageAndSortedMetadata() {
        let lines = Lines()
        var log = logger(.text, sink: lines)
        log[metadataKey: "worker"] = "w1"
        log.info("connected", metadata: ["port": "4002", "host": "127.0.0.1", "note": "two words"])
        log.debug("dropped: below level")
        #expect(lines.all == [
            "2026-01-02T03:04:05.678Z info quote-relay.ib: connected host=127.0.0.1 note=\"two words\" port=4002 worker=w1",
        ])
    }

    @Test func jsonLineIsOneObject() {
        let lines = Lines()
        let log = logger(.json, sink: lines)
        log.warning("ib error \"1100\"\nconnectivity lost", metadata: ["code": "1100", "req": ["id": "-1"]])
        #expect(lines.all == [
            #"{"ts":"2026-01-02T03:04:05.678Z","level":"warning","label":"quote-relay.ib","msg":"ib error \"1100\"\nconnectivity lost","metadata":{"code":"1100","req":{"id":"-1"}}}"#,
        ])
    }

    @Test func secretsAreMaskedByKeyNameAndInsideURLs() {
        let lines = Lines()
        let log = logger(.text, sink: lines)
        log.info("config", metadata: [
            "api_key": "K1", "alphavantage.api_key": "K2", "REDIS_PASSWORD": "P1",
            "url": "redis://u:P2@h:1/0", "request": "https://av/query?function=GLOBAL_QUOTE&apikey=K3",
            "nested": ["password": "P3"],
        ])
        let line = lines.all.joined()
        for secret in ["K1", "K2", "K3", "P1", "P2", "P3"] {
            #expect(!line.contains(secret), "\(secret) leaked: \(line)")
        }
        #expect(line.contains("url=redis://u:***@h:1/0"))
        #expect(line.contains("api_key=***"))
    }

    @Test func errorOfTheEventBecomesMetadata() {
        struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }
        let lines = Lines()
        let handler = RelayLogHandler(label: "x", format: .json, level: .info, sink: { lines.append($0) }, clock: { 0 })
        handler.log(event: LogEvent(level: .error, message: "failed", error: Boom(), metadata: nil, source: "s", file: "f", function: "g", line: 1))
        #expect(lines.all == [#"{"ts":"1970-01-01T00:00:00.000Z","level":"error","label":"x","msg":"failed","metadata":{"error":"boom"}}"#])
    }

    @Test func levelsMapOneToOne() {
        #expect(LogLevelSetting.allCases.map(\.loggerLevel) == [.trace, .debug, .info, .notice, .warning, .error, .critical])
    }

    @Test func timestampsBeforeTheEpochAndMilliseconds() {
        #expect(LogLineFormatter.iso8601(milliseconds: 1) == "1970-01-01T00:00:00.001Z")
        #expect(LogLineFormatter.iso8601(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
    }
}
