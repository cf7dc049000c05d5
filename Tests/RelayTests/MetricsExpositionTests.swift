import Foundation
import Prometheus
import Testing
@testable import Relay

/// Issue 16 item 9: `/metrics` by Prometheus' conventions. A private registry per test.
@Suite("Metrics exposition")
struct MetricsExpositionTests {
    func fresh() -> (PrometheusCollectorRegistry, RelayMetrics) {
        let registry = PrometheusCollectorRegistry()
        let metrics = RelayMetrics(factory: RelayMetrics.makeFactory(registry: registry))
        metrics.initialiseSeries(symbols: ["AAPL", "SPY"], maxMarketDataLines: 100, alphaVantageDailyLimit: 25)
        return (registry, metrics)
    }

    func text(_ registry: PrometheusCollectorRegistry) -> String {
        String(decoding: RelayMetrics.exposition(registry), as: UTF8.self)
    }

    /// name{labels} -> value, for the sample lines.
    func samples(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            out[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return out
    }

    @Test func everyCatalogueFamilyExistsAtStartWithHelpAndType() {
        let (registry, _) = fresh()
        let lines = text(registry).split(separator: "\n").map(String.init)
        for family in RelayMetrics.families {
            let type = "# TYPE \(family.name) \(family.kind.rawValue)"
            let index = lines.firstIndex(of: type)
            #expect(index != nil, "\(family.name) is not exported at start-up")
            if let index {
                #expect(index > 0 && lines[index - 1] == "# HELP \(family.name) \(family.help)")
            }
        }
        let types = lines.filter { $0.hasPrefix("# TYPE ") }
        let helps = lines.filter { $0.hasPrefix("# HELP ") }
        #expect(types.count == helps.count)
        #expect(Set(types).count == types.count, "a family exported twice")
        #expect(!lines.contains { $0.hasPrefix("quote_relay_alphavantage_throttled_total") })
    }

    @Test func startUpValuesAreZeroOrUnknown() {
        let (registry, _) = fresh()
        let s = samples(text(registry))
        #expect(s["quote_relay_ib_connected"] == "0.0")
        #expect(s["quote_relay_ib_reconnects_total"] == "0")
        #expect(s["quote_relay_failovers_total"] == "0")
        #expect(s["quote_relay_redis_write_latency_seconds_count"] == "0")
        #expect(s["quote_relay_ib_market_data_lines_limit"] == "100.0")
        #expect(s["quote_relay_alphavantage_daily_limit"] == "25.0")
        #expect(s[#"quote_relay_ib_errors_total{code="326"}"#] == "0")
        #expect(s[#"quote_relay_alphavantage_errors_total{kind="throttled"}"#] == "0")
        #expect(s[#"quote_relay_alphavantage_requests_total{function="GLOBAL_QUOTE"}"#] == "0")
        // Unknown, not "fresh": NaN until the first confirmation, spelt as Prometheus spells it.
        #expect(s[#"quote_relay_symbol_staleness_seconds{symbol="SPY"}"#] == "NaN")
        #expect(s[#"quote_relay_worker_state{state="starting"}"#] == "1.0")
        #expect(s[#"quote_relay_worker_state{state="failover"}"#] == "0.0")
    }

    @Test func informationalIBCodesAreNoticesNotErrors() {
        let (registry, metrics) = fresh()
        for code in [2104, 2106, 2158, 2107, 2108, 1102] { metrics.ibError(code: code) }
        metrics.ibError(code: 326)
        metrics.ibError(code: 2103)
        let s = samples(text(registry))
        #expect(s[#"quote_relay_ib_notices_total{code="2104"}"#] == "1")
        #expect(s[#"quote_relay_ib_errors_total{code="2104"}"#] == nil)
        #expect(s[#"quote_relay_ib_errors_total{code="326"}"#] == "1")
        #expect(s[#"quote_relay_ib_errors_total{code="2103"}"#] == "1")
        let errors = s.filter { $0.key.hasPrefix("quote_relay_ib_errors_total") }.values.compactMap { Int($0) }.reduce(0, +)
        #expect(errors == 2)
    }

    @Test func helpIsInsertedOnlyWhereMissingAndEscaped() {
        let input = "# TYPE quote_relay_ib_connected gauge\nquote_relay_ib_connected 1.0\n# HELP x already\n# TYPE x counter\nx 1\n"
        let out = RelayMetrics.addingHelp(to: input)
        #expect(out.hasPrefix("# HELP quote_relay_ib_connected 1 while the TWS API session"))
        #expect(out.components(separatedBy: "# HELP x").count == 2)
        #expect(RelayMetrics.escapeHelp("a\\b\nc") == "a\\\\b\\nc")
    }
}
