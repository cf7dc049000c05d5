/// Redis answering writes with an error reply while the connection is fine: a replica
/// (READONLY), memory full under `noeviction` (OOM), a failed RDB save with
/// `stop-writes-on-bgsave-error` (MISCONF), a server loading its dataset (LOADING), a script
/// running too long (BUSY), an ACL that forbids a key or command (NOPERM), and the like.
///
/// These are states of the server that end (a failover promotes, memory is freed, an operator
/// fixes the ACL), so a refused data write is kept and retried, latest value per key, until
/// Redis takes it. Errors that no retry can fix (`WRONGTYPE` because something else owns the
/// key, `ERR` from a bad argument) drop the value and are counted.
public struct WriteRefusal: Sendable, Hashable, CustomStringConvertible {
    /// The error reply's first word (`READONLY`, `OOM`, `MISCONF`, `LOADING`, `BUSY`, `NOPERM`,
    /// `NOAUTH`, `MASTERDOWN`, `TRYAGAIN`, `NOREPLICAS`, `CLUSTERDOWN`, `EXECABORT`, `ERR`, ...).
    public var errorClass: String
    /// The whole error reply, for people.
    public var message: String

    public init(errorClass: String, message: String) {
        self.errorClass = errorClass
        self.message = message
    }

    /// Classifies an error reply (`-READONLY You can't write against a read only replica.`
    /// arrives here without the dash).
    public init(reply: String) {
        let word = reply.prefix { $0 != " " }
        errorClass = word.isEmpty ? "ERR" : String(word)
        message = reply
        // A command an ACL forbids, called from inside a script, comes back as a plain ERR
        // (Redis 7: "ERR The user executing the script can't run this command or subcommand
        // script: ..."; "... can't access at least one of the keys/channels ..."): a NOPERM,
        // which an operator fixes with ACL SETUSER, so the write waits instead of being dropped.
        if errorClass == "ERR", reply.contains("The user executing the script can't") {
            errorClass = "NOPERM"
        }
    }

    /// Error classes that describe a passing state of the server: the write is retried.
    public static let transientClasses: Set<String> = [
        "READONLY", "OOM", "MISCONF", "LOADING", "BUSY", "NOPERM", "NOAUTH", "MASTERDOWN", "TRYAGAIN",
        "NOREPLICAS", "CLUSTERDOWN", "EXECABORT",
    ]

    /// Whether retrying the same write later can succeed.
    public var isTransient: Bool { Self.transientClasses.contains(errorClass) }

    public var description: String { "\(errorClass): \(message)" }
}
