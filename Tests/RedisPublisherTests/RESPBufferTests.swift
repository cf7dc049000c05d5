import Testing
@testable import RedisPublisher

@Suite("RESPBuffer")
struct RESPBufferTests {
    @Test func encodesCommandsExactly() {
        var buffer = RESPBuffer()
        buffer.append(["SET", "k", ""])
        buffer.beginCommand(argumentCount: 3)
        buffer.argument("PEXPIRE")
        buffer.argument("é")
        buffer.argument(-1_234_567_890_123 as Int64)
        buffer.beginCommand(argumentCount: 2)
        buffer.argument(0)
        buffer.argument(Int64.min)
        #expect(buffer.commandCount == 3)
        let expected = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"
            + "*3\r\n$7\r\nPEXPIRE\r\n$2\r\né\r\n$14\r\n-1234567890123\r\n"
            + "*2\r\n$1\r\n0\r\n$20\r\n-9223372036854775808\r\n"
        #expect(String(decoding: buffer.bytes, as: UTF8.self) == expected)
        buffer.removeAll()
        #expect(buffer.isEmpty && buffer.bytes.isEmpty)
    }
}
