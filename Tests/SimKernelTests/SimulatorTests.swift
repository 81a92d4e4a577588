import SimKernel
import Testing

/// Handles pre-scheduled events and records what it saw; schedules nothing by itself.
private struct Recorder: SimulationModel {
    var handled: [(code: UInt64, at: SimTime)] = []
    var horizonCalls: [SimTime] = []
    /// Events to schedule from `horizonReached` (after `now` has moved to the horizon).
    var scheduleAtHorizon: [Tick] = []

    mutating func handle(_ event: Tick, in simulator: inout Simulator<Tick>) {
        handled.append((event.code, simulator.now))
    }

    mutating func horizonReached(in simulator: inout Simulator<Tick>) {
        horizonCalls.append(simulator.now)
        for tick in scheduleAtHorizon { simulator.schedule(tick, after: .zero) }
    }
}

/// Each event spawns up to three children at random (often zero) delays; checks `now` against `due`.
private struct Spawner: SimulationModel {
    let rng: RandomStream
    var seen: [SimTime] = []
    var dueMismatches = 0
    var budget: Int

    mutating func handle(_ event: Tick, in simulator: inout Simulator<Tick>) {
        seen.append(simulator.now)
        if simulator.now != event.due { dueMismatches += 1 }
        for _ in 0..<rng.integer(below: 4) where budget > 0 {
            budget -= 1
            let delay = SimTime.nanoseconds(Int64(rng.integer(below: 3)) * 500)  // 0, 500 or 1000 ns: many ties
            simulator.schedule(Tick(code: UInt64(budget), due: simulator.now + delay), after: delay)
        }
    }
}

/// Arrivals every second until the horizon; each arrival schedules a departure 10 s later.
private struct OpenSource: SimulationModel {
    var generating = true
    var horizonCalls = 0
    var arrivals = 0
    var departures = 0
    var lastTime = SimTime.zero

    mutating func handle(_ event: Tick, in simulator: inout Simulator<Tick>) {
        lastTime = simulator.now
        if event.code == 0 {
            arrivals += 1
            simulator.schedule(Tick(code: 1), after: .seconds(10))
            if generating { simulator.schedule(Tick(code: 0), after: .seconds(1)) }
        } else {
            departures += 1
        }
    }

    mutating func horizonReached(in simulator: inout Simulator<Tick>) {
        horizonCalls += 1
        generating = false
    }
}

/// Cancels a pending timer when the first event fires.
private struct Canceller: SimulationModel {
    var timer: EventID?
    var handled: [UInt64] = []

    mutating func handle(_ event: Tick, in simulator: inout Simulator<Tick>) {
        handled.append(event.code)
        if event.code == 1, let timer {
            simulator.cancel(timer)
            self.timer = nil
        }
    }
}

@Suite("Simulator")
struct SimulatorTests {
    @Test("time never goes back, and each event runs at its scheduled time", arguments: UInt64(1)...20)
    func timeIsMonotone(seed: UInt64) {
        var sim = Simulator<Tick>()
        let rng = RandomStream(name: "test/spawner", runSeed: seed)
        for i in 0..<5 {
            let at = SimTime.nanoseconds(Int64(rng.integer(below: 2_000)))
            sim.schedule(Tick(code: UInt64(i), due: at), at: at)
        }
        var model = Spawner(rng: rng, budget: 5_000)
        let reason = sim.run(&model, horizon: .max)
        #expect(reason == .horizon)
        #expect(model.seen.count > 5)
        #expect(zip(model.seen, model.seen.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(model.dueMismatches == 0)
        #expect(sim.processedEvents == UInt64(model.seen.count))
    }

    @Test(".stopAtHorizon leaves later events unprocessed and processes events exactly at the horizon")
    func stopAtHorizon() {
        var sim = Simulator<Tick>()
        for s in Int64(1)...5 { sim.schedule(Tick(code: UInt64(s)), at: .seconds(s)) }
        var model = Recorder()
        let reason = sim.run(&model, horizon: .seconds(3), end: .stopAtHorizon)
        #expect(reason == .horizon)
        #expect(model.handled.map(\.code) == [1, 2, 3])
        #expect(model.handled.last?.at == .seconds(3))
        #expect(model.horizonCalls == [.seconds(3)])
        #expect(sim.now == .seconds(3))
        #expect(sim.processedEvents == 3)
        #expect(sim.pendingEvents == 2)
    }

