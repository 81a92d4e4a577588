/// The sessions component: agent sessions as closed loops over one long-lived gateway connection. A turn is
/// sent, its response may ask for sub-agent calls that run in parallel and join, and the next turn follows a
/// think time after the client has the response. It also keeps the gateway's connection limits, the turn
/// retries, and the previous turn's replica for session affinity.
///
/// Events it owns: `.sessionTurn(session)`, `.subagents(session)` (only when a response reaches the client
/// after a network delay) and `.connectionLimit(session)`.
struct Sessions {
    /// A session in progress: its content, where it stands, and its connection.
    struct Live {
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

    /// One request a session sends: its shape (which names the session and turn), its prompt's prefix and
    /// the gateway's request timeout.
    struct Send {
        var shape: RequestShape
        var prefix: PromptPrefix
        var timeout: SimTime?
    }

    private let specs: [WorkloadSpec]
    private let streams: RandomStreams
    /// Sessions started per workload, and each workload's shared system-prompt key.
    private var started: [Int]
    private let systemKeys: [UInt64]
    /// Every session's record, in the order they started.
    private(set) var records: [SessionRecord] = []
    private var live: [Int: Live] = [:]
    /// Whether any session is still going.
    var hasLive: Bool { !live.isEmpty }
    /// Whether any workload runs sessions (runs without them skip every session check).
    let exist: Bool

    init(spec: FleetSpec, streams: RandomStreams) {
        self.exist = spec.workloads.contains { $0.session != nil }
        self.specs = spec.workloads
        self.streams = streams
        self.started = Array(repeating: 0, count: spec.workloads.count)
        self.systemKeys = spec.workloads.map { StableHash.fnv1a("workload/\($0.name)/agent-system-prompt") }
    }

    /// A session of `workload` arrives; returns its id. Its first turn is sent at once (``nextTurn(_:generating:in:)``).
    mutating func start(_ workload: WorkloadID, in sim: inout Simulator<FleetEvent>) -> Int? {
        guard let sessionSpec = specs[workload.index].session else { return nil }
        let index = started[workload.index]
        started[workload.index] += 1
        let plan = AgentSession(
            spec: sessionSpec, workload: specs[workload.index].name, index: index,
            systemKey: systemKeys[workload.index], streams: streams)
        let id = records.count
        records.append(SessionRecord(workload: workload, index: index, start: sim.now, plannedTurns: plan.turns))
        live[id] = Live(plan: plan, lastActivity: sim.now)
        openConnection(id, in: &sim)
        return id
    }

    /// The session's next turn, or again the one that was cut; nil if the session is over (new turns stop at
    /// the horizon: it is then unfinished).
    mutating func nextTurn(_ id: Int, generating: Bool, in sim: inout Simulator<FleetEvent>) -> Send? {
        guard var session = live[id] else { return nil }
        guard generating else {
            end(id, as: .unfinished, at: nil, in: &sim)
            return nil
        }
        let limits = session.plan.spec.connection
        if let idle = limits.idleTimeout, session.inFlight.isEmpty, sim.now - session.lastActivity > idle {
            // The gateway closed the idle connection; the agent opens a new one for this turn.
            records[id].reconnects += 1
            openConnection(id, in: &sim)
            session.connectionLimit = live[id]!.connectionLimit
        }
        if session.turn == nil {
            session.turn = session.plan.nextTurn(joined: session.joined)
            session.joined = 0
            session.attempt = 0
        }
        let turn = session.turn!
        live[id] = session
        return send(
            id, turn: session.plan.planned, subagent: false, input: turn.inputTokens, output: turn.outputTokens,
            prefix: turn.prefix, timeout: limits.requestTimeout)
    }

    /// A request of session `id` for turn `turn`.
    private func send(
        _ id: Int, turn: Int, subagent: Bool, input: Int, output: Int, prefix: PromptPrefix, timeout: SimTime?
    ) -> Send {
        let workload = records[id].workload
        let link = SessionLink(request: RequestID(0), session: id, turn: turn, subagent: subagent)
        return Send(
            shape: RequestShape(
                workload: workload, input: input, output: output, criticality: specs[workload.index].criticality,
                session: link),
            prefix: prefix, timeout: timeout)
    }

    /// When session `id` started.
    func start(of id: Int) -> SimTime { records[id].start }

    /// The sub-agent calls waiting to be sent, taken.
    mutating func takeSubagents(_ id: Int) -> [Send] {
        guard let session = live[id] else { return [] }
        live[id]!.subagents = []
        return session.subagents.map { call in
            send(
                id, turn: session.plan.planned, subagent: true, input: call.input, output: call.output,
                prefix: call.prefix, timeout: session.plan.spec.connection.requestTimeout)
        }
    }

