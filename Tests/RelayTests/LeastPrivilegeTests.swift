import Foundation
import RedisPublisher
import Relay
import Simulators
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Least privilege, tested (issue 11): the real `quote-relay run` binary against both
/// simulators and its own redis-server with `requirepass` and the ACL user of
/// `config/redis-acl.conf` (only `P:*` keys and channels, only the worker's commands).
/// Data flows from IB and, after a stall, from Alpha Vantage; the status hash is written; the
/// ACL LOG stays empty (no command or key the worker needed was refused); and neither the
/// Alpha Vantage key nor any Redis password appears in anything the run produced: the log, the
/// status hash, every key under the prefix, every message published under it, `/metrics` and
/// `check-config`'s output.
@Suite(.serialized)
struct LeastPrivilegeTests {
    static let adminPassword = "Adm1n-Secret-7f3e"
    static let relayPassword = "Rel4y-Secret-9b2d"
    static let apiKey = "AVKEY-Secret-5c81"

    @Test func httpListensOnLoopbackByDefault() {
        let report = ConfigurationLoader.load(yaml: "symbols: [AAPL]", environment: [:])
        let configuration = report.configuration
        #expect(configuration?.http.host == "127.0.0.1")
        #expect(configuration?.http.port == 9464)
    }

    @Test func aclUserRunsTheWorkerAndNoSecretLeaks() async throws {
        let binary = try #require(RepositoryRoot.binary, "quote-relay binary not built")
        let root = try #require(RepositoryRoot.path)
        let server = try RedisServerChild.start(arguments: ["--requirepass", Self.adminPassword])
        defer { server.stop() }
        let admin = try RedisConnection(url: RedisURL(host: "127.0.0.1", port: server.port, password: Self.adminPassword))

        // The ACL line exactly as documented, with this test's prefix and password.
        let prefix = "qrlp\(UInt32.random(in: 0..<UInt32.max))"
        let rule = try Self.aclRule(root: root, prefix: prefix, password: Self.relayPassword)
        _ = try admin.command(["ACL", "SETUSER"] + rule)
        _ = try admin.command(["ACL", "LOG", "RESET"])

        // The user is as narrow as documented: other keys, other channels, dangerous
        // commands and unauthenticated clients are refused.
        let relayURL = RedisURL(host: "127.0.0.1", port: server.port, user: "quote-relay", password: Self.relayPassword)
        let relay = try RedisConnection(url: relayURL)
        for command in [["FLUSHALL"], ["KEYS", "*"], ["CONFIG", "GET", "requirepass"], ["HSET", "other:key", "a", "b"],
                        ["PUBLISH", "other", "x"], ["EVAL", "return 1", "0"], ["ACL", "LIST"], ["DEBUG", "SLEEP", "0"]] {
            #expect(throws: RedisError.self, "\(command[0]) must be refused") { try relay.command(command) }
        }
        #expect(throws: RedisError.self) {
            try RedisConnection(url: RedisURL(host: "127.0.0.1", port: server.port, user: "quote-relay", password: "wrong"))
        }
        let anonymous = try RedisConnection(url: RedisURL(host: "127.0.0.1", port: server.port))
        #expect(throws: RedisError.self) { try anonymous.command(["HSET", "\(prefix):quote:X", "a", "b"]) }
        relay.close()
        _ = try admin.command(["ACL", "LOG", "RESET"])

        // Both simulators; Alpha Vantage accepts only the known key.
        var simConfig = IBGatewaySimulator.Configuration()
        simConfig.ticksPerSecond = 50
        let sim = IBGatewaySimulator(configuration: simConfig)
        let ports = try await sim.start()
        defer { Task { await sim.stop() } }
        let av = try await AlphaVantageSimulator.start(configuration: .init(requiredAPIKey: Self.apiKey))
        defer { Task { try? await av.shutdown() } }

        // Everything published under the prefix, as a subscriber sees it.
        let subscriber = try RedisCLIChild.start(port: server.port, password: Self.adminPassword, arguments: ["PSUBSCRIBE", "\(prefix):*"])
        defer { subscriber.stop() }

