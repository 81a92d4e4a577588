import Analysis
import Fleet
import Foundation
import Testing

/// Agent sessions: their drawn marginals match the documented defaults, their turns run closed-loop, and the
/// gateway's connection limits cut, fail and reconnect them as stated.
@Suite struct AgentSessionTests {
    static func quantile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(p * Double(sorted.count)))]
    }

    /// Plans every turn of `count` sessions with the default spec, as if no sub-agent output joined.
    static func planAll(count: Int, seed: UInt64) -> (sessions: [AgentSession], turns: [AgentSession.Turn]) {
        let streams = RandomStreams(runSeed: seed)
        var sessions: [AgentSession] = []
        var turns: [AgentSession.Turn] = []
        for index in 0..<count {
            let session = AgentSession(
                spec: AgentSessionSpec(), workload: "agents", index: index, systemKey: 7, streams: streams)
            for _ in 0..<session.turns { turns.append(session.nextTurn(joined: 0)) }
            sessions.append(session)
        }
        return (sessions, turns)
    }

    /// Tolerances: the sample median of a lognormal has a log-scale standard error of 1.2533 σ / √n; with 1,500
    /// sessions (σ 0.8) that is 2.6%, and with ~190,000 gaps (σ 1.94) 0.6%; the bounds are about 4 standard
    /// errors. The p90s are looser (their standard error is about 1.7 times the median's).
    @Test(arguments: [UInt64(1), 2, 3])
    func defaultsReproduceThePublishedMarginals(seed: UInt64) {
        let (sessions, turns) = Self.planAll(count: 1_500, seed: seed)
        let turnCounts = sessions.map { Double($0.turns) }
        #expect(abs(Self.quantile(turnCounts, 0.5) / 100 - 1) < 0.11, "turns median")
        let gaps = turns.map(\.thinkTime.seconds)
        #expect(abs(Self.quantile(gaps, 0.5) / 2 - 1) < 0.03, "gap median 2 s")
        #expect(abs(Self.quantile(gaps, 0.9) / 24 - 1) < 0.06, "gap p90 24 s")
        // Sub-agent groups: about 5% of turns (binomial standard error 0.05%), sizes median 7 and p90 50.
        let groups = turns.filter { !$0.subagents.isEmpty }
        #expect(abs(Double(groups.count) / Double(turns.count) - 0.05) < 0.003)
        let sizes = groups.map { Double($0.subagents.count) }
        #expect(abs(Self.quantile(sizes, 0.5) - 7) <= 1, "fan-out median")
        #expect(abs(Self.quantile(sizes, 0.9) / 50 - 1) < 0.15, "fan-out p90")
        // Input grows per turn, and about 96% of later turns reuse at least 90% of their prompt.
        let later = turns.filter { $0.reusedTokens > 0 }
        let reusing = later.filter { Double($0.reusedTokens) >= 0.9 * Double($0.inputTokens) }
        #expect(Double(reusing.count) / Double(later.count) > 0.95)
    }

    @Test func aSessionsContextGrowsUnderOneKeyAndCompactsAtTheLimit() {
        var spec = AgentSessionSpec()
        spec.maxContextTokens = 40_000
        let session = AgentSession(
            spec: spec, workload: "agents", index: 0, systemKey: 7, streams: RandomStreams(runSeed: 9))
        var previous = session.nextTurn(joined: 0)
        #expect(previous.reusedTokens == 0 && previous.inputTokens > spec.systemPromptTokens)
        var compactions = 0
        for _ in 1..<min(session.turns, 60) {
            let turn = session.nextTurn(joined: 100)
            if turn.reusedTokens == spec.systemPromptTokens {
                compactions += 1  // a fresh context: only the shared system prompt is reused
                #expect(turn.prefix.blockHash(2_000, blockSize: 16) != previous.prefix.blockHash(2_000, blockSize: 16))
            } else {
                // The prompt is the last prompt, its output, and new tokens, under the same identity.
                #expect(turn.reusedTokens == previous.inputTokens + previous.outputTokens)
                #expect(turn.inputTokens > turn.reusedTokens)
                #expect(turn.prefix.blockHash(2_000, blockSize: 16) == previous.prefix.blockHash(2_000, blockSize: 16))
            }
            #expect(turn.inputTokens <= spec.maxContextTokens)
            // Blocks inside the system prompt are the workload's, shared with every other session.
            #expect(
                turn.prefix.blockHash(3, blockSize: 16) == PromptPrefix(key: 7, tokens: 64).blockHash(3, blockSize: 16))
            previous = turn
        }
        #expect(compactions > 0 && compactions == session.compactions)
    }

    /// Two single-server stations; agent sessions of 6 turns, 20 ms service, 1 s gaps.
    static func fleet(
        connection: GatewayConnectionLimits, think: Double = 1, retries: Int = 1, fanOut: Double = 0
    )
        -> FleetSpec
    {
        let station = ReplicaSpec.station(StationSpec(servers: 1, serviceSeconds: .exponential(mean: 0.02)))
        var workload = WorkloadSpec(name: "agents", ratePerSecond: 0.5, pool: "pool")
        workload.session = AgentSessionSpec(
            turns: .constant(6), thinkTimeSeconds: .constant(think), fanOutProbability: fanOut,
            fanOutSize: .constant(3), connection: connection, turnRetries: retries, retryBackoff: .milliseconds(10))
        return FleetSpec(
            pools: [PoolSpec(name: "pool", replicas: 2, replica: station)], workloads: [workload],
            horizon: .seconds(600), warmup: .zero)
    }

    @Test func turnsRunClosedLoopAndSubagentsJoinBeforeTheNextTurn() throws {
        let output = try FleetRun.execute(
            Self.fleet(connection: GatewayConnectionLimits(), fanOut: 0.5), policy: "round-robin", seed: 4)
        #expect(!output.sessions.isEmpty)
        #expect(output.sessions.allSatisfy { $0.status != nil })
        let completed = output.sessions.filter { $0.status == .completed }
        #expect(completed.count > output.sessions.count / 2)
        #expect(completed.allSatisfy { $0.turns == 6 && $0.plannedTurns == 6 })
        #expect(output.sessions.reduce(0) { $0 + $1.subagentCalls } > 0)
        // Per session: every request of turn k ends before any request of turn k + 1 arrives, with the gap
        // between a turn (or its last sub-agent) and the next turn equal to the think time.
        var bySession: [Int: [SessionLink]] = [:]
        for link in output.sessionLinks { bySession[link.session, default: []].append(link) }
        for session in bySession.keys.sorted() {
            let links = bySession[session]!
            for turn in 2...7 {
                let next = links.filter { $0.turn == turn && !$0.subagent }.map { output.requests[$0.request.index] }
                guard let arrival = next.first?.arrival else { continue }
                let before = links.filter { $0.turn == turn - 1 }.map { output.requests[$0.request.index] }
                let lastEnd = before.compactMap(\.end).max()!
                #expect(arrival == lastEnd + .seconds(1))
            }
        }
        #expect(output.sessionLinks.count == output.requests.count)
    }

    @Test func aShortRequestTimeoutCutsTurnsRetriesThemAndFailsSessions() throws {
        // 30 ms against 20 ms mean service: many turns are cut; one retry each, then the session fails.
        let output = try FleetRun.execute(
            Self.fleet(connection: GatewayConnectionLimits(requestTimeout: .milliseconds(30))), policy: "round-robin",
            seed: 5)
        let timedOut = output.sessions.reduce(0) { $0 + $1.timedOutTurns }
        let retries = output.sessions.reduce(0) { $0 + $1.retries }
        #expect(timedOut > 0 && retries > 0)
        #expect(output.sessions.contains { $0.status == .failed })
        // A failed session's last turn was sent twice (one retry), and both attempts timed out.
        for (index, session) in output.sessions.enumerated() where session.status == .failed {
            let links = output.sessionLinks.filter { $0.session == index }
            let last = links.filter { $0.turn == links.last!.turn }.map { output.requests[$0.request.index] }
            #expect(last.count == 2 && last.allSatisfy { $0.status == .timedOut })
        }
        #expect(output.requests.filter { $0.status == .timedOut }.count == timedOut)
        let summary = RunSummary.of(output)
        #expect(summary["sessions_failed"]! > 0 && summary["session_timed_out_turns"] == Double(timedOut))
        // A long timeout cuts nothing.
        let patient = try FleetRun.execute(
            Self.fleet(connection: GatewayConnectionLimits(requestTimeout: .seconds(600))), policy: "round-robin",
            seed: 5)
        #expect(patient.sessions.allSatisfy { $0.status != .failed && $0.timedOutTurns == 0 })
    }

    @Test func idleAndDurationLimitsCloseTheConnection() throws {
        // Gaps of 1 s against a 500 ms idle timeout: every later turn reconnects, and nothing fails.
        let idle = try FleetRun.execute(
            Self.fleet(connection: GatewayConnectionLimits(idleTimeout: .milliseconds(500))), policy: "round-robin",
            seed: 6)
        let completed = idle.sessions.filter { $0.status == .completed }
        #expect(!completed.isEmpty && completed.allSatisfy { $0.reconnects == 5 && $0.failedTurns == 0 })
        // A 2 s maximum duration closes each connection under the session; a turn in flight then fails.
        let capped = try FleetRun.execute(
            Self.fleet(
                connection: GatewayConnectionLimits(maxConnectionDuration: .seconds(2)), think: 0.7, retries: 3),
            policy: "round-robin", seed: 6)
        #expect(capped.sessions.allSatisfy { $0.status == .unfinished || $0.reconnects >= 1 })
        let cut = capped.requests.filter { $0.status == .failed }.count
        #expect(cut == capped.sessions.reduce(0) { $0 + $1.failedTurns })
    }

    @Test func sessionContentIsTheSameUnderEveryPolicy() throws {
        let spec = Self.fleet(connection: GatewayConnectionLimits())
        let a = try FleetRun.execute(spec, policy: "round-robin", seed: 8)
        let b = try FleetRun.execute(spec, policy: "least-connections", seed: 8)
        let turnsA = a.sessionLinks.filter { $0.session == 0 }.map { a.requests[$0.request.index].inputTokens }
        let turnsB = b.sessionLinks.filter { $0.session == 0 }.map { b.requests[$0.request.index].inputTokens }
        #expect(turnsA == turnsB && turnsA.count == 6)
    }
}

