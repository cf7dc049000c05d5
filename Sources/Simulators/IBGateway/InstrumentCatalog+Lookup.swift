import TWSProtocol

extension InstrumentCatalog {
    /// Every listed instrument that a (possibly partial) contract description matches, the
    /// way IB resolves reqContractDetails: an option request without strike or right lists
    /// the whole expiry, an expiry of `YYYYMM` the whole month. Ordered by expiry, strike,
    /// right so answers are reproducible.
    func match(_ contract: Contract) -> [Instrument] {
        let secType = contract.secType.uppercased()
        let currency = contract.currency.uppercased()
        if contract.conId != 0 {
            guard let instrument = byConId[contract.conId] else { return [] }
            if !secType.isEmpty && secType != instrument.secType { return [] }
            return [instrument]
        }
        let symbol = contract.symbol.uppercased()
        let exchange = contract.exchange.uppercased()
        let multiplier = contract.multiplier.trimmingCharacters(in: .whitespaces)
        switch secType {
        case "STK":
            guard currency.isEmpty || currency == "USD", let stock = stocks[symbol] else { return [] }
            return [.stock(stock)]
        case "IND":
            // An index is published by one exchange; SMART does not route indexes (200).
            guard currency.isEmpty || currency == "USD", let index = indices[symbol],
                exchange.isEmpty || exchange == index.exchange
            else { return [] }
            return [.stock(index)]
        case "FUT":
            // Without a month IB lists every month (that is how a front month is found).
            guard currency.isEmpty || currency == "USD", exchange.isEmpty || exchange == "CME",
                multiplier.isEmpty || Double(multiplier) == (futures[symbol]?.first.flatMap { Double($0.multiplier) })
            else { return [] }
            let month = String(contract.lastTradeDateOrContractMonth.prefix { $0 != " " && $0 != "-" })
            let localSymbol = contract.localSymbol.uppercased()
            return (futures[symbol] ?? []).filter { future in
                if !localSymbol.isEmpty && future.localSymbol != localSymbol { return false }
                switch month.count {
                case 0: return true
                case 6: return future.contractMonth == month
                case 8: return future.lastTradeDate?.yyyymmdd == month
                default: return false
                }
            }.map { .stock($0) }
        case "CASH":
            guard exchange.isEmpty || exchange == "IDEALPRO", let pair = fxPairs["\(symbol).\(currency)"] else { return [] }
            return [.stock(pair)]
        case "OPT", "FOP":
            guard currency.isEmpty || currency == "USD" else { return [] }
            return matchOptions(contract, secType: secType, symbol: symbol)
        default:
            return []
        }
    }

