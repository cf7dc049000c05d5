import Foundation
import Logging
import MarketData
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOPosix
import RedisPublisher
import Testing
@testable import Relay

/// A minimal HTTP/1.1 client over a raw socket to 127.0.0.1: one request, reads until the
/// server closes (it sends `Connection: close`).
enum RawHTTP {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    static func request(
        port: Int, method: String = "GET", path: String, headers: [String: String] = [:], body: String = ""
    ) async throws -> Response {
        var head = "\(method) \(path) HTTP/1.1\r\nConnection: close\r\n"
        var headers = headers
        if headers["Host"] == nil { headers["Host"] = "127.0.0.1:\(port)" }
        if !body.isEmpty || method == "POST" { headers["Content-Length"] = String(body.utf8.count) }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) where !value.isEmpty { head += "\(name): \(value)\r\n" }
        let bytes = Array((head + "\r\n" + body).utf8)
        // Blocking socket calls on a thread of their own, never on the cooperative pool: a
        // request that waits (for a hung Redis, say) must not starve the other tests.
        let response = try await onThread { () throws -> String in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw POSIXError(.EIO) }
            defer { close(fd) }
            var timeout = timeval(tv_sec: 30, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }  // the server may close early (413)
                sent += n
            }
            var data = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = recv(fd, &buffer, buffer.count, 0)
                if count <= 0 { break }
                data.append(contentsOf: buffer[0..<count])
            }
            return String(decoding: data, as: UTF8.self)
        }
        let parts = response.components(separatedBy: "\r\n\r\n")
        let headLines = parts[0].components(separatedBy: "\r\n")
        let statusLine = headLines[0].split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw POSIXError(.EBADMSG) }
        var parsed: [String: String] = [:]
        for line in headLines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            parsed[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Response(status: status, headers: parsed, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    /// Runs `body` on a new thread and waits for it without holding a cooperative thread.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// `POST /subscriptions` with a JSON body.
    static func lease(port: Int, _ json: String) async throws -> Response {
        try await request(port: port, method: "POST", path: "/subscriptions", headers: ["Content-Type": "application/json"], body: json)
    }

    /// The body as a JSON object.
    static func object(_ response: Response) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any] ?? [:]
    }
}

@Suite("Subscription endpoints (pure)")
struct SubscriptionRoutesTests {
    func parse(_ method: HTTPMethod, _ uri: String, contentType: String? = "application/json", _ body: String = "") -> SubscriptionRoutes.Parsed {
        SubscriptionRoutes.parse(method: method, uri: uri, contentType: contentType, body: Array(body.utf8))
    }

    func error(_ parsed: SubscriptionRoutes.Parsed) -> (Int, String)? {
        guard case .answer(let answer) = parsed else { return nil }
        let object = (try? JSONSerialization.jsonObject(with: Data(answer.body))) as? [String: Any]
        return (Int(answer.status.code), object?["error"] as? String ?? "")
    }

    @Test func routes() {
        #expect(SubscriptionRoutes.matches(uri: "/subscriptions"))
        #expect(SubscriptionRoutes.matches(uri: "/subscriptions/app/MSFT?x=1"))
        #expect(!SubscriptionRoutes.matches(uri: "/subscriptionsx"))
        #expect(!SubscriptionRoutes.matches(uri: "/healthz"))
        #expect(parse(.GET, "/subscriptions") == .perform(.list(requester: nil)))
        #expect(parse(.HEAD, "/subscriptions/") == .perform(.list(requester: nil)))
        #expect(parse(.GET, "/subscriptions/app1") == .perform(.list(requester: "app1")))
        #expect(parse(.GET, "/subscriptions/app1/FUT:ES.202612@CME") == .perform(.show(requester: "app1", spec: "FUT:ES.202612@CME")))
        // An option window's '#' travels percent-encoded; the spec is not parsed for DELETE,
        // so a malformed lease can be removed (as with the CLI).
        #expect(parse(.DELETE, "/subscriptions/app1/SPY%23options=2x5") == .perform(.unsubscribe(requester: "app1", spec: "SPY#options=2x5")))
        #expect(parse(.DELETE, "/subscriptions/app1/A*B") == .perform(.unsubscribe(requester: "app1", spec: "A*B")))
        #expect(SubscriptionRoutes.location(requester: "app1", spec: "SPY#options=2x5") == "/subscriptions/app1/SPY%23options=2x5")
    }

