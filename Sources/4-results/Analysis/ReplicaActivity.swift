import Fleet

/// When each replica was provisioned, from the scaling events.
enum ReplicaActivity {
    /// Nanoseconds each replica was ready or draining within [start, end).
    static func activeNanoseconds(_ output: RunOutput, from start: SimTime, to end: SimTime) -> [Int64] {
        var since = initiallyServing(output).map { $0 ? SimTime.zero : nil }
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
        var serving = initiallyServing(output)
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

    /// Which replica slots serve from the start: each pool's first `replicas`.
    private static func initiallyServing(_ output: RunOutput) -> [Bool] {
        var serving = [Bool](repeating: false, count: output.replicas.count)
        var slot = 0
        for pool in output.spec.pools {
            for index in 0..<pool.replicas { serving[slot + index] = true }
            slot += pool.replicaSlots
        }
        return serving
    }
}
