import Foundation
import TWSProtocol

/// When an instrument trades, parsed from IB's `tradingHours` / `liquidHours` strings.
///
/// The failover logic only judges silence as a failure while the market is open, so this
/// answers "is it open now?" for any instant. IB lists about a week of days; outside that
/// window (contract details not refreshed, or an empty / unparsable string) the answer is
/// `.unknown`, which `isOpen` treats as open: staleness is then still detected, and a probe
/// decides whether IB is really silent, which is the safe side to err on.
public struct TradingHours: Sendable, Hashable {
    /// Open intervals in epoch milliseconds, sorted, non-overlapping, touching ones merged.
    public let sessions: [Range<Int64>]
    /// The span the listed days cover; nil when nothing could be parsed.
    public let coverage: Range<Int64>?
    /// The zone the wall-clock times were read in.
    public let timeZone: TimeZone
    /// What could not be understood (unknown zone, malformed segments), for the log.
    public let problems: [String]

    public enum Status: String, Sendable, Hashable {
        case open, closed, unknown
    }

    /// Hours about which nothing is known: always reported open.
    public static let unknown = TradingHours(sessions: [], coverage: nil, timeZone: TimeZone(identifier: "UTC")!, problems: [])

    init(sessions: [Range<Int64>], coverage: Range<Int64>?, timeZone: TimeZone, problems: [String]) {
        self.sessions = sessions
        self.coverage = coverage
        self.timeZone = timeZone
        self.problems = problems
    }

    /// Parses both of IB's formats:
    /// `20261126:0930-20261126:1600;20261127:CLOSED` (since API 9.72, sessions may cross
    /// midnight and name their end date) and `20090507:0700-1830,1830-2330;20090508:CLOSED`
    /// (older: ranges within the day; an end at or before the start means the next day).
    /// Malformed segments are skipped and listed in `problems`; never throws.
    public init(_ text: String, timeZoneId: String) {
        guard let zone = Self.timeZone(ibName: timeZoneId) else {
            self.init(
                sessions: [], coverage: nil, timeZone: TimeZone(identifier: "UTC")!,
                problems: ["unknown time zone '\(timeZoneId)': market hours treated as always open"])
            return
        }
        var parser = TradingHoursParser(timeZone: zone)
        parser.parse(text)
        self.init(sessions: parser.mergedSessions(), coverage: parser.coverage, timeZone: zone, problems: parser.problems)
    }

    /// The staleness logic uses liquid (regular) hours by default: outside them ticks are
    /// sparse enough that silence is normal, and trading hours then only widen the window.
    public init(details: ContractDetails, liquid: Bool = true) {
        let primary = liquid ? details.liquidHours : details.tradingHours
        let text = primary.isEmpty ? details.tradingHours : primary
        self.init(text, timeZoneId: details.timeZoneId)
    }

    public func status(atMs t: Int64) -> Status {
        guard let coverage, coverage.contains(t) else { return .unknown }
        return sessionIndex(containing: t) != nil ? .open : .closed
    }

    /// True unless the hours positively say the market is closed at `t`.
    public func isOpen(atMs t: Int64) -> Bool {
        status(atMs: t) != .closed
    }

    /// The start of the next session strictly after `t`, if the listed days contain one.
    public func nextOpen(afterMs t: Int64) -> Int64? {
        let i = firstIndex(endingAfter: t)
        var j = i
        while j < sessions.count {
            if sessions[j].lowerBound > t { return sessions[j].lowerBound }
            j += 1
        }
        return nil
    }

    /// The end of the session open at `t`, or of the next one.
    public func nextClose(afterMs t: Int64) -> Int64? {
        let i = firstIndex(endingAfter: t)
        return i < sessions.count ? sessions[i].upperBound : nil
    }

    /// The exchange's calendar date at `t` as `YYYYMMDD`: "today" for choosing option expiries,
    /// which roll over at the exchange's midnight, not the worker's.
    /// (UTC when the contract named no known zone.)
    public func date(atMs t: Int64) -> String {
        Self.date(atMs: t, timeZone: timeZone)
    }

    public static func date(atMs t: Int64, timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(t) / 1000))
        let value = (c.year ?? 1970) * 10000 + (c.month ?? 1) * 100 + (c.day ?? 1)
        return String(value)
    }

    func sessionIndex(containing t: Int64) -> Int? {
        let i = firstIndex(endingAfter: t)
        return i < sessions.count && sessions[i].contains(t) ? i : nil
    }

    /// Binary search: the first session whose end is after `t`.
    func firstIndex(endingAfter t: Int64) -> Int {
        var lo = 0
        var hi = sessions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sessions[mid].upperBound <= t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
