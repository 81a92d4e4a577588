import Fleet

extension NodeReader {
    /// One entry of `pools`: a name, a replica count and exactly one replica kind block. `clusters` are the
    /// declared cluster names, for `placement` (nil: none declared).
    func pool(clusters: [String]? = nil) throws(ScenarioError) -> PoolSpec {
        let kinds = ReplicaSpec.kindNames
        let fields = try mapping(
            keys: ScenarioKeys.pool,
            what: "a pool mapping with `name`, `replicas` and a replica kind block (\(kinds.joined(separator: ", ")))")
        let name = try fields.required("name", expecting: "a name of letters, digits, `.`, `_` and `-`").name()
        let replicasReader = try fields.required("replicas", expecting: "an integer in 1...100000")
        let replicas = try replicasReader.integer(in: 1...100_000)
        let autoscaler = try fields["autoscaler"]?.autoscaler(initialReplicas: replicas, replicasReader: replicasReader)
        let placement = try Self.placement(fields, replicas: replicas, clusters: clusters)
        let present = kinds.filter { fields[$0] != nil }
        guard let kind = present.first, let block = fields[kind] else {
            throw fields.reader.error("expected one replica kind block: \(kinds.joined(separator: ", "))")
        }
        if present.count > 1, let second = fields.keyReader(present[1]) {
            throw second.error("expected one replica kind block, found \(present.joined(separator: " and "))")
        }
        var pool: PoolSpec
        // Exhaustive over the registry, so a new kind does not compile until the reader handles it.
        switch ReplicaKind(rawValue: kind)! {
        case .station: pool = PoolSpec(name: name, replicas: replicas, replica: .station(try block.station()))
        case .gpu: pool = PoolSpec(name: name, replicas: replicas, replica: .gpu(try block.gpuReplica()))
        }
        pool.autoscaler = autoscaler
        pool.placement = placement
        if let role = fields["role"] {
            pool.role = try role.choice("role")
            if pool.role != .both, case .station = pool.replica {
                throw role.error("a `\(pool.role.rawValue)` pool needs GPU replicas (a station holds no KV to move)")
            }
        }
        return pool
    }

    /// A `station` block: c servers sharing one FIFO queue.
    func station() throws(ScenarioError) -> StationSpec {
        let fields = try mapping(
            keys: ScenarioKeys.replicaKind(.station), what: "a station mapping with `servers` and `service`")
        let servers = try fields.required("servers", expecting: "an integer in 1...100000").integer(in: 1...100_000)
        let service = try fields.required(
            "service", expecting: "a service-time distribution, like {dist: exponential, mean: 1s}"
        )
        .distribution(of: .duration)
        let maxQueue = try fields["max-queue"]?.integer(in: 0...Int.max)
        return StationSpec(servers: servers, serviceSeconds: service, maxQueue: maxQueue)
    }

