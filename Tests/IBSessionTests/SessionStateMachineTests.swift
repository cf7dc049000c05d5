import Essentials
import Testing
import TWSProtocol

@testable import IBSession

typealias Action = SessionStateMachine.Action

@Suite("SessionStateMachine")
struct SessionStateMachineTests {
    let t0 = ContinuousClock.now
    let config = GatewayConfiguration(
        host: "gw", port: 4002, clientId: 17, clientIdPool: [18, 19],
        connectTimeout: .seconds(5), heartbeatInterval: .seconds(10),
        reconnect: BackoffPolicy(initial: .milliseconds(500), max: .seconds(30), multiplier: 2),
        healthyResetAfter: .seconds(30), connectivityLostGrace: .seconds(60)
    )

    func machine(_ configuration: GatewayConfiguration? = nil) -> SessionStateMachine {
        SessionStateMachine(configuration: configuration ?? config, random: SplitMix64(seed: 1))
    }

    /// Drives a fresh machine through a full handshake at t0.
    func connected(_ configuration: GatewayConfiguration? = nil) -> SessionStateMachine {
        var m = machine(configuration)
        _ = m.handle(.connectRequested(now: t0))
        _ = m.handle(.tcpConnected(now: t0))
        _ = m.handle(.helloReceived(serverVersion: 176, now: t0))
        _ = m.handle(.nextValidIdReceived(now: t0))
        return m
    }

    func delay(in actions: [Action]) -> Duration? {
        for case .scheduleReconnect(let after) in actions { return after }
        return nil
    }

