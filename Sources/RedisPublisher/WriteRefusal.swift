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
