import Essentials
import Foundation
import Testing

@Suite("JSONString")
struct JSONStringTests {
    func bytes(_ text: String) -> String {
        var out: [UInt8] = [0x41]  // appends, keeps what is there
        JSONString.appendQuoted(text, to: &out)
        #expect(out.first == 0x41)
        return String(decoding: out.dropFirst(), as: UTF8.self)
    }

    @Test(arguments: [
        ("", #""""#),
        ("AAPL", #""AAPL""#),
        (#"SP"Y\"#, #""SP\"Y\\""#),
        ("tab\there\nnew\rend", #""tab\there\nnew\rend""#),
        ("\u{00}\u{01}\u{08}\u{0B}\u{0C}\u{1B}\u{1F}", #""\u0000\u0001\u0008\u000b\u000c\u001b\u001f""#),
        ("/ stays", #""/ stays""#),
        ("del\u{7F}", "\"del\u{7F}\""),
        ("é€𝄞", "\"é€𝄞\""),
        ("line\u{2028}para\u{2029}", "\"line\u{2028}para\u{2029}\""),
    ] as [(String, String)])
    func escapes(_ input: String, _ expected: String) {
        #expect(JSONString.quoted(input) == expected)
        #expect(bytes(input) == expected)
    }

    /// Every control character is escaped, and whatever goes in comes back out of a real JSON
    /// parser unchanged.
    @Test func roundTripsThroughJSONSerialization() throws {
        var all = (0..<0x80).map { Character(Unicode.Scalar($0)!) }.map(String.init).joined()
        all += "é€𝄞\u{2028}\u{2029}\u{FFFD}\u{10FFFF}"
        let quoted = JSONString.quoted(all)
        #expect(!quoted.unicodeScalars.dropFirst().dropLast().contains { $0.value < 0x20 })
        let parsed = try JSONSerialization.jsonObject(with: Data("[\(quoted)]".utf8)) as? [String]
        #expect(parsed == [all])
    }

    /// Bytes from outside (a Redis reply, a socket) become a `String` first; invalid UTF-8 is
    /// repaired there (U+FFFD), so the escaper only ever writes valid UTF-8.
    @Test func invalidUTF8IsRepairedBeforeItGetsHere() {
        let text = String(decoding: [0x61, 0xFF, 0xC3, 0x28, 0x62] as [UInt8], as: UTF8.self)
        let out = bytes(text)
        #expect(out == "\"a\u{FFFD}\u{FFFD}(b\"")
        var raw: [UInt8] = []
        JSONString.appendQuoted(text, to: &raw)
        #expect(String(validating: raw, as: UTF8.self) != nil)
    }

    @Test func stringAndByteFormsAgreeOnLongMixedText() {
        var random = SplitMix64(seed: 11)
        for _ in 0..<200 {
            let scalars = (0..<40).map { _ -> Character in
                let pick = random.int(in: 0...9)
                let value: UInt32 = pick < 3 ? UInt32(random.int(in: 0...0x1F)) : pick < 8 ? UInt32(random.int(in: 0x20...0x7F)) : UInt32(random.int(in: 0xA0...0x2FFF))
                return Character(Unicode.Scalar(value) ?? "?")
            }
            let text = String(scalars)
            #expect(JSONString.quoted(text) == bytes(text))
        }
    }
}