    @Test func handshakeActionsInOrder() {
        var m = machine()
        let r1 = m.handle(.connectRequested(now: t0))
        #expect(r1 == [
            .emit(.state(from: .disconnected, to: .connecting, reason: "connect")),
            .connect(host: "gw", port: 4002, clientId: 17),
        ])
        let r2 = m.handle(.tcpConnected(now: t0))
        #expect(r2 == [
            .emit(.state(from: .connecting, to: .handshaking, reason: "tcp connected")),
            .sendGreeting(minVersion: 157, maxVersion: 200),
        ])
        let r3 = m.handle(.helloReceived(serverVersion: 176, now: t0))
        #expect(r3 == [.sendStartAPI(clientId: 17)])
        let r4 = m.handle(.nextValidIdReceived(now: t0 + .milliseconds(40)))
        #expect(r4 == [
            .emit(.state(from: .handshaking, to: .connected, reason: "next valid id received")),
            .emit(.connected(serverVersion: 176, clientId: 17)),
            // Live too: only a client that called reqMarketDataType gets MARKET_DATA_TYPE (58).
            .send([.reqMarketDataType(1)]),
            .resubscribeAll,
        ])
        #expect(m.serverVersion == 176)
        #expect(m.failedAttempts == 0)
    }

    @Test func delayedMarketDataTypeIsRequestedOnEveryConnect() {
        var configuration = config
        configuration.marketDataType = 3
        var m = machine(configuration)
        _ = m.handle(.connectRequested(now: t0))
        _ = m.handle(.tcpConnected(now: t0))
        _ = m.handle(.helloReceived(serverVersion: 176, now: t0))
        let r5 = m.handle(.nextValidIdReceived(now: t0))
        #expect(r5.contains(.send([.reqMarketDataType(3)])))
    }

    @Test func serverVersionOutsideRangeFailsTheAttempt() {
        var m = machine()
        _ = m.handle(.connectRequested(now: t0))
        _ = m.handle(.tcpConnected(now: t0))
        let actions = m.handle(.helloReceived(serverVersion: 150, now: t0))
        #expect(actions.first == .close(reason: "server version 150 outside v157..200"))
        #expect(m.state == .backoff)
    }

    @Test("connect timeout covers every stage", arguments: [0, 1, 2])
    func connectTimeout(stage: Int) {
        var m = machine()
        _ = m.handle(.connectRequested(now: t0))
        if stage >= 1 { _ = m.handle(.tcpConnected(now: t0 + .seconds(1))) }
        if stage >= 2 { _ = m.handle(.helloReceived(serverVersion: 176, now: t0 + .seconds(2))) }
        let r6 = m.handle(.tick(now: t0 + .milliseconds(4999)))
        #expect(r6.isEmpty)
        let actions = m.handle(.tick(now: t0 + .seconds(5)))
        let stageName = ["tcp connect", "server hello", "next valid id"][stage]
        #expect(actions.first == .close(reason: "connect timeout after 5.0 seconds waiting for \(stageName)"))
        #expect(actions.contains(.connectionLost))
        #expect(m.state == .backoff)
        #expect(m.failedAttempts == 1)
        #expect(m.lastError == "connect timeout after 5.0 seconds waiting for \(stageName)")
        let wait = delay(in: actions)!
        #expect(wait >= .zero && wait < .milliseconds(500))
        // The backoff ends on the first tick at or after the scheduled instant.
        let r7 = m.handle(.tick(now: t0 + .seconds(5) + wait))
        #expect(r7.contains(.connect(host: "gw", port: 4002, clientId: 17)))
    }

    @Test func refusedConnectionsBackOffWithGrowingCaps() {
        var m = machine()
        var now = t0
        _ = m.handle(.connectRequested(now: now))
        var delays: [Duration] = []
        for attempt in 1...8 {
            let actions = m.handle(.connectionClosed(error: "connection refused", now: now))
            #expect(!actions.contains(.close(reason: "connection refused")), "nothing to close after a refused connect")
            let wait = delay(in: actions)!
            #expect(wait < config.reconnect.cap(forAttempt: attempt))
            #expect(m.failedAttempts == attempt)
            delays.append(wait)
            now += wait
            let r8 = m.handle(.tick(now: now))
            #expect(r8.last == .connect(host: "gw", port: 4002, clientId: 17))
        }
        #expect(m.lastError == "connection refused")
        #expect(m.totalFailures == 8)
        // Caps double; with the seeded draws the later delays are far above the first ones.
        #expect(delays[6...].allSatisfy { $0 > .milliseconds(500) })
    }

    @Test func heartbeatProbesAndDeclaresDeadAfterTwoSilentIntervals() {
        var m = connected()
        let r9 = m.handle(.tick(now: t0 + .milliseconds(100)))
        #expect(r9 == [.send([.reqCurrentTime])])
        let r10 = m.handle(.tick(now: t0 + .seconds(5)))
        #expect(r10.isEmpty)
        _ = m.handle(.currentTimeReceived(now: t0 + .seconds(5)))
        let r11 = m.handle(.tick(now: t0 + .milliseconds(10_100)))
        #expect(r11 == [.send([.reqCurrentTime])])
        // No reply from here on: dead two intervals after the last reply (t0+5s).
        let r12 = m.handle(.tick(now: t0 + .milliseconds(20_100)))
        #expect(r12 == [.send([.reqCurrentTime])])
        let r13 = m.handle(.tick(now: t0 + .milliseconds(24_999)))
        #expect(r13.isEmpty)
        let actions = m.handle(.tick(now: t0 + .seconds(25)))
        #expect(actions.first == .close(reason: "heartbeat: no CURRENT_TIME reply for 20.0 seconds"))
        #expect(m.state == .backoff)
    }

    @Test func aReplyLateBehindAFloodIsNotADeadSocket() {
        var m = connected()
        _ = m.handle(.tick(now: t0 + .milliseconds(100)))
        // Ticks keep arriving, the probe's answer is queued behind them.
        for second in stride(from: 1, through: 40, by: 1) {
            _ = m.handle(.inboundActivity(now: t0 + .seconds(second)))
            let actions = m.handle(.tick(now: t0 + .seconds(second) + .milliseconds(500)))
            #expect(actions.allSatisfy { $0 == .send([.reqCurrentTime]) })
        }
        #expect(m.state == .connected)
        // Silence for one interval on top of the missing reply: dead.
        let r = m.handle(.tick(now: t0 + .seconds(50)))
        #expect(r.first == .close(reason: "heartbeat: no CURRENT_TIME reply for 20.0 seconds"))
    }

    @Test func attemptCounterResetsOnlyAfterStayingHealthy() {
        var m = machine()
        _ = m.handle(.connectRequested(now: t0))
        _ = m.handle(.connectionClosed(error: "refused", now: t0))
        _ = m.handle(.connectionClosed(error: nil, now: t0)) // ignored: already in backoff
        #expect(m.failedAttempts == 1)
        var now = t0 + .seconds(1)
        _ = m.handle(.tick(now: now))
        _ = m.handle(.tcpConnected(now: now))
        _ = m.handle(.helloReceived(serverVersion: 176, now: now))
        _ = m.handle(.nextValidIdReceived(now: now))
        #expect(m.failedAttempts == 1)
        // A drop after 10 s keeps counting: the gateway that accepts and drops is backed off.
        now += .seconds(10)
        _ = m.handle(.connectionClosed(error: nil, now: now))
        #expect(m.failedAttempts == 2)
        #expect(m.lastError == "connection closed by the gateway")
        now += .seconds(2)
        _ = m.handle(.tick(now: now))
        _ = m.handle(.tcpConnected(now: now))
        _ = m.handle(.helloReceived(serverVersion: 176, now: now))
        _ = m.handle(.nextValidIdReceived(now: now))
        for step in 1...6 {
            _ = m.handle(.currentTimeReceived(now: now + .seconds(5 * step)))
            _ = m.handle(.tick(now: now + .seconds(5 * step)))
        }
        #expect(m.failedAttempts == 0)
        #expect(m.totalFailures == 2)
    }

    /// Consecutive failed *attempts* (what failover counts) end when a session stays up for a
    /// heartbeat interval: drops of working connections, each taken back at once, never add
    /// up to the failover limit, while the backoff still grows with them (`failedAttempts`).
    @Test func dropsOfWorkingConnectionsAreNotConsecutiveFailedAttempts() {
        var m = connected()
        var now = t0
        for drop in 1...4 {
            // Up for 12 s, answering the heartbeat, then dropped by the gateway.
            for step in 1...3 {
                _ = m.handle(.currentTimeReceived(now: now + .seconds(4 * step)))
                _ = m.handle(.tick(now: now + .seconds(4 * step)))
            }
            #expect(m.attemptsSinceConnected == 0)
            now += .seconds(12)
            let actions = m.handle(.connectionClosed(error: nil, now: now))
            #expect(m.attemptsSinceConnected == 1, "drop \(drop)")
            #expect(m.failedAttempts == drop, "the backoff keeps growing with the flaps")
            now += delay(in: actions)!
            _ = m.handle(.tick(now: now))
            #expect(m.state == .connecting)
            _ = m.handle(.tcpConnected(now: now))
            _ = m.handle(.helloReceived(serverVersion: 176, now: now))
            _ = m.handle(.nextValidIdReceived(now: now))
            #expect(m.state == .connected)
        }
    }

    /// A gateway that accepts and drops within seconds, again and again, is failing: those
    /// attempts add up (and reach `failover.max_reconnect_attempts`).
    @Test func connectionsDroppedWithinAHeartbeatIntervalAreFailedAttempts() {
        var m = connected()
        var now = t0
        for drop in 1...4 {
            now += .seconds(2)
            _ = m.handle(.tick(now: now))
            let actions = m.handle(.connectionClosed(error: nil, now: now))
            #expect(m.attemptsSinceConnected == drop)
            now += delay(in: actions)!
            _ = m.handle(.tick(now: now))
            _ = m.handle(.tcpConnected(now: now))
            _ = m.handle(.helloReceived(serverVersion: 176, now: now))
            _ = m.handle(.nextValidIdReceived(now: now))
            #expect(m.attemptsSinceConnected == drop, "not reset by the connect itself")
        }
    }

    @Test func clientIdInUseRotatesThroughThePool() {
        var m = machine()
        var now = t0
        var used: [Int32] = []
        _ = m.handle(.connectRequested(now: now))
        for _ in 0..<4 {
            _ = m.handle(.tcpConnected(now: now))
            _ = m.handle(.helloReceived(serverVersion: 176, now: now))
            used.append(m.clientId)
            let actions = m.handle(.errorReceived(code: 326, message: "client id is already in use", now: now))
            #expect(m.state == .backoff)
            #expect(actions.first == .close(reason: "client id \(used.last!) already in use (326); next id \(m.clientId)"))
            // The close that follows the 326 is the same failure, not a second one.
            _ = m.handle(.connectionClosed(error: nil, now: now))
            now += delay(in: actions)!
            _ = m.handle(.tick(now: now))
        }
        #expect(used == [17, 18, 19, 17])
        #expect(m.failedAttempts == 4)
    }

    @Test func connectivityLostThenRestoredWithDataLoss() {
        var m = connected()
        let lost = m.handle(.errorReceived(code: 1100, message: "Connectivity between IB and TWS has been lost.", now: t0 + .seconds(1)))
        #expect(lost == [.emit(.state(from: .connected, to: .degraded(.connectivityLost), reason: "1100: Connectivity between IB and TWS has been lost."))])
        let back = m.handle(.errorReceived(code: 1101, message: "restored- data lost", now: t0 + .seconds(2)))
        #expect(back == [
            .emit(.state(from: .degraded(.connectivityLost), to: .connected, reason: "1101: connectivity restored, data lost")),
            .resubscribeAfterDataLoss,
        ])
    }

    @Test func connectivityRestoredWithDataMaintainedResubscribesNothing() {
        var m = connected()
        _ = m.handle(.errorReceived(code: 1100, message: "lost", now: t0))
        let back = m.handle(.errorReceived(code: 1102, message: "restored- data maintained", now: t0 + .seconds(2)))
        #expect(back == [.emit(.state(from: .degraded(.connectivityLost), to: .connected, reason: "1102: connectivity restored, data maintained"))])
    }

    @Test func connectivityLostBeyondGraceReconnects() {
        var m = connected()
        _ = m.handle(.errorReceived(code: 1100, message: "lost", now: t0 + .seconds(1)))
        var now = t0 + .seconds(1)
        while now < t0 + .seconds(61) {
            _ = m.handle(.currentTimeReceived(now: now))
            let r14 = m.handle(.tick(now: now))
            #expect(r14.allSatisfy { $0 == .send([.reqCurrentTime]) })
            now += .seconds(5)
        }
        _ = m.handle(.currentTimeReceived(now: now))
        let actions = m.handle(.tick(now: now))
        #expect(actions.first == .close(reason: "connectivity lost (1100) for more than 60.0 seconds"))
    }

    @Test func farmDownAndUpDegradesWithoutClosing() {
        var m = connected()
        let down = m.handle(.errorReceived(code: 2103, message: "Market data farm connection is broken:usfarm", now: t0))
        #expect(down == [.emit(.state(from: .connected, to: .degraded(.farmsDown(["usfarm"])), reason: "2103: farm usfarm broken"))])
        _ = m.handle(.errorReceived(code: 2157, message: "Sec-def data farm connection is broken:secdefil", now: t0))
        #expect(m.state == .degraded(.farmsDown(["usfarm", "secdefil"])))
        _ = m.handle(.errorReceived(code: 2104, message: "Market data farm connection is OK:usfarm", now: t0))
        #expect(m.state == .degraded(.farmsDown(["secdefil"])))
        let up = m.handle(.errorReceived(code: 2158, message: "Sec-def data farm connection is OK:secdefil", now: t0))
        #expect(up == [.emit(.state(from: .degraded(.farmsDown(["secdefil"])), to: .connected, reason: "2158: farm secdefil OK"))])
        #expect(m.failedAttempts == 0)
        #expect(m.lastError == "2157: Sec-def data farm connection is broken:secdefil")
    }

    @Test func informationalNoticesLeaveLastErrorAlone() {
        var m = connected()
        for code: Int32 in [2104, 2106, 2158, 2108, 2107, 10167] {
            let r15 = m.handle(.errorReceived(code: code, message: "fine:usfarm", now: t0))
            #expect(r15.isEmpty)
        }
        #expect(m.lastError == nil)
        _ = m.handle(.errorReceived(code: 10197, message: "No market data during competing live session", now: t0))
        #expect(m.lastError == "10197: No market data during competing live session")
        #expect(m.state == .connected)
    }

    @Test func portChangeReconnectsOnTheNewPort() {
        var m = connected()
        let actions = m.handle(.errorReceived(code: 1300, message: "TWS socket port has been reset and this connection is being dropped. Please reconnect on the new port - 4003", now: t0))
        #expect(actions.first == .close(reason: "gateway API port changed (1300) to 4003"))
        let after = m.handle(.tick(now: t0 + delay(in: actions)!))
        #expect(after.last == .connect(host: "gw", port: 4003, clientId: 17))
    }

    @Test func shutdownClosesAndStopsForGood() {
        var m = connected()
        let r16 = m.handle(.shutdown(now: t0))
        #expect(r16 == [
            .close(reason: "shutdown"),
            .emit(.state(from: .connected, to: .stopped, reason: "shutdown")),
        ])
        let r17 = m.handle(.connectionClosed(error: nil, now: t0))
        #expect(r17.isEmpty)
        let r18 = m.handle(.tick(now: t0 + .seconds(100)))
        #expect(r18.isEmpty)
        let r19 = m.handle(.connectRequested(now: t0))
        #expect(r19.isEmpty)
    }

    @Test func shutdownDuringBackoffHasNothingToClose() {
        var m = machine()
        _ = m.handle(.connectRequested(now: t0))
        _ = m.handle(.connectionClosed(error: "refused", now: t0))
        let r20 = m.handle(.shutdown(now: t0))
        #expect(r20 == [.emit(.state(from: .backoff, to: .stopped, reason: "shutdown"))])
    }
}
