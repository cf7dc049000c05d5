import Logging
import MarketModel

/// What the poller reports to its owner (the relay publishes quotes and options, counts and
/// reports failures).
public enum AlphaVantagePollEvent: Sendable, Hashable {
    /// Fresh quotes from one call.
    case quotes([QuoteSnapshot])
    /// A fresh option chain of one underlying.
    case options(symbol: String, [OptionSnapshot])
    /// A fresh FX quote (CURRENCY_EXCHANGE_RATE); its `symbol` is the pair's
    /// `AlphaVantageRequest.pairSymbol` (`EUR/USD`).
    case exchangeRate(QuoteSnapshot)
    /// A call failed; `request.symbols` says which symbols it concerned. Symbols missing from
    /// a bulk answer are reported as `.emptyResult` for a `.globalQuote` of each.
    case failure(AlphaVantageRequest, AlphaVantageError)
}

/// The loop that carries out `PollScheduler`'s decisions: wait, call, report, repeat.
///
/// An actor so the failover logic can change the polled symbols while the loop runs; the
/// clock is injected so the same code runs against `ContinuousClock` in production.
public actor AlphaVantagePoller<C: Clock> where C.Duration == Duration, C.Instant: Sendable {
    private let client: AlphaVantageClient
    private let clock: C
    private var scheduler: PollScheduler<C.Instant>
    private let logger: Logger
    /// Longest single sleep, so new symbols are picked up promptly while idle.
    private let idleCheck: Duration

    public init(
        client: AlphaVantageClient,
        scheduler: PollScheduler<C.Instant>,
        clock: C,
        idleCheck: Duration = .milliseconds(250),
        logger: Logger = Logger(label: "quote-relay.alphavantage.poller")
    ) {
        self.client = client
        self.scheduler = scheduler
        self.clock = clock
        self.idleCheck = idleCheck
        self.logger = logger
    }

    /// A poller whose limits and switches come from `client.configuration`.
    public init(client: AlphaVantageClient, clock: C, logger: Logger = Logger(label: "quote-relay.alphavantage.poller")) {
        let c = client.configuration
        let limiter = RateLimiter<C.Instant>(configuration: .init(requestsPerMinute: c.requestsPerMinute, requestsPerDay: c.requestsPerDay))
        let scheduler = PollScheduler(configuration: .init(bulkQuotes: c.bulkQuotes, options: c.options), limiter: limiter)
        self.init(client: client, scheduler: scheduler, clock: clock, logger: logger)
    }

    /// The symbols to poll now; empty lists stop polling without ending `run`. `exchangeRates`
    /// are FX pairs (`from`, `to`) polled with CURRENCY_EXCHANGE_RATE in the same round and
    /// budget as the quotes.
    public func setSymbols(quotes: [String], options: [String] = [], exchangeRates: [CurrencyPair] = []) {
        scheduler.setSymbols(quotes: quotes, options: options, exchangeRates: exchangeRates)
    }

    /// A copy of the scheduler state, for status and tests.
    public var state: PollScheduler<C.Instant> { scheduler }

    /// Polls until the task is cancelled. `onEvent` runs inline: a slow consumer slows the
    /// poll, which is the right back-pressure for a budgeted API.
    public func run(onEvent: @Sendable (AlphaVantagePollEvent) async -> Void) async {
        while !Task.isCancelled {
            let now = clock.now
            switch scheduler.next(at: now) {
            case .idle:
                if (try? await clock.sleep(until: now.advanced(by: idleCheck), tolerance: nil)) == nil { return }
            case .wait(let until):
                let wake = min(until, now.advanced(by: idleCheck))
                if (try? await clock.sleep(until: wake, tolerance: nil)) == nil { return }
            case .run(let request):
                await execute(request, onEvent: onEvent)
            }
        }
    }

    private func execute(_ request: AlphaVantageRequest, onEvent: @Sendable (AlphaVantagePollEvent) async -> Void) async {
        do {
            let result = try await client.perform(request)
            var missing: [String] = []
            switch result {
            case .quotes(let quotes):
                let got = Set(quotes.map(\.symbol))
                missing = request.symbols.filter { !got.contains(AlphaVantageDecoder.normalizedSymbol($0)) }
                await onEvent(.quotes(quotes))
            case .options(let symbol, let options):
                await onEvent(.options(symbol: symbol, options))
            case .exchangeRate(let quote):
                await onEvent(.exchangeRate(quote))
            }
            scheduler.record(request, .success(missing: missing), at: clock.now)
            for symbol in missing { await onEvent(.failure(.globalQuote(symbol), .emptyResult)) }
        } catch let error as AlphaVantageError {
            scheduler.record(request, .failure(error), at: clock.now)
            // A throttle notice is the API working as designed; the rest need a look.
            let level: Logger.Level = if case .throttled = error { .notice } else { .warning }
            logger.log(level: level, "alpha vantage call failed", metadata: [
                "request": "\(request)", "error": "\(error)", "code": "\(error.code)",
            ])
            await onEvent(.failure(request, error))
        } catch {
            return  // cancelled: `run` sees Task.isCancelled and ends
        }
    }
}
