/// Everything that can go wrong with one Alpha Vantage request, as codes a caller can act on.
///
/// Alpha Vantage answers most failures with HTTP 200 and a one-key JSON body, so the first
/// four cases come from the body text (see `AlphaVantageDecoder.classify`). Every message is
/// stripped of the API key before it is stored here: the daily-cap text quotes the key back
/// ("We have detected your API key as ... ").
public enum AlphaVantageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Per-minute / per-second rate limit. Back the whole client off and retry later.
    case throttled(String)
    /// The key's daily request cap is used up. Back off for hours, not seconds.
    case dailyLimit(String)
    /// The endpoint (or entitlement) needs a premium plan this key does not have.
    case premiumOnly(String)
    /// `Error Message`: an unknown symbol or function, a missing or invalid API key.
    case invalidCall(String)
    /// A non-2xx status code.
    case http(status: Int)
    /// The connect or total timeout expired.
    case timeout
    /// The exchange failed below HTTP (refused, reset, DNS, TLS).
    case transport(String)
    /// A 200 answer that is not the documented JSON shape (truncated, unexpected keys).
    case malformed(String)
    /// A well-formed answer without data, e.g. `{"Global Quote": {}}` for an unknown symbol.
    case emptyResult

    public var description: String {
        switch self {
        case .throttled(let m): "Alpha Vantage throttled the request: \(m)"
        case .dailyLimit(let m): "Alpha Vantage daily request limit reached: \(m)"
        case .premiumOnly(let m): "Alpha Vantage premium endpoint: \(m)"
        case .invalidCall(let m): "Alpha Vantage rejected the call: \(m)"
        case .http(let status): "Alpha Vantage answered HTTP \(status)"
        case .timeout: "Alpha Vantage request timed out"
        case .transport(let m): "Alpha Vantage unreachable: \(m)"
        case .malformed(let reason): "Alpha Vantage answer malformed: \(reason)"
        case .emptyResult: "Alpha Vantage returned no data"
        }
    }

    /// A short stable name for metrics labels and the status hash.
    public var code: String {
        switch self {
        case .throttled: "throttled"
        case .dailyLimit: "daily_limit"
        case .premiumOnly: "premium_only"
        case .invalidCall: "invalid_call"
        case .http: "http"
        case .timeout: "timeout"
        case .transport: "transport"
        case .malformed: "malformed"
        case .emptyResult: "empty_result"
        }
    }

    /// True when the failure concerns the symbol asked for, not the client as a whole.
    public var isSymbolError: Bool {
        switch self {
        case .invalidCall, .emptyResult: true
        default: false
        }
    }
}
