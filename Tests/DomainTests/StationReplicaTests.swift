import Fleet
import Testing

/// The station on its own, without the engine: the effects it returns for each call.
@Suite struct StationReplicaTests {
    static func station(servers: Int, maxQueue: Int? = nil) -> StationReplica {
        StationReplica(
            spec: StationSpec(servers: servers, serviceSeconds: .constant(2), maxQueue: maxQueue),
            serviceStream: RandomStream(name: "test", runSeed: 1))
    }

    static func request(_ index: Int) -> ServingRequest {
        ServingRequest(id: RequestID(index), inputTokens: 1, outputTokens: 1)
    }

    @Test func startsWhileServersAreFreeThenQueuesThenRejects() {
        let station = Self.station(servers: 2, maxQueue: 1)
        var effects = ReplicaEffects()
        for index in 0..<4 { station.enqueue(Self.request(index), now: .zero, effects: &effects) }
        #expect(Array(effects.outcomes) == [.started(RequestID(0)), .started(RequestID(1)), .rejected(RequestID(3))])
        #expect(effects.timers.map(\.at) == [.seconds(2), .seconds(2)])
        #expect(station.gauges(now: .zero) == ReplicaGauges(numRequestsWaiting: 1, numRequestsRunning: 2))
    }

    @Test func completionStartsTheNextWaitingRequest() {
        let station = Self.station(servers: 1)
        var effects = ReplicaEffects()
        station.enqueue(Self.request(0), now: .zero, effects: &effects)
        station.enqueue(Self.request(1), now: .seconds(1), effects: &effects)
        let timer = effects.timers[0].timer
        effects.removeAll()
        station.fire(timer, now: .seconds(2), effects: &effects)
        #expect(
            Array(effects.outcomes) == [.firstToken(RequestID(0)), .completed(RequestID(0)), .started(RequestID(1))])
        #expect(effects.timers.map(\.at) == [.seconds(4)])
        // Busy 2 s of the first 2 s; request 1 waited from 1 s to 2 s.
        #expect(station.integrals(now: .seconds(2)) == ReplicaIntegrals(busy: 2e9, occupancy: 3e9))
    }

    @Test func abortInServiceMakesItsTimerStale() {
        let station = Self.station(servers: 1)
        var effects = ReplicaEffects()
        station.enqueue(Self.request(0), now: .zero, effects: &effects)
        let stale = effects.timers[0].timer
        effects.removeAll()
        #expect(station.abort(RequestID(0), now: .seconds(1), effects: &effects))
        station.fire(stale, now: .seconds(2), effects: &effects)
        #expect(effects.outcomes.isEmpty)
        #expect(station.gauges(now: .seconds(2)).numRequestsRunning == 0)
    }

    @Test func abortWhileWaitingIsSkipped() {
        let station = Self.station(servers: 1)
        var effects = ReplicaEffects()
        for index in 0..<3 { station.enqueue(Self.request(index), now: .zero, effects: &effects) }
        #expect(station.abort(RequestID(1), now: .seconds(1), effects: &effects))
        #expect(station.gauges(now: .seconds(1)).numRequestsWaiting == 1)
        let timer = effects.timers[0].timer
        effects.removeAll()
        station.fire(timer, now: .seconds(2), effects: &effects)
        #expect(effects.outcomes.last == .started(RequestID(2)))
    }
}
