import Foundation
import RedisPublisher

#if canImport(Glibc)
import Glibc
#endif

/// A redis-server child on a loopback port, for tests that need their own server (restart,
/// ACL users, SCRIPT FLUSH, REPLICAOF). Spawned with posix_spawn and an empty signal mask, stopped
/// with SIGKILL and a bounded wait: `Foundation.Process` can hang inside `swift test`.
/// Shared by the test targets (a library target, not a test target).
public final class RedisServerProcess: @unchecked Sendable {
    // @unchecked: used from one test task at a time.
    public let port: Int
    public let directory: String
    public private(set) var pid: pid_t = 0

    /// Where the server is ready: a plaintext URL on `port`, or the TLS URL of a server
    /// started with `tlsReadiness` (its plaintext port closed).
    private let readinessURL: RedisURL?
    private let configFile: String?

    public var url: RedisURL { readinessURL ?? RedisURL(host: "127.0.0.1", port: port) }

    /// The binary from `QR_REDIS_SERVER`, else `redis-server` on PATH.
    public static var binary: String { ProcessInfo.processInfo.environment["QR_REDIS_SERVER"] ?? "redis-server" }

    /// Starts a server and waits (at most 30 s) until it answers PING.
    /// - Parameter tlsReadiness: for a TLS-only server (`--port 0 --tls-port P` among
    ///   `extraArguments`): the URL on which readiness is checked and `url` answers.
    /// - Parameter configFile: a configuration file, passed first (Sentinel needs one it can
    ///   rewrite; add `--sentinel` to `extraArguments`).
    public init(port: Int? = nil, extraArguments: [String] = [], tlsReadiness: RedisURL? = nil, configFile: String? = nil) throws {
        self.port = try port ?? tlsReadiness.map(\.port) ?? Self.freePort()
        readinessURL = tlsReadiness
        self.configFile = configFile
        directory = NSTemporaryDirectory() + "qr-redis-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try launch(extraArguments: extraArguments)
    }

    deinit { kill() }

    /// Starts the server again on the same port (after `kill`).
    public func restart(extraArguments: [String] = []) throws {
        try launch(extraArguments: extraArguments)
    }

    private func launch(extraArguments: [String]) throws {
        let arguments = [Self.binary] + (configFile.map { [$0] } ?? []) + ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                         "--dir", directory, "--logfile", directory + "/redis.log", "--daemonize", "no"] + extraArguments
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        // The child must not hold swift-test's output pipes: if this process dies, a surviving
        // server would keep swift-test waiting for EOF forever.
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 2, "/dev/null", O_WRONLY, 0)
        var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in cArguments { free(p) } }
        var child: pid_t = 0
        let rc = posix_spawnp(&child, Self.binary, &fileActions, &attributes, &cArguments, environ)
        guard rc == 0 else { throw TestFailure("cannot start \(Self.binary): errno \(rc)") }
        pid = child
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let connection = try? RedisConnection(url: url, connectTimeout: .milliseconds(200), ioTimeout: .seconds(1)),
               (try? connection.command(["PING"])) == .status("PONG") {
                return
            }
            usleep(20_000)
        }
        kill()
        throw TestFailure("redis-server did not answer on port \(port) within 30 s")
    }

    /// SIGKILL and reap (bounded: SIGKILL cannot be ignored).
    public func kill() {
        guard pid > 0 else { return }
        Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        for _ in 0..<500 {
            if waitpid(pid, &status, WNOHANG) != 0 { break }
            usleep(10_000)
        }
        pid = 0
    }

    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TestFailure("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