    /// Options of every class of `symbol` (or of the trading class asked for), narrowed by the
    /// fields given: expiry (`YYYYMMDD`, or `YYYYMM` for the month), strike, right, multiplier,
    /// localSymbol.
    private func matchOptions(_ contract: Contract, secType: String, symbol: String) -> [Instrument] {
        let tradingClass = contract.tradingClass.uppercased()
        let underlyings: [Int64]
        if !symbol.isEmpty {
            let ids = (stocks[symbol].map { [$0.conId] } ?? []) + (indices[symbol].map { [$0.conId] } ?? [])
                + (futures[symbol] ?? []).map(\.conId)
            underlyings = ids
        } else {
            underlyings = classChains.filter { $0.value.contains { $0.tradingClass == tradingClass } }.map(\.key)
        }
        let multiplier = contract.multiplier.trimmingCharacters(in: .whitespaces)
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
        for underConId in underlyings.sorted() {
            for chain in classChains[underConId] ?? [] where chain.secType == secType {
                if !tradingClass.isEmpty && chain.tradingClass != tradingClass { continue }
                if !multiplier.isEmpty && Double(multiplier) != Double(chain.multiplier) { continue }
                for expiry in chain.expirations {
                    if expiryText.count == 8 && expiry.yyyymmdd != expiryText { continue }
                    if expiryText.count == 6 && !expiry.yyyymmdd.hasPrefix(expiryText) { continue }
                    for listed in chain.strikesByExpiry[expiry] ?? [] {
                        if let strike, abs(strike - listed) > 1e-6 { continue }
                        for right in rights {
                            var key = OptionListing(
                                conId: 0, symbol: chain.symbol, underConId: underConId, expiry: expiry, strike: listed, right: right,
                                tradingClass: chain.tradingClass, multiplier: chain.multiplier, secType: chain.secType,
                                futureLocalSymbol: chain.futureLocalSymbol)
                            key.conId = 0
                            guard let option = option(localSymbol: key.localSymbol) else { continue }
                            if !localSymbol.isEmpty && option.localSymbol != localSymbol { continue }
                            result.append(.option(option))
                        }
                    }
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
        case .stock(let s) where s.secType != "STK":
            return derivativeDetails(s, calendar: calendar)
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
            let stock = underlying(of: o)
            let fop = o.secType == "FOP"
            let contract = Contract(
                conId: o.conId, symbol: o.symbol, secType: o.secType, lastTradeDateOrContractMonth: o.expiry.yyyymmdd,
                strike: o.strike, right: o.rightCode, multiplier: o.multiplier,
                exchange: fop ? "CME" : exchange, primaryExchange: "",
                currency: "USD", localSymbol: o.localSymbol, tradingClass: o.classCode)
            // A FOP's contractMonth is its underlying future's month (IB: ESZ6 options are 202612).
            let c = (fop ? stock?.lastTradeDate : nil)?.components ?? o.expiry.components
            return ContractDetails(
                contract: contract, marketName: o.classCode, minTick: fop ? 0.05 : 0.01,
                orderTypes: "ACTIVETIM,AD,ADJUST,ALERT,ALLOC,AVGCOST,BASKET,COND,CONDORDER,DAY,DEACT,DEACTDIS,DIS,GAT,GTC,GTD,GTT,HID,IOC,LIT,LMT,MIT,MKT,MTL,NGCOMB,NONALGO,OCA,OPENCLOSE,PEGBENCH,REL,RELPCTOFS,SCALE,SCALERST,SNAPMID,STP,STPLMT,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,VOLAT,WHATIF",
                validExchanges: "SMART,AMEX,CBOE,PHLX,PSE,ISE,BOX,BATS,NASDAQOM,CBOE2,NASDAQBX,MIAX,GEMINI,EDGX,MERCURY,PEARL,EMERALD,MEMX",
                priceMagnifier: 1, underConId: o.underConId, longName: stock?.longName ?? o.symbol,
                contractMonth: String(format: "%04d%02d", c.year, c.month), industry: stock?.industry ?? "",
                category: stock?.category ?? "", subcategory: stock?.category ?? "", timeZoneId: "US/Eastern",
                tradingHours: calendar.hours(secType: "OPT", liquid: false, from: today),
                liquidHours: calendar.hours(secType: "OPT", liquid: true, from: today), evMultiplier: nil,
                secIdList: [], aggGroup: 2, underSymbol: o.symbol, underSecType: stock?.secType ?? "STK",
                marketRuleIds: "32,110,110,32,32,32,32,32,32,32,32,32,32,32,32,32,32,32",
                realExpirationDate: o.expiry.yyyymmdd, minSize: 1, sizeIncrement: 1, suggestedSizeIncrement: 1)
        }
    }

    /// CONTRACT_DATA of an index, a future or an FX pair (field values as IB's for SPX, ESZ6
    /// and EUR.USD: exchange, tradingClass, multiplier, minTick, time zone).
    private func derivativeDetails(_ s: StockListing, calendar: TradingCalendar) -> ContractDetails {
        let contract = Contract(
            conId: s.conId, symbol: s.symbol, secType: s.secType, lastTradeDateOrContractMonth: s.lastTradeDate?.yyyymmdd ?? "",
            multiplier: s.multiplier, exchange: s.exchange, primaryExchange: "", currency: s.currency, localSymbol: s.localSymbol,
            tradingClass: s.tradingClassOverride ?? s.symbol)
        let zone = s.secType == "CASH" ? "US/Eastern" : (s.exchange == "CME" || s.exchange == "CBOE" ? "US/Central" : "US/Eastern")
        return ContractDetails(
            contract: contract, marketName: contract.tradingClass, minTick: s.tick,
            orderTypes: s.secType == "IND" ? "" : "ACTIVETIM,AD,ADJUST,ALERT,ALLOC,AVGCOST,BASKET,COND,CONDORDER,DAY,DEACT,DEACTDIS,DIS,GAT,GTC,GTD,GTT,HID,IOC,LIT,LMT,MIT,MKT,MTL,NGCOMB,NONALGO,OCA,REL,SCALE,SCALERST,STP,STPLMT,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF",
            validExchanges: s.exchange, priceMagnifier: 1, underConId: s.secType == "FUT" ? 11_004_968 : 0,
            longName: s.longName, contractMonth: s.contractMonth ?? "", industry: s.industry, category: s.category,
            subcategory: s.category, timeZoneId: zone,
            tradingHours: calendar.hours(secType: s.secType, liquid: false, from: today),
            liquidHours: calendar.hours(secType: s.secType, liquid: true, from: today),
            secIdList: [], aggGroup: s.secType == "CASH" ? 4 : 1,
            underSymbol: s.secType == "FUT" ? s.symbol : "", underSecType: s.secType == "FUT" ? "IND" : "",
            marketRuleIds: s.secType == "CASH" ? "239" : (s.secType == "FUT" ? "67" : "109"),
            realExpirationDate: s.lastTradeDate?.yyyymmdd ?? "",
            minSize: s.secType == "CASH" ? 1 : 1, sizeIncrement: 1, suggestedSizeIncrement: s.secType == "CASH" ? 1 : 1)
    }
}

import Foundation
