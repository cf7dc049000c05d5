import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A process the benchmark starts (the worker or the peer), with its output in a log file
/// and a stop that always ends within bounded time: SIGTERM, a grace period, then SIGKILL.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: `process` is configured and launched in init and afterwards only queried
    // (pid, isRunning, terminationStatus), which Foundation allows from any thread.
    private let process: Process
    public let name: String
    public let logPath: String

    public init(name: String, executable: String, arguments: [String], environment: [String: String] = [:],
                workingDirectory: String? = nil, logPath: String) throws {
        self.name = name
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw BenchError("cannot write \(logPath)") }
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    /// Alive as the kernel sees it (signal 0 reaches it and it is not a zombie): one run judged
    /// the worker gone while its log shows it running until it was stopped, so liveness no
    /// longer depends on Foundation's reaper.
    public var isRunning: Bool {
        guard process.processIdentifier > 0, kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].dropFirst().first
        return state != "Z" && state != "X"
    }

    /// The last `lines` lines of the log, for error messages.
    public func logTail(lines: Int = 15) -> String {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return "" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// Stops the process: SIGTERM, up to `grace` for it to exit, then SIGKILL and up to two
    /// more seconds. Returns how it ended, for the report.
    @discardableResult
    public func stop(grace: Duration = .seconds(5)) async -> String {
        guard isRunning else { return "exited\(status)" }
        kill(pid, SIGTERM)
        if await waitForExit(grace) { return "terminated\(status)" }
        kill(pid, SIGKILL)
        _ = await waitForExit(.seconds(2))
        return "killed"
    }

    /// `(code)` once Foundation has reaped the process, else empty: its `terminationStatus`
    /// traps while it still thinks the process runs, which lags the kernel's view.
    private var status: String {
        process.isRunning ? "" : "(\(process.terminationStatus))"
    }

    private func waitForExit(_ timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while isRunning {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}
