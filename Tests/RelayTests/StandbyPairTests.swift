import Foundation
import MarketModel
import RedisPublisher
import Simulators
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 14 items 3-4: two real `quote-relay run` processes in one `worker.group`, one IB
/// Gateway simulator (each worker with its own client id) and a real Redis. The active worker
/// is killed with SIGKILL, or paused with SIGSTOP past its lease and resumed.
///
/// Lease TTL 2 s, renew 0.5 s: the documented bound for a takeover is TTL + one renew
/// interval (2.5 s); the test allows generous slack for a loaded machine and prints the
/// measured time (README "A standby pair").
@Suite(.serialized)
struct StandbyPairTests {
    static let ttlSeconds = 2.0
    static let renewSeconds = 0.5
    static let group = "pair"

    /// One simulator, one Redis prefix, and the workers started against them.
    final class Pair: @unchecked Sendable {
        let sim: IBGatewaySimulator
        let port: Int
        let redis: RedisConnection
        let redisText: String
        let prefix = "qrpair\(UInt32.random(in: 0..<UInt32.max))"
        let dir: URL
        let root: String
        let binary: String
        var processes: [String: Process] = [:]
        /// Each worker's `http.listen` port, by worker id.
        var httpPorts: [String: Int] = [:]

        init() async throws {
            binary = try #require(RepositoryRoot.binary, "quote-relay binary not built")
            root = try #require(RepositoryRoot.path)
            redisText = try #require(ProcessInfo.processInfo.environment["QR_TEST_REDIS_URL"], "needs QR_TEST_REDIS_URL")
            redis = try RedisConnection(url: try RedisPublisher.RedisURL(parsing: redisText))
            var simConfig = IBGatewaySimulator.Configuration()
            simConfig.ticksPerSecond = 20
            sim = IBGatewaySimulator(configuration: simConfig)
            port = try await sim.start().port
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("qr-pair-\(prefix)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }

        /// Starts a worker of the group; `delayed` asks IB for delayed data, so its writes are
        /// told apart from the other worker's by `data_type`; `extraYAML` adds top-level
        /// sections (e.g. `leases:`).
        func launch(_ id: String, clientID: Int, delayed: Bool = false, redisURL: String? = nil, extraYAML: String = "") throws -> pid_t {
            let path = dir.appendingPathComponent("\(id).yaml").path
            let httpPort = try CLITestRedis.freePort()
            httpPorts[id] = httpPort
            try """
                worker:
                  id: \(id)
                  group: \(StandbyPairTests.group)
                  lease_ttl_seconds: \(StandbyPairTests.ttlSeconds)
                  lease_renew_seconds: \(StandbyPairTests.renewSeconds)
                ib:
                  port: \(port)
                  client_id: \(clientID)
                  heartbeat_interval_seconds: 1
                  market_data_type: \(delayed ? "delayed" : "live")
                redis:
                  url: \(redisURL ?? redisText)
                  key_prefix: \(prefix)
                  scripts_dir: \(root)/lua
                symbols: [AAPL, MSFT]
                http:
                  listen: 127.0.0.1:\(httpPort)
                \(extraYAML)
                """.write(toFile: path, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["run", "--config", path]
            process.environment = ["PATH": "/usr/bin:/bin"]
            process.standardOutput = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            // The worker's log (stderr), kept in QR_PAIR_LOG_DIR when set, else in the test's
            // temporary directory; a second launch of the same id appends.
            let log = "\(ProcessInfo.processInfo.environment["QR_PAIR_LOG_DIR"] ?? dir.path)/\(id).log"
            if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
            let handle = FileHandle(forWritingAtPath: log)
            _ = try handle?.seekToEnd()
            process.standardError = handle
            try process.run()
            processes[id] = process
            return process.processIdentifier
        }

        /// What the worker logged so far.
        func log(_ id: String) -> String {
            let path = "\(ProcessInfo.processInfo.environment["QR_PAIR_LOG_DIR"] ?? dir.path)/\(id).log"
            return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        }

        func hash(_ key: String) -> [String: String] {
            (try? redis.command(["HGETALL", "\(prefix):\(key)"]).hash) ?? [:]
        }

        /// The worker id holding the group's lease now, nil when nobody does.
        func holder() -> String? {
            guard let token = try? redis.command(["GET", "\(prefix):group:\(StandbyPairTests.group):lease"]).string else { return nil }
            return LeaseStateMachine.workerID(ofToken: token)
        }

        func wait(_ timeout: Duration, _ condition: () async -> Bool) async -> Bool {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if await condition() { return true }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return await condition()
        }

        func lines(clientID: Int32) async -> [SubscriptionInfo] {
            await sim.subscriptions().filter { $0.clientId == clientID }
        }

        func shutDown() async {
            for process in processes.values where process.isRunning {
                kill(process.processIdentifier, SIGCONT)
                kill(process.processIdentifier, SIGKILL)
            }
            await sim.stop()
            redis.close()
            try? FileManager.default.removeItem(at: dir)
        }
    }

    /// Starts A (active) and then B (standby), and checks the standby is warm: connected to
    /// the gateway with its own client id, no market data lines, its status says standby.
    func startPair(_ pair: Pair, aDelayed: Bool = false, aRedisURL: String? = nil) async throws -> pid_t {
        let a = try pair.launch("pair-a", clientID: 61, delayed: aDelayed, redisURL: aRedisURL)
        #expect(await pair.wait(.seconds(20)) { pair.holder() == "pair-a" && pair.hash("quote:AAPL")["last"] != nil })
        _ = try pair.launch("pair-b", clientID: 62)
        #expect(await pair.wait(.seconds(20)) {
            let b = pair.hash("worker:pair-b")
            return b["role"] == "standby" && b["state"] == "connected" && b["lease_holder"] == "pair-a"
        })
        let statusA = pair.hash("worker:pair-a")
        #expect(statusA["role"] == "active")
        #expect(statusA["group"] == Self.group)
        #expect(await pair.lines(clientID: 61).count == 2)
        #expect(await pair.lines(clientID: 62).isEmpty, "the standby holds market data lines")
        return a
    }

