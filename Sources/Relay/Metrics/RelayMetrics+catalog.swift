import Foundation
import IBSession
import Metrics
import Prometheus

/// Every metric the worker exports, with its type, labels and `# HELP` text: the one list the
/// README's metrics table, the alert rules (`ops/prometheus/`) and the dashboard
/// (`ops/grafana/`) are checked against.
extension RelayMetrics {
    /// One exported metric family.
    public struct Family: Sendable, Equatable {
        public enum Kind: String, Sendable { case counter, gauge, histogram }
        public var name: String
        public var kind: Kind
        /// Label names; empty for a single series.
        public var labels: [String]
        public var help: String
    }

    /// The catalogue, in the order of the README table.
    public static let families: [Family] = [
        .init(name: Name.ibConnected, kind: .gauge, labels: [], help: "1 while the TWS API session to IB Gateway is up (handshake done), else 0."),
        .init(name: Name.ibReconnects, kind: .counter, labels: [], help: "Failed IB Gateway connection attempts and lost connections, each followed by a reconnect after backoff."),
        .init(name: Name.ibTicksReceived, kind: .counter, labels: [], help: "Market data messages (price, size, option computation, ...) received from IB."),
        .init(name: Name.ibErrors, kind: .counter, labels: ["code"], help: "IB error messages by code (502, 1100, 326, 354, ...); informational codes are in quote_relay_ib_notices_total."),
        .init(name: Name.ibNotices, kind: .counter, labels: ["code"], help: "Informational IB messages and warnings by code (2104/2106/2158 farm OK, 2107/2108 farm idle, 1102, 10090/10167 warnings on a line that keeps streaming): not errors."),
        .init(name: Name.ibMessagesSkipped, kind: .counter, labels: ["reason"], help: "Gateway messages not used, by reason: unknown (message id not modelled), undecodable (malformed), late (ticks of a cancelled line)."),
        .init(name: Name.ibPacingDelays, kind: .counter, labels: [], help: "Requests held back to stay under ib.max_requests_per_second."),
        .init(name: Name.marketDataLines, kind: .gauge, labels: [], help: "IB market data lines in use."),
        .init(name: Name.marketDataLinesLimit, kind: .gauge, labels: [], help: "ib.max_market_data_lines: the most market data lines the worker uses."),
        .init(name: Name.workerState, kind: .gauge, labels: ["state"], help: "1 for the worker's current state (starting, connecting, connected, degraded, failover, stopping, stopped), 0 for the others."),
        .init(name: Name.dataSource, kind: .gauge, labels: ["source"], help: "1 for the source publishing all symbols (ib, or alphavantage when every symbol failed over), 0 for the other."),
        .init(name: Name.redisConnected, kind: .gauge, labels: [], help: "1 while Redis answers, else 0."),
        .init(name: Name.redisWrites, kind: .counter, labels: [], help: "Data key writes confirmed by Redis (one publish.lua call each)."),
        .init(name: Name.redisWriteErrors, kind: .counter, labels: [], help: "Data key writes Redis refused with an error no retry can fix (the value is dropped)."),
        .init(name: Name.redisWritesRefused, kind: .counter, labels: ["class"], help: "Writes (data, status, staleness script) Redis refused with a passing error, by class (READONLY, OOM, MISCONF, LOADING, BUSY, NOPERM, ...): retried, latest value per key."),
        .init(name: Name.redisWriteLatency, kind: .histogram, labels: [], help: "Seconds from handing a record to the publisher to Redis confirming its write."),
        .init(name: Name.redisReconnects, kind: .counter, labels: [], help: "Reconnections to Redis after a lost connection."),
        .init(name: Name.failovers, kind: .counter, labels: [], help: "Symbols moved from IB to Alpha Vantage: one per symbol per failover."),
        .init(name: Name.failbacks, kind: .counter, labels: [], help: "Symbols moved back from Alpha Vantage to IB: one per symbol per failback."),
        .init(name: Name.avRequests, kind: .counter, labels: ["function"], help: "Alpha Vantage requests by API function (GLOBAL_QUOTE, REALTIME_BULK_QUOTES, REALTIME_OPTIONS), failed ones included."),
        .init(name: Name.avErrors, kind: .counter, labels: ["kind"], help: "Failed Alpha Vantage requests by kind (throttled, daily_limit, premium_only, invalid_call, http, timeout, transport, malformed, empty_result)."),
        .init(name: Name.avDailyLimit, kind: .gauge, labels: [], help: "alphavantage.requests_per_day, the daily request budget (0: no cap)."),
        .init(name: Name.symbolStaleness, kind: .gauge, labels: ["symbol"], help: "Seconds since the symbol's quote was last confirmed by its source; NaN until the first confirmation."),
        .init(name: Name.staleKeys, kind: .gauge, labels: [], help: "Data keys currently flagged stale."),
        .init(name: Name.eventsDropped, kind: .counter, labels: [], help: "Updates or events discarded because a queue was full (lost, not merely coalesced)."),
        .init(name: Name.leaseActive, kind: .gauge, labels: [], help: "1 while this worker holds its worker.group's lease and publishes (always 1 without a group), 0 while it stands by."),
        .init(name: Name.leaseTakeovers, kind: .counter, labels: [], help: "Terms begun as the worker.group's active worker (lease acquired)."),
        .init(name: Name.redisWritesFenced, kind: .counter, labels: [], help: "Data writes not applied because this worker did not hold its worker.group's lease: refused by the fence in Redis or dropped as standby."),
    ]