    @Test func wrongMethodsPathsAndRequestersAreRefused() {
        #expect(error(parse(.PUT, "/subscriptions"))?.0 == 405)
        #expect(error(parse(.DELETE, "/subscriptions/app1"))?.0 == 405)
        #expect(error(parse(.POST, "/subscriptions/app1/MSFT"))?.0 == 405)
        guard case .answer(let answer) = parse(.PATCH, "/subscriptions") else { Issue.record("not refused"); return }
        #expect(answer.extraHeaders.map { "\($0.0): \($0.1)" } == ["Allow: GET, HEAD, POST"])
        #expect(error(parse(.GET, "/subscriptions/a%20b/MSFT"))?.1 == "requester 'a b' must be 1-64 of A-Z a-z 0-9 _ . -")
        #expect(error(parse(.GET, "/subscriptions/app/%zz"))?.0 == 400)
    }

    @Test func aLeaseBodyIsCheckedLikeTheCLIArguments() {
        #expect(parse(.POST, "/subscriptions", #"{"requester":"myapp","instrument":"MSFT","ttl_seconds":60,"priority":5}"#)
            == .perform(.subscribe(requester: "myapp", spec: "MSFT", ttlMs: 60_000, priority: 5)))
        // The CLI's defaults: requester operator, 300 s, no priority; null is absent.
        #expect(parse(.POST, "/subscriptions", #"{"instrument":"CASH:EUR.USD","priority":null}"#)
            == .perform(.subscribe(requester: "operator", spec: "CASH:EUR.USD", ttlMs: 300_000, priority: nil)))
        #expect(parse(.POST, "/subscriptions", contentType: "Application/JSON; charset=utf-8", #"{"instrument":"MSFT"}"#)
            == .perform(.subscribe(requester: "operator", spec: "MSFT", ttlMs: 300_000, priority: nil)))

        #expect(error(parse(.POST, "/subscriptions", contentType: nil, #"{"instrument":"MSFT"}"#))! == (415, "Content-Type must be application/json"))
        #expect(error(parse(.POST, "/subscriptions", contentType: "text/plain", #"{"instrument":"MSFT"}"#))?.0 == 415)
        #expect(error(parse(.POST, "/subscriptions", ""))?.0 == 400)
        #expect(error(parse(.POST, "/subscriptions", "nope"))! == (400, "the body is not a JSON object"))
        #expect(error(parse(.POST, "/subscriptions", "[1]"))! == (400, "the body is not a JSON object"))
        #expect(error(parse(.POST, "/subscriptions", "{}"))! == (400, "\"instrument\" is required"))
        #expect(error(parse(.POST, "/subscriptions", #"{"instrument":"MSFT","ttl":3}"#))!
            == (400, "unknown field \"ttl\"; the fields are requester, instrument, ttl_seconds, priority"))
        #expect(error(parse(.POST, "/subscriptions", #"{"instrument":"MSFT","ttl_seconds":1.5}"#))! == (400, "\"ttl_seconds\" must be an integer (seconds)"))
        #expect(error(parse(.POST, "/subscriptions", #"{"instrument":"MSFT","priority":"high"}"#))! == (400, "\"priority\" must be an integer"))
        #expect(error(parse(.POST, "/subscriptions", #"{"instrument":42}"#))! == (400, "\"instrument\" must be a string"))
        #expect(error(parse(.POST, "/subscriptions", #"{"instrument":"MSFT","ttl_seconds":0}"#))! == (400, "the TTL must be between 1 and 86400 seconds"))
        #expect(error(parse(.POST, "/subscriptions", #"{"instrument":"MSFT","ttl_seconds":9223372036854775807}"#))?.0 == 400)
        #expect(error(parse(.POST, "/subscriptions", #"{"instrument":"IND:SPX"}"#))?.1.contains("an index needs its exchange") == true)
        #expect(error(parse(.POST, "/subscriptions", #"{"instrument":"SPY#options=99x5"}"#))?.1.contains("absurd option window") == true)
        #expect(error(parse(.POST, "/subscriptions", #"{"requester":"a|b","instrument":"MSFT"}"#))?.0 == 400)
    }

    @Test func redisErrorsAre503WhenUnreachableAnd502WhenRefused() {
        let down = SubscriptionRoutes.redis(RedisError(.connectFailed, "connection refused"))
        #expect(down.status == .serviceUnavailable)
        #expect(down.extraHeaders.map(\.0) == ["Retry-After"])
        #expect(SubscriptionRoutes.redis(RedisError(.io, "timeout")).status == .serviceUnavailable)
        #expect(SubscriptionRoutes.redis(RedisError(.server, "NOPERM")).status == .badGateway)
    }

    @Test func aRowAsJSON() throws {
        let row = LeaseClient.Row(
            requester: "app1", spec: "MSFT", expiresInMs: 1500, priority: 3,
            status: ["state": "queued", "place": "2", "updated_ms": "1700000000000"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(SubscriptionRoutes.json(row).utf8)) as? [String: Any])
        #expect(object["requester"] as? String == "app1" && object["instrument"] as? String == "MSFT")
        #expect(object["expires_in_ms"] as? Int == 1500 && object["expired"] as? Bool == false)
        #expect(object["state"] as? String == "queued" && object["place"] as? Int == 2 && object["priority"] as? Int == 3)
        let fresh = SubscriptionRoutes.json(LeaseClient.Row(requester: "a", spec: "SPY", expiresInMs: -5, priority: 0, status: [:]))
        #expect(fresh == #"{"requester":"a","instrument":"SPY","expires_in_ms":-5,"expired":true,"priority":0,"state":null}"#)
    }

    @Test func loopbackPeersAndHosts() throws {
        #expect(SubscriptionRoutes.isLoopback(try SocketAddress(ipAddress: "127.0.0.1", port: 1)))
        #expect(SubscriptionRoutes.isLoopback(try SocketAddress(ipAddress: "127.3.4.5", port: 1)))
        #expect(SubscriptionRoutes.isLoopback(try SocketAddress(ipAddress: "::1", port: 1)))
        #expect(SubscriptionRoutes.isLoopback(try SocketAddress(ipAddress: "::ffff:127.0.0.1", port: 1)))
        #expect(!SubscriptionRoutes.isLoopback(try SocketAddress(ipAddress: "192.0.2.7", port: 1)))
        #expect(!SubscriptionRoutes.isLoopback(try SocketAddress(ipAddress: "::ffff:10.0.0.1", port: 1)))
        #expect(!SubscriptionRoutes.isLoopback(try SocketAddress(ipAddress: "fe80::1", port: 1)))
        #expect(!SubscriptionRoutes.isLoopback(nil))
        for host in [nil, "localhost", "LOCALHOST:9464", "127.0.0.1", "127.0.0.1:9464", "[::1]:9464", "[::1]"] {
            #expect(SubscriptionRoutes.isLoopbackHost(host), "\(host ?? "nil")")
        }
        for host in ["evil.example", "evil.example:9464", "127.0.0.1.evil.example", "10.0.0.1:9464", "[fe80::1]", "localhost:x", ""] {
            #expect(!SubscriptionRoutes.isLoopbackHost(host), "\(host)")
        }
    }
}

