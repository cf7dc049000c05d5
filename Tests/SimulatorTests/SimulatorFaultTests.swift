#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import TWSProtocol
@testable import Simulators

/// One line to the control port over TCP, one line back.
func controlPort(_ port: Int, _ line: String) throws -> String {
    let client = try TestTWSClient(port: port)
    client.write(Array((line + "\n").utf8))
    return try client.readLine()
}

extension TestTWSClient {
    func readLine() throws -> String {
        var bytes: [UInt8] = []
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline {
            var byte: UInt8 = 0
            let n = recv(fdForTests, &byte, 1, 0)
            if n == 1 {
                if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
                bytes.append(byte)
            } else if n == 0 {
                break
            }
        }
        throw TestClientError(description: "no line; got \(String(decoding: bytes, as: UTF8.self))")
    }
}

@Suite(.serialized) struct SimulatorFaultTests {
    /// Subscribes AAPL and returns once its first quote arrived.
    func subscribedClient(_ ports: IBGatewaySimulator.BoundPorts, clientId: Int32 = 1) throws -> TestTWSClient {
        let client = try TestTWSClient(port: ports.port)
        _ = try client.handshake(clientId: clientId)
        client.send(aaplRequest)
        _ = try client.collect { if case .tickString(1, 45, _) = $0 { true } else { false } }
        return client
    }

    func ticks(_ client: TestTWSClient, forMs ms: Int = 400) throws -> [ServerMessage] {
        try client.drain(forMs: ms).filter(isTick)
    }

    @Test func handshakeOverTCPAndDuplicateClientIdGets326ThenClose() async throws {
        try await withSimulator { _, ports in
            let first = try TestTWSClient(port: ports.port)
            let welcome = try first.handshake(clientId: 17, maxVersion: 226)
            #expect(first.serverVersion == 176)
            #expect(welcome.prefix(2) == [.managedAccounts(["DU1234567"]), .nextValidId(1)])
            #expect(errorCodes(welcome) == [2104, 2104, 2106, 2158])
            let second = try TestTWSClient(port: ports.port)
            let refused = try second.handshake(clientId: 17)
            guard case .error(let e)? = refused.last else { Issue.record("no error: \(refused)"); return }
            #expect(e.reqId == -1 && e.code == 326)
            #expect(e.message == "Unable to connect as the client id is already in use. Retry with a unique client id.")
            #expect(second.closesWithin(ms: 2000))
        }
    }

    @Test func stockQuoteOverTCPMatchesTheRecorder() async throws {
        try await withSimulator { sim, ports in
            let client = try TestTWSClient(port: ports.port)
            _ = try client.handshake(clientId: 4)
            client.send(aaplRequest)
            let first = try client.collect { if case .tickString(1, 45, _) = $0 { true } else { false } }
            #expect(first.first == .tickReqParams(reqId: 1, minTick: 0.01, bboExchange: "9c0001", snapshotPermissions: 3))
            var all = first + (try client.drain(forMs: 300))
            client.send(.cancelMktData(reqId: 1))
            all += try client.drain(forMs: 200)
            let recorded = await sim.sentTicks(clientId: 4, reqId: 1)
            let lastBid = all.last { if case .tickPrice(1, 1, _, _, _) = $0 { true } else { false } }
            guard case .tickPrice(_, _, let bid, _, _)? = lastBid else { Issue.record("no bid"); return }
            #expect(recorded[1]?.last == .price(bid))
            #expect(recorded[4]?.isEmpty == false)
            #expect(await sim.subscriptions().isEmpty)
        }
    }

    @Test func optionQuoteWithGreeksAndUnlistedStrikeOverTCP() async throws {
        try await withSimulator { sim, ports in
            let client = try TestTWSClient(port: ports.port)
            _ = try client.handshake(clientId: 5)
            client.send(.reqSecDefOptParams(reqId: 2, underlyingSymbol: "AAPL", futFopExchange: "", underlyingSecType: "STK", underlyingConId: 265_598))
            let chain = try client.collect { $0 == .optionParametersEnd(reqId: 2) }
            guard case .optionParameters(let p) = chain[0] else { Issue.record("\(chain)"); return }
            let strike = p.strikes[p.strikes.count / 2]
            client.send(.reqMktData(reqId: 3, contract: option("AAPL", p.expirations[2], strike, "P"), genericTickList: "", snapshot: false, regulatorySnapshot: false))
            let quote = try client.collect { if case .tickOptionComputation(let c) = $0 { c.tickType == 13 } else { false } }
            guard case .tickOptionComputation(let model)? = quote.last else { return }
            #expect(model.reqId == 3 && (model.delta ?? 0) < 0 && (model.delta ?? 0) > -1 && model.impliedVol != nil)
            #expect(model.gamma != nil && model.vega != nil && model.theta != nil && model.undPrice != nil)
            #expect(await sim.subscriptions().first?.right == "P")
            client.send(.reqContractDetails(reqId: 4, contract: option("AAPL", p.expirations[0], p.strikes[0] + 0.25, "C"), includeExpired: false))
            let missing = try client.collect(until: isError(200))
            guard case .error(let e)? = missing.last else { return }
            #expect(e.reqId == 4 && e.message == "No security definition has been found for the request")
        }
    }

