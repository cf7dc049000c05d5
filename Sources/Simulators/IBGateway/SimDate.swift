import Foundation

/// A civil date (no time, no zone) with the day arithmetic the catalog needs: expirations
/// on Fridays, trading-hours strings for the coming week, days to expiry.
///
/// Integer day numbers (days since 1970-01-01) keep this exact and independent of the host's
/// calendar settings, which matters because option chains must be reproducible from a seed.
public struct SimDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public let dayNumber: Int

    public init(dayNumber: Int) { self.dayNumber = dayNumber }

    public init(year: Int, month: Int, day: Int) {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        dayNumber = era * 146_097 + doe - 719_468
    }

    /// Parses `YYYYMMDD`; nil for anything else.
    public init?(yyyymmdd text: String) {
        guard text.count == 8, let value = Int(text) else { return nil }
        let (y, m, d) = (value / 10_000, value / 100 % 100, value % 100)
        guard (1...12).contains(m), (1...31).contains(d) else { return nil }
        self.init(year: y, month: m, day: d)
        guard components.month == m, components.day == d else { return nil }
    }

    public var components: (year: Int, month: Int, day: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// 0 = Sunday ... 6 = Saturday (1970-01-01 was a Thursday).
    public var weekday: Int { ((dayNumber % 7) + 7 + 4) % 7 }

    public var isWeekend: Bool { weekday == 0 || weekday == 6 }

    public func adding(days: Int) -> SimDate { SimDate(dayNumber: dayNumber + days) }

    public var yyyymmdd: String {
        let c = components
        return String(format: "%04d%02d%02d", c.year, c.month, c.day)
    }

    public var description: String { yyyymmdd }

    public static func < (a: SimDate, b: SimDate) -> Bool { a.dayNumber < b.dayNumber }
}

/// US/Eastern wall time, which is what IB's trading hours, expirations and the connection
/// time are expressed in.
enum Eastern {
    static let zone = TimeZone(identifier: "America/New_York") ?? TimeZone(secondsFromGMT: -5 * 3600)!

    /// The Eastern date and minute of day for a Unix time in milliseconds.
    static func local(epochMs: Int64) -> (date: SimDate, minuteOfDay: Int, second: Int, daylight: Bool) {
        let seconds = epochMs / 1000
        let instant = Date(timeIntervalSince1970: TimeInterval(seconds))
        let offset = Int64(zone.secondsFromGMT(for: instant))
        let local = seconds + offset
        let day = Int(local >= 0 ? local / 86_400 : (local - 86_399) / 86_400)
        let secondOfDay = Int(local - Int64(day) * 86_400)
        return (SimDate(dayNumber: day), secondOfDay / 60, secondOfDay % 60, zone.isDaylightSavingTime(for: instant))
    }

    /// `yyyymmdd hh:mm:ss EST`, the connection time in the server hello.
    static func connectionTime(epochMs: Int64) -> String {
        let t = local(epochMs: epochMs)
        let clock = String(format: "%02d:%02d:%02d", t.minuteOfDay / 60, t.minuteOfDay % 60, t.second)
        return "\(t.date.yyyymmdd) \(clock) \(t.daylight ? "EDT" : "EST")"
    }
}
