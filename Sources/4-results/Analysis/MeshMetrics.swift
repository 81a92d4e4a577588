import Fleet

/// Multicluster metrics of one run, taken request by request: where requests were served, what the network
/// cost them, and what the mesh did.
struct MeshAccumulator {
    private var completed = 0
    private var remote = 0
    private var network = LatencySketch()
    private var networkSeconds = 0.0
    private var ttftSeconds = 0.0
    private var e2eSeconds = 0.0
    private var retried = 0
    /// Completed requests served by each replica.
    private var servedBy: [Int] = []

    /// Takes a measured request.
    mutating func add(_ record: RequestRecord, path: RequestPath) {
        if path.attempts > 1 { retried += 1 }
        guard record.status == .completed else { return }
        completed += 1
        if path.crossCluster { remote += 1 }
        let time = SimTime(nanoseconds: path.networkNanoseconds)
        network.record(time)
        networkSeconds += time.seconds
        ttftSeconds += record.ttft?.seconds ?? 0
        e2eSeconds += record.e2e?.seconds ?? 0
        if let replica = record.replica?.index {
            if replica >= servedBy.count { servedBy += Array(repeating: 0, count: replica + 1 - servedBy.count) }
            servedBy[replica] += 1
        }
    }

    func append(_ mesh: MeshRunOutput, to summary: inout RunSummary) {
        summary.append("cross_cluster_share", completed == 0 ? .nan : Double(remote) / Double(completed))
        summary.appendLatency("network_ms", network)
        summary.append("network_share_of_ttft", ttftSeconds > 0 ? networkSeconds / ttftSeconds : .nan)
        summary.append("network_share_of_e2e", e2eSeconds > 0 ? networkSeconds / e2eSeconds : .nan)
        summary.append("requests_retried", Double(retried))
        summary.append("retries", Double(mesh.counts.retries))
        summary.append("connections_opened", Double(mesh.counts.connectionsOpened))
        summary.append("connections_reused", Double(mesh.counts.connectionsReused))
        summary.append("ejections", Double(mesh.counts.ejections))
        summary.append("failovers", Double(mesh.counts.failovers))
        summary.append("ew_gateway_utilization_max", mesh.gatewayUtilization.max() ?? .nan)
        summary.append("ew_gateway_queued", Double(mesh.gatewayQueued))
        // Per cluster that served: its share of the completed requests.
        var served = Array(repeating: 0, count: mesh.clusterNames.count)
        for (replica, count) in servedBy.enumerated() { served[mesh.replicaCluster[replica]] += count }
        for (index, name) in mesh.clusterNames.enumerated() {
            summary.append(
                "cluster.\(name).served_share", completed == 0 ? .nan : Double(served[index]) / Double(completed))
        }
    }
}
