#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Simulators
import TWSProtocol

struct TestClientError: Error, CustomStringConvertible {
    var description: String
}

/// A raw TWS client over a blocking loopback socket, speaking through the TWSProtocol codec.
/// Every read is bounded by a receive timeout, so a test fails instead of hanging.
final class TestTWSClient {
    private let fd: Int32
    var fdForTests: Int32 { fd }
    private var decoder = FrameDecoder()
    private(set) var serverVersion = 0
    private(set) var isClosed = false

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestClientError(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw TestClientError(description: "connect to \(port) failed: errno \(errno)")
        }
        setReceiveTimeout(ms: 3000)
    }

    deinit { close(fd) }

    func setReceiveTimeout(ms: Int) {
        var tv = timeval(tv_sec: ms / 1000, tv_usec: Int((ms % 1000) * 1000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func write(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Greeting and hello only; returns the negotiated version, or nil when no hello came.
    func sendGreeting(minVersion: Int = 100, maxVersion: Int = 176, timeoutMs: Int = 3000) throws -> Int? {
        write(Handshake.clientGreeting(minVersion: minVersion, maxVersion: maxVersion))
        guard let payload = try nextPayload(timeoutMs: timeoutMs) else { return nil }
        serverVersion = try Handshake.parseServerHello(payload).version
        return serverVersion
    }

    /// The whole handshake: greeting, hello, START_API; returns what arrived up to and
    /// including the farm notices (ends at 2158), or everything until the socket closed.
    func handshake(clientId: Int32, maxVersion: Int = 176) throws -> [ServerMessage] {
        guard try sendGreeting(maxVersion: maxVersion) != nil else { throw TestClientError(description: "no hello") }
        send(.startAPI(clientId: clientId, optionalCapabilities: ""))
        return try collect { if case .error(let e) = $0 { e.code == 2158 || e.code == 326 } else { false } }
    }

    func send(_ message: ClientMessage) {
        write(MessageEncoder.encode(message, serverVersion: serverVersion))
    }

    /// The next frame's payload; nil on timeout; throws when the server closed the socket.
    func nextPayload(timeoutMs: Int = 3000) throws -> [UInt8]? {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        while true {
            if let payload = try decoder.next() { return payload }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return nil }
            setReceiveTimeout(ms: max(1, Int(remaining * 1000)))
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 {
                isClosed = true
                throw TestClientError(description: "closed by server")
            }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                isClosed = true
                throw TestClientError(description: "recv errno \(errno)")
            }
            decoder.feed(chunk[0..<n])
        }
    }

    func next(timeoutMs: Int = 3000) throws -> ServerMessage? {
        guard let payload = try nextPayload(timeoutMs: timeoutMs) else { return nil }
        return try MessageDecoder.decodeServer(payload, serverVersion: serverVersion)
    }

    /// Messages until one satisfies `stop` (included); throws on timeout.
    func collect(timeoutMs: Int = 5000, until stop: (ServerMessage) -> Bool) throws -> [ServerMessage] {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        var out: [ServerMessage] = []
        while true {
            let remaining = Int(deadline.timeIntervalSinceNow * 1000)
            guard remaining > 0, let message = try next(timeoutMs: remaining) else {
                throw TestClientError(description: "timed out; got \(out)")
            }
            out.append(message)
            if stop(message) { return out }
        }
    }

    /// Everything that arrives within the window (for "nothing is sent" checks).
    func drain(forMs ms: Int) throws -> [ServerMessage] {
        let deadline = Date().addingTimeInterval(Double(ms) / 1000)
        var out: [ServerMessage] = []
        while true {
            let remaining = Int(deadline.timeIntervalSinceNow * 1000)
            guard remaining > 0, let message = try next(timeoutMs: remaining) else { return out }
            out.append(message)
        }
    }

    /// Whether the server closes the socket within the window.
    func closesWithin(ms: Int) -> Bool {
        do {
            _ = try drain(forMs: ms)
            return false
        } catch {
            return isClosed
        }
    }
}

func isTick(_ message: ServerMessage) -> Bool {
    switch message {
    case .tickPrice, .tickSize, .tickString, .tickOptionComputation: true
    default: false
    }
}

func isError(_ code: Int32) -> (ServerMessage) -> Bool {
    { if case .error(let e) = $0 { e.code == code } else { false } }
}

/// A simulator on free loopback ports for one test; the control port is bound too.
func withSimulator(
    _ adjust: (inout IBGatewaySimulator.Configuration) -> Void = { _ in },
    _ body: (IBGatewaySimulator, IBGatewaySimulator.BoundPorts) async throws -> Void
) async throws {
    var configuration = testConfiguration { $0.ticksPerSecond = 200 }
    configuration.clock = { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
    adjust(&configuration)
    let simulator = IBGatewaySimulator(configuration: configuration)
    let ports = try await simulator.start(port: 0, controlPort: 0)
    do {
        try await body(simulator, ports)
    } catch {
        await simulator.stop()
        throw error
    }
    await simulator.stop()
}

let aaplRequest = ClientMessage.reqMktData(reqId: 1, contract: stock("AAPL"), genericTickList: "", snapshot: false, regulatorySnapshot: false)
