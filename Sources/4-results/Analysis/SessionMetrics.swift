public import Fleet

/// Agent-session metrics: sessions by outcome, turns, and per-turn TTFT.
enum SessionMetrics {
    /// Appends the metrics of the sessions (of `workload`, or all) that started in the measurement window.
    static func append(prefix: String, output: RunOutput, workload: WorkloadID?, to summary: inout RunSummary) {
        let measured = output.sessions.indices.filter { index in
            let session = output.sessions[index]
            return (workload == nil || session.workload == workload) && session.start >= output.spec.warmup
                && session.start < output.spec.horizon
        }
        let sessions = measured.map { output.sessions[$0] }
        func count(_ status: SessionStatus) -> Double { Double(sessions.filter { $0.status == status }.count) }
        func total(_ field: (SessionRecord) -> Int) -> Double { Double(sessions.reduce(0) { $0 + field($1) }) }
        summary.append(prefix + "sessions_started", Double(sessions.count))
        summary.append(prefix + "sessions_completed", count(.completed))
        summary.append(prefix + "sessions_failed", count(.failed))
        summary.append(prefix + "sessions_unfinished", count(.unfinished))
        summary.append(prefix + "session_turns", total(\.turns))
        summary.append(prefix + "session_timed_out_turns", total(\.timedOutTurns))
        summary.append(prefix + "session_failed_turns", total(\.failedTurns))
        summary.append(prefix + "session_retries", total(\.retries))
        summary.append(prefix + "session_reconnects", total(\.reconnects))
        summary.append(prefix + "session_subagent_calls", total(\.subagentCalls))
        summary.append(prefix + "session_compactions", total(\.compactions))
        let durations = sessions.compactMap { session in
            session.status == .completed ? session.end! - session.start : nil
        }
        RunSummary.appendLatency(prefix + "session_duration_ms", durations, to: &summary)

        var inWindow = Array(repeating: false, count: output.sessions.count)
        for index in measured { inWindow[index] = true }
        let turnTTFT = output.sessionLinks.compactMap { link -> SimTime? in
            guard !link.subagent, inWindow[link.session] else { return nil }
            return output.requests[link.request.index].ttft
        }
        RunSummary.appendLatency(prefix + "turn_ttft_ms", turnTTFT, to: &summary)
    }
}

/// When each replica was provisioned, from the scaling events.
enum ReplicaActivity {
    /// Nanoseconds each replica was ready or draining within the measurement window.
    static func activeNanoseconds(_ output: RunOutput) -> [Int64] {
        let start = output.spec.warmup, end = output.spec.horizon
        var since = [SimTime?](repeating: nil, count: output.replicas.count)
        var slot = 0
        for pool in output.spec.pools {
            for index in 0..<pool.replicaSlots {
                if index < pool.replicas { since[slot + index] = .zero }
            }
            slot += pool.replicaSlots
        }
        var active = [Int64](repeating: 0, count: output.replicas.count)
        func close(_ replica: Int, at time: SimTime) {
            guard let from = since[replica] else { return }
            let lower = max(from, start), upper = min(time, end)
            if upper > lower { active[replica] += (upper - lower).nanoseconds }
            since[replica] = nil
        }
        for event in output.scalingEvents {
            switch event.state {
            case .ready: if since[event.replica.index] == nil { since[event.replica.index] = event.time }
            case .off: close(event.replica.index, at: event.time)
            case .provisioning, .draining: break
            }
        }
        for replica in active.indices { close(replica, at: end) }
        return active
    }

    /// The most replicas ready at once.
    static func peakReplicas(_ output: RunOutput) -> Int {
        var serving = [Bool](repeating: false, count: output.replicas.count)
        var slot = 0
        for pool in output.spec.pools {
            for index in 0..<pool.replicas { serving[slot + index] = true }
            slot += pool.replicaSlots
        }
        var ready = serving.filter { $0 }.count
        var peak = ready
        for event in output.scalingEvents {
            // A cancelled order also goes `off`, but it never served.
            if event.state == .ready && !serving[event.replica.index] {
                serving[event.replica.index] = true
                ready += 1
            } else if event.state == .off && serving[event.replica.index] {
                serving[event.replica.index] = false
                ready -= 1
            }
            peak = max(peak, ready)
        }
        return peak
    }
}
