import Fleet

/// The keys each section of a scenario file accepts: the one list the readers (`*Parsing.swift`) check against.
/// Tests compare them with `docs/scenario.schema.json` and the tables of `docs/scenario-format.md`, so none of
/// them can drift apart.
enum ScenarioKeys {
    static let scenario = [
        "name", "description", "seed", "replications", "horizon", "warmup", "drain", "drain-timeout",
        "sample-interval", "slo", "policies", "router", "endpoint-picker", "clusters", "mesh", "disaggregation",
        "pools", "workloads",
    ]
    static let router = [
        "refresh-interval", "metrics-staleness", "decision-time", "saturation-detector", "flow-control",
        "endpoint-pickers",
    ]
    static let saturationDetector = ["queue-depth-threshold", "kv-cache-util-threshold"]
    static let flowControl = ["max-queue", "max-wait"]
    /// An EndpointPickerConfig's own field names.
    static let endpointPicker = ["plugins", "schedulingProfiles"]
    static let plugin = ["type", "name", "parameters"]
    static let schedulingProfile = ["name", "plugins"]
    static let pluginReference = ["pluginRef", "weight"]
    static let slo = ["ttft", "tpot", "e2e"]
    /// A pool's own keys plus one block per replica kind.
    static let pool = ["name", "replicas", "role", "placement", "autoscaler"] + ReplicaSpec.kindNames
    static let disaggregation = ["pd-profile-handler", "when-decode-full", "kv-transfer"]
    static let pdProfileHandler = ["threshold"]
    static let kvTransfer = ["gpus-per-node", "nvlink-bandwidth", "rdma-bandwidth", "latency"]
    static let placement = ["cluster", "replicas"]
    static let autoscaler = [
        "metric", "target", "sync-period", "min-replicas", "max-replicas", "scale-down-stabilization",
        "provisioning-delay", "tolerance",
    ]
    /// The keys of one replica kind's block.
    static func replicaKind(_ kind: ReplicaKind) -> [String] {
        switch kind {
        case .station: return station
        case .gpu: return gpu
        }
    }
    static let station = ["servers", "service", "max-queue"]
    /// A `gpu` block: hardware, model and timing, then vLLM's engine settings under vLLM's names.
    static let gpu = [
        "hardware", "model", "tensor-parallel-size", "enable-expert-parallel", "quantization", "kv-cache-dtype",
        "timing", "max-num-seqs", "max-num-batched-tokens", "block-size", "gpu-memory-utilization",
        "enable-prefix-caching", "enable-chunked-prefill", "num-gpu-blocks", "max-loras", "max-lora-rank",
        "lora-load-bandwidth", "kv-offloading-size", "kv-offloading-bandwidth",
    ]
    /// `model: {config: PATH}`: a Hugging Face `config.json` instead of a built-in model's name.
    static let modelConfig = ["config"]
    /// `timing: {profile: PATH}`: a profile written by `infermesh calibrate` instead of a timing model's name.
    static let timing = ["profile"]
    static let workload = [
        "name", "rate", "ramp-to", "arrival", "pool", "input-tokens", "output-tokens", "max-input-tokens",
        "max-output-tokens", "shared-prefix-tokens", "prefix-groups", "timeout", "criticality", "slo", "session",
        "schedule", "trace", "cluster", "concurrency", "think-time", "requests", "lora",
    ]
    /// A workload's LoRA adapters.
    static let lora = ["adapters", "zipf"]
    static let session = [
        "turns", "system-prompt-tokens", "first-turn-tokens", "new-tokens-per-turn", "output-tokens", "think-time",
        "fan-out-probability", "fan-out-size", "subagent-input-tokens", "subagent-output-tokens",
        "max-context-tokens", "compacted-tokens", "affinity", "turn-retries", "retry-backoff", "connection",
    ]
    static let connection = ["request-timeout", "idle-timeout", "max-connection-duration"]
    static let prefixGroups = ["count", "tokens", "zipf"]
    /// The keys `{process: NAME, ...}` takes for one process.
    static func arrival(_ kind: ArrivalProcess.Kind) -> [String] {
        switch kind {
        case .poisson, .deterministic: return ["process"]
        case .gamma, .weibull: return ["process", "cv"]
        case .onOff: return ["process", "on", "off"]
        case .mmpp: return ["process", "states"]
        }
    }
    /// Every process's keys, in registry order, each once.
    static let arrival = ArrivalProcess.Kind.allCases.flatMap(arrival).reduce(into: [String]()) { keys, key in
        if !keys.contains(key) { keys.append(key) }
    }
    static let mmppState = ["rate", "mean-duration"]
    /// A `schedule` takes exactly one of its forms.
    static let schedule = ["steps", "ramp", "diurnal", "spike"]
    static let scheduleStep = ["at", "rate"]
    static let scheduleRamp = ["from", "to", "start", "end"]
    static let diurnal = ["period", "amplitude", "peak-at"]
    static let spike = ["start", "ramp-up", "peak", "hold", "decay"]
    static let distribution = DistributionKind.allKeys
    static let cluster = ["name", "region", "zone", "nodes"]
    /// The mesh's blocks: ours in kebab-case, Istio's (`connectionPool`, `outlierDetection`, ...) under Istio's names.
    static let mesh = [
        "links", "data-path", "east-west-gateway", "connectionPool", "trafficDistribution", "failoverPriority",
        "outlierDetection", "retries", "faults", "endpoint-removal-delay", "gateways",
    ]
    static let link = ["from", "to", "latency", "jitter", "bandwidth", "loss"]
    static let dataPath = [
        "intra-cluster-latency", "ztunnel-latency", "waypoint-latency", "handshake-round-trips", "handshake-cpu",
        "gateway-handshake-cpu", "bytes-per-token",
    ]
    static let eastWestGateway = ["latency", "concurrency"]
    static let connectionPool = ["maxConnections", "maxConcurrentStreams", "idleTimeout"]
    static let outlierDetection = ["consecutive5xxErrors", "interval", "baseEjectionTime", "maxEjectionPercent"]
    static let retries = ["attempts", "perTryTimeout"]
    /// A fault takes `at`, an optional `duration` and exactly one of its kinds.
    /// A fault's kinds, each the key of its block; the reader switches over them exhaustively.
    enum FaultKind: String, CaseIterable {
        case linkDown = "link-down"
        case linkDegraded = "link-degraded"
        case clusterOutage = "cluster-outage"
        case replicaCrash = "replica-crash"
        case gatewayOutage = "gateway-outage"
    }
    static let faultKinds = FaultKind.allCases.map(\.rawValue)
    static let fault = ["at", "duration"] + faultKinds
    static let linkDown = ["from", "to"]
    static let linkDegraded = ["from", "to", "added-latency", "loss"]
    static let replicaCrash = ["pool", "replica"]
    static let trace = [
        "format", "path", "columns", "speed-up", "target-rate", "window", "loop", "tokens-per-hash", "spread",
    ]
    static let traceColumns = ["timestamp", "timestamp-unit", "input-tokens", "output-tokens"]
    static let traceWindow = ["start", "end"]

