import Fleet

extension ScenarioLoader {
    /// `disaggregation`, checked against the pools' roles: prefill pools need it, each decode pool needs one
    /// prefill pool serving its model, and no workload sends its requests to a prefill pool.
    static func disaggregation(
        _ top: MappingReader, pools: [PoolSpec], poolReaders: [String: NodeReader], workloads: [WorkloadSpec],
        workloadReaders: [String: NodeReader], mesh: MeshSpec?
    ) throws(ScenarioError) -> DisaggregationSpec? {
        let spec = try top["disaggregation"]?.disaggregation()
        for workload in workloads {
            guard let pool = pools.first(where: { $0.name == workload.pool }), pool.role == .prefill else { continue }
            throw (workloadReaders[workload.name] ?? top.reader).error(
                "workload `\(workload.name)` sends its requests to `\(pool.name)`, a prefill pool; send them to a "
                    + "decode or both pool, whose prefill pool the gateway adds")
        }
        let prefill = pools.filter { $0.role == .prefill }
        guard let spec else {
            if let pool = prefill.first {
                throw (poolReaders[pool.name] ?? top.reader).error(
                    "pool `\(pool.name)` has role prefill but the scenario has no `disaggregation` section")
            }
            return nil
        }
        // Without prefill pools the section changes nothing: every request is served whole (a sweep's
        // aggregated case keeps it).
        let reader = top.keyReader("disaggregation") ?? top.reader
        for pool in pools where pool.role == .prefill || pool.role == .decode {
            guard case .gpu(let gpu) = pool.replica, gpu.timing.deployment != nil else {
                throw (poolReaders[pool.name] ?? reader).error(
                    "pool `\(pool.name)` needs a roofline, fitted or profile timing model: the KV bytes a transfer "
                        + "moves come from its model and tensor parallelism")
            }
        }
        for pool in pools where pool.role != .prefill {
            let matches = prefill.filter { $0.deployment?.model.name == pool.deployment?.model.name }
            if matches.count > 1 {
                throw (poolReaders[pool.name] ?? reader).error(
                    "pool `\(pool.name)` could take its prefill from \(matches.map { "`\($0.name)`" }.joined(separator: " or ")); "
                        + "keep one prefill pool per model")
            }
            if pool.role == .decode && matches.isEmpty {
                throw (poolReaders[pool.name] ?? reader).error(
                    "decode pool `\(pool.name)` has no prefill pool serving \(pool.deployment?.model.name ?? "its model")"
                )
            }
        }
        if spec.whenDecodeFull == .aggregate, mesh != nil {
            throw reader.error(
                "`when-decode-full: aggregate` is not modelled with a mesh (the request's path stays on its decode "
                    + "replica); use `wait`")
        }
        if let faults = mesh?.faults,
            faults.contains(where: { fault in
                if case .replicaCrash(let pool, _) = fault.kind { return prefill.contains { $0.name == pool } }
                return false
            })
        {
            throw reader.error("a replica crash in a prefill pool is not modelled; crash decode or both replicas")
        }
        return spec
    }
}

extension NodeReader {
    /// `disaggregation`: llm-d's P/D profile handler's threshold, what a request does when its decode replica is
    /// full, and the KV fabric.
    func disaggregation() throws(ScenarioError) -> DisaggregationSpec {
        let fields = try mapping(
            keys: ScenarioKeys.disaggregation,
            what: "a mapping with `pd-profile-handler`, `when-decode-full`, `kv-transfer`")
        var spec = DisaggregationSpec()
        if let handler = fields["pd-profile-handler"] {
            let settings = try handler.mapping(
                keys: ScenarioKeys.pdProfileHandler, what: "a mapping like {threshold: 512}")
            if let threshold = settings["threshold"] { spec.threshold = try threshold.integer(in: 0...10_000_000) }
        }
        if let when = fields["when-decode-full"] { spec.whenDecodeFull = try when.choice("when-decode-full") }
        if let transfer = fields["kv-transfer"] {
            let settings = try transfer.mapping(
                keys: ScenarioKeys.kvTransfer, what: "a mapping like {gpus-per-node: 8, rdma-bandwidth: 400Gbps}")
            if let gpus = settings["gpus-per-node"] { spec.kvTransfer.gpusPerNode = try gpus.integer(in: 1...1024) }
            if let nvlink = settings["nvlink-bandwidth"] {
                spec.kvTransfer.nvlinkBitsPerSecond = try nvlink.bandwidth()
            }
            if let rdma = settings["rdma-bandwidth"] { spec.kvTransfer.rdmaBitsPerSecond = try rdma.bandwidth() }
            if let latency = settings["latency"] { spec.kvTransfer.latency = try latency.duration(allowZero: true) }
        }
        return spec
    }
}
