/// A HorizontalPodAutoscaler-like controller for one pool: every sync period it reads a replica metric,
/// averaged over the ready replicas, and sizes the pool so the average meets the target. New replicas serve
/// only after a provisioning delay (a node, the image and the model's weights); scale-down follows the
/// highest recommendation of the stabilization window, as the HPA's does.
public struct AutoscalerSpec: Sendable, Equatable {
    /// The per-replica signal, under vLLM's metric names.
    public enum Metric: String, Sendable, CaseIterable {
        /// `vllm:num_requests_waiting`.
        case numRequestsWaiting = "num_requests_waiting"
        /// `vllm:num_requests_running`.
        case numRequestsRunning = "num_requests_running"
        /// `vllm:kv_cache_usage_perc` (a fraction, 0–1).
        case kvCacheUsagePerc = "kv_cache_usage_perc"
        /// Running plus waiting: requests the replica holds.
        case concurrency

        /// The metric's value in `gauges`.
        public func value(_ gauges: ReplicaGauges) -> Double {
            switch self {
            case .numRequestsWaiting: return Double(gauges.numRequestsWaiting)
            case .numRequestsRunning: return Double(gauges.numRequestsRunning)
            case .kvCacheUsagePerc: return gauges.kvCacheUsagePerc ?? 0
            case .concurrency: return Double(gauges.numRequestsWaiting + gauges.numRequestsRunning)
            }
        }
    }

    public var metric: Metric
    /// The average per ready replica the controller aims for.
    public var target: Double
    /// How often it decides (the HPA's `--horizontal-pod-autoscaler-sync-period`, 15 s).
    public var syncPeriod: SimTime
    public var minReplicas: Int
    public var maxReplicas: Int
    /// Scale down only to the highest recommendation of this trailing window (the HPA's default 300 s).
    public var scaleDownStabilization: SimTime
    /// From the decision to add a replica until it serves: node provisioning plus model load.
    public var provisioningDelay: SimTime
    /// No change while the metric is within this fraction of the target (the HPA's 0.1).
    public var tolerance: Double

    public init(
        metric: Metric, target: Double, syncPeriod: SimTime = .seconds(15), minReplicas: Int = 1,
        maxReplicas: Int, scaleDownStabilization: SimTime = .seconds(300), provisioningDelay: SimTime = .seconds(90),
        tolerance: Double = 0.1
    ) {
        self.metric = metric
        self.target = target
        self.syncPeriod = syncPeriod
        self.minReplicas = minReplicas
        self.maxReplicas = maxReplicas
        self.scaleDownStabilization = scaleDownStabilization
        self.provisioningDelay = provisioningDelay
        self.tolerance = tolerance
    }

    /// The HPA's recommendation: `ceil(current × average / target)` within [min, max], or `current` while the
    /// ratio is within the tolerance. `current` counts replicas serving or starting; `average` is over the
    /// ready ones.
    public func recommendation(current: Int, average: Double) -> Int {
        let ratio = average / target
        guard abs(ratio - 1) > tolerance else { return min(max(current, minReplicas), maxReplicas) }
        let desired = Int((Double(max(current, 1)) * ratio - 1e-9).rounded(.up))
        return min(max(desired, minReplicas), maxReplicas)
    }
}

extension PoolSpec {
    /// Replicas the pool can ever have: the autoscaler's maximum, or its fixed count.
    public var replicaSlots: Int { autoscaler.map { max($0.maxReplicas, replicas) } ?? replicas }
}
