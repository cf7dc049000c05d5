import MarketModel
import Testing
@testable import RedisPublisher
import QRTestSupport

/// `rediss://` against a real `redis-server --port 0 --tls-port P` with certificates made
/// for the test: the same connection API and the same publisher over the TLS transport, and
/// every way TLS can be wrong ends in a `.tlsFailed` error that says why, never in plaintext.
@Suite("TLS to Redis (real redis-server --tls-port)", .serialized)
final class TLSConnectionTests {
    let certificates: TestCertificates
    let server: RedisServerProcess

    init() throws {
        certificates = try TestCertificates()
        let port = try RedisServerProcess.freePort()
        server = try RedisServerProcess(
            extraArguments: certificates.serverArguments(port: port, requireClientCertificates: false),
            tlsReadiness: certificates.url(port: port)
        )
    }

    deinit {
        server.kill()
        certificates.remove()
    }

    func connect(_ url: RedisURL) throws(RedisError) -> RedisConnection {
        try RedisConnection(url: url, connectTimeout: .seconds(5), ioTimeout: .seconds(5))
    }

    func expectTLSFailure(_ url: RedisURL, mentioning words: [String]) {
        do {
            _ = try connect(url)
            Issue.record("connected to \(url) although TLS should have failed")
        } catch {
            #expect(error.code == .tlsFailed, "\(error)")
            for word in words { #expect(error.message.contains(word), "\(error.message) does not mention \(word)") }
        }
    }

    @Test func commandsPipelinesAndLargeRepliesRoundTripOverTLS() throws {
        let c = try connect(certificates.url(port: server.port))
        #expect(try c.command(["PING"]) == .status("PONG"))
        #expect(try c.command(["HSET", "h", "a", "1", "b", "ünï"]) == .integer(2))
        #expect(try c.hgetall("h") == ["a": "1", "b": "ünï"])
        // 4 MB: many TLS records and many reads before the reply is complete.
        let big = String(repeating: "0123456789abcdef", count: 1 << 18)
        try c.command(["SET", "big", big])
        #expect(try c.command(["GET", "big"]) == .string(big))
        let replies = try c.pipeline([["SET", "s", "v"], ["HGET", "s", "f"], ["GET", "s"]])
        #expect(replies[0] == .status("OK"))
        guard case .error(let message) = replies[1] else {
            Issue.record("expected WRONGTYPE, got \(replies[1])")
            return
        }
        #expect(message.hasPrefix("WRONGTYPE"))
        #expect(replies[2] == .string("v"))
        do {
            try c.command(["EVALSHA", String(repeating: "0", count: 40), "0"])
            Issue.record("expected NOSCRIPT")
        } catch {
            #expect(error.code == .noScript)
        }
        // The pipelined path of the writer: append encoded commands, flush, read replies.
        var buffer = RESPBuffer()
        for i in 0..<1000 { buffer.append(["SET", "k\(i)", String(i)]) }
        try c.append(buffer)
        try c.flush()
        for _ in 0..<1000 { #expect(try c.readReply() == .status("OK")) }
        #expect(try c.command(["GET", "k999"]) == .string("999"))
        #expect(try c.command(["CLIENT", "INFO"]).string?.contains("flags=") == true)
    }

    @Test func theHostNameIsCheckedAgainstTheCertificatesDNSNames() throws {
        let c = try connect(certificates.url(host: "localhost", port: server.port))
        #expect(try c.command(["PING"]) == .status("PONG"))
        var named = certificates.url(port: server.port)
        named.tls?.serverName = "localhost"
        #expect(try connect(named).command(["PING"]) == .status("PONG"))
    }

    @Test func aWrongCAIsAClearError() {
        var url = certificates.url(port: server.port)
        url.tls?.caFile = certificates.otherCAFile
        expectTLSFailure(url, mentioning: ["not signed by", certificates.otherCAFile])
        // The system trust store does not know the test CA either.
        url.tls?.caFile = nil
        expectTLSFailure(url, mentioning: ["not signed by", "system's trust store"])
    }

    @Test func aWrongServerNameIsAClearError() {
        var url = certificates.url(port: server.port)
        url.tls?.serverName = "redis.example.com"
        expectTLSFailure(url, mentioning: ["not valid for the name redis.example.com", "redis.tls.server_name"])
    }

    @Test func verifyOffAcceptsAnyCertificateButStillEncrypts() throws {
        var url = certificates.url(port: server.port)
        url.tls?.caFile = certificates.otherCAFile
        url.tls?.serverName = "redis.example.com"
        url.tls?.verify = false
        #expect(try connect(url).command(["PING"]) == .status("PONG"))
    }

    @Test func rediSSToAPlaintextPortFailsInsteadOfDowngrading() throws {
        let plain = try RedisServerProcess()
        defer { plain.kill() }
        expectTLSFailure(certificates.url(port: plain.port), mentioning: ["TLS"])
    }

    @Test func missingOrBrokenCertificateFilesAreNamed() {
        var url = certificates.url(port: server.port)
        url.tls?.caFile = certificates.directory + "/absent.pem"
        expectTLSFailure(url, mentioning: ["redis.tls.ca_file", "absent.pem", "missing or unreadable"])
        url.tls?.caFile = certificates.directory + "/server.ext"
        expectTLSFailure(url, mentioning: ["redis.tls.ca_file", "not a usable PEM file"])
    }

    @Test func mutualTLSNeedsTheClientCertificate() throws {
        let port = try RedisServerProcess.freePort()
        let strict = try RedisServerProcess(
            extraArguments: certificates.serverArguments(port: port, requireClientCertificates: true),
            tlsReadiness: certificates.url(port: port, mutual: true)
        )
        defer { strict.kill() }
        #expect(try connect(certificates.url(port: port, mutual: true)).command(["PING"]) == .status("PONG"))
        expectTLSFailure(certificates.url(port: port), mentioning: ["client certificate"])
    }

    @Test func authAndDatabaseSelectionWorkOverTLS() throws {
        let admin = try connect(certificates.url(port: server.port))
        try admin.command(["ACL", "SETUSER", "relay", "on", ">relay-pw", "~*", "&*", "+@all"])
        var url = certificates.url(port: server.port)
        url.user = "relay"
        url.password = "relay-pw"
        url.database = 2
        let c = try connect(url)
        #expect(try c.command(["ACL", "WHOAMI"]) == .string("relay"))
        url.password = "wrong"
        do {
            _ = try connect(url)
            Issue.record("a wrong password was accepted")
        } catch {
            #expect(error.code == .authFailed)
        }
    }

    @Test func theServerGoingAwayIsAnIOErrorAndTheConnectionCloses() throws {
        let port = try RedisServerProcess.freePort()
        let doomed = try RedisServerProcess(
            extraArguments: certificates.serverArguments(port: port, requireClientCertificates: false),
            tlsReadiness: certificates.url(port: port)
        )
        let c = try connect(certificates.url(port: port))
        #expect(try c.command(["PING"]) == .status("PONG"))
        doomed.kill()
        do {
            try c.command(["PING"])
            Issue.record("PING answered by a killed server")
        } catch {
            #expect(error.isConnectionFatal, "\(error)")
        }
        #expect(!c.isOpen)
    }

    /// The publisher is the same one for both transports: records written through it over
    /// TLS land in the layout exactly as over plaintext.
    @Test func thePublisherWritesTheLayoutOverTLS() async throws {
        let prefix = TestRedis.uniquePrefix("tls")
        let configuration = try TestRedis.configuration(prefix: prefix, url: certificates.url(port: server.port))
        let publisher = try TestRedis.publisher(configuration)
        publisher.start()
        for i in 1...200 { publisher.publish(Fixtures.quote("S\(i % 20)", bid: Double(i))) }
        #expect(await publisher.flush(timeout: .seconds(20)))
        let c = try connect(certificates.url(port: server.port))
        let hash = try c.hgetall("\(prefix):quote:S0")
        #expect(hash["bid"] == "200")
        #expect(hash["source"] == "ib")
        #expect(try c.command(["ZCARD", "\(prefix):updated"]) == .integer(20))
        publisher.stop()
    }
}
