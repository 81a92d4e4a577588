import Foundation

/// Runs one fleet simulation: one scenario, one policy, one seed.
public enum FleetRun {
    /// Runs `spec` with the policy registered as `policy` and the run seed `seed`.
    ///
    /// Each request is handed to `sinks` once it has ended, in request order, and each gauge sample when
    /// taken. With `keepRequests` the output also holds them all (`requests`, `samples`, `sessionLinks` and
    /// the mesh's per-request arrays); without it, memory follows the requests in flight, not the run's length.
    ///
    /// - Parameters:
    ///   - eventLimit: the most events the run processes, a bound on work for untrusted input (the scenario
    ///     fuzzer); a run that reaches it stops there (``StopReason/eventLimit``) and every request still in
    ///     flight ends `unfinished`, as at a drain limit. Scenario runs have none.
    ///   - progress: called now and then with the fraction of the horizon simulated.
    /// - Throws: ``UnknownPolicy`` for an unregistered policy name; ``InvariantViolation`` if a request did not end in exactly one terminal status (a bug).
    public static func execute(
        _ spec: FleetSpec, policy: String, seed: UInt64, sinks: [any RunSink] = [], keepRequests: Bool = true,
        eventLimit: UInt64 = .max, progress: ((Double) -> Void)? = nil
    ) throws -> RunOutput {
        guard let entry = spec.policyEntry(named: policy) else {
            throw UnknownPolicy(name: policy, known: spec.policyNames)
        }
        return try execute(
            spec, policy: entry, seed: seed, sinks: sinks, keepRequests: keepRequests, eventLimit: eventLimit,
            progress: progress)
    }

    /// Runs `spec` with the policy `entry` builds, registered or not (a policy under development, a test's),
    /// and the run seed `seed`; otherwise as the
    /// name-taking `execute`.
    public static func execute(
        _ spec: FleetSpec, policy entry: PolicyEntry, seed: UInt64, sinks: [any RunSink] = [],
        keepRequests: Bool = true, eventLimit: UInt64 = .max, progress: ((Double) -> Void)? = nil
    ) throws -> RunOutput {
        let policy = entry.name
        let collector = keepRequests ? RunCollector() : nil
        let streams = RandomStreams(runSeed: seed)
        var model = FleetModel(
            spec: spec, policy: entry, streams: streams, sinks: (collector.map { [$0] } ?? []) + sinks)
        var sim = Simulator<FleetEvent>()
        model.start(in: &sim)
        let horizon = spec.horizon
        let report = progress.map { callback in
            { (now: SimTime) in callback(min(1, Double(now.nanoseconds) / Double(max(1, horizon.nanoseconds)))) }
        }
        let end: EndCondition = spec.drain ? .drain(limit: spec.horizon + spec.drainTimeout) : .stopAtHorizon
        let loopStart = DispatchTime.now().uptimeNanoseconds
        let reason = sim.run(&model, horizon: spec.horizon, end: end, eventLimit: eventLimit, progress: report)
        // Stopped by the event limit before the horizon: close the measurement window where the run stopped.
        if reason == .eventLimit && model.generating { model.horizonReached(in: &sim) }
        let loopWallSeconds = Double(DispatchTime.now().uptimeNanoseconds - loopStart) / 1e9
        model.finish()

        var digest = sim.digest
        digest.mix(model.ledger.requestDigest.value)
        digest.mix(model.ledger.sampleDigest.value)
        let latencies = model.replicas.interTokenLatencies
        for case let stats? in latencies { digest.mix(stats) }
        let gateway = model.router.flowControl.counts
        if gateway != GatewayCounts() {
            for count in [gateway.queued, gateway.shed, gateway.expired, gateway.overflowed] {
                digest.mix(Int64(count))
            }
        }

        for session in model.sessions.records { digest.mix(session) }
        for event in model.autoscaler.events {
            digest.mix(event.time)
            digest.mix(Int64(event.replica.index) << 8 | Int64(ReplicaState.allCases.firstIndex(of: event.state)!))
            digest.mix(Int64(event.desiredReplicas))
            digest.mix(event.metricValue ?? -1)
        }

        let mesh = model.mesh
        if mesh.isActive {
            for count in [
                mesh.counts.connectionsOpened, mesh.counts.connectionsReused, mesh.counts.retries,
                mesh.counts.ejections, mesh.counts.failovers, mesh.gatewayQueued,
            ] { digest.mix(Int64(count)) }
            for event in mesh.events {
                digest.mix(event.time)
                digest.mix(event.kind.rawValue + "|" + event.subject + "|" + event.detail)
            }
        }

        var output = RunOutput(
            spec: spec, policy: policy, seed: seed, requests: collector?.requests ?? [],
            samples: collector?.samples ?? [], replicas: model.replicas.runInfo(), events: sim.processedEvents,
            endTime: sim.now, stopReason: reason, digest: digest, loopWallSeconds: loopWallSeconds,
            interTokenLatencies: latencies, gateway: gateway)
        if let done = model.doneAt {
            // The benchmark's duration: its window closes just after the last response, inclusive.
            output.endTime = done
            output.spec.horizon = done + .nanoseconds(1)
        }
        output.requestCount = model.ledger.count
        output.peakRequestsHeld = model.ledger.peakHeld
        output.statusTotals = model.ledger.statusTotals
        output.sessions = model.sessions.records
        output.sessionLinks = collector?.links ?? []
        output.splits = collector?.splits ?? [:]
        output.scalingEvents = model.autoscaler.events
        if mesh.isActive {
            let horizon = max(output.spec.horizon.seconds, 1e-9)
            let paths = collector?.paths ?? []
            output.mesh = MeshRunOutput(
                clusterNames: mesh.spec.clusters.map(\.name), replicaCluster: mesh.replicaCluster,
                origin: paths.map { Int32($0.origin) }, networkNanoseconds: paths.map(\.networkNanoseconds),
                attempts: paths.map { Int32($0.attempts) }, crossCluster: paths.map(\.crossCluster),
                counts: mesh.counts, events: mesh.events,
                gatewayUtilization: mesh.gatewayStreamSeconds.map {
                    $0 / horizon / Double(mesh.spec.eastWestGateway.concurrency)
                }, gatewayQueued: mesh.gatewayQueued)
        }
        var violations = model.invariantViolations
        if model.lateWrites > 0 { violations.append("\(model.lateWrites) write(s) to requests already handed out") }
        try check(output, violations: violations)
        return output
    }

