/// Prefill/decode disaggregation: how the gateway splits a request between a prefill and a decode replica, and
/// the fabric their KV crosses. Pools say their part with ``PoolRole``; docs/disaggregation.md explains the model.
public struct DisaggregationSpec: Sendable, Equatable {
    /// What a request does when its decode replica has no room for its KV when its prefill ends.
    public enum WhenDecodeFull: String, Sendable, CaseIterable {
        /// It waits, its KV held on the prefill replica, until the decode replica has room (vLLM's decode
        /// instance keeps such a request waiting for remote KV).
        case wait
        /// It decodes on its prefill replica instead (aggregated serving).
        case aggregate
    }

    /// llm-d's `pd-profile-handler` threshold: a prompt whose tokens not cached on the chosen decode replica
    /// are fewer than this is served there whole, without a prefill replica.
    public var threshold: Int
    public var whenDecodeFull: WhenDecodeFull
    public var kvTransfer: KVTransferSpec

    public init(threshold: Int = 0, whenDecodeFull: WhenDecodeFull = .wait, kvTransfer: KVTransferSpec = .init()) {
        self.threshold = threshold
        self.whenDecodeFull = whenDecodeFull
        self.kvTransfer = kvTransfer
    }
}

/// The fabric a KV transfer crosses (vLLM's NixlConnector: the decode side reads the prefill side's blocks).
///
/// Replicas are packed onto nodes of `gpusPerNode` GPUs in pool order, per cluster, a replica never split
/// across nodes. Within a node a transfer crosses NVLink; between nodes, each side's RDMA NICs (one per GPU, as
/// on a DGX H100); between clusters, also the mesh's link between them. Each GPU's ports are links of one
/// shared ``FlowNetwork``, so transfers that overlap share them.
public struct KVTransferSpec: Sendable, Equatable {
    public var gpusPerNode: Int
    /// Per GPU, per direction. H100 SXM's NVLink 4 moves 900 GB/s both ways, so 450 GB/s each way.
    public var nvlinkBitsPerSecond: Double
    /// Per GPU, per direction: one ConnectX-7 at 400 Gb/s.
    public var rdmaBitsPerSecond: Double
    /// Fixed cost per transfer besides the bytes: the connector's notification and the read's setup.
    public var latency: SimTime

    public init(
        gpusPerNode: Int = 8, nvlinkBitsPerSecond: Double = 3600e9, rdmaBitsPerSecond: Double = 400e9,
        latency: SimTime = .microseconds(500)
    ) {
        self.gpusPerNode = gpusPerNode
        self.nvlinkBitsPerSecond = nvlinkBitsPerSecond
        self.rdmaBitsPerSecond = rdmaBitsPerSecond
        self.latency = latency
    }
}
