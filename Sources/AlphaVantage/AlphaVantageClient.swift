import Essentials
import Logging
import MarketModel

/// The Alpha Vantage REST calls quote-relay needs, decoded into the shared snapshots.
///
/// The client runs exactly the call it is asked for: pacing and back-off live in
/// `RateLimiter` / `PollScheduler` (pure) and `AlphaVantagePoller` (the loop), so tests and
/// the failover code can reason about budgets without a network. Every error it throws is an
/// `AlphaVantageError` (or `CancellationError`), and no error, log line or description it
/// produces contains the API key.
public struct AlphaVantageClient: Sendable {
    public let configuration: AlphaVantageConfiguration
    private let http: HTTPClient
    private let logger: Logger

    /// `http` defaults to a client built from `configuration.http`; pass one to share it.
    public init(configuration: AlphaVantageConfiguration, http: HTTPClient? = nil, logger: Logger = Logger(label: "quote-relay.alphavantage")) {
        self.configuration = configuration
        self.http = http ?? HTTPClient(configuration: configuration.http)
        self.logger = logger
    }

    /// GLOBAL_QUOTE: the latest quote of one symbol; `data_type` follows the entitlement
    /// (end-of-day without one).
    public func globalQuote(_ symbol: String) async throws -> QuoteSnapshot {
        let request = AlphaVantageRequest.globalQuote(symbol)
        let object = try await fetch(request)
        return try decoding { () throws(AlphaVantageError) in
            try AlphaVantageDecoder.globalQuote(object, symbol: symbol, dataType: configuration.entitlement.globalQuoteDataType)
        }
    }

    /// REALTIME_BULK_QUOTES for up to 100 symbols (more is a programming error: split with
    /// `PollScheduler`). Symbols Alpha Vantage does not know are absent from the result.
    public func bulkQuotes(_ symbols: [String]) async throws -> [QuoteSnapshot] {
        precondition(!symbols.isEmpty && symbols.count <= AlphaVantageRequest.maxBulkSymbols, "bulkQuotes takes 1...100 symbols")
        let request = AlphaVantageRequest.bulkQuotes(symbols)
        let object = try await fetch(request)
        return try decoding { () throws(AlphaVantageError) in
            try AlphaVantageDecoder.bulkQuotes(object, symbols: symbols, dataType: configuration.entitlement.realtimeEndpointDataType)
        }
    }

    /// REALTIME_OPTIONS with greeks and implied volatility: the whole chain of `symbol`.
    public func options(_ symbol: String) async throws -> [OptionSnapshot] {
        let request = AlphaVantageRequest.options(symbol)
        let object = try await fetch(request)
        return try decoding { () throws(AlphaVantageError) in
            try AlphaVantageDecoder.options(object, symbol: symbol, dataType: configuration.entitlement.realtimeEndpointDataType)
        }
    }

    /// CURRENCY_EXCHANGE_RATE: the latest rate, bid and ask of the FX pair `from`/`to`
    /// (`AlphaVantageDecoder.exchangeRate`). Alpha Vantage serves it without an entitlement,
    /// as a realtime rate.
    public func exchangeRate(from: String, to: String) async throws -> QuoteSnapshot {
        let request = AlphaVantageRequest.exchangeRate(from: from, to: to)
        let object = try await fetch(request)
        return try decoding { () throws(AlphaVantageError) in
            try AlphaVantageDecoder.exchangeRate(object, from: from, to: to, dataType: .alphavantageRealtime)
        }
    }

    /// Runs `request` and returns its result as the poller consumes it.
    public func perform(_ request: AlphaVantageRequest) async throws -> AlphaVantageResult {
        switch request {
        case .globalQuote(let s): .quotes([try await globalQuote(s)])
        case .bulkQuotes(let list): .quotes(try await bulkQuotes(list))
        case .options(let s): .options(symbol: s, try await options(s))
        case .exchangeRate(let from, let to): .exchangeRate(try await exchangeRate(from: from, to: to))
        }
    }

    /// The request URL with the key redacted: what logs and diagnostics may show.
    public func redactedURL(for request: AlphaVantageRequest) -> String {
        Redaction.url(url(for: request))
    }

    func url(for request: AlphaVantageRequest) -> String {
        var items = request.queryItems(entitlement: configuration.entitlement)
        items.append(("apikey", configuration.apiKey.value))
        return QueryEncoding.url(base: configuration.baseURL, items: items)
    }

    /// GET + status check + JSON parse; every failure leaves as a redacted `AlphaVantageError`.
    private func fetch(_ request: AlphaVantageRequest) async throws -> [String: Any] {
        let response: HTTPResponse
        do {
            response = try await http.get(url(for: request), headers: ["Accept: application/json"])
        } catch let error as HTTPClientError {
            let mapped: AlphaVantageError
            switch error {
            case .cancelled: throw CancellationError()
            case .timeout: mapped = .timeout
            case .transport(_, let message): mapped = .transport(message)
            case .bodyTooLarge: mapped = .malformed(error.description)
            }
            logger.debug("alpha vantage request failed", metadata: ["request": "\(request)", "error": "\(redact(mapped))"])
            throw redact(mapped)
        }
        logger.debug("alpha vantage answered", metadata: [
            "url": "\(Redaction.url(url(for: request)))", "status": "\(response.status)", "bytes": "\(response.body.count)",
        ])
        guard (200..<300).contains(response.status) else { throw AlphaVantageError.http(status: response.status) }
        do {
            return try AlphaVantageDecoder.jsonObject(response.body)
        } catch {
            throw redact(error)
        }
    }

    private func decoding<T>(_ body: () throws(AlphaVantageError) -> T) throws(AlphaVantageError) -> T {
        do {
            return try body()
        } catch {
            throw redact(error)
        }
    }

    /// Strips the key from any text an error carries (the daily-cap notice quotes it).
    func redact(_ error: AlphaVantageError) -> AlphaVantageError {
        let key = configuration.apiKey.value
        let r = { (s: String) in Redaction.text(s, removing: key) }
        switch error {
        case .throttled(let m): return .throttled(r(m))
        case .dailyLimit(let m): return .dailyLimit(r(m))
        case .premiumOnly(let m): return .premiumOnly(r(m))
        case .invalidCall(let m): return .invalidCall(r(m))
        case .transport(let m): return .transport(r(m))
        case .malformed(let m): return .malformed(r(m))
        case .http, .timeout, .emptyResult: return error
        }
    }
}

/// What one successful request produced.
public enum AlphaVantageResult: Sendable, Hashable {
    case quotes([QuoteSnapshot])
    case options(symbol: String, [OptionSnapshot])
    /// One FX pair's quote; its `symbol` is `AlphaVantageRequest.pairSymbol` (`EUR/USD`).
    case exchangeRate(QuoteSnapshot)
}
