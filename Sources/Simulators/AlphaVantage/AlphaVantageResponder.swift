import Essentials
import Foundation

/// One answer of the simulator, before it goes on the wire.
struct AlphaVantageSimulatorResponse: Sendable {
    var status: Int
    var contentType: String
    var body: String
    /// How long to hold the answer back.
    var delayMilliseconds: Int

    static func json(_ body: String, status: Int = 200, delay: Int = 0) -> Self {
        .init(status: status, contentType: "application/json", body: body, delayMilliseconds: delay)
    }
}

/// Routes a request to its answer: `/query` (the API), `/_control` (switch mode, delay,
/// unknown symbols, limit at run time), `/_stats` (counters).
struct AlphaVantageResponder: Sendable {
    let state: AlphaVantageSimulatorState
    let seed: UInt64
    /// When set, only this key is accepted; otherwise any non-empty key is.
    let requiredAPIKey: String?

    func respond(uri: String, acceptEncoding: String?, now: Date = Date()) -> AlphaVantageSimulatorResponse {
        let (path, query) = Self.parse(uri)
        switch path {
        case "/query": return api(query, acceptEncoding: acceptEncoding, now: now)
        case "/_control": return control(query)
        case "/_stats": return .json(statsJSON())
        default: return .init(status: 404, contentType: "text/plain", body: "Not Found\n", delayMilliseconds: 0)
        }
    }

    private func api(_ query: [String: String], acceptEncoding: String?, now: Date) -> AlphaVantageSimulatorResponse {
        let function = query["function"] ?? ""
        let (settings, overLimit) = state.arrive(function: function, query: query, acceptEncoding: acceptEncoding, now: now.timeIntervalSince1970)
        let delay = settings.mode == .slow ? max(settings.delayMilliseconds, 1) : 0
        func answer(_ body: String) -> AlphaVantageSimulatorResponse {
            state.noteBody(body)
            return .json(body, delay: delay)
        }

        if settings.mode == .http500 {
            return .init(status: 500, contentType: "text/plain", body: "Internal Server Error\n", delayMilliseconds: delay)
        }
        guard let key = query["apikey"], !key.isEmpty, requiredAPIKey == nil || key == requiredAPIKey else {
            return answer(AlphaVantagePayloads.missingKey)
        }
        if settings.mode == .throttle || overLimit {
            state.noteThrottled()
            let n = state.stats.throttled
            return answer(n % 2 == 1 ? AlphaVantagePayloads.throttleNote : AlphaVantagePayloads.throttleBurst)
        }
        if settings.mode == .dailyLimit { return answer(AlphaVantagePayloads.dailyLimit(key: key)) }
        guard ["GLOBAL_QUOTE", "REALTIME_BULK_QUOTES", "REALTIME_OPTIONS", "CURRENCY_EXCHANGE_RATE"].contains(function) else {
            return answer(function.isEmpty ? AlphaVantagePayloads.invalidCall(function: "the API") : AlphaVantagePayloads.unknownFunction(function))
        }
        if settings.mode == .error { return answer(AlphaVantagePayloads.invalidCall(function: function)) }
        // GLOBAL_QUOTE and CURRENCY_EXCHANGE_RATE are free endpoints.
        if settings.mode == .premium, function != "GLOBAL_QUOTE", function != "CURRENCY_EXCHANGE_RATE" {
            return answer(function == "REALTIME_OPTIONS" ? AlphaVantagePayloads.premiumOptions : AlphaVantagePayloads.premiumInformation)
        }

        let symbols = (query["symbol"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }.filter { !$0.isEmpty }
        let known = symbols.filter { isKnown($0, settings) }
        var body: String
        switch function {
        case "GLOBAL_QUOTE":
            guard symbols.count == 1, let symbol = known.first else { return answer(AlphaVantagePayloads.invalidCall(function: function)) }
            let q = AlphaVantagePayloads.quote(seed: seed, symbol: symbol, tick: state.nextTick(symbol))
            body = AlphaVantagePayloads.globalQuote(symbol: symbol, quote: q, delayed: query["entitlement"] == "delayed", now: now)
        case "CURRENCY_EXCHANGE_RATE":
            // `unknown` lists codes (EUR) or pairs (EUR/USD) to treat as unknown.
            let from = (query["from_currency"] ?? "").trimmingCharacters(in: .whitespaces).uppercased()
            let to = (query["to_currency"] ?? "").trimmingCharacters(in: .whitespaces).uppercased()
            let pair = "\(from)/\(to)"
            guard ![from, to, pair].contains(where: settings.unknownSymbols.contains),
                let q = AlphaVantagePayloads.exchangeRate(seed: seed, from: from, to: to, tick: state.nextTick(pair))
            else { return answer(AlphaVantagePayloads.invalidCall(function: function)) }
            body = AlphaVantagePayloads.exchangeRateBody(from: from, to: to, rate: q.rate, bid: q.bid, ask: q.ask, now: now)
        case "REALTIME_BULK_QUOTES":
            guard !symbols.isEmpty else { return answer(AlphaVantagePayloads.invalidCall(function: function)) }
            // Only the first 100 symbols are honoured; unknown ones are left out.
            let quotes = symbols.prefix(100).filter { known.contains($0) }.map {
                ($0, AlphaVantagePayloads.quote(seed: seed, symbol: $0, tick: state.nextTick($0)))
            }
            body = AlphaVantagePayloads.bulkQuotes(quotes, now: now)
        default:  // REALTIME_OPTIONS
            guard symbols.count == 1, let symbol = known.first else { return answer(AlphaVantagePayloads.invalidCall(function: function)) }
            let q = AlphaVantagePayloads.quote(seed: seed, symbol: symbol, tick: state.nextTick(symbol))
            body = AlphaVantagePayloads.options(symbol: symbol, seed: seed, underlying: q.price, now: now, greeks: query["require_greeks"] == "true")
        }
        if settings.mode == .malformed {
            body = String(body.prefix(body.count / 2))
        }
        return answer(body)
    }

    /// A plausible ticker (letters, digits, `.`, `-`, at most 10) not listed as unknown.
    private func isKnown(_ symbol: String, _ settings: AlphaVantageSimulatorState.Settings) -> Bool {
        guard !settings.unknownSymbols.contains(symbol), symbol.count <= 10 else { return false }
        return symbol.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "-" }
    }

