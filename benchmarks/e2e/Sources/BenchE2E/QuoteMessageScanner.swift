/// Pulls the two things the benchmark needs out of a published quote without a JSON decoder:
/// the symbol (the channel's last `:` segment) and the `volume` number, which in benchmark
/// mode is the simulator's sequence number. A full decode per message would make the
/// subscriber, not the system under test, the bottleneck.
///
/// Both publishers write `volume` as a JSON number: quote-relay as an integer (`12345`),
/// the Python peer as a float (`12345.0`); the integer part is the sequence number.
public enum QuoteMessageScanner {
    private static let needle: [UInt8] = Array("\"volume\":".utf8)

    /// The integer part of the `volume` field, nil when absent or not a plain number.
    public static func volume(in bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UInt64? {
        let n = needle.count
        guard range.count > n else { return nil }
        var i = range.lowerBound
        let last = range.upperBound - n
        // The first byte is rare in JSON (a quote), so a skip-scan on it is cheap enough.
        while i <= last {
            if bytes[i] == 34 && matches(bytes, at: i) {
                var j = i + n
                while j < range.upperBound && bytes[j] == 32 { j += 1 }
                var value: UInt64 = 0
                var digits = 0
                while j < range.upperBound, bytes[j] >= 48, bytes[j] <= 57, digits < 19 {
                    value = value * 10 + UInt64(bytes[j] - 48)
                    digits += 1
                    j += 1
                }
                return digits > 0 ? value : nil
            }
            i += 1
        }
        return nil
    }

    private static func matches(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        for k in 1..<needle.count where bytes[i + k] != needle[k] { return false }
        return true
    }

    /// The channel without its key prefix (`qr:quote:AAPL` -> `quote:AAPL`,
    /// `qr:option:SPXW:20261218:6000:C` -> `option:SPXW:20261218:6000:C`): one name per
    /// instrument, whatever its key grammar (an option's last segment is only its right).
    public static func symbol(in bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        var start = range.lowerBound
        while start < range.upperBound && bytes[start] != 58 { start += 1 }
        if start < range.upperBound { start += 1 } else { start = range.lowerBound }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<range.upperBound]), as: UTF8.self)
    }
}
