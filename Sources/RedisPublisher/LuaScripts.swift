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
    /// The worker status hash, replaced as a whole (flag `allow-oom`: it is written even when
    /// Redis is out of memory, so operators can read why data writes wait).
    public var status: String
    /// The group lease (`worker.group`): acquire, renew and release checking the owner token.
    public var lease: String

    public static let publishFile = "publish.lua"
    public static let stalenessFile = "staleness.lua"
    public static let statusFile = "status.lua"
    public static let leaseFile = "lease.lua"

    public init(publish: String, staleness: String, status: String, lease: String) {
        self.publish = publish
        self.staleness = staleness
        self.status = status
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
        self.init(publish: try read(Self.publishFile), staleness: try read(Self.stalenessFile),
                  status: try read(Self.statusFile), lease: try read(Self.leaseFile))
    }

    /// SHA1 digests from `SCRIPT LOAD`, valid for one server until it restarts or flushes.
    public struct Loaded: Sendable, Hashable {
        public var publish: String
        public var staleness: String
        public var status: String
        public var lease: String
    }

    /// Loads the scripts into the server (idempotent) and returns their digests.
    ///
    /// A script that starts with a Redis 7 shebang (`#!lua flags=...`) and that the server
    /// refuses to compile (Redis < 7 does not know the shebang) is loaded again as
    /// `legacyText(of:)`: the same script without its flags.
    public func load(into connection: RedisConnection) throws(RedisError) -> Loaded {
        let texts = [publish, staleness, status, lease]
        let replies = try connection.pipeline(texts.map { ["SCRIPT", "LOAD", $0] })
        var digests: [String] = []
        for (text, reply) in zip(texts, replies) {
            var answer = reply
            if case .error = reply, let legacy = Self.legacyText(of: text) {
                answer = try connection.command(["SCRIPT", "LOAD", legacy])
            }
            guard let digest = try answer.checked().string else {
                throw RedisError(.unexpectedReply, "SCRIPT LOAD did not return a digest")
            }
            digests.append(digest)
        }
        return Loaded(publish: digests[0], staleness: digests[1], status: digests[2], lease: digests[3])
    }

    /// The script without its shebang line (`#!lua flags=...`, Redis 7), for servers that
    /// predate script flags; nil when the script has none. The line becomes a Lua comment, so
    /// line numbers in Redis' error messages stay those of the file.
    public static func legacyText(of script: String) -> String? {
        guard script.hasPrefix("#!") else { return nil }
        return "--" + script.dropFirst(2)
    }
}
