/// Everything that can be wrong with bytes from the wire.
///
/// One bad frame or field never crashes and never corrupts the decoder: every case is thrown
/// by a pure function, and the caller decides what to do (count and skip one message, or drop
/// the connection for `frameTooLarge`, after which the stream cannot be resynchronised).
public enum TWSProtocolError: Error, Sendable, Hashable {
    /// A length prefix above `Framing.maxPayloadLength`: the stream is garbage or hostile.
    /// Nothing was allocated for it; close the connection.
    case frameTooLarge(length: UInt32)
    /// A frame without a single field (length 0, or no message id).
    case emptyMessage
    /// The message ended before a required field. `field` names the missing field.
    case truncated(message: String, field: String)
    /// A field that must be a number is not one (or overflows its type).
    case invalidNumber(field: String, text: String)
    /// A field holds a value outside what the protocol allows (e.g. a negative count).
    case invalidValue(field: String, text: String)
    /// The client greeting does not start with `API\0`.
    case missingAPIPrefix
    /// The client's `v<min>..<max>` range could not be parsed.
    case invalidVersionRange(text: String)
    /// The two version ranges do not overlap: no protocol in common.
    case noCommonVersion(clientMin: Int, clientMax: Int, serverMax: Int)
    /// The server hello is not `<version>\0<time>\0`.
    case invalidServerHello(fieldCount: Int)
    /// The server answered with a version outside the range the client advertised.
    case unsupportedServerVersion(Int)
    /// A message this codec cannot encode at the negotiated version (e.g. a protobuf-only one).
    case notEncodable(message: String, serverVersion: Int)
}

extension TWSProtocolError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .frameTooLarge(let length):
            "frame length \(length) exceeds the TWS maximum \(Framing.maxPayloadLength)"
        case .emptyMessage:
            "empty message (no message id)"
        case .truncated(let message, let field):
            "\(message): message ends before field '\(field)'"
        case .invalidNumber(let field, let text):
            "field '\(field)': '\(Self.clip(text))' is not a valid number"
        case .invalidValue(let field, let text):
            "field '\(field)': value '\(Self.clip(text))' is out of range"
        case .missingAPIPrefix:
            "client greeting does not start with API\\0"
        case .invalidVersionRange(let text):
            "invalid client version range '\(Self.clip(text))' (expected v<min>..<max>)"
        case .noCommonVersion(let clientMin, let clientMax, let serverMax):
            "no common protocol version: client v\(clientMin)..\(clientMax), server max \(serverMax)"
        case .invalidServerHello(let fieldCount):
            "server hello has \(fieldCount) fields, expected version and connection time"
        case .unsupportedServerVersion(let version):
            "server version \(version) is outside the advertised range"
        case .notEncodable(let message, let serverVersion):
            "\(message) cannot be encoded at server version \(serverVersion)"
        }
    }

    /// Hostile input can be megabytes long; error texts stay readable in logs.
    static func clip(_ text: String) -> String {
        text.utf8.count <= 64 ? text : String(text.prefix(64)) + "…"
    }
}
