import IBSession
import Logging
import MarketData
import MarketModel
import RedisPublisher

// Subscriptions at runtime (issue 12, README "Subscriptions at runtime"): the worker reads the
// leases applications write, a `LeaseArbiter` decides which requested instruments get a line,
// and this shell carries out its actions. A requested instrument becomes a `SymbolState` like a
// pinned one and takes the same code paths (resolve, `session.subscribe`, the book, failover,
// staleness, keep-alive, resubscription after reconnect); releasing it cancels its line at
// the gateway.

extension Worker {
    /// Lines the arbiter granted to requested instruments: each quote plus its option
    /// window's size (`InstrumentRequest.linesNeeded`).
    var requestedGrantedLines: Int {
        requestedOrder.reduce(0) { $0 + 1 + (symbols[$1]?.spec.options?.marketDataLines ?? 0) }
    }

    /// The options each requested window may take: its selection in the window's priority
    /// order (nearer expiries, nearer strikes), at most the lines granted for it.
    /// A requested window's options in the order its lines are granted: the nearest expiry
    /// first across every trading class IB lists (SPXW's 0DTE before the SPX monthly), then in
    /// the order the window lists them (class, strike, right). A lease asks for the nearest
    /// expirations, not for one class's.
    static func nearestFirst(_ keys: [OptionKey]) -> [OptionKey] {
        keys.enumerated().sorted { a, b in
            a.element.expiry != b.element.expiry ? a.element.expiry < b.element.expiry : a.offset < b.offset
        }.map(\.element)
    }

    func requestedAdmittedOptions() -> [String: Set<OptionKey>] {
        var out: [String: Set<OptionKey>] = [:]
        for key in requestedOrder {
            guard let state = symbols[key], let options = state.spec.options, !state.windows.isEmpty else { continue }
            let missing = state.missingOptions
            let wanted = state.selectedOptions.map(\.key).filter { !missing.contains($0) }
            out[key] = Set(Self.nearestFirst(wanted).prefix(options.marketDataLines))
        }
        return out
    }

    /// Resolves and subscribes a requested instrument, then (with `#options=`) its chain and
    /// window, exactly as `setUpSymbols` does for a pinned one.
    func startRequested(_ key: String) async {
        await resolve(key)
        guard let state = symbols[key], let contract = state.contract, let options = state.spec.options,
            state.spec.secType.hasOptionChains, !stopping
        else { return }
        await setUpChain(key, contract: contract, options: options)
    }

    /// What requests may use: `ib.max_market_data_lines` minus the pinned quotes and the
    /// pinned option windows (their current selection once known, their configured size
    /// before).
    func leaseLineCapacity() -> Int {
        var pinned = 0
        for symbol in pinnedOrder {
            guard let state = symbols[symbol] else { continue }
            pinned += 1
            if let options = state.spec.options {
                pinned += state.windows.isEmpty ? options.marketDataLines : state.selectedOptions.count
            }
        }
        return max(0, configuration.maxMarketDataLines - pinned)
    }

