/// Notices when Redis rejects *every* data write with an error no retry can fix.
///
/// A permanent error (`WRONGTYPE` because something else owns a key the worker writes, such
/// as `P:updated` made a string; `ERR` from a script that no longer matches the server) drops
/// the value (`PublisherStats.writeErrors`). One such key among many is a problem of that key
/// (counted, logged). But when the same happens to every write for several status intervals in
/// a row, no data reaches readers at all, and the worker must say so (`/readyz` 503, state
/// `degraded`) instead of looking healthy.
///
/// Fed the publisher's counters once per status interval; a pure value (no clock, no I/O).
public struct WriteRejectionWatch: Sendable, Hashable {
    /// Consecutive intervals with rejected writes and no accepted one before it reports.
    public var intervals: Int
    private var streak = 0
    private var last = PublisherStats()
    /// The rejection as last reported; nil while writes are accepted.
    public private(set) var rejection: WriteRefusal?

    /// - Parameter intervals: how many status intervals in a row (default 3: 3 s at the
    ///   default `statusInterval`) every data write must be rejected.
    public init(intervals: Int = 3) {
        self.intervals = max(1, intervals)
    }

    /// Takes the publisher's counters now.
    /// - Returns: the rejection while every data write of the last `intervals` intervals was
    ///   rejected (its error class: the permanent class that grew, else `ERR`), nil otherwise.
    @discardableResult
    public mutating func observe(_ stats: PublisherStats) -> WriteRefusal? {
        defer { last = stats }
        let accepted = stats.writes > last.writes
        let rejected = stats.writeErrors > last.writeErrors
        if accepted {
            streak = 0
            rejection = nil
        } else if rejected {
            streak += 1
            if streak >= intervals {
                let grown = stats.refusedWrites
                    .filter { $0.value > (last.refusedWrites[$0.key] ?? 0) && !WriteRefusal.transientClasses.contains($0.key) }
                    .map(\.key).sorted()
                let errorClass = grown.first ?? "ERR"
                rejection = WriteRefusal(
                    errorClass: errorClass,
                    message: "every data write rejected for \(streak) intervals: \(stats.lastRejection ?? errorClass)")
            }
        }
        // Neither accepted nor rejected (nothing to write): the last verdict stands.
        return rejection
    }
}