    private func control(_ query: [String: String]) -> AlphaVantageSimulatorResponse {
        var problems: [String] = []
        state.update { s in
            if let text = query["mode"] {
                if let mode = AlphaVantageSimulatorMode(rawValue: text) { s.mode = mode } else { problems.append("unknown mode \(text)") }
            }
            if let text = query["delay_ms"] {
                if let ms = Int(text), ms >= 0 { s.delayMilliseconds = ms } else { problems.append("bad delay_ms \(text)") }
            }
            if let text = query["unknown"] {
                s.unknownSymbols = Set(text.split(separator: ",").map { $0.uppercased() })
            }
            if let text = query["requests_per_minute"] {
                s.requestsPerMinute = Int(text).flatMap { $0 > 0 ? $0 : nil }
            }
        }
        if query["reset_stats"] == "1" || query["reset_stats"] == "true" { state.resetStats() }
        let s = state.settings
        guard problems.isEmpty else {
            return .json("{\"error\": \(JSONString.quoted(problems.joined(separator: "; ")))}", status: 400)
        }
        let unknown = s.unknownSymbols.sorted().map(JSONString.quoted).joined(separator: ", ")
        let limit = s.requestsPerMinute.map(String.init) ?? "null"
        return .json("{\"mode\": \"\(s.mode.rawValue)\", \"delay_ms\": \(s.delayMilliseconds), \"unknown\": [\(unknown)], \"requests_per_minute\": \(limit)}")
    }

    private func statsJSON() -> String {
        let st = state.stats
        let functions = st.byFunction.sorted { $0.key < $1.key }.map { "\(JSONString.quoted($0.key)): \($0.value)" }.joined(separator: ", ")
        let minutes = st.byMinute.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ")
        return "{\"total\": \(st.total), \"throttled\": \(st.throttled), \"mode\": \"\(state.settings.mode.rawValue)\", "
            + "\"max_per_minute\": \(st.maxRequests(inAnyWindowOf: 60)), \"by_function\": {\(functions)}, \"by_minute\": {\(minutes)}}"
    }

    /// `/query?a=1&b=x%2Cy` -> ("/query", ["a": "1", "b": "x,y"]); `+` is a space.
    static func parse(_ uri: String) -> (String, [String: String]) {
        guard let q = uri.firstIndex(of: "?") else { return (uri, [:]) }
        var query: [String: String] = [:]
        for pair in uri[uri.index(after: q)...].split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (s: Substring) in String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            query[decode(kv[0])] = kv.count > 1 ? decode(kv[1]) : ""
        }
        return (String(uri[..<q]), query)
    }
}