    /// A `gpu` block: a vLLM-style engine on named hardware serving a named model.
    func gpuReplica() throws(ScenarioError) -> GPUReplicaSpec {
        let fields = try mapping(
            keys: ScenarioKeys.replicaKind(.gpu), what: "a gpu mapping with `hardware` and `model`")
        let hardwareReader = try fields.required("hardware", expecting: "a GPU name like H100-80GB")
        let hardwareName = try hardwareReader.string("a GPU name like H100-80GB")
        guard let hardware = GPUSpec.named(hardwareName) else {
            throw hardwareReader.error(
                "unknown hardware `\(hardwareName)`"
                    + Suggestions.hint(for: hardwareName, among: GPUSpec.knownNames)
                    + "; known: \(GPUSpec.knownNames.joined(separator: ", "))")
        }
        let modelWhat = "a model name like Llama-3-8B, or {config: models/my-model.json}"
        let modelReader = try fields.required("model", expecting: modelWhat)
        let model: LLMSpec
        if case .mapping = modelReader.node {
            model = try modelReader.modelConfig()
        } else {
            let modelName = try modelReader.string(modelWhat)
            guard let named = LLMSpec.named(modelName) else {
                throw modelReader.error(
                    "unknown model `\(modelName)`" + Suggestions.hint(for: modelName, among: LLMSpec.knownNames)
                        + "; known: \(LLMSpec.knownNames.joined(separator: ", ")), or {config: PATH} for a "
                        + "Hugging Face config.json")
            }
            model = named
        }
        let tp = try fields["tensor-parallel-size"]?.integer(in: 1...64) ?? 1
        let quantization: Quantization? = try fields["quantization"]?.choice("quantization method")
        let kvCacheDType: KVCacheDType = try fields["kv-cache-dtype"]?.choice("kv-cache-dtype") ?? .auto
        let deployment = ModelDeployment(
            gpu: hardware, model: model, tensorParallelSize: tp,
            enableExpertParallel: try fields["enable-expert-parallel"]?.bool() ?? false, quantization: quantization,
            kvCacheDType: kvCacheDType)
        if let problem = deployment.problem {
            throw (fields.keyReader(problem.key) ?? fields.reader).error(problem.description)
        }
        var engine = EngineSettings()
        engine.maxNumSeqs = try fields["max-num-seqs"]?.integer(in: 1...1_000_000) ?? engine.maxNumSeqs
        engine.maxNumBatchedTokens =
            try fields["max-num-batched-tokens"]?.integer(in: 1...10_000_000) ?? engine.maxNumBatchedTokens
        engine.blockSize = try fields["block-size"]?.integer(in: 1...1_024) ?? engine.blockSize
        engine.enablePrefixCaching = try fields["enable-prefix-caching"]?.bool() ?? engine.enablePrefixCaching
        engine.enableChunkedPrefill = try fields["enable-chunked-prefill"]?.bool() ?? engine.enableChunkedPrefill
        let utilizationReader = fields["gpu-memory-utilization"]
        let utilization = try utilizationReader?.number(.positive) ?? 0.9
        if utilization > 1 { throw utilizationReader!.expected("a fraction in (0, 1]") }

        let kvBlocks: Int
        if let override = fields["num-gpu-blocks"] {
            kvBlocks = try override.integer(in: 1...1_000_000_000)
        } else if let derived = GPUReplicaSpec.kvBlocks(
            deployment, gpuMemoryUtilization: utilization, blockSize: engine.blockSize)
        {
            kvBlocks = derived
        } else {
            let precision = deployment.weightQuantization.map { " in \($0.method.rawValue)" } ?? ""
            throw fields.reader.error(
                "\(model.name)\(precision) does not fit on \(tp) × \(hardware.name) at gpu-memory-utilization "
                    + "\(utilization)")
        }

        let lora = try Self.lora(fields, deployment)
        let kvOffload = try kvOffload(fields, deployment: deployment, engine: engine)

        let timing: StepTimingSpec
        let fittedAvailable = FittedProfileTiming.profile(for: deployment) != nil
        let timingWhat = "one of: \(StepTimingSpec.names.joined(separator: ", ")), or {profile: FILE}"
        if let timingReader = fields["timing"], case .mapping = timingReader.node {
            return GPUReplicaSpec(
                engine: engine, kvBlocks: kvBlocks, timing: try timingReader.calibratedTiming(deployment),
                lora: lora, kvOffload: kvOffload)
        }
        switch try fields["timing"]?.string(timingWhat) {
        case nil: timing = fittedAvailable ? .fitted(deployment) : .roofline(deployment)
        case "roofline": timing = .roofline(deployment)
        case "fitted":
            guard fittedAvailable else {
                let reason = FittedProfileTiming.whyNoProfile(for: deployment) ?? deployment.label
                let measured =
                    FittedProfileTiming.profile(
                        gpu: hardware.name, model: model.name, tensorParallelSize: tp) == nil
                    ? "" : " (the profiles were measured in BF16, with tensor parallelism only)"
                throw fields.keyReader("timing")!.error(
                    "no fitted profile for \(reason)\(measured); use `timing: roofline`")
            }
            timing = .fitted(deployment)
        case let other?:
            throw fields.keyReader("timing")!.error(
                "unknown timing model `\(other)`" + Suggestions.hint(for: other, among: StepTimingSpec.names))
        }
        return GPUReplicaSpec(
            engine: engine, kvBlocks: kvBlocks, timing: timing, lora: lora, kvOffload: kvOffload)
    }

