import MarketModel

/// The options of one underlying worth subscribing: the nearest expiries and the strikes
/// around the money, kept centred as the underlying moves.
///
/// Re-centring costs cancels, qualifications and new subscriptions (paced at IB's ~50
/// messages/s), so a price wobbling around the midpoint between two strikes must not move
/// the window back and forth. The window therefore moves only when the nearest strike has
/// changed AND the price has gone `hysteresis` of a strike gap beyond the midpoint; coming
/// back needs the same margin on the other side, which leaves a dead band of
/// `2 * hysteresis` gaps around every midpoint.
public struct OptionWindow: Sendable, Hashable {
    /// How many expiries, nearest first, that have not expired (expiring today still counts).
    public var expirationsCount: Int
    /// Strikes on each side of the ATM strike; the window holds up to `2n + 1` strikes.
    public var strikesAroundATM: Int
    /// Fraction of the strike gap the price must pass beyond the midpoint, in [0, 0.5).
    public var hysteresis: Double
    /// The chain's expiries (`YYYYMMDD`), ascending, unique.
    public private(set) var chainExpirations: [String]
    /// The chain's strikes, ascending, unique.
    public private(set) var chainStrikes: [Double]
    /// The strike the window is centred on; nil until the first price.
    public private(set) var centreStrike: Double?
    /// The day the expiries were chosen for.
    public private(set) var today: String?
    /// The current window in priority order.
    public private(set) var selected: [RankedOption] = []
    /// Calendar days to expiry an expiration must be within (0...0 is 0DTE); nil: any.
    public var daysToExpiry: ClosedRange<Int>?
    /// The trading class and key root stamped on every key (see `OptionKey`).
    public var tradingClass: String
    public var root: String

    public init(
        expirations: [String], strikes: [Double], expirationsCount: Int = 2, strikesAroundATM: Int = 5,
        hysteresis: Double = 0.25, daysToExpiry: ClosedRange<Int>? = nil, tradingClass: String = "", root: String = ""
    ) {
        self.daysToExpiry = daysToExpiry
        self.tradingClass = tradingClass
        self.root = root
        self.expirationsCount = max(0, expirationsCount)
        self.strikesAroundATM = max(0, strikesAroundATM)
        self.hysteresis = min(max(hysteresis, 0), 0.49)
        self.chainExpirations = Array(Set(expirations)).sorted()
        self.chainStrikes = Array(Set(strikes.filter { $0.isFinite && $0 > 0 })).sorted()
    }

    /// The current window's contracts.
    public var keys: Set<OptionKey> { Set(selected.map(\.key)) }

    /// Moves the window for a new underlying price and/or a new day.
    /// - Parameters:
    ///   - underlyingPrice: last (or mid) price of the underlying; ignored when not positive.
    ///   - today: the exchange's date as `YYYYMMDD`; expiries before it are dropped.
    public mutating func update(underlyingPrice: Double, today: String) -> OptionWindowChange {
        guard underlyingPrice.isFinite, underlyingPrice > 0 else {
            return OptionWindowChange(reason: "no usable underlying price")
        }
        guard let nearest = Self.nearestStrikeIndex(chainStrikes, to: underlyingPrice) else {
            return apply(centre: nil, today: today, reason: "the chain lists no strikes")
        }
        var reason: String
        let centre: Double
        if let current = centreStrike, let ci = chainStrikes.firstIndex(of: current) {
            if nearest != ci && shouldMove(from: ci, to: nearest, price: underlyingPrice) {
                centre = chainStrikes[nearest]
                reason = "re-centred from \(fmt(current)) to \(fmt(centre)) at price \(fmt(underlyingPrice))"
            } else {
                centre = current
                reason = "centred on \(fmt(current))"
            }
        } else {
            centre = chainStrikes[nearest]
            reason = centreStrike == nil
                ? "centred on \(fmt(centre)) at price \(fmt(underlyingPrice))"
                : "previous centre left the chain; centred on \(fmt(centre))"
        }
        if let previous = self.today, previous != today { reason += "; day changed to \(today)" }
        return apply(centre: centre, today: today, reason: reason)
    }

    /// Replaces the chain (a new reqSecDefOptParams answer) and keeps the current centre when
    /// it is still listed.
    public mutating func updateChain(expirations: [String], strikes: [Double], underlyingPrice: Double, today: String)
        -> OptionWindowChange
    {
        chainExpirations = Array(Set(expirations)).sorted()
        chainStrikes = Array(Set(strikes.filter { $0.isFinite && $0 > 0 })).sorted()
        return update(underlyingPrice: underlyingPrice, today: today)
    }

