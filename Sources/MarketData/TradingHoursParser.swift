import Foundation

/// Reads IB's hours text into epoch-millisecond intervals in one zone. Kept apart from
/// `TradingHours` so the value type stays a plain answer to "open at t?".
struct TradingHoursParser {
    let calendar: Calendar
    private(set) var sessions: [Range<Int64>] = []
    private(set) var problems: [String] = []
    private var firstDayStart: Int64?
    private var lastDayEnd: Int64?

    init(timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// Everything from the first listed day's midnight to the last listed day's end (or the
    /// last session's end, when a session runs past it).
    var coverage: Range<Int64>? {
        guard let first = firstDayStart, let last = lastDayEnd, first < last else { return nil }
        let end = max(last, sessions.map(\.upperBound).max() ?? last)
        return first..<end
    }

    mutating func parse(_ text: String) {
        for raw in text.split(separator: ";") {
            let segment = raw.trimmingCharacters(in: .whitespaces)
            if segment.isEmpty { continue }
            if !parseSegment(Substring(segment)) {
                problems.append("unreadable trading hours segment '\(segment)'")
            }
        }
    }

    /// `YYYYMMDD:CLOSED`, `YYYYMMDD:HHMM-YYYYMMDD:HHMM` or `YYYYMMDD:HHMM-HHMM[,HHMM-HHMM...]`.
    mutating func parseSegment(_ segment: Substring) -> Bool {
        guard let colon = segment.firstIndex(of: ":"),
            let day = Self.day(segment[..<colon]),
            let dayStart = epochMs(day, minutes: 0),
            let dayEnd = epochMs(day, minutes: 24 * 60)
        else { return false }
        firstDayStart = min(firstDayStart ?? dayStart, dayStart)
        lastDayEnd = max(lastDayEnd ?? dayEnd, dayEnd)
        let rest = segment[segment.index(after: colon)...]
        if rest.uppercased() == "CLOSED" { return true }
        var ok = true
        for range in rest.split(separator: ",") {
            if let interval = parseRange(range, day: day) {
                if !interval.isEmpty { sessions.append(interval) }
            } else {
                ok = false
            }
        }
        return ok
    }

    /// `HHMM-YYYYMMDD:HHMM` or `HHMM-HHMM` on `day`.
    func parseRange(_ range: Substring, day: Day) -> Range<Int64>? {
        let parts = range.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, let startMinutes = Self.minutes(parts[0]),
            let start = epochMs(day, minutes: startMinutes)
        else { return nil }
        let endText = parts[1]
        let end: Int64
        if let colon = endText.firstIndex(of: ":") {
            guard let endDay = Self.day(endText[..<colon]),
                let endMinutes = Self.minutes(endText[endText.index(after: colon)...]),
                let e = epochMs(endDay, minutes: endMinutes)
            else { return nil }
            end = e
        } else {
            guard let endMinutes = Self.minutes(endText) else { return nil }
            // Old format: an end at or before the start is on the following day.
            let onDay = endMinutes > startMinutes ? day : day.next(calendar)
            guard let onDay, let e = epochMs(onDay, minutes: endMinutes) else { return nil }
            end = e
        }
        return end > start ? start..<end : nil
    }

    func mergedSessions() -> [Range<Int64>] {
        var merged: [Range<Int64>] = []
        for s in sessions.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, s.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, s.upperBound)
            } else {
                merged.append(s)
            }
        }
        return merged
    }

    struct Day: Hashable {
        var year: Int, month: Int, day: Int

        func next(_ calendar: Calendar) -> Day? {
            guard let date = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: 12)),
                let next = calendar.date(byAdding: .day, value: 1, to: date)
            else { return nil }
            let c = calendar.dateComponents([.year, .month, .day], from: next)
            guard let y = c.year, let m = c.month, let d = c.day else { return nil }
            return Day(year: y, month: m, day: d)
        }
    }

    /// Wall-clock `minutes` after midnight of `day` (up to 24:00) as epoch milliseconds.
    func epochMs(_ day: Day, minutes: Int) -> Int64? {
        if minutes == 24 * 60 {
            guard let next = day.next(calendar) else { return nil }
            return epochMs(next, minutes: 0)
        }
        let components = DateComponents(
            year: day.year, month: day.month, day: day.day, hour: minutes / 60, minute: minutes % 60)
        guard let date = calendar.date(from: components) else { return nil }
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    static func day(_ text: Substring) -> Day? {
        let digits = text.trimmingCharacters(in: .whitespaces)
        guard digits.count == 8, digits.allSatisfy(\.isASCII), let value = Int(digits) else { return nil }
        let day = Day(year: value / 10000, month: value / 100 % 100, day: value % 100)
        guard (1...12).contains(day.month), (1...31).contains(day.day) else { return nil }
        return day
    }

    /// `HHMM` to minutes after midnight; `2400` is accepted as the end of the day.
    static func minutes(_ text: Substring) -> Int? {
        let digits = text.trimmingCharacters(in: .whitespaces)
        guard digits.count == 4, digits.allSatisfy(\.isASCII), let value = Int(digits) else { return nil }
        let hours = value / 100
        let minutes = value % 100
        guard minutes < 60, hours < 24 || (hours == 24 && minutes == 0) else { return nil }
        return hours * 60 + minutes
    }
}