/// The autoscaler: the HPA's rule, and no new replica serving before its provisioning delay.
@Suite struct AutoscalerTests {
    @Test func recommendationFollowsTheHPARule() {
        let hpa = AutoscalerSpec(metric: .numRequestsWaiting, target: 4, minReplicas: 2, maxReplicas: 10)
        #expect(hpa.recommendation(current: 4, average: 4.3) == 4)  // within the 10% tolerance
        #expect(hpa.recommendation(current: 4, average: 8) == 8)
        #expect(hpa.recommendation(current: 4, average: 5) == 5)  // ceil(4 × 1.25)
        #expect(hpa.recommendation(current: 4, average: 100) == 10)  // capped at max
        #expect(hpa.recommendation(current: 4, average: 0) == 2)  // floored at min
    }

    /// Two single-server stations (10 req/s each) offered 30 req/s for 2 minutes, then 5 req/s.
    static func spec(delay: SimTime) -> FleetSpec {
        let station = ReplicaSpec.station(StationSpec(servers: 1, serviceSeconds: .exponential(mean: 0.1)))
        var pool = PoolSpec(name: "pool", replicas: 2, replica: station)
        pool.autoscaler = AutoscalerSpec(
            metric: .concurrency, target: 2, syncPeriod: .seconds(15), minReplicas: 2, maxReplicas: 6,
            scaleDownStabilization: .seconds(60), provisioningDelay: delay)
        var burst = WorkloadSpec(name: "burst", ratePerSecond: 30, pool: "pool")
        burst.maxRequests = 3_600
        return FleetSpec(
            pools: [pool], workloads: [burst, WorkloadSpec(name: "base", ratePerSecond: 5, pool: "pool")],
            horizon: .seconds(600), warmup: .zero, sampleInterval: .seconds(5))
    }