    /// Reads `P:leases` every `leases.poll_interval_ms`, hands it to the arbiter and performs
    /// its actions. Resolving and subscribing a requested instrument runs as a child task, so
    /// a slow gateway never delays the next read. Ends with the worker (cancellation).
    ///
    /// In a worker group (`worker.group`) only the active worker serves requests: a standby
    /// reads nothing and writes no request status; when a worker stands down, its requested
    /// instruments are released and the arbiter starts afresh on the next term, so the new
    /// active worker (this one or another) serves the leases from what is in Redis.
    func requestLeaseLoop() async {
        guard let leaseSettings = configuration.leases else { return }
        let publisherConfiguration = configuration.publisher
        let store = LeaseStore(prefix: publisherConfiguration.keyPrefix) { () throws(RedisError) -> RedisConnection in
            if let sentinel = publisherConfiguration.sentinel, !sentinel.sentinels.isEmpty {
                return try Sentinel.connectToPrimary(
                    sentinel, dataURL: publisherConfiguration.url, connectTimeout: publisherConfiguration.connectTimeout,
                    ioTimeout: publisherConfiguration.ioTimeout)
            }
            return try RedisConnection(
                url: publisherConfiguration.url, connectTimeout: publisherConfiguration.connectTimeout, ioTimeout: publisherConfiguration.ioTimeout)
        }
        defer { store.close() }
        var settings = LeaseArbiter.Settings(lineCapacity: leaseLineCapacity())
        settings.graceMs = leaseSettings.graceMs
        settings.minHoldMs = leaseSettings.minHoldMs
        settings.maxPriority = leaseSettings.maxPriority
        settings.maxPriorityByRequester = leaseSettings.requesterMaxPriority
        settings.maxRequestsPerRequester = leaseSettings.maxRequestsPerRequester
        settings.newRequestsPerWindow = leaseSettings.newRequestsPerMinute
        settings.rateWindowMs = 60_000
        settings.optionWindows = true
        settings.lookUpFirst = true
        settings.maxLookUps = max(1, Int(configuration.gateway.maxRequestsPerSecond))
        var pinned: [String: String] = [:]
        var pinnedWindows: [String: InstrumentRequest.Options] = [:]
        for symbol in pinnedOrder {
            guard let spec = symbols[symbol]?.spec else { continue }
            pinned[symbol] = InstrumentRequest.identity(
                secType: spec.secType.rawValue, symbol: spec.symbol, exchange: spec.exchange, currency: spec.currency,
                contractMonth: spec.contractMonth?.keyTail)
            // A lease shares a pinned window it fits in; a days-to-expiry or class-limited
            // window is not comparable with the lease grammar.
            if let window = spec.options, window.daysToExpiry == nil, window.tradingClasses.isEmpty {
                pinnedWindows[symbol] = InstrumentRequest.Options(expirations: window.expirations, strikesAroundATM: window.strikesAroundATM)
            }
        }
        arbiter = LeaseArbiter(settings: settings, pinned: pinned, pinnedWindows: pinnedWindows)
        var failures = 0
        // Discarding: finished set-ups leave nothing behind in a worker that runs for months.
        await withDiscardingTaskGroup { group in
            var servedThisTerm = role == .active
            while !Task.isCancelled, !stopping {
                guard role == .active, holdsTerm() else {
                    if servedThisTerm {
                        for key in requestedOrder { releaseRequested(key) }
                        leaseStatusExpiry.removeAll()
                        requestLookUps.removeAll()
                        lookedUpContracts.removeAll()
                        arbiter = LeaseArbiter(settings: settings, pinned: pinned, pinnedWindows: pinnedWindows)
                        servedThisTerm = false
                    }
                    try? await clock.sleep(for: leaseSettings.pollInterval)
                    continue
                }
                servedThisTerm = true
                do {
                    let snapshot = try await store.read()
                    // The read may have straddled a pause (SIGSTOP, a VM freeze) longer than the
                    // group's lease: the other worker may serve these leases now.
                    guard holdsTerm() else { continue }
                    if failures > 0 { logger.notice("leases readable again", metadata: ["after_failures": "\(failures)"]) }
                    if snapshot.leases.count + snapshot.unparseable.count + snapshot.invalidExpiry.count >= LeaseStore.maxLeases {
                        logger.warning("P:leases holds more members than are read per poll; the rest wait", metadata: ["read": "\(LeaseStore.maxLeases)"])
                    }
                    failures = 0
                    if !lookedUpContracts.isEmpty {
                        let now = monoMs()
                        lookedUpContracts = lookedUpContracts.filter { now - $0.value.monoMs < 60_000 }
                    }
                    var actions = arbiter?.leasesSeen(
                        snapshot.leases, unparseable: snapshot.unparseable, invalidExpiry: snapshot.invalidExpiry, nowMs: snapshot.nowMs) ?? []
                    actions += leaseFeedback(nowMs: snapshot.nowMs)
                    for member in snapshot.unparseable {
                        logger.warning("lease member without '<requester>|' dropped", metadata: ["member": "\(member)"])
                        publisher.publishEvent(WorkerEvents.plain(type: "lease_refused", worker: configuration.workerID, nowMs: nowMs(), [
                            Field("member", member, isNumber: false),
                            Field("reason", "a lease member is <requester>|<instrument spec>, the requester 1-64 of A-Z a-z 0-9 _ . -", isNumber: false),
                        ]))
                    }
                    for lease in snapshot.invalidExpiry {
                        logger.warning("lease with an expiry that is no time in ms refused", metadata: ["member": "\(lease.member)"])
                        publisher.publishEvent(WorkerEvents.plain(type: "lease_refused", worker: configuration.workerID, nowMs: nowMs(), [
                            Field("member", lease.member, isNumber: false),
                            Field("reason", "invalid request: \(LeaseArbiter.invalidExpiryReason)", isNumber: false),
                        ]))
                    }
                    try await performLeaseActions(actions, leases: snapshot.leases, store: store, nowMs: snapshot.nowMs, group: &group)
                } catch {
                    // A status write may be lost: rewrite every status once Redis answers again.
                    leaseStatusExpiry.removeAll()
                    failures += 1
                    if failures == 1 || failures % 30 == 0 {
                        logger.warning("cannot read or write leases in Redis; retrying", metadata: ["error": "\(error)", "attempt": "\(failures)"])
                    }
                }
                try? await clock.sleep(for: leaseSettings.pollInterval)
            }
            group.cancelAll()
        }
    }

