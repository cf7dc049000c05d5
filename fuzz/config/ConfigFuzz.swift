// libFuzzer entry point over the configuration loader: YAML text and environment variables,
// through `ConfigurationLoader.load` (Yams, swift-configuration's providers, every key's
// decoder, the symbols list) into the report `check-config` prints and `run` acts on.
//
// Input layout: YAML text, then optionally a NUL byte and environment lines `NAME=value`.
// The harness adds two known secrets to the environment first (an Alpha Vantage key, and for
// odd-length inputs a Redis URL with a password); the input's own lines may override them.
//
// What must hold (a failed check aborts, which libFuzzer reports as a crash):
// - a configuration is returned exactly when there is no problem;
// - every problem names a key path and a reason;
// - neither secret appears in the effective settings, problems or warnings (unless the input
//   itself spells it, e.g. copied into another key).
//
// Built by fuzz/build-config.sh (SwiftPM, QR_FUZZ=1, --sanitize fuzzer,address).

import Foundation
import Relay

private let apiKey = "Zq9SecretAvKey"
private let redisPassword = "Rx8SecretRedisPw"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let split = bytes.firstIndex(of: 0)
    let yaml = String(decoding: bytes[..<(split ?? size)], as: UTF8.self)
    var environment = ["ALPHAVANTAGE_API_KEY": apiKey]
    if size % 2 == 1 { environment["REDIS_URL"] = "redis://relay:\(redisPassword)@127.0.0.1:6390/0" }
    if let split {
        let envText = String(decoding: bytes[(split + 1)...], as: UTF8.self)
        for line in envText.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "="), eq != line.startIndex else { continue }
            environment[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
    }

    let report = ConfigurationLoader.load(yaml: yaml, environment: environment)
    precondition((report.configuration == nil) == !report.problems.isEmpty,
                 "configuration present = \(report.configuration != nil) with \(report.problems.count) problems")
    for problem in report.problems {
        precondition(!problem.keyPath.isEmpty && !problem.reason.isEmpty, "problem without key or reason: \(problem)")
    }
    let shown = report.renderedSettings() + "\n" + report.problems.map(\.description).joined(separator: "\n")
        + "\n" + report.warnings.joined(separator: "\n")
    let input = String(decoding: bytes, as: UTF8.self)
    for secret in [apiKey, redisPassword] where !input.contains(secret.prefix(6)) {
        precondition(!shown.contains(secret), "a secret shows in check-config's output:\n\(shown)")
    }
    return 0
}
