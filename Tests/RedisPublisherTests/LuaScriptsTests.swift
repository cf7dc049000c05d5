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
        #expect(scripts.status.contains("PEXPIRE"))
    }

    /// Redis < 7 cannot compile the `#!lua flags=...` line: the fallback text keeps every other
    /// line where it was (Redis' error messages name lines of the file) and turns the shebang
    /// into a comment; a script without one has no fallback.
    @Test func theLegacyTextOfAFlaggedScriptIsTheScriptWithoutItsFlags() throws {
        let scripts = try LuaScripts(directory: TestRedis.scriptsDirectory)
        #expect(scripts.status.hasPrefix("#!lua flags=allow-oom\n"))
        #expect(scripts.staleness.hasPrefix("#!lua flags=allow-oom\n"))
        let legacy = try #require(LuaScripts.legacyText(of: scripts.status))
        #expect(legacy.hasPrefix("--lua flags=allow-oom\n"))
        #expect(legacy.split(separator: "\n", omittingEmptySubsequences: false).count
            == scripts.status.split(separator: "\n", omittingEmptySubsequences: false).count)
        #expect(legacy.dropFirst(2) == scripts.status.dropFirst(2))
        #expect(scripts.publish.hasPrefix("#!lua\n"))  // no flags: refused as a whole under OOM
        #expect(LuaScripts.legacyText(of: "return 1") == nil)
    }
}
