/// A request's way through the components: arrival, admission at the gateway, routing, delivery, the
/// replica's outcomes, and its end.
extension FleetModel {
    mutating func arrive(_ workload: WorkloadID, in sim: inout Simulator<FleetEvent>) {
        guard let arrival = traffic.arrive(workload, generating: generating, in: &sim) else { return }
        switch arrival {
        case .session:
            if let session = sessions.start(workload, in: &sim) { sendTurn(session, in: &sim) }
        case .request(let input, let output, let prefix, let adapter):
            let id = open(
                RequestShape(
                    workload: workload, input: input, output: output, criticality: traffic.criticality(workload),
                    adapter: adapter),
                prefix: prefix, timeout: traffic.timeout(workload), in: &sim)
            admit(id, pool: traffic.pool[workload.index], in: &sim)
        }
    }

    /// Records a request arriving now and returns its id.
    mutating func open(
        _ shape: RequestShape, prefix: PromptPrefix?, timeout: SimTime?, in sim: inout Simulator<FleetEvent>
    ) -> RequestID {
        retireFinished()
        let id = ledger.open(shape, prefix: prefix, timeout: timeout, in: &sim)
        mesh.register(workload: shape.workload)
        return id
    }

    /// Sends a session's next turn (or again the one that was cut).
    mutating func sendTurn(_ session: Int, in sim: inout Simulator<FleetEvent>) {
        guard let turn = sessions.nextTurn(session, generating: generating, in: &sim) else { return }
        send([turn], in: &sim)
    }

    /// Sends session requests: each is recorded, joins its session's requests in flight, and is admitted.
    mutating func send(_ requests: [Sessions.Send], in sim: inout Simulator<FleetEvent>) {
        for request in requests {
            let id = open(request.shape, prefix: request.prefix, timeout: request.timeout, in: &sim)
            sessions.sent(id, session: request.shape.session!.session, at: sim.now)
            admit(id, pool: traffic.pool[request.shape.workload.index], in: &sim)
        }
    }

    /// Routes a request now, or under flow control, when its pool is saturated (or others already wait),
    /// sheds or queues it.
    mutating func admit(_ id: RequestID, pool: PoolID, in sim: inout Simulator<FleetEvent>) {
        guard router.flowControl.isOn, !replicas.ready[pool.index].isEmpty,
            router.flowControl.hasQueue(pool) || router.isSaturated(pool, replicas: replicas, now: sim.now)
        else {
            route(id, pool: pool, in: &sim)
            return
        }
        let criticality = ledger.criticality(id)
        switch router.flowControl.admit(criticality: criticality, pool: pool, in: &sim) {
        case .reject: end(id, as: .rejected, at: sim.now, in: &sim)
        case .queue(let displaced):
            if let displaced { end(displaced, as: .rejected, at: sim.now, in: &sim) }
            router.flowControl.enqueue(id, critical: criticality == .critical, pool: pool, in: &sim)
            dispatchWaiting(pool: pool, in: &sim)
        }
    }

    /// Dispatches queued requests while the pool has room (called when metrics or load change).
    mutating func dispatchWaiting(pool: PoolID, in sim: inout Simulator<FleetEvent>) {
        while router.flowControl.hasQueue(pool) && !router.isSaturated(pool, replicas: replicas, now: sim.now) {
            guard let id = router.flowControl.next(pool, in: &sim) else { break }
            route(id, pool: pool, in: &sim)
        }
    }

