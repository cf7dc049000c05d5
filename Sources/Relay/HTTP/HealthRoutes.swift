import Essentials
import NIOHTTP1

/// Whether the worker should receive traffic: Redis reachable and data flowing from some
/// source (CONTRACT §4). The worker owns the facts; this type only carries the verdict.
public enum Readiness: Sendable, Equatable {
    case ready
    case notReady(reason: String)
}

/// A finished HTTP answer, independent of NIO so routing is tested as a pure function.
public struct HTTPAnswer: Sendable, Equatable {
    public var status: HTTPResponseStatus
    public var contentType: String
    public var body: [UInt8]
    public var extraHeaders: [(String, String)] = []

    public static func == (lhs: HTTPAnswer, rhs: HTTPAnswer) -> Bool {
        lhs.status == rhs.status && lhs.contentType == rhs.contentType && lhs.body == rhs.body
            && lhs.extraHeaders.map { "\($0.0): \($0.1)" } == rhs.extraHeaders.map { "\($0.0): \($0.1)" }
    }

    static func text(_ status: HTTPResponseStatus, _ text: String) -> HTTPAnswer {
        HTTPAnswer(status: status, contentType: "text/plain; charset=utf-8", body: Array((text + "\n").utf8))
    }

    static func json(_ status: HTTPResponseStatus, _ json: String) -> HTTPAnswer {
        HTTPAnswer(status: status, contentType: "application/json", body: Array((json + "\n").utf8))
    }
}

/// The three endpoints: `/healthz` (the process is alive), `/readyz` (it is doing its job)
/// and `/metrics` (Prometheus text), answered on the event loop; and optionally the
/// subscription endpoints (``SubscriptionAPI``), answered once Redis has.
public struct HealthRoutes: Sendable {
    /// Asked on every `/readyz`; must be cheap and non-blocking (it runs on an event loop), so
    /// it should read state the worker keeps up to date, not probe Redis itself.
    public var readiness: @Sendable () -> Readiness
    /// The Prometheus exposition, usually `registry.emitToBuffer()`.
    public var metrics: @Sendable () -> [UInt8]
    /// `/subscriptions...` (README "Subscriptions at runtime"), loopback only; nil: those
    /// paths are 404 like any unknown one.
    public var subscriptions: SubscriptionAPI?

    public init(
        readiness: @escaping @Sendable () -> Readiness, metrics: @escaping @Sendable () -> [UInt8], subscriptions: SubscriptionAPI? = nil
    ) {
        self.readiness = readiness
        self.metrics = metrics
        self.subscriptions = subscriptions
    }

    /// The Prometheus text format's content type (version 0.0.4).
    public static let prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Routes one request. HEAD is answered like GET (the server sends no body); every other
    /// method gets 405 with `Allow`, unknown paths 404.
    public func answer(method: HTTPMethod, uri: String) -> HTTPAnswer {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        let known = ["/healthz", "/readyz", "/metrics"]
        guard known.contains(path) else { return .text(.notFound, "not found; try /healthz, /readyz or /metrics") }
        guard method == .GET || method == .HEAD else {
            var answer = HTTPAnswer.text(.methodNotAllowed, "method not allowed")
            answer.extraHeaders = [("Allow", "GET, HEAD")]
            return answer
        }
        switch path {
        case "/healthz":
            return .text(.ok, "ok")
        case "/readyz":
            switch readiness() {
            case .ready:
                return .json(.ok, "{\"ready\":true}")
            case .notReady(let reason):
                return .json(.serviceUnavailable, "{\"ready\":false,\"reason\":\(JSONString.quoted(reason))}")
            }
        default:
            return HTTPAnswer(status: .ok, contentType: Self.prometheusContentType, body: metrics())
        }
    }
}
