import Essentials
import Foundation
import MarketData
import MarketModel
import NIOCore
import NIOHTTP1
import RedisPublisher

/// One operator request to the subscription endpoints, parsed and validated (README
/// "Subscriptions at runtime", "Over HTTP"). What `quote-relay subscriptions|subscribe|unsubscribe`
/// does, over the worker's HTTP listener.
public enum SubscriptionOperation: Sendable, Equatable {
    /// `GET /subscriptions` (every lease) or `GET /subscriptions/<requester>` (that requester's).
    case list(requester: String?)
    /// `GET /subscriptions/<requester>/<instrument>`: one lease.
    case show(requester: String, spec: String)
    /// `POST /subscriptions`: write or refresh a lease.
    case subscribe(requester: String, spec: String, ttlMs: Int64, priority: Int?)
    /// `DELETE /subscriptions/<requester>/<instrument>`: remove a lease at once.
    case unsubscribe(requester: String, spec: String)
}

/// The pure half of the subscription endpoints: routing, the checks that need no Redis, and
/// turning `LeaseClient`'s results and errors into answers. Tested without servers; the I/O
/// is in ``SubscriptionAPI``.
///
/// Errors are JSON `{"error": "..."}`: 400 malformed input (the CLI's exit 2), 403 not from
/// loopback, 404 unknown path or lease, 405 method, 413 body too large, 415 not JSON,
/// 502 Redis answered with an error, 503 Redis unreachable (the CLI's exit 1).
public enum SubscriptionRoutes {
    /// The collection's path.
    public static let basePath = "/subscriptions"
    /// Largest request body accepted (bytes); a lease is about 100.
    public static let maxBodyBytes = 4096
    /// `requester` when the body names none (the CLI's default).
    public static let defaultRequester = "operator"
    /// `ttl_seconds` when the body names none (the CLI's default).
    public static let defaultTTLSeconds = 300

    /// Whether `uri` is one of the subscription endpoints (`/subscriptions`, `/subscriptions/...`).
    public static func matches(uri: String) -> Bool {
        let path = self.path(of: uri)
        return path == basePath || path.hasPrefix(basePath + "/")
    }

    /// What parsing a request gave: an operation to perform, or the answer already (an error).
    public enum Parsed: Sendable, Equatable {
        case perform(SubscriptionOperation)
        case answer(HTTPAnswer)
    }

    /// Routes and validates one request to a subscription endpoint; `contentType` is the
    /// request's `Content-Type`, `body` its bytes (at most ``maxBodyBytes``).
    public static func parse(method: HTTPMethod, uri: String, contentType: String?, body: [UInt8]) -> Parsed {
        var path = self.path(of: uri)
        while path.count > basePath.count, path.hasSuffix("/") { path.removeLast() }
        guard path == basePath || path.hasPrefix(basePath + "/") else { return .answer(error(.notFound, "not found")) }
        let rest = path.dropFirst(basePath.count + 1)
        guard !rest.isEmpty else {
            switch method {
            case .GET, .HEAD: return .perform(.list(requester: nil))
            case .POST: return parseLease(contentType: contentType, body: body)
            default: return .answer(methodNotAllowed("GET, HEAD, POST"))
            }
        }
        // /subscriptions/<requester>[/<instrument>]: the instrument is the rest of the path,
        // percent-decoded (an option window's '#' travels as %23).
        let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let requester = String(parts[0]).removingPercentEncoding,
            let spec = parts.count > 1 ? String(parts[1]).removingPercentEncoding : ""
        else { return .answer(error(.badRequest, "malformed percent-encoding in the path")) }
        guard LeaseArbiter.Lease.isValidRequester(requester) else {
            return .answer(error(.badRequest, LeaseClient.ClientError.badRequester(requester).description))
        }
        guard !spec.isEmpty else {
            guard method == .GET || method == .HEAD else { return .answer(methodNotAllowed("GET, HEAD")) }
            return .perform(.list(requester: requester))
        }
        switch method {
        case .GET, .HEAD: return .perform(.show(requester: requester, spec: spec))
        case .DELETE: return .perform(.unsubscribe(requester: requester, spec: spec))
        default: return .answer(methodNotAllowed("GET, HEAD, DELETE"))
        }
    }

