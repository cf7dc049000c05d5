import Simulators
import TWSProtocol
import Testing

/// Benchmark mode (BenchmarkStamps.swift, used by benchmarks/e2e) over TCP: a raw TWS
/// client subscribes two stocks, the simulator floods, and every volume tick is a stamped
/// sequence number whose send time falls inside the test.
@Suite("BenchmarkStamps")
struct BenchmarkStampsTests {
    @Test func emptyRingKnowsNothing() {
        let stamps = BenchmarkStamps(capacity: 4)
        #expect(stamps.lookup(0) == nil)
        #expect(stamps.lookup(1) == nil)
        #expect(stamps.lastIssued == 0)
    }

    @Test func floodedVolumesAreStampedSequenceNumbers() async throws {
        let stamps = BenchmarkStamps(capacity: 1 << 12)
        try await withSimulator({
            $0.symbols = ["AAPL", "MSFT"]
            $0.ticksPerSecond = 0
            $0.benchmarkStamps = stamps
        }) { simulator, ports in
            let client = try TestTWSClient(port: ports.port)
            _ = try client.handshake(clientId: 5)
            client.send(.reqMktData(reqId: 1, contract: stock("AAPL"), genericTickList: "", snapshot: false, regulatorySnapshot: false))
            client.send(.reqMktData(reqId: 2, contract: stock("MSFT"), genericTickList: "", snapshot: false, regulatorySnapshot: false))
            // Each subscription's first volume is its seeded snapshot, not a sequence number.
            var volumes: [Int32: [Double]] = [:]
            func note(_ message: ServerMessage) {
                if case .tickSize(let reqId, 8, let size?) = message { volumes[reqId, default: []].append(size) }
            }
            _ = try client.collect { message in
                note(message)
                return volumes[1] != nil && volumes[2] != nil
            }
            let before = BenchmarkStamps.nanos()
            #expect(await simulator.control("flood 10") == "OK flood 10")
            _ = try client.collect { message in
                note(message)
                return volumes.values.map(\.count).reduce(0, +) >= 12
            }
            let after = BenchmarkStamps.nanos()
            // Round-robin by conId: AAPL (265598) before MSFT (272093).
            #expect(volumes[1]?.dropFirst().prefix(5) == [1, 3, 5, 7, 9])
            #expect(volumes[2]?.dropFirst().prefix(5) == [2, 4, 6, 8, 10])
            #expect(stamps.lastIssued == 10)
            for seq in 1...10 as ClosedRange<UInt64> {
                let stamp = try #require(stamps.lookup(seq))
                #expect(stamp.ordinal == (seq + 1) / 2)
                #expect(stamp.sentNanos >= before && stamp.sentNanos <= after)
            }
            #expect(stamps.lookup(11) == nil)
        }
    }

    /// An index has no volume tick (IB sends none), so its updates take no sequence number: a
    /// number that is never sent would count as offered and never delivered.
    @Test func indexUpdatesAreNotStamped() async throws {
        let stamps = BenchmarkStamps(capacity: 1 << 12)
        try await withSimulator({
            $0.symbols = ["AAPL"]
            $0.ticksPerSecond = 0
            $0.benchmarkStamps = stamps
        }) { simulator, ports in
            let client = try TestTWSClient(port: ports.port)
            _ = try client.handshake(clientId: 5)
            client.send(.reqMktData(reqId: 1, contract: stock("AAPL"), genericTickList: "", snapshot: false, regulatorySnapshot: false))
            client.send(.reqMktData(
                reqId: 2, contract: Contract(symbol: "SPX", secType: "IND", exchange: "CBOE"), genericTickList: "", snapshot: false,
                regulatorySnapshot: false))
            var aapl: [Double] = []
            var spxTicks = 0
            func note(_ message: ServerMessage) {
                if case .tickSize(1, 8, let size?) = message { aapl.append(size) }
                if case .tickPrice(2, 4, _, _, _) = message { spxTicks += 1 }
            }
            _ = try client.collect { message in
                note(message)
                return !aapl.isEmpty && spxTicks > 0
            }
            #expect(await simulator.control("flood 10") == "OK flood 10")
            _ = try client.collect { message in
                note(message)
                return aapl.count >= 6
            }
            // Round-robin by conId: AAPL (265598) and SPX (416904) alternate; only AAPL counts.
            #expect(aapl.dropFirst().prefix(5) == [1, 2, 3, 4, 5])
            #expect(stamps.lastIssued == 5)
        }
    }
}
