#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// The worker's `LogHandler`: one line per event, as text for people or as a JSON object for
/// log shippers (`log.format`), with secrets masked (``Redaction``).
///
/// Lines go to standard error so that standard output stays clean for command output
/// (`status --json` piped into `jq`). Each line is one write(2) call, so lines from
/// concurrent tasks do not interleave.
public struct RelayLogHandler: LogHandler {
    public typealias Sink = @Sendable (String) -> Void

    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level
    let label: String
    let format: LogFormat
    let sink: Sink
    let clock: @Sendable () -> Int64
    /// Holds back repeats of one line (``RepeatFilter``); nil prints every line. Not applied
    /// when the handler's level is `debug` or `trace`: who asks for detail gets all of it.
    let repeats: SharedRepeatFilter?

    /// - Parameters:
    ///   - sink: receives each finished line (without the newline); standard error by default.
    ///   - clock: Unix epoch milliseconds; injected by tests.
    public init(
        label: String,
        format: LogFormat,
        level: Logger.Level,
        metadataProvider: Logger.MetadataProvider? = nil,
        sink: @escaping Sink = RelayLogHandler.standardError,
        clock: @escaping @Sendable () -> Int64 = RelayLogHandler.nowMilliseconds,
        repeats: SharedRepeatFilter? = nil
    ) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.metadataProvider = metadataProvider
        self.sink = sink
        self.clock = clock
        self.repeats = repeats
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        if let error = event.error { merged["error"] = .string("\(error)") }
        if let repeats, logLevel > .debug {
            let key = RepeatFilter.key(label: label, level: event.level, message: event.message.description, metadata: merged)
            switch repeats.admit(key: key) {
            case .suppress: return
            case .print(let repeated) where repeated > 0: merged["repeated"] = .string("\(repeated)")
            case .print: break
            }
        }
        let line = LogLineFormatter.line(
            format: format, timestampMs: clock(), level: event.level, label: label,
            message: event.message.description, metadata: merged
        )
        sink(line)
    }

    /// Writes one line to standard error with a single write(2), unbuffered, so a crash
    /// loses no line already logged.
    public static let standardError: Sink = { line in
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBufferPointer { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }

    public static let nowMilliseconds: @Sendable () -> Int64 = {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}

/// Sets up swift-log for the process from `log.level` and `log.format`.
public enum RelayLogging {
    /// Call once, before any `Logger` is made (swift-log allows one bootstrap per process).
    /// Repeats of a line are summarised (``RepeatFilter``) unless the level is `debug`/`trace`.
    public static func bootstrap(_ settings: RelayConfiguration.LogSettings, metadataProvider: Logger.MetadataProvider? = nil) {
        let level = settings.level.loggerLevel
        let format = settings.format
        let repeats = SharedRepeatFilter()
        LoggingSystem.bootstrap({ label, provider in
            RelayLogHandler(label: label, format: format, level: level, metadataProvider: provider, repeats: repeats)
        }, metadataProvider: metadataProvider)
    }
}

extension LogLevelSetting {
    public var loggerLevel: Logger.Level {
        switch self {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        case .critical: .critical
        }
    }
}
