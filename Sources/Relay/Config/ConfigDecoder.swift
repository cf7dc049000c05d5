import Essentials
import Configuration
import Yams

/// Turns the merged text values into typed settings, collecting every problem instead of
/// stopping at the first, and recording each effective value (redacted) with its source.
///
/// Each reader takes the default from the field it fills, so the defaults live in one place:
/// the property initialisers of ``RelayConfiguration``.
struct ConfigDecoder {
    let reader: ConfigReader
    let recorder: ProvenanceRecorder
    var problems: [ConfigProblem] = []
    var warnings: [String] = []
    var settings: [EffectiveSetting] = []
    var symbolsNode: Node?

    init(reader: ConfigReader, recorder: ProvenanceRecorder) {
        self.reader = reader
        self.recorder = recorder
    }

    // MARK: Raw access

    /// The text of a one-value key and where it came from; nil when no provider has it.
    mutating func raw(_ path: String) -> (text: String, source: ConfigValueSource)? {
        let secret = ConfigKeyCatalog.byPath[path]?.isSecret ?? false
        let text = reader.string(forKey: ConfigKey(path), isSecret: secret)
        let outcome = recorder.take()
        if outcome.typeMismatch {
            problem(path, nil, outcome.source, "expected a single value, got a list")
            return nil
        }
        guard let text else { return nil }
        return (text.trimmingSpaces, outcome.source)
    }

    /// The items of a list key; nil when no provider has it.
    mutating func rawList(_ path: String) -> (items: [String], source: ConfigValueSource)? {
        let items = reader.stringArray(forKey: ConfigKey(path))
        let outcome = recorder.take()
        if outcome.typeMismatch {
            problem(path, nil, outcome.source, "expected a list")
            return nil
        }
        guard let items else { return nil }
        return (items.map(\.trimmingSpaces).filter { !$0.isEmpty }, outcome.source)
    }

    mutating func problem(_ path: String, _ value: String?, _ source: ConfigValueSource, _ reason: String) {
        let shown = value.map { ConfigKeyCatalog.byPath[path]?.isSecret == true ? Redaction.redactValue(ofKey: path, $0) : $0 }
        problems.append(ConfigProblem(keyPath: path, value: shown, source: source, reason: reason))
    }

    mutating func record(_ path: String, _ value: String, _ source: ConfigValueSource) {
        settings.append(EffectiveSetting(keyPath: path, value: value, source: source))
    }

    // MARK: Typed readers

    mutating func string(_ path: String, _ value: inout String, allowEmpty: Bool = false) {
        guard let (text, source) = raw(path) else { return record(path, value, .defaultValue) }
        if !allowEmpty, text.isEmpty {
            problem(path, text, source, "must not be empty")
        } else {
            value = text
        }
        record(path, text, source)
    }

    mutating func int(_ path: String, _ value: inout Int, in range: ClosedRange<Int>, rangeText: String? = nil) {
        guard let (text, source) = raw(path) else { return record(path, String(value), .defaultValue) }
        record(path, text, source)
        guard let number = Int(text) else { return problem(path, text, source, "expected a whole number") }
        guard range.contains(number) else {
            return problem(path, text, source, "must be \(rangeText ?? Self.describe(range))")
        }
        value = number
    }

    mutating func double(_ path: String, _ value: inout Double, atLeast minimum: Double) {
        guard let (text, source) = raw(path) else { return record(path, Self.format(value), .defaultValue) }
        record(path, text, source)
        guard let number = Double(text), number.isFinite else { return problem(path, text, source, "expected a number") }
        guard number >= minimum else { return problem(path, text, source, "must be at least \(Self.format(minimum))") }
        value = number
    }

    mutating func bool(_ path: String, _ value: inout Bool) {
        guard let (text, source) = raw(path) else { return record(path, String(value), .defaultValue) }
        record(path, text, source)
        switch text.lowercased() {
        case "true", "yes", "on", "1": value = true
        case "false", "no", "off", "0": value = false
        default: problem(path, text, source, "expected true or false")
        }
    }

    /// A `*_seconds` key: a positive number of seconds, fractions allowed (`0.5`) so that tests
    /// and demos can use short thresholds.
    mutating func seconds(_ path: String, _ value: inout Duration, wholeOnly: Bool = false) {
        guard let (text, source) = raw(path) else { return record(path, Self.format(value, unit: .seconds), .defaultValue) }
        record(path, text, source)
        guard let number = Double(text), number.isFinite else { return problem(path, text, source, "expected a number of seconds") }
        if wholeOnly, number.rounded() != number {
            return problem(path, text, source, "must be a whole number of seconds (Redis TTLs are whole seconds)")
        }
        guard number > 0 else { return problem(path, text, source, "must be a positive number of seconds") }
        guard number <= 31_536_000 else { return problem(path, text, source, "must be at most 31536000 (one year)") }
        value = .milliseconds(Int64((number * 1000).rounded()))
    }

    /// A `*_ms` key: a positive whole number of milliseconds.
    mutating func milliseconds(_ path: String, _ value: inout Duration) {
        guard let (text, source) = raw(path) else { return record(path, Self.format(value, unit: .milliseconds), .defaultValue) }
        record(path, text, source)
        guard let number = Int(text) else { return problem(path, text, source, "expected a whole number of milliseconds") }
        guard number > 0 else { return problem(path, text, source, "must be a positive number of milliseconds") }
        value = .milliseconds(number)
    }

    mutating func choice<E: RawRepresentable & CaseIterable>(_ path: String, _ value: inout E) where E.RawValue == String {
        guard let (text, source) = raw(path) else { return record(path, value.rawValue, .defaultValue) }
        record(path, text, source)
        guard let parsed = E(rawValue: text.lowercased()) else {
            return problem(path, text, source, "must be one of " + E.allCases.map(\.rawValue).joined(separator: "|"))
        }
        value = parsed
    }

    // MARK: Formatting

    enum Unit { case seconds, milliseconds }

    static func format(_ duration: Duration, unit: Unit) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        switch unit {
        case .milliseconds: return String(ms)
        case .seconds: return ms % 1000 == 0 ? String(ms / 1000) : format(Double(ms) / 1000)
        }
    }

    static func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }

    static func describe(_ range: ClosedRange<Int>) -> String {
        if range.upperBound == Int.max { return "at least \(range.lowerBound)" }
        return "between \(range.lowerBound) and \(range.upperBound)"
    }
}
