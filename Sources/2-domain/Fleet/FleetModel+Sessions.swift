/// Agent sessions: closed-loop turns over one long-lived gateway connection, sub-agent fan-out and join,
/// the gateway's connection limits, retries and session affinity.
extension FleetModel {
    /// A session in progress: its content, where it stands, and its connection.
    struct LiveSession {
        let plan: AgentSession
        /// The turn being sent, or in flight (kept for retries).
        var turn: AgentSession.Turn?
        var attempt = 0
        /// Requests of the session in flight: the turn, or its sub-agent calls.
        var inFlight: [RequestID] = []
        var pendingSubagents = 0
        /// Output of the sub-agents that joined since the last turn.
        var joined = 0
        /// The replica of the previous turn, for affinity.
        var replica: ReplicaID?
        /// When the connection last carried a request; the idle timeout counts from here.
        var lastActivity: SimTime
        var connectionLimit: EventID?
        /// The gap after the current turn (and its sub-agents), before the next.
        var thinkAfterJoin = SimTime.zero
        /// Sub-agent calls waiting to be sent.
        var subagents: [AgentSession.SubagentCall] = []
    }

    /// A session arrives: its first turn is sent at once, and the next session is scheduled.
    mutating func startSession(_ workload: WorkloadID, in sim: inout Simulator<FleetEvent>) {
        let spec = generators[workload.index].spec
        guard let sessionSpec = spec.session else { return }
        let index = sessionCounts[workload.index]
        sessionCounts[workload.index] += 1
        let plan = AgentSession(
            spec: sessionSpec, workload: spec.name, index: index, systemKey: sessionSystemKeys[workload.index],
            streams: streams)
        let id = sessionRecords.count
        sessionRecords.append(SessionRecord(workload: workload, index: index, start: sim.now, plannedTurns: plan.turns))
        liveSessions[id] = LiveSession(plan: plan, lastActivity: sim.now)
        openConnection(id, in: &sim)
        sendTurn(id, in: &sim)
    }

    /// Sends the session's next turn, or again the one that was cut.
    mutating func sendTurn(_ id: Int, in sim: inout Simulator<FleetEvent>) {
        guard var live = liveSessions[id] else { return }
        guard generating else {
            endSession(id, as: .unfinished, at: nil, in: &sim)
            return
        }
        let limits = live.plan.spec.connection
        if let idle = limits.idleTimeout, live.inFlight.isEmpty, sim.now - live.lastActivity > idle {
            // The gateway closed the idle connection; the agent opens a new one for this turn.
            sessionRecords[id].reconnects += 1
            openConnection(id, in: &sim)
            live.connectionLimit = liveSessions[id]!.connectionLimit
        }
        if live.turn == nil {
            live.turn = live.plan.nextTurn(joined: live.joined)
            live.joined = 0
            live.attempt = 0
        }
        let turn = live.turn!
        let request = newSessionRequest(
            session: id, turn: live.plan.planned, subagent: false, input: turn.inputTokens,
            output: turn.outputTokens, prefix: turn.prefix, timeout: limits.requestTimeout, in: &sim)
        live.inFlight.append(request.id)
        live.lastActivity = sim.now
        liveSessions[id] = live
        admit(request, pool: workloadPool[sessionRecords[id].workload.index], in: &sim)
    }

    /// Records and returns a request of session `session`.
    private mutating func newSessionRequest(
        session: Int, turn: Int, subagent: Bool, input: Int, output: Int, prefix: PromptPrefix,
        timeout: SimTime?, in sim: inout Simulator<FleetEvent>
    ) -> PendingRequest {
        let workload = sessionRecords[session].workload
        let id = newRequest(workload: workload, input: input, output: output, timeout: timeout, in: &sim)
        pendingLinks.append(SessionLink(request: id, session: session, turn: turn, subagent: subagent))
        requestSession[id] = (session, subagent)
        return PendingRequest(
            id: id, workload: workload, input: input, output: output, prefix: prefix,
            criticality: generators[workload.index].spec.criticality, session: session)
    }

    /// Called when a session's request reaches its terminal status.
    mutating func sessionRequestEnded(
        _ request: RequestID, session id: Int, subagent: Bool, status: RequestStatus,
        in sim: inout Simulator<FleetEvent>
    ) {
        guard var live = liveSessions[id] else { return }
        live.inFlight.removeAll { $0 == request }
        live.lastActivity = sim.now
        if subagent {
            live.pendingSubagents -= 1
            if status == .completed { live.joined += records[request.index].outputTokens }
            liveSessions[id] = live
            if live.pendingSubagents == 0 { turnDone(id, in: &sim) }
            return
        }
        guard status == .completed else {
            switch status {
            case .timedOut: sessionRecords[id].timedOutTurns += 1
            default: sessionRecords[id].failedTurns += 1
            }
            if live.attempt < live.plan.spec.turnRetries {
                live.attempt += 1
                sessionRecords[id].retries += 1
                liveSessions[id] = live
                sim.schedule(.sessionTurn(id), after: live.plan.spec.retryBackoff)
            } else {
                liveSessions[id] = live
                endSession(id, as: .failed, at: sim.now, in: &sim)
            }
            return
        }
        sessionRecords[id].turns += 1
        live.replica = records[request.index].replica
        let turn = live.turn!
        live.turn = nil
        live.thinkAfterJoin = turn.thinkTime
        guard !turn.subagents.isEmpty else {
            liveSessions[id] = live
            turnDone(id, in: &sim)
            return
        }
        // The response asked for sub-agents: they run in parallel, and the next turn waits for all of them. They
        // are sent from their own event: this runs while a replica's outcomes are being applied.
        live.pendingSubagents = turn.subagents.count
        live.subagents = turn.subagents
        sessionRecords[id].subagentCalls += turn.subagents.count
        liveSessions[id] = live
        sim.schedule(.subagents(id), after: .zero)
    }

