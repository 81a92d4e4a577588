import SimKernel
import Testing

/// The shared-link model: exact times on an idle link, fair shares when flows overlap, max-min fairness
/// across links, and the rates coming back when a flow leaves.
@Suite struct FlowNetworkTests {
    /// Drives the network like its owner does: one event at the next completion, until every flow has ended.
    static func drain(_ network: inout FlowNetwork) -> [(flow: FlowNetwork.Flow, at: SimTime)] {
        var ended: [(FlowNetwork.Flow, SimTime)] = []
        while let next = network.nextCompletion {
            for done in network.completeDue(at: next) { ended.append((done.flow, next)) }
        }
        return ended
    }

    @Test func aFlowOnAnIdleLinkTakesBytesOverBandwidth() {
        var network = FlowNetwork()
        let link = network.addLink(bytesPerSecond: 100e9)
        let flow = network.start(bytes: 1e9, over: [link], now: .milliseconds(3))
        let ended = Self.drain(&network)
        #expect(ended.count == 1 && ended[0].flow == flow)
        #expect(ended[0].at == .milliseconds(3) + .milliseconds(10))  // 1 GB at 100 GB/s
    }

    @Test func aTimeThatIsNotWholeNanosecondsRoundsUp() {
        var network = FlowNetwork()
        let link = network.addLink(bytesPerSecond: 3e9)
        _ = network.start(bytes: 1000, over: [link], now: .zero)
        // 1000 / 3e9 s = 333.33 ns: the flow has ended only at the 334th nanosecond.
        #expect(Self.drain(&network).map(\.at) == [SimTime(nanoseconds: 334)])
    }

    @Test func twoFlowsThatOverlapFullyEachTakeTwiceAsLong() {
        var network = FlowNetwork()
        let link = network.addLink(bytesPerSecond: 50e9)
        _ = network.start(bytes: 5e8, over: [link], now: .zero)
        _ = network.start(bytes: 5e8, over: [link], now: .zero)
        // Alone, 10 ms; sharing the link, both end at 20 ms.
        #expect(Self.drain(&network).map(\.at) == [.milliseconds(20), .milliseconds(20)])
    }

    @Test func aFlowThatJoinsLaterSlowsTheFirstOnlyWhileBothRun() {
        var network = FlowNetwork()
        let link = network.addLink(bytesPerSecond: 1e9)
        let first = network.start(bytes: 1e7, over: [link], now: .zero)  // 10 ms alone
        #expect(network.nextCompletion == .milliseconds(10))
        let second = network.start(bytes: 2e6, over: [link], now: .milliseconds(4))
        // From 4 ms both run at 0.5 GB/s: the second's 2 MB take 4 ms (ends at 8 ms), by when the first has
        // 6 MB − 2 MB = 4 MB left, at the full rate again: 4 ms more.
        let ended = Self.drain(&network)
        #expect(ended.map(\.flow) == [second, first])
        #expect(ended.map(\.at) == [.milliseconds(8), .milliseconds(12)])
    }

    @Test func ratesAreMaxMinFairAcrossLinks() {
        // A and B share link x (10 GB/s); B also crosses y (2 GB/s), its bottleneck. B gets 2, A the other 8.
        var network = FlowNetwork()
        let x = network.addLink(bytesPerSecond: 10e9)
        let y = network.addLink(bytesPerSecond: 2e9)
        let a = network.start(bytes: 1e9, over: [x], now: .zero)
        let b = network.start(bytes: 1e9, over: [x, y], now: .zero)
        #expect(network.rate(a) == 8e9)
        #expect(network.rate(b) == 2e9)
    }

    @Test func aProbeAsksTheShareANewFlowWouldGetWithoutTakingIt() {
        var network = FlowNetwork()
        let link = network.addLink(bytesPerSecond: 10e9)
        #expect(!network.carriesFlows(link))
        #expect(network.rateOfNewFlow(over: [link]) == 10e9)
        let kv = network.start(bytes: 1e9, over: [link], now: .zero)
        #expect(network.carriesFlows(link))
        #expect(network.rateOfNewFlow(over: [link]) == 5e9)
        #expect(network.rate(kv) == 10e9 && network.count == 1)  // the probe changed nothing
    }

    @Test func aCancelledFlowGivesItsShareBack() {
        var network = FlowNetwork()
        let link = network.addLink(bytesPerSecond: 1e9)
        let kept = network.start(bytes: 1e6, over: [link], now: .zero)
        let dropped = network.start(bytes: 1e6, over: [link], now: .zero)
        let generation = network.generation
        let cancelled = network.cancel(dropped, now: .zero)
        #expect(cancelled)
        #expect(network.generation != generation)  // an event scheduled before is stale
        #expect(network.rate(kept) == 1e9)
        let again = network.cancel(dropped, now: .zero)
        #expect(!again)
    }
}
