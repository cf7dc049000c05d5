import Foundation
import MarketModel
import RedisPublisher
import Simulators
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Application leases inside a worker group (README "Subscriptions at runtime", "A standby
/// pair"): two real `quote-relay run` processes in one `worker.group` on one redis-server and
/// the IB Gateway simulator. A lease written through a worker's HTTP endpoint is served by the
/// active worker only; when the active worker stops, the standby takes the group's lease and
/// serves the leased instrument from its own gateway session.
@Suite(.serialized)
struct GroupLeaseTests {
    static let leases = """
        leases:
          poll_interval_ms: 200
          grace_seconds: 1
        """

    /// The request's status hash.
    func status(_ pair: StandbyPairTests.Pair, _ requester: String, _ spec: String) -> [String: String] {
        pair.hash("request:\(requester):\(spec)")
    }

    /// One lease by HTTP, served by the active worker; stopped as `signal` says, the standby
    /// serves it.
    func handOver(stoppingWith signal: Int32) async throws {
        let pair = try await StandbyPairTests.Pair()
        let a = try pair.launch("pair-a", clientID: 61, extraYAML: Self.leases)
        #expect(await pair.wait(.seconds(20)) { pair.holder() == "pair-a" && pair.hash("quote:AAPL")["last"] != nil })
        _ = try pair.launch("pair-b", clientID: 62, extraYAML: Self.leases)
        #expect(await pair.wait(.seconds(20)) {
            let b = pair.hash("worker:pair-b")
            return b["role"] == "standby" && b["state"] == "connected"
        })

        // Leased through the standby's HTTP endpoint: the lease lives in Redis, so any worker
        // of the group takes it, and the active one serves it.
        let httpB = try #require(pair.httpPorts["pair-b"])
        #expect(await pair.wait(.seconds(10)) {
            (try? await RawHTTP.request(port: httpB, path: "/healthz").status) == 200
        })
        let leased = try await RawHTTP.lease(port: httpB, #"{"requester":"app1","instrument":"SPY","ttl_seconds":300}"#)
        #expect(leased.status == 201, "\(leased.body)")
        #expect(await pair.wait(.seconds(20)) {
            status(pair, "app1", "SPY")["state"] == "active" && pair.hash("quote:SPY")["last"] != nil
        })
        #expect(status(pair, "app1", "SPY")["key"] == "quote:SPY")
        // Only the active worker holds a line for it; the standby holds none at all.
        #expect(await pair.wait(.seconds(10)) { await pair.lines(clientID: 61).map(\.symbol).sorted() == ["AAPL", "MSFT", "SPY"] })
        #expect(await pair.lines(clientID: 62).isEmpty, "the standby holds market data lines")
        // The listing over HTTP (either worker) says the same.
        let listed = RawHTTP.object(try await RawHTTP.request(port: try #require(pair.httpPorts["pair-a"]), path: "/subscriptions/app1/SPY"))
        #expect(listed["state"] as? String == "active")
        let servedByA = status(pair, "app1", "SPY")["updated_ms"].flatMap { Int64($0) } ?? 0

        // The active worker stops: the standby takes the group's lease and serves the lease.
        kill(a, signal)
        #expect(await pair.wait(.seconds(20)) { pair.holder() == "pair-b" })
        #expect(await pair.wait(.seconds(20)) { await pair.lines(clientID: 62).map(\.symbol).sorted() == ["AAPL", "MSFT", "SPY"] })
        #expect(await pair.lines(clientID: 61).isEmpty, "the stopped worker's lines are gone at the gateway")
        // Its status is written again by the new active worker, and fresh data flows from its
        // session: SPY's values equal what the gateway sent to client 62.
        #expect(await pair.wait(.seconds(20)) {
            let now = status(pair, "app1", "SPY")
            return now["state"] == "active" && (now["updated_ms"].flatMap { Int64($0) } ?? 0) > servedByA
        })
        let seq = Int(pair.hash("quote:SPY")["seq"] ?? "") ?? 0
        #expect(await pair.wait(.seconds(15)) { (Int(pair.hash("quote:SPY")["seq"] ?? "") ?? 0) > seq + 3 })
        #expect(pair.hash("quote:SPY")["source"] == "ib")
        #expect(pair.hash("worker:pair-b")["symbols"]?.contains("SPY") == true, "\(pair.hash("worker:pair-b"))")
        // The gateway pauses its streams, so the last price it sent stays the last one.
        #expect(await pair.sim.control("stall").hasPrefix("OK"))
        #expect(await pair.wait(.seconds(10)) { await self.lastPriceMatchesGateway(pair, symbol: "SPY", clientID: 62) })
        await pair.shutDown()
    }

    /// Whether the quote hash's `last` is the last price the gateway sent to `clientID`.
    func lastPriceMatchesGateway(_ pair: StandbyPairTests.Pair, symbol: String, clientID: Int32) async -> Bool {
        guard let sub = await pair.sim.subscriptions().first(where: { $0.symbol == symbol && $0.clientId == clientID }) else { return false }
        let sent = await pair.sim.sentTicks(clientId: sub.clientId, reqId: sub.reqId)
        guard let field = WorkerIntegrationTests.priceFields.first(where: { $0.value == "last" })?.key,
            case .price(let price)? = sent[field]?.last
        else { return false }
        return pair.hash("quote:\(symbol)")["last"] == price.flatMap(DecimalFormat.string)
    }

    /// The active worker loses Redis while it serves a lease and stands down alive: it
    /// cancels the leased line with the rest, the other worker serves the lease; when that one
    /// stops, the first serves the lease again in a second term (its arbiter started afresh).
    @Test func aWorkerThatStandsDownAliveReleasesLeasedLinesAndServesThemAgainInItsNextTerm() async throws {
        let pair = try await StandbyPairTests.Pair()
        let url = try RedisPublisher.RedisURL(parsing: pair.redisText)
        let relay = try TCPRelay(upstreamPort: url.port)
        defer { relay.close() }
        _ = try pair.launch("pair-a", clientID: 61, redisURL: "redis://127.0.0.1:\(relay.port)/\(url.database)", extraYAML: Self.leases)
        #expect(await pair.wait(.seconds(20)) { pair.holder() == "pair-a" && pair.hash("quote:AAPL")["last"] != nil })
        let b = try pair.launch("pair-b", clientID: 62, extraYAML: Self.leases)
        #expect(await pair.wait(.seconds(20)) { pair.hash("worker:pair-b")["role"] == "standby" })
        let leased = try await RawHTTP.lease(port: try #require(pair.httpPorts["pair-b"]), #"{"requester":"app1","instrument":"QQQ"}"#)
        #expect(leased.status == 201, "\(leased.body)")
        #expect(await pair.wait(.seconds(20)) { await pair.lines(clientID: 61).map(\.symbol).sorted() == ["AAPL", "MSFT", "QQQ"] })
        #expect(await pair.wait(.seconds(10)) { status(pair, "app1", "QQQ")["state"] == "active" })

        relay.cut()
        #expect(await pair.wait(.seconds(15)) { pair.holder() == "pair-b" })
        // A cancelled every line, the leased one too, without being told through Redis.
        #expect(await pair.wait(.seconds(10)) { await pair.lines(clientID: 61).isEmpty })
        #expect(await pair.wait(.seconds(20)) { await pair.lines(clientID: 62).map(\.symbol).sorted() == ["AAPL", "MSFT", "QQQ"] })
        let seq = Int(pair.hash("quote:QQQ")["seq"] ?? "") ?? 0
        #expect(await pair.wait(.seconds(15)) { (Int(pair.hash("quote:QQQ")["seq"] ?? "") ?? 0) > seq + 3 })

        relay.restore()
        #expect(await pair.wait(.seconds(15)) { pair.hash("worker:pair-a")["role"] == "standby" })
        #expect(await pair.lines(clientID: 61).isEmpty, "a standby holds no line, leased ones included")

        // B stops: A's next term serves the lease again.
        kill(b, SIGTERM)
        #expect(await pair.wait(.seconds(20)) { pair.holder() == "pair-a" })
        #expect(await pair.wait(.seconds(20)) { await pair.lines(clientID: 61).map(\.symbol).sorted() == ["AAPL", "MSFT", "QQQ"] })
        #expect(await pair.wait(.seconds(10)) { status(pair, "app1", "QQQ")["state"] == "active" })
        let again = Int(pair.hash("quote:QQQ")["seq"] ?? "") ?? 0
        #expect(await pair.wait(.seconds(15)) { (Int(pair.hash("quote:QQQ")["seq"] ?? "") ?? 0) > again + 3 })
        #expect(await pair.sim.control("stall").hasPrefix("OK"))
        #expect(await pair.wait(.seconds(10)) { await self.lastPriceMatchesGateway(pair, symbol: "QQQ", clientID: 61) })
        await pair.shutDown()
    }

    /// The active worker is paused (SIGSTOP) past its lease; meanwhile an application leases
    /// one more instrument and the other worker serves it. On SIGCONT the old worker learns it
    /// is a standby and must not act on that lease: no request status written, no line
    /// subscribed (its lease loop may wake before its watchdog, and a read of `P:leases` may
    /// be in flight when the term ends).
    @Test func aPausedWorkerWritesNoRequestStatusAfterLosingItsLease() async throws {
        let pair = try await StandbyPairTests.Pair()
        let a = try pair.launch("pair-a", clientID: 61, extraYAML: Self.leases)
        #expect(await pair.wait(.seconds(20)) { pair.holder() == "pair-a" && pair.hash("quote:AAPL")["last"] != nil })
        _ = try pair.launch("pair-b", clientID: 62, extraYAML: Self.leases)
        #expect(await pair.wait(.seconds(20)) { pair.hash("worker:pair-b")["role"] == "standby" })
        let httpB = try #require(pair.httpPorts["pair-b"])
        #expect(try await RawHTTP.lease(port: httpB, #"{"requester":"app1","instrument":"SPY"}"#).status == 201)
        #expect(await pair.wait(.seconds(20)) { status(pair, "app1", "SPY")["state"] == "active" })
        let listener = try ChannelListener(url: pair.redisText, channel: "\(pair.prefix):request:app2")

        kill(a, SIGSTOP)
        #expect(await pair.wait(.seconds(15)) { pair.holder() == "pair-b" })
        #expect(try await RawHTTP.lease(port: httpB, #"{"requester":"app2","instrument":"QQQ"}"#).status == 201)
        #expect(await pair.wait(.seconds(20)) {
            status(pair, "app2", "QQQ")["state"] == "active" && pair.hash("quote:QQQ")["last"] != nil
        })
        kill(a, SIGCONT)
        #expect(await pair.wait(.seconds(10)) { pair.hash("worker:pair-a")["role"] == "standby" })
        #expect(await pair.wait(.seconds(5)) { await pair.lines(clientID: 61).isEmpty })
        // Several of its lease polls' worth of time (leases.poll_interval_ms 200).
        try await Task.sleep(for: .seconds(1))
        let messages = listener.stop()
        #expect(!pair.log("pair-a").contains("app2|QQQ"), "the paused worker acted on a lease after its term ended")
        #expect(messages.filter { $0.contains("\"state\":\"active\"") }.count == 1, "\(messages)")
        #expect(await pair.lines(clientID: 61).isEmpty)
        #expect(await pair.lines(clientID: 62).map(\.symbol).sorted() == ["AAPL", "MSFT", "QQQ", "SPY"])
        await pair.shutDown()
    }

    @Test func aLeaseIsServedByTheActiveWorkerOnlyAndByTheStandbyAfterAGracefulStop() async throws {
        try await handOver(stoppingWith: SIGTERM)
    }

    @Test func aLeaseIsServedByTheStandbyAfterTheActiveWorkerIsKilled() async throws {
        try await handOver(stoppingWith: SIGKILL)
    }
}
