import Configuration
import Foundation
import NIOConcurrencyHelpers

/// Loads the configuration: flags over environment over file over defaults (CONTRACT §2),
/// stacked as swift-configuration providers in one `ConfigReader`.
///
/// Every key is read as text and converted here rather than with the reader's typed getters:
/// those fall back to the default when a value does not convert, which would hide exactly the
/// mistakes an operator needs to see. Reading text lets every problem be reported with its key,
/// value, source and reason, all of them at once.
public enum ConfigurationLoader {
    /// Reads `filePath` (nil: no file, defaults and environment only) and merges the rest.
    /// - Parameters:
    ///   - environment: normally `ProcessInfo.processInfo.environment`; injected in tests.
    ///   - overrides: key path -> value from command-line flags (`--set ib.port=4003`); list
    ///     keys take comma-separated values.
    public static func load(
        filePath: String?,
        environment: [String: String],
        overrides: [String: String] = [:]
    ) -> ConfigurationReport {
        guard let filePath else {
            return load(file: YAMLConfigFile(), filePath: nil, environment: environment, overrides: overrides)
        }
        let text: String
        do {
            text = try String(contentsOfFile: filePath, encoding: .utf8)
        } catch {
            let reason = FileManager.default.fileExists(atPath: filePath)
                ? "cannot read the configuration file: \(error.localizedDescription)"
                : "configuration file not found"
            return ConfigurationReport(
                configuration: nil,
                problems: [.init(keyPath: "(file)", value: filePath, source: .flag, reason: reason)],
                warnings: [], settings: [], filePath: filePath
            )
        }
        return load(yaml: text, filePath: filePath, environment: environment, overrides: overrides)
    }

    /// Same as ``load(filePath:environment:overrides:)`` with the YAML text given directly.
    public static func load(
        yaml: String,
        filePath: String? = nil,
        environment: [String: String],
        overrides: [String: String] = [:]
    ) -> ConfigurationReport {
        load(file: YAMLConfigFile(yaml: yaml), filePath: filePath, environment: environment, overrides: overrides)
    }

    static func load(
        file: YAMLConfigFile,
        filePath: String?,
        environment: [String: String],
        overrides: [String: String]
    ) -> ConfigurationReport {
        // A file that did not parse says nothing reliable about any key: report only that.
        if file.problems.contains(where: { $0.keyPath == "(file)" }) {
            return ConfigurationReport(configuration: nil, problems: file.problems, warnings: [], settings: [], filePath: filePath)
        }
        var problems = file.problems
        var flagValues: [AbsoluteConfigKey: ConfigValue] = [:]
        for (path, value) in overrides.sorted(by: { $0.key < $1.key }) {
            guard let entry = ConfigKeyCatalog.byPath[path] else {
                let hint = ConfigKeyCatalog.suggestion(for: path).map { " (did you mean '\($0)'?)" } ?? ""
                problems.append(.init(keyPath: path, value: value, source: .flag, reason: "unknown key\(hint)"))
                continue
            }
            let content: ConfigContent = entry.isList ? .stringArray(YAMLConfigFile.splitList(value)) : .string(value)
            flagValues[AbsoluteConfigKey(path.split(separator: ".").map(String.init))] = ConfigValue(content, isSecret: entry.isSecret)
        }
        let secretNames = Set(ConfigKeyCatalog.entries.filter(\.isSecret).map { ConfigKeyCatalog.environmentName($0.path) })
        let recorder = ProvenanceRecorder()
        let reader = ConfigReader(
            providers: [
                InMemoryProvider(name: "flags", values: flagValues),
                EnvironmentVariablesProvider(environmentVariables: environment, secretsSpecifier: .specific(secretNames)),
                file.provider,
            ],
            accessReporter: recorder
        )
        var decoder = ConfigDecoder(reader: reader, recorder: recorder)
        decoder.problems = problems
        decoder.symbolsNode = file.symbols
        let configuration = decoder.decode()
        return ConfigurationReport(
            configuration: decoder.problems.isEmpty ? configuration : nil,
            decoded: configuration,
            problems: decoder.problems,
            warnings: decoder.warnings,
            settings: decoder.settings,
            filePath: filePath
        )
    }
}

extension RelayConfiguration {
    /// Loads and validates, for `run`: all problems at once in the thrown error.
    public static func load(
        filePath: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        overrides: [String: String] = [:]
    ) throws(ConfigurationError) -> RelayConfiguration {
        let report = ConfigurationLoader.load(filePath: filePath, environment: environment, overrides: overrides)
        guard let configuration = report.configuration else { throw ConfigurationError(problems: report.problems) }
        return configuration
    }
}

/// Remembers which provider answered the last read, and whether one failed to.
///
/// Reads are synchronous and sequential inside one load, so "the last event" is unambiguous;
/// the mutex is only there because `AccessReporter` must be `Sendable`.
final class ProvenanceRecorder: AccessReporter, Sendable {
    struct Outcome {
        var source: ConfigValueSource = .defaultValue
        /// Set when a provider holds the key but not as the requested type (a list for a value).
        var typeMismatch = false
    }

    private let last = NIOLockedValueBox<Outcome>(Outcome())

    func report(_ event: AccessEvent) {
        var outcome = Outcome()
        for result in event.providerResults {
            switch result.result {
            case .success(let lookup) where lookup.value != nil:
                outcome.source = Self.source(providerName: result.providerName, key: event.metadata.key)
            case .failure:
                outcome.source = Self.source(providerName: result.providerName, key: event.metadata.key)
                outcome.typeMismatch = true
            default:
                continue
            }
            break
        }
        last.withLockedValue { $0 = outcome }
    }

    func take() -> Outcome {
        last.withLockedValue { value in
            defer { value = Outcome() }
            return value
        }
    }

    static func source(providerName: String, key: AbsoluteConfigKey) -> ConfigValueSource {
        if providerName.contains("[flags]") { return .flag }
        if providerName.contains("Environment") {
            return .environment(ConfigKeyCatalog.environmentName(key.components.joined(separator: ".")))
        }
        return .file
    }
}

extension ConfigurationLoader {
    /// Turns `--set key=value` arguments into overrides; an argument without `=` is returned
    /// as a problem so the command can report it with the rest.
    public static func parseOverrides(_ arguments: [String]) -> (overrides: [String: String], problems: [ConfigProblem]) {
        var overrides: [String: String] = [:]
        var problems: [ConfigProblem] = []
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
                problems.append(.init(keyPath: argument, value: nil, source: .flag, reason: "--set expects key=value, e.g. --set ib.port=4003"))
                continue
            }
            let key = String(argument[..<equals]).trimmingSpaces
            overrides[key] = String(argument[argument.index(after: equals)...])
        }
        return (overrides, problems)
    }
}
