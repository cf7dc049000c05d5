import Testing
@testable import TWSProtocol

@Suite("Handshake")
struct HandshakeTests {
    @Test func ourGreetingAdvertisesTheTextRange() {
        let bytes = Handshake.clientGreeting()
        #expect(bytes == Array("API\u{0}".utf8) + [0, 0, 0, 9] + Array("v100..200".utf8))
        #expect(ServerVersion.clientRange.upperBound < ServerVersion.protobuf)
    }

    @Test func greetingWithOptions() {
        let bytes = Handshake.clientGreeting(minVersion: 100, maxVersion: 176, options: "+PACEAPI")
        #expect(bytes == Array("API\u{0}".utf8) + [0, 0, 0, 18] + Array("v100..176 +PACEAPI".utf8))
    }

    @Test("the server side reads what real clients send", arguments: [
        ("v100..226", Handshake.ClientGreeting(minVersion: 100, maxVersion: 226), 200),  // ibapi 10.50
        ("v157..178", Handshake.ClientGreeting(minVersion: 157, maxVersion: 178), 178),  // ib_async 2.1
        ("v100..200", Handshake.ClientGreeting(minVersion: 100, maxVersion: 200), 200),  // ours
        ("v100..176 +PACEAPI", Handshake.ClientGreeting(minVersion: 100, maxVersion: 176, options: "+PACEAPI"), 176),
    ])
    func parsesRealGreetings(text: String, expected: Handshake.ClientGreeting, negotiated: Int) throws {
        let wire = Array("API\u{0}".utf8) + Framing.frame(Array(text.utf8)) + [0, 0, 0, 8]  // + the next frame's start
        let parsed = try Handshake.parseClientGreeting(wire)
        #expect(parsed == .complete(expected, consumed: wire.count - 4))
        #expect(try Handshake.negotiate(expected, serverMax: 200) == negotiated)
    }

    @Test func greetingArrivingInPiecesWaits() throws {
        let wire = Handshake.clientGreeting()
        for cut in 0..<wire.count {
            #expect(try Handshake.parseClientGreeting(wire[..<cut]) == .needMoreBytes, "cut at \(cut)")
        }
        #expect(try Handshake.parseClientGreeting(wire) == .complete(.init(minVersion: 100, maxVersion: 200), consumed: wire.count))
    }

    static let api: [UInt8] = Array("API\u{0}".utf8)
    static func framedText(_ text: String) -> [UInt8] { api + Framing.frame(Array(text.utf8)) }
    static let badGreetings: [([UInt8], TWSProtocolError)] = [
        (Array("GET / HTTP/1.1\r\n".utf8), .missingAPIPrefix),
        (Array("APX".utf8), .missingAPIPrefix),
        (api + [0x7F, 0xFF, 0xFF, 0xFF], .frameTooLarge(length: 0x7FFF_FFFF)),
        (framedText("v100"), .invalidVersionRange(text: "v100")),
        (framedText("v200..100"), .invalidVersionRange(text: "v200..100")),
        (framedText("100..200"), .invalidVersionRange(text: "100..200")),
        (framedText("v1x0..200"), .invalidVersionRange(text: "v1x0..200")),
    ]

    @Test("hostile or foreign greetings are typed errors", arguments: badGreetings)
    func rejectsBadGreetings(wire: [UInt8], expected: TWSProtocolError) {
        #expect(thrownError { try Handshake.parseClientGreeting(wire) } == expected)
    }

    @Test func noCommonVersion() {
        let future = Handshake.ClientGreeting(minVersion: 201, maxVersion: 226)
        #expect(thrownError { try Handshake.negotiate(future, serverMax: 200) } == .noCommonVersion(clientMin: 201, clientMax: 226, serverMax: 200))
        let ancient = Handshake.ClientGreeting(minVersion: 50, maxVersion: 90)
        #expect(thrownError { try Handshake.negotiate(ancient, serverMax: 200) } == .noCommonVersion(clientMin: 50, clientMax: 90, serverMax: 200))
    }

    @Test func serverHelloBytesMatchACapturedGateway() {
        // From a captured v176 session: 00 00 00 1a "176\0" "20230228 17:24:14 EST\0".
        let hello = Handshake.serverHello(version: 176, time: "20230228 17:24:14 EST")
        #expect(hello == [0, 0, 0, 0x1A] + Array("176\u{0}20230228 17:24:14 EST\u{0}".utf8))
    }

    @Test func clientReadsTheHello() throws {
        let payload = unframe(Handshake.serverHello(version: 178, time: "20240105 09:30:00 US/Eastern"))
        #expect(try Handshake.parseServerHello(payload) == .init(version: 178, connectionTime: "20240105 09:30:00 US/Eastern"))
    }

    @Test("a bad hello is a typed error", arguments: [
        (payload("176"), TWSProtocolError.invalidServerHello(fieldCount: 1)),
        (payload("15,1,DU1234567"), TWSProtocolError.invalidServerHello(fieldCount: 3)),
        (Array("176\u{0}20230228".utf8), TWSProtocolError.invalidServerHello(fieldCount: 1)),  // unterminated time
        ([], TWSProtocolError.invalidServerHello(fieldCount: 0)),
        (payload("abc,20230228 17:24:14 EST"), TWSProtocolError.invalidNumber(field: "server version", text: "abc")),
        (payload("99,20230228 17:24:14 EST"), TWSProtocolError.unsupportedServerVersion(99)),
        (payload("212,20230228 17:24:14 EST"), TWSProtocolError.unsupportedServerVersion(212)),
    ])
    func rejectsBadHellos(bytes: [UInt8], expected: TWSProtocolError) {
        #expect(thrownError { try Handshake.parseServerHello(bytes) } == expected)
    }

    @Test func garbageBeforeTheHello() throws {
        // A frame that is not a hello (a stray notice) is rejected and the real hello after it
        // still parses; raw garbage with an absurd length is a frame error, not an allocation.
        var decoder = FrameDecoder()
        decoder.feed(Framing.frame(payload("4,2,-1,2104,Market data farm connection is OK:usfarm,")))
        decoder.feed(Handshake.serverHello(version: 176, time: "20230228 17:24:14 EST"))
        let first = try #require(try decoder.next())
        #expect(thrownError { try Handshake.parseServerHello(first) } == .invalidServerHello(fieldCount: 3))
        let second = try #require(try decoder.next())
        #expect(try Handshake.parseServerHello(second).version == 176)

        var garbage = FrameDecoder()
        garbage.feed(Array("HTTP/1.1 400 Bad Request\r\n".utf8))
        #expect(thrownError { try garbage.next() } == .frameTooLarge(length: 0x4854_5450))
    }

    @Test func startAPIBytes() {
        // PROTOCOL.md §2: 00 00 00 08 37 31 00 32 00 31 00 00 for clientId 1.
        let frame = MessageEncoder.encode(.startAPI(clientId: 1, optionalCapabilities: ""), serverVersion: 176)
        #expect(frame == [0, 0, 0, 8, 0x37, 0x31, 0, 0x32, 0, 0x31, 0, 0])
    }
}
