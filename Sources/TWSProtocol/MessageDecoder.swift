/// Payloads -> typed messages, at a negotiated server version.
///
/// Every function is pure and total: bad input becomes a `TWSProtocolError` naming the message
/// and field, never a crash, and a message id this codec does not model becomes `.unknown`
/// (to be skipped and counted), never an error. IB's "unset" spellings decode to nil.
///
/// The payload can be lent as an `UnsafeRawBufferPointer` (e.g. from
/// `FrameDecoder.withNextPayload` or a NIO `ByteBuffer` view) so decoding copies nothing
/// but the text fields that end up in the message.
public enum MessageDecoder {
    /// A gateway message (the worker's side).
    public static func decodeServer(_ payload: UnsafeRawBufferPointer, serverVersion: Int) throws(TWSProtocolError) -> ServerMessage {
        var reader = FieldReader(payload, message: "message")
        let id = try messageId(&reader, payload: payload)
        return try decodeServerBody(id: id, reader: &reader, version: serverVersion)
    }

    public static func decodeServer(_ payload: [UInt8], serverVersion: Int) throws(TWSProtocolError) -> ServerMessage {
        try lend(payload) { (buffer) throws(TWSProtocolError) in try decodeServer(buffer, serverVersion: serverVersion) }
    }

    public static func decodeServer(_ payload: ArraySlice<UInt8>, serverVersion: Int) throws(TWSProtocolError) -> ServerMessage {
        try lend(payload) { (buffer) throws(TWSProtocolError) in try decodeServer(buffer, serverVersion: serverVersion) }
    }

    /// A request (the simulator's side).
    public static func decodeClient(_ payload: UnsafeRawBufferPointer, serverVersion: Int) throws(TWSProtocolError) -> ClientMessage {
        var reader = FieldReader(payload, message: "request")
        let id = try messageId(&reader, payload: payload)
        return try decodeClientBody(id: id, reader: &reader, version: serverVersion)
    }

    public static func decodeClient(_ payload: [UInt8], serverVersion: Int) throws(TWSProtocolError) -> ClientMessage {
        try lend(payload) { (buffer) throws(TWSProtocolError) in try decodeClient(buffer, serverVersion: serverVersion) }
    }

    public static func decodeClient(_ payload: ArraySlice<UInt8>, serverVersion: Int) throws(TWSProtocolError) -> ClientMessage {
        try lend(payload) { (buffer) throws(TWSProtocolError) in try decodeClient(buffer, serverVersion: serverVersion) }
    }

    /// The payload's NUL-terminated fields as text (diagnostics, tests, logging a bad message).
    public static func fields(_ payload: some Collection<UInt8>) -> [String] {
        var out: [String] = []
        var current: [UInt8] = []
        for byte in payload {
            if byte == 0 {
                out.append(String(decoding: current, as: UTF8.self))
                current.removeAll(keepingCapacity: true)
            } else {
                current.append(byte)
            }
        }
        return out
    }

    // MARK: Shared plumbing

    private static func messageId(_ reader: inout FieldReader, payload: UnsafeRawBufferPointer) throws(TWSProtocolError) -> Int32 {
        guard !payload.isEmpty else { throw .emptyMessage }
        return try reader.int32("message id")
    }

    /// Typed-throws wrapper around `withUnsafeBytes` (which only rethrows untyped errors).
    private static func lend<C: LendableBytes, R>(
        _ bytes: C, _ body: (UnsafeRawBufferPointer) throws(TWSProtocolError) -> R
    ) throws(TWSProtocolError) -> R {
        let result: Result<R, TWSProtocolError> = bytes.withUnsafeBytes { buffer in
            do throws(TWSProtocolError) {
                return .success(try body(buffer))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

/// Both array types lend their storage without copying.
protocol LendableBytes {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: LendableBytes where Element == UInt8 {}
extension ArraySlice: LendableBytes where Element == UInt8 {}