/// The handler on NIO's `EmbeddedChannel`, whose peer address can be any: what a client on
/// another host gets when `http.listen` is `0.0.0.0`.
@Suite("Subscription endpoints: loopback only")
struct SubscriptionLoopbackTests {
    /// The answer to raw request bytes from `peer`: status line and body.
    func exchange(_ request: String, from peer: String) async throws -> (status: String, body: String, closed: Bool) {
        let api = SubscriptionAPI(prefix: "never", logger: Logger(label: "test")) { () throws(RedisError) -> RedisConnection in
            throw RedisError(.connectFailed, "not used")
        }
        let routes = HealthRoutes(readiness: { .ready }, metrics: { Array("m 1\n".utf8) }, subscriptions: api)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
        try channel.pipeline.syncOperations.addHandler(HealthHTTPHandler(routes: routes))
        try await channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 9464)).get()
        // After connect, which sets the remote address to its target.
        channel.remoteAddress = try SocketAddress(ipAddress: peer, port: 40_000)
        try channel.writeInbound(channel.allocator.buffer(string: request))
        var out = ""
        while let part = try channel.readOutbound(as: ByteBuffer.self) { out += String(buffer: part) }
        let parts = out.components(separatedBy: "\r\n\r\n")
        let closed = !channel.isActive
        _ = try? channel.finish()
        await api.shutdown()
        return (parts[0].components(separatedBy: "\r\n")[0], parts.dropFirst().joined(), closed)
    }

    @Test func aPeerThatIsNotLoopbackGets403WhileHealthAndMetricsAnswerAsBefore() async throws {
        let remote = try await exchange("GET /subscriptions HTTP/1.1\r\nHost: 192.0.2.2:9464\r\n\r\n", from: "192.0.2.7")
        #expect(remote.status == "HTTP/1.1 403 Forbidden")
        #expect(remote.body.contains("loopback clients only"))
        let post = try await exchange(
            "POST /subscriptions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{\"instrument\":\"AA\"}",
            from: "10.1.2.3")
        #expect(post.status == "HTTP/1.1 403 Forbidden")
        #expect(try await exchange("DELETE /subscriptions/a/MSFT HTTP/1.1\r\nHost: localhost\r\n\r\n", from: "2001:db8::5").status == "HTTP/1.1 403 Forbidden")
        #expect(try await exchange("GET /metrics HTTP/1.1\r\nHost: 192.0.2.2\r\n\r\n", from: "192.0.2.7").status == "HTTP/1.1 200 OK")
        #expect(try await exchange("GET /healthz HTTP/1.1\r\nHost: 192.0.2.2\r\n\r\n", from: "192.0.2.7").status == "HTTP/1.1 200 OK")
        // From loopback but for another name (a page rebinding its DNS name to 127.0.0.1).
        let rebound = try await exchange("GET /subscriptions HTTP/1.1\r\nHost: evil.example\r\n\r\n", from: "127.0.0.1")
        #expect(rebound.status == "HTTP/1.1 403 Forbidden")
        #expect(rebound.body.contains("Host header"))
    }

    @Test func aBodyTooLargeIs413AndTheConnectionCloses() async throws {
        let big = String(repeating: "A", count: SubscriptionRoutes.maxBodyBytes + 1)
        let announced = try await exchange(
            "POST /subscriptions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(big.utf8.count)\r\n\r\n\(big)",
            from: "127.0.0.1")
        #expect(announced.status == "HTTP/1.1 413 Payload Too Large")
        #expect(announced.closed)
        // Chunked: no length up front; refused once the bytes exceed the bound.
        let chunk = String(repeating: "B", count: 3000)
        let hex = String(chunk.utf8.count, radix: 16)
        let chunked = try await exchange(
            "POST /subscriptions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "\(hex)\r\n\(chunk)\r\n\(hex)\r\n\(chunk)\r\n0\r\n\r\n",
            from: "::1")
        #expect(chunked.status == "HTTP/1.1 413 Payload Too Large")
        #expect(chunked.closed)
    }
}