        let workerID = "least-privilege"
        let httpPort = try CLITestRedis.freePort()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qr-lp-\(prefix)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let configPath = dir.appendingPathComponent("worker.yaml").path
        try """
            worker:
              id: \(workerID)
            ib:
              port: \(ports.port)
              client_id: 43
              heartbeat_interval_seconds: 1
            redis:
              key_prefix: \(prefix)
              scripts_dir: \(root)/lua
            symbols: [AAPL, MSFT]
            failover:
              staleness_seconds: 2
              check_interval_seconds: 0.5
              failback_stable_seconds: 2
            alphavantage:
              base_url: \(av.baseURL)
              requests_per_minute: 600
              requests_per_day: 10000
            http:
              listen: 127.0.0.1:\(httpPort)
            log:
              level: debug
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
        // Secrets arrive the way config/quote-relay.service passes them: in the environment.
        let environment = [
            "PATH": "/usr/bin:/bin",
            "ALPHAVANTAGE_API_KEY": Self.apiKey,
            "REDIS_URL": "redis://quote-relay:\(Self.relayPassword)@127.0.0.1:\(server.port)/0",
        ]

        let checkConfig = try await ChildProcess.run(binary, ["check-config", "--config", configPath], environment: environment)
        #expect(checkConfig.status == 0, "check-config: \(checkConfig.stderr)")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "--config", configPath]
        process.environment = environment
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        let stdout = PipeDrain(outPipe.fileHandleForReading)
        let stderr = PipeDrain(errPipe.fileHandleForReading)
        defer { if process.isRunning { kill(pid, SIGKILL) } }

        func hget(_ key: String, _ field: String) -> String? {
            try? admin.command(["HGET", "\(prefix):\(key)", field]).string
        }
        func waitFor(_ what: String, seconds: Int, _ condition: () -> Bool) async throws -> Bool {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while ContinuousClock.now < deadline {
                if condition() { return true }
                try await Task.sleep(for: .milliseconds(100))
            }
            Issue.record("timed out waiting for \(what)")
            return false
        }

        // 1. IB data flows through the ACL user, and the status hash is written.
        _ = try await waitFor("IB data and a connected status", seconds: 30) {
            hget("quote:AAPL", "source") == "ib" && hget("quote:MSFT", "source") == "ib"
                && hget("worker:\(workerID)", "state") == "connected"
        }
        let (_, _, metrics) = try await HTTPHealthServerTests.get(port: httpPort, path: "/metrics")
        var (readyStatus, _, readyBody) = try await HTTPHealthServerTests.get(port: httpPort, path: "/readyz")
        let readyDeadline = ContinuousClock.now + .seconds(15)
        while readyStatus != 200, ContinuousClock.now < readyDeadline {
            try await Task.sleep(for: .milliseconds(200))
            (readyStatus, _, readyBody) = try await HTTPHealthServerTests.get(port: httpPort, path: "/readyz")
        }
        #expect(readyStatus == 200, "readyz: \(readyBody)")

        // 1b. A lease (issue 12), written as an application would: the worker reads it,
        // serves it and writes its status with the ACL's commands alone (ACL LOG checked below).
        let adminURL = RedisURL(host: "127.0.0.1", port: server.port, password: Self.adminPassword)
        _ = try LeaseClient.subscribe(url: adminURL, prefix: prefix, requester: "acl-test", spec: "SPY", ttlMs: 120_000, priority: nil)
        _ = try await waitFor("the leased SPY served", seconds: 30) {
            hget("request:acl-test:SPY", "state") == "active" && hget("quote:SPY", "source") == "ib"
        }

        // 1c. The same over the worker's HTTP endpoint, which reaches Redis as the ACL user.
        let leased = try await RawHTTP.lease(port: httpPort, #"{"requester":"acl-http","instrument":"QQQ","ttl_seconds":120}"#)
        #expect(leased.status == 201, "POST /subscriptions: \(leased.body)")
        _ = try await waitFor("the QQQ leased over HTTP served", seconds: 30) {
            hget("request:acl-http:QQQ", "state") == "active" && hget("quote:QQQ", "source") == "ib"
        }
        let listed = try await RawHTTP.request(port: httpPort, path: "/subscriptions/acl-http/QQQ")
        #expect(listed.status == 200 && RawHTTP.object(listed)["state"] as? String == "active", "\(listed.body)")
        #expect(try await RawHTTP.request(port: httpPort, method: "DELETE", path: "/subscriptions/acl-http/QQQ").status == 200)

        // 2. A stall: the symbols fail over to Alpha Vantage, which answers only the right key.
        _ = await sim.control("stall")
        _ = try await waitFor("failover to Alpha Vantage", seconds: 30) { hget("quote:AAPL", "source") == "alphavantage" }
        // The status hash follows at its next write (worker.status_interval_seconds).
        _ = try await waitFor("symbols_failover in the status", seconds: 15) {
            hget("worker:\(workerID)", "symbols_failover")?.contains("AAPL") == true
        }
        _ = await sim.control("resume")
        _ = try await waitFor("failback to IB", seconds: 30) { hget("quote:AAPL", "source") == "ib" }
        let (_, _, metricsAfter) = try await HTTPHealthServerTests.get(port: httpPort, path: "/metrics")

        // The HTTP endpoint is bound to loopback only (kernel's view: /proc/net/tcp).
        // Read to EOF: /proc files report size 0, and a one-page read misses sockets on a busy machine.
        let procTCP = try #require(FileHandle(forReadingAtPath: "/proc/net/tcp"))
        let listening = String(decoding: procTCP.readDataToEndOfFile(), as: UTF8.self)
        try? procTCP.close()
        let portHex = String(format: "%04X", httpPort)
        #expect(listening.contains("0100007F:\(portHex) 00000000:0000 0A"), "http.listen not on 127.0.0.1")
        #expect(!listening.contains("00000000:\(portHex) 00000000:0000 0A"), "http.listen on 0.0.0.0")

        // What the run left in Redis, before the worker stops.
        var stored: [String] = []
        var cursor = "0"
        repeat {
            let page = try admin.command(["SCAN", cursor, "MATCH", "\(prefix):*", "COUNT", "500"]).array ?? []
            cursor = page.first?.string ?? "0"
            for key in page.count > 1 ? (page[1].array ?? []) : [] {
                guard let name = key.string else { continue }
                let type = try admin.command(["TYPE", name]).string ?? ""
                let value: RedisReply = switch type {
                case "hash": try admin.command(["HGETALL", name])
                case "zset": try admin.command(["ZRANGE", name, "0", "-1", "WITHSCORES"])
                case "set": try admin.command(["SMEMBERS", name])
                case "stream": try admin.command(["XRANGE", name, "-", "+"])
                default: try admin.command(["GET", name])
                }
                stored.append("\(name) \(value)")
            }
        } while cursor != "0"
        let status = try admin.command(["HGETALL", "\(prefix):worker:\(workerID)"])

        kill(pid, SIGTERM)
        _ = try await waitFor("the worker to exit", seconds: 15) { !process.isRunning }
        let deadline = ContinuousClock.now + .seconds(10)
        let log = (await stderr.result(before: deadline) ?? "") + (await stdout.result(before: deadline) ?? "")
        #expect(hget("worker:\(workerID)", "state") == "stopped")
        let published = subscriber.output()
        #expect(published.contains("\"type\":\"failover\""), "no failover event seen on \(prefix):events")

        // 3. Nothing the worker sent was refused by the ACL.
        let aclLog = try admin.command(["ACL", "LOG"]).array ?? []
        #expect(aclLog.isEmpty, "ACL LOG: \(aclLog)")

        // 4. No secret anywhere.
        let produced: [(String, String)] = [
            ("log", log), ("status hash", "\(status)"), ("keys", stored.joined(separator: "\n")),
            ("published messages", published), ("/metrics", metrics + metricsAfter), ("/readyz", readyBody),
            ("check-config", checkConfig.stdout + checkConfig.stderr),
        ]
        #expect(log.count > 1000 && stored.count >= 4 && published.count > 1000 && metrics.contains("quote_relay_"),
                "too little output to prove anything: log \(log.count), keys \(stored.count), published \(published.count)")
        for (what, text) in produced {
            for secret in [Self.apiKey, Self.relayPassword, Self.adminPassword] {
                #expect(!text.contains(secret), "\(what) contains a secret")
            }
        }
        #expect(checkConfig.stdout.contains("***"), "check-config shows no redaction")
    }

    /// The `user` line of config/redis-acl.conf as ACL SETUSER arguments, for this prefix and
    /// password.
    static func aclRule(root: String, prefix: String, password: String) throws -> [String] {
        let text = try String(contentsOfFile: "\(root)/config/redis-acl.conf", encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("user ") })
        return line.split(separator: " ").dropFirst().map { word in
            word.replacingOccurrences(of: "mkt:", with: "\(prefix):").replacingOccurrences(of: ">CHANGE-ME", with: ">\(password)")
        }
    }
}

/// A redis-server child of its own (the suite's shared server has no password), on a free
/// loopback port, stopped with SIGKILL.
struct RedisServerChild {
    let process: Process
    let port: Int

    static func start(arguments: [String]) throws -> RedisServerChild {
        let port = try CLITestRedis.freePort()
        let binary = ProcessInfo.processInfo.environment["QR_REDIS_SERVER"] ?? "/usr/bin/redis-server"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--daemonize", "no", "--logfile", ""] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<500 {
            if CLITestRedis.canConnect(port: port) { return RedisServerChild(process: process, port: port) }
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGKILL)
        throw CLITestRedis.Failure(description: "redis-server did not listen on \(port)")
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// `redis-cli` as a subscriber whose output is collected in a file.
struct RedisCLIChild {
    let process: Process
    let path: String

    static func start(port: Int, password: String, arguments: [String]) throws -> RedisCLIChild {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("qr-sub-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        process.arguments = ["-p", String(port), "--no-auth-warning", "-a", password] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return RedisCLIChild(process: process, path: path)
    }

    func output() -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: path)
    }
}
