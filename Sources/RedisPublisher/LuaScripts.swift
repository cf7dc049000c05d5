import Foundation

/// The Lua scripts of the Redis layout, read from `redis.scripts_dir` once at start-up.
///
/// The texts stay in memory so a restarted Redis (or a `SCRIPT FLUSH`) is handled by
/// loading them again, without touching the disk at 3 a.m.
public struct LuaScripts: Sendable, Hashable {
    /// The one atomic write of a data key.
    public var publish: String
    /// The staleness check (flag and un-flag keys using Redis' clock).
    public var staleness: String
    /// The group lease (`worker.group`): acquire, renew and release checking the owner token.
    public var lease: String

    public static let publishFile = "publish.lua"
    public static let stalenessFile = "staleness.lua"
    public static let leaseFile = "lease.lua"

    public init(publish: String, staleness: String, lease: String) {
        self.publish = publish
        self.staleness = staleness
        self.lease = lease
    }

    /// Reads the scripts from `directory`; a missing folder or script is
    /// `RedisError.Code.scriptsMissing`, an unrecoverable start-up error.
    public init(directory: String) throws(RedisError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RedisError(.scriptsMissing, "the Lua scripts folder \(directory) (redis.scripts_dir) does not exist")
        }
        func read(_ name: String) throws(RedisError) -> String {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
                  !text.isEmpty
            else {
                throw RedisError(.scriptsMissing, "the Lua script \(path) is missing or unreadable")
            }
            return text
        }
        self.init(publish: try read(Self.publishFile), staleness: try read(Self.stalenessFile), lease: try read(Self.leaseFile))
    }

    /// SHA1 digests from `SCRIPT LOAD`, valid for one server until it restarts or flushes.
    public struct Loaded: Sendable, Hashable {
        public var publish: String
        public var staleness: String
        public var lease: String
    }

    /// Loads the scripts into the server (idempotent) and returns their digests.
    public func load(into connection: RedisConnection) throws(RedisError) -> Loaded {
        let replies = try connection.pipeline([
            ["SCRIPT", "LOAD", publish],
            ["SCRIPT", "LOAD", staleness],
            ["SCRIPT", "LOAD", lease],
        ])
        guard let p = try replies[0].checked().string, let s = try replies[1].checked().string,
              let l = try replies[2].checked().string
        else {
            throw RedisError(.unexpectedReply, "SCRIPT LOAD did not return a digest")
        }
        return Loaded(publish: p, staleness: s, lease: l)
    }
}
