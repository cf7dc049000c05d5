/// Builds one length-prefixed frame of NUL-terminated text fields.
///
/// The four length bytes are reserved up front and patched in `frame()`, so a message is
/// written in one buffer with no intermediate `String`.
struct FieldWriter {
    private(set) var bytes: [UInt8]

    init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity + 4)
        bytes.append(contentsOf: [0, 0, 0, 0])
    }

    /// A text field. A NUL inside the text would split the field and corrupt every later one,
    /// so NULs are dropped: the frame stays well-formed whatever the caller passes.
    mutating func add(_ text: String) {
        for byte in text.utf8 where byte != 0 {
            bytes.append(byte)
        }
        bytes.append(0)
    }

    mutating func add(_ value: Int64) {
        appendDecimal(value)
        bytes.append(0)
    }

    mutating func add(_ value: Int32) { add(Int64(value)) }
    mutating func add(_ value: Int) { add(Int64(value)) }

    /// `1` / `0`, as both reference clients send booleans.
    mutating func add(_ value: Bool) {
        bytes.append(value ? UInt8(ascii: "1") : UInt8(ascii: "0"))
        bytes.append(0)
    }

    /// A double as Python's `str(float)` spells it (`190.0`, `0.0001`, `1e-05`): ibapi's
    /// `make_field` uses exactly that, and the golden vectors hold us to its bytes.
    mutating func add(_ value: Double) {
        add(NumberText.python(value))
    }

    /// nil -> an empty field (ibapi's `make_field_handle_empty` for an unset strike).
    mutating func addOrEmpty(_ value: Double?) {
        if let value { add(value) } else { bytes.append(0) }
    }

    /// nil -> an empty field.
    mutating func addOrEmpty(_ value: Int64?) {
        if let value { add(value) } else { bytes.append(0) }
    }

    mutating func addOrEmpty(_ value: Int32?) {
        if let value { add(Int64(value)) } else { bytes.append(0) }
    }

    /// A count or size as plain decimal text without `.0` (IB's Decimal spelling: `100`, `0.5`).
    mutating func addDecimal(_ value: Double?) {
        if let value { add(NumberText.decimal(value)) } else { bytes.append(0) }
    }

    /// The finished frame: 4-byte big-endian payload length, then the payload.
    consuming func frame() -> [UInt8] {
        let length = UInt32(truncatingIfNeeded: bytes.count - 4)
        bytes[0] = UInt8(truncatingIfNeeded: length >> 24)
        bytes[1] = UInt8(truncatingIfNeeded: length >> 16)
        bytes[2] = UInt8(truncatingIfNeeded: length >> 8)
        bytes[3] = UInt8(truncatingIfNeeded: length)
        return bytes
    }

    private mutating func appendDecimal(_ value: Int64) {
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = value.magnitude
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            for k in stride(from: count - 1, through: 0, by: -1) {
                bytes.append(buffer[k])
            }
        }
    }
}
