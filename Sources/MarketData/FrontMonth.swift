/// The front-month rule for `front_month` futures (README "Key grammar"): of the contract
/// months IB lists (reqContractDetails for the symbol without a month lists them all), the
/// one with the nearest last trading day that is still more than `rollDaysBeforeExpiry`
/// calendar days away. On the roll date the next month becomes the front month, so a
/// `SYM.FRONT` key never holds a contract in its last days, when liquidity has moved on.
public enum FrontMonth {
    /// The chosen contract and the exchange date it rolls away from.
    public struct Choice: Sendable, Hashable {
        /// Index into the `lastTradeDates` given.
        public var index: Int
        /// `YYYYMMDD`: from this day on the next month is the front month.
        public var rollDate: String
    }

    /// - Parameters:
    ///   - lastTradeDates: each listed contract's last trading day, `YYYYMMDD` (IB's
    ///     `lastTradeDateOrContractMonth` in CONTRACT_DATA, time part removed); unparsable
    ///     dates are skipped.
    ///   - today: the exchange's date, `YYYYMMDD`.
    /// - Returns: nil when no listed month is before its roll date.
    public static func choose(lastTradeDates: [String], today: String, rollDaysBeforeExpiry: Int) -> Choice? {
        var best: (index: Int, date: String, roll: String)?
        for (index, raw) in lastTradeDates.enumerated() {
            let date = String(raw.prefix(8))
            guard let last = OptionWindow.dayNumber(date), let now = OptionWindow.dayNumber(today) else { continue }
            let rollDay = last - max(0, rollDaysBeforeExpiry)
            guard now < rollDay else { continue }
            if best == nil || date < best!.date {
                best = (index, date, Self.yyyymmdd(dayNumber: rollDay))
            }
        }
        return best.map { Choice(index: $0.index, rollDate: $0.roll) }
    }

    /// Whether the front month chosen with `rollDate` must roll on the exchange date `today`
    /// (both `YYYYMMDD`): from the roll date on, it is no longer the front month. Pure; the
    /// worker asks it on every re-centre pass with its (injected) clock's exchange date.
    public static func rollIsDue(rollDate: String, today: String) -> Bool {
        guard let roll = OptionWindow.dayNumber(String(rollDate.prefix(8))), let now = OptionWindow.dayNumber(String(today.prefix(8))) else {
            return false
        }
        return now >= roll
    }

    /// Days since 1970-01-01 back to `YYYYMMDD` (days-from-civil inverse).
    static func yyyymmdd(dayNumber: Int) -> String {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        let text = String(y * 10_000 + m * 100 + d)
        return String(repeating: "0", count: max(0, 8 - text.count)) + text
    }
}