/// The endpoints on the real HTTP server against a real redis-server.
@Suite("Subscription endpoints over TCP", .serialized)
struct HTTPSubscriptionServerTests {
    let prefix = "hs\(getpid()).\(UInt32.random(in: 0...UInt32.max))"

    func start(redis url: RedisURL, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, enabled: Bool = true, ioTimeout: Duration = .seconds(5)) async throws -> HealthServer {
        let api = SubscriptionAPI(prefix: prefix, enabled: enabled, logger: Logger(label: "test")) { () throws(RedisError) -> RedisConnection in
            try RedisConnection(url: url, connectTimeout: .seconds(2), ioTimeout: ioTimeout)
        }
        let routes = HealthRoutes(readiness: { .ready }, metrics: { [] }, subscriptions: api)
        return try await HealthServer.start(host: "127.0.0.1", port: 0, routes: routes, logger: Logger(label: "test"), group: group)
    }

    @Test func leaseListShowAndRemoveWriteTheLayoutTheCLIWrites() async throws {
        let url = try RedisURL(parsing: try CLITestRedis.url())
        let server = try await start(redis: url)
        let port = server.port
        let redis = try RedisConnection(url: url)
        defer { redis.close() }
        func redisNowMs() throws -> Int64 {
            let time = try redis.command(["TIME"]).array ?? []
            return (time[0].int ?? 0) * 1000 + (time[1].int ?? 0) / 1000
        }

        #expect(RawHTTP.object(try await RawHTTP.request(port: port, path: "/subscriptions"))["subscriptions"] as? [Any] != nil)
        let before = try redisNowMs()
        let created = try await RawHTTP.lease(port: port, #"{"requester":"app1","instrument":"SPY#options=1x2","ttl_seconds":60,"priority":3}"#)
        let after = try redisNowMs()
        #expect(created.status == 201, "\(created.body)")
        #expect(created.headers["location"] == "/subscriptions/app1/SPY%23options=1x2")
        let answer = RawHTTP.object(created)
        #expect(answer["created"] as? Bool == true && answer["priority"] as? Int == 3)
        #expect(answer["status_key"] as? String == "\(prefix):request:app1:SPY#options=1x2")
        // The same layout as `quote-relay subscribe`: expiry on Redis' clock, priority beside.
        let score = try #require(try redis.command(["ZSCORE", "\(prefix):leases", "app1|SPY#options=1x2"]).string.flatMap(Double.init))
        #expect(Int64(score) >= before + 60_000 && Int64(score) <= after + 60_000)
        #expect(answer["expires_ms"] as? Int == Int(score))
        #expect(try redis.command(["ZSCORE", "\(prefix):leases:priority", "app1|SPY#options=1x2"]).string == "3")
        // A refresh is 200, not a second lease.
        let refreshed = try await RawHTTP.lease(port: port, #"{"requester":"app1","instrument":"SPY#options=1x2","ttl_seconds":120}"#)
        #expect(refreshed.status == 200 && RawHTTP.object(refreshed)["created"] as? Bool == false)
        #expect(try redis.command(["ZCARD", "\(prefix):leases"]).int == 1)
        _ = try await RawHTTP.lease(port: port, #"{"instrument":"MSFT"}"#)

        // Refused before anything is written.
        let bad = try await RawHTTP.lease(port: port, #"{"requester":"app1","instrument":"IND:SPX"}"#)
        #expect(bad.status == 400)
        #expect((RawHTTP.object(bad)["error"] as? String)?.contains("an index needs its exchange") == true)
        #expect(try redis.command(["ZCARD", "\(prefix):leases"]).int == 2)

        // The worker's status shows in the listing (written here as the worker writes it).
        _ = try redis.command(["HSET", "\(prefix):request:app1:SPY#options=1x2", "state", "queued", "place", "2", "updated_ms", "5"])
        let list = RawHTTP.object(try await RawHTTP.request(port: port, path: "/subscriptions"))
        let rows = try #require(list["subscriptions"] as? [[String: Any]])
        #expect(rows.map { "\($0["requester"]!)|\($0["instrument"]!)" } == ["app1|SPY#options=1x2", "operator|MSFT"])
        #expect(rows[0]["state"] as? String == "queued" && rows[0]["place"] as? Int == 2)
        #expect(rows[1]["state"] is NSNull)
        #expect((rows[0]["expires_in_ms"] as? Int ?? 0) > 60_000)
        let mine = RawHTTP.object(try await RawHTTP.request(port: port, path: "/subscriptions/operator"))
        #expect((mine["subscriptions"] as? [[String: Any]])?.map { $0["instrument"] as? String } == ["MSFT"])
        let one = try await RawHTTP.request(port: port, path: "/subscriptions/app1/SPY%23options=1x2")
        #expect(one.status == 200 && RawHTTP.object(one)["priority"] as? Int == 3)
        #expect(try await RawHTTP.request(port: port, path: "/subscriptions/app1/QQQ").status == 404)

        // The CLI's listing reads what HTTP wrote, and HTTP removes it.
        let removed = try await RawHTTP.request(port: port, method: "DELETE", path: "/subscriptions/app1/SPY%23options=1x2")
        #expect(removed.status == 200 && RawHTTP.object(removed)["removed"] as? Bool == true)
        #expect(try await RawHTTP.request(port: port, method: "DELETE", path: "/subscriptions/app1/SPY%23options=1x2").status == 404)
        #expect(try LeaseClient.list(url: url, prefix: prefix).map(\.spec) == ["MSFT"])
        #expect(try redis.command(["ZSCORE", "\(prefix):leases:priority", "app1|SPY#options=1x2"]).string == nil)
        _ = try redis.command(["DEL", "\(prefix):leases", "\(prefix):leases:priority", "\(prefix):request:app1:SPY#options=1x2"])
        await server.stop()
    }

    @Test func redisUnreachableIs503AndLeasesOffIs404() async throws {
        let down = try await start(redis: try RedisURL(parsing: "redis://127.0.0.1:\(try CLITestRedis.freePort())/0"))
        let list = try await RawHTTP.request(port: down.port, path: "/subscriptions")
        #expect(list.status == 503)
        #expect(list.headers["retry-after"] == "1")
        #expect((RawHTTP.object(list)["error"] as? String)?.hasPrefix("Redis unreachable: connectFailed") == true)
        #expect(try await RawHTTP.lease(port: down.port, #"{"instrument":"MSFT"}"#).status == 503)
        // Malformed input is still 400: checked before Redis is asked.
        #expect(try await RawHTTP.lease(port: down.port, #"{"instrument":"IND:SPX"}"#).status == 400)
        await down.stop()

        let off = try await start(redis: try RedisURL(parsing: try CLITestRedis.url()), enabled: false)
        let answer = try await RawHTTP.request(port: off.port, path: "/subscriptions")
        #expect(answer.status == 404)
        #expect(RawHTTP.object(answer)["error"] as? String == "subscriptions at runtime are off (leases.enabled: false)")
        await off.stop()
    }

    /// A Redis that accepts the connection and never answers (a listening socket nobody
    /// accepts on): the subscription request waits for it on the API's threads while the one
    /// event loop keeps answering `/healthz` on another connection.
    @Test func aHungRedisNeverBlocksTheEventLoop() async throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        #expect(listen(fd, 8) == 0)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let hungPort = Int(UInt16(bigEndian: address.sin_port))
        var closed = false
        defer { if !closed { close(fd) } }

        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await start(redis: try RedisURL(parsing: "redis://127.0.0.1:\(hungPort)/0"), group: loop, ioTimeout: .seconds(60))
        let port = server.port
        let waiting = Task { try await RawHTTP.request(port: port, path: "/subscriptions") }
        // Answered while the subscription request still waits for Redis (it waits up to 60 s).
        for _ in 0..<3 { #expect(try await RawHTTP.request(port: port, path: "/healthz").status == 200) }
        #expect(try await RawHTTP.request(port: port, path: "/readyz").status == 200)
        // The hung Redis goes away: the waiting request ends with 503.
        close(fd)
        closed = true
        #expect(try await waiting.value.status == 503)
        await server.stop()
        try await loop.shutdownGracefully()
    }
}
