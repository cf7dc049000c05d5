import Foundation
import Testing
@testable import TWSProtocol

/// Bytes captured from ibapi-stable 10.50.2's EClient by scripts/capture-golden.py.
@Suite("Golden vectors (ibapi 10.50.2)")
struct GoldenVectorTests {
    struct Vector: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var serverVersion: Int
        var request: Request
        var hex: String
        var testDescription: String { "\(name)@v\(serverVersion)" }
    }

    struct Request: Decodable, Sendable {
        var kind: String
        var reqId: Int32?
        var clientId: Int32?
        var optionalCapabilities: String?
        var contract: ContractFields?
        var genericTickList: String?
        var snapshot: Bool?
        var regulatorySnapshot: Bool?
        var includeExpired: Bool?
        var underlyingSymbol: String?
        var futFopExchange: String?
        var underlyingSecType: String?
        var underlyingConId: Int64?
        var type: Int32?
        var numIds: Int32?
    }

    /// ibapi's Contract defaults: every string empty, strike unset.
    struct ContractFields: Decodable, Sendable {
        var conId: Int64?
        var symbol: String?
        var secType: String?
        var lastTradeDateOrContractMonth: String?
        var strike: Double?
        var right: String?
        var multiplier: String?
        var exchange: String?
        var primaryExchange: String?
        var currency: String?
        var localSymbol: String?
        var tradingClass: String?

        var contract: Contract {
            Contract(
                conId: conId ?? 0, symbol: symbol ?? "", secType: secType ?? "",
                lastTradeDateOrContractMonth: lastTradeDateOrContractMonth ?? "", strike: strike, right: right ?? "",
                multiplier: multiplier ?? "", exchange: exchange ?? "", primaryExchange: primaryExchange ?? "",
                currency: currency ?? "", localSymbol: localSymbol ?? "", tradingClass: tradingClass ?? "")
        }
    }

    struct Greeting: Decodable, Sendable {
        var minVersion: Int
        var maxVersion: Int
        var hex: String
    }

    struct File: Decodable, Sendable {
        var greeting: Greeting
        var vectors: [Vector]
    }

    static let file: File = {
        guard let url = Bundle.module.url(forResource: "golden-ibapi", withExtension: "json", subdirectory: "Fixtures"),
              let data = try? Data(contentsOf: url),
              let file = try? JSONDecoder().decode(File.self, from: data)
        else {
            fatalError("Fixtures/golden-ibapi.json missing or unreadable: run scripts/capture-golden.py")
        }
        return file
    }()

    static func message(_ r: Request) throws -> ClientMessage {
        switch r.kind {
        case "startAPI":
            return .startAPI(clientId: try #require(r.clientId), optionalCapabilities: r.optionalCapabilities ?? "")
        case "reqMktData":
            return .reqMktData(
                reqId: try #require(r.reqId), contract: try #require(r.contract).contract, genericTickList: r.genericTickList ?? "",
                snapshot: r.snapshot ?? false, regulatorySnapshot: r.regulatorySnapshot ?? false)
        case "cancelMktData":
            return .cancelMktData(reqId: try #require(r.reqId))
        case "reqSecDefOptParams":
            return .reqSecDefOptParams(
                reqId: try #require(r.reqId), underlyingSymbol: r.underlyingSymbol ?? "", futFopExchange: r.futFopExchange ?? "",
                underlyingSecType: r.underlyingSecType ?? "", underlyingConId: r.underlyingConId ?? 0)
        case "reqContractDetails":
            return .reqContractDetails(reqId: try #require(r.reqId), contract: try #require(r.contract).contract, includeExpired: r.includeExpired ?? false)
        case "reqMarketDataType":
            return .reqMarketDataType(try #require(r.type))
        case "reqCurrentTime":
            return .reqCurrentTime
        case "reqIds":
            return .reqIds(numIds: try #require(r.numIds))
        default:
            throw TWSProtocolError.notEncodable(message: r.kind, serverVersion: 0)
        }
    }

    @Test func coversEveryRequestAtTheNegotiatedVersions() {
        let names = Set(Self.file.vectors.map(\.name))
        #expect(names.isSuperset(of: [
            "reqMktData_STK", "reqMktData_OPT", "cancelMktData", "reqSecDefOptParams", "reqContractDetails_STK",
            "reqMarketDataType_delayed", "reqCurrentTime", "startApi",
        ]))
        let versions = Set(Self.file.vectors.map(\.serverVersion))
        #expect(versions.isSuperset(of: [176, 178, 200]))
    }

    @Test("the encoder reproduces ibapi byte for byte", arguments: Self.file.vectors)
    func encoderMatches(vector: Vector) throws {
        let message = try Self.message(vector.request)
        let encoded = MessageEncoder.encode(message, serverVersion: vector.serverVersion)
        #expect(hexString(encoded) == vector.hex)
    }

    @Test("the server side decodes ibapi's bytes back to the request", arguments: Self.file.vectors)
    func decoderAcceptsIbapi(vector: Vector) throws {
        let expected = try Self.message(vector.request)
        let decoded = try MessageDecoder.decodeClient(unframe(hexBytes(vector.hex)), serverVersion: vector.serverVersion)
        #expect(decoded == expected)
    }

    @Test func greetingMatchesAndIsAccepted() throws {
        let g = Self.file.greeting
        #expect(hexString(Handshake.clientGreeting(minVersion: g.minVersion, maxVersion: g.maxVersion)) == g.hex)
        let parsed = try Handshake.parseClientGreeting(hexBytes(g.hex))
        #expect(parsed == .complete(.init(minVersion: 100, maxVersion: 226), consumed: hexBytes(g.hex).count))
    }
}
