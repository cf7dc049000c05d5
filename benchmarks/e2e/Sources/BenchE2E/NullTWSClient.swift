import Foundation
import Synchronization
import TWSProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The fastest possible consumer of the simulator: a TWS client that subscribes and then only
/// scans frames for volume ticks (the sequence numbers) and throws everything else away.
/// Running the flood against it measures the simulator's own ceiling on this machine, which
/// bounds every figure the real targets can show.
public final class NullTWSClient: Sendable {
    private let fd: Int32
    private let stopping = Synchronization.Atomic<Bool>(false)
    private let finished = Synchronization.Atomic<Bool>(false)
    private let maxSequence = Synchronization.Atomic<UInt64>(0)
    private let bytes = Synchronization.Atomic<UInt64>(0)

    /// Connects, performs the handshake (bounded by a 5 s receive timeout) and subscribes each
    /// symbol (reqId = index + 1), then starts the reader thread.
    public init(port: Int, clientId: Int32, symbols: [String]) throws {
        fd = try LoopbackSocket.connect(port: port)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        do {
            try LoopbackSocket.writeAll(fd, Handshake.clientGreeting(minVersion: 100, maxVersion: 176))
            var decoder = FrameDecoder()
            var hello: [UInt8]?
            var chunk = [UInt8](repeating: 0, count: 4096)
            while hello == nil {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                guard n > 0 else { throw BenchError("null client: no server hello") }
                decoder.feed(chunk[0..<n])
                hello = try decoder.next()
            }
            let version = try Handshake.parseServerHello(hello!).version
            var out = MessageEncoder.encode(.startAPI(clientId: clientId, optionalCapabilities: ""), serverVersion: version)
            for (i, symbol) in symbols.enumerated() {
                out += MessageEncoder.encode(
                    .reqMktData(
                        reqId: Int32(i + 1), contract: Contract(symbol: symbol), genericTickList: "", snapshot: false,
                        regulatorySnapshot: false),
                    serverVersion: version)
            }
            try LoopbackSocket.writeAll(fd, out)
        } catch {
            close(fd)
            throw error
        }
        let thread = Thread { [self] in readLoop() }
        thread.name = "bench-null-client"
        thread.start()
    }

    /// The highest sequence number (volume) received.
    public var deliveredSequence: UInt64 { maxSequence.load(ordering: .relaxed) }
    public var bytesRead: UInt64 { bytes.load(ordering: .relaxed) }

    public func stop(timeout: Duration = .seconds(3)) async {
        stopping.store(true, ordering: .releasing)
        let deadline = ContinuousClock.now + timeout
        while !finished.load(ordering: .acquiring) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    private func readLoop() {
        defer {
            close(fd)
            finished.store(true, ordering: .releasing)
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4 << 20)
        var filled = 0
        while !stopping.load(ordering: .relaxed) {
            if filled == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { continue }
            guard n > 0 else { return }
            filled += n
            bytes.add(UInt64(n), ordering: .relaxed)
            let (consumed, highest) = buffer.withUnsafeBufferPointer { Self.scan($0, count: filled) }
            if highest > maxSequence.load(ordering: .relaxed) { maxSequence.store(highest, ordering: .relaxed) }
            buffer.withUnsafeMutableBytes { raw in
                if consumed < filled { memmove(raw.baseAddress!, raw.baseAddress! + consumed, filled - consumed) }
            }
            filled -= consumed
        }
    }

    /// Walks whole frames; for TICK_SIZE (`2, 6, reqId, 8, size`) returns the largest size.
    /// - Returns: bytes consumed (whole frames only) and the largest volume seen.
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>, count: Int) -> (Int, UInt64) {
        var index = 0
        var highest: UInt64 = 0
        while index + 4 <= count {
            let length = Int(bytes[index]) << 24 | Int(bytes[index + 1]) << 16 | Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
            guard index + 4 + length <= count else { break }
            let start = index + 4
            let end = start + length
            index = end
            guard length > 8, bytes[start] == UInt8(ascii: "2"), bytes[start + 1] == 0 else { continue }
            var field = 0
            var i = start
            var tickType = 0
            while i < end && field < 4 {
                if bytes[i] == 0 { field += 1 } else if field == 3 { tickType = tickType * 10 + Int(bytes[i]) - 48 }
                i += 1
            }
            guard field == 4, tickType == 8 else { continue }
            var value: UInt64 = 0
            while i < end, bytes[i] >= 48, bytes[i] <= 57 {
                value = value * 10 + UInt64(bytes[i] - 48)
                i += 1
            }
            highest = max(highest, value)
        }
        return (index, highest)
    }
}