    /// vLLM's LoRA arguments: `max-loras` turns LoRA on (as `--enable-lora` with `--max-loras`); `max-lora-rank` and
    /// `lora-load-bandwidth` need it. Nil without `max-loras`.
    static func lora(_ fields: MappingReader, _ deployment: ModelDeployment) throws(ScenarioError) -> LoRASettings? {
        guard let maxLorasReader = fields["max-loras"] else {
            for key in ["max-lora-rank", "lora-load-bandwidth"] {
                if let reader = fields.keyReader(key) {
                    throw reader.error("`\(key)` needs `max-loras` (which turns LoRA on, as vLLM's --enable-lora)")
                }
            }
            return nil
        }
        let maxLoras = try maxLorasReader.integer(in: 1...1_024)
        let rankReader = fields["max-lora-rank"]
        let rank = try rankReader?.integer(in: 1...512) ?? LoRASettings.defaultMaxLoraRank
        // vLLM accepts these ranks only.
        let ranks = [1, 8, 16, 32, 64, 128, 256, 320, 512]
        if let rankReader, !ranks.contains(rank) {
            throw rankReader.expected("one of vLLM's ranks: \(ranks.map(String.init).joined(separator: ", "))")
        }
        let bandwidth = try fields["lora-load-bandwidth"]?.bandwidth()
        return LoRASettings.derived(
            for: deployment, maxLoras: maxLoras, maxLoraRank: rank,
            loadBytesPerSecond: bandwidth.map { $0 / 8 } ?? LoRASettings.defaultLoadBytesPerSecond)
    }

    /// `kv-offloading-size` (GiB, vLLM's flag) and `kv-offloading-bandwidth` (per GPU) of a `gpu` block: the CPU tier
    /// of KV blocks, or nil without a size.
    private func kvOffload(
        _ fields: MappingReader, deployment: ModelDeployment, engine: EngineSettings
    ) throws(ScenarioError) -> KVOffloadSpec? {
        guard let sizeReader = fields["kv-offloading-size"] else {
            if let bandwidthKey = fields.keyReader("kv-offloading-bandwidth") {
                throw bandwidthKey.error("kv-offloading-bandwidth needs kv-offloading-size (the CPU tier's GiB)")
            }
            return nil
        }
        let gibibytes = try sizeReader.number(.positive)
        // vLLM's connector extends the prefix cache, so it needs it; a loaded prefix resumes as a prefill chunk.
        guard engine.enablePrefixCaching else {
            throw sizeReader.error("kv-offloading-size needs enable-prefix-caching: the CPU tier holds prefix blocks")
        }
        guard engine.enableChunkedPrefill else {
            throw sizeReader.error(
                "kv-offloading-size needs enable-chunked-prefill: a prompt whose prefix was loaded goes on as a chunk")
        }
        let bitsPerSecond = try fields["kv-offloading-bandwidth"]?.bandwidth()
        guard
            let spec = KVOffloadSpec(
                gibibytes: gibibytes, deployment: deployment, blockSize: engine.blockSize,
                linkBytesPerSecond: bitsPerSecond.map { $0 / 8 })
        else {
            throw sizeReader.error(
                "kv-offloading-size \(gibibytes) GiB holds no KV block of \(engine.blockSize) tokens "
                    + "(\(deployment.kvBytesPerToken * engine.blockSize) bytes)")
        }
        return spec
    }

    /// `timing: {profile: FILE}`: a profile written by `infermesh calibrate`, which must be for this pool's setup.
    func calibratedTiming(_ deployment: ModelDeployment) throws(ScenarioError) -> StepTimingSpec {
        let fields = try mapping(keys: ScenarioKeys.timing, what: "{profile: FILE}, a calibrated timing profile")
        let fileReader = try fields.required(
            "profile", expecting: "the path of a profile written by infermesh calibrate")
        let written = try fileReader.string("a file path")
        // Read through the one reader of named files, so the scenario's identity covers the profile.
        let file = try fileReader.readNamedFile(written, noun: "timing profile")
        let profile: TimingProfile
        do {
            profile = try TimingProfileFile.decode(file.data, written: written)
        } catch {
            // Located at `profile` in the scenario, with the profile's own file, line, column and key after it.
            var located = fileReader.error(error.description.replacingOccurrences(of: ": error: ", with: ": "))
            located.kind = error.kind
            throw located
        }
        guard profile.setup.matches(deployment) else {
            throw fileReader.error(
                "`\(written)` was calibrated for \(profile.setup), but this pool runs \(TimingProfile.Setup(deployment)); "
                    + "calibrate a profile for this setup (infermesh calibrate ... --hardware --model ...)")
        }
        return .profile(deployment, profile.factors)
    }
}