    /// What the arbiter must hear from the worker: the capacity the pinned instruments
    /// leave, IB's refusals of requested contracts, and which lines Alpha Vantage serves.
    func leaseFeedback(nowMs: Int64) -> [LeaseArbiter.Action] {
        guard var arbiter else { return [] }
        var actions: [LeaseArbiter.Action] = []
        let capacity = leaseLineCapacity()
        if capacity != arbiter.settings.lineCapacity { actions += arbiter.setLineCapacity(capacity, nowMs: nowMs) }
        if !requestLookUps.isEmpty {
            var known: [String] = []
            var refused: [String: InstrumentRequest.Refusal] = [:]
            var failed: [String] = []
            for (key, answer) in requestLookUps {
                switch answer {
                case .known: known.append(key)
                case .refused(let refusal): refused[key] = refusal
                case .failed: failed.append(key)
                }
            }
            requestLookUps.removeAll()
            actions += arbiter.lookUpsAnswered(known: known, refused: refused, failed: failed, nowMs: nowMs)
        }
        for key in requestedOrder {
            guard let state = symbols[key] else { continue }
            if let refusal = Self.refusal(state) {
                actions += arbiter.gatewayRefused(keySymbol: key, refusal, nowMs: nowMs)
            } else {
                actions += arbiter.served(keySymbol: key, by: failedOver.contains(key) ? .alphaVantage : .ib, nowMs: nowMs)
            }
        }
        self.arbiter = arbiter
        return actions
    }

    /// IB's verdict on a requested instrument as a refusal, or nil while it may still be served
    /// (a transient problem is failover's business, not the request's).
    static func refusal(_ state: SymbolState) -> InstrumentRequest.Refusal? {
        if state.unresolvable { return .unknownContract(state.problem ?? "IB does not know this instrument (200)") }
        guard let problem = state.problem else { return nil }
        if problem.hasPrefix("no market data permission") || problem.contains("354") || problem.contains("10089") {
            return .noPermission(problem)
        }
        if problem.hasPrefix("IB does not know") || problem.hasPrefix("IB returned no contract") || problem.hasPrefix("IB lists")
            || problem.contains("(200)") || problem.contains("321")
        {
            return .unknownContract(problem)
        }
        // A code IB's table does not document ended the line and the worker cancelled it
        // (WorkerCore.lineStatus `.failed`): nothing is served, so the request must not read
        // `active`. Refused for the lease's life; leasing it again asks IB again.
        if problem.hasPrefix("request failed (") {
            return .notAllowed("IB ended the line: \(problem)")
        }
        return nil
    }

