import ArgumentParser
import Foundation
import Relay

/// `quote-relay check-config --config FILE`: validates without connecting to anything.
struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file (plus environment overrides) and print the effective values.",
        discussion: """
            Every key can be overridden by an environment variable named after its path \
            (redis.url -> REDIS_URL, failover.staleness_seconds -> FAILOVER_STALENESS_SECONDS) \
            or by --set key=value; precedence is flag > environment > file > default. \
            Secrets (alphavantage.api_key, the password in redis.url) are printed as ***.

            Exit status: 0 when valid, 2 when invalid (each problem on its own line: key path, \
            value, what is wrong).
            """
    )

    @Option(name: .long, help: ArgumentHelp("The YAML configuration file.", valueName: "file"))
    var config: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one key, e.g. --set ib.port=4003 (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @Flag(name: .long, help: "Print only problems and warnings, not the effective configuration.")
    var quiet = false

    func run() async throws {
        let (overrides, flagProblems) = ConfigurationLoader.parseOverrides(overrides)
        var report = ConfigurationLoader.load(
            filePath: config,
            environment: ProcessInfo.processInfo.environment,
            overrides: overrides
        )
        report.problems.insert(contentsOf: flagProblems, at: 0)
        for warning in report.warnings {
            printError("warning: \(warning)")
        }
        guard report.problems.isEmpty else {
            let count = report.problems.count
            printError("\(config): invalid configuration (\(count) problem\(count == 1 ? "" : "s")):")
            for problem in report.problems {
                printError("  \(problem)")
            }
            throw ExitCode(2)
        }
        if !quiet {
            print("# effective configuration of \(config) (source in parentheses)")
            print(report.renderedSettings())
        }
        print("\(config): configuration is valid")
    }
}

/// Writes one line to standard error (problems and warnings, so stdout stays parseable).
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
