import Essentials
import MarketModel

/// The `alphavantage.*` configuration keys (CONTRACT §2) plus the HTTP limits.
public struct AlphaVantageConfiguration: Sendable {
    /// Which market data the key is licensed for; decides the `entitlement` query parameter
    /// and the `data_type` written to Redis.
    public enum Entitlement: String, Sendable, Hashable, CaseIterable {
        /// No entitlement parameter. GLOBAL_QUOTE then serves end-of-day data "for all users"
        /// (Alpha Vantage documentation, Quote Endpoint: "by default, the quote endpoint is
        /// updated at the end of each trading day for all users").
        case none
        /// `entitlement=delayed`: 15-minute delayed US data (GLOBAL_QUOTE then answers under
        /// the key "Global Quote - DATA DELAYED BY 15 MINUTES").
        case delayed
        /// `entitlement=realtime`.
        case realtime

        /// The query parameter value, nil for none.
        public var queryValue: String? {
            switch self {
            case .none: nil
            case .delayed: "delayed"
            case .realtime: "realtime"
            }
        }

        /// `data_type` of a GLOBAL_QUOTE answer.
        public var globalQuoteDataType: DataType {
            switch self {
            case .none: .alphavantageEOD
            case .delayed: .alphavantageDelayed
            case .realtime: .alphavantageRealtime
            }
        }

        /// `data_type` of REALTIME_BULK_QUOTES / REALTIME_OPTIONS answers: these premium
        /// endpoints serve realtime data unless the delayed entitlement is asked for.
        public var realtimeEndpointDataType: DataType {
            self == .delayed ? .alphavantageDelayed : .alphavantageRealtime
        }
    }

    /// `alphavantage.base_url` [https://www.alphavantage.co/query].
    public var baseURL: String
    /// `alphavantage.api_key` (usually from ALPHAVANTAGE_API_KEY). Never printed.
    public var apiKey: APIKey
    /// `alphavantage.entitlement` [none].
    public var entitlement: Entitlement
    /// `alphavantage.requests_per_minute` [5].
    public var requestsPerMinute: Int
    /// `alphavantage.requests_per_day` [25]; 0 means no daily cap (premium plans).
    public var requestsPerDay: Int
    /// `alphavantage.bulk_quotes` [false]: REALTIME_BULK_QUOTES, up to 100 symbols a call.
    public var bulkQuotes: Bool
    /// `alphavantage.options` [false]: REALTIME_OPTIONS with greeks during failover.
    public var options: Bool
    /// Connect and total timeouts, body limit.
    public var http: HTTPClientConfiguration

    public init(
        baseURL: String = "https://www.alphavantage.co/query",
        apiKey: APIKey,
        entitlement: Entitlement = .none,
        requestsPerMinute: Int = 5,
        requestsPerDay: Int = 25,
        bulkQuotes: Bool = false,
        options: Bool = false,
        http: HTTPClientConfiguration = .init()
    ) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.entitlement = entitlement
        self.requestsPerMinute = requestsPerMinute
        self.requestsPerDay = requestsPerDay
        self.bulkQuotes = bulkQuotes
        self.options = options
        self.http = http
    }
}

/// The API key. Its description, debug description and mirror are redacted, so
/// interpolating a configuration into a log line or `dump()`ing it cannot leak the key.
public struct APIKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret itself; read it only to build a request.
    public let value: String

    public init(_ value: String) { self.value = value }

    public var isEmpty: Bool { value.isEmpty }
    public var description: String { Redaction.mask }
    public var debugDescription: String { "APIKey(\(Redaction.mask))" }
    public var customMirror: Mirror { Mirror(self, children: ["value": Redaction.mask]) }
}
