/// Where the session is in its life. `degraded` keeps the socket: IB asks clients not to tear
/// down a connection because a data farm flaps (that is what causes 326 storms).
public enum SessionState: Sendable, Hashable, CustomStringConvertible {
    /// Before `run()`.
    case disconnected
    /// TCP connect in progress.
    case connecting
    /// TCP is up; waiting for the server hello, then NEXT_VALID_ID.
    case handshaking
    /// NEXT_VALID_ID received and nothing is known to be broken.
    case connected
    /// Connected, but IB says data may not flow (1100, or a farm reported broken).
    case degraded(DegradedReason)
    /// Waiting before the next connection attempt.
    case backoff
    /// `run()` ended; the session does nothing more.
    case stopped

    /// The name used in logs and status hashes.
    public var name: String {
        switch self {
        case .disconnected: "disconnected"
        case .connecting: "connecting"
        case .handshaking: "handshaking"
        case .connected: "connected"
        case .degraded: "degraded"
        case .backoff: "backoff"
        case .stopped: "stopped"
        }
    }

    /// True while a usable API session exists (requests can be sent).
    public var isSessionUp: Bool {
        switch self {
        case .connected, .degraded: true
        default: false
        }
    }

    public var description: String {
        if case .degraded(let reason) = self { return "degraded(\(reason))" }
        return name
    }
}

/// Why a connected session counts as degraded.
public enum DegradedReason: Sendable, Hashable, CustomStringConvertible {
    /// 1100 (or 2110): the gateway lost IB's servers; data has stopped.
    case connectivityLost
    /// 2103/2105/2157: these farms (names as IB sends them, e.g. `usfarm`) are broken.
    case farmsDown(Set<String>)

    public var description: String {
        switch self {
        case .connectivityLost: "connectivity lost"
        case .farmsDown(let farms): "farms down: \(farms.sorted().joined(separator: ","))"
        }
    }
}