    /// Carries out the arbiter's actions: lines first (releases before subscriptions, so the
    /// budget is never exceeded), then the statuses and lease removals in one pipeline.
    func performLeaseActions(
        _ actions: [LeaseArbiter.Action], leases: [LeaseArbiter.Lease], store: LeaseStore, nowMs: Int64,
        group: inout DiscardingTaskGroup
    ) async throws {
        var expiry: [LeaseArbiter.RequestRef: Int64] = [:]
        for lease in leases { expiry[LeaseArbiter.RequestRef(requester: lease.requester, spec: lease.spec)] = lease.expiresMs }
        let grace = configuration.leases?.graceMs ?? 0
        var statuses: [LeaseStore.StatusWrite] = []
        var drops: [String] = []
        var changed = false
        for action in actions {
            if case .release(let key) = action {
                releaseRequested(key)
                changed = true
            }
        }
        for action in actions {
            switch action {
            case .subscribe(let request):
                guard addRequested(request) else { continue }
                changed = true
                let key = request.keySymbol
                group.addTask { await self.startRequested(key) }
            case .resize(let request):
                guard resizeRequested(request) else { continue }
                changed = true
                let key = request.keySymbol
                group.addTask { await self.applyRequestedWindow(key) }
            case .lookUp(let request):
                group.addTask { await self.lookUpRequested(request) }
            case .release:
                break
            case let .setStatus(ref, state, key, news):
                let ttl = max(0, (expiry[ref] ?? nowMs) - nowMs) + grace
                statuses.append(LeaseStore.StatusWrite(ref: ref, state: state, keySymbol: key, ttlMs: ttl))
                // A change of state is told; a queued request's new place is not (README Logs).
                if news {
                    logger.info("request status", metadata: ["request": "\(ref)", "state": "\(state)"])
                } else {
                    logger.debug("request status", metadata: ["request": "\(ref)", "state": "\(state)"])
                }
            case .clearStatus(let ref):
                statuses.append(LeaseStore.StatusWrite(ref: ref, state: nil, keySymbol: nil, ttlMs: 0))
            case .dropLease(let member):
                drops.append(member)
            }
        }
        // A lease refreshed by its application keeps its status as long as the lease.
        let written = Set(statuses.map(\.ref))
        for ref in expiry.keys.sorted() where !written.contains(ref) {
            guard let state = arbiter?.status(of: ref), let expires = expiry[ref], leaseStatusExpiry[ref] != expires else { continue }
            // Only the TTL is extended when the status was written before; after a Redis error
            // (which forgets every written expiry) it is written and published whole again.
            let refreshOnly = leaseStatusExpiry[ref] != nil
            leaseStatusExpiry[ref] = expires
            statuses.append(
                LeaseStore.StatusWrite(
                    ref: ref, state: state, keySymbol: Self.statusKeySymbol(ref, state), ttlMs: max(0, expires - nowMs) + grace, refreshOnly: refreshOnly))
        }
        for write in statuses { leaseStatusExpiry[write.ref] = write.state == nil ? nil : expiry[write.ref] }
        if changed {
            metrics.marketDataLines.record(book.lineCount)
            writeStatus()
        }
        try await store.write(statuses: statuses, drop: drops, nowMs: nowMs)
    }

    /// The `key` field for a status rewritten only for its TTL.
    static func statusKeySymbol(_ ref: LeaseArbiter.RequestRef, _ state: LeaseArbiter.RequestState) -> String? {
        if case .refused = state { return nil }
        return try? InstrumentRequest.parse(ref.spec).get().keySymbol
    }

    /// Asks IB for a requested instrument's contract before the arbiter gives it a line
    /// (contract details take no market data line; the session paces them within
    /// `ib.max_requests_per_second`). The answer waits in `requestLookUps` for the next read.
    func lookUpRequested(_ request: InstrumentRequest) async {
        let key = request.keySymbol
        let spec = Self.symbolSpec(request)
        let answer: LeaseLookUp
        do {
            let details = try await session.contractDetails(Self.contractRequest(spec))
            if details.isEmpty {
                answer = .refused(.unknownContract("IB returned no contract for \(request)"))
            } else if details.count > 1 && spec.secType != .stock {
                answer = .refused(.unknownContract("IB lists \(details.count) contracts for \(request): name one (exchange, contract month)"))
            } else {
                answer = .known
                lookedUpContracts[key] = (details, monoMs())
            }
        } catch let error as IBSessionError where error.isPermanent {
            if case .requestFailed(let code, _) = error, code == 354 || code == 10089 {
                answer = .refused(.noPermission("\(error)"))
            } else {
                answer = .refused(.unknownContract("IB does not know this instrument (200); check symbol, sec_type, exchange, currency: \(error)"))
                if case .requestFailed(200, _) = error {
                    publisher.publishEvent(WorkerEvents.plain(type: "symbol_rejected", worker: configuration.workerID, nowMs: nowMs(), [
                        Field("symbol", key, isNumber: false), Field("reason", "\(error)", isNumber: false),
                    ]))
                }
            }
        } catch {
            logger.debug("contract look-up failed; asked again", metadata: ["symbol": "\(key)", "error": "\(error)"])
            answer = .failed
        }
        guard !stopping, arbiter != nil else { return }
        requestLookUps[key] = answer
    }

