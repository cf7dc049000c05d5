import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TWSProtocol

/// Opening, writing to and closing the socket; pacing the outgoing queue.
extension SessionCore {
    func connect(host: String, port: Int, clientId: Int32) {
        generation += 1
        let attempt = generation
        // The first attempt of a series at info; retries at debug (a failure is told once per
        // attempt by `scheduleReconnect`, and repeats of that line are summarised).
        logger.log(
            level: machine.attemptsSinceConnected == 0 ? .info : .debug, "connecting to gateway",
            metadata: ["host": "\(host)", "port": "\(port)", "client_id": "\(clientId)"])
        // A precise wake-up for the connect timeout (the periodic tick is coarser).
        scheduleTick(after: configuration.connectTimeout)
        let timeout = TimeAmount.nanoseconds(Int64(configuration.connectTimeout.seconds * 1e9))
        ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            // IPPROTO_TCP, not SOL_SOCKET: `.socketOption(.tcp_nodelay)` sets option 1 at
            // SOL_SOCKET, which is SO_DEBUG; root may set it, the service user gets EACCES and
            // never connects (found by starting the installed binary as `quote-relay`).
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            // Reads of up to 256 KiB (NIO's default stops at 64 KiB). A quiet feed still reads
            // what is there at once; a flood arrives in larger batches, and each batch makes one
            // record per line it touched, so 4x fewer records (and Redis writes) per tick when
            // the gateway streams faster than the worker reads (issue 15, BENCHMARKS.md).
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 256 * 1024))
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(GatewayChannelHandler(core: self, generation: attempt))
                }
            }
            .connect(host: host, port: port)
            .hop(to: eventLoop)
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    guard attempt == generation, running, machine.state == .connecting else {
                        // The attempt timed out or the session stopped meanwhile.
                        _ = Self.shutDown(channel)
                        return
                    }
                    self.channel = channel
                    handle(.tcpConnected(now: .now))
                case .failure(let error):
                    guard attempt == generation else { return }
                    // One readable line instead of NIO's description (see ConnectFailure).
                    let message = ConnectFailure.classify(error).message(host: host, port: port)
                    // 502 is what IB's own clients report for this; the worker sees it like any ERR_MSG.
                    emit(.ibError(code: 502, message: message, reqId: -1, subscription: nil))
                    handle(.connectionClosed(error: message, now: .now))
                }
            }
    }

    /// Output first (the gateway reads EOF at once and frees the client id), then the rest.
    static func shutDown(_ channel: Channel) -> EventLoopFuture<Void> {
        let closed = channel.close(mode: .output).flatMapError { _ in channel.eventLoop.makeSucceededVoidFuture() }
        return closed.flatMap { channel.close(mode: .all) }.flatMapError { _ in channel.eventLoop.makeSucceededVoidFuture() }
    }

    /// Detaches the current channel (its late events become stale) and shuts it down.
    @discardableResult
    func closeChannel() -> EventLoopFuture<Void> {
        generation += 1
        urgent.removeAll()
        bulk.removeAll()
        flushBatch()
        guard let channel else { return eventLoop.makeSucceededVoidFuture() }
        self.channel = nil
        return Self.shutDown(channel)
    }

    func writeNow(_ bytes: [UInt8]) {
        guard let channel else { return }
        channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
    }

    /// Sends what the pacer allows, urgent messages first, and sets a timer for the rest.
    func drain() {
        guard let channel, machine.state.isSessionUp, drainTimer == nil else { return }
        let now = ContinuousClock.now
        var wrote = false
        while let message = urgent.first ?? bulk.first {
            guard pacer.tryAcquire(now: now) else {
                pacingDelays += 1
                let wait = pacer.delayUntilAvailable(now: now)
                drainTimer = eventLoop.scheduleTask(in: .nanoseconds(max(Int64(wait.seconds * 1e9), 100_000))) { [self] in
                    drainTimer = nil
                    drain()
                }
                break
            }
            if urgent.isEmpty { bulk.removeFirst() } else { urgent.removeFirst() }
            channel.write(channel.allocator.buffer(bytes: MessageEncoder.encode(message, serverVersion: serverVersion)), promise: nil)
            wrote = true
        }
        if wrote { channel.flush() }
        // Shutting down: once the cancels are out there is nothing to wait for.
        if stopping, running, urgent.isEmpty { finishShutdown() }
    }

    // MARK: Reports from the channel handler (on the loop)

    func helloReceived(_ version: Int, generation: UInt64) {
        guard generation == self.generation else { return }
        serverVersion = version
        handle(.helloReceived(serverVersion: version, now: .now))
    }

    func readComplete(generation: UInt64) {
        guard generation == self.generation else { return }
        flushBatch()
        // Straight into the machine: it only stores the instant, no actions, no status.
        _ = machine.handle(.inboundActivity(now: .now))
    }

    func channelClosed(generation: UInt64, error: String?) {
        guard generation == self.generation else { return }
        channel = nil
        flushBatch()
        handle(.connectionClosed(error: error, now: .now))
    }

    func flushBatch() {
        publishCounters()
        guard !batch.isEmpty else { return }
        events.yield(.marketData(batch))
        batch.removeAll(keepingCapacity: true)
    }

    /// Copies the skip counters into the shared status (once per socket read, not per message).
    func publishCounters() {
        let (skipped, undecodable, dropped, paced) = (skippedCount, undecodableCount, droppedTicks, pacingDelays)
        statusBox.mutex.withLockedValue { status in
            guard status.skippedMessages != skipped || status.undecodableMessages != undecodable
                || status.droppedTicks != dropped || status.pacingDelays != paced
            else { return }
            status.skippedMessages = skipped
            status.undecodableMessages = undecodable
            status.droppedTicks = dropped
            status.pacingDelays = paced
        }
    }

    /// The connection is void: its request ids mean nothing any more.
    func connectionLost() {
        drainTimer?.cancel()
        drainTimer = nil
        urgent.removeAll()
        bulk.removeAll()
        for id in registry.connectionLost() {
            waiters.removeValue(forKey: id)?.fail(IBSessionError.connectionLost(reason: machine.lastError ?? "connection lost"))
        }
        // Answers in progress are thrown away: the request goes out again in full.
        for id in waiters.keys { waiters[id]?.reset() }
    }
}
