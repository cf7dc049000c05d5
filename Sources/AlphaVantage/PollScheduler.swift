/// Chooses which Alpha Vantage call to make next so that every failed-over symbol is
/// refreshed as often as the budget allows. Pure, like `RateLimiter`, which it owns.
///
/// - Quotes go round-robin: one GLOBAL_QUOTE per symbol, or REALTIME_BULK_QUOTES batches of
///   up to 100 when bulk quotes are enabled, so with N symbols and R requests a minute each
///   symbol is refreshed every N/R minutes (every ceil(N/100)/R with bulk).
/// - FX pairs (CURRENCY_EXCHANGE_RATE, one call per pair) take their turn in the quote round,
///   under the same budget; a bulk call never spans a pair, so no pair is skipped.
/// - Options (when enabled) take one call after each full round of quotes, so quotes stay the
///   fresher of the two; option underlyings go round-robin too.
/// - A throttled or daily-capped call is retried first once the back-off has passed.
/// - A premium-only answer switches that endpoint off: bulk falls back to GLOBAL_QUOTE,
///   options stop. An invalid or empty answer for a symbol suspends that symbol for
///   `symbolRetryInterval` so one bad ticker cannot eat the budget of the others; an invalid
///   bulk call falls back to single quotes, which isolates the bad symbol.
public struct PollScheduler<Instant: InstantProtocol & Sendable>: Sendable where Instant.Duration == Duration {
    public struct Configuration: Sendable, Hashable {
        public var bulkQuotes: Bool
        public var options: Bool
        /// Symbols per bulk call, 1...100 [100].
        public var bulkBatchSize: Int
        /// How long a symbol Alpha Vantage rejected is left out [10 min].
        public var symbolRetryInterval: Duration

        public init(bulkQuotes: Bool, options: Bool, bulkBatchSize: Int = AlphaVantageRequest.maxBulkSymbols, symbolRetryInterval: Duration = .seconds(600)) {
            self.bulkQuotes = bulkQuotes
            self.options = options
            self.bulkBatchSize = min(max(1, bulkBatchSize), AlphaVantageRequest.maxBulkSymbols)
            self.symbolRetryInterval = symbolRetryInterval
        }
    }

    public enum Step: Sendable, Hashable {
        /// Run this request now (the limiter has counted it), then call `record`.
        case run(AlphaVantageRequest)
        /// Nothing may or need start before this instant.
        case wait(until: Instant)
        /// No symbols to poll.
        case idle
    }

    public enum Outcome: Sendable, Hashable {
        /// Data came back; `missing` lists symbols of a bulk call that were not in it.
        case success(missing: [String])
        case failure(AlphaVantageError)

        public static var success: Outcome { .success(missing: []) }
    }

    public let configuration: Configuration
    public private(set) var limiter: RateLimiter<Instant>
    public private(set) var bulkEnabled: Bool
    public private(set) var optionsEnabled: Bool
    public private(set) var quoteSymbols: [String] = []
    public private(set) var optionSymbols: [String] = []
    /// The FX pairs among `quoteSymbols`, by their `CurrencyPair.symbol` (`EUR/USD`).
    public private(set) var pairs: [String: CurrencyPair] = [:]
    private var quoteCursor = 0
    private var optionCursor = 0
    /// Quote calls made since the last options call.
    private var quoteCallsSinceOptions = 0
    private var retry: [AlphaVantageRequest] = []
    /// Symbol -> until when it is left out.
    private var suspendedQuotes: [String: Instant] = [:]
    private var suspendedOptions: [String: Instant] = [:]

    public init(configuration: Configuration, limiter: RateLimiter<Instant>) {
        self.configuration = configuration
        self.limiter = limiter
        self.bulkEnabled = configuration.bulkQuotes
        self.optionsEnabled = configuration.options
    }

    /// Replaces the polled symbols (the failover logic adds and removes them per symbol).
    /// `exchangeRates` join the quote round after the quotes. Pending retries of symbols no
    /// longer polled are dropped.
    public mutating func setSymbols(quotes: [String], options: [String] = [], exchangeRates: [CurrencyPair] = []) {
        pairs = Dictionary(exchangeRates.map { ($0.symbol, $0) }, uniquingKeysWith: { first, _ in first })
        quoteSymbols = Self.unique(quotes + exchangeRates.map(\.symbol))
        optionSymbols = Self.unique(options)
        quoteCursor = quoteSymbols.isEmpty ? 0 : quoteCursor % quoteSymbols.count
        optionCursor = optionSymbols.isEmpty ? 0 : optionCursor % optionSymbols.count
        let q = Set(quoteSymbols), o = Set(optionSymbols)
        retry = retry.compactMap { request in
            switch request {
            case .globalQuote(let s): q.contains(s) ? request : nil
            case .exchangeRate: q.contains(request.symbols[0]) ? request : nil
            case .options(let s): o.contains(s) ? request : nil
            case .bulkQuotes(let list):
                list.filter(q.contains).isEmpty ? nil : .bulkQuotes(list.filter(q.contains))
            }
        }
    }

    /// The next step at `now`. A `.run` has already been counted against the budget.
    public mutating func next(at now: Instant) -> Step {
        guard let request = candidate(at: now) else {
            if let resume = earliestResume(), resume > now { return .wait(until: resume) }
            return .idle
        }
        switch limiter.acquire(at: now) {
        case .wait(let until):
            return .wait(until: until)
        case .granted:
            commit(request)
            return .run(request)
        }
    }