    /// Picks the replica for a request and sends it there: at once, or after the router's decision time and
    /// the mesh's path.
    mutating func route(_ id: RequestID, pool: PoolID, in sim: inout Simulator<FleetEvent>) {
        let origin = mesh.origin(of: id)
        guard let (chosen, cached, meshBalanced) = pick(id, pool: pool, origin: origin, affinity: true, now: sim.now)
        else {
            end(id, as: mesh.noCandidateStatus, at: sim.now, in: &sim)
            return
        }
        let (target, forward) = mesh.connect(
            id, input: ledger[id].inputTokens, chosen: chosen, meshBalanced: meshBalanced, now: sim.now)
        // What the router expects left to prefill there: the prompt less the prefix it matched on the replica it
        // chose (nothing matched when the mesh sent the request elsewhere or there was no decision to make).
        var prefill = Swift.max(0, ledger[id].inputTokens - (target == chosen ? cached : 0))
        if disaggregation.isActive && splitPrefill(id, decode: target, uncached: prefill, origin: origin, now: sim.now)
        {
            prefill = 0  // the prefill replica carries it
        }
        ledger.startAttempt(id, on: target, at: sim.now, prefillCharge: prefill)
        router.attemptStarted(on: target, prefillTokens: prefill)
        let delay = router.spec.decisionTime + forward
        if mesh.isActive || delay > .zero {
            router.send(id)
            mesh.send(id, to: target, after: delay, firstRouted: ledger[id].routed!, in: &sim)
        } else {
            deliver(id, to: target, in: &sim)
        }
    }

    /// The replica of `pool` a request from clients in cluster `origin` goes to: the only candidate (policies are
    /// not consulted), or the pick of the pool's policy slot, with the session's previous replica when `affinity`.
    /// Returns with it the prompt tokens the decision expects cached there, and whether the slot leaves the
    /// endpoint to the mesh; nil when the pool has no candidate.
    @inline(__always)
    mutating func pick(
        _ id: RequestID, pool: PoolID, origin: Int, affinity: Bool, now: SimTime
    ) -> (replica: ReplicaID, cachedTokens: Int, meshBalanced: Bool)? {
        let slot = router.slot(pool, origin: origin)
        let meshBalanced = router.meshBalanced(slot)
        let candidates = mesh.candidates(
            replicas, pool: pool, request: id, origin: origin, meshBalanced: meshBalanced)
        guard candidates.count > 1 else { return candidates.first.map { ($0, 0, meshBalanced) } }
        // The shape is read only when there is a decision to make.
        let shape = ledger.shape(id)
        let previous = affinity ? shape.session.flatMap { sessions.affinityTarget($0.session) } : nil
        let (chosen, cached) = router.decide(
            shape, prefix: ledger.prefix(id), slot: slot, candidates: candidates, previous: previous, origin: origin,
            replicas: replicas, mesh: mesh, now: now)
        return (chosen, cached, meshBalanced)
    }

    /// Hands a routed request to its replica (unless it ended on the way, by a workload timeout).
    mutating func deliver(_ id: RequestID, to replica: ReplicaID, in sim: inout Simulator<FleetEvent>) {
        guard !ledger.hasEnded(id) else { return }
        mesh.delivered(id, to: replica)
        if disaggregation.isActive, let prefill = disaggregation.forwardToPrefill(id) {
            // The decode replica's sidecar sends the prompt to the prefill replica first (llm-d's P/D flow).
            var request = ledger.serving(id)
            request.prefillOnly = true
            var effects = replicas.borrowEffects()
            replicas[prefill].enqueue(request, now: sim.now, effects: &effects)
            apply(&effects, from: prefill, in: &sim)
            return
        }
        var effects = replicas.borrowEffects()
        replicas[replica].enqueue(ledger.serving(id), now: sim.now, effects: &effects)
        apply(&effects, from: replica, in: &sim)
    }

    /// Schedules the timers and records the outcomes `replica` produced in `effects`. Reentrant: work started
    /// while the outcomes are applied (a session's sub-agent calls) uses effect buffers of its own.
    mutating func apply(_ effects: inout ReplicaEffects, from replica: ReplicaID, in sim: inout Simulator<FleetEvent>) {
        for (at, timer) in effects.timers { sim.schedule(.replicaTimer(replica, timer), at: at) }
        // Read once: without a mesh a response reaches its client at once.
        let hasReturnPath = mesh.isActive
        for outcome in effects.outcomes {
            switch outcome {
            case .started(let id): ledger[id].start = sim.now
            case .firstToken(let id):
                ledger[id].firstToken = hasReturnPath ? sim.now + mesh.returnDelay(id) : sim.now
                router.prefillDone(on: replica, tokens: ledger.settlePrefill(id))
            case .completed(let id):
                end(id, as: .completed, at: hasReturnPath ? sim.now + mesh.returnDelay(id) : sim.now, in: &sim)
            case .rejected(let id): end(id, as: .rejected, at: sim.now, in: &sim)
            case .prefixHit(let id, let tokens): ledger[id].cachedTokens = tokens
            case .prefixLoaded(let id, let tokens): ledger[id].loadedTokens = tokens
            case .preempted(let id): ledger[id].preemptions += 1
            case .maxInterTokenLatency(let id, let latency): ledger[id].maxInterTokenLatency = latency
            case .prefilled(let id): prefilled(id, on: replica, in: &sim)
            }
        }
        replicas.recycle(effects)
        if disaggregation.hasWaiting { reserveWaiting(on: replica, in: &sim) }
        // Reading metrics live, the gateway sees a replica free up at once.
        if router.flowControl.isOn && router.spec.refreshInterval == .zero && router.flowControl.hasWaiting {
            dispatchWaiting(pool: replicas.pool[replica.index], in: &sim)
        }
    }

