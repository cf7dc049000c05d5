import MarketModel

extension AlphaVantageDecoder {
    /// REALTIME_OPTIONS (require_greeks=true) -> one snapshot per contract.
    ///
    /// Units match what IB sends and the Redis layout documents: `implied_volatility` is a
    /// fraction (0.2165), `theta` per calendar day, `vega` per volatility point. `mark` and
    /// `rho` have no field in the option hash and are dropped; `contractID` is an OCC-style
    /// id, not IB's con_id. Rows without a valid expiration, strike or type are skipped; if
    /// every row is invalid the answer is malformed.
    public static func options(_ object: [String: Any], symbol: String, dataType: DataType) throws(AlphaVantageError) -> [OptionSnapshot] {
        if let error = classify(object) { throw error }
        guard let rows = object["data"] as? [Any] else { throw .malformed("no \"data\" array") }
        if rows.isEmpty { throw .emptyResult }
        let underlying = normalizedSymbol(symbol)
        var out: [OptionSnapshot] = []
        out.reserveCapacity(rows.count)
        for case let row as [String: Any] in rows {
            guard let expiry = (row["expiration"] as? String).flatMap(compactDate),
                  let strike = number(row["strike"]), strike > 0,
                  let right = (row["type"] as? String).flatMap(OptionRight.init(text:))
            else { continue }
            var o = OptionSnapshot(symbol: underlying, expiry: expiry, strike: strike, right: right)
            o.bid = number(row["bid"])
            o.bidSize = number(row["bid_size"])
            o.ask = number(row["ask"])
            o.askSize = number(row["ask_size"])
            o.last = number(row["last"])
            o.volume = number(row["volume"])
            o.openInterest = number(row["open_interest"])
            o.impliedVol = number(row["implied_volatility"])
            o.delta = number(row["delta"])
            o.gamma = number(row["gamma"])
            o.theta = number(row["theta"])
            o.vega = number(row["vega"])
            o.dataType = dataType
            out.append(o)
        }
        if out.isEmpty { throw .malformed("no option row with expiration, strike and type among \(rows.count)") }
        return out
    }

    /// `"2024-06-14"` -> `"20240614"`, rejecting impossible dates (the premium sample uses
    /// `"2099-99-99"`).
    static func compactDate(_ text: String) -> String? {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1900...2999).contains(year), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        return String(parts[0]) + String(parts[1]) + String(parts[2])
    }
}