    /// Feeds back how `request` ended at `now`.
    public mutating func record(_ request: AlphaVantageRequest, _ outcome: Outcome, at now: Instant) {
        switch outcome {
        case .success(let missing):
            limiter.recordSuccess()
            for s in request.symbols where !missing.contains(s) { unsuspend(s, request) }
            for s in missing { suspendedQuotes[s] = now.advanced(by: configuration.symbolRetryInterval) }
        case .failure(let error):
            switch error {
            case .throttled:
                limiter.recordBackoff(.throttled, at: now)
                retry.insert(request, at: 0)
            case .dailyLimit:
                limiter.recordBackoff(.dailyLimit, at: now)
                retry.insert(request, at: 0)
            case .premiumOnly:
                switch request {
                case .bulkQuotes(let list):
                    bulkEnabled = false
                    retry.insert(contentsOf: list.map(AlphaVantageRequest.globalQuote), at: 0)
                case .options:
                    optionsEnabled = false
                case .globalQuote, .exchangeRate:
                    // The entitlement asked for is not on this plan: nothing will succeed
                    // until someone changes the configuration, so probe rarely.
                    limiter.recordBackoff(.dailyLimit, at: now)
                }
            case .invalidCall, .emptyResult:
                limiter.recordSuccess()
                switch request {
                case .bulkQuotes(let list) where error != .emptyResult:
                    bulkEnabled = false
                    retry.insert(contentsOf: list.map(AlphaVantageRequest.globalQuote), at: 0)
                case .bulkQuotes(let list):
                    for s in list { suspendedQuotes[s] = now.advanced(by: configuration.symbolRetryInterval) }
                case .globalQuote(let s):
                    suspendedQuotes[s] = now.advanced(by: configuration.symbolRetryInterval)
                case .exchangeRate:
                    suspendedQuotes[request.symbols[0]] = now.advanced(by: configuration.symbolRetryInterval)
                case .options(let s):
                    suspendedOptions[s] = now.advanced(by: configuration.symbolRetryInterval)
                }
            case .http, .timeout, .transport, .malformed:
                limiter.recordBackoff(.transient, at: now)
            }
        }
    }

    /// Whether `symbol`'s quotes are currently left out after a rejection.
    public func isSuspended(_ symbol: String, at now: Instant) -> Bool {
        if let until = suspendedQuotes[symbol] { return until > now }
        return false
    }

    // MARK: - Choosing

    private func candidate(at now: Instant) -> AlphaVantageRequest? {
        if let first = retry.first { return first }
        let quotes = nextQuoteRequest(at: now)
        let option = optionsEnabled ? nextOptionSymbol(at: now) : nil
        if let option, quotes == nil || quoteCallsSinceOptions >= quoteRoundLength { return .options(option) }
        return quotes
    }

    /// Quote calls in one full round over the symbols.
    private var quoteRoundLength: Int {
        guard !quoteSymbols.isEmpty else { return 0 }
        guard bulkEnabled else { return quoteSymbols.count }
        let stocks = quoteSymbols.count - pairs.count
        return (stocks + configuration.bulkBatchSize - 1) / configuration.bulkBatchSize + pairs.count
    }

    private func nextQuoteRequest(at now: Instant) -> AlphaVantageRequest? {
        let order = rotated(quoteSymbols, from: quoteCursor).filter { suspendedQuotes[$0].map { $0 <= now } ?? true }
        guard let first = order.first else { return nil }
        if let pair = pairs[first] { return .exchangeRate(from: pair.from, to: pair.to) }
        guard bulkEnabled else { return .globalQuote(first) }
        // A batch stops before the next pair: the cursor then lands on the pair, which gets
        // its own call next rather than being stepped over.
        let batch = order.prefix { pairs[$0] == nil }.prefix(configuration.bulkBatchSize)
        return .bulkQuotes(Array(batch))
    }

    private func nextOptionSymbol(at now: Instant) -> String? {
        rotated(optionSymbols, from: optionCursor).first { suspendedOptions[$0].map { $0 <= now } ?? true }
    }

    /// Advances the cursors past what `request` covers.
    private mutating func commit(_ request: AlphaVantageRequest) {
        if let first = retry.first, first == request {
            retry.removeFirst()
            return
        }
        switch request {
        case .globalQuote(let s):
            advanceQuoteCursor(past: s)
            quoteCallsSinceOptions += 1
        case .exchangeRate:
            advanceQuoteCursor(past: request.symbols[0])
            quoteCallsSinceOptions += 1
        case .bulkQuotes(let list):
            if let last = list.last { advanceQuoteCursor(past: last) }
            quoteCallsSinceOptions += 1
        case .options(let s):
            if let i = optionSymbols.firstIndex(of: s) { optionCursor = (i + 1) % optionSymbols.count }
            quoteCallsSinceOptions = 0
        }
    }

    private mutating func advanceQuoteCursor(past symbol: String) {
        if let i = quoteSymbols.firstIndex(of: symbol) { quoteCursor = (i + 1) % quoteSymbols.count }
    }

    private mutating func unsuspend(_ symbol: String, _ request: AlphaVantageRequest) {
        if case .options = request { suspendedOptions[symbol] = nil } else { suspendedQuotes[symbol] = nil }
    }

    /// When a suspended symbol comes back, if nothing else is pollable.
    private func earliestResume() -> Instant? {
        let quoteTimes = quoteSymbols.compactMap { suspendedQuotes[$0] }
        let optionTimes = optionsEnabled ? optionSymbols.compactMap { suspendedOptions[$0] } : []
        return (quoteTimes + optionTimes).min()
    }

    private func rotated(_ list: [String], from start: Int) -> [String] {
        guard !list.isEmpty else { return [] }
        let s = start % list.count
        return Array(list[s...] + list[..<s])
    }

    private static func unique(_ list: [String]) -> [String] {
        var seen = Set<String>()
        return list.filter { seen.insert($0).inserted }
    }
}
