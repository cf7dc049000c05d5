import Testing

@testable import BenchE2E

@Suite("Bench support")
struct BenchSupportTests {
    @Test func procStatParsingSurvivesSpacesAndParensInTheName() {
        let stat = "4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 12345 0 0"
        #expect(ProcStats.parseCPUTicks(stat: stat) == 325)
        #expect(ProcStats.parseCPUTicks(stat: "garbage") == nil)
    }

    @Test func procStatusMemory() {
        let status = "Name:\tquote-relay\nVmPeak:\t  300000 kB\nVmHWM:\t   40960 kB\nVmRSS:\t   36864 kB\nThreads:\t9\n"
        let memory = ProcStats.parseMemory(status: status)
        #expect(memory?.rssKiB == 36_864)
        #expect(memory?.peakKiB == 40_960)
        #expect(ProcStats.parseMemory(status: "Name:\tx\n") == nil)
    }

    @Test func rates() {
        #expect(TargetRate("1k") == .perSecond(1000))
        #expect(TargetRate("100000") == .perSecond(100_000))
        #expect(TargetRate("MAX") == .max)
        #expect(TargetRate("0") == nil)
        #expect(TargetRate("fast") == nil)
        #expect(TargetRate.perSecond(10_000).description == "10k")
        #expect(TargetRate.perSecond(1500).description == "1500")
    }

    @Test func universeHasDistinctSymbolsKnownFirst() {
        let symbols = BenchUniverse.symbols(count: 100)
        #expect(symbols.count == 100)
        #expect(Set(symbols).count == 100)
        #expect(symbols.prefix(3) == ["AAPL", "MSFT", "SPY"])
        #expect(symbols[10] == "XAA")
        #expect(BenchUniverse.symbols(count: 3) == ["AAPL", "MSFT", "SPY"])
    }

    /// 50 underlyings x 2 expiries x 5 strikes x C/P = 1,000 options.
    @Test func optionLoadCountsTheWindow() {
        #expect(OptionLoad(underlyings: 50, expirations: 2, strikesAroundATM: 2).optionCount == 1000)
    }

    @Test func workerConfigHasTheRunsPortsAndOptionWindows() {
        let yaml = WorkerConfig.yaml(
            simPort: 4100, redisPort: 6400, symbols: ["AAPL", "MSFT", "SPY"],
            options: OptionLoad(underlyings: 1, expirations: 2, strikesAroundATM: 3), luaDir: "/repo/lua",
            httpPort: 9500, maxLines: 120)
        #expect(yaml.contains("  port: 4100\n"))
        #expect(yaml.contains("  url: redis://127.0.0.1:6400/0\n"))
        #expect(yaml.contains("  key_prefix: qr\n"))
        #expect(yaml.contains("  max_market_data_lines: 120\n"))
        #expect(yaml.contains("  listen: 127.0.0.1:9500\n"))
        #expect(yaml.contains("  - symbol: AAPL\n    options:\n      expirations: 2\n      strikes_around_atm: 3\n  - MSFT\n  - SPY\n"))
    }

    /// SPX 3 monthlies + SPXW 6 + 6 per stock, 25 strikes, C/P: 1,050 option lines, + 3 quotes.
    @Test func optionLinesScenarioIsAThousandLinesOverSPXAndTwoStocks() {
        let scenario = OptionLinesScenario()
        #expect(scenario.lineCount == 1050 && scenario.expectedLines == 1053)
        let yaml = WorkerConfig.yaml(
            simPort: 4100, redisPort: 6400, symbols: ["AAPL", "MSFT", "SPY"], options: nil, luaDir: "/repo/lua",
            httpPort: 9500, maxLines: 1153, scenario: scenario)
        #expect(yaml.contains("  max_market_data_lines: 1153\n"))
        #expect(yaml.contains("  - symbol: SPX\n    sec_type: IND\n    exchange: CBOE\n    alphavantage_symbol: none\n    options:\n      expirations: 6\n      strikes_around_atm: 12\n"))
        #expect(yaml.contains("  - symbol: MSFT\n    options:\n      expirations: 6\n      strikes_around_atm: 12\n"))
        #expect(!yaml.contains("  - SPY"), "only the scenario's underlyings")
    }
}

@Suite("Run verdict")
struct RunVerdictTests {
    func result(offered: Double, absorbed: Double, backlog: UInt64) -> RunResult {
        var r = RunResult(target: "t", rate: "r", status: "")
        r.offeredUpdatesPerSecond = offered
        r.absorbedUpdatesPerSecond = absorbed
        r.backlogAtEnd = backlog
        return r
    }

    @Test func keepingUpIsOk() {
        #expect(BenchmarkRunner.verdict(rate: .perSecond(10_000), result: result(offered: 9_990, absorbed: 9_995, backlog: 120)) == "ok")
    }

    @Test func fallingBehindIsSaturated() {
        #expect(BenchmarkRunner.verdict(rate: .perSecond(10_000), result: result(offered: 10_000, absorbed: 8_000, backlog: 0)) == "saturated")
        // Absorbing the warm-up's backlog can look like keeping up; the queue at the end says otherwise.
        #expect(BenchmarkRunner.verdict(rate: .max, result: result(offered: 30_000, absorbed: 31_000, backlog: 21_000)) == "saturated")
        #expect(BenchmarkRunner.verdict(rate: .max, result: result(offered: 30_000, absorbed: 30_000, backlog: 5_000)) == "ok")
    }

    @Test func aRateTheSimulatorMissedIsSaid() {
        #expect(
            BenchmarkRunner.verdict(rate: .perSecond(100_000), result: result(offered: 24_000, absorbed: 30_000, backlog: 21_000))
                == "saturated; simulator offered 24% of the rate")
    }
}

@Suite("NullTWSClient frame scan")
struct NullClientScanTests {
    func frame(_ fields: [String]) -> [UInt8] {
        var payload: [UInt8] = []
        for f in fields { payload += Array(f.utf8) + [0] }
        let n = payload.count
        return [UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + payload
    }

    /// Only TICK_SIZE with tick type 8 counts; a partial frame is left for the next read.
    @Test func volumeTicksOnlyAndWholeFramesOnly() {
        let stream = frame(["2", "6", "1", "8", "1234"]) + frame(["2", "6", "2", "0", "99999"])
            + frame(["1", "6", "1", "1", "190.5", "100", "0"]) + frame(["2", "6", "3", "8", "77"])
        let partial = frame(["2", "6", "1", "8", "5000"])
        let all = stream + partial.prefix(7)
        let (consumed, highest) = all.withUnsafeBufferPointer { NullTWSClient.scan($0, count: all.count) }
        #expect(consumed == stream.count)
        #expect(highest == 1234)
    }
}
