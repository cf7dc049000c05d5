import Foundation

extension TradingHours {
    /// IB's `timeZoneId` values are a mix of tz database names, legacy aliases (`US/Eastern`,
    /// `Japan`, `GB-Eire`) and abbreviations (`EST`, `MET`, `JST`) that Java accepts but that
    /// Foundation on Linux may not, or reads as fixed offsets without daylight saving. Exchanges
    /// follow their region's civil time, so each alias maps to the zone with the right rules.
    static let ibZoneAliases: [String: String] = [
        "US/Eastern": "America/New_York", "EST": "America/New_York", "EST5EDT": "America/New_York",
        "EDT": "America/New_York", "America/New_York": "America/New_York",
        "US/Central": "America/Chicago", "CST": "America/Chicago", "CST6CDT": "America/Chicago",
        "CDT": "America/Chicago",
        "US/Mountain": "America/Denver", "MST7MDT": "America/Denver", "MST": "America/Phoenix",
        "US/Pacific": "America/Los_Angeles", "PST": "America/Los_Angeles", "PST8PDT": "America/Los_Angeles",
        "Canada/Eastern": "America/Toronto", "Canada/Central": "America/Winnipeg",
        "Canada/Pacific": "America/Vancouver",
        "MET": "Europe/Berlin", "CET": "Europe/Berlin", "ECT": "Europe/Paris", "MEZ": "Europe/Berlin",
        "GB-Eire": "Europe/London", "GB": "Europe/London", "GMT": "Europe/London", "BST": "Europe/London",
        "WET": "Europe/Lisbon", "EET": "Europe/Helsinki",
        "Europe/Moscow": "Europe/Moscow", "MSK": "Europe/Moscow",
        "Japan": "Asia/Tokyo", "JST": "Asia/Tokyo",
        "Hongkong": "Asia/Hong_Kong", "HKT": "Asia/Hong_Kong",
        "PRC": "Asia/Shanghai", "CTT": "Asia/Shanghai",
        "Singapore": "Asia/Singapore", "SGT": "Asia/Singapore",
        "ROK": "Asia/Seoul", "KST": "Asia/Seoul",
        "IST": "Asia/Kolkata", "Asia/Calcutta": "Asia/Kolkata",
        "Israel": "Asia/Jerusalem",
        "Australia/NSW": "Australia/Sydney", "AET": "Australia/Sydney", "Australia/ACT": "Australia/Sydney",
        "Australia/Victoria": "Australia/Melbourne",
        "NZ": "Pacific/Auckland",
        "Brazil/East": "America/Sao_Paulo", "BET": "America/Sao_Paulo",
        "Mexico/General": "America/Mexico_City",
        "UTC": "UTC", "Etc/UTC": "UTC", "Universal": "UTC", "Zulu": "UTC",
    ]

    /// The Foundation zone for an IB `timeZoneId`, or nil when it names nothing known.
    public static func timeZone(ibName: String) -> TimeZone? {
        let name = ibName.trimmingCharacters(in: .whitespaces)
        if name.isEmpty { return nil }
        if let alias = ibZoneAliases[name], let zone = TimeZone(identifier: alias) { return zone }
        // Abbreviations are ambiguous ("IST", "CST"): only the alias table decides those, and a
        // full tz name is trusted as is.
        if name.contains("/"), let zone = TimeZone(identifier: name) { return zone }
        return nil
    }
}
