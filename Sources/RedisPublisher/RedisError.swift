/// The one error type of this module. `code` is what callers switch on; `message` is for
/// people and never contains a password.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// `redis.url` could not be parsed. A configuration error.
        case invalidURL
        /// The Lua scripts folder or one of its scripts is missing or unreadable: an
        /// unrecoverable start-up error (exit 1), unlike Redis being down.
        case scriptsMissing
        /// TCP connect failed or timed out.
        case connectFailed
        /// The socket failed or timed out mid-conversation; the connection is unusable.
        case io
        /// The server closed the connection.
        case closed
        /// TLS could not be set up or was refused: an unreadable certificate or key file, a
        /// server certificate not signed by `redis.tls.ca_file`, not valid for the expected
        /// name, or a client certificate the server refused. Never followed by a plaintext
        /// attempt.
        case tlsFailed
        /// The bytes from the server were not RESP.
        case protocolError
        /// AUTH was refused (wrong password, unknown ACL user).
        case authFailed
        /// The server answered a command with an error reply (`-ERR ...`, `-WRONGTYPE ...`).
        case server
        /// EVALSHA of a script the server does not know: the caller reloads and retries.
        case noScript
        /// A write reached a replica (`-READONLY`): the primary moved (Sentinel failover);
        /// the publisher asks the sentinels again and retries the write on the new primary.
        case readOnly
        /// The reply had a shape the caller did not expect.
        case unexpectedReply
        /// The publisher has no connection at the moment (it keeps reconnecting).
        case notConnected
        /// The publisher was stopped before the request ran.
        case stopped
        /// `worker.group`: the write was refused by the lease fence (`-FENCED`): this worker
        /// does not hold the group's lease (any more). Never retried.
        case fenced
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// Errors after which the connection must be dropped and re-established.
    public var isConnectionFatal: Bool {
        switch code {
        case .connectFailed, .io, .closed, .tlsFailed, .protocolError, .authFailed, .notConnected, .readOnly: true
        default: false
        }
    }
}
