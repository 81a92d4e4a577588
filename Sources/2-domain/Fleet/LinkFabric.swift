/// The links bytes share in a fleet, modelled once: every GPU's NVLink and RDMA ports and the mesh's links between
/// clusters, as one ``FlowNetwork``. KV transfers between prefill and decode replicas are flows on it
/// (``Disaggregation``); the mesh prices a request's bytes on a cluster link at the rate a new flow would get
/// there, so a link busy with KV transfers slows requests too (their own bytes are too few to slow anyone).
///
/// A class: the mesh and the disaggregation component both hold it (the fleet owns it; a run is single-threaded).
final class LinkFabric {
    var network = FlowNetwork()
    /// Each replica's node, packed per cluster in replica order (``KVTransferSpec``), and cluster.
    let node: [Int]
    let cluster: [Int]
    private let nvlinkOut: [FlowNetwork.Link]
    private let nvlinkIn: [FlowNetwork.Link]
    private let rdmaOut: [FlowNetwork.Link]
    private let rdmaIn: [FlowNetwork.Link]
    /// The mesh's link from cluster a to cluster b (one per direction), with its one-way latency.
    private let meshLinks: [[(link: FlowNetwork.Link, latency: SimTime)?]]

    init(spec fleet: FleetSpec, replicaPools: [PoolID], replicaCluster: [Int]) {
        let transfer = fleet.disaggregation?.kvTransfer ?? KVTransferSpec()
        let tensorParallel = replicaPools.map { fleet.pools[$0.index].deployment?.tensorParallelSize ?? 1 }
        self.cluster = replicaCluster
        var nodes: [Int] = []
        var nextNode = 0
        var open: [Int: (node: Int, free: Int)] = [:]  // looked up by cluster, never iterated
        for replica in replicaPools.indices {
            let gpus = tensorParallel[replica]
            if let current = open[replicaCluster[replica]], current.free >= gpus {
                nodes.append(current.node)
                open[replicaCluster[replica]] = (current.node, current.free - gpus)
            } else {
                nodes.append(nextNode)
                open[replicaCluster[replica]] = (nextNode, max(0, transfer.gpusPerNode - gpus))
                nextNode += 1
            }
        }
        self.node = nodes
        var network = FlowNetwork()
        func ports(_ bitsPerSecond: Double) -> [FlowNetwork.Link] {
            // Only disaggregated fleets move KV between replicas; the others need no ports.
            guard fleet.disaggregation != nil else { return [] }
            return tensorParallel.map { network.addLink(bytesPerSecond: bitsPerSecond / 8 * Double($0)) }
        }
        self.nvlinkOut = ports(transfer.nvlinkBitsPerSecond)
        self.nvlinkIn = ports(transfer.nvlinkBitsPerSecond)
        self.rdmaOut = ports(transfer.rdmaBitsPerSecond)
        self.rdmaIn = ports(transfer.rdmaBitsPerSecond)
        let clusters = fleet.mesh?.clusters.count ?? 1
        self.meshLinks = (0..<clusters).map { a in
            (0..<clusters).map { b in
                guard a != b, let link = fleet.mesh?.link(a, b), link.bandwidthBitsPerSecond > 0 else { return nil }
                return (network.addLink(bytesPerSecond: link.bandwidthBitsPerSecond / 8), link.latency)
            }
        }
        self.network = network
    }

    /// The links a KV transfer from `prefill` to `decode` crosses, and its fixed latency: NVLink within a node,
    /// RDMA between nodes, and the mesh's link (and its latency) between clusters.
    func kvPath(from prefill: ReplicaID, to decode: ReplicaID, spec: KVTransferSpec) -> ([FlowNetwork.Link], SimTime) {
        let (p, d) = (prefill.index, decode.index)
        if node[p] == node[d] { return ([nvlinkOut[p], nvlinkIn[d]], spec.latency) }
        if cluster[p] == cluster[d] { return ([rdmaOut[p], rdmaIn[d]], spec.latency) }
        guard let link = meshLinks[cluster[p]][cluster[d]] else { return ([rdmaOut[p], rdmaIn[d]], spec.latency) }
        return ([rdmaOut[p], link.link, rdmaIn[d]], spec.latency + link.latency)
    }

    /// The rate a request's bytes get on the mesh link from cluster `a` to `b` while flows cross it; nil when the
    /// link is idle (the mesh then uses the link's own bandwidth) or absent.
    func meshLinkShare(_ a: Int, _ b: Int) -> Double? {
        guard let link = meshLinks[a][b]?.link, network.carriesFlows(link) else { return nil }
        return network.rateOfNewFlow(over: [link])
    }
}