    @Test func rateZeroStopsTicksAndFloodSendsAtOnce() async throws {
        try await withSimulator { sim, ports in
            let client = try subscribedClient(ports)
            #expect(await sim.control("rate 0") == "OK rate 0.0")
            _ = try client.drain(forMs: 100)  // whatever was in flight
            #expect(try ticks(client).isEmpty)
            let before = await sim.counters().ticksSent
            #expect(try controlPort(ports.controlPort!, "flood 300") == "OK flood 300")
            let flood = try client.drain(forMs: 1000).filter(isTick)
            #expect(await sim.counters().ticksSent - before == flood.count)
            #expect(flood.count > 100)
        }
    }

    @Test func stallStopsTicksAndSnapshotsButAnswersHeartbeats() async throws {
        try await withSimulator { sim, ports in
            let client = try subscribedClient(ports)
            #expect(await sim.control("stall") == "OK stall")
            _ = try client.drain(forMs: 100)
            #expect(try ticks(client).isEmpty)
            client.send(.reqCurrentTime)
            #expect(try client.collect { if case .currentTime = $0 { true } else { false } }.filter(isTick).isEmpty)
            client.send(.reqMktData(reqId: 9, contract: stock("SPY"), genericTickList: "", snapshot: true, regulatorySnapshot: false))
            // Acknowledged at once with TICK_REQ_PARAMS (81), as a real gateway does, stalled
            // or not; then nothing: no tick, no TICK_SNAPSHOT_END.
            let answer = try client.drain(forMs: 400)
            #expect(answer == [.tickReqParams(reqId: 9, minTick: 0.01, bboExchange: "9c0001", snapshotPermissions: 3)])
            #expect(await sim.control("resume") == "OK resume")
            #expect(try ticks(client, forMs: 500).isEmpty == false)
        }
    }

    @Test func quietStopsTicksButAnswersSnapshots() async throws {
        try await withSimulator { sim, ports in
            let client = try subscribedClient(ports)
            _ = await sim.control("quiet")
            _ = try client.drain(forMs: 100)
            #expect(try ticks(client).isEmpty)
            client.send(.reqMktData(reqId: 9, contract: stock("SPY"), genericTickList: "", snapshot: true, regulatorySnapshot: false))
            let snapshot = try client.collect { $0 == .tickSnapshotEnd(reqId: 9) }
            #expect(snapshot.filter(isTick).count == 12)
            client.send(.reqCurrentTime)
            _ = try client.collect { if case .currentTime = $0 { true } else { false } }
        }
    }

    @Test func hangAnswersNothingUntilResume() async throws {
        try await withSimulator { sim, ports in
            let client = try subscribedClient(ports)
            _ = await sim.control("hang")
            _ = try client.drain(forMs: 100)
            client.send(.reqCurrentTime)
            #expect(try client.drain(forMs: 400).isEmpty)
            let late = try TestTWSClient(port: ports.port)
            #expect(try late.sendGreeting(timeoutMs: 300) == nil)
            _ = await sim.control("resume")
            #expect(try late.nextPayload(timeoutMs: 3000) != nil)  // the held-back hello
            #expect(try ticks(client, forMs: 500).isEmpty == false)
        }
    }

    @Test func dropClosesEveryConnection() async throws {
        try await withSimulator { sim, ports in
            let a = try subscribedClient(ports, clientId: 1)
            let b = try TestTWSClient(port: ports.port)
            _ = try b.handshake(clientId: 2)
            #expect(await sim.control("drop") == "OK drop 2")
            #expect(a.closesWithin(ms: 2000) && b.closesWithin(ms: 2000))
        }
    }

    @Test func refuseClosesNewConnectionsOnly() async throws {
        try await withSimulator { sim, ports in
            let old = try subscribedClient(ports)
            _ = await sim.control("refuse 30")
            let refused = try TestTWSClient(port: ports.port)
            refused.write(Handshake.clientGreeting(minVersion: 100, maxVersion: 176))
            #expect(refused.closesWithin(ms: 2000))
            #expect(try ticks(old).isEmpty == false)
            _ = await sim.control("refuse 0")
            let accepted = try TestTWSClient(port: ports.port)
            _ = try accepted.handshake(clientId: 9)
            #expect(await sim.counters().connectionsRefused == 1)
        }
    }

