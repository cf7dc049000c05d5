/// Session-level ERR_MSG handling: the codes that change the connection, not one request.
extension SessionStateMachine {
    mutating func handleError(code: Int32, message: String, now: ContinuousClock.Instant) -> [Action] {
        let errorClass = IBErrorClass.classify(code: code, message: message)
        if errorClass.severity == .requestFatal || errorClass.severity == .connection {
            lastError = "\(code): \(message)"
        }
        switch errorClass {
        case .clientIdInUse:
            guard state != .backoff else { return [] }
            let used = clientId
            rotateClientId()
            return fail("client id \(used) already in use (326); next id \(clientId)", now: now)

        case .portChanged(let newPort):
            guard state.isSessionUp || state == .handshaking else { return [] }
            if let newPort { movePort(to: newPort) }
            return fail("gateway API port changed (1300)\(newPort.map { " to \($0)" } ?? "")", now: now)

        case .connectivityLost:
            guard state.isSessionUp else { return [] }
            markConnectivityLost(now: now)
            return refreshDegradedState(reason: "\(code): \(message)")

        case .connectivityRestoredDataLost:
            guard state.isSessionUp else { return [] }
            markConnectivityRestored(now: now)
            return refreshDegradedState(reason: "1101: connectivity restored, data lost") + [.resubscribeAfterDataLoss]

        case .connectivityRestoredDataMaintained:
            guard state.isSessionUp else { return [] }
            markConnectivityRestored(now: now)
            return refreshDegradedState(reason: "1102: connectivity restored, data maintained")

        case .farmBroken(let farm):
            guard state.isSessionUp else { return [] }
            setFarm(farm, broken: true)
            return refreshDegradedState(reason: "\(code): farm \(farm) broken")

        case .farmOK(let farm):
            guard state.isSessionUp else { return [] }
            setFarm(farm, broken: false)
            return refreshDegradedState(reason: "\(code): farm \(farm) OK")

        case .informational where code == 2107 || code == 2108:
            // An idle farm reconnects on demand: it is not broken any more.
            guard state.isSessionUp else { return [] }
            setFarm(IBErrorClass.farmName(message, code: code), broken: false)
            return refreshDegradedState(reason: "\(code): farm idle")

        default:
            return []
        }
    }

    /// The state a live session should show given 1100 and the broken farms.
    mutating func refreshDegradedState(reason: String) -> [Action] {
        guard state.isSessionUp else { return [] }
        return transition(to: degradedState, reason: reason)
    }
}
