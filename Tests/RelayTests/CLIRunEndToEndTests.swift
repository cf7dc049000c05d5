import Foundation
import RedisPublisher
import Simulators
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real `quote-relay run` binary against the in-process simulator and the real Redis:
/// live data arrives, SIGTERM stops it with exit 0 and the status hash says `stopped`.
@Suite(.serialized)
struct CLIRunEndToEndTests {
    @Test func runPublishesThenStopsCleanlyOnSIGTERM() async throws {
        let binary = try #require(RepositoryRoot.binary, "quote-relay binary not built")
        let root = try #require(RepositoryRoot.path)
        let redisText = try #require(ProcessInfo.processInfo.environment["QR_TEST_REDIS_URL"], "needs QR_TEST_REDIS_URL")
        let redis = try RedisConnection(url: try RedisPublisher.RedisURL(parsing: redisText))

        var simConfig = IBGatewaySimulator.Configuration()
        simConfig.ticksPerSecond = 100
        let sim = IBGatewaySimulator(configuration: simConfig)
        let ports = try await sim.start()
        defer { Task { await sim.stop() } }

        let prefix = "qrcli\(UInt32.random(in: 0..<UInt32.max))"
        let workerID = "cli-e2e"
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qr-e2e-\(prefix)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let configPath = dir.appendingPathComponent("worker.yaml").path
        try """
            worker:
              id: \(workerID)
            ib:
              port: \(ports.port)
              client_id: 41
              heartbeat_interval_seconds: 1
            redis:
              url: \(redisText)
              key_prefix: \(prefix)
              scripts_dir: \(root)/lua
            symbols: [AAPL, MSFT]
            http:
              listen: 127.0.0.1:\(try freePort())
            """.write(toFile: configPath, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "--config", configPath]
        process.environment = ["PATH": "/usr/bin:/bin"]
        process.standardOutput = FileHandle.nullDevice
        let errPipe = Pipe()
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        let stderr = Task.detached { errPipe.fileHandleForReading.readDataToEndOfFile() }
        defer { if process.isRunning { kill(pid, SIGKILL) } }

        func hget(_ key: String, _ field: String) -> String? {
            try? redis.command(["HGET", "\(prefix):\(key)", field]).string
        }
        var deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, hget("quote:AAPL", "last") == nil || hget("worker:\(workerID)", "state") != "connected" {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(hget("quote:AAPL", "source") == "ib")
        #expect(hget("worker:\(workerID)", "state") == "connected")
        #expect(hget("worker:\(workerID)", "pid") == String(pid))

        let signalledAt = ContinuousClock.now
        kill(pid, SIGTERM)
        deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let stopTime = ContinuousClock.now - signalledAt
        #expect(!process.isRunning, "still running 10 s after SIGTERM")
        if !process.isRunning {
            #expect(process.terminationReason == .exit)
            #expect(process.terminationStatus == 0)
        }
        #expect(stopTime < .seconds(5), "shutdown took \(stopTime)")
        print("measured: SIGTERM -> exit \(stopTime)")
        #expect(hget("worker:\(workerID)", "state") == "stopped")
        // The gateway saw the market data cancelled and the socket closed.
        let open = await sim.subscriptions().filter { $0.clientId == 41 }
        #expect(open.isEmpty)
        if process.isRunning { kill(pid, SIGKILL) }
        let log = String(decoding: await stderr.value, as: UTF8.self)
        #expect(log.contains("quote-relay stopped"))
    }

    func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