    /// Compares the quote hashes with the last values the gateway sent to `clientID`.
    func expectRedisEqualsGateway(_ pair: Pair, clientID: Int32) async {
        for symbol in ["AAPL", "MSFT"] {
            guard let sub = await pair.sim.subscriptions().first(where: { $0.symbol == symbol && $0.clientId == clientID }) else {
                Issue.record("no line of \(symbol) for client \(clientID)")
                continue
            }
            let sent = await pair.sim.sentTicks(clientId: sub.clientId, reqId: sub.reqId)
            let hash = pair.hash("quote:\(symbol)")
            #expect(hash["source"] == "ib")
            for (tickType, values) in sent {
                guard case .price(let p)? = values.last, let field = WorkerIntegrationTests.priceFields[tickType] else { continue }
                #expect(hash[field] == p.flatMap(DecimalFormat.string), "\(symbol) \(field)")
            }
        }
    }

    /// Redis' count of `-FENCED` error replies (INFO errorstats), over all clients.
    func fencedCount(_ pair: Pair) -> Int {
        let errorstats = (try? pair.redis.command(["INFO", "errorstats"]).string) ?? ""
        guard let line = errorstats.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("errorstat_FENCED:count=") }) else { return 0 }
        return Int(line.dropFirst("errorstat_FENCED:count=".count).prefix { $0.isNumber }) ?? 0
    }

    @Test func killingTheActiveWorkerHandsOverWithinTheBound() async throws {
        let pair = try await Pair()
        let a = try await startPair(pair)
        let seqBefore = Int(pair.hash("quote:AAPL")["seq"] ?? "") ?? 0

        let killedAt = ContinuousClock.now
        kill(a, SIGKILL)
        let tookOver = await pair.wait(.seconds(15)) { pair.holder() == "pair-b" }
        let takeover = ContinuousClock.now - killedAt
        print("measured: kill -9 of the active worker -> standby holds the lease after \(takeover) (bound: TTL \(Self.ttlSeconds) s + renew \(Self.renewSeconds) s)")
        #expect(tookOver)
        // The bound plus slack for a loaded CI machine (two engineers' builds share 2 cores).
        #expect(takeover < .seconds(Self.ttlSeconds + Self.renewSeconds + 5))

        // B subscribed and writes; its status says so.
        #expect(await pair.wait(.seconds(15)) { await pair.lines(clientID: 62).count == 2 })
        #expect(await pair.wait(.seconds(10)) { (Int(pair.hash("quote:AAPL")["seq"] ?? "") ?? 0) > seqBefore + 5 })
        let written = ContinuousClock.now - killedAt
        print("measured: kill -9 -> the standby's first writes within \(written)")
        #expect(await pair.wait(.seconds(10)) {
            let status = pair.hash("worker:pair-b")
            return status["role"] == "active" && status["lease_holder"] == "pair-b"
        })
        // `quote-relay status` says who holds the lease.
        let status = try await ChildProcess.run(
            pair.binary, ["status", "--redis-url", pair.redisText, "--prefix", pair.prefix], environment: ["PATH": "/usr/bin:/bin"])
        #expect(status.status == 0)
        #expect(status.stdout.contains("group pair: lease held by pair-b"), "\(status.stdout)")
        #expect(status.stdout.contains("active in group pair  (lease held by pair-b)"), "\(status.stdout)")

        // Freeze the market: the final state equals what the gateway last sent to B.
        #expect(await pair.sim.control("stall").hasPrefix("OK"))
        try await Task.sleep(for: .milliseconds(700))
        await expectRedisEqualsGateway(pair, clientID: 62)

        // A comes back as the standby; a graceful stop of B (SIGTERM) releases the lease, so
        // A takes over within one renew interval instead of a TTL.
        #expect(await pair.sim.control("resume").hasPrefix("OK"))
        _ = try pair.launch("pair-a", clientID: 61)
        #expect(await pair.wait(.seconds(20)) {
            let status = pair.hash("worker:pair-a")
            return status["role"] == "standby" && status["state"] == "connected"
        })
        let termAt = ContinuousClock.now
        kill(try #require(pair.processes["pair-b"]).processIdentifier, SIGTERM)
        #expect(await pair.wait(.seconds(15)) { pair.holder() == "pair-a" })
        let handover = ContinuousClock.now - termAt
        print("measured: SIGTERM of the active worker -> standby holds the lease after \(handover) (the lease was released)")
        let processB = try #require(pair.processes["pair-b"])
        #expect(await pair.wait(.seconds(10)) { !processB.isRunning })
        #expect(pair.log("pair-b").contains("released the group's lease"))
        #expect(await pair.wait(.seconds(10)) { await pair.lines(clientID: 61).count == 2 })
        #expect(await pair.lines(clientID: 62).isEmpty)
        await pair.shutDown()
    }

    @Test func aPausedActiveWorkerWritesNothingAfterLosingItsLease() async throws {
        let pair = try await Pair()
        // A asks for delayed data: every write of A says data_type=delayed, B's say live.
        let a = try await startPair(pair, aDelayed: true)
        #expect(pair.hash("quote:AAPL")["data_type"] == "delayed")
        let channel = "\(pair.prefix):quote:AAPL"
        let listener = try ChannelListener(url: pair.redisText, channel: channel)

        kill(a, SIGSTOP)
        let stoppedAt = ContinuousClock.now
        #expect(await pair.wait(.seconds(15)) { pair.holder() == "pair-b" })
        print("measured: SIGSTOP of the active worker -> standby holds the lease after \(ContinuousClock.now - stoppedAt)")
        #expect(await pair.wait(.seconds(10)) { pair.hash("quote:AAPL")["data_type"] == "live" })
        // A's lines still stream into its (paused) socket: on resume it has ticks and maybe
        // a batch to write, all with its old token.
        try await Task.sleep(for: .milliseconds(500))
        let fencedBefore = fencedCount(pair)
        kill(a, SIGCONT)
        let resumedAt = ContinuousClock.now
        #expect(await pair.wait(.seconds(10)) { pair.hash("worker:pair-a")["role"] == "standby" })
        print("measured: SIGCONT -> the old worker reports standby after \(ContinuousClock.now - resumedAt)")
        // It cancelled its market data lines at the gateway: none leaked.
        #expect(await pair.wait(.seconds(5)) { await pair.lines(clientID: 61).isEmpty })
        // Who holds the lease comes with the release's answer or the next bid; the status hash
        // shows it at its next write.
        #expect(await pair.wait(.seconds(10)) { pair.hash("worker:pair-a")["lease_holder"] == "pair-b" })
        try await Task.sleep(for: .seconds(1))
        #expect(await pair.sim.control("stall").hasPrefix("OK"))
        try await Task.sleep(for: .milliseconds(700))
        let messages = listener.stop()

        // Every message on the key's channel after B's first write is B's (live), and seq
        // never goes backwards.
        var seqs: [Int] = []
        var sawLive = false
        var delayedAfterLive = 0
        for text in messages {
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                  let seq = object["seq"] as? Int
            else { continue }
            seqs.append(seq)
            let dataType = object["data_type"] as? String
            if dataType == "live" { sawLive = true }
            if sawLive, dataType == "delayed" { delayedAfterLive += 1 }
        }
        #expect(sawLive)
        #expect(delayedAfterLive == 0, "the paused worker wrote \(delayedAfterLive) times after losing its lease")
        #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count, "seq went backwards or repeated: \(seqs.prefix(50))")
        // Informational: whether the resumed worker's batch reached Redis before its watchdog
        // stopped it (then the fence refused it) depends on scheduling.
        print("measured: writes of the resumed worker refused by the fence in Redis: \(fencedCount(pair) - fencedBefore)")
        let hash = pair.hash("quote:AAPL")
        #expect(hash["data_type"] == "live" && hash["source"] == "ib")
        await expectRedisEqualsGateway(pair, clientID: 62)
        await pair.shutDown()
    }

    /// Two workers of a group at one gateway with the same ib.client_id: the gateway refuses
    /// the second (326); it says so clearly in its log and stands by without lines, and the
    /// active worker is undisturbed.
    @Test func aDuplicateClientIDIsLoggedClearly() async throws {
        let pair = try await Pair()
        _ = try pair.launch("pair-a", clientID: 71)
        #expect(await pair.wait(.seconds(20)) { pair.holder() == "pair-a" && pair.hash("quote:AAPL")["last"] != nil })
        _ = try pair.launch("pair-b", clientID: 71)
        #expect(await pair.wait(.seconds(20)) {
            pair.log("pair-b").contains("IB Gateway refused the client id: another API client uses it (326)")
        })
        #expect(pair.log("pair-b").contains("needs its own ib.client_id"))
        // Its status hash is written on its own schedule (worker.status_interval_seconds).
        #expect(await pair.wait(.seconds(20)) { pair.hash("worker:pair-b")["role"] == "standby" })
        #expect(pair.holder() == "pair-a")
        #expect(await pair.lines(clientID: 71).count == 2)
        await pair.shutDown()
    }

    /// The active worker loses Redis (its connections cut, new ones refused) while the standby
    /// still reaches it: the standby takes over within the bound; the old active stands by,
    /// cancels its lines, and once Redis is back says so in its status.
    @Test func anActiveWorkerThatLosesRedisStandsDownAndTheStandbyTakesOver() async throws {
        let pair = try await Pair()
        let url = try RedisPublisher.RedisURL(parsing: pair.redisText)
        let relay = try TCPRelay(upstreamPort: url.port)
        defer { relay.close() }
        _ = try await startPair(pair, aRedisURL: "redis://127.0.0.1:\(relay.port)/\(url.database)")

        let cutAt = ContinuousClock.now
        relay.cut()
        #expect(await pair.wait(.seconds(15)) { pair.holder() == "pair-b" })
        print("measured: the active worker lost Redis -> standby holds the lease after \(ContinuousClock.now - cutAt)")
        // The old active gave up its term by itself (it cannot be told through Redis): its
        // lines at the gateway are cancelled.
        #expect(await pair.wait(.seconds(10)) { await pair.lines(clientID: 61).isEmpty })
        print("measured: the active worker lost Redis -> its market data lines cancelled after \(ContinuousClock.now - cutAt)")
        #expect(await pair.wait(.seconds(10)) { await pair.lines(clientID: 62).count == 2 })

        relay.restore()
        #expect(await pair.wait(.seconds(15)) {
            let a = pair.hash("worker:pair-a")
            return a["role"] == "standby" && a["lease_holder"] == "pair-b"
        })
        #expect(await pair.lines(clientID: 61).isEmpty)
        #expect(pair.holder() == "pair-b")
        #expect(await pair.sim.control("stall").hasPrefix("OK"))
        try await Task.sleep(for: .milliseconds(700))
        await expectRedisEqualsGateway(pair, clientID: 62)
        await pair.shutDown()
    }
}