    /// The session's request `request` is on its way.
    mutating func sent(_ request: RequestID, session id: Int, at now: SimTime) {
        live[id]?.inFlight.append(request)
        live[id]?.lastActivity = now
    }

    /// The previous turn's replica, when the session asks for affinity.
    func affinityTarget(_ id: Int) -> ReplicaID? {
        guard let session = live[id], session.plan.spec.affinity else { return nil }
        return session.replica
    }

    /// A session's request reached its terminal status; the client knows at `received` (after the response's
    /// way back). Returns the sub-agent calls to send now; those the client learns of later are sent by a
    /// `.subagents` event then.
    mutating func requestEnded(
        _ request: RequestID, link: SessionLink, status: RequestStatus, outputTokens: Int, replica: ReplicaID?,
        received: SimTime, in sim: inout Simulator<FleetEvent>
    ) -> [Send] {
        let id = link.session
        guard var session = live[id] else { return [] }
        session.inFlight.removeAll { $0 == request }
        session.lastActivity = received
        if link.subagent {
            session.pendingSubagents -= 1
            if status == .completed { session.joined += outputTokens }
            live[id] = session
            if session.pendingSubagents == 0 { turnDone(id, at: received, in: &sim) }
            return []
        }
        guard status == .completed else {
            switch status {
            case .timedOut: records[id].timedOutTurns += 1
            default: records[id].failedTurns += 1
            }
            if session.attempt < session.plan.spec.turnRetries {
                session.attempt += 1
                records[id].retries += 1
                live[id] = session
                sim.schedule(.sessionTurn(id), after: session.plan.spec.retryBackoff)
            } else {
                live[id] = session
                end(id, as: .failed, at: sim.now, in: &sim)
            }
            return []
        }
        records[id].turns += 1
        session.replica = replica
        let turn = session.turn!
        session.turn = nil
        session.thinkAfterJoin = turn.thinkTime
        guard !turn.subagents.isEmpty else {
            live[id] = session
            turnDone(id, at: received, in: &sim)
            return []
        }
        // The response asked for sub-agents: they run in parallel, and the next turn waits for all of them.
        session.pendingSubagents = turn.subagents.count
        session.subagents = turn.subagents
        records[id].subagentCalls += turn.subagents.count
        live[id] = session
        if received > sim.now {
            sim.schedule(.subagents(id), at: received)
            return []
        }
        return takeSubagents(id)
    }

    /// The turn (and any sub-agents) is over at `time`: the session ends, or its next turn follows the
    /// think time.
    private mutating func turnDone(_ id: Int, at time: SimTime, in sim: inout Simulator<FleetEvent>) {
        guard let session = live[id] else { return }
        if records[id].turns >= session.plan.turns {
            end(id, as: .completed, at: time, in: &sim)
        } else {
            sim.schedule(.sessionTurn(id), at: time + session.thinkAfterJoin)
        }
    }

    /// Opens (or re-opens) the session's connection: its maximum-duration timer starts.
    private mutating func openConnection(_ id: Int, in sim: inout Simulator<FleetEvent>) {
        guard var session = live[id] else { return }
        if let old = session.connectionLimit { sim.cancel(old) }
        session.connectionLimit = session.plan.spec.connection.maxConnectionDuration.map {
            sim.schedule(.connectionLimit(id), after: $0)
        }
        live[id] = session
    }

    /// The connection reached its maximum duration: the gateway closes it and the agent reconnects. Returns
    /// the requests it cut, which fail.
    mutating func connectionLimitReached(_ id: Int, in sim: inout Simulator<FleetEvent>) -> [RequestID] {
        guard let session = live[id] else { return [] }
        live[id]!.connectionLimit = nil
        records[id].reconnects += 1
        openConnection(id, in: &sim)
        return session.inFlight
    }

    /// Gives the session its terminal status and forgets its live state.
    private mutating func end(
        _ id: Int, as status: SessionStatus, at time: SimTime?, in sim: inout Simulator<FleetEvent>
    ) {
        guard let session = live.removeValue(forKey: id) else { return }
        if let timer = session.connectionLimit { sim.cancel(timer) }
        records[id].status = status
        records[id].end = time
        records[id].compactions = session.plan.compactions
    }

    /// Marks every session still running `unfinished`; called once when the run stops.
    mutating func finish() {
        for id in live.keys.sorted() {
            records[id].status = .unfinished
            records[id].compactions = live[id]!.plan.compactions
        }
        live.removeAll()
    }
}
