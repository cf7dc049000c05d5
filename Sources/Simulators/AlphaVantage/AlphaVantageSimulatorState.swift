import Essentials
import Foundation
import NIOConcurrencyHelpers

/// How the simulator answers `/query`. Each mode reproduces one failure Alpha Vantage really
/// produces, with its real body text.
public enum AlphaVantageSimulatorMode: String, Sendable, Hashable, CaseIterable {
    /// Data, in the documented shapes.
    case ok
    /// Rate-limit notices, alternating the older `Note` and the newer burst `Information`.
    case throttle
    /// The daily-cap `Information` (it quotes the caller's key back, as the real one does).
    case dailyLimit = "daily-limit"
    /// Premium-only answers for REALTIME_BULK_QUOTES and REALTIME_OPTIONS; GLOBAL_QUOTE and
    /// CURRENCY_EXCHANGE_RATE (free endpoints) work.
    case premium
    /// `Error Message` (invalid API call) for every request.
    case error
    /// HTTP 500 with a plain-text body.
    case http500 = "http-500"
    /// A valid answer cut in half.
    case malformed
    /// A valid answer after `delayMilliseconds`.
    case slow
}

/// What the simulator has seen; `/_stats` serves the same as JSON.
public struct AlphaVantageSimulatorStats: Sendable, Hashable {
    /// `/query` requests received.
    public var total = 0
    /// Requests per `function` parameter (`GLOBAL_QUOTE`, ...; `""` when missing).
    public var byFunction: [String: Int] = [:]
    /// Requests per Unix minute (epoch seconds / 60).
    public var byMinute: [Int64: Int] = [:]
    /// Answers that were throttle notices.
    public var throttled = 0
    /// Arrival times (epoch seconds) of the last 10 000 requests.
    public var arrivals: [Double] = []
    /// Query parameters of the last request, `apikey` shown as `***`.
    public var lastQuery: [String: String] = [:]
    /// The `Accept-Encoding` header of the last request.
    public var lastAcceptEncoding: String?
    /// The JSON body of the last `/query` answer (data or notice), so a test can check that
    /// what reached Redis is what was served.
    public var lastBody: String?

    /// The largest number of requests that arrived within any `window` (sliding).
    public func maxRequests(inAnyWindowOf window: Double) -> Int {
        var best = 0
        var start = 0
        for end in arrivals.indices {
            while arrivals[end] - arrivals[start] >= window { start += 1 }
            best = max(best, end - start + 1)
        }
        return best
    }
}

/// The simulator's mutable state, shared by its connections; one lock, held briefly.
final class AlphaVantageSimulatorState: Sendable {
    struct Settings: Sendable {
        var mode: AlphaVantageSimulatorMode
        var delayMilliseconds: Int
        var unknownSymbols: Set<String>
        /// When set, more requests than this in 60 s are answered with a throttle notice.
        var requestsPerMinute: Int?
    }

    private struct Inner {
        var settings: Settings
        var stats = AlphaVantageSimulatorStats()
        /// Per-symbol request counter: the seed of the symbol's next price.
        var ticks: [String: UInt64] = [:]
    }

    private let inner: NIOLockedValueBox<Inner>

    init(settings: Settings) {
        inner = NIOLockedValueBox(Inner(settings: settings))
    }

    var settings: Settings { inner.withLockedValue { $0.settings } }
    var stats: AlphaVantageSimulatorStats { inner.withLockedValue { $0.stats } }

    func update(_ body: (inout Settings) -> Void) {
        inner.withLockedValue { body(&$0.settings) }
    }

    func resetStats() {
        inner.withLockedValue { $0.stats = AlphaVantageSimulatorStats() }
    }

    /// Counts one `/query` request; returns the settings to answer it with and whether it
    /// exceeds the simulated per-minute limit.
    func arrive(function: String, query: [String: String], acceptEncoding: String?, now: Double) -> (Settings, overLimit: Bool) {
        inner.withLockedValue { s in
            s.stats.total += 1
            s.stats.byFunction[function, default: 0] += 1
            s.stats.byMinute[Int64(now / 60), default: 0] += 1
            s.stats.arrivals.append(now)
            if s.stats.arrivals.count > 10_000 { s.stats.arrivals.removeFirst(s.stats.arrivals.count - 10_000) }
            var shown = query
            if shown["apikey"] != nil { shown["apikey"] = Redaction.mask }
            s.stats.lastQuery = shown
            s.stats.lastAcceptEncoding = acceptEncoding
            var over = false
            if let limit = s.settings.requestsPerMinute {
                over = s.stats.arrivals.reversed().prefix { now - $0 < 60 }.count > limit
            }
            return (s.settings, over)
        }
    }

    func noteBody(_ body: String) {
        inner.withLockedValue { $0.stats.lastBody = body }
    }

    func noteThrottled() {
        inner.withLockedValue { $0.stats.throttled += 1 }
    }

    /// The next tick number of `symbol` (0, 1, 2, ...): prices move once per request.
    func nextTick(_ symbol: String) -> UInt64 {
        inner.withLockedValue { s in
            let t = s.ticks[symbol, default: 0]
            s.ticks[symbol] = t + 1
            return t
        }
    }
}
