@testable import TWSProtocol

/// Wire payloads written the way PROTOCOL.md writes them: comma-separated fields, each of
/// which becomes NUL-terminated (`"1,6,5,1,-1,0,0"` -> `1\06\05\01\0-1\00\00\0`).
func payload(_ commaSeparated: String) -> [UInt8] {
    Framing.payload(fields: commaSeparated.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
}

/// A payload's fields joined by commas (readable expectations).
func commas(_ bytes: [UInt8]) -> String {
    MessageDecoder.fields(bytes).joined(separator: ",")
}

/// The payload of a complete frame (drops the 4-byte length after checking it).
func unframe(_ frame: [UInt8]) -> [UInt8] {
    precondition(frame.count >= 4)
    let length = Int(frame[0]) << 24 | Int(frame[1]) << 16 | Int(frame[2]) << 8 | Int(frame[3])
    precondition(length == frame.count - 4, "frame length prefix does not match its payload")
    return Array(frame[4...])
}

func hexBytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        out.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return out
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { byte in
        let s = String(byte, radix: 16)
        return s.count == 1 ? "0" + s : s
    }.joined()
}

/// Captures the typed error of a throwing call (nil when it did not throw).
/// A non-protocol error is reported as `.notEncodable("unexpected ...")` so it fails loudly.
func thrownError<T>(_ body: () throws -> T) -> TWSProtocolError? {
    do {
        _ = try body()
        return nil
    } catch let error as TWSProtocolError {
        return error
    } catch {
        return .notEncodable(message: "unexpected \(error)", serverVersion: -1)
    }
}

enum Fixture {
    static let aapl = Contract(symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD")
    static let spyPut = Contract(
        conId: 712_345_678, symbol: "SPY", secType: "OPT", lastTradeDateOrContractMonth: "20261218", strike: 452.5,
        right: "P", multiplier: "100", exchange: "SMART", currency: "USD", tradingClass: "SPY")

    static let versions = [100, 120, 152, 155, 156, 157, 163, 164, 166, 176, 178, 182, 186, 193, 194, 200]
}
