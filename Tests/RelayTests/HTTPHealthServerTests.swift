import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import Synchronization
import Testing
@testable import Relay

@Suite("Health routes (pure)")
struct HTTPHealthRoutesTests {
    let routes = HealthRoutes(readiness: { .notReady(reason: "redis unreachable") }, metrics: { Array("m 1\n".utf8) })

    @Test func healthzIsOK() {
        let answer = routes.answer(method: .GET, uri: "/healthz")
        #expect(answer.status == .ok)
        #expect(answer.contentType == "text/plain; charset=utf-8")
        #expect(answer.body == Array("ok\n".utf8))
    }

    @Test func readyzReportsTheReason() {
        let answer = routes.answer(method: .GET, uri: "/readyz")
        #expect(answer.status == .serviceUnavailable)
        #expect(answer.contentType == "application/json")
        #expect(String(decoding: answer.body, as: UTF8.self) == "{\"ready\":false,\"reason\":\"redis unreachable\"}\n")
        let ready = HealthRoutes(readiness: { .ready }, metrics: { [] }).answer(method: .GET, uri: "/readyz?verbose=1")
        #expect(ready.status == .ok)
        #expect(String(decoding: ready.body, as: UTF8.self) == "{\"ready\":true}\n")
    }

    @Test func unknownPathIs404AndOtherMethods405() {
        #expect(routes.answer(method: .GET, uri: "/nope").status == .notFound)
        let post = routes.answer(method: .POST, uri: "/metrics")
        #expect(post.status == .methodNotAllowed)
        #expect(post.extraHeaders.map { "\($0.0): \($0.1)" } == ["Allow: GET, HEAD"])
        #expect(routes.answer(method: .HEAD, uri: "/healthz").status == .ok)
    }

    @Test func readinessStateGivesTheFirstReasonToFix() {
        let state = ReadinessState()
        #expect(state.readiness == .notReady(reason: "redis unreachable"))
        state.setRedisReachable(true)
        #expect(state.readiness == .notReady(reason: "no fresh data from IB or Alpha Vantage"))
        state.setDataFlowing(true)
        #expect(state.readiness == .ready)
        #expect(HealthRoutes(state: state, metrics: { [] }).answer(method: .GET, uri: "/readyz").status == .ok)
        state.setStopping()
        #expect(state.readiness == .notReady(reason: "shutting down"))
    }
}

@Suite("Health HTTP server over TCP")
struct HTTPHealthServerTests {
    /// One request over a raw socket (`RawHTTP`, shared with the `/subscriptions` tests).
    static func get(port: Int, path: String, method: String = "GET") async throws -> (status: Int, headers: [String: String], body: String) {
        let response = try await RawHTTP.request(port: port, method: method, path: path, headers: ["Host": "localhost"])
        return (response.status, response.headers, response.body)
    }

    @Test func servesAllEndpointsAndCountersShowInMetrics() async throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = RelayMetrics(factory: RelayMetrics.makeFactory(registry: registry))
        let ready = Mutex(false)
        let routes = HealthRoutes(
            readiness: { ready.withLock { $0 } ? .ready : .notReady(reason: "redis unreachable") },
            metrics: { registry.emitToBuffer() }
        )
        let server = try await HealthServer.start(host: "127.0.0.1", port: 0, routes: routes, logger: Logger(label: "test"))
        let port = server.port
        #expect(port > 0)

        let health = try await Self.get(port: port, path: "/healthz")
        #expect(health.status == 200)
        #expect(health.headers["content-type"] == "text/plain; charset=utf-8")
        #expect(health.body == "ok\n")

        let notReady = try await Self.get(port: port, path: "/readyz")
        #expect(notReady.status == 503)
        #expect(notReady.headers["content-type"] == "application/json")
        #expect(notReady.body == "{\"ready\":false,\"reason\":\"redis unreachable\"}\n")
        ready.withLock { $0 = true }
        #expect(try await Self.get(port: port, path: "/readyz").status == 200)

        metrics.redisWrites.increment(by: 3)
        metrics.ibError(code: 1100)
        metrics.alphaVantageRequest(function: "GLOBAL_QUOTE")
        metrics.workerState("failover")
        metrics.symbolStaleness(symbol: "AAPL", seconds: 12.5)
        metrics.redisWriteLatency.record(.microseconds(300))
        let scrape = try await Self.get(port: port, path: "/metrics")
        #expect(scrape.status == 200)
        #expect(scrape.headers["content-type"] == HealthRoutes.prometheusContentType)
        let lines = Set(scrape.body.split(separator: "\n").map(String.init))
        #expect(lines.contains("quote_relay_redis_writes_total 3"))
        #expect(lines.contains("quote_relay_ib_errors_total{code=\"1100\"} 1"))
        #expect(lines.contains("quote_relay_alphavantage_requests_total{function=\"GLOBAL_QUOTE\"} 1"))
        #expect(lines.contains("quote_relay_worker_state{state=\"failover\"} 1.0"))
        #expect(lines.contains("quote_relay_worker_state{state=\"connected\"} 0.0"))
        #expect(lines.contains("quote_relay_symbol_staleness_seconds{symbol=\"AAPL\"} 12.5"))
        #expect(lines.contains("quote_relay_redis_write_latency_seconds_count 1"))
        #expect(lines.contains("quote_relay_redis_write_latency_seconds_bucket{le=\"0.00025\"} 0"))
        #expect(lines.contains("quote_relay_redis_write_latency_seconds_bucket{le=\"0.0005\"} 1"))

        #expect(try await Self.get(port: port, path: "/other").status == 404)
        #expect(try await Self.get(port: port, path: "/healthz", method: "DELETE").status == 405)
        await server.stop()
    }

    @Test func runReturnsWhenCancelledAndThePortIsReleased() async throws {
        let routes = HealthRoutes(readiness: { .ready }, metrics: { [] })
        let server = try await HealthServer.start(host: "127.0.0.1", port: 0, routes: routes, logger: Logger(label: "test"))
        let port = server.port
        let task = Task { try await server.run() }
        #expect(try await Self.get(port: port, path: "/healthz").status == 200)
        task.cancel()
        try await task.value
        // The listener is closed: a new connection is refused.
        await #expect(throws: POSIXError.self) { try await Self.get(port: port, path: "/healthz") }
    }
}