    /// `POST /subscriptions`: `{"requester": "myapp", "instrument": "MSFT", "ttl_seconds": 60,
    /// "priority": 5}`; only `instrument` is required. Unknown fields, wrong types and values
    /// the CLI would refuse are 400 before anything is written.
    static func parseLease(contentType: String?, body: [UInt8]) -> Parsed {
        // A browser cannot send application/json to another origin without a CORS preflight,
        // which this server never grants: a web page cannot lease through a local worker.
        let mediaType = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard mediaType == "application/json" else {
            return .answer(error(.unsupportedMediaType, "Content-Type must be application/json"))
        }
        guard !body.isEmpty else { return .answer(error(.badRequest, "the body must be a JSON object with at least \"instrument\"")) }
        let lease: LeaseBody
        do {
            lease = try JSONDecoder().decode(LeaseBody.self, from: Data(body))
        } catch let problem as LeaseBody.Problem {
            return .answer(error(.badRequest, problem.message))
        } catch {
            return .answer(self.error(.badRequest, "the body is not a JSON object"))
        }
        guard let spec = lease.instrument else { return .answer(error(.badRequest, "\"instrument\" is required")) }
        let requester = lease.requester ?? defaultRequester
        let ttlSeconds = lease.ttlSeconds ?? defaultTTLSeconds
        let (ttlMs, overflow) = Int64(ttlSeconds).multipliedReportingOverflow(by: 1000)
        do throws(LeaseClient.ClientError) {
            try LeaseClient.validate(requester: requester, spec: spec, ttlMs: overflow ? 0 : ttlMs)
        } catch {
            return .answer(self.error(.badRequest, error.description))
        }
        return .perform(.subscribe(requester: requester, spec: spec, ttlMs: ttlMs, priority: lease.priority))
    }

    /// Performs `operation` on an open connection. Blocking (hiredis): never on an event loop.
    public static func perform(_ operation: SubscriptionOperation, on connection: RedisConnection, prefix: String) -> HTTPAnswer {
        do throws(LeaseClient.ClientError) {
            switch operation {
            case .list(let requester):
                let rows = try LeaseClient.list(on: connection, prefix: prefix).filter { requester == nil || $0.requester == requester }
                return .json(.ok, "{\"subscriptions\":[" + rows.map(json).joined(separator: ",") + "]}")
            case let .show(requester, spec):
                guard let row = try LeaseClient.list(on: connection, prefix: prefix).first(where: { $0.requester == requester && $0.spec == spec })
                else { return error(.notFound, "no lease \(requester)|\(spec)") }
                return .json(.ok, json(row))
            case let .subscribe(requester, spec, ttlMs, priority):
                let written = try LeaseClient.subscribe(on: connection, prefix: prefix, requester: requester, spec: spec, ttlMs: ttlMs, priority: priority)
                var answer = HTTPAnswer.json(written.created ? .created : .ok, JSONText.object([
                    Field("requester", requester, isNumber: false),
                    Field("instrument", spec, isNumber: false),
                    Field("expires_ms", String(written.expiresMs), isNumber: true),
                    Field("ttl_ms", String(ttlMs), isNumber: true),
                    Field("priority", priority.map(String.init) ?? "null", isNumber: true),
                    Field("created", written.created ? "true" : "false", isNumber: true),
                    Field("status_key", Keys.prefixed(prefix, "request:\(requester):\(spec)"), isNumber: false),
                ]))
                answer.extraHeaders = [("Location", location(requester: requester, spec: spec))]
                return answer
            case let .unsubscribe(requester, spec):
                guard try LeaseClient.unsubscribe(on: connection, prefix: prefix, requester: requester, spec: spec) else {
                    return error(.notFound, "no lease \(requester)|\(spec)")
                }
                return .json(.ok, JSONText.object([
                    Field("requester", requester, isNumber: false), Field("instrument", spec, isNumber: false),
                    Field("removed", "true", isNumber: true),
                ]))
            }
        } catch {
            switch error {
            case .redis(let redis): return self.redis(redis)
            default: return self.error(.badRequest, error.description)
            }
        }
    }

    /// Redis could not be asked: 503 when it is unreachable (connect, I/O, TLS, AUTH, a
    /// replica), 502 when it answered with an error (e.g. `NOPERM` for a user without the
    /// lease commands).
    public static func redis(_ error: RedisError) -> HTTPAnswer {
        switch error.code {
        case .server, .unexpectedReply, .protocolError:
            return self.error(.badGateway, "Redis refused: \(error)")
        default:
            var answer = self.error(.serviceUnavailable, "Redis unreachable: \(error)")
            answer.extraHeaders = [("Retry-After", "1")]
            return answer
        }
    }

