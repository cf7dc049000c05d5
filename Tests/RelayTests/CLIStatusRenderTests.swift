import Foundation
import Testing
@testable import Relay

@Suite("status rendering (pure)")
struct CLIStatusRenderTests {
    static let now: Int64 = 1_700_000_100_000

    static let snapshot = StatusSnapshot(
        prefix: "mkt",
        workers: ["w1": [
            "state": "failover", "source": "alphavantage", "ib_host": "127.0.0.1", "ib_port": "4002",
            "client_id": "17", "server_version": "176", "connected_since_ms": "1700000000000",
            "reconnect_attempts": "3", "last_error": "1100 Connectivity between IB and TWS has been lost",
            "failover_reason": "ib disconnected", "failover_since_ms": "1700000070000",
            "last_tick_ms": "1700000099500", "symbols": "AAPL,SPY", "version": "0.1.0", "pid": "4242",
            "updated_ms": "1700000098000",
        ]],
        keys: [
            .init(key: "option:SPY:20250117:450:C", updatedMs: now - 1_200, source: "ib", stale: "0"),
            .init(key: "quote:SPY", updatedMs: now - 75_000, source: "alphavantage", stale: "1"),
            .init(key: "chain:SPY", updatedMs: now - 3_600_000, source: "ib", stale: nil),
            .init(key: "quote:AAPL", updatedMs: now - 400, source: nil, stale: nil),
        ],
        nowMs: now
    )

    @Test func tableShowsWorkerAndKeys() {
        #expect(StatusRenderer.table(Self.snapshot) == """
            worker w1
              state               failover
              source              alphavantage
              ib                  127.0.0.1:4002  client id 17  server version 176
              connected since     1m40s ago
              reconnect attempts  3
              last tick           500ms ago
              last error          1100 Connectivity between IB and TWS has been lost
              failover            ib disconnected (since 30.0s ago)
              symbols             AAPL,SPY
              pid / version       4242 / 0.1.0
              status updated      2.0s ago

            KEY                        AGE    SOURCE        STALE
            quote:AAPL                 400ms  (expired)     -
            quote:SPY                  1m15s  alphavantage  1
            chain:SPY                  1h00m  ib            -
            option:SPY:20250117:450:C  1.2s   ib            0
            """)
    }

    @Test func jsonHasNumbersWhereNumbersBelong() {
        let json = StatusRenderer.json(StatusSnapshot(
            prefix: "mkt",
            workers: ["w1": ["state": "connected", "ib_port": "4002", "updated_ms": "1700000099000", "last_error": ""]],
            keys: [.init(key: "quote:AAPL", updatedMs: Self.now - 10, source: "ib", stale: "0")],
            nowMs: Self.now
        ))
        #expect(json == #"{"prefix":"mkt","now_ms":1700000100000,"workers":[{"id":"w1","ib_port":4002,"last_error":"","state":"connected","updated_ms":1700000099000,"age_ms":1000}],"keys":[{"key":"quote:AAPL","updated_ms":1700000099990,"age_ms":10,"source":"ib","stale":false}]}"#)
    }

    @Test func emptySnapshotSaysWhatIsMissing() {
        let text = StatusRenderer.table(StatusSnapshot(prefix: "x", workers: [:], keys: [], nowMs: 0))
        #expect(text == "no worker status under x:worker:* (is the worker running, and is --prefix right?)\n\nno keys in x:updated")
    }

    @Test(arguments: [
        (Int64(-5), "0ms"), (999, "999ms"), (1_000, "1.0s"), (59_999, "59.9s"), (60_000, "1m00s"),
        (3_599_000, "59m59s"), (3_600_000, "1h00m"), (90_061_000, "1d01h"),
    ])
    func ages(ms: Int64, text: String) {
        #expect(StatusRenderer.formatAge(ms) == text)
    }

    @Test func aStandbyPairShowsRolesAndTheLeaseHolder() {
        let base: [String: String] = ["state": "connected", "source": "ib", "updated_ms": "1700000099000", "group": "pair", "lease_ttl_ms": "5000"]
        var active = base, standby = base
        active["role"] = "active"
        active["lease_holder"] = "a"
        standby["role"] = "standby"
        standby["lease_holder"] = "a"
        let snapshot = StatusSnapshot(
            prefix: "mkt", workers: ["a": active, "b": standby], keys: [], nowMs: Self.now,
            groups: [.init(group: "pair", holder: "a", remainingMs: 3_200)])
        let table = StatusRenderer.table(snapshot)
        let lines = table.split(separator: "\n").map(String.init)
        let roles = lines.filter { $0.hasPrefix("  role ") }.map { $0.split(separator: " ", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces) }
        #expect(roles == ["active in group pair  (lease held by a)", "standby in group pair  (lease held by a)"])
        #expect(lines.firstIndex(of: "worker b").map { lines[$0 + 2].hasPrefix("  role ") } == true)
        #expect(table.contains("group pair: lease held by a (expires in 3.2s unless renewed)\n"))
        let json = StatusRenderer.json(snapshot)
        #expect(json.contains(#""groups":[{"group":"pair","holder":"a","remaining_ms":3200}]"#))
        #expect(json.contains(#""lease_ttl_ms":5000"#) && json.contains(#""role":"standby""#))
        // Without groups the JSON keeps its shape.
        #expect(!StatusRenderer.json(Self.snapshot).contains("groups"))
    }
}