    /// A sweep file's keys (docs/sweeps.md); not a scenario's, so not in ``all``.
    static let sweep = ["scenario", "cases", "grid", "metrics", "plan"]
    static let sweepCase = ["name", "set"]
    static let sweepPlan = ["replicas-path", "min", "max", "targets"]
    static let sweepBound = ["max", "min"]

    /// A validation cases file's keys (scenarios/validation/cases.yaml, docs/validation.md); not a scenario's.
    static let validationCases = ["published", "sections", "not-compared"]
    static let validationSection = ["title", "published-in", "source", "about", "cases"]
    static let validationCase = ["setup", "scenario", "step", "quick", "figures", "note"]
    static let validationStep = ["hardware", "model", "tensor-parallel-size", "prefill", "decode"]
    static let validationPrefill = ["tokens", "context"]
    static let validationDecode = ["batch", "context"]
    static let validationFigure = ["engine", "metric", "published", "not-compared"]
    static let validationOmission = ["what", "why"]

    static let all: [String: [String]] = [
        "scenario": scenario, "slo": slo, "pool": pool, "workload": workload,
        "arrival": arrival, "distribution": distribution, "router": router, "endpoint-picker": endpointPicker,
        "plugin": plugin, "scheduling-profile": schedulingProfile, "plugin-reference": pluginReference,
        "prefix-groups": prefixGroups, "lora": lora, "saturation-detector": saturationDetector,
        "flow-control": flowControl,
        "session": session, "connection": connection, "autoscaler": autoscaler,
        "mmpp-state": mmppState, "schedule": schedule, "schedule-step": scheduleStep, "schedule-ramp": scheduleRamp,
        "diurnal": diurnal, "spike": spike, "trace": trace, "trace-columns": traceColumns, "trace-window": traceWindow,
        "cluster": cluster, "placement": placement, "mesh": mesh, "link": link, "data-path": dataPath,
        "east-west-gateway": eastWestGateway, "connection-pool": connectionPool, "outlier-detection": outlierDetection,
        "retries": retries, "fault": fault, "link-down": linkDown, "link-degraded": linkDegraded,
        "replica-crash": replicaCrash, "model-config": modelConfig, "timing": timing,
        "disaggregation": disaggregation, "pd-profile-handler": pdProfileHandler, "kv-transfer": kvTransfer,
    ].merging(ReplicaKind.allCases.map { ($0.rawValue, replicaKind($0)) }) { _, _ in
        preconditionFailure("a replica kind's name is also a section's")
    }
}
