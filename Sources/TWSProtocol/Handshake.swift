/// The connection handshake, both sides, as pure functions over bytes.
///
/// 1. client: `API\0` (no length prefix), then one framed `v<min>..<max>[ <options>]` with no
///    NUL terminator;
/// 2. server: one framed hello of exactly two fields and no message id,
///    `<version>\0<yyyymmdd hh:mm:ss zone>\0`, where version = min(client max, server max);
/// 3. client: START_API (`ClientMessage.startAPI`), after which both sides speak ordinary
///    framed messages at the negotiated version.
///
/// Our client advertises `ServerVersion.clientRange` (v100..200): never 201 or more, where
/// the gateway switches to protobuf.
public enum Handshake {
    /// The four raw bytes that open every API connection.
    public static let apiPrefix: [UInt8] = [UInt8(ascii: "A"), UInt8(ascii: "P"), UInt8(ascii: "I"), 0]

    /// A real greeting is ~20 bytes; anything near this is not a TWS client.
    public static let maxGreetingLength: UInt32 = 1024

    /// What a client announced: its version range and optional connect options (`+PACEAPI`).
    public struct ClientGreeting: Sendable, Hashable {
        public var minVersion: Int
        public var maxVersion: Int
        public var options: String

        public init(minVersion: Int, maxVersion: Int, options: String = "") {
            self.minVersion = minVersion
            self.maxVersion = maxVersion
            self.options = options
        }
    }

    /// The server's answer as the client sees it.
    public struct ServerHello: Sendable, Hashable {
        public var version: Int
        /// `yyyymmdd hh:mm:ss <zone>`, as the gateway formats it.
        public var connectionTime: String

        public init(version: Int, connectionTime: String) {
            self.version = version
            self.connectionTime = connectionTime
        }
    }

    /// The outcome of looking at the first bytes a client sent.
    public enum GreetingParse: Sendable, Hashable {
        /// Not all of the greeting has arrived yet.
        case needMoreBytes
        /// `consumed` bytes belong to the greeting; anything after them is framed messages.
        case complete(ClientGreeting, consumed: Int)
    }

    // MARK: Client side

    /// `API\0` + the framed version range (+ ` options`), ready to write to the socket.
    public static func clientGreeting(
        minVersion: Int = ServerVersion.minimum, maxVersion: Int = ServerVersion.maximumText, options: String = ""
    ) -> [UInt8] {
        var text = "v\(minVersion)..\(maxVersion)"
        if !options.isEmpty { text += " " + options }
        return apiPrefix + Framing.frame(Array(text.utf8))
    }

    /// Reads the server hello from one payload. Any frame that is not `<number>\0<text>\0` is
    /// rejected with a typed error (the caller may skip it, as ibapi does, or give up);
    /// a version outside `advertised` means the server does not speak our protocol.
    public static func parseServerHello(
        _ payload: [UInt8], advertised: ClosedRange<Int> = ServerVersion.clientRange
    ) throws(TWSProtocolError) -> ServerHello {
        var fields: [ArraySlice<UInt8>] = []
        var start = 0
        for (i, byte) in payload.enumerated() where byte == 0 {
            fields.append(payload[start..<i])
            start = i + 1
            if fields.count > 2 { break }
        }
        guard fields.count == 2, start == payload.count else {
            throw .invalidServerHello(fieldCount: fields.count)
        }
        let versionText = String(decoding: fields[0], as: UTF8.self)
        let parsed = fields[0].withUnsafeBytes { NumberParser.int64($0) }
        guard let version = parsed, let narrow = Int(exactly: version) else {
            throw .invalidNumber(field: "server version", text: versionText)
        }
        guard advertised.contains(narrow) else { throw .unsupportedServerVersion(narrow) }
        return ServerHello(version: narrow, connectionTime: String(decoding: fields[1], as: UTF8.self))
    }

    // MARK: Server side

    /// Looks for a complete greeting at the start of `bytes` (everything received so far).
    public static func parseClientGreeting(_ bytes: some Collection<UInt8>) throws(TWSProtocolError) -> GreetingParse {
        let head = Array(bytes.prefix(8))
        for (i, byte) in head.prefix(4).enumerated() where byte != apiPrefix[i] {
            throw .missingAPIPrefix
        }
        guard head.count == 8 else { return .needMoreBytes }
        let length = UInt32(head[4]) << 24 | UInt32(head[5]) << 16 | UInt32(head[6]) << 8 | UInt32(head[7])
        guard length <= maxGreetingLength else { throw .frameTooLarge(length: length) }
        let total = 8 + Int(length)
        guard bytes.count >= total else { return .needMoreBytes }
        let text = String(decoding: bytes.dropFirst(8).prefix(Int(length)), as: UTF8.self)
        return .complete(try parseVersionRange(text), consumed: total)
    }

    /// `v100..226`, `v157..178`, `v100..176 +PACEAPI`.
    public static func parseVersionRange(_ text: String) throws(TWSProtocolError) -> ClientGreeting {
        var body = Substring(text)
        var options = ""
        if let space = body.firstIndex(of: " ") {
            options = String(body[body.index(after: space)...])
            body = body[..<space]
        }
        guard body.hasPrefix("v") else { throw .invalidVersionRange(text: text) }
        let parts = body.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        // "100..200" splits into ["100", "", "200"].
        guard parts.count == 3, parts[1].isEmpty,
              let low = Self.smallInt(parts[0]), let high = Self.smallInt(parts[2]), low <= high
        else { throw .invalidVersionRange(text: text) }
        return ClientGreeting(minVersion: low, maxVersion: high, options: options)
    }

    /// The version the server will speak: min(client max, server max), refused when that is
    /// below the client's minimum or below what the server itself supports.
    public static func negotiate(
        _ greeting: ClientGreeting, serverMin: Int = ServerVersion.minimum, serverMax: Int = ServerVersion.maximumText
    ) throws(TWSProtocolError) -> Int {
        let version = min(greeting.maxVersion, serverMax)
        guard version >= greeting.minVersion, version >= serverMin else {
            throw .noCommonVersion(clientMin: greeting.minVersion, clientMax: greeting.maxVersion, serverMax: serverMax)
        }
        return version
    }

    /// The framed hello: `<version>\0<time>\0`, no message id.
    public static func serverHello(version: Int, time: String) -> [UInt8] {
        var writer = FieldWriter()
        writer.add(version)
        writer.add(time)
        return writer.frame()
    }

    private static func smallInt(_ digits: Substring) -> Int? {
        guard !digits.isEmpty, digits.count <= 6, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int(digits)
    }
}
