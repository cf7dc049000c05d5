import Testing
import TWSProtocol

@testable import IBSession

@Suite("SubscriptionRegistry")
struct SubscriptionRegistryTests {
    let aapl = Contract(symbol: "AAPL")
    let msft = Contract(symbol: "MSFT")
    let s1 = SubscriptionID(rawValue: 1)
    let s2 = SubscriptionID(rawValue: 2)
    let r1 = RequestID(rawValue: 1)

    @Test func subscribeWhileDownSendsNothingUntilConnected() {
        var registry = SubscriptionRegistry()
        let r1 = registry.subscribe(s1, contract: aapl, genericTicks: "100,101", sessionUp: false)
        #expect(r1 == nil)
        let r2 = registry.subscribe(s2, contract: msft, genericTicks: "", sessionUp: false)
        #expect(r2 == nil)
        let r3 = registry.requestAll()
        #expect(r3 == [
            .reqMktData(reqId: 1, contract: aapl, genericTickList: "100,101", snapshot: false, regulatorySnapshot: false),
            .reqMktData(reqId: 2, contract: msft, genericTickList: "", snapshot: false, regulatorySnapshot: false),
        ])
        #expect(registry.owner(ofReqId: 1) == .subscription(s1))
        #expect(registry.owner(ofReqId: 2) == .subscription(s2))
    }

    @Test func reconnectReissuesFreshIdsAndKeepsSubscriptionIDs() {
        var registry = SubscriptionRegistry()
        _ = registry.subscribe(s1, contract: aapl, genericTicks: "", sessionUp: true)
        _ = registry.subscribe(s2, contract: msft, genericTicks: "", sessionUp: true)
        let r4 = registry.connectionLost()
        #expect(r4.isEmpty)
        #expect(registry.owner(ofReqId: 1) == nil)
        let again = registry.requestAll()
        #expect(again == [
            .reqMktData(reqId: 3, contract: aapl, genericTickList: "", snapshot: false, regulatorySnapshot: false),
            .reqMktData(reqId: 4, contract: msft, genericTickList: "", snapshot: false, regulatorySnapshot: false),
        ])
        #expect(registry.owner(ofReqId: 3) == .subscription(s1))
        #expect(registry.subscriptions[s2]?.reqId == 4)
    }

    @Test func unsubscribeCancelsOnlyALiveRequest() {
        var registry = SubscriptionRegistry()
        _ = registry.subscribe(s1, contract: aapl, genericTicks: "", sessionUp: true)
        let r5 = registry.unsubscribe(s1)
        #expect(r5 == .cancelMktData(reqId: 1))
        #expect(registry.owner(ofReqId: 1) == nil)
        let r6 = registry.requestAll()
        #expect(r6.isEmpty)
        _ = registry.subscribe(s2, contract: msft, genericTicks: "", sessionUp: false)
        let r7 = registry.unsubscribe(s2)
        #expect(r7 == nil)
    }

    @Test func invalidContractIsNeverRequestedAgain() {
        var registry = SubscriptionRegistry()
        _ = registry.subscribe(s1, contract: Contract(symbol: "NOPE"), genericTicks: "", sessionUp: true)
        _ = registry.subscribe(s2, contract: msft, genericTicks: "", sessionUp: true)
        registry.setStatus(.invalidContract(code: 200, message: "No security definition"), for: s1)
        #expect(registry.owner(ofReqId: 1) == nil)
        #expect(registry.activeSubscriptionCount == 1)
        _ = registry.connectionLost()
        let r8 = registry.requestAll()
        #expect(r8 == [.reqMktData(reqId: 3, contract: msft, genericTickList: "", snapshot: false, regulatorySnapshot: false)])
    }

    /// 10090/10091/10167: the line goes on streaming, so its ticks must still find their owner.
    @Test func aWarningKeepsTheLineAndItsTicks() {
        var registry = SubscriptionRegistry()
        _ = registry.subscribe(s1, contract: aapl, genericTicks: "", sessionUp: true)
        registry.setStatus(.warning(code: 10090, message: "Part of requested market data is not subscribed."), for: s1)
        #expect(registry.owner(ofReqId: 1) == .subscription(s1))
        #expect(registry.subscriptions[s1]?.reqId == 1)
        registry.setStatus(.delayed(message: "Displaying delayed market data."), for: s1)
        #expect(registry.owner(ofReqId: 1) == .subscription(s1))
        // A request-fatal code frees the request id: IB sends nothing more for it.
        registry.setStatus(.failed(code: 10225, message: "subscription deactivated"), for: s1)
        #expect(registry.owner(ofReqId: 1) == nil)
    }

    /// Error 100: the gateway did not process the request; it is asked again under a new id
    /// and the old id no longer routes.
    @Test func aPacedOutRequestIsAskedAgainUnderANewId() {
        var registry = SubscriptionRegistry()
        _ = registry.subscribe(s1, contract: aapl, genericTicks: "", sessionUp: true)
        let again = registry.rerequest(s1)
        #expect(again == .reqMktData(reqId: 2, contract: aapl, genericTickList: "", snapshot: false, regulatorySnapshot: false))
        #expect(registry.owner(ofReqId: 1) == nil)
        #expect(registry.owner(ofReqId: 2) == .subscription(s1))
    }

    @Test func noPermissionIsRetriedOnReconnectAndOnceAsDelayed() {
        var registry = SubscriptionRegistry()
        _ = registry.subscribe(s1, contract: aapl, genericTicks: "", sessionUp: true)
        registry.setStatus(.noPermission(code: 354, message: "not subscribed"), for: s1)
        #expect(registry.subscriptions[s1]?.reqId == nil)
        let r9 = registry.retryAsDelayed(s1)
        #expect(r9 == .reqMktData(reqId: 2, contract: aapl, genericTickList: "", snapshot: false, regulatorySnapshot: false))
        registry.setStatus(.noPermission(code: 354, message: "not subscribed"), for: s1)
        let r10 = registry.retryAsDelayed(s1)
        #expect(r10 == nil)
        _ = registry.connectionLost()
        let r11 = registry.requestAll()
        #expect(r11.count == 1)
    }

    @Test func dataLossRequestsEveryLineAgainUnderNewIds() {
        var registry = SubscriptionRegistry()
        _ = registry.subscribe(s1, contract: aapl, genericTicks: "", sessionUp: true)
        _ = registry.add(r1, .snapshot(msft), sessionUp: true)
        _ = registry.add(RequestID(rawValue: 2), .contractDetails(msft), sessionUp: true)
        let again = registry.resubscribeAfterDataLoss()
        #expect(again == [
            .reqMktData(reqId: 4, contract: aapl, genericTickList: "", snapshot: false, regulatorySnapshot: false),
            .reqMktData(reqId: 5, contract: msft, genericTickList: "", snapshot: true, regulatorySnapshot: false),
        ])
        #expect(registry.owner(ofReqId: 1) == nil)
        #expect(registry.owner(ofReqId: 4) == .subscription(s1))
        // Contract details are not market data: untouched by 1101.
        #expect(registry.owner(ofReqId: 3) == .request(RequestID(rawValue: 2)))
    }

    @Test func competingSessionLinesAreRetriedOnDemand() {
        var registry = SubscriptionRegistry()
        _ = registry.subscribe(s1, contract: aapl, genericTicks: "", sessionUp: true)
        _ = registry.subscribe(s2, contract: msft, genericTicks: "", sessionUp: true)
        registry.setStatus(.competingSession(message: "competing"), for: s1)
        #expect(registry.owner(ofReqId: 1) == nil)
        let retried = registry.retryCompetingSession()
        #expect(retried == [.reqMktData(reqId: 3, contract: aapl, genericTickList: "", snapshot: false, regulatorySnapshot: false)])
        let none = registry.retryCompetingSession()
        #expect(none.isEmpty)
    }

    @Test func oneShotRequestsAreResentThenFail() {
        var registry = SubscriptionRegistry(maxResends: 1)
        let r13 = registry.add(r1, .contractDetails(aapl), sessionUp: true)
        #expect(r13 == .reqContractDetails(reqId: 1, contract: aapl, includeExpired: false))
        let r14 = registry.connectionLost()
        #expect(r14.isEmpty)
        let r15 = registry.requestAll()
        #expect(r15 == [.reqContractDetails(reqId: 2, contract: aapl, includeExpired: false)])
        let r16 = registry.connectionLost()
        #expect(r16 == [r1])
        #expect(registry.requests.isEmpty)
        let r17 = registry.requestAll()
        #expect(r17.isEmpty)
    }

    @Test func requestsMadeWhileDownAreSentOnConnect() {
        var registry = SubscriptionRegistry()
        let r18 = registry.add(r1, .optionParameters(symbol: "AAPL", futFopExchange: "", secType: "STK", conId: 265598), sessionUp: false)
        #expect(r18 == nil)
        let r19 = registry.connectionLost()
        #expect(r19.isEmpty)
        let r20 = registry.requestAll()
        #expect(r20 == [.reqSecDefOptParams(reqId: 1, underlyingSymbol: "AAPL", futFopExchange: "", underlyingSecType: "STK", underlyingConId: 265598)])
    }

    @Test func finishingASnapshotCancelsItButDetailsHaveNoCancel() {
        var registry = SubscriptionRegistry()
        _ = registry.add(r1, .snapshot(aapl), sessionUp: true)
        _ = registry.add(RequestID(rawValue: 2), .contractDetails(aapl), sessionUp: true)
        let r21 = registry.finish(r1)
        #expect(r21 == .cancelMktData(reqId: 1))
        let r22 = registry.finish(RequestID(rawValue: 2))
        #expect(r22 == nil)
        #expect(registry.owners.isEmpty)
    }
}
