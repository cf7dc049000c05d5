import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The repository root: `QR_REPO_ROOT` when set, else found from this file's path.
enum RepositoryRoot {
    static let path: String? = {
        if let root = ProcessInfo.processInfo.environment["QR_REPO_ROOT"], !root.isEmpty { return root }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<6 {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        return nil
    }()

    /// The built `quote-relay` binary next to the test bundle (`.build/<triple>/debug`).
    static var binary: String? {
        let fm = FileManager.default
        var candidates: [String] = []
        // The test bundle lives in the build products directory, beside the executables.
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append(URL(fileURLWithPath: bundle.bundlePath).deletingLastPathComponent().appendingPathComponent("quote-relay").path)
        }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("quote-relay").path)
        if let root = path { candidates.append("\(root)/.build/debug/quote-relay") }
        return candidates.first { fm.isExecutableFile(atPath: $0) }
    }
}

/// The outcome of running a child process to completion.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum ChildProcess {
    enum Failure: Error { case timedOut(String) }

    /// Runs `executable` with a fixed environment and waits at most `timeout`; a child that
    /// overstays is killed with SIGKILL (terminate() can hang inside `swift test`).
    static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String],
        timeout: Duration = .seconds(30)
    ) async throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        // Drain both pipes concurrently so a chatty child never blocks on a full pipe.
        async let out = Task.detached { outPipe.fileHandleForReading.readDataToEndOfFile() }.value
        async let err = Task.detached { errPipe.fileHandleForReading.readDataToEndOfFile() }.value
        // Foundation reaps the child itself, so its own status is the one to poll.
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning {
            kill(pid, SIGKILL)
            _ = await (out, err)
            throw Failure.timedOut("\(executable) \(arguments.joined(separator: " "))")
        }
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return ProcessResult(status: status, stdout: String(decoding: await out, as: UTF8.self), stderr: String(decoding: await err, as: UTF8.self))
    }
}
