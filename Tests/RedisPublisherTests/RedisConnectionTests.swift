import Testing
@testable import RedisPublisher
import QRTestSupport

@Suite("RedisConnection (real redis-server)")
struct RedisConnectionTests {
    @Test func commandsAndRepliesRoundTrip() throws {
        let c = try TestRedis.connection()
        let key = TestRedis.uniquePrefix("conn") + ":h"
        #expect(try c.command(["HSET", key, "a", "1", "b", "ünï"]) == .integer(2))
        #expect(try c.command(["HGET", key, "b"]) == .string("ünï"))
        #expect(try c.command(["HGET", key, "zz"]) == .null)
        #expect(try c.hgetall(key) == ["a": "1", "b": "ünï"])
        #expect(try c.command(["PING"]) == .status("PONG"))
        #expect(try c.command(["DEL", key]) == .integer(1))
    }

    @Test func errorRepliesAreTypedAndLeaveTheConnectionUsable() throws {
        let c = try TestRedis.connection()
        do {
            try c.command(["EVALSHA", String(repeating: "0", count: 40), "0"])
            Issue.record("expected NOSCRIPT")
        } catch {
            #expect(error.code == .noScript)
        }
        do {
            try c.command(["NOSUCHCOMMAND"])
            Issue.record("expected an error reply")
        } catch {
            #expect(error.code == .server)
            #expect(error.message.hasPrefix("ERR unknown command"))
        }
        #expect(c.isOpen)
        #expect(try c.command(["PING"]) == .status("PONG"))
    }

    @Test func pipelineReturnsRepliesInOrderWithErrorsInPlace() throws {
        let c = try TestRedis.connection()
        let key = TestRedis.uniquePrefix("pipe") + ":s"
        let replies = try c.pipeline([["SET", key, "v"], ["HGET", key, "f"], ["GET", key], ["DEL", key]])
        #expect(replies.count == 4)
        #expect(replies[0] == .status("OK"))
        guard case .error(let message) = replies[1] else {
            Issue.record("expected WRONGTYPE, got \(replies[1])")
            return
        }
        #expect(message.hasPrefix("WRONGTYPE"))
        #expect(replies[2] == .string("v"))
        #expect(replies[3] == .integer(1))
    }

    @Test func connectFailureIsTyped() throws {
        let port = try RedisServerProcess.freePort()
        do {
            _ = try RedisConnection(url: RedisURL(host: "127.0.0.1", port: port), connectTimeout: .milliseconds(500))
            Issue.record("connect to a closed port succeeded")
        } catch {
            #expect(error.code == .connectFailed)
        }
    }

    @Test func authenticatesWithAnACLUserAndSelectsTheDatabase() throws {
        let server = try RedisServerProcess()
        let admin = try TestRedis.connection(server.url)
        try admin.command(["ACL", "SETUSER", "relay", "on", ">relay-pw", "~*", "&*", "+@all"])
        try admin.command(["ACL", "SETUSER", "default", "on", ">admin-pw"])  // the default user now needs a password too

        var url = server.url
        url.user = "relay"
        url.password = "relay-pw"
        url.database = 3
        let c = try TestRedis.connection(url)
        #expect(try c.command(["ACL", "WHOAMI"]) == .string("relay"))
        try c.command(["SET", "k", "in-db-3"])
        var defaultUser = server.url
        defaultUser.password = "admin-pw"
        let other = try TestRedis.connection(defaultUser)
        #expect(try other.command(["GET", "k"]) == .null)
        try other.command(["SELECT", "3"])
        #expect(try other.command(["GET", "k"]) == .string("in-db-3"))

        url.password = "wrong"
        do {
            _ = try TestRedis.connection(url)
            Issue.record("a wrong password was accepted")
        } catch let error as RedisError {
            #expect(error.code == .authFailed)
            #expect(!error.description.contains("wrong"))
        }
    }

    @Test func aHungServerSurfacesAsAnIOErrorInsteadOfBlocking() throws {
        let server = try RedisServerProcess()
        let c = try RedisConnection(url: server.url, connectTimeout: .seconds(1), ioTimeout: .milliseconds(300))
        #expect(try c.command(["PING"]) == .status("PONG"))
        // CLIENT PAUSE holds every other client's commands: the server looks hung for 5 s.
        try TestRedis.connection(server.url).command(["CLIENT", "PAUSE", "5000", "ALL"])
        do {
            try c.command(["PING"])
            Issue.record("PING answered during CLIENT PAUSE")
        } catch {
            #expect(error.code == .io)
        }
        #expect(!c.isOpen)
        do {
            try c.command(["PING"])
            Issue.record("a closed connection answered")
        } catch {
            #expect(error.code == .closed)
        }
    }
}