    /// IB codes whose error series exist from start-up at 0 (the README's table of codes the
    /// worker reacts to): an alert on `increase(...{code="326"}[5m])` has a series to read.
    public static let initialIBErrorCodes = [100, 101, 200, 326, 354, 502, 504, 1100, 1101, 1300, 2103, 2105, 2157, 10089, 10167, 10197]
        .filter { !isNotice(code: $0) }
    /// Informational codes and warnings whose notice series exist from start-up at 0.
    public static let initialIBNoticeCodes = [1102, 2104, 2106, 2107, 2108, 2158, 10090, 10167]

    /// Informational codes and warnings (the line goes on) are notices, not errors.
    static func isNotice(code: Int) -> Bool {
        let severity = IBErrorClass.classify(code: Int32(clamping: code), message: "").severity
        return severity == .informational || severity == .warning
    }

    /// Error classes of Redis' refusals whose series exist from start-up at 0.
    public static let initialRedisRefusalClasses = ["READONLY", "OOM", "MISCONF", "LOADING", "BUSY", "NOPERM"]

    /// Creates every series the README lists, at 0 (NaN for staleness, which is unknown until
    /// the first confirmation), so that dashboards and alerts see them from start-up rather
    /// than after the first event. Call once, before the worker runs.
    /// - Parameters:
    ///   - symbols: the configured symbols (`quote_relay_symbol_staleness_seconds{symbol}`).
    ///   - maxMarketDataLines: `ib.max_market_data_lines`.
    ///   - alphaVantageDailyLimit: `alphavantage.requests_per_day`, 0 for none.
    public func initialiseSeries(symbols: [String], maxMarketDataLines: Int, alphaVantageDailyLimit: Int) {
        marketDataLinesLimit.record(maxMarketDataLines)
        avDailyLimit.record(alphaVantageDailyLimit)
        for code in Self.initialIBErrorCodes {
            Counter(label: Name.ibErrors, dimensions: [("code", String(code))], factory: factory).increment(by: 0)
        }
        for code in Self.initialIBNoticeCodes {
            Counter(label: Name.ibNotices, dimensions: [("code", String(code))], factory: factory).increment(by: 0)
        }
        for reason in ["unknown", "undecodable", "late"] { ibMessagesSkipped(reason: reason, count: 0) }
        for errorClass in Self.initialRedisRefusalClasses { redisWritesRefused(errorClass: errorClass, count: 0) }
        for function in ["GLOBAL_QUOTE", "REALTIME_BULK_QUOTES", "REALTIME_OPTIONS"] {
            Counter(label: Name.avRequests, dimensions: [("function", function)], factory: factory).increment(by: 0)
        }
        for kind in ["throttled", "daily_limit", "premium_only", "invalid_call", "http", "timeout", "transport", "malformed", "empty_result"] {
            Counter(label: Name.avErrors, dimensions: [("kind", kind)], factory: factory).increment(by: 0)
        }
        for symbol in symbols {
            Gauge(label: Name.symbolStaleness, dimensions: [("symbol", symbol)], factory: factory).record(Double.nan)
        }
        workerState("starting")
        dataSource("ib")
        leaseRole(active: true)
        leaseTakeovers.increment(by: 0)
        redisWritesFenced.increment(by: 0)
    }

    /// The `/metrics` body: the registry's exposition with a `# HELP` line before every
    /// `# TYPE` line (swift-prometheus' swift-metrics factory writes none) and NaN spelt as
    /// Prometheus spells it.
    public static func exposition(_ registry: PrometheusCollectorRegistry) -> [UInt8] {
        Array(addingHelp(to: String(decoding: registry.emitToBuffer(), as: UTF8.self)).utf8)
    }

    /// Inserts `# HELP name text` before each `# TYPE name ...` that has none, from ``families``.
    public static func addingHelp(to text: String) -> String {
        let help = Dictionary(uniqueKeysWithValues: families.map { ($0.name, $0.help) })
        var previous: Substring = ""
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), !previous.hasPrefix("# HELP ") {
                let name = line.dropFirst("# TYPE ".count).split(separator: " ").first.map(String.init) ?? ""
                lines.append("# HELP \(name) \(escapeHelp(help[name] ?? name.replacingOccurrences(of: "_", with: " ")))")
            }
            if line.hasSuffix(" nan") {
                lines.append(String(line.dropLast(3)) + "NaN")
            } else {
                lines.append(String(line))
            }
            previous = line
        }
        return lines.joined(separator: "\n")
    }

    /// HELP text escaping per the exposition format: backslash and line feed.
    static func escapeHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}