    @Test("an event exactly at the horizon runs; one nanosecond later does not")
    func horizonBoundary() {
        var sim = Simulator<Tick>()
        sim.schedule(Tick(code: 1), at: .seconds(2))
        sim.schedule(Tick(code: 2), at: .seconds(2) + .nanoseconds(1))
        var model = Recorder()
        sim.run(&model, horizon: .seconds(2))
        #expect(model.handled.map(\.code) == [1])
    }

    @Test("the clock moves to the horizon even when no event is left")
    func clockReachesHorizon() {
        var sim = Simulator<Tick>()
        sim.schedule(Tick(code: 1), at: .seconds(1))
        var model = Recorder()
        #expect(sim.run(&model, horizon: .seconds(10)) == .horizon)
        #expect(sim.now == .seconds(10))
        #expect(model.horizonCalls == [.seconds(10)])
    }

    @Test(".drain calls horizonReached once, then processes the rest and returns .drained")
    func drainToEmpty() {
        var sim = Simulator<Tick>()
        sim.schedule(Tick(code: 0), at: .zero)
        var model = OpenSource()
        let reason = sim.run(&model, horizon: .seconds(100), end: .drain(limit: .seconds(1_000)))
        #expect(reason == .drained)
        #expect(model.horizonCalls == 1)
        // Arrivals at 0, 1, ..., 100 s (the one at exactly 100 s is processed before horizonReached
        // and schedules the next arrival, at 101 s, which still comes in during the drain).
        #expect(model.arrivals == 102)
        #expect(model.departures == model.arrivals)
        #expect(model.lastTime == .seconds(111))
        #expect(sim.now == .seconds(111))
        #expect(sim.pendingEvents == 0)
        #expect(sim.processedEvents == 204)
    }

    @Test(".drain returns .drainLimit when events remain after the limit")
    func drainHitsLimit() {
        var sim = Simulator<Tick>()
        for s in Int64(1)...10 { sim.schedule(Tick(code: UInt64(s)), at: .seconds(s)) }
        var model = Recorder()
        let reason = sim.run(&model, horizon: .seconds(4), end: .drain(limit: .seconds(7)))
        #expect(reason == .drainLimit)
        #expect(model.handled.map(\.code) == [1, 2, 3, 4, 5, 6, 7])
        #expect(model.horizonCalls == [.seconds(4)])
        #expect(sim.now == .seconds(7))
        #expect(sim.pendingEvents == 3)
    }

    @Test("eventLimit stops before the horizon without telling the model, and in the drain")
    func eventLimit() {
        var sim = Simulator<Tick>()
        for s in Int64(1)...10 { sim.schedule(Tick(code: UInt64(s)), at: .seconds(s)) }
        var model = Recorder()
        #expect(sim.run(&model, horizon: .seconds(8), end: .drain(limit: .seconds(20)), eventLimit: 3) == .eventLimit)
        #expect(model.handled.map(\.code) == [1, 2, 3])
        #expect(model.horizonCalls.isEmpty)
        #expect(sim.now == .seconds(3))
        #expect(sim.processedEvents == 3)

        var draining = Simulator<Tick>()
        for s in Int64(1)...10 { draining.schedule(Tick(code: UInt64(s)), at: .seconds(s)) }
        var drained = Recorder()
        let reason = draining.run(&drained, horizon: .seconds(4), end: .drain(limit: .seconds(20)), eventLimit: 6)
        #expect(reason == .eventLimit)
        #expect(drained.handled.map(\.code) == [1, 2, 3, 4, 5, 6])
        #expect(drained.horizonCalls == [.seconds(4)])
        #expect(draining.pendingEvents == 4)
    }

    @Test("a budget the run does not exhaust, or reaches with no event left, changes nothing")
    func eventLimitNotReached() {
        for limit: UInt64 in [10, 11, .max] {
            var sim = Simulator<Tick>()
            for s in Int64(1)...10 { sim.schedule(Tick(code: UInt64(s)), at: .seconds(s)) }
            var model = Recorder()
            let reason = sim.run(&model, horizon: .seconds(4), end: .drain(limit: .seconds(20)), eventLimit: limit)
            #expect(reason == .drained, "limit \(limit)")
            #expect(model.handled.count == 10)
        }
        // Exactly at the horizon's last event: the horizon is still reached.
        var sim = Simulator<Tick>()
        for s in Int64(1)...10 { sim.schedule(Tick(code: UInt64(s)), at: .seconds(s)) }
        var model = Recorder()
        #expect(sim.run(&model, horizon: .seconds(4), eventLimit: 4) == .horizon)
        #expect(model.horizonCalls == [.seconds(4)])
    }