/// Collects the messages of one pub/sub channel on a thread of its own.
final class ChannelListener: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    private var stopping = false
    private var finished = false

    init(url: String, channel: String) throws {
        let connection = try RedisConnection(url: try RedisPublisher.RedisURL(parsing: url))
        _ = try connection.command(["SUBSCRIBE", channel])
        // The connection is used only by the thread from here on.
        let box = ConnectionBox(connection: connection)
        Thread { [self] in
            let connection = box.connection
            while !lock.withLock({ stopping }) {
                guard let reply = try? connection.readReply(waitingAtMost: .milliseconds(100)) else { continue }
                if let parts = reply.array, parts.count == 3, parts[0].string == "message", let text = parts[2].string {
                    lock.withLock { messages.append(text) }
                }
            }
            connection.close()
            lock.withLock { finished = true }
        }.start()
    }

    /// Stops listening and returns every message received, in order.
    func stop() -> [String] {
        lock.withLock { stopping = true }
        for _ in 0..<50 where !lock.withLock({ finished }) { usleep(20_000) }
        return lock.withLock { messages }
    }
}

/// Hands a connection to the one thread that uses it from then on.
struct ConnectionBox: @unchecked Sendable {
    let connection: RedisConnection
}

/// A TCP relay on loopback in front of Redis, for one worker: `cut()` drops its connections
/// and refuses new ones (the worker "loses Redis" while the other still reaches it).
final class TCPRelay: @unchecked Sendable {
    let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let lock = NSLock()
    private var open: [Int32] = []
    private var isCut = false
    private var closed = false

