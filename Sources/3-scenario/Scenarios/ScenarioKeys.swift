import Fleet

/// The keys each section of a scenario file accepts. The loader checks against these and the tests compare them
/// with `docs/scenario.schema.json`, so the two cannot drift apart.
enum ScenarioKeys {
    static let scenario = [
        "name", "description", "seed", "replications", "horizon", "warmup", "drain", "drain-timeout",
        "sample-interval", "slo", "policies", "router", "endpoint-picker", "pools", "workloads",
    ]
    static let router = [
        "refresh-interval", "metrics-staleness", "decision-time", "saturation-detector", "flow-control",
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
    static let pool = ["name", "replicas", "autoscaler"] + ReplicaSpec.kindNames
    static let autoscaler = [
        "metric", "target", "sync-period", "min-replicas", "max-replicas", "scale-down-stabilization",
        "provisioning-delay", "tolerance",
    ]
    static let station = ["servers", "service", "max-queue"]
    /// A `gpu` block: hardware, model and timing, then vLLM's engine settings under vLLM's names.
    static let gpu = [
        "hardware", "model", "tensor-parallel-size", "timing", "max-num-seqs", "max-num-batched-tokens",
        "block-size", "gpu-memory-utilization", "enable-prefix-caching", "enable-chunked-prefill", "num-gpu-blocks",
    ]
    static let workload = [
        "name", "rate", "ramp-to", "arrival", "pool", "input-tokens", "output-tokens", "max-input-tokens",
        "max-output-tokens", "shared-prefix-tokens", "prefix-groups", "timeout", "criticality", "slo", "session",
        "schedule", "trace",
    ]
    static let session = [
        "turns", "system-prompt-tokens", "first-turn-tokens", "new-tokens-per-turn", "output-tokens", "think-time",
        "fan-out-probability", "fan-out-size", "subagent-input-tokens", "subagent-output-tokens",
        "max-context-tokens", "compacted-tokens", "affinity", "turn-retries", "retry-backoff", "connection",
    ]
    static let connection = ["request-timeout", "idle-timeout", "max-connection-duration"]
    static let prefixGroups = ["count", "tokens", "zipf"]
    static let arrival = ["process", "cv", "on", "off", "states"]
    static let mmppState = ["rate", "mean-duration"]
    /// A `schedule` takes exactly one of its forms.
    static let schedule = ["steps", "ramp", "diurnal", "spike"]
    static let scheduleStep = ["at", "rate"]
    static let scheduleRamp = ["from", "to", "start", "end"]
    static let diurnal = ["period", "amplitude", "peak-at"]
    static let spike = ["start", "ramp-up", "peak", "hold", "decay"]
    static let distribution = DistributionKind.allKeys

    static let all: [String: [String]] = [
        "scenario": scenario, "slo": slo, "pool": pool, "station": station, "gpu": gpu, "workload": workload,
        "arrival": arrival, "distribution": distribution, "router": router, "endpoint-picker": endpointPicker,
        "plugin": plugin, "scheduling-profile": schedulingProfile, "plugin-reference": pluginReference,
        "prefix-groups": prefixGroups, "saturation-detector": saturationDetector, "flow-control": flowControl,
        "session": session, "connection": connection, "autoscaler": autoscaler,
        "mmpp-state": mmppState, "schedule": schedule, "schedule-step": scheduleStep, "schedule-ramp": scheduleRamp,
        "diurnal": diurnal, "spike": spike, "trace": trace, "trace-columns": traceColumns, "trace-window": traceWindow,
    ]
}
