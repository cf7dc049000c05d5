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

/// Reads a pipe to EOF on a dedicated thread.
final class PipeDrain: @unchecked Sendable {
    // `text` is written once by the reader thread before `done` is set, and read only after.
    private let lock = NSLock()
    private var text: String?

    init(_ handle: FileHandle) {
        Thread {
            let data = handle.readDataToEndOfFile()
            let decoded = String(decoding: data, as: UTF8.self)
            self.lock.withLock { self.text = decoded }
        }.start()
    }

    func result(before deadline: ContinuousClock.Instant) async -> String? {
        while ContinuousClock.now < deadline {
            if let text = lock.withLock({ text }) { return text }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return lock.withLock { text }
    }
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
        // Drain both pipes on threads of their own: a blocking read on the cooperative pool
        // (two threads on this machine) would starve every other test.
        let out = PipeDrain(outPipe.fileHandleForReading)
        let err = PipeDrain(errPipe.fileHandleForReading)
        // Foundation reaps the child itself, so its own status is the one to poll.
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning {
            kill(pid, SIGKILL)
            throw Failure.timedOut("\(executable) \(arguments.joined(separator: " "))")
        }
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        // The child has exited; its pipes reach EOF unless a grandchild kept them, so bound this too.
        guard let stdout = await out.result(before: deadline + .seconds(5)), let stderr = await err.result(before: deadline + .seconds(5)) else {
            throw Failure.timedOut("output of \(executable) \(arguments.joined(separator: " "))")
        }
        return ProcessResult(status: status, stdout: stdout, stderr: stderr)
    }
}

/// The Redis the status tests read: `QR_TEST_REDIS_URL` (scripts/test starts one), else one
/// redis-server child per test process on a free loopback port, SIGKILLed at exit. Tests
/// isolate themselves by key prefix.
enum CLITestRedis {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static let shared: Result<String, Failure> = {
        if let url = ProcessInfo.processInfo.environment["QR_TEST_REDIS_URL"], !url.isEmpty { return .success(url) }
        return Result { () throws(Failure) -> String in try spawn() }
    }()

    nonisolated(unsafe) static var childPID: pid_t = 0

    static func url() throws -> String { try shared.get() }

    private static func spawn() throws(Failure) -> String {
        let port = try freePort()
        let binary = ProcessInfo.processInfo.environment["QR_REDIS_SERVER"] ?? "/usr/bin/redis-server"
        // Foundation's Process closes the parent's other descriptors in the child, so the
        // long-lived server holds no test's pipe open. It inherits the runner's blocked signal
        // mask, which is why it is stopped with SIGKILL (never blockable) at exit.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", ""]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot start \(binary): \(error)")
        }
        let child = process.processIdentifier
        childPID = child
        atexit {
            if CLITestRedis.childPID > 0 { kill(CLITestRedis.childPID, SIGKILL) }
        }
        // Bounded wait until the port accepts connections.
        for _ in 0..<500 {
            if canConnect(port: port) { return "redis://127.0.0.1:\(port)/0" }
            usleep(20_000)
        }
        kill(child, SIGKILL)
        throw Failure(description: "redis-server did not listen on \(port) within 10 s")
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    static func freePort() throws(Failure) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Failure(description: "bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
