import Simulators
import Testing
@testable import AlphaVantage

/// The simulator's control surface over HTTP, driven with the production HTTPClient.
@Suite(.serialized) struct SimulatorControlTests {
    static func origin(_ sim: AlphaVantageSimulator) -> String { "http://127.0.0.1:\(sim.port)" }
    static func text(_ r: HTTPResponse) -> String { String(decoding: r.body, as: UTF8.self) }

    @Test func controlSwitchesModeAndStatsCount() async throws {
        let sim = try await AlphaVantageSimulator.start()
        let http = HTTPClient()
        let set = try await http.get(Self.origin(sim) + "/_control?mode=premium&delay_ms=5&unknown=foo,bar")
        #expect(set.status == 200)
        #expect(Self.text(set) == #"{"mode": "premium", "delay_ms": 5, "unknown": ["BAR", "FOO"], "requests_per_minute": null}"#)
        #expect(sim.mode == .premium)
        let bulk = try await http.get(Self.origin(sim) + "/query?function=REALTIME_BULK_QUOTES&symbol=IBM&apikey=x")
        #expect(Self.text(bulk).contains("This is a premium endpoint"))
        let unknown = try await http.get(Self.origin(sim) + "/query?function=GLOBAL_QUOTE&symbol=FOO&apikey=x")
        #expect(Self.text(unknown).hasPrefix(#"{"Error Message": "Invalid API call."#))
        let stats = try await http.get(Self.origin(sim) + "/_stats")
        #expect(Self.text(stats).hasPrefix(#"{"total": 2, "throttled": 0, "mode": "premium", "max_per_minute": 2, "by_function": {"GLOBAL_QUOTE": 1, "REALTIME_BULK_QUOTES": 1}"#))
        try await sim.shutdown()
    }

    @Test func badControlValuesAre400AndUnknownPaths404() async throws {
        let sim = try await AlphaVantageSimulator.start()
        let http = HTTPClient()
        let bad = try await http.get(Self.origin(sim) + "/_control?mode=sideways")
        #expect(bad.status == 400)
        #expect(Self.text(bad) == #"{"error": "unknown mode sideways"}"#)
        #expect(sim.mode == .ok)
        #expect(try await http.get(Self.origin(sim) + "/nope").status == 404)
        let function = try await http.get(Self.origin(sim) + "/query?function=TIME_SERIES_FOO&apikey=x")
        #expect(Self.text(function) == #"{"Error Message": "This API function (TIME_SERIES_FOO) does not exist."}"#)
        try await sim.shutdown()
    }

    @Test func oversizedBodyIsRefused() async throws {
        let sim = try await AlphaVantageSimulator.start()
        let http = HTTPClient(configuration: .init(maxBodyBytes: 1000))
        await #expect(throws: HTTPClientError.bodyTooLarge(limit: 1000)) {
            try await http.get(Self.origin(sim) + "/query?function=REALTIME_OPTIONS&symbol=SPY&apikey=x")
        }
        // The handle is reusable after an aborted transfer.
        let small = try await http.get(Self.origin(sim) + "/_stats")
        #expect(small.status == 200)
        try await sim.shutdown()
    }

    @Test func sameSeedSameOptionChain() async throws {
        let a = try await AlphaVantageSimulator.start(configuration: .init(seed: 7))
        let b = try await AlphaVantageSimulator.start(configuration: .init(seed: 7))
        let http = HTTPClient()
        let path = "/query?function=REALTIME_OPTIONS&symbol=QQQ&require_greeks=true&apikey=x"
        let first = try await http.get(Self.origin(a) + path)
        let second = try await http.get(Self.origin(b) + path)
        // Dates come from the clock; everything else from the seed.
        #expect(first.body.count == second.body.count)
        #expect(Self.text(first).contains(#""implied_volatility": ""#))
        try await a.shutdown()
        try await b.shutdown()
    }
}
