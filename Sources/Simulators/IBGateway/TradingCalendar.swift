/// When the simulated markets are open, and how contract details describe it.
///
/// The worker decides staleness only inside trading hours, so the simulator must both
/// publish hours in IB's exact format and honour them (no ticks while closed) in the
/// realistic mode. Tests use the always-open mode so that ticks flow at any wall time.
public enum TradingHoursMode: String, Sendable, CaseIterable {
    /// Every day 00:00-24:00 Eastern, weekends included; ticks always flow.
    case alwaysOpen = "always-open"
    /// US equities: stocks trade 04:00-20:00 (liquid 09:30-16:00), options 09:30-16:00,
    /// Monday to Friday, Eastern time. Exchange holidays are not modelled.
    case usEquities = "us"
}

struct TradingCalendar: Sendable {
    var mode: TradingHoursMode
    /// How many days, from "today", the hours strings cover (IB sends about a week).
    var days = 7

    /// A session as minutes of the Eastern day.
    private func session(secType: String, liquid: Bool) -> ClosedRange<Int>? {
        switch mode {
        case .alwaysOpen: return nil
        case .usEquities:
            if secType == "OPT" || liquid { return (9 * 60 + 30)...(16 * 60) }
            return (4 * 60)...(20 * 60)
        }
    }

    /// IB's `tradingHours` / `liquidHours` format, e.g.
    /// `20260601:0400-20260601:2000;20260606:CLOSED`.
    func hours(secType: String, liquid: Bool, from today: SimDate) -> String {
        var parts: [String] = []
        for offset in 0..<days {
            let day = today.adding(days: offset)
            let d = day.yyyymmdd
            switch mode {
            case .alwaysOpen:
                parts.append("\(d):0000-\(day.adding(days: 1).yyyymmdd):0000")
            case .usEquities:
                if day.isWeekend {
                    parts.append("\(d):CLOSED")
                } else if let s = session(secType: secType, liquid: liquid) {
                    parts.append("\(d):\(hhmm(s.lowerBound))-\(d):\(hhmm(s.upperBound))")
                }
            }
        }
        return parts.joined(separator: ";")
    }

    /// Whether an instrument of this type trades at the given Unix time.
    func isOpen(secType: String, epochMs: Int64) -> Bool {
        guard let s = session(secType: secType, liquid: false) else { return true }
        let t = Eastern.local(epochMs: epochMs)
        return !t.date.isWeekend && t.minuteOfDay >= s.lowerBound && t.minuteOfDay < s.upperBound
    }

    private func hhmm(_ minutes: Int) -> String {
        let h = minutes / 60, m = minutes % 60
        return (h < 10 ? "0" : "") + String(h) + (m < 10 ? "0" : "") + String(m)
    }
}
