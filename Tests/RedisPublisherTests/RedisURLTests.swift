import Testing
@testable import RedisPublisher

@Suite("RedisURL")
struct RedisURLTests {
    @Test func parsesTheFullForm() throws {
        let url = try RedisURL(parsing: "redis://relay:s3cr%40t@10.0.0.5:6380/3")
        #expect(url == RedisURL(host: "10.0.0.5", port: 6380, user: "relay", password: "s3cr@t", database: 3))
        #expect(url.description == "redis://relay:***@10.0.0.5:6380/3")
    }

    @Test func parsesDefaultsAndPasswordOnlyForms() throws {
        #expect(try RedisURL(parsing: "redis://127.0.0.1") == RedisURL(host: "127.0.0.1", port: 6379))
        #expect(try RedisURL(parsing: "redis://localhost:6379/") == RedisURL(host: "localhost", port: 6379))
        #expect(try RedisURL(parsing: "redis://:pw@h:1/0") == RedisURL(host: "h", port: 1, password: "pw"))
        #expect(try RedisURL(parsing: "redis://pw@h") == RedisURL(host: "h", password: "pw"))
        #expect(try RedisURL(parsing: "redis://[::1]:7000/2") == RedisURL(host: "::1", port: 7000, database: 2))
        #expect(try RedisURL(parsing: "redis://:pw@h").description == "redis://:***@h:6379/0")
        #expect(RedisURL(host: "::1").description == "redis://[::1]:6379/0")
    }

    @Test func rediSSMeansTLSWithVerificationOnAndNeverAnythingElse() throws {
        let url = try RedisURL(parsing: "rediss://u:pw@redis.internal:6380/2")
        #expect(url == RedisURL(host: "redis.internal", port: 6380, user: "u", password: "pw", database: 2, tls: RedisTLSOptions()))
        #expect(url.tls?.verify == true)
        #expect(url.tls?.caFile == nil)
        #expect(url.description == "rediss://u:***@redis.internal:6380/2")
        #expect(try RedisURL(parsing: "REDISS://h").tls != nil)
        #expect(try RedisURL(parsing: "redis://h").tls == nil)
    }

    @Test func serverNamesMatchLikeRFC6125() {
        #expect(TLSStream.name("redis.internal", matches: "redis.internal"))
        #expect(TLSStream.name("Redis.Internal.", matches: "redis.internal"))
        #expect(TLSStream.name("a.example.com", matches: "*.example.com"))
        #expect(!TLSStream.name("a.b.example.com", matches: "*.example.com"))
        #expect(!TLSStream.name("example.com", matches: "*.example.com"))
        #expect(!TLSStream.name("redis.example.com", matches: "localhost"))
    }

    @Test func tlsOptionProblemsNameTheKeys() {
        #expect(RedisTLSOptions().problems.isEmpty)
        #expect(RedisTLSOptions(caFile: "ca.pem", certificateFile: "c.pem", keyFile: "k.pem", serverName: "r").problems.isEmpty)
        #expect(RedisTLSOptions(certificateFile: "c.pem").problems == [
            "redis.tls.cert_file and redis.tls.key_file: mutual TLS needs both the certificate and its key",
        ])
        #expect(RedisTLSOptions(serverName: "").problems.count == 1)
    }

    @Test(arguments: ["http://h:1", "redis+tls://h", "redis://", "redis://h:0", "redis://h:70000", "redis://h:x",
                      "redis://h/-1", "redis://h/db", "redis://u:%zz@h", "redis://[::1"])
    func rejectsInvalidURLs(_ text: String) {
        do {
            _ = try RedisURL(parsing: text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.code == .invalidURL)
        }
    }

    @Test func errorsNeverContainThePassword() {
        do {
            _ = try RedisURL(parsing: "redis://u:topsecret@h:99999")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidURL)
            #expect(!error.description.contains("topsecret"))
        }
    }
}