    /// Every request ends in exactly one terminal status, and none is lost from the accounting.
    static func check(_ output: RunOutput, violations: [String]) throws {
        if let first = violations.first {
            throw InvariantViolation(description: "\(violations.count) invariant violation(s); first: \(first)")
        }
        let counted = output.statusTotals.reduce(0, +)
        if counted != output.requestCount {
            throw InvariantViolation(description: "\(output.requestCount) requests but \(counted) terminal statuses")
        }
    }
}

extension RunDigest {
    mutating func mix(_ record: RequestRecord) {
        mix(Int64(record.id.index))
        mix(Int64(record.workload.index))
        mix(Int64(record.replica?.index ?? -1))
        mix(record.arrival)
        for time in [record.start, record.firstToken, record.end] { mix(time?.nanoseconds ?? -1) }
        mix(Int64(record.inputTokens))
        mix(Int64(record.outputTokens))
        mix(Int64(record.statusIndex))
        mix(Int64(record.cachedTokens) << 32 | Int64(record.preemptions))
        if let latency = record.maxInterTokenLatency { mix(latency) }
        // Only a wait at the gateway is news: otherwise a request is routed on arrival.
        if let routed = record.routed, routed != record.arrival { mix(routed) }
        // Mixed only when named, so runs without adapters keep their digests.
        if let adapter = record.adapter { mix(Int64(adapter) | 0x4c6f_5241 << 32) }
        // Only a CPU tier loads, so runs without one keep their digests.
        if record.loadedTokens > 0 { mix(Int64(record.loadedTokens)) }
    }

    mutating func mix(_ session: SessionRecord) {
        mix(Int64(session.workload.index) << 32 | Int64(session.index))
        mix(session.start)
        mix(session.end?.nanoseconds ?? -1)
        mix(Int64(session.status.map { SessionStatus.allCases.firstIndex(of: $0)! } ?? -1))
        for count in [
            session.plannedTurns, session.turns, session.timedOutTurns, session.failedTurns, session.retries,
            session.reconnects, session.subagentCalls, session.compactions,
        ] { mix(Int64(count)) }
    }

    mutating func mix(_ stats: InterTokenLatencyStats) {
        mix(stats.tokens)
        mix(stats.totalNanoseconds)
        mix(stats.maxNanoseconds)
        for (value, tokens) in stats.recordedValues {
            mix(Int64(bitPattern: value))
            mix(Int64(bitPattern: tokens))
        }
    }

    mutating func mix(_ sample: GaugeSample) {
        mix(sample.time)
        mix(Int64(sample.replica.index))
        mix(Int64(sample.gauges.numRequestsWaiting))
        mix(Int64(sample.gauges.numRequestsRunning))
        mix(sample.gauges.kvCacheUsagePerc ?? -1)
        mix(sample.busyFraction)
        // Optional rates mix only when present, so kinds without them keep their digests.
        for rate in [sample.tokensPerSecond, sample.generationTokensPerSecond, sample.prefixCacheHitRate] {
            if let rate { mix(rate) }
        }
    }
}
