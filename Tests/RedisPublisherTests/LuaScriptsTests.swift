import Foundation
import Logging
import Testing
@testable import RedisPublisher

@Suite("LuaScripts")
struct LuaScriptsTests {
    @Test func aMissingFolderIsATypedStartUpError() {
        let configuration = PublisherConfiguration(scriptsDirectory: "/nonexistent/lua")
        do {
            _ = try Publisher(configuration: configuration, logger: Logger(label: "test"))
            Issue.record("expected scriptsMissing")
        } catch {
            #expect(error.code == .scriptsMissing)
            #expect(error.message.contains("/nonexistent/lua"))
        }
    }

    @Test func aMissingScriptIsATypedStartUpError() throws {
        let dir = NSTemporaryDirectory() + "qr-lua-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "return 1".write(toFile: dir + "/publish.lua", atomically: true, encoding: .utf8)
        #expect(throws: RedisError(.scriptsMissing, "the Lua script \(dir)/staleness.lua is missing or unreadable")) {
            try LuaScripts(directory: dir)
        }
    }

    @Test func theRepositoryScriptsLoad() throws {
        let scripts = try LuaScripts(directory: TestRedis.scriptsDirectory)
        #expect(scripts.publish.contains("PUBLISH"))
        #expect(scripts.staleness.contains("TIME"))
    }
}