    /// Hysteresis test between the current centre index and the nearest strike index.
    func shouldMove(from ci: Int, to ni: Int, price: Double) -> Bool {
        let step = ni > ci ? 1 : -1
        let centre = chainStrikes[ci]
        let neighbour = chainStrikes[ci + step]
        let gap = abs(neighbour - centre)
        let threshold = (centre + neighbour) / 2 + Double(step) * hysteresis * gap
        return step > 0 ? price > threshold : price < threshold
    }

    mutating func apply(centre: Double?, today: String, reason: String) -> OptionWindowChange {
        centreStrike = centre
        self.today = today
        let desired: [RankedOption]
        if let centre, let ci = chainStrikes.firstIndex(of: centre) {
            desired = Self.select(
                expirations: chainExpirations, strikes: chainStrikes, centreIndex: ci, today: today,
                expirationsCount: expirationsCount, strikesAroundATM: strikesAroundATM, daysToExpiry: daysToExpiry,
                tradingClass: tradingClass, root: root)
        } else {
            desired = []
        }
        let old = keys
        let new = Set(desired.map(\.key))
        let change = OptionWindowChange(
            added: desired.filter { !old.contains($0.key) },
            removed: old.subtracting(new).sorted(),
            reason: reason)
        selected = desired
        return change
    }

    /// The window around strike index `centreIndex`, in priority order. Pure.
    public static func select(
        expirations: [String], strikes: [Double], centreIndex: Int, today: String, expirationsCount: Int,
        strikesAroundATM: Int, daysToExpiry: ClosedRange<Int>? = nil, tradingClass: String = "", root: String = ""
    ) -> [RankedOption] {
        guard strikes.indices.contains(centreIndex) else { return [] }
        let expiries = Array(expirations.filter { expiry in
            guard expiry >= today else { return false }
            guard let range = daysToExpiry else { return true }
            guard let days = Self.daysBetween(today, expiry) else { return false }
            return range.contains(days)
        }.prefix(expirationsCount))
        let lo = max(0, centreIndex - strikesAroundATM)
        let hi = min(strikes.count - 1, centreIndex + strikesAroundATM)
        var out: [RankedOption] = []
        out.reserveCapacity(expiries.count * (hi - lo + 1) * 2)
        for (rank, expiry) in expiries.enumerated() {
            for i in lo...hi {
                for right in [OptionRight.call, .put] {
                    out.append(RankedOption(
                        key: OptionKey(expiry: expiry, strike: strikes[i], right: right, tradingClass: tradingClass, root: root),
                        expiryRank: rank, strikeRank: abs(i - centreIndex)))
                }
            }
        }
        return out.sorted(by: RankedOption.priorityOrder)
    }

    /// Calendar days from `from` to `to` (both `YYYYMMDD`); nil for malformed dates.
    public static func daysBetween(_ from: String, _ to: String) -> Int? {
        guard let a = dayNumber(from), let b = dayNumber(to) else { return nil }
        return b - a
    }

    /// Days since 1970-01-01 of a `YYYYMMDD` date (the civil-from-days algorithm, proleptic
    /// Gregorian), nil when it is not a date.
    static func dayNumber(_ text: String) -> Int? {
        let digits = text.prefix(8)
        guard digits.count == 8, let value = Int(digits) else { return nil }
        var y = value / 10_000
        let m = (value / 100) % 100
        let d = value % 100
        guard (1...12).contains(m), (1...31).contains(d) else { return nil }
        y -= m <= 2 ? 1 : 0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The index of the strike nearest `price` in ascending `strikes`; on an exact tie the
    /// lower strike, so the choice is deterministic.
    public static func nearestStrikeIndex(_ strikes: [Double], to price: Double) -> Int? {
        guard !strikes.isEmpty else { return nil }
        var lo = 0
        var hi = strikes.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if strikes[mid] < price { lo = mid + 1 } else { hi = mid }
        }
        if lo == 0 { return 0 }
        if lo == strikes.count { return strikes.count - 1 }
        return price - strikes[lo - 1] <= strikes[lo] - price ? lo - 1 : lo
    }
}

private func fmt(_ v: Double) -> String { DecimalFormat.string(v) ?? "\(v)" }