    /// One lease as JSON: `requester`, `instrument`, `expires_in_ms` (negative: expired, not
    /// yet pruned), `expired`, `priority`, then the worker's status: `state` (`active`,
    /// `queued`, `refused`, `fallback`; null before the worker wrote one), `place`, `reason`,
    /// `key`, `updated_ms` when present.
    static func json(_ row: LeaseClient.Row) -> String {
        var fields = [
            Field("requester", row.requester, isNumber: false),
            Field("instrument", row.spec, isNumber: false),
            Field("expires_in_ms", String(row.expiresInMs), isNumber: true),
            Field("expired", row.expiresInMs <= 0 ? "true" : "false", isNumber: true),
            Field("priority", String(row.priority), isNumber: true),
            Field("state", row.status["state"].map(JSONString.quoted) ?? "null", isNumber: true),
        ]
        for name in ["place", "updated_ms"] {
            if let value = row.status[name], let number = Int64(value) { fields.append(Field(name, String(number), isNumber: true)) }
        }
        for name in ["reason", "key"] {
            if let value = row.status[name] { fields.append(Field(name, value, isNumber: false)) }
        }
        return JSONText.object(fields)
    }

    /// The lease's own URL (`Location` of a `POST`), the instrument percent-encoded.
    static func location(requester: String, spec: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:@=")
        let encoded = spec.addingPercentEncoding(withAllowedCharacters: allowed) ?? spec
        return "\(basePath)/\(requester)/\(encoded)"
    }

    /// `{"error": message}` with `status`.
    public static func error(_ status: HTTPResponseStatus, _ message: String) -> HTTPAnswer {
        .json(status, JSONText.object([Field("error", message, isNumber: false)]))
    }

    static func methodNotAllowed(_ allow: String) -> HTTPAnswer {
        var answer = error(.methodNotAllowed, "method not allowed; allowed: \(allow)")
        answer.extraHeaders = [("Allow", allow)]
        return answer
    }

    static func path(of uri: String) -> String {
        uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
    }

    // MARK: Loopback only

    /// Whether a peer address is this machine's loopback (127.0.0.0/8, ::1, or 127.x mapped
    /// into IPv6). A request from anywhere else is 403, whatever `http.listen` binds.
    public static func isLoopback(_ address: SocketAddress?) -> Bool {
        switch address {
        case .v4?: return address?.ipAddress?.hasPrefix("127.") == true
        case .v6?:
            guard let ip = address?.ipAddress?.lowercased() else { return false }
            return ip == "::1" || ip.hasPrefix("::ffff:127.")
        default: return false
        }
    }

    /// Whether a `Host` header names this machine's loopback (`localhost`, `127.x.x.x`,
    /// `[::1]`, with or without a port), or is absent (HTTP/1.0). Anything else is 403: a web
    /// page that rebinds its own name to 127.0.0.1 still sends that name.
    public static func isLoopbackHost(_ host: String?) -> Bool {
        guard var name = host?.trimmingCharacters(in: .whitespaces).lowercased() else { return true }
        if name.hasPrefix("[") {
            guard let close = name.firstIndex(of: "]") else { return false }
            let inner = String(name[name.index(after: name.startIndex)..<close])
            return inner == "::1" || inner.hasPrefix("::ffff:127.")
        }
        if let colon = name.lastIndex(of: ":") {
            guard name[name.index(after: colon)...].allSatisfy(\.isNumber) else { return false }
            name = String(name[..<colon])
        }
        if name == "localhost" { return true }
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { UInt8($0) != nil } && octets[0] == "127"
    }
}

/// The body of `POST /subscriptions`, strictly: a JSON object with only the known fields, a
/// `null` counting as absent.
struct LeaseBody: Decodable {
    struct Problem: Error {
        var message: String
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static let fields = ["requester", "instrument", "ttl_seconds", "priority"]

    var requester: String?
    var instrument: String?
    var ttlSeconds: Int?
    var priority: Int?

    /// One field, or a ``Problem`` naming it and what it must be.
    static func decode<T: Decodable>(_ type: T.Type, _ key: Key, _ container: KeyedDecodingContainer<Key>, _ expected: String) throws -> T {
        do {
            return try container.decode(type, forKey: key)
        } catch {
            throw Problem(message: "\"\(key.stringValue)\" must be \(expected)")
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        for key in container.allKeys {
            guard Self.fields.contains(key.stringValue) else {
                throw Problem(message: "unknown field \"\(key.stringValue)\"; the fields are " + Self.fields.joined(separator: ", "))
            }
            if try container.decodeNil(forKey: key) { continue }
            switch key.stringValue {
            case "requester": requester = try Self.decode(String.self, key, container, "a string")
            case "instrument": instrument = try Self.decode(String.self, key, container, "a string")
            case "ttl_seconds": ttlSeconds = try Self.decode(Int.self, key, container, "an integer (seconds)")
            default: priority = try Self.decode(Int.self, key, container, "an integer")
            }
        }
    }
}
