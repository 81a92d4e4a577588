import Fleet

/// Agent-session metrics: sessions by outcome, turns, and per-turn TTFT.
enum SessionMetrics {
    /// Appends the metrics of the sessions (of `workload`, or all) that started in the measurement window, with
    /// `turnTTFT`, the TTFT of their turns (not sub-agent calls).
    static func append(
        prefix: String, output: RunOutput, window: (start: SimTime, end: SimTime), workload: WorkloadID?,
        turnTTFT: LatencySketch, to summary: inout RunSummary
    ) {
        let measured = output.sessions.indices.filter { index in
            let session = output.sessions[index]
            return (workload == nil || session.workload == workload) && session.start >= window.start
                && session.start < window.end
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
        summary.appendLatency(prefix + "session_duration_ms", LatencySketch(durations))
        summary.appendLatency(prefix + "turn_ttft_ms", turnTTFT)
    }
}