    /// Moves a request to its one terminal status at `now` (for a completion, when the client has it): its
    /// attempt gives up its place, the mesh frees its path, and its session hears of it.
    mutating func end(_ id: RequestID, as status: RequestStatus, at now: SimTime, in sim: inout Simulator<FleetEvent>) {
        guard ledger.end(id, as: status, at: now, in: &sim) else { return }
        if disaggregation.isActive { abandonSplit(id, in: &sim) }
        mesh.ended(id, status: status, replica: ledger.attempt(id), replicas: replicas, in: &sim)
        releaseAttempt(id, at: now)
        if traffic.hasClosedLoop {
            traffic.responseReceived(ledger[id].workload, at: now, generating: generating, in: &sim)
        }
        if sessions.exist, let link = ledger.session(id) {
            let subagents = sessions.requestEnded(
                id, link: link, status: status, outputTokens: ledger[id].outputTokens, replica: ledger[id].replica,
                received: now, in: &sim)
            if !subagents.isEmpty { send(subagents, in: &sim) }
        }
        if spec.endsWhenDone { endIfDone(lastResponse: now, in: &sim) }
    }

    /// A run that ends when done: once every workload has sent its requests and none is in flight, generation
    /// stops here (as at a horizon) and the run's window closes just after the last response.
    mutating func endIfDone(lastResponse: SimTime, in sim: inout Simulator<FleetEvent>) {
        guard generating, ledger.inFlight == 0, traffic.allSent, !sessions.hasLive else { return }
        doneAt = Swift.max(lastResponse, sim.now)
        horizonReached(in: &sim)
    }

    /// The request's current attempt gives up its place on its replica; a draining replica whose last request
    /// this was stops.
    mutating func releaseAttempt(_ id: RequestID, at now: SimTime) {
        guard let (replica, unsettled) = ledger.endAttempt(id) else { return }
        if router.attemptEnded(on: replica, unsettledPrefill: unsettled) == 0 {
            autoscaler.lastRequestEnded(on: replica, replicas: &replicas, at: now)
        }
    }

    /// A request's deadline passed: it is aborted where it is and times out.
    mutating func expire(_ id: RequestID, in sim: inout Simulator<FleetEvent>) {
        router.flowControl.forget(id, in: &sim)
        guard ledger.deadlineFired(id) else { return }
        abortAndEnd(id, as: .timedOut, in: &sim)
    }

    /// Ends a request before completion: aborted at its replica if it has one, no longer on its way or
    /// waiting at the gateway.
    mutating func cut(_ id: RequestID, as status: RequestStatus, in sim: inout Simulator<FleetEvent>) {
        router.flowControl.forget(id, in: &sim)
        guard !ledger.hasEnded(id) else { return }
        _ = router.arrived(id)
        abortAndEnd(id, as: status, in: &sim)
    }

    private mutating func abortAndEnd(_ id: RequestID, as status: RequestStatus, in sim: inout Simulator<FleetEvent>) {
        guard let replica = ledger.attempt(id) else {
            end(id, as: status, at: sim.now, in: &sim)
            return
        }
        var effects = replicas.borrowEffects()
        _ = replicas[replica].abort(id, now: sim.now, effects: &effects)
        end(id, as: status, at: sim.now, in: &sim)
        apply(&effects, from: replica, in: &sim)
    }
}
