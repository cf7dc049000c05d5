import AlphaVantage
import IBSession
import Logging
import MarketModel
import TWSProtocol

// The shell around `WorkerCore`: events in (`feed`), actions carried out (`perform`), and the
// work an action starts that outlives the actor turn (`Job`, run by `jobLoop` inside `run()`'s
// task group, so graceful shutdown cancels it).

extension Worker {
    /// Work started by the core's actions that awaits IB or the poller.
    enum Job: Sendable {
        /// A snapshot of the symbol's quote (`WorkerCore.Action.probe`).
        case probe(String)
        /// A keep-alive snapshot of a quiet line (`WorkerCore.Action.keepAlive`).
        case keepAlive(SubscriptionID, Contract)
        /// Install the symbols now in failover in the poller (read when the job runs, so the
        /// last one installs the current set).
        case updatePoller
    }

    /// Runs the jobs: snapshots as child tasks of a discarding group (a worker that runs for
    /// months keeps nothing of finished ones), poller updates in order. Ends when the stream
    /// finishes or the task is cancelled, cancelling what still runs.
    func jobLoop() async {
        var pending = jobs.makeAsyncIterator()
        await withDiscardingTaskGroup { group in
            while let job = await pending.next(isolation: #isolation) {
                switch job {
                case .probe(let symbol):
                    group.addTask { await self.probe(symbol) }
                case let .keepAlive(id, contract):
                    group.addTask { await self.keepAlive(id, contract) }
                case .updatePoller:
                    guard let poller else { continue }
                    let withWindows = Set(order.filter { symbols[$0]?.window != nil })
                    let (quotes, options, pairs) = core.pollerSymbols(optionWindows: withWindows)
                    await poller.setSymbols(quotes: quotes, options: options, exchangeRates: pairs)
                }
            }
        }
    }

    /// The clocks now and the session's state, for an event.
    func currentTime() -> WorkerCore.Now {
        WorkerCore.Now(wallMs: nowMs(), monoMs: monoMs(), session: session.status.state)
    }

    /// Hands `event` to the core and carries out its actions.
    func feed(_ event: WorkerCore.Event) {
        let now = currentTime()
        let actions = core.handle(event, now: now)
        if !actions.isEmpty { perform(actions, now: now) }
    }

    /// Carries out the core's actions, in order.
    func perform(_ actions: [WorkerCore.Action], now: WorkerCore.Now) {
        for action in actions {
            switch action {
            case .probe(let symbol):
                jobContinuation.yield(.probe(symbol))
            case .keepAlive(let id):
                guard let contract = book.contracts[id] else {
                    _ = core.handle(.keepAliveEnded(id), now: now)
                    continue
                }
                // The next attempt is a third of the TTL away, answered or not.
                book.lastConfirmedMs[id] = now.monoMs
                jobContinuation.yield(.keepAlive(id, contract))
            case let .writeIBLines(symbol, since):
                // A line IB has not confirmed since the failover keeps Alpha Vantage's values
                // until IB delivers it (a tick or a keep-alive snapshot): writing it now would
                // claim a confirmation that did not happen. It is confirmed with a keep-alive
                // snapshot at the next check, so its key is IB's again within the stable
                // period rather than at its TTL.
                for id in book.subscriptions(of: symbol) {
                    if (book.lastIBDataMs[id] ?? -1) >= since {
                        writeIB(id, nowMs: now.wallMs)
                    } else {
                        book.lastConfirmedMs[id] = Int64.min / 2
                    }
                }
            case .writeAlphaVantageQuote, .writeAlphaVantageRate, .writeAlphaVantageOptions:
                writeAlphaVantage(action, nowMs: now.wallMs)
            case .publishEvent(let json):
                publisher.publishEvent(json)
            case .updatePoller:
                if poller != nil { jobContinuation.yield(.updatePoller) }
            case .setDataFlowing(let flowing):
                readiness.setDataFlowing(flowing)
            case .writeStatus:
                writeStatus()
            case .metric(let metric):
                record(metric)
            case .log(let line):
                logger.log(level: line.level, "\(line.message)", metadata: line.metadata.isEmpty ? nil : line.metadata.mapValues { .string($0) })
            }
        }
    }

    func record(_ metric: WorkerCore.Metric) {
        switch metric {
        case .workerState(let state): metrics.workerState(state.rawValue)
        case .failovers(let count): metrics.failovers.increment(by: Int64(count))
        case .failbacks(let count): metrics.failbacks.increment(by: Int64(count))
        case let .symbolStaleness(symbol, seconds): metrics.symbolStaleness(symbol: symbol, seconds: seconds)
        case .staleKeys(let count): metrics.staleKeys.record(count)
        case .alphaVantageRequest(let function): metrics.alphaVantageRequest(function: function)
        case .alphaVantageError(let kind): metrics.alphaVantageError(kind: kind)
        }
    }

    /// The instruments the failover engine follows: every served one IB knows.
    func servedSymbols() -> [String] {
        order.filter { symbols[$0]?.unresolvable != true }
    }

    /// Why Alpha Vantage cannot stand in for each served symbol that it cannot.
    func fallbackProblems() -> [String: String] {
        var problems: [String: String] = [:]
        for symbol in order {
            if let problem = fallbackProblem(symbol) { problems[symbol] = problem }
        }
        return problems
    }

    /// How Alpha Vantage stands in for each served symbol that it can, in order.
    func fallbacks() -> [WorkerCore.Fallback] {
        order.compactMap { symbols[$0].flatMap { Self.fallback($0.spec, configuration: configuration) } }
    }

    /// Tells the core the served set changed (a request added, an instrument IB does not know).
    func servedChanged() {
        feed(.servedChanged(served: servedSymbols(), fallbackProblems: fallbackProblems(), fallbacks: fallbacks()))
    }

    /// The Alpha Vantage poller's answers go to the core, which decides what is written where.
    func handleAlphaVantage(_ event: AlphaVantagePollEvent) {
        feed(.alphaVantageAnswered(event))
    }

    /// The lines the keep-alive could confirm: each with its contract, when it was last
    /// confirmed and a third of its key's TTL (whole seconds).
    func keepAliveCandidates() -> [WorkerCore.QuietLine] {
        guard session.status.state.isSessionUp, core.refreshing.count < core.settings.maxKeepAliveSnapshots else { return [] }
        var lines: [WorkerCore.QuietLine] = []
        lines.reserveCapacity(book.lineCount)
        for (id, entry) in book.entries {
            guard book.contracts[id] != nil, let last = book.lastConfirmedMs[id] else { continue }
            let kind: Record.Kind = if case .quote = entry { .quote } else { .option }
            let quietLimit = configuration.publisher.ttl(for: kind) / 3
            lines.append(WorkerCore.QuietLine(id: id, symbol: entry.symbol, lastConfirmedMs: last, quietLimitMs: Int64(quietLimit.components.seconds * 1000)))
        }
        return lines
    }
}