    @Test func farmDownStopsTicksUntilFarmUp() async throws {
        try await withSimulator { sim, ports in
            let client = try subscribedClient(ports)
            _ = await sim.control("farm-down")
            let notice = try client.collect(until: isError(2103))
            guard case .error(let e)? = notice.last else { return }
            #expect(e.reqId == -1 && e.message == "Market data farm connection is broken:usfarm")
            #expect(try ticks(client).isEmpty)
            _ = await sim.control("farm-up")
            _ = try client.collect(until: isError(2104))
            #expect(try ticks(client, forMs: 500).isEmpty == false)
        }
    }

    @Test func connectivityLostThenRestoredMaintainedOrLost() async throws {
        try await withSimulator { sim, ports in
            let client = try subscribedClient(ports)
            _ = await sim.control("connectivity-lost")
            _ = try client.collect(until: isError(1100))
            #expect(try ticks(client).isEmpty)
            _ = await sim.control("connectivity-restored maintained")
            _ = try client.collect(until: isError(1102))
            #expect(try ticks(client, forMs: 500).isEmpty == false)
            _ = await sim.control("connectivity-lost")
            _ = await sim.control("connectivity-restored lost")
            _ = try client.collect(until: isError(1101))
            #expect(await sim.subscriptions().isEmpty)
            #expect(try ticks(client).isEmpty)
        }
    }

    @Test func competingSessionEndsSubscriptionsWith10197() async throws {
        try await withSimulator { sim, ports in
            let client = try subscribedClient(ports)
            _ = await sim.control("competing-session")
            let ended = try client.collect(until: isError(10197))
            guard case .error(let e)? = ended.last else { return }
            #expect(e.reqId == 1 && e.message == "No market data during competing live session")
            client.send(.reqMktData(reqId: 2, contract: stock("SPY"), genericTickList: "", snapshot: false, regulatorySnapshot: false))
            _ = try client.collect(until: isError(10197))
            _ = await sim.control("competing-session off")
            client.send(.reqMktData(reqId: 3, contract: stock("SPY"), genericTickList: "", snapshot: false, regulatorySnapshot: false))
            _ = try client.collect { $0 == .tickReqParams(reqId: 3, minTick: 0.01, bboExchange: "9c0001", snapshotPermissions: 3) }
        }
    }

    @Test func slowHandshakeDelaysTheHello() async throws {
        try await withSimulator { sim, ports in
            _ = await sim.control("slow-handshake 600")
            let client = try TestTWSClient(port: ports.port)
            #expect(try client.sendGreeting(timeoutMs: 150) == nil)
            #expect(try client.nextPayload(timeoutMs: 3000) != nil)
        }
    }

    @Test func noPermissionGets354() async throws {
        try await withSimulator({ $0.initialCommands = ["no-permission AAPL"] }) { _, ports in
            let client = try TestTWSClient(port: ports.port)
            _ = try client.handshake(clientId: 1)
            client.send(aaplRequest)
            let reply = try client.collect(until: isError(354))
            #expect(reply.filter(isTick).isEmpty)
        }
    }

    @Test func pacingAndLineLimitErrorsOverTCP() async throws {
        try await withSimulator({ $0.pacingLimit = 5; $0.marketDataLines = 1 }) { _, ports in
            let client = try TestTWSClient(port: ports.port)
            _ = try client.handshake(clientId: 1)
            client.send(aaplRequest)
            client.send(.reqMktData(reqId: 2, contract: stock("SPY"), genericTickList: "", snapshot: false, regulatorySnapshot: false))
            _ = try client.collect(until: isError(101))
            for _ in 0..<6 { client.send(.reqCurrentTime) }
            let paced = try client.collect(until: isError(100))
            guard case .error(let e)? = paced.last else { return }
            #expect(e.message == "Max rate of messages per second has been exceeded.")
        }
    }

    @Test func controlPortAnswersCountersAndRejectsNonsense() async throws {
        try await withSimulator { _, ports in
            let client = try subscribedClient(ports)
            _ = client
            let counters = try controlPort(ports.controlPort!, "counters")
            #expect(counters.hasPrefix("OK clients=1 connections=1 subscriptions=1 ticks="))
            #expect(try controlPort(ports.controlPort!, "explode") == "ERR unknown command 'explode' (try help)")
            #expect(try controlPort(ports.controlPort!, "refuse soon") == "ERR refuse needs one non-negative number (seconds)")
        }
    }
}