    init(upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        listener = fd
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok, listen(fd, 16) == 0 else { throw CLITestRedis.Failure(description: "relay: bind/listen failed") }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in acceptLoop() }.start()
    }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }  // closed
            let refuse = lock.withLock { isCut || closed }
            if refuse { Glibc.close(client); continue }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            guard connected else { Glibc.close(client); Glibc.close(upstream); continue }
            lock.withLock { open += [client, upstream] }
            Thread { [self] in pump(from: client, to: upstream) }.start()
            Thread { [self] in pump(from: upstream, to: client) }.start()
        }
    }

    private func pump(from source: Int32, to sink: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            var sent = 0
            while sent < n {
                let m = buffer.withUnsafeBytes { send(sink, $0.baseAddress! + sent, n - sent, Int32(MSG_NOSIGNAL)) }
                if m <= 0 { break }
                sent += m
            }
            if sent < n { break }
        }
        shutdown(source, Int32(SHUT_RDWR))
        shutdown(sink, Int32(SHUT_RDWR))
    }

    /// Drops every relayed connection and refuses new ones until `restore()`.
    func cut() {
        let fds = lock.withLock { () -> [Int32] in
            isCut = true
            defer { open = [] }
            return open
        }
        for fd in fds { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    func restore() { lock.withLock { isCut = false } }

    func close() {
        cut()
        lock.withLock { closed = true }
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
    }
}