    @Test(".drain processes events the model schedules in horizonReached")
    func drainAfterHorizonSchedules() {
        var sim = Simulator<Tick>()
        var model = Recorder()
        model.scheduleAtHorizon = [Tick(code: 7), Tick(code: 8)]
        let reason = sim.run(&model, horizon: .seconds(5), end: .drain(limit: .seconds(6)))
        #expect(reason == .drained)
        #expect(model.handled.map(\.code) == [7, 8])
        #expect(model.handled.allSatisfy { $0.at == .seconds(5) })
    }

    @Test(".stopAtHorizon does not process events scheduled in horizonReached")
    func stopIgnoresHorizonSchedules() {
        var sim = Simulator<Tick>()
        var model = Recorder()
        model.scheduleAtHorizon = [Tick(code: 7)]
        #expect(sim.run(&model, horizon: .seconds(5)) == .horizon)
        #expect(model.handled.isEmpty)
        #expect(sim.pendingEvents == 1)
    }

    @Test("a cancelled timer never reaches the model, and draining still ends as .drained")
    func cancelThroughSimulator() {
        var sim = Simulator<Tick>()
        var model = Canceller()
        sim.schedule(Tick(code: 1), at: .seconds(1))
        model.timer = sim.schedule(Tick(code: 2), at: .seconds(2))
        sim.schedule(Tick(code: 3), at: .seconds(3))
        let reason = sim.run(&model, horizon: .seconds(1), end: .drain(limit: .seconds(10)))
        #expect(model.handled == [1, 3])
        #expect(reason == .drained)
        #expect(sim.processedEvents == 2)
    }

    @Test("schedule(after:) is relative to now")
    func scheduleAfter() {
        var sim = Simulator<Tick>()
        var model = Recorder()
        sim.schedule(Tick(code: 1), at: .seconds(2))
        sim.run(&model, horizon: .seconds(3))
        sim.schedule(Tick(code: 2), after: .milliseconds(500))
        sim.run(&model, horizon: .seconds(4))
        #expect(model.handled.map(\.at) == [.seconds(2), .milliseconds(3_500)])
    }

    @Test("progress is called every 65,536 events")
    func progressCadence() {
        final class Counter { var calls: [SimTime] = [] }
        let counter = Counter()
        var sim = Simulator<Tick>()
        let total = 2 * 65_536 + 10
        for i in 0..<total { sim.schedule(Tick(code: 0), at: .nanoseconds(Int64(i))) }
        var model = Recorder()
        sim.run(&model, horizon: .max, progress: { counter.calls.append($0) })
        #expect(counter.calls == [.nanoseconds(65_535), .nanoseconds(2 * 65_536 - 1)])
    }

    @Test("scheduling in the past stops the process")
    func schedulingInThePastTraps() async {
        await #expect(processExitsWith: .failure) {
            var sim = Simulator<Tick>()
            var model = Recorder()
            sim.run(&model, horizon: .seconds(5))
            sim.schedule(Tick(code: 1), at: .seconds(4))
        }
    }

    /// Consequence of the EventQueue double-cancel bug at the simulator level: after a model cancels the same
    /// timer twice with a lazy drop in between, `isEmpty` counts a stale id and `.drain` misreports.
    @Test(".drain reports .drained correctly after a repeated cancel")
    func drainAfterRepeatedCancel() {
        struct DoubleCanceller: SimulationModel {
            var timer: EventID?
            mutating func handle(_ event: Tick, in simulator: inout Simulator<Tick>) {
                // Event 1 cancels the timer; event 3 (a later handler that forgot it was cancelled) cancels it again.
                if event.code == 1 || event.code == 3, let timer { simulator.cancel(timer) }
            }
        }
        var sim = Simulator<Tick>()
        var model = DoubleCanceller()
        sim.schedule(Tick(code: 1), at: .seconds(1))
        model.timer = sim.schedule(Tick(code: 2), at: .seconds(2))
        sim.schedule(Tick(code: 3), at: .seconds(3))
        let reason = sim.run(&model, horizon: .seconds(1), end: .drain(limit: .seconds(10)))
        #expect(sim.processedEvents == 2)
        #expect(reason == .drained, "every event was processed or cancelled")
    }
}
