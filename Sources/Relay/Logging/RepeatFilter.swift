import Essentials
import Logging
import NIOConcurrencyHelpers

/// Decides which lines of a repeating log message reach the log, so that a condition that
/// lasts (a gateway that refuses every second, a symbol probed every second, IB's 354 text on
/// every request) is told once and then summarised with back-off instead of drowning the
/// lines that matter.
///
/// A pure value: instants in, decisions out, no clock of its own, so tests run it with
/// made-up instants. Policy, per key (see ``RepeatFilter/key(label:level:message:metadata:)``):
/// - the first occurrence is printed;
/// - repeats within the key's window are not printed, only counted;
/// - the first repeat after the window is printed with the count of the ones left out
///   (`repeated=N`), and the window doubles, from ``initialWindow`` up to ``maximumWindow``;
/// - an occurrence after a silence longer than the window starts over (printed at once).
///
/// So a line that repeats every second is printed at 0 s, 10 s, 30 s, 70 s, 150 s, ... and
/// then every 10 minutes, each time saying how many were left out.
public struct RepeatFilter: Sendable {
    /// What to do with one occurrence.
    public enum Decision: Sendable, Equatable {
        /// Print it; `repeated` is how many occurrences were left out since the last print.
        case print(repeated: Int)
        /// Count it, do not print it.
        case suppress
    }

    struct Entry {
        var lastPrinted: ContinuousClock.Instant
        var lastSeen: ContinuousClock.Instant
        /// Which window the key is in: 1 for the first, one more after each print that ended a
        /// window (its length is ``RepeatFilter/window(_:)``).
        var step: Int
        var suppressed: Int
    }

    /// How long repeats are held back after the first print [10 s].
    public var initialWindow: Duration
    /// The longest hold-back [10 min].
    public var maximumWindow: Duration
    /// Keys remembered at most; the least recently seen is forgotten first [512].
    public var capacity: Int
    private var entries: [String: Entry] = [:]

    public init(initialWindow: Duration = .seconds(10), maximumWindow: Duration = .seconds(600), capacity: Int = 512) {
        self.initialWindow = initialWindow
        self.maximumWindow = maximumWindow
        self.capacity = max(1, capacity)
    }

    /// Records one occurrence of `key` at `now` and says whether to print it.
    public mutating func admit(key: String, now: ContinuousClock.Instant) -> Decision {
        guard var entry = entries[key] else {
            if entries.count >= capacity, let oldest = entries.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key {
                entries[oldest] = nil
            }
            entries[key] = Entry(lastPrinted: now, lastSeen: now, step: 1, suppressed: 0)
            return .print(repeated: 0)
        }
        defer { entries[key] = entry }
        let quietFor = now - entry.lastSeen
        entry.lastSeen = now
        if quietFor > window(entry.step) {
            // The condition ended and came back: a new episode, told at once.
            let left = entry.suppressed
            entry = Entry(lastPrinted: now, lastSeen: now, step: 1, suppressed: 0)
            return .print(repeated: left)
        }
        guard now - entry.lastPrinted >= window(entry.step) else {
            entry.suppressed += 1
            return .suppress
        }
        let left = entry.suppressed
        entry.suppressed = 0
        entry.lastPrinted = now
        entry.step += 1
        return .print(repeated: left)
    }

    /// The length of window number `step`: ``initialWindow`` doubled per step, at most
    /// ``maximumWindow`` (`BackoffPolicy`, no jitter).
    func window(_ step: Int) -> Duration {
        BackoffPolicy(initial: initialWindow, max: maximumWindow, multiplier: 2).cap(forAttempt: step)
    }

    /// Metadata that changes from one occurrence of the same condition to the next (attempt
    /// numbers, delays, counts) and so does not make a line a different one.
    public static let volatileMetadataKeys: Set<String> = [
        "attempt", "failed_attempts", "next_attempt", "retry_in_ms", "delay_ms", "consecutive", "age_ms", "count", "repeated",
    ]

    /// The identity of a line: label, level, message and every metadata value except the
    /// volatile ones (``volatileMetadataKeys``). `probing IB symbol=AAPL` and
    /// `probing IB symbol=MSFT` are two keys.
    public static func key(label: String, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        var key = "\(label)\u{1}\(level.rawValue)\u{1}\(message)"
        for name in metadata.keys.sorted() where !volatileMetadataKeys.contains(name) {
            key += "\u{1}\(name)=\(metadata[name]!)"
        }
        return key
    }
}

/// One ``RepeatFilter`` shared by every logger of the process (swift-log copies handlers by
/// value; the filter must see all of them). The lock is held only for a dictionary update.
public final class SharedRepeatFilter: Sendable {
    private let filter: NIOLockedValueBox<RepeatFilter>
    private let now: @Sendable () -> ContinuousClock.Instant

    public init(_ filter: RepeatFilter = RepeatFilter(), now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.filter = NIOLockedValueBox(filter)
        self.now = now
    }

    public func admit(key: String) -> RepeatFilter.Decision {
        let instant = now()
        return filter.withLockedValue { $0.admit(key: key, now: instant) }
    }
}
