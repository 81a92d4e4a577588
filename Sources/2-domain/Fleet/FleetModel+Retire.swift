import SimKernel

/// Requests are created here and, once ended and no longer referenced, handed to the run's sinks in request
/// order and dropped, so memory follows the requests in flight, not the length of the run.
extension FleetModel {
    /// Records a new request of `workload` arriving now and returns its id.
    mutating func newRequest(
        workload: WorkloadID, input: Int, output: Int, timeout: SimTime?, in sim: inout Simulator<FleetEvent>
    ) -> RequestID {
        retireFinished()
        let id = RequestID(records.count)
        records.append(
            RequestRecord(id: id, workload: workload, arrival: sim.now, inputTokens: input, outputTokens: output))
        mesh?.register(workload: workload)
        if hasTimeouts { timeouts.append(timeout.map { sim.schedule(.timeout(id), after: $0) }) }
        return id
    }

    /// Hands out the oldest requests that have ended, up to the first that has not (all of them if `all`).
    mutating func retireFinished(all: Bool = false) {
        peakRequestsHeld = Swift.max(peakRequestsHeld, records.count - records.base)
        var index = records.base
        while index < records.count {
            let record = records[index]
            guard all || (record.status != nil && !isReferenced(record.id)) else { break }
            retire(record)
            index += 1
        }
        let count = index - records.base
        guard count > 0 else { return }
        records.dropOldest(count)
        if hasTimeouts { timeouts.dropOldest(count) }
        mesh?.dropOldest(count)
    }

    /// Whether a request that has ended is still named by a delivery on its way or a gateway wait.
    private func isReferenced(_ id: RequestID) -> Bool {
        (!inDecision.isEmpty && inDecision[id] != nil) || (!waiting.isEmpty && waiting[id] != nil)
    }

    private mutating func retire(_ record: RequestRecord) {
        let index = record.id.index
        if record.status == nil {
            invariantViolations.append("request \(index) has no terminal status")
        } else if record.status != .unfinished && record.end == nil {
            invariantViolations.append("request \(index) is \(record.status!.rawValue) without an end time")
        } else {
            statusTotals[record.statusIndex] += 1
        }
        var finished = FinishedRequest(record: record)
        requestDigest.mix(record)
        if let link = pendingLinks.first, link.request == record.id {
            pendingLinks.removeFirst()
            finished.session = link
            finished.sessionStart = sessionRecords[link.session].start
            requestDigest.mix(Int64(link.request.index) << 24 ^ Int64(link.session))
            requestDigest.mix(Int64(link.turn) << 1 | (link.subagent ? 1 : 0))
        }
        if let mesh {
            let path = RequestPath(
                origin: Int(mesh.requestOrigin[index]), networkNanoseconds: mesh.network[index],
                attempts: Int(mesh.attempt[index]) + 1, crossCluster: mesh.crossCluster[index])
            finished.path = path
            requestDigest.mix(path.networkNanoseconds)
            requestDigest.mix(
                Int64(path.attempts - 1) << 32 | Int64(path.origin) << 1 | (path.crossCluster ? 1 : 0))
        }
        for sink in sinks { sink.accept(finished) }
    }

    /// Hands a gauge sample to the sinks.
    mutating func emit(_ sample: GaugeSample) {
        sampleDigest.mix(sample)
        for sink in sinks { sink.accept(sample) }
    }

    /// Writes to requests already handed out (a bug: they are lost).
    var lateWrites: Int {
        records.lateWrites + timeouts.lateWrites
            + (mesh.map {
                $0.attempt.lateWrites + $0.requestOrigin.lateWrites + $0.network.lateWrites + $0.returnDelay.lateWrites
                    + $0.connection.lateWrites + $0.viaGateway.lateWrites + $0.crossCluster.lateWrites
                    + $0.perTryTimer.lateWrites
            } ?? 0)
    }
}
