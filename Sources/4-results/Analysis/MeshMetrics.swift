public import Fleet

/// Multicluster metrics: where requests were served, what the network cost them, and what the mesh did.
enum MeshMetrics {
    static func append(_ output: RunOutput, to summary: inout RunSummary) {
        guard let mesh = output.mesh else { return }
        let completed = output.requests.filter { output.isMeasured($0) && $0.status == .completed }
        let remote = completed.filter { mesh.crossCluster[$0.id.index] }
        summary.append("cross_cluster_share", completed.isEmpty ? .nan : Double(remote.count) / Double(completed.count))
        let network = completed.map { SimTime(nanoseconds: mesh.networkNanoseconds[$0.id.index]) }
        RunSummary.appendLatency("network_ms", network, to: &summary)
        let networkTotal = network.reduce(0.0) { $0 + $1.seconds }
        let ttftTotal = completed.reduce(0.0) { $0 + ($1.ttft?.seconds ?? 0) }
        let e2eTotal = completed.reduce(0.0) { $0 + ($1.e2e?.seconds ?? 0) }
        summary.append("network_share_of_ttft", ttftTotal > 0 ? networkTotal / ttftTotal : .nan)
        summary.append("network_share_of_e2e", e2eTotal > 0 ? networkTotal / e2eTotal : .nan)
        let measured = output.requests.filter(output.isMeasured)
        summary.append("requests_retried", Double(measured.filter { mesh.attempts[$0.id.index] > 1 }.count))
        summary.append("retries", Double(mesh.counts.retries))
        summary.append("connections_opened", Double(mesh.counts.connectionsOpened))
        summary.append("connections_reused", Double(mesh.counts.connectionsReused))
        summary.append("ejections", Double(mesh.counts.ejections))
        summary.append("failovers", Double(mesh.counts.failovers))
        summary.append("ew_gateway_utilization_max", mesh.gatewayUtilization.max() ?? .nan)
        summary.append("ew_gateway_queued", Double(mesh.gatewayQueued))
        // Per cluster that served: its share of the completed requests.
        for (index, name) in mesh.clusterNames.enumerated() {
            let served = completed.filter { mesh.replicaCluster[$0.replica!.index] == index }.count
            summary.append(
                "cluster.\(name).served_share", completed.isEmpty ? .nan : Double(served) / Double(completed.count))
        }
    }
}
