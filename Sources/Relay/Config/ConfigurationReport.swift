/// Where an effective value came from, for `check-config` and for problem messages: an
/// operator who set `IB_PORT` in a systemd unit months ago needs to be told that it was the
/// environment, not the file.
public enum ConfigValueSource: Sendable, Equatable, CustomStringConvertible {
    case defaultValue
    case file
    case environment(String)
    case flag

    public var description: String {
        switch self {
        case .defaultValue: "default"
        case .file: "file"
        case .environment(let name): "env \(name)"
        case .flag: "flag"
        }
    }
}

/// One invalid key: its path, the offending value (redacted when secret) and what is wrong.
public struct ConfigProblem: Sendable, Equatable, CustomStringConvertible {
    public var keyPath: String
    /// The value as written, or nil when the problem is about a missing value.
    public var value: String?
    public var source: ConfigValueSource
    public var reason: String

    public init(keyPath: String, value: String?, source: ConfigValueSource, reason: String) {
        self.keyPath = keyPath
        self.value = value
        self.source = source
        self.reason = reason
    }

    /// `ib.port = "70000" (from env IB_PORT): must be between 1 and 65535`
    public var description: String {
        var text = keyPath
        if let value { text += " = \"\(value)\"" }
        if source != .defaultValue { text += " (from \(source))" }
        return text + ": " + reason
    }
}

/// One line of the effective configuration, already redacted.
public struct EffectiveSetting: Sendable, Equatable {
    public var keyPath: String
    public var value: String
    public var source: ConfigValueSource
}

/// Everything `check-config` shows and `run` needs: the configuration when valid, every
/// problem when not, warnings either way.
public struct ConfigurationReport: Sendable {
    /// Nil exactly when ``problems`` is not empty.
    public var configuration: RelayConfiguration?
    /// Every key that was valid, defaults for the rest: for commands such as `status` that
    /// need only a few keys and should work even when, say, `symbols` is missing.
    public var decoded = RelayConfiguration()
    public var problems: [ConfigProblem]
    /// Things that are valid but probably not meant (budgets that cannot fit, a missing API key).
    public var warnings: [String]
    /// The merged values in catalogue order, secrets replaced by `***`.
    public var settings: [EffectiveSetting]
    /// The file that was read, if any.
    public var filePath: String?

    public var isValid: Bool { problems.isEmpty }

    /// `key = value  (source)` lines, aligned; the symbols list one entry per line.
    public func renderedSettings() -> String {
        let width = settings.map(\.keyPath.count).max() ?? 0
        return settings.map { setting in
            let padded = setting.keyPath + String(repeating: " ", count: width - setting.keyPath.count)
            return "\(padded) = \(setting.value)  (\(setting.source))"
        }.joined(separator: "\n")
    }
}

/// Thrown by ``RelayConfiguration/load(filePath:environment:overrides:)`` when any key is
/// invalid; carries all of them, not just the first.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var problems: [ConfigProblem]
    public var description: String {
        "invalid configuration:\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}
