import Configuration
import Foundation
import Yams

/// The YAML file, read with Yams and handed to swift-configuration as an in-memory provider.
///
/// Why not swift-configuration's own `FileProvider<YAMLSnapshot>`: in 1.4.0 it rejects any list
/// whose items are not scalars ("Unexpected non-scalar value in array"), and `symbols` is a
/// list of strings *or maps*. It also cannot tell us which keys the file had that nobody reads,
/// which is how typos are caught. So this type flattens every scalar and scalar list into
/// dotted keys (the provider's own layout), keeps the `symbols` node aside for
/// ``SymbolListDecoder``, and reports structural problems and unknown keys (errors, with the closest known key).
struct YAMLConfigFile {
    /// Dotted key -> value, as swift-configuration content (`.string` or `.stringArray`).
    var values: [String: ConfigContent] = [:]
    /// The `symbols` node, when the file has one.
    var symbols: Node?
    var problems: [ConfigProblem] = []

    init() {}

    /// Parses YAML text. An empty document is a file with no keys (all defaults).
    init(yaml: String) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            problems.append(.init(keyPath: "(file)", value: nil, source: .file, reason: "not valid YAML: \(Self.describe(error))"))
            return
        }
        guard let root, root.null == nil else { return }
        guard let mapping = root.mapping else {
            problems.append(.init(keyPath: "(file)", value: nil, source: .file, reason: "the top level must be a map of keys"))
            return
        }
        flatten(mapping, prefix: [])
    }

    /// The provider the loader stacks below flags and environment.
    var provider: InMemoryProvider {
        InMemoryProvider(
            name: "file",
            values: Dictionary(uniqueKeysWithValues: values.map { key, content in
                (AbsoluteConfigKey(key.split(separator: ".").map(String.init)), ConfigValue(content, isSecret: ConfigKeyCatalog.byPath[key]?.isSecret ?? false))
            })
        )
    }

    private mutating func flatten(_ mapping: Node.Mapping, prefix: [String]) {
        for (keyNode, value) in mapping {
            guard let key = keyNode.string, !key.isEmpty else {
                problems.append(.init(keyPath: (prefix + ["?"]).joined(separator: "."), value: nil, source: .file, reason: "keys must be plain text"))
                continue
            }
            let components = prefix + [key]
            let path = components.joined(separator: ".")
            let known = ConfigKeyCatalog.byPath[path]
            if path == "symbols" {
                symbols = value
                continue
            }
            if known == nil, !ConfigKeyCatalog.isSection(path) {
                // An unknown key is an error, not a warning: a misspelt `failover.stalenes_seconds`
                // would otherwise leave the real setting at its default without anyone noticing.
                let hint = ConfigKeyCatalog.suggestion(for: path).map { " (did you mean '\($0)'?)" } ?? ""
                problems.append(.init(keyPath: path, value: value.scalar?.string, source: .file, reason: "unknown key\(hint)"))
                continue
            }
            if let nested = value.mapping {
                if known != nil {
                    problems.append(.init(keyPath: path, value: nil, source: .file, reason: "expected a value, got a map"))
                } else {
                    flatten(nested, prefix: components)
                }
                continue
            }
            guard let known else {
                problems.append(.init(keyPath: path, value: value.string, source: .file, reason: "is a section and must be a map of keys"))
                continue
            }
            if value.null != nil { continue }  // `key:` or `key: ~` means "use the default"
            if let sequence = value.sequence {
                var items: [String] = []
                for (index, item) in sequence.enumerated() {
                    if let text = item.scalar?.string {
                        items.append(text)
                    } else {
                        problems.append(.init(keyPath: "\(path)[\(index)]", value: nil, source: .file, reason: "expected a plain value, got a list or map"))
                    }
                }
                // A list where one value belongs is read by the loader and reported there, so
                // that the message names what was expected.
                values[path] = .stringArray(items)
            } else if let scalar = value.scalar {
                values[path] = known.isList ? .stringArray(Self.splitList(scalar.string)) : .string(scalar.string)
            }
        }
    }

    /// `18, 19` -> ["18", "19"]: a list key written as one scalar, as in the environment.
    static func splitList(_ text: String) -> [String] {
        text.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
    }

    static func describe(_ error: any Error) -> String {
        if let yamlError = error as? YamlError {
            // Yams' description carries line and column and a caret picture; one line is enough.
            let text = "\(yamlError)"
            return text.split(separator: "\n").first.map(String.init) ?? text
        }
        return "\(error)"
    }
}
