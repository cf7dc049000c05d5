import TWSProtocol

extension InstrumentCatalog {
    /// Every listed instrument that a (possibly partial) contract description matches, the
    /// way IB resolves reqContractDetails: an option request without strike or right lists
    /// the whole expiry, an expiry of `YYYYMM` the whole month. Ordered by expiry, strike,
    /// right so answers are reproducible.
    func match(_ contract: Contract) -> [Instrument] {
        let secType = contract.secType.uppercased()
        let currency = contract.currency.uppercased()
        guard currency.isEmpty || currency == "USD" else { return [] }
        if contract.conId != 0 {
            guard let instrument = byConId[contract.conId] else { return [] }
            if !secType.isEmpty && secType != instrument.secType { return [] }
            return [instrument]
        }
        let symbol = contract.symbol.uppercased()
        switch secType {
        case "STK":
            guard let stock = stocks[symbol] else { return [] }
            return [.stock(stock)]
        case "OPT":
            return matchOptions(contract, symbol: symbol.isEmpty ? contract.tradingClass.uppercased() : symbol)
        default:
            return []
        }
    }

    private func matchOptions(_ contract: Contract, symbol: String) -> [Instrument] {
        guard let chain = chains[symbol] else { return [] }
        let multiplier = contract.multiplier.trimmingCharacters(in: .whitespaces)
        guard multiplier.isEmpty || Double(multiplier) == 100 else { return [] }
        let expiryText = String(contract.lastTradeDateOrContractMonth.prefix { $0 != " " && $0 != "-" })
        let rights: [BlackScholes.Right]
        switch contract.right.uppercased() {
        case "": rights = [.call, .put]
        case "C", "CALL": rights = [.call]
        case "P", "PUT": rights = [.put]
        default: return []
        }
        let strike = contract.strike.flatMap { $0 == 0 ? nil : $0 }
        let localSymbol = contract.localSymbol.uppercased()
        if !expiryText.isEmpty && expiryText.count != 6 && expiryText.count != 8 { return [] }
        var result: [Instrument] = []
        for expiry in chain.expirations {
            if expiryText.count == 8 && expiry.yyyymmdd != expiryText { continue }
            if expiryText.count == 6 && !expiry.yyyymmdd.hasPrefix(expiryText) { continue }
            for listed in chain.strikesByExpiry[expiry] ?? [] {
                if let strike, abs(strike - listed) > 1e-6 { continue }
                for right in rights {
                    guard let option = option(symbol: symbol, expiry: expiry, strike: listed, right: right) else { continue }
                    if !localSymbol.isEmpty && option.localSymbol != localSymbol { continue }
                    result.append(.option(option))
                }
            }
        }
        return result
    }

    // MARK: Contract details

    /// CONTRACT_DATA for an instrument, as a US-listed IB contract looks.
    func details(for instrument: Instrument, requestedExchange: String, calendar: TradingCalendar) -> ContractDetails {
        let exchange = requestedExchange.isEmpty ? "SMART" : requestedExchange.uppercased()
        switch instrument {
        case .stock(let s):
            let contract = Contract(
                conId: s.conId, symbol: s.symbol, secType: "STK", exchange: exchange, primaryExchange: s.primaryExchange,
                currency: "USD", localSymbol: s.symbol, tradingClass: s.stockType == "ETF" ? s.primaryExchange : "NMS")
            return ContractDetails(
                contract: contract, marketName: contract.tradingClass, minTick: 0.01,
                orderTypes: "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,COND,CONDORDER,DAY,DEACT,DEACTDIS,DIS,GAT,GTC,GTD,GTT,HID,IOC,LIT,LMT,MIT,MKT,MOC,MTL,NGCOMB,NONALGO,OCA,OPG,PEGBENCH,POSTONLY,PREOPGRD,REL,RPI,RTH,SCALE,SNAPMID,STP,STPLMT,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF",
                validExchanges: "SMART,AMEX,NYSE,CBOE,PHLX,ISE,CHX,ARCA,NASDAQ,DRCTEDGE,BEX,BATS,EDGEA,BYX,IEX,LTSE,MEMX,PEARL",
                priceMagnifier: 1, underConId: 0, longName: s.longName, industry: s.industry, category: s.category,
                subcategory: s.category, timeZoneId: "US/Eastern",
                tradingHours: calendar.hours(secType: "STK", liquid: false, from: today),
                liquidHours: calendar.hours(secType: "STK", liquid: true, from: today),
                secIdList: [], aggGroup: 1, marketRuleIds: "26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26",
                stockType: s.stockType, minSize: 0.0001, sizeIncrement: 0.0001, suggestedSizeIncrement: 100)
        case .option(let o):
            let stock = stocks[o.symbol]
            let contract = Contract(
                conId: o.conId, symbol: o.symbol, secType: "OPT", lastTradeDateOrContractMonth: o.expiry.yyyymmdd,
                strike: o.strike, right: o.rightCode, multiplier: "100", exchange: exchange, primaryExchange: "",
                currency: "USD", localSymbol: o.localSymbol, tradingClass: o.symbol)
            let c = o.expiry.components
            return ContractDetails(
                contract: contract, marketName: o.symbol, minTick: 0.01,
                orderTypes: "ACTIVETIM,AD,ADJUST,ALERT,ALLOC,AVGCOST,BASKET,COND,CONDORDER,DAY,DEACT,DEACTDIS,DIS,GAT,GTC,GTD,GTT,HID,IOC,LIT,LMT,MIT,MKT,MTL,NGCOMB,NONALGO,OCA,OPENCLOSE,PEGBENCH,REL,RELPCTOFS,SCALE,SCALERST,SNAPMID,STP,STPLMT,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,VOLAT,WHATIF",
                validExchanges: "SMART,AMEX,CBOE,PHLX,PSE,ISE,BOX,BATS,NASDAQOM,CBOE2,NASDAQBX,MIAX,GEMINI,EDGX,MERCURY,PEARL,EMERALD,MEMX",
                priceMagnifier: 1, underConId: o.underConId, longName: stock?.longName ?? o.symbol,
                contractMonth: String(format: "%04d%02d", c.year, c.month), industry: stock?.industry ?? "",
                category: stock?.category ?? "", subcategory: stock?.category ?? "", timeZoneId: "US/Eastern",
                tradingHours: calendar.hours(secType: "OPT", liquid: false, from: today),
                liquidHours: calendar.hours(secType: "OPT", liquid: true, from: today), evMultiplier: nil,
                secIdList: [], aggGroup: 2, underSymbol: o.symbol, underSecType: "STK",
                marketRuleIds: "32,110,110,32,32,32,32,32,32,32,32,32,32,32,32,32,32,32",
                realExpirationDate: o.expiry.yyyymmdd, minSize: 1, sizeIncrement: 1, suggestedSizeIncrement: 1)
        }
    }
}

import Foundation