    /// Sends the sub-agent calls the last turn's response asked for.
    mutating func sendSubagents(_ id: Int, in sim: inout Simulator<FleetEvent>) {
        guard let live = liveSessions[id] else { return }
        liveSessions[id]!.subagents = []
        for call in live.subagents {
            let pending = newSessionRequest(
                session: id, turn: live.plan.planned, subagent: true, input: call.input, output: call.output,
                prefix: call.prefix, timeout: live.plan.spec.connection.requestTimeout, in: &sim)
            liveSessions[id]?.inFlight.append(pending.id)
            admit(pending, pool: workloadPool[sessionRecords[id].workload.index], in: &sim)
        }
    }

    /// The turn (and any sub-agents) is over: the session ends, or its next turn follows after the gap.
    private mutating func turnDone(_ id: Int, in sim: inout Simulator<FleetEvent>) {
        guard let live = liveSessions[id] else { return }
        if sessionRecords[id].turns >= live.plan.turns {
            endSession(id, as: .completed, at: sim.now, in: &sim)
        } else {
            sim.schedule(.sessionTurn(id), after: live.thinkAfterJoin)
        }
    }

    /// Opens (or re-opens) the session's connection: its maximum-duration timer starts.
    private mutating func openConnection(_ id: Int, in sim: inout Simulator<FleetEvent>) {
        guard var live = liveSessions[id] else { return }
        if let old = live.connectionLimit { sim.cancel(old) }
        live.connectionLimit = live.plan.spec.connection.maxConnectionDuration.map {
            sim.schedule(.connectionLimit(id), after: $0)
        }
        liveSessions[id] = live
    }

    /// The connection reached its maximum duration: the gateway closes it, cutting what is in flight; the
    /// agent reconnects.
    mutating func connectionLimitReached(_ id: Int, in sim: inout Simulator<FleetEvent>) {
        guard let live = liveSessions[id] else { return }
        liveSessions[id]!.connectionLimit = nil
        sessionRecords[id].reconnects += 1
        openConnection(id, in: &sim)
        for request in live.inFlight { cut(request, as: .failed, in: &sim) }
    }

    /// Ends a request before completion: aborted at its replica if it has one, removed from the gateway queue.
    mutating func cut(_ id: RequestID, as status: RequestStatus, in sim: inout Simulator<FleetEvent>) {
        if let entry = waiting.removeValue(forKey: id) { sim.cancel(entry.deadline) }
        guard records[id.index].status == nil else { return }
        inDecision[id] = nil
        if let replica = records[id.index].replica {
            _ = replicas[replica.index].abort(id, now: sim.now, effects: &effects)
            end(id, as: status, at: sim.now, in: &sim)
            apply(replica: replica, in: &sim)
        } else {
            end(id, as: status, at: sim.now, in: &sim)
        }
    }

    /// Gives the session its terminal status and forgets its live state.
    mutating func endSession(
        _ id: Int, as status: SessionStatus, at time: SimTime?, in sim: inout Simulator<FleetEvent>
    ) {
        guard let live = liveSessions.removeValue(forKey: id) else { return }
        if let timer = live.connectionLimit { sim.cancel(timer) }
        sessionRecords[id].status = status
        sessionRecords[id].end = time
        sessionRecords[id].compactions = live.plan.compactions
    }

    /// The replica session affinity sends `request` to: the session's last, while it is a candidate and not
    /// saturated on the router's metrics.
    func affinityReplica(for request: PendingRequest, candidates: [ReplicaID], now: SimTime) -> ReplicaID? {
        guard request.session >= 0, let live = liveSessions[request.session], live.plan.spec.affinity,
            let replica = live.replica, candidates.contains(replica)
        else { return nil }
        var view = ReplicaView(id: replica, outstanding: outstanding[replica.index])
        fillMetrics(&view, now: now)
        return spec.router.saturation.isSaturated(view) ? nil : replica
    }

    /// Marks every session still running `unfinished`; called once when the run stops.
    mutating func finishSessions() {
        for id in liveSessions.keys.sorted() {
            let live = liveSessions[id]!
            sessionRecords[id].status = .unfinished
            sessionRecords[id].compactions = live.plan.compactions
        }
        liveSessions.removeAll()
    }
}