    /// Gives a requested instrument's line the option window the arbiter decided (wider for a
    /// new lease, narrower after the grace, none): the spec and the windows' sizes change at
    /// once, so the line budget counts the new size; dropped options are cancelled at the
    /// gateway. Returns whether the window must then be set up or re-centred
    /// (`applyRequestedWindow`).
    func resizeRequested(_ request: InstrumentRequest) -> Bool {
        let key = request.keySymbol
        guard requestedOrder.contains(key), let state = symbols[key], !stopping else { return false }
        let options = request.options.map { SymbolSpec.OptionWindow(expirations: $0.expirations, strikesAroundATM: $0.strikesAroundATM) }
        guard state.spec.options != options else { return false }
        symbols[key]?.spec.options = options
        logger.info("requested option window changed", metadata: ["symbol": "\(key)", "request": "\(request)"])
        guard let options else {
            symbols[key]?.windows = [:]
            for id in (book.optionSubscriptions[key] ?? [:]).values {
                session.unsubscribe(id)
                book.remove(id)
            }
            return false
        }
        for tradingClass in state.windows.keys {
            symbols[key]?.windows[tradingClass]?.expirationsCount = options.expirations
            symbols[key]?.windows[tradingClass]?.strikesAroundATM = options.strikesAroundATM
        }
        return true
    }

    /// Sets up (first window on a line that served the quote alone) or re-centres a resized
    /// requested window. Before the contract is known, `startRequested` sets it up.
    func applyRequestedWindow(_ key: String) async {
        guard let state = symbols[key], let options = state.spec.options else { return }
        if state.windows.isEmpty {
            guard let contract = state.contract, state.spec.secType.hasOptionChains, !stopping else { return }
            await setUpChain(key, contract: contract, options: options)
        } else {
            await recentre(key)
        }
    }

    /// Makes a requested instrument a served symbol (not yet subscribed: `resolve` does that).
    func addRequested(_ request: InstrumentRequest) -> Bool {
        let key = request.keySymbol
        guard symbols[key] == nil, !stopping else { return false }
        symbols[key] = SymbolState(spec: Self.symbolSpec(request))
        requestedOrder.append(key)
        servedChanged()
        logger.info("requested instrument added", metadata: ["symbol": "\(key)", "request": "\(request)"])
        return true
    }

    /// Cancels a requested instrument's lines at the gateway and forgets it. Its keys in
    /// Redis stay until their TTL (or are flagged stale), like a symbol removed from the YAML.
    func releaseRequested(_ key: String) {
        lookedUpContracts[key] = nil
        guard requestedOrder.contains(key) else { return }
        for id in book.subscriptions(of: key) {
            session.unsubscribe(id)
            book.remove(id)
        }
        symbols[key] = nil
        requestedOrder.removeAll { $0 == key }
        feed(.released(symbol: key, served: servedSymbols()))
        logger.info("requested instrument released", metadata: ["symbol": "\(key)"])
    }

    /// The YAML entry a request amounts to (FX and futures as issue 10 names them; a window
    /// follows every trading class IB lists, within the lines granted).
    static func symbolSpec(_ request: InstrumentRequest) -> SymbolSpec {
        let secType: SymbolSpec.SecurityType = switch request.secType {
        case .stock: .stock
        case .index: .index
        case .future: .future
        case .cash: .cash
        }
        return SymbolSpec(
            symbol: request.symbol, secType: secType, exchange: request.exchange, currency: request.currency,
            options: request.options.map { SymbolSpec.OptionWindow(expirations: $0.expirations, strikesAroundATM: $0.strikesAroundATM) },
            contractMonth: request.contractMonth.map { .fixed($0) })
    }
}

/// IB's answer to a contract look-up of a requested instrument (`Worker.lookUpRequested`).
enum LeaseLookUp: Sendable {
    /// IB knows it: it may take a line.
    case known
    /// IB does not know it, lists several, or gives no permission.
    case refused(InstrumentRequest.Refusal)
    /// A passing failure (gateway away, timeout): asked again.
    case failed
}
