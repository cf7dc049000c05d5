/// Why a request to the session failed. One error type for the module, with cases a caller
/// can switch on.
public enum IBSessionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// IB answered the request with an error (e.g. 200: no security definition).
    case requestFailed(code: Int32, message: String)
    /// No complete answer within the caller's timeout (the session may be reconnecting).
    case timedOut(after: Duration)
    /// The connection dropped more often than `maxRequestResends` while the request was open.
    case connectionLost(reason: String)
    /// The session is not running (`run()` ended or never started before the request).
    case notRunning
    /// `run()` was called twice.
    case alreadyRunning

    public var description: String {
        switch self {
        case .requestFailed(let code, let message): "IB error \(code): \(message)"
        case .timedOut(let after): "no answer within \(after)"
        case .connectionLost(let reason): "connection lost while waiting: \(reason)"
        case .notRunning: "the gateway session is not running"
        case .alreadyRunning: "the gateway session is already running"
        }
    }
}