    @Test(arguments: [SimTime.seconds(30), .seconds(90)])
    func newReplicasServeOnlyAfterTheirProvisioningDelay(delay: SimTime) throws {
        let output = try FleetRun.execute(Self.spec(delay: delay), policy: "least-connections", seed: 3)
        let ordered = output.scalingEvents.filter { $0.state == .provisioning }
        #expect(!ordered.isEmpty, "the overload must trigger a scale-up")
        for order in ordered {
            let ready = output.scalingEvents.first {
                $0.replica == order.replica && $0.time > order.time - .nanoseconds(1) && $0.state == .ready
            }
            if let ready { #expect(ready.time - order.time == delay) }
            // No request of that replica starts before the order's time plus the delay.
            let served = output.requests.filter { $0.replica == order.replica && $0.arrival >= order.time }
            #expect(served.allSatisfy { $0.start.map { $0 >= order.time + delay } ?? true })
        }
        #expect(
            output.requests.filter { $0.replica.map { $0.index >= 2 } ?? false }.allSatisfy { record in
                let first = ordered.filter { $0.replica == record.replica }.map(\.time).min()!
                return record.routed! >= first + delay
            })
        // After the burst the pool shrinks back, within the stabilization window's lag, and samples cover only
        // replicas that were up.
        #expect(output.scalingEvents.contains { $0.state == .draining })
        let summary = RunSummary.of(output)
        #expect(summary["replicas_max"]! > 2 && summary["replicas_mean"]! > 2 && summary["replicas_mean"]! < 6)
        #expect(summary["scale_ups"] == Double(ordered.count))
    }
}
