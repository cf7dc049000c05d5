#if canImport(Glibc)
import Glibc
#endif
import BenchE2E

/// A blocking Redis connection for the replay's verifier: pipelined `HMGET`s, replies read
/// as RESP2 arrays of bulk strings. Loopback only (`LoopbackSocket`).
public final class RedisProbe {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var position = 0

    public init(port: Int) throws {
        fd = try LoopbackSocket.connect(port: port)
    }

    deinit { close(fd) }

    /// `HMGET key fields...` for every request, in one round trip; nil for a missing field.
    public func hmget(_ requests: [(key: String, fields: [String])]) throws -> [[String?]] {
        var out: [UInt8] = []
        for request in requests {
            out += LoopbackSocket.command(["HMGET", request.key] + request.fields)
        }
        try LoopbackSocket.writeAll(fd, out)
        var replies: [[String?]] = []
        replies.reserveCapacity(requests.count)
        for _ in requests {
            replies.append(try readArray())
        }
        return replies
    }

    /// Any command with a bulk/integer/status reply, as text (setup and cleanup).
    public func command(_ parts: [String]) throws -> String? {
        try LoopbackSocket.writeAll(fd, LoopbackSocket.command(parts))
        return try readScalar()
    }

    private func readArray() throws -> [String?] {
        let line = try readLine()
        guard line.first == UInt8(ascii: "*"), let count = Int(String(decoding: line.dropFirst(), as: UTF8.self)) else {
            throw BenchError("unexpected reply to HMGET: \(String(decoding: line, as: UTF8.self))")
        }
        var values: [String?] = []
        for _ in 0..<max(0, count) { values.append(try readScalar()) }
        return values
    }

    private func readScalar() throws -> String? {
        let line = try readLine()
        guard let kind = line.first else { throw BenchError("empty reply line") }
        let rest = String(decoding: line.dropFirst(), as: UTF8.self)
        switch kind {
        case UInt8(ascii: "$"):
            guard let length = Int(rest) else { throw BenchError("bad bulk length \(rest)") }
            if length < 0 { return nil }
            try fill(length + 2)
            let text = String(decoding: buffer[position..<position + length], as: UTF8.self)
            position += length + 2
            return text
        case UInt8(ascii: "+"), UInt8(ascii: ":"):
            return rest
        case UInt8(ascii: "-"):
            throw BenchError("Redis error: \(rest)")
        default:
            throw BenchError("unexpected reply type \(String(decoding: line, as: UTF8.self))")
        }
    }

    private func readLine() throws -> ArraySlice<UInt8> {
        while true {
            if let end = buffer[position...].firstIndex(of: 10), end > position, buffer[end - 1] == 13 {
                let line = buffer[position..<end - 1]
                position = end + 1
                return line
            }
            try receive()
        }
    }

    private func fill(_ count: Int) throws {
        while buffer.count - position < count { try receive() }
    }

    private func receive() throws {
        if position > 0 {
            buffer.removeSubrange(0..<position)
            position = 0
        }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0, errno == EINTR { return }
        guard n > 0 else { throw BenchError("Redis closed the connection") }
        buffer.append(contentsOf: chunk[0..<n])
    }
}
