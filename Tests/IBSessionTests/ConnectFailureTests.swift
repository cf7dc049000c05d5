#if canImport(Glibc)
import Glibc
#endif
import Essentials
import IBSession
import Logging
import NIOCore
import Simulators
import Synchronization
import Testing

/// Issue 16 items 5 and 8: a gateway that is not there is one readable line per failed
/// attempt (summarised further by the worker's log handler), and attempts are numbered the
/// same way everywhere.
@Suite("Connect failures")
struct ConnectFailureTests {
    @Test func errnoAndNIOErrorsAreClassified() {
        #expect(ConnectFailure.classify(IOError(errnoCode: ECONNREFUSED, reason: "connect")) == .refused)
        #expect(ConnectFailure.classify(IOError(errnoCode: ETIMEDOUT, reason: "connect")) == .timedOut)
        #expect(ConnectFailure.classify(IOError(errnoCode: EHOSTUNREACH, reason: "connect")) == .unreachable)
        #expect(ConnectFailure.classify(ChannelError.connectTimeout(.seconds(3))) == .timedOut)
        if case .other(let text) = ConnectFailure.classify(IOError(errnoCode: EACCES, reason: "connect\nsecond line")) {
            #expect(!text.contains("\n"))
        } else {
            Issue.record("EACCES is not a known connect failure")
        }
    }

    @Test func theRefusedMessageSaysWhatToCheck() {
        let message = ConnectFailure.refused.message(host: "127.0.0.1", port: 4002)
        #expect(message.hasPrefix("IB Gateway at 127.0.0.1:4002 refused the connection: "))
        for hint in ["running", "API enabled", "4001 live / 4002 paper", "trusted IP"] {
            #expect(message.contains(hint), "missing: \(hint)")
        }
        #expect(!message.contains("\n"))
        #expect(!message.contains("NIOConnectionError"))
    }

    /// Against a port nothing listens on: the session's last error is the readable line, each
    /// failed attempt logs exactly one line above debug, and the reconnect attempts counted in
    /// the state reasons, the log and the status agree.
    @Test func aGatewayThatIsNotThereGivesOneReadableLinePerAttempt() async throws {
        // A port bound but never listened on: connections to it are refused, and no other test
        // running in parallel can take it while this one runs (a port merely released could
        // be bound by another test's server in between).
        let holder = try #require(BoundPort())
        defer { holder.close() }
        let port = holder.port

        let lines = CapturedLines()
        var logger = Logger(label: "connect-test") { _ in CapturingHandler(lines: lines) }
        logger.logLevel = .debug
        let configuration = GatewayConfiguration(
            port: port, connectTimeout: .seconds(1), heartbeatInterval: .milliseconds(300),
            reconnect: BackoffPolicy(initial: .milliseconds(20), max: .milliseconds(40), multiplier: 2))
        let session = GatewaySession(configuration: configuration, logger: logger)
        let runner = Task { try? await session.run() }
        var reasons: [String] = []
        var failures = 0
        for await event in session.events {
            guard case .state(_, let to, let reason) = event else { continue }
            if to == .connecting { reasons.append(reason) }
            if to == .backoff {
                failures += 1
                #expect(reason == ConnectFailure.refused.message(host: "127.0.0.1", port: port))
                if failures == 3 { runner.cancel() }
            }
        }
        await runner.value
        // Cancelling takes effect after the attempt in flight: count by numbering, not by total.
        #expect(reasons.count >= 3 && reasons == ["connect"] + (1..<reasons.count).map { "reconnect attempt \($0)" })
        #expect(session.status.lastError == ConnectFailure.refused.message(host: "127.0.0.1", port: port))

        let loud = lines.all.filter { $0.level > .debug }
        let failuresLogged = loud.filter { $0.message.hasPrefix("cannot connect to IB Gateway: IB Gateway at 127.0.0.1:\(port) refused the connection") }
        #expect(failuresLogged.count >= 3 && failuresLogged.map(\.attempt) == (1...failuresLogged.count).map { Optional(String($0)) })
        // Besides them: the first "connecting", the first state change and the shutdown.
        let others = loud.filter { !$0.message.hasPrefix("cannot connect") }.map(\.message)
        #expect(others.filter { $0 == "connecting to gateway" }.count == 1)
        #expect(others.filter { $0 == "gateway session state" }.count <= 2, "\(others)")
        #expect(!loud.contains { $0.message.contains("NIOConnectionError") || $0.message.contains("errno") })
    }
}

struct CapturedLine: Sendable {
    var level: Logger.Level
    var message: String
    var attempt: String?
}

final class CapturedLines: Sendable {
    private let lines = Mutex<[CapturedLine]>([])
    func append(_ line: CapturedLine) { lines.withLock { $0.append(line) } }
    var all: [CapturedLine] { lines.withLock { $0 } }
}

struct CapturingHandler: LogHandler {
    let lines: CapturedLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        lines.append(CapturedLine(level: event.level, message: event.message.description, attempt: event.metadata?["failed_attempts"].map { "\($0)" }))
    }
}

/// A TCP socket bound to 127.0.0.1 on a free port without `listen()`: connecting to it is
/// refused (ECONNREFUSED) for as long as it stays open.
final class BoundPort: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init?() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, named == 0 else { _ = Glibc.close(fd); return nil }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}
