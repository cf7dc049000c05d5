// libFuzzer entry point over the whole decode path of TWSProtocol.
//
// The first input byte picks a negotiated server version (so every version gate is reached);
// the rest is treated three ways: as a raw TCP stream through FrameDecoder into both message
// decoders, as one bare payload, and as handshake bytes for both sides. Anything decoded is
// re-encoded and decoded again, which must give the same message: the encoder and decoder
// agree on every layout, including what a hostile peer can make them produce.
//
// A crash, trap, sanitizer report or a failed invariant aborts; thrown TWSProtocolErrors are
// the expected answer to bad input.

private let versions = [100, 120, 152, 155, 156, 157, 162, 163, 164, 165, 166, 176, 178, 179, 181, 182, 185, 186, 193, 194, 200]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let version = versions[Int(bytes[0]) % versions.count]
    let body = UnsafeRawBufferPointer(rebasing: bytes[1...])

    // 1. As a stream: framing, then each payload into both decoders.
    var frames = FrameDecoder(maxPayloadLength: 1 << 16)
    frames.feed(body)
    while true {
        let next: Bool
        do {
            next = try frames.withNextPayload { (payload) -> Bool in
                checkServer(payload, version: version)
                checkClient(payload, version: version)
                return true
            } != nil
        } catch {
            break
        }
        if !next { break }
    }

    // 2. As one payload.
    checkServer(body, version: version)
    checkClient(body, version: version)

    // 3. As handshake bytes.
    let array = Array(body)
    if case .some(.complete(let greeting, let consumed)) = try? Handshake.parseClientGreeting(array) {
        precondition(consumed <= array.count)
        _ = try? Handshake.negotiate(greeting)
    }
    _ = try? Handshake.parseServerHello(array)
    return 0
}

private func checkServer(_ payload: UnsafeRawBufferPointer, version: Int) {
    guard let message = try? MessageDecoder.decodeServer(payload, serverVersion: version) else { return }
    if case .unknown = message { return }
    let again = MessageEncoder.encode(message, serverVersion: version)
    let reparsed = try? MessageDecoder.decodeServer(Array(again[4...]), serverVersion: version)
    precondition(reparsed != nil, "re-encoded server message does not decode: \(message)")
    if let reparsed, !sameServer(reparsed, message) {
        preconditionFailure("server round trip differs at v\(version):\n\(message)\n\(reparsed)")
    }
}

private func checkClient(_ payload: UnsafeRawBufferPointer, version: Int) {
    guard let message = try? MessageDecoder.decodeClient(payload, serverVersion: version) else { return }
    let again = MessageEncoder.encode(message, serverVersion: version)
    let reparsed = try? MessageDecoder.decodeClient(Array(again[4...]), serverVersion: version)
    precondition(reparsed != nil, "re-encoded request does not decode: \(message)")
}

/// Equality up to what the text protocol can carry: NULs are dropped from text on encode,
/// and CONTRACT_DATA's "date time zone" split of lastTradeDateOrContractMonth is lossy by
/// design (as in ibapi, which keeps only the first two parts), so those two fields are left out.
private func sameServer(_ a: ServerMessage, _ b: ServerMessage) -> Bool {
    String(describing: normalized(a)).replacingNUL() == String(describing: normalized(b)).replacingNUL()
}

private func normalized(_ m: ServerMessage) -> ServerMessage {
    guard case .contractData(let reqId, var d) = m else { return m }
    d.contract.lastTradeDateOrContractMonth = ""
    d.lastTradeTime = ""
    return .contractData(reqId: reqId, details: d)
}

extension String {
    fileprivate func replacingNUL() -> String {
        String(String.UnicodeScalarView(unicodeScalars.filter { $0 != "\u{0}" }))
    }
}
