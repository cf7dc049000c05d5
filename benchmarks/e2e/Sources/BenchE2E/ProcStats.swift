import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// CPU time and memory of a process (or one of its threads) from Linux' /proc, the only
/// honest way to say how much of two shared cores each participant used.
public enum ProcStats {
    /// utime + stime in clock ticks, from `/proc/PID/stat` or `/proc/PID/task/TID/stat`.
    public static func cpuTicks(pid: Int32, thread: Int32? = nil) -> UInt64? {
        let path = thread.map { "/proc/\(pid)/task/\($0)/stat" } ?? "/proc/\(pid)/stat"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return parseCPUTicks(stat: text)
    }

    /// Fields after the command name (which may hold spaces and parentheses, hence the last
    /// ')'): state is field 3, utime 14, stime 15.
    public static func parseCPUTicks(stat: String) -> UInt64? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return nil }
        return user + system
    }

    public static var ticksPerSecond: Double { Double(sysconf(Int32(_SC_CLK_TCK))) }

    /// The 1, 5 and 15 minute load averages of /proc/loadavg ("4.12 3.80 2.95"); nil when
    /// unreadable.
    public static func loadAverage() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    /// Resident set size now and its peak, KiB (VmRSS, VmHWM of /proc/PID/status).
    public static func memory(pid: Int32) -> (rssKiB: Int, peakKiB: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return parseMemory(status: text)
    }

    public static func parseMemory(status: String) -> (rssKiB: Int, peakKiB: Int)? {
        var rss: Int?
        var peak: Int?
        for line in status.split(separator: "\n") {
            if line.hasPrefix("VmRSS:") { rss = kib(line) }
            if line.hasPrefix("VmHWM:") { peak = kib(line) }
        }
        guard let rss else { return nil }
        return (rss, peak ?? rss)
    }

    private static func kib(_ line: Substring) -> Int? {
        line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
    }
}

/// CPU used by a set of processes/threads between two points in time.
public struct CPUMeter: Sendable {
    public struct Source: Sendable, Hashable {
        public var pid: Int32
        public var thread: Int32?
        public init(pid: Int32, thread: Int32? = nil) {
            self.pid = pid
            self.thread = thread
        }
    }

    private var start: [Source: UInt64] = [:]
    private var startTime = ContinuousClock.now

    public init(sources: [Source]) {
        for source in sources {
            start[source] = ProcStats.cpuTicks(pid: source.pid, thread: source.thread)
        }
        startTime = .now
    }

    /// Percent of one core used by each source since init (100 = one core busy).
    public func percent() -> [Source: Double] {
        let elapsed = ContinuousClock.now - startTime
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var result: [Source: Double] = [:]
        for (source, before) in start {
            guard let after = ProcStats.cpuTicks(pid: source.pid, thread: source.thread), seconds > 0 else { continue }
            result[source] = Double(after &- before) / ProcStats.ticksPerSecond / seconds * 100
        }
        return result
    }
}
